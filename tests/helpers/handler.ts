import { buildHandlerApp, type HandlerApp } from '../../functions/handler/app.js';
import { createLogger } from '../../lib/log/index.js';
import { createHandlerDeps } from '../../lib/runtime/dependencies.js';
import { loadSettings, type Settings } from '../../lib/settings/index.js';
import type { FakeKeptnApi } from '../fakes/keptn-api.js';
import type { FakeJobClient } from '../fakes/job-client.js';

export interface RunningHandler {
  readonly url: string;
  readonly app: HandlerApp;
  readonly settings: Settings;
  close(): Promise<void>;
}

/** The handler as it runs in production (settings from env, real HTTP edges), on a loopback port. */
export async function startHandler(
  keptn: FakeKeptnApi,
  jobs: FakeJobClient,
  env: Record<string, string> = {},
): Promise<RunningHandler> {
  const settings = loadSettings({
    KEPTN_API_URL: keptn.apiUrl,
    KEPTN_API_TOKEN: keptn.token,
    KEPTN_API_RETRIES: '1',
    KEPTN_API_TIMEOUT_MS: '2000',
    LOG_LEVEL: 'silent',
    JOB_NAMESPACE: 'jobs',
    ...env,
  });
  const log = createLogger(settings.logLevel, 'handler-test');
  const app = buildHandlerApp(createHandlerDeps(settings, log, jobs));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    app,
    settings,
    close: async () => {
      await app.close();
    },
  };
}

export async function postStructured(
  url: string,
  event: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify(event),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

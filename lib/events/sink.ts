import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { jesError } from '../errors/index.js';
import { createHttpClient } from '../http/client.js';
import type { OutgoingEvent } from '../keptn/replies.js';

/**
 * Where `.started`/`.finished` go: the Keptn API (`POST /v1/event`, x-token), any CloudEvents HTTP sink (`K_SINK`,
 * as a Knative SinkBinding injects it), or, for local runs, the log and a results directory. A failed delivery
 * throws (JES_ERR_*_UNAVAILABLE: try again later; *_REJECTED: the receiver refuses this event).
 */
export interface EventSink {
  readonly description: string;
  send(event: OutgoingEvent): Promise<void>;
}

export interface HttpSinkOptions {
  readonly timeoutMs: number;
  readonly retries: number;
}

export function createKeptnApiSink(
  apiUrl: string,
  token: string | undefined,
  options: HttpSinkOptions,
): EventSink {
  const http = createHttpClient({
    baseURL: apiUrl,
    ...options,
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { 'x-token': token }) },
  });
  const description = `the Keptn API at ${apiUrl}`;
  return {
    description,
    async send(event) {
      await deliver(
        description,
        () => http.request({ method: 'POST', url: '/v1/event', data: event }),
        'KEPTN_API',
      );
    },
  };
}

export function createCloudEventsSink(url: string, options: HttpSinkOptions): EventSink {
  const http = createHttpClient({
    baseURL: url,
    ...options,
    headers: { 'content-type': 'application/cloudevents+json' },
  });
  const description = `the CloudEvents sink ${url}`;
  return {
    description,
    async send(event) {
      await deliver(description, () => http.request({ method: 'POST', url: '', data: event }), 'SINK');
    },
  };
}

/** Local runs without Keptn or a sink: the event is logged and written to `<dir>/<id>.json`. */
export function createLocalSink(log: Logger, directory: string | undefined): EventSink {
  return {
    description: directory === undefined ? 'the log' : `the log and ${directory}`,
    async send(event) {
      log.info(
        { event: { id: event.id, type: event.type, triggeredid: event.triggeredid, data: event.data } },
        'event sent',
      );
      if (directory === undefined) return;
      await mkdir(directory, { recursive: true });
      await writeFile(
        join(directory, `${event.type}-${event.id}.json`),
        `${JSON.stringify(event, null, 2)}\n`,
      );
    },
  };
}

async function deliver(
  description: string,
  post: () => Promise<{ status: number; data: unknown }>,
  area: 'KEPTN_API' | 'SINK',
): Promise<void> {
  let response: { status: number; data: unknown };
  try {
    response = await post();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw jesError(`${area}_UNAVAILABLE`, `Cannot reach ${description}: ${reason}`, { cause: error });
  }
  if (response.status >= 200 && response.status < 300) return;
  const body = typeof response.data === 'string' ? response.data : JSON.stringify(response.data);
  const kind =
    response.status >= 500 || response.status === 429
      ? (`${area}_UNAVAILABLE` as const)
      : (`${area}_REJECTED` as const);
  throw jesError(kind, `${description} answered ${response.status}: ${body.slice(0, 300)}`);
}

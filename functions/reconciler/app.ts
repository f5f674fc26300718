import type { Logger } from 'pino';
import type { IncomingEvent } from '../../lib/events/cloudevent.js';
import { Labels } from '../../lib/jobs/contract.js';
import type { JobClient } from '../../lib/k8s/job-client.js';
import type { Reconciler } from '../../lib/reconcile/runner.js';
import { createFunctionApp, eventOf } from '../http.js';

/**
 * The reconciler function: `POST /` takes the Knative PingSource event (`dev.knative.sources.ping`: one pass) or an
 * ApiServerSource event about a managed Job (`dev.knative.apiserver.resource.*`: just that run, the fast path).
 */

export interface ReconcilerAppOptions {
  readonly log: Logger;
  readonly reconciler: Reconciler;
  readonly jobs: JobClient;
  readonly managedBy: string;
  readonly namespace: string;
}

export const PING_TYPE = 'dev.knative.sources.ping';
export const APISERVER_TYPE_PREFIX = 'dev.knative.apiserver.resource.';

function runOf(event: IncomingEvent, managedBy: string): string | undefined {
  const data = event.data as { metadata?: { labels?: Record<string, string> } } | undefined;
  const labels = data?.metadata?.labels ?? {};
  return labels[Labels.managedBy] === managedBy ? labels[Labels.run] : undefined;
}

export function buildReconcilerApp(options: ReconcilerAppOptions) {
  const app = createFunctionApp(options);
  app.post('/', async (request, reply) => {
    const event = eventOf(request);
    if (event.type === PING_TYPE) return reply.send({ pass: await options.reconciler.pass() });
    if (event.type.startsWith(APISERVER_TYPE_PREFIX)) {
      const runId = runOf(event, options.managedBy);
      if (runId === undefined) return reply.send({ ignored: 'not a Job managed by this executor' });
      return reply.send({ runId, pass: await options.reconciler.run(runId) });
    }
    return reply.code(400).send({
      code: 'JES_ERR_EVENT_INVALID',
      message: `The reconciler takes ${PING_TYPE} and ${APISERVER_TYPE_PREFIX}* events, not ${event.type}`,
      issues: [],
    });
  });
  return app;
}

import Fastify from 'fastify';
import type { Logger } from 'pino';
import { isJesError } from '../lib/errors/index.js';
import { parseHttpEvent, type IncomingEvent } from '../lib/events/cloudevent.js';
import { errorBody } from '../lib/intake/index.js';
import type { JobClient } from '../lib/k8s/job-client.js';

/**
 * What every HTTP function shares: bodies read as text (the CloudEvents binding decides what they mean), the one
 * error handler (typed errors → their status and `{code, message, issues}`; anything else → a generic 500), and the
 * probes (`/healthz` always, `/readyz` while Kubernetes answers).
 */

export interface FunctionAppOptions {
  readonly log: Logger;
  readonly jobs: JobClient;
  /** Namespace the readiness probe lists Jobs in. */
  readonly namespace: string;
  /** Largest accepted request body in bytes. */
  readonly bodyLimit?: number;
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;

export function createFunctionApp(options: FunctionAppOptions) {
  const app = Fastify({ loggerInstance: options.log, bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    done(null, body);
  });

  app.setErrorHandler((error, request, reply) => {
    if (isJesError(error)) {
      request.log.warn({ code: error.code, status: error.statusCode }, error.message);
      return reply.code(error.statusCode).send(errorBody(error));
    }
    const status =
      typeof error === 'object' &&
      error !== null &&
      'statusCode' in error &&
      typeof error.statusCode === 'number'
        ? error.statusCode
        : 500;
    if (status < 500) {
      const message = error instanceof Error ? error.message : 'bad request';
      return reply.code(status).send({ code: 'JES_ERR_REQUEST_INVALID', message, issues: [] });
    }
    request.log.error({ err: error }, 'unexpected error');
    return reply
      .code(500)
      .send({ code: 'JES_ERR_INTERNAL', message: 'Internal error; see the function log', issues: [] });
  });

  app.get('/healthz', { logLevel: 'warn' }, (_request, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    try {
      await options.jobs.ping(options.namespace);
      return await reply.send({ status: 'ready' });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return reply.code(503).send({ status: 'not ready', reason });
    }
  });
  return app;
}

/** The CloudEvent of a request (throws JES_ERR_EVENT_INVALID with the reason). */
export function eventOf(request: {
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}): IncomingEvent {
  return parseHttpEvent({
    headers: request.headers,
    body: typeof request.body === 'string' ? request.body : '',
  });
}

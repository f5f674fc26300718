import Fastify from 'fastify';
import type { Logger } from 'pino';
import { isJesError } from '../../lib/errors/index.js';
import { parseHttpEvent } from '../../lib/events/cloudevent.js';
import { errorBody, handleEvent, type IntakeDeps } from '../../lib/intake/index.js';

/**
 * The handler function: `POST /` takes a CloudEvent (structured or binary) and answers 202 once its Jobs exist.
 * This builds the app without listening; server.ts listens, tests use app.inject() or a loopback port.
 */

export interface HandlerAppOptions extends IntakeDeps {
  readonly log: Logger;
  /** Largest accepted request body in bytes. */
  readonly bodyLimit?: number;
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;

export type HandlerApp = ReturnType<typeof buildHandlerApp>;

export function buildHandlerApp(options: HandlerAppOptions) {
  const app = Fastify({ loggerInstance: options.log, bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT });

  // Every body is read as text: the CloudEvents binding decides what it means from the headers.
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

  app.post('/', async (request, reply) => {
    const event = parseHttpEvent({
      headers: request.headers,
      body: typeof request.body === 'string' ? request.body : '',
    });
    const answer = await handleEvent(options, event);
    return reply.code(answer.statusCode).send(answer.body);
  });

  app.get('/healthz', { logLevel: 'warn' }, (_request, reply) => reply.send({ status: 'ok' }));

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    try {
      await options.jobs.ping(options.settings.jobs.namespace);
      return { status: 'ready' };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return reply.code(503).send({ status: 'not ready', reason: message });
    }
  });

  return app;
}

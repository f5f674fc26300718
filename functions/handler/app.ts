import type { Logger } from 'pino';
import { handleEvent, type IntakeDeps } from '../../lib/intake/index.js';
import { createFunctionApp, eventOf } from '../http.js';

/**
 * The handler function: `POST /` takes a CloudEvent (structured or binary) and answers 202 once its Jobs exist.
 * This builds the app without listening; server.ts listens, tests use app.inject() or a loopback port.
 */

export interface HandlerAppOptions extends IntakeDeps {
  readonly log: Logger;
  /** Largest accepted request body in bytes. */
  readonly bodyLimit?: number;
}

export type HandlerApp = ReturnType<typeof buildHandlerApp>;

export function buildHandlerApp(options: HandlerAppOptions) {
  const app = createFunctionApp({ ...options, namespace: options.settings.jobs.namespace });
  app.post('/', async (request, reply) => {
    const answer = await handleEvent(options, eventOf(request));
    return reply.code(answer.statusCode).send(answer.body);
  });
  return app;
}

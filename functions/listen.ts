import type { Logger } from 'pino';
import { messageOf } from '../lib/errors/index.js';
import type { Settings } from '../lib/settings/index.js';

/** Listens on HOST:PORT and closes gracefully on SIGTERM/SIGINT (Knative sends SIGTERM before scaling down). */
export interface Listenable {
  listen(options: { host: string; port: number }): Promise<string>;
  close(): PromiseLike<unknown>;
}

export async function listenUntilSignalled(
  app: Listenable,
  settings: Pick<Settings, 'host' | 'port'>,
  log: Logger,
): Promise<void> {
  const close = (signal: string) => {
    log.info({ signal }, 'closing');
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
  await app.listen({ host: settings.host, port: settings.port });
}

/** Runs an entrypoint: a start-up failure (bad settings, no kubeconfig) is one readable line and exit code 1. */
export async function runMain(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    process.stderr.write(`${messageOf(error)}\n`);
    process.exit(1);
  }
}

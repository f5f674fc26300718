// The servers the throughput benchmark compares, each started in its own process by bench/run.ts:
//   hello     a Fastify hello world (the baseline)
//   handler   the real handler app on the example config, Kubernetes faked in memory (no network I/O)
import Fastify from 'fastify';

const [kind = 'hello', port = '0'] = process.argv.slice(2);
const announce = (address: string) => process.stdout.write(`LISTENING ${address}\n`);

if (kind === 'hello') {
  const app = Fastify();
  app.post('/', async () => ({ hello: 'world' }));
  announce(await app.listen({ host: '127.0.0.1', port: Number(port) }));
} else {
  const { buildHandlerApp } = await import('../functions/handler/app.js');
  const { createHandlerDeps } = await import('../lib/runtime/dependencies.js');
  const { loadSettings } = await import('../lib/settings/index.js');
  const { createLogger } = await import('../lib/log/index.js');
  const { createFakeJobClient } = await import('../tests/fakes/job-client.js');
  const settings = loadSettings({
    CONFIG_DIR: new URL('../examples/config', import.meta.url).pathname,
    LOG_LEVEL: 'silent',
  });
  const log = createLogger('silent', 'bench');
  const app = buildHandlerApp(createHandlerDeps(settings, log, createFakeJobClient()));
  announce(await app.listen({ host: '127.0.0.1', port: Number(port) }));
}

import { createLogger } from '../../lib/log/index.js';
import { createReconciler } from '../../lib/reconcile/runner.js';
import { createHandlerDeps } from '../../lib/runtime/dependencies.js';
import { loadSettings } from '../../lib/settings/index.js';
import { buildHandlerApp } from '../handler/app.js';
import { listenUntilSignalled, runMain } from '../listen.js';

/**
 * `npm start`: the handler and the reconciler (watch mode) in one process, for local runs. Production runs them as
 * separate functions (knative-service.yaml, infra/).
 */
await runMain(async () => {
  const settings = loadSettings(process.env);
  const log = createLogger(settings.logLevel, 'local');
  const deps = createHandlerDeps(settings, log);
  const app = buildHandlerApp(deps);
  const stopWatching = await createReconciler({ settings, jobs: deps.jobs, sink: deps.sink, log }).watch();
  app.addHook('onClose', () => {
    stopWatching();
  });
  await listenUntilSignalled(app, settings, log);
  const where = settings.config.directory ?? settings.keptn.apiUrl;
  log.info(
    { url: `http://${settings.host}:${settings.port}/`, config: where, results: settings.resultsDir },
    'ready',
  );
});

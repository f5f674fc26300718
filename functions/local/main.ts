import { createLogger } from '../../lib/log/index.js';
import { createReconciler } from '../../lib/reconcile/runner.js';
import {
  createConfigLoaderFor,
  createEventSink,
  createKubernetesClient,
  createResourceStore,
} from '../../lib/runtime/dependencies.js';
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
  const jobs = createKubernetesClient();
  const sink = createEventSink(settings, log);
  const app = buildHandlerApp({
    settings,
    log,
    configLoader: createConfigLoaderFor(settings, createResourceStore(settings)),
    jobs,
    sink,
  });
  const stopWatching = await createReconciler({ settings, jobs, sink, log }).watch();
  app.addHook('onClose', () => {
    stopWatching();
  });
  await listenUntilSignalled(app, settings, log);
  log.info(
    {
      url: `http://${settings.host}:${settings.port}/`,
      config: settings.config.directory ?? settings.keptn.apiUrl,
      results: settings.resultsDir,
    },
    'ready: POST a CloudEvent to the url',
  );
});

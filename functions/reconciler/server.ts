import { createLogger } from '../../lib/log/index.js';
import { createReconciler } from '../../lib/reconcile/runner.js';
import { createEventSink, createKubernetesClient } from '../../lib/runtime/dependencies.js';
import { loadSettings } from '../../lib/settings/index.js';
import { listenUntilSignalled, runMain } from '../listen.js';
import { buildReconcilerApp } from './app.js';

await runMain(async () => {
  const settings = loadSettings(process.env, { needsConfigSource: false });
  const log = createLogger(settings.logLevel, 'reconciler');
  const jobs = createKubernetesClient();
  const reconciler = createReconciler({ settings, jobs, sink: createEventSink(settings, log), log });
  const app = buildReconcilerApp({
    log,
    reconciler,
    jobs,
    managedBy: settings.jobs.managedBy,
    namespace: settings.jobs.namespace,
  });
  await listenUntilSignalled(app, settings, log);
});

import { createLogger } from '../../lib/log/index.js';
import {
  createConfigLoaderFor,
  createEventSink,
  createKubernetesClient,
  createResourceStore,
} from '../../lib/runtime/dependencies.js';
import { loadSettings } from '../../lib/settings/index.js';
import { listenUntilSignalled, runMain } from '../listen.js';
import { buildHandlerApp } from './app.js';

await runMain(async () => {
  const settings = loadSettings(process.env);
  const log = createLogger(settings.logLevel, 'handler');
  const app = buildHandlerApp({
    settings,
    log,
    configLoader: createConfigLoaderFor(settings, createResourceStore(settings)),
    jobs: createKubernetesClient(),
    sink: createEventSink(settings, log),
  });
  await listenUntilSignalled(app, settings, log);
});

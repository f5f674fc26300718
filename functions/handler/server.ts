import { createLogger } from '../../lib/log/index.js';
import { createHandlerDeps } from '../../lib/runtime/dependencies.js';
import { loadSettings } from '../../lib/settings/index.js';
import { listenUntilSignalled, runMain } from '../listen.js';
import { buildHandlerApp } from './app.js';

await runMain(async () => {
  const settings = loadSettings(process.env);
  const log = createLogger(settings.logLevel, 'handler');
  await listenUntilSignalled(buildHandlerApp(createHandlerDeps(settings, log)), settings, log);
});

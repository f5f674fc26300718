import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { parseJobConfig } from '../../lib/config/parse.js';
import { isJesError, messageOf } from '../../lib/errors/index.js';
import { parseHttpEvent } from '../../lib/events/cloudevent.js';
import { planRuns } from '../../lib/intake/index.js';
import { replyEnvelope } from '../../lib/keptn/envelope.js';
import { createLogger } from '../../lib/log/index.js';
import { createReconciler } from '../../lib/reconcile/runner.js';
import { createEventSink, createKubernetesClient } from '../../lib/runtime/dependencies.js';
import { loadSettings } from '../../lib/settings/index.js';

/**
 * `jes`: the command line of the image and of the repository (`npx --no-install jes …`).
 *   jes validate FILE                          exit 0 when valid, else 1 and one `path: message` line per problem
 *   jes render --config FILE --event FILE      the Jobs the handler would create, as multi-document YAML
 *   jes reconcile --once | --watch             one reconciler pass, or watch Jobs and pass every interval
 */

const USAGE = `usage:
  jes validate FILE
  jes render --config FILE --event FILE
  jes reconcile --once | --watch
`;

const out = (text: string) => process.stdout.write(text);
const err = (text: string) => process.stderr.write(text);

async function validate(args: string[]): Promise<number> {
  const [file] = args;
  if (file === undefined || args.length > 1) {
    err(USAGE);
    return 2;
  }
  try {
    const loaded = parseJobConfig(await readFile(file, 'utf8'), file);
    const tasks = loaded.config.actions.reduce((sum, action) => sum + action.tasks.length, 0);
    err(`${file}: valid (${loaded.config.actions.length} action(s), ${tasks} task(s))\n`);
    return 0;
  } catch (error) {
    if (!isJesError(error, 'CONFIG_INVALID')) throw error;
    out(error.issues.map((issue) => `${issue.path}: ${issue.message}\n`).join(''));
    return 1;
  }
}

async function render(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, event: { type: 'string' } },
    strict: true,
  });
  if (values.config === undefined || values.event === undefined) {
    err(USAGE);
    return 2;
  }
  const configPath = resolve(values.config);
  // The handler's own settings, from the environment; without a Keptn API the config file's folder is the source.
  const settings = loadSettings({ CONFIG_DIR: dirname(configPath), ...process.env });
  const loaded = parseJobConfig(await readFile(configPath, 'utf8'), values.config);
  const event = parseHttpEvent({
    headers: { 'content-type': 'application/cloudevents+json' },
    body: await readFile(values.event, 'utf8'),
  });
  const plan = planRuns(settings, {
    event,
    envelope: replyEnvelope(event),
    loaded,
    createdAt: new Date().toISOString(),
  });
  if (plan.runs.length === 0) {
    err(`no action matches ${event.type}: nothing would be created\n`);
    return 0;
  }
  const jobs = plan.runs.flatMap((run) => run.jobs);
  out(jobs.map((job) => stringify(job, { lineWidth: 0 })).join('---\n'));
  err(`${jobs.length} Job(s) in ${plan.runs.length} run(s)\n`);
  return 0;
}

async function reconcile(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { once: { type: 'boolean' }, watch: { type: 'boolean' } },
    strict: true,
  });
  if (values.once === values.watch) {
    err(USAGE);
    return 2;
  }
  const settings = loadSettings(process.env, { needsConfigSource: false });
  const log = createLogger(settings.logLevel, 'reconciler');
  const reconciler = createReconciler({
    settings,
    jobs: createKubernetesClient(),
    sink: createEventSink(settings, log),
    log,
  });
  if (values.once === true) {
    const summary = await reconciler.pass();
    return summary.errors === 0 ? 0 : 1;
  }
  const stop = await reconciler.watch();
  await new Promise<void>((resolveStop) => {
    process.once('SIGTERM', resolveStop);
    process.once('SIGINT', resolveStop);
  });
  stop();
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'validate':
      return validate(args);
    case 'render':
      return render(args);
    case 'reconcile':
      return reconcile(args);
    default:
      err(USAGE);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  err(`${messageOf(error)}\n`);
  process.exitCode = 1;
}

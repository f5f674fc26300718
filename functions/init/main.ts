import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { fetchTaskFiles } from '../../lib/config/files.js';
import { messageOf } from '../../lib/errors/index.js';
import { createLogger } from '../../lib/log/index.js';
import { createResourceStore } from '../../lib/runtime/dependencies.js';
import { loadInitInputs, loadSettings } from '../../lib/settings/index.js';

/**
 * The init container of every Job: copies the task's `files` into the workspace (/keptn) and writes the whole
 * event to /keptn/event.json. Exits non-zero with the reason when a file cannot be found or fetched, so the
 * reconciler reports it (the init container's log is included in the `.finished` message).
 */
const log = createLogger('info', 'init');
try {
  const settings = loadSettings(process.env);
  const inputs = loadInitInputs(process.env);
  const workspace = resolve(inputs.workspace);
  const fetched = await fetchTaskFiles(createResourceStore(settings), inputs.scope, inputs.files);
  for (const file of fetched) {
    const target = resolve(workspace, file.path);
    if (!target.startsWith(workspace + sep))
      throw new Error(`refusing to write outside ${workspace}: ${file.path}`);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    await writeFile(target, file.content);
    log.info({ file: file.path, level: file.level, bytes: file.content.length }, 'file copied');
  }
  await writeFile(join(workspace, 'event.json'), inputs.eventJson);
  log.info({ files: fetched.length }, 'workspace ready');
} catch (error) {
  log.error({ err: messageOf(error) }, 'init failed');
  process.stderr.write(`init failed: ${messageOf(error)}\n`);
  process.exitCode = 1;
}

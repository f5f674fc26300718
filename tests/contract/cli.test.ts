import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { keptnEvent } from '../helpers/factories.js';

/** The `jes` command as users run it (the bin script over the built bundle), exit codes and streams included. */

const execFileAsync = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function jes(args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [join(root, 'bin/jes.js'), ...args], {
      env: { PATH: process.env.PATH, CONFIG_DIR: '/config', JOB_NAMESPACE: 'jobs' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

void describe('jes CLI', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jes-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const write = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  void it('validate: exit 0 for a valid file', async () => {
    const result = await jes(['validate', join(root, 'examples/config/sockshop/job/config.yaml')]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, '');
  });

  void it('validate: exit 1 and one `path: message` line per problem', async () => {
    const path = await write(
      'bad.yaml',
      'apiVersion: v2\nactions:\n  - name: a\n    events: [{ name: x }]\n    tasks:\n      - { name: t, image: 3, timeout: 5 }\n',
    );
    const result = await jes(['validate', path]);
    assert.equal(result.code, 1);
    assert.deepEqual(result.stdout.trimEnd().split('\n'), [
      'actions[0].tasks[0].timeout: unknown key; allowed keys here: name, image, imagePullPolicy, imagePullSecrets, cmd, args, files, env, resources, workingDir, maxPollDuration, namespace, serviceAccount, ttlSecondsAfterFinished, securityContext, annotations, labels, nodeSelector, tolerations (line 6)',
      'actions[0].tasks[0].image: expected string (a container image reference), got number 3 (line 6)',
    ]);
  });

  void it('validate: a missing file is a clear error, not a crash', async () => {
    const result = await jes(['validate', join(dir, 'nope.yaml')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /ENOENT.*nope\.yaml/);
  });

  void it('render: prints no object and exits 0 when no action matches', async () => {
    const config = await write(
      'config.yaml',
      'apiVersion: v2\nactions:\n  - name: a\n    events: [{ name: sh.keptn.event.deployment.triggered }]\n    tasks: [{ name: t, image: busybox }]\n',
    );
    const event = await write('event.json', JSON.stringify(keptnEvent()));
    const result = await jes(['render', '--config', config, '--event', event]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /no action matches sh\.keptn\.event\.test\.triggered/);
  });

  void it('render: every Job of every matched action, suspended ones included', async () => {
    const config = await write(
      'two.yaml',
      'apiVersion: v2\nactions:\n  - name: a\n    events: [{ name: "sh.keptn.event.*.triggered" }]\n    tasks: [{ name: t1, image: busybox }, { name: t2, image: busybox }]\n',
    );
    const event = await write('event2.json', JSON.stringify(keptnEvent()));
    const result = await jes(['render', '--config', config, '--event', event]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout.split('\n---\n').length, 2);
    assert.match(result.stdout, /suspend: false[\s\S]*suspend: true/);
  });

  void it('render: an invalid event file is an error on stderr with exit 1', async () => {
    const config = join(root, 'examples/config/sockshop/job/config.yaml');
    const event = await write('bad-event.json', '{"id": 1}');
    const result = await jes(['render', '--config', config, '--event', event]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /Not a valid CloudEvent/);
  });

  void it('unknown command: usage and exit 2', async () => {
    const result = await jes(['frobnicate']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /usage:/);
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { V1Job } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

/**
 * The design brief's reference use case, end to end through the built entrypoints: `jes render` of the Terraform
 * example, then the init container's own entrypoint run with the rendered env, for dev and for hardening.
 */

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const configDir = join(root, 'examples/config');
const env = {
  ...process.env,
  CONFIG_DIR: configDir,
  KEPTN_API_URL: '',
  JOB_NAMESPACE: 'jobs',
  LOG_LEVEL: 'silent',
};

async function render(eventFile: string): Promise<V1Job[]> {
  const { stdout } = await run(
    process.execPath,
    [
      join(root, 'bin/jes.js'),
      'render',
      '--config',
      join(configDir, 'sockshop/job/config.yaml'),
      '--event',
      join(root, 'examples/events', eventFile),
    ],
    { env },
  );
  return parseAllDocuments(stdout).map((document) => document.toJS() as V1Job);
}

async function runInit(job: V1Job): Promise<string> {
  const workspace = await mkdtemp(join(tmpdir(), 'jes-init-'));
  const initEnv = Object.fromEntries(
    (job.spec?.template.spec?.initContainers?.[0]?.env ?? []).map((variable) => [
      variable.name,
      variable.value ?? '',
    ]),
  );
  await run(process.execPath, [join(root, 'dist/init.js')], {
    env: { PATH: process.env.PATH, ...initEnv, JES_WORKSPACE: workspace, LOG_LEVEL: 'silent' },
  });
  return workspace;
}

void describe('reference use case: Terraform per stage (jes render + the init entrypoint)', () => {
  void it('renders the init container, the /keptn mount, the secret env and the event env', async () => {
    const jobs = await render('infrastructure.triggered.json');
    assert.equal(jobs.length, 1);
    const pod = jobs[0]!.spec!.template.spec!;
    const init = pod.initContainers![0]!;
    const task = pod.containers[0]!;
    assert.deepEqual(init.command, ['node', '/app/dist/init.js']);
    assert.equal(init.env!.find((variable) => variable.name === 'JES_FILES')?.value, '["terraform/"]');
    assert.equal(init.env!.find((variable) => variable.name === 'KEPTN_STAGE')?.value, 'dev');
    for (const container of [init, task]) {
      assert.deepEqual(
        container.volumeMounts!.find((mount) => mount.mountPath === '/keptn'),
        { name: 'workspace', mountPath: '/keptn' },
      );
    }
    assert.equal(task.image, 'hashicorp/terraform:0.12.31');
    assert.deepEqual(task.command, ['sh']);
    assert.match(task.args![1]!, /cd \/keptn\/terraform && terraform init/);
    assert.deepEqual(task.envFrom, [{ secretRef: { name: 'aws-credentials' } }]);
    assert.equal(task.env!.find((variable) => variable.name === 'TF_VAR_stage')?.value, 'dev');
    assert.equal(task.env!.find((variable) => variable.name === 'TF_VAR_service')?.value, 'carts');
    assert.equal(jobs[0]!.spec!.activeDeadlineSeconds, 900);
  });

  void it('gives each stage its own Terraform files', async () => {
    for (const [eventFile, expected] of [
      ['infrastructure.triggered.json', 'dev sizing'],
      ['infrastructure.hardening.triggered.json', 'hardening sizing'],
    ] as const) {
      const [job] = await render(eventFile);
      const workspace = await runInit(job!);
      try {
        assert.match(await readFile(join(workspace, 'terraform/main.tf'), 'utf8'), new RegExp(expected));
        const event = JSON.parse(await readFile(join(workspace, 'event.json'), 'utf8')) as { type: string };
        assert.equal(event.type, 'sh.keptn.event.infrastructure.triggered');
      } finally {
        await rm(workspace, { recursive: true, force: true });
      }
    }
  });
});

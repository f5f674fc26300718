import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

/**
 * The image's contents without a container runtime: the Dockerfile copies dist/ and bin/ into /app and nothing else
 * (no node_modules). Here the same two folders are copied into an empty directory and every entrypoint is run there,
 * so a bundle that still needs node_modules, or an entrypoint the Dockerfile does not ship, fails this test.
 */

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

void describe('image layout: the bundled entrypoints run from /app alone', () => {
  let app = '';
  let kubeconfig = '';
  before(async () => {
    app = await mkdtemp(join(tmpdir(), 'jes-image-'));
    await cp(join(root, 'dist'), join(app, 'dist'), { recursive: true });
    await cp(join(root, 'bin'), join(app, 'bin'), { recursive: true });
    // A well-formed kubeconfig whose API cannot be reached: /healthz answers anyway, /readyz would not.
    kubeconfig = join(app, 'kubeconfig');
    await writeFile(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
  });
  after(async () => {
    await rm(app, { recursive: true, force: true });
  });

  void it('the Dockerfile ships exactly dist/ and bin/ and runs as a non-root user', async () => {
    const dockerfile = await readFile(join(root, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.deepEqual(
      [...runtime.matchAll(/^COPY (?:--from=\w+ )?(\S+) (\S+)$/gm)].map((match) => match[2]),
      ['./dist', './bin'],
    );
    assert.match(runtime, /^USER 1000:1000$/m);
  });

  for (const name of ['handler', 'reconciler']) {
    void it(`${name}: starts, answers /healthz, stops on SIGTERM`, async () => {
      const child = spawn(process.execPath, [join(app, 'dist', `${name}.js`)], {
        cwd: app,
        env: {
          PATH: process.env.PATH,
          HOST: '127.0.0.1',
          PORT: '0',
          LOG_LEVEL: 'info',
          CONFIG_DIR: join(root, 'examples/config'),
          KUBECONFIG: kubeconfig,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      try {
        const url = await new Promise<string>((resolveUrl, reject) => {
          const timer = setTimeout(() => {
            reject(new Error(`no listening line: ${output}`));
          }, 15_000);
          child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`exited with ${String(code)} before listening: ${output}`));
          });
          child.stdout.on('data', () => {
            const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
            if (match?.[1] !== undefined) {
              clearTimeout(timer);
              resolveUrl(match[1]);
            }
          });
        });
        const health = await fetch(`${url}/healthz`);
        assert.equal(health.status, 200);
      } finally {
        if (child.exitCode === null) {
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          const [code] = (await exited) as [number | null];
          assert.equal(code, 0, output);
        }
      }
    });
  }

  void it('cli: validate runs', async () => {
    const { stderr } = await run(
      process.execPath,
      [join(app, 'bin/jes.js'), 'validate', join(root, 'examples/config/sockshop/job/config.yaml')],
      { cwd: app },
    );
    assert.match(stderr, /valid \(2 action\(s\), 2 task\(s\)\)/);
  });

  void it('init: copies files and writes event.json', async () => {
    const workspace = await mkdtemp(join(tmpdir(), 'jes-ws-'));
    try {
      await run(process.execPath, [join(app, 'dist/init.js')], {
        cwd: app,
        env: {
          PATH: process.env.PATH,
          CONFIG_DIR: join(root, 'examples/config'),
          JES_WORKSPACE: workspace,
          JES_FILES: '["tests/"]',
          JES_EVENT: '{"id":"e1"}',
          KEPTN_PROJECT: 'sockshop',
          KEPTN_STAGE: 'dev',
          KEPTN_SERVICE: 'carts',
          LOG_LEVEL: 'silent',
        },
      });
      assert.match(await readFile(join(workspace, 'tests/smoke.sh'), 'utf8'), /smoke test of carts/);
      assert.equal(await readFile(join(workspace, 'event.json'), 'utf8'), '{"id":"e1"}');
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });
});

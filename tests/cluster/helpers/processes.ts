import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { waitFor } from './cluster.js';

/**
 * The functions as they run in production: the built bundles in their own processes, configured by environment,
 * reached over HTTP on loopback.
 */

const root = resolve(import.meta.dirname, '../../..');

export interface FunctionProcess {
  readonly url: string;
  readonly output: () => string;
  /** SIGTERM (graceful) or SIGKILL (a crash); resolves when the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function launch(args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-200_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { child, output: () => output };
}

function stopper(child: ChildProcess) {
  return async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };
}

/** `dist/handler.js` or `dist/reconciler.js` listening on a free loopback port, once /healthz answers. */
export async function startFunction(
  name: 'handler' | 'reconciler',
  env: Record<string, string>,
): Promise<FunctionProcess> {
  const port = await freePort();
  const { child, output } = launch([`dist/${name}.js`], { ...env, HOST: '127.0.0.1', PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${name} to answer /healthz (output: ${output().slice(-500)})`, async () => {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${output()}`);
    try {
      return (await fetch(`${url}/healthz`)).ok ? true : undefined;
    } catch {
      return undefined;
    }
  });
  return { url, output, stop: stopper(child) };
}

/** `jes reconcile --watch` (the plain-Kubernetes Deployment mode). */
export function startWatchReconciler(env: Record<string, string>): FunctionProcess {
  const { child, output } = launch(['dist/cli.js', 'reconcile', '--watch'], env);
  return { url: '', output, stop: stopper(child) };
}

/** The functions' environment in the cluster tier: the fake Keptn API, the test's jobs namespace, short intervals. */
export function functionEnvironment(
  target: { readonly jobsNamespace: string; readonly apiUrl: string; readonly token: string },
  kubeconfig: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    KUBECONFIG: kubeconfig,
    KEPTN_API_URL: target.apiUrl,
    KEPTN_API_TOKEN: target.token,
    KEPTN_API_RETRIES: '1',
    KEPTN_API_TIMEOUT_MS: '3000',
    JOB_NAMESPACE: target.jobsNamespace,
    DEFAULT_JOB_SERVICE_ACCOUNT: 'job-executor-job',
    INIT_CONTAINER_IMAGE: process.env.JES_TEST_INIT_IMAGE ?? 'ghcr.io/jes-serverless/job-executor:0.1.0',
    RECONCILE_INTERVAL_SECONDS: '1',
    CLAIM_TIMEOUT_SECONDS: '5',
    STARTED_GRACE_SECONDS: '2',
    FAIL_FAST_IMAGE_PULL_SECONDS: '3',
    ...extra,
  };
}

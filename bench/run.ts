// Benchmarks, side by side in one run, printed as ratios against a baseline (never timed unit tests).
//   npx tsx bench/run.ts
// 1. cold start: spawn → first 2xx, and RSS after it, of the bundled handler (dist/handler.js) vs a bare node:http
//    server. Target: ≤ 2.5× and ≤ 70 MB.
// 2. non-matching events: requests/s of the handler answering 200 matched:false (config cached) vs a Fastify hello
//    world, same machine, same load. Target: ≥ 0.3×.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REQUESTS = 4000;
const CONCURRENCY = 32;

interface Started {
  child: ChildProcess;
  url: string;
  ms: number;
}

async function start(args: string[], env: Record<string, string> = {}): Promise<Started> {
  const begin = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /(?:LISTENING |Server listening at )(http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1] !== undefined) resolveUrl(match[1]);
    });
    child.once('exit', (code) => {
      reject(new Error(`exited ${String(code)}: ${output}`));
    });
  });
  for (;;) {
    const ok = await fetch(`${url}/healthz`).then(
      (response) => response.status < 500,
      () => false,
    );
    if (ok) break;
  }
  return { child, url, ms: performance.now() - begin };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

async function rssMb(child: ChildProcess): Promise<number> {
  const status = await readFile(`/proc/${String(child.pid)}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function load(url: string, body: string, headers: Record<string, string>): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const target = new URL(url);
  let sent = 0;
  const begin = performance.now();
  const worker = async () => {
    while (sent < REQUESTS) {
      sent += 1;
      await new Promise<void>((done, fail) => {
        const call = request(
          { host: target.hostname, port: target.port, path: '/', method: 'POST', agent, headers },
          (response) => {
            response.resume();
            response.on('end', done);
          },
        );
        call.on('error', fail);
        call.end(body);
      });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  return REQUESTS / ((performance.now() - begin) / 1000);
}

const kubeconfig = resolve(root, 'bench/unreachable.kubeconfig');
const handlerEnv = {
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'info',
  CONFIG_DIR: resolve(root, 'examples/config'),
  KUBECONFIG: kubeconfig,
};

const coldBare: number[] = [];
const coldHandler: number[] = [];
const rss: number[] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  const bare = await start(['bench/bare-server.ts']);
  coldBare.push(bare.ms);
  await stop(bare.child);
  const handler = await start(['dist/handler.js'], handlerEnv);
  coldHandler.push(handler.ms);
  rss.push(await rssMb(handler.child));
  await stop(handler.child);
}

const event = JSON.stringify({
  specversion: '1.0',
  id: 'bench-1',
  source: 'bench',
  type: 'sh.keptn.event.evaluation.finished',
  data: { project: 'sockshop', stage: 'dev', service: 'carts' },
});
const hello = await start(['--import', 'tsx', 'bench/servers.ts', 'hello']);
await load(hello.url, '{}', { 'content-type': 'application/json' });
const helloRps = await load(hello.url, '{}', { 'content-type': 'application/json' });
await stop(hello.child);
const handler = await start(['--import', 'tsx', 'bench/servers.ts', 'handler']);
await load(handler.url, event, { 'content-type': 'application/cloudevents+json' });
const handlerRps = await load(handler.url, event, { 'content-type': 'application/cloudevents+json' });
await stop(handler.child);

const rows: [string, string, string, string, string][] = [
  [
    'cold start (spawn → 2xx), median ms',
    median(coldBare).toFixed(0),
    median(coldHandler).toFixed(0),
    (median(coldHandler) / median(coldBare)).toFixed(2),
    '≤ 2.50',
  ],
  ['RSS after start, MB', '-', median(rss).toFixed(1), '-', '≤ 70 MB'],
  [
    'non-matching events, req/s',
    helloRps.toFixed(0),
    handlerRps.toFixed(0),
    (handlerRps / helloRps).toFixed(2),
    '≥ 0.30',
  ],
];
console.log('| measure | baseline | handler | ratio | target |\n|---|---|---|---|---|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);

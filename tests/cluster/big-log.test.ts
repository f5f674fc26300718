import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { ApiException, ApiextensionsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { deterministicId } from '../../lib/keptn/replies.js';
import { startFakeKeptnApi, type FakeKeptnApi, type RecordedEvent } from '../fakes/keptn-api.js';
import { keptnEvent, unique } from '../helpers/factories.js';
import { postStructured } from '../helpers/handler.js';
import { openCluster, waitFor, type TestCluster } from './helpers/cluster.js';
import {
  functionEnvironment,
  startFunction,
  startWatchReconciler,
  type FunctionProcess,
} from './helpers/processes.js';

/**
 * The cluster tier, a task whose log is far larger than an event may be: the reconciler reads the pod log through the
 * real apiserver (→ kubelet or KWOK) and reports a `.finished` the fake Keptn API accepts (it refuses bodies over
 * 64 KB with 400, as Keptn does), carrying the log's tail and a truncation marker.
 *
 * On a real node the task's command prints the log. A KWOK node runs no command: when the cluster serves KWOK's
 * per-pod `Logs` custom resource (tools/testenv, kwok --enable-crds=Logs) the test writes the same output as a
 * CRI-format file on this host and points a `Logs` object named after the pod at it, while the label
 * testenv.jes.dev/duration keeps the pod Running (the reconciler reads logs only once the Job has finished).
 */

const TIMEOUT = 120_000;
const EVENT_LIMIT = 64 * 1024;
const LINE_WIDTH = 100;
/** Lines of LINE_WIDTH x before LAST_LINE: just over 10 MiB of text. */
const LINES = Math.ceil((10 * 1024 * 1024) / LINE_WIDTH);
const LOG_BYTES = LINES * (LINE_WIDTH + 1);
const LAST_LINE = 'THE LAST LINE';
/** How long a KWOK pod stays Running: time to put its `Logs` object in place (a real node ignores the label). */
const HOLD_SECONDS = 10;
const KWOK_GROUP = 'kwok.x-k8s.io';
const LOGS_CRD = `logs.${KWOK_GROUP}`;

/** On a real node: LINES lines of LINE_WIDTH x, then LAST_LINE (every line ends with a newline). */
const COMMAND = `yes "$(printf "%${LINE_WIDTH}s" | tr " " x)" | head -n ${LINES}; echo ${LAST_LINE}`;

/** What COMMAND prints, as the CRI log file KWOK serves (what a kubelet would have written). */
function criLogOfCommand(): string {
  const stamp = '2026-01-01T00:00:00.000000000Z stdout F ';
  return `${stamp}${'x'.repeat(LINE_WIDTH)}\n`.repeat(LINES) + `${stamp}${LAST_LINE}\n`;
}

/** The last two lines of COMMAND's output, as the `.finished` must end its log section. */
const TAIL = `${'x'.repeat(LINE_WIDTH)}\n${LAST_LINE}`;

interface Tier {
  cluster: TestCluster;
  keptn: FakeKeptnApi;
  handler: FunctionProcess;
  /** Set when the cluster serves KWOK `Logs` objects: the CRI file written for KWOK pods. */
  kwokLogFile: string | undefined;
  directory: string;
}

function functionEnv(
  tier: Pick<Tier, 'cluster' | 'keptn'>,
  kubeconfig: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const target = {
    jobsNamespace: tier.cluster.jobsNamespace,
    apiUrl: tier.keptn.apiUrl,
    token: tier.keptn.token,
  };
  // Runs with a 10 MB log are slower to report: the Keptn API calls get a longer per-attempt timeout.
  return functionEnvironment(target, kubeconfig, { KEPTN_API_TIMEOUT_MS: '10000', ...extra });
}

function configOf(): string {
  return `apiVersion: v2
actions:
  - name: big log
    events: [{ name: sh.keptn.event.test.triggered }]
    tasks:
      - name: chatty
        image: busybox:1.36
        cmd: [sh, -c, '${COMMAND}']
        labels: { testenv.jes.dev/duration: "${HOLD_SECONDS}s" }
`;
}

/** Whether the cluster serves KWOK's per-pod `Logs` objects; fails on KWOK nodes without them (an old testenv). */
async function servesKwokLogs(cluster: TestCluster): Promise<boolean> {
  try {
    await cluster.admin.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: LOGS_CRD });
    return true;
  } catch (error) {
    if (!(error instanceof ApiException) || (error as ApiException<unknown>).code !== 404) throw error;
  }
  const nodes = await cluster.core.listNode();
  const kwok = nodes.items.filter((node) => node.metadata?.annotations?.['kwok.x-k8s.io/node'] === 'fake');
  assert.equal(
    kwok.length,
    0,
    `KWOK nodes (${kwok.map((node) => node.metadata?.name).join(', ')}) but no ${LOGS_CRD} CRD: this KWOK cannot ` +
      'serve a per-pod log; restart tools/testenv (cluster-down.sh, then cluster-up.sh) to get kwok --enable-crds=Logs',
  );
  return false;
}

async function accept(tier: Tier): Promise<string> {
  const project = unique('proj');
  tier.keptn.setResource(
    { project, stage: 'dev', service: 'carts' },
    'job/config.yaml',
    configOf(),
    'commit-1',
  );
  const answer = await postStructured(tier.handler.url, keptnEvent({ data: { project } }));
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
  return (answer.body.runs as { runId: string }[])[0]!.runId;
}

/**
 * If the run's pod is on a KWOK node: points a `Logs` object named after the pod at the CRI file and waits until the
 * apiserver serves its last line while the pod still runs, so the reconciler cannot have read the default log.
 */
async function serveBigLogOnKwok(tier: Tier, runId: string, logsFile: string): Promise<void> {
  const { cluster } = tier;
  const { core } = cluster;
  const namespace = cluster.jobsNamespace;
  const scheduled = await waitFor(`the pod of run ${runId} on a node`, async () => {
    const [job] = await cluster.jobsOfRun(runId);
    if (job === undefined) return undefined;
    const pods = await core.listNamespacedPod({
      namespace,
      labelSelector: `batch.kubernetes.io/job-name=${job.metadata?.name ?? ''}`,
    });
    return pods.items.find((candidate) => candidate.spec?.nodeName !== undefined);
  });
  const node = await core.readNode({ name: scheduled.spec?.nodeName ?? '' });
  if (node.metadata?.annotations?.['kwok.x-k8s.io/node'] !== 'fake') return; // a real node runs the command
  const pod = scheduled.metadata?.name ?? '';
  await cluster.admin.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: KWOK_GROUP,
    version: 'v1alpha1',
    namespace,
    plural: 'logs',
    body: {
      apiVersion: `${KWOK_GROUP}/v1alpha1`,
      kind: 'Logs',
      metadata: { name: pod, namespace },
      spec: { logs: [{ logsFile }] },
    },
  });
  await waitFor(`KWOK to serve ${logsFile} for pod ${pod}`, async () => {
    const last = await core
      .readNamespacedPodLog({ namespace, name: pod, container: 'task', tailLines: 1 })
      .catch(() => '');
    return last.trimEnd() === LAST_LINE ? true : undefined;
  });
  const { status } = await core.readNamespacedPod({ namespace, name: pod });
  assert.equal(
    status?.phase,
    'Running',
    `pod ${pod} finished before its Logs object took effect: raise HOLD_SECONDS (${HOLD_SECONDS})`,
  );
}

function finishedOf(tier: Tier, runId: string): RecordedEvent | undefined {
  return tier.keptn.events.find((event) => event.body.id === deterministicId(`${runId}/finished`));
}

/** One run of the chatty task with a reconciler configured by `extra`; returns the accepted `.finished`. */
async function runChatty(tier: Tier, extra: Record<string, string>): Promise<RecordedEvent> {
  const reconciler = startWatchReconciler(
    functionEnv(tier, tier.cluster.reconcilerKubeconfig, { RECONCILER_ID: unique('big'), ...extra }),
  );
  try {
    const runId = await accept(tier);
    if (tier.kwokLogFile !== undefined) await serveBigLogOnKwok(tier, runId, tier.kwokLogFile);
    return await waitFor(
      `the .finished of run ${runId} (reconciler output: ${reconciler.output().slice(-2000)})`,
      async () => {
        assert.deepEqual(tier.keptn.rejectedEvents, [], 'the fake Keptn API refused an event');
        return finishedOf(tier, runId);
      },
      TIMEOUT,
    );
  } finally {
    await reconciler.stop();
  }
}

function assertBounded(tier: Tier, finished: RecordedEvent, t: TestContext): string {
  assert.deepEqual(tier.keptn.rejectedEvents, [], 'no event was refused (400: body over 64 KB)');
  const size = Buffer.byteLength(JSON.stringify(finished.body), 'utf8');
  assert.ok(size <= EVENT_LIMIT, `the .finished is ${size} bytes, over ${EVENT_LIMIT}`);
  const data = finished.body.data as Record<string, unknown>;
  assert.equal(data.status, 'succeeded');
  assert.equal(data.result, 'pass');
  const message = String(data.message);
  const marker = /\[… truncated: [^\]]*…\]/.exec(message)?.[0] ?? 'none';
  t.diagnostic(
    `${tier.kwokLogFile === undefined ? 'command' : 'KWOK Logs'}: .finished ${size} bytes; ${marker}`,
  );
  assert.ok(message.includes(TAIL), `the message ends the log with its tail: …${message.slice(-300)}`);
  return message;
}

void describe('cluster tier: a 10 MB pod log', { timeout: 600_000 }, () => {
  let tier: Tier;
  before(async () => {
    const cluster = await openCluster();
    const keptn = await startFakeKeptnApi();
    const handler = await startFunction(
      'handler',
      functionEnv({ cluster, keptn }, cluster.handlerKubeconfig),
    );
    const directory = await mkdtemp(join(tmpdir(), 'jes-big-log-'));
    tier = { cluster, keptn, handler, directory, kwokLogFile: undefined };
    if (await servesKwokLogs(cluster)) {
      // KWOK runs on this host and reads the file itself.
      tier.kwokLogFile = join(directory, 'chatty.log');
      await writeFile(tier.kwokLogFile, criLogOfCommand());
    }
  });
  after(async () => {
    await tier.handler.stop();
    await tier.keptn.close();
    await tier.cluster.close();
    await rm(tier.directory, { recursive: true, force: true });
  });

  void it('default LOG_TAIL_LINES: the .finished is ≤ 64 KB, with the tail and a truncation marker', async (t) => {
    const finished = await runChatty(tier, {});
    const message = assertBounded(tier, finished, t);
    assert.match(message, /\[… truncated: [^\]]*…\]/);
  });

  void it('LOG_TAIL_LINES above the line count: all 10 MB read, cut to the byte budget and marked', async (t) => {
    const finished = await runChatty(tier, { LOG_TAIL_LINES: '1000000' });
    const message = assertBounded(tier, finished, t);
    const cut = /\[… truncated: the first (\d+) bytes of this log are left out …\]/.exec(message);
    assert.ok(cut !== null, `a byte truncation marker: ${message.slice(0, 500)}`);
    assert.ok(Number(cut[1]) > LOG_BYTES - EVENT_LIMIT, `only the tail is kept (cut ${cut[1]} bytes)`);
    assert.doesNotMatch(message, /LOG_TAIL_LINES/, 'no line cut: the whole log was read');
  });
});

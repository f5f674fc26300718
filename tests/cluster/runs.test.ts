import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { V1Job } from '@kubernetes/client-node';
import { Annotations, Labels } from '../../lib/jobs/contract.js';
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
 * The cluster tier: the built handler and reconciler, each in its own process with its own ServiceAccount token
 * (bound by infra/base/rbac-jobs.yaml), against a real kube-apiserver, Job controller and scheduler (the local control
 * plane with KWOK nodes, or any cluster in KUBECONFIG), and the fake Keptn API. Pod behaviour comes from the task's
 * command on a real node and from the testenv.jes.dev/* labels on KWOK nodes, so the same test runs on both.
 */

interface Tier {
  cluster: TestCluster;
  keptn: FakeKeptnApi;
  handler: FunctionProcess;
  reconcilers: FunctionProcess[];
}

const TIMEOUT = 90_000;
const root = resolve(import.meta.dirname, '../..');
const execFileAsync = promisify(execFile);

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
  return functionEnvironment(target, kubeconfig, extra);
}

function reconcilerEnv(tier: Pick<Tier, 'cluster' | 'keptn'>, id: string) {
  return functionEnv(tier, tier.cluster.reconcilerKubeconfig, { RECONCILER_ID: id });
}

/** A task whose behaviour is the same on a real node (its command) and on a KWOK node (its labels). */
function taskYaml(
  name: string,
  behaviour: { exitCode?: number; seconds?: number; image?: string } = {},
): string {
  const labels: string[] = [];
  if (behaviour.exitCode !== undefined) labels.push(`testenv.jes.dev/exit-code: "${behaviour.exitCode}"`);
  if (behaviour.seconds !== undefined) labels.push(`testenv.jes.dev/duration: "${behaviour.seconds}s"`);
  if (behaviour.image !== undefined) labels.push('testenv.jes.dev/image-pull: "fail"');
  const script = `echo task ${name}; ${behaviour.seconds === undefined ? '' : `sleep ${behaviour.seconds}; `}exit ${behaviour.exitCode ?? 0}`;
  return `      - name: ${name}
        image: ${behaviour.image ?? 'busybox:1.36'}
        cmd: [sh, -c, '${script}']
        labels: { ${labels.join(', ')} }
`;
}

function configOf(tasks: string, extra = ''): string {
  return `apiVersion: v2
actions:
  - name: cluster run
    events: [{ name: sh.keptn.event.test.triggered }]
${extra}    tasks:
${tasks}`;
}

async function accept(
  tier: Tier,
  config: string,
): Promise<{ runId: string; event: ReturnType<typeof keptnEvent> }> {
  const project = unique('proj');
  tier.keptn.setResource({ project, stage: 'dev', service: 'carts' }, 'job/config.yaml', config, 'commit-1');
  const event = keptnEvent({ data: { project } });
  const answer = await postStructured(tier.handler.url, event);
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
  return { runId: (answer.body.runs as { runId: string }[])[0]!.runId, event };
}

function finishedOf(tier: Tier, runId: string): RecordedEvent[] {
  return tier.keptn.events.filter((event) => event.body.id === deterministicId(`${runId}/finished`));
}

async function waitForFinished(tier: Tier, runId: string): Promise<Record<string, unknown>> {
  const [finished] = await waitFor(
    `the .finished of run ${runId}`,
    async () => {
      const found = finishedOf(tier, runId);
      return found.length > 0 ? found : undefined;
    },
    TIMEOUT,
  );
  return finished!.body.data as Record<string, unknown>;
}

async function podLog(tier: Tier, job: V1Job): Promise<string> {
  const pods = await tier.cluster.core.listNamespacedPod({
    namespace: tier.cluster.jobsNamespace,
    labelSelector: `batch.kubernetes.io/job-name=${job.metadata?.name ?? ''}`,
  });
  const pod = pods.items[0]?.metadata?.name ?? '';
  return tier.cluster.core.readNamespacedPodLog({
    namespace: tier.cluster.jobsNamespace,
    name: pod,
    container: 'task',
  });
}

void describe('cluster tier: real apiserver and Job controller', { timeout: 600_000 }, () => {
  let tier: Tier;
  before(async () => {
    const cluster = await openCluster();
    const keptn = await startFakeKeptnApi();
    const base = { cluster, keptn };
    const handler = await startFunction('handler', functionEnv(base, cluster.handlerKubeconfig));
    tier = { ...base, handler, reconcilers: [startWatchReconciler(reconcilerEnv(base, 'watch-a'))] };
    await cluster.core.createNamespacedSecret({
      namespace: cluster.jobsNamespace,
      body: { metadata: { name: 'jes-test-creds' }, stringData: { TOKEN: 's3cr3t', USER: 'robot' } },
    });
  });
  after(async () => {
    for (const process of [tier.handler, ...tier.reconcilers]) await process.stop();
    await tier.keptn.close();
    await tier.cluster.close();
  });

  void it('a config using every task field: Jobs accepted, run in order, one .started and one .finished with the pod logs', async () => {
    const ns = tier.cluster.jobsNamespace;
    const config = configOf(`      - name: all-fields
        image: busybox:1.36
        imagePullPolicy: IfNotPresent
        imagePullSecrets: [regcred]
        cmd: [sh, -c]
        args: ['echo all fields; printf "{\\"answer\\": 42}" > /dev/termination-log']
        files: []
        env:
          - { name: STAGE, valueFrom: event, value: $.data.stage }
          - { name: EVENT_JSON, valueFrom: event, value: $.data.labels, as: json }
          - { name: GREETING, valueFrom: string, value: hello }
          - { name: jes-test-creds, valueFrom: secret }
          - { name: API_TOKEN, valueFrom: secret, secret: jes-test-creds, key: TOKEN }
          - { name: TESTENV_TERMINATION_MESSAGE, valueFrom: string, value: '{"answer": 42}' }
        resources: { limits: { cpu: 100m, memory: 64Mi }, requests: { cpu: 10m, memory: 16Mi } }
        workingDir: /tmp
        maxPollDuration: 60
        namespace: ${ns}
        serviceAccount: job-executor-job
        ttlSecondsAfterFinished: 300
        securityContext: { runAsUser: 1001, readOnlyRootFilesystem: true }
        annotations: { team: qa }
        labels: { team: qa }
        nodeSelector: { kubernetes.io/os: linux }
        tolerations: [{ key: dedicated, operator: Exists, effect: NoSchedule }]
${taskYaml('second')}${taskYaml('third')}`);
    const { runId, event } = await accept(tier, config);
    const jobs = await tier.cluster.jobsOfRun(runId);
    assert.equal(jobs.length, 3, 'all three Jobs were accepted by the apiserver');
    const data = await waitForFinished(tier, runId);
    assert.equal(data.status, 'succeeded');
    assert.equal(data.result, 'pass');
    assert.deepEqual(data['all-fields'], { answer: 42 });
    const done = await tier.cluster.jobsOfRun(runId);
    const order = done
      .map(
        (job) =>
          [job.metadata?.annotations?.[Annotations.task], job.status?.startTime?.getTime() ?? 0] as const,
      )
      .sort((a, b) => a[1] - b[1])
      .map(([task]) => task);
    assert.deepEqual(order, ['all-fields', 'second', 'third']);
    await waitFor('every Job of the run to leave the active set', async () => {
      const states = (await tier.cluster.jobsOfRun(runId)).map((job) => job.metadata?.labels?.[Labels.state]);
      return states.every((state) => state === 'done') ? true : undefined;
    });
    const firstLine = (await podLog(tier, done[0]!)).split('\n')[0] ?? '';
    assert.ok(
      firstLine !== '' && String(data.message).includes(firstLine),
      'the .finished carries the pod log',
    );
    const ours = tier.keptn.events
      .filter((recorded) => recorded.body.triggeredid === event.id)
      .map((recorded) => recorded.body.type);
    assert.deepEqual(ours, ['sh.keptn.event.test.started', 'sh.keptn.event.test.finished']);
  });

  void it('a failing task: errored .finished with its logs and reason; later tasks never start', async () => {
    const { runId } = await accept(
      tier,
      configOf(taskYaml('ok') + taskYaml('breaks', { exitCode: 3 }) + taskYaml('never')),
    );
    const data = await waitForFinished(tier, runId);
    assert.equal(data.status, 'errored');
    assert.equal(data.result, 'fail');
    assert.match(String(data.message), /Task 'breaks' failed \(BackoffLimitExceeded/);
    assert.match(String(data.message), /Task 'never' was not run/);
    const never = (await tier.cluster.jobsOfRun(runId)).find(
      (job) => job.metadata?.annotations?.[Annotations.task] === 'never',
    );
    assert.ok(never === undefined || never.status?.startTime === undefined, 'the last task never started');
  });

  void it('an image that cannot be pulled: fail-fast .finished, the stuck Job removed', async () => {
    const { runId } = await accept(
      tier,
      configOf(taskYaml('pull', { image: 'registry.invalid/unpullable:1' }) + taskYaml('after')),
    );
    const data = await waitForFinished(tier, runId);
    assert.equal(data.status, 'errored');
    assert.match(String(data.message), /can never start: container task: (ErrImagePull|ImagePullBackOff)/);
    await waitFor('the stuck and suspended Jobs to be gone', async () =>
      (await tier.cluster.jobsOfRun(runId)).length === 0 ? true : undefined,
    );
  });

  void it('a timeout: the Job is stopped by activeDeadlineSeconds and reported', async () => {
    const config = configOf(
      taskYaml('slow', { seconds: 120 }).replace(
        '        labels:',
        '        maxPollDuration: 3\n        labels:',
      ),
    );
    const { runId } = await accept(tier, config);
    const data = await waitForFinished(tier, runId);
    assert.equal(data.status, 'errored');
    assert.match(String(data.message), /timed out after 3s/);
    const [job] = await tier.cluster.jobsOfRun(runId);
    assert.equal(
      job?.status?.conditions?.find((condition) => ['Failed', 'FailureTarget'].includes(condition.type))
        ?.reason,
      'DeadlineExceeded',
    );
  });

  void it('the same event delivered 10 times: one run, one .started, one .finished', async () => {
    const project = unique('proj');
    tier.keptn.setResource(
      { project, stage: 'dev', service: 'carts' },
      'job/config.yaml',
      configOf(taskYaml('once')),
      'commit-1',
    );
    const event = keptnEvent({ data: { project } });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => postStructured(tier.handler.url, event)),
    );
    assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([202]));
    assert.equal(
      new Set(answers.map((answer) => JSON.stringify(answer.body))).size,
      1,
      'every delivery got the same answer',
    );
    const runId = (answers[0]!.body.runs as { runId: string }[])[0]!.runId;
    assert.equal((await tier.cluster.jobsOfRun(runId)).length, 1);
    await waitForFinished(tier, runId);
    await new Promise((wake) => setTimeout(wake, 2000));
    const replies = tier.keptn.events.filter((recorded) => recorded.body.triggeredid === event.id);
    assert.deepEqual(
      replies.map((recorded) => recorded.body.type),
      ['sh.keptn.event.test.started', 'sh.keptn.event.test.finished'],
    );
  });

  void it('the sink down for several passes, then up: exactly one .finished', async () => {
    const { runId } = await accept(tier, configOf(taskYaml('outage')));
    tier.keptn.setDown(true);
    try {
      await waitFor('the Job to complete', async () =>
        (await tier.cluster.jobsOfRun(runId))[0]?.status?.completionTime === undefined ? undefined : true,
      );
      // Several one-second passes fail to deliver meanwhile.
      await new Promise((wake) => setTimeout(wake, 4000));
      assert.equal(finishedOf(tier, runId).length, 0);
    } finally {
      tier.keptn.setDown(false);
    }
    await waitForFinished(tier, runId);
    await new Promise((wake) => setTimeout(wake, 2000));
    assert.equal(finishedOf(tier, runId).length, 1);
  });

  void it('two reconcilers racing: exactly one .finished per run', async () => {
    const second = startWatchReconciler(reconcilerEnv(tier, 'watch-b'));
    try {
      const runs = await Promise.all([1, 2, 3].map(() => accept(tier, configOf(taskYaml('raced')))));
      for (const { runId } of runs) await waitForFinished(tier, runId);
      await new Promise((wake) => setTimeout(wake, 3000));
      for (const { runId } of runs) assert.equal(finishedOf(tier, runId).length, 1);
    } finally {
      await second.stop();
    }
  });

  void it('the reconciler killed between claim and send, then restarted: exactly one .finished, same id', async () => {
    for (const reconciler of tier.reconcilers.splice(0)) await reconciler.stop();
    const { runId, event } = await accept(tier, configOf(taskYaml('crash')));
    await waitFor('the .started', async () =>
      tier.keptn.events.some((recorded) => recorded.body.triggeredid === event.id) ? true : undefined,
    );
    tier.keptn.holdEvents(true);
    const doomed = startWatchReconciler(reconcilerEnv(tier, 'doomed'));
    try {
      await waitFor(
        'the doomed reconciler to send (held by the fake)',
        async () => {
          const [anchor] = await tier.cluster.jobsOfRun(runId);
          return anchor?.metadata?.annotations?.[Annotations.finishClaim]?.startsWith('doomed@') === true &&
            tier.keptn.heldEvents > 0
            ? true
            : undefined;
        },
        TIMEOUT,
      );
    } catch (error) {
      throw new Error(`${String(error)}; doomed output: ${doomed.output().slice(-3000)}`);
    } finally {
      await doomed.stop('SIGKILL');
      // Let the server see the dead connection before the parked request is looked at.
      await new Promise((wake) => setTimeout(wake, 500));
      tier.keptn.holdEvents(false);
    }
    assert.equal(finishedOf(tier, runId).length, 0, 'the killed process delivered nothing');
    tier.reconcilers.push(startWatchReconciler(reconcilerEnv(tier, 'restarted')));
    await waitForFinished(tier, runId);
    await new Promise((wake) => setTimeout(wake, 2000));
    assert.equal(finishedOf(tier, runId).length, 1);
    assert.equal(finishedOf(tier, runId)[0]!.originalId, deterministicId(`${runId}/finished`));
  });

  void it('`jes reconcile --once` (the CronJob mode) resumes and finishes a run, one pass per invocation', async () => {
    for (const reconciler of tier.reconcilers.splice(0)) await reconciler.stop();
    try {
      const { runId } = await accept(tier, configOf(taskYaml('first') + taskYaml('second')));
      const once = async () => {
        const { stderr } = await execFileAsync(process.execPath, ['dist/cli.js', 'reconcile', '--once'], {
          cwd: root,
          env: { PATH: process.env.PATH ?? '', ...reconcilerEnv(tier, 'cronjob') },
        });
        return stderr;
      };
      await waitFor(
        'a pass that leaves the run finished',
        async () => {
          await once();
          return finishedOf(tier, runId).length > 0 ? true : undefined;
        },
        TIMEOUT,
      );
      const data = finishedOf(tier, runId)[0]!.body.data as Record<string, unknown>;
      assert.equal(data.status, 'succeeded');
      assert.match(
        String(data.message),
        /Task 'first' finished successfully[\s\S]*Task 'second' finished successfully/,
      );
    } finally {
      tier.reconcilers.push(startWatchReconciler(reconcilerEnv(tier, 'watch-d')));
    }
  });

  void it('the reconciler function (PingSource path) reconciles with its own ServiceAccount', async () => {
    for (const reconciler of tier.reconcilers.splice(0)) await reconciler.stop();
    const fn = await startFunction('reconciler', reconcilerEnv(tier, 'knative'));
    try {
      const { runId } = await accept(tier, configOf(taskYaml('pinged')));
      await waitFor('the Job to complete', async () =>
        (await tier.cluster.jobsOfRun(runId))[0]?.status?.completionTime === undefined ? undefined : true,
      );
      // As a PingSource would, but every second: a pass may lose its claim to a concurrent Job update and retry.
      const ping = async () =>
        fetch(fn.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'ce-specversion': '1.0',
            'ce-id': unique('ping'),
            'ce-source': 'pingsource',
            'ce-type': 'dev.knative.sources.ping',
          },
          body: '{}',
        });
      const first = await ping();
      assert.equal(first.status, 200, await first.text());
      await waitFor(
        `the .finished of run ${runId} (reconciler output: ${fn.output().slice(-2000)})`,
        async () => {
          if (finishedOf(tier, runId).length > 0) return true;
          await ping();
          return undefined;
        },
        TIMEOUT,
      );
    } finally {
      await fn.stop();
      tier.reconcilers.push(startWatchReconciler(reconcilerEnv(tier, 'watch-c')));
    }
  });
});

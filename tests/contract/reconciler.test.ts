import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { V1Job } from '@kubernetes/client-node';
import { buildReconcilerApp } from '../../functions/reconciler/app.js';
import type { EventSink } from '../../lib/events/sink.js';
import { Annotations, Labels, REPORT_FINALIZER } from '../../lib/jobs/contract.js';
import { deterministicId } from '../../lib/keptn/replies.js';
import { createLogger } from '../../lib/log/index.js';
import { createReconciler, type Reconciler } from '../../lib/reconcile/runner.js';
import { createEventSink } from '../../lib/runtime/dependencies.js';
import { loadSettings, type Settings } from '../../lib/settings/index.js';
import { createFakeJobClient, type FakeJobClient } from '../fakes/job-client.js';
import { startFakeKeptnApi, type FakeKeptnApi } from '../fakes/keptn-api.js';
import { keptnEvent, unique } from '../helpers/factories.js';
import { postStructured, startHandler, type RunningHandler } from '../helpers/handler.js';
import { endJob, runningJob } from '../helpers/job-controller.js';

const THREE_TASKS = `apiVersion: v2
actions:
  - name: three steps
    events: [{ name: sh.keptn.event.test.triggered }]
    tasks:
      - { name: first, image: busybox:1.36 }
      - { name: second, image: busybox:1.36 }
      - { name: third, image: busybox:1.36 }
`;

const ONE_TASK = `apiVersion: v2
actions:
  - name: one step
    events: [{ name: sh.keptn.event.test.triggered }]
    tasks:
      - { name: first, image: busybox:1.36 }
`;

interface World {
  keptn: FakeKeptnApi;
  jobs: FakeJobClient;
  handler: RunningHandler;
  clock: { now: Date };
}

function reconcilerSettings(keptn: FakeKeptnApi, id: string): Settings {
  return loadSettings(
    {
      KEPTN_API_URL: keptn.apiUrl,
      KEPTN_API_TOKEN: keptn.token,
      KEPTN_API_RETRIES: '0',
      JOB_NAMESPACE: 'jobs',
      LOG_LEVEL: 'silent',
      RECONCILER_ID: id,
    },
    { needsConfigSource: false },
  );
}

function reconcilerFor(world: World, id = 'reconciler-a', sink?: EventSink): Reconciler {
  const settings = reconcilerSettings(world.keptn, id);
  const log = createLogger('silent', id);
  return createReconciler({
    settings,
    jobs: world.jobs,
    sink: sink ?? createEventSink(settings, log),
    log,
    now: () => world.clock.now,
  });
}

/** A run accepted by the real handler over loopback; returns its run id. */
async function acceptRun(world: World, config = THREE_TASKS): Promise<string> {
  const project = unique('proj');
  world.keptn.setResource({ project, stage: 'dev', service: 'carts' }, 'job/config.yaml', config, 'commit-1');
  const answer = await postStructured(world.handler.url, keptnEvent({ data: { project } }));
  assert.equal(answer.status, 202);
  return (answer.body.runs as { runId: string }[])[0]!.runId;
}

function finishedFor(world: World, runId: string) {
  return world.keptn
    .eventsOfType('sh.keptn.event.test.finished')
    .filter((event) => event.body.id === deterministicId(`${runId}/finished`));
}

function jobsOf(world: World, runId: string): V1Job[] {
  return world.jobs.allJobs().filter((job) => job.metadata?.labels?.[Labels.run] === runId);
}

void describe('reconciler contract (fake Kubernetes behind JobClient, fake Keptn API over loopback)', () => {
  let world: World;
  before(async () => {
    const keptn = await startFakeKeptnApi();
    const jobs = createFakeJobClient();
    world = { keptn, jobs, handler: await startHandler(keptn, jobs), clock: { now: new Date() } };
  });
  after(async () => {
    await world.handler.close();
    await world.keptn.close();
  });

  void it('runs a 3-task run in order and ends it with one .started and one .finished', async () => {
    const runId = await acceptRun(world);
    const reconciler = reconcilerFor(world);
    for (const name of ['first', 'second', 'third']) {
      const job = runningJob(world.jobs, runId);
      assert.equal(job?.metadata?.annotations?.[Annotations.task], name);
      assert.ok(job);
      endJob(world.jobs, job, { kind: 'succeeded', log: `log of ${name}\n` }, world.clock.now);
      await reconciler.pass();
    }
    await reconciler.pass();
    const events = world.keptn.events.filter(
      (event) => event.body.triggeredid !== undefined && String(event.body.id).length > 0,
    );
    const ours = events.filter((event) =>
      [deterministicId(`${runId}/started`), deterministicId(`${runId}/finished`)].includes(
        String(event.body.id),
      ),
    );
    assert.deepEqual(
      ours.map((event) => event.body.type),
      ['sh.keptn.event.test.started', 'sh.keptn.event.test.finished'],
    );
    const data = ours[1]!.body.data as Record<string, unknown>;
    assert.equal(data.status, 'succeeded');
    assert.equal(data.result, 'pass');
    assert.match(
      String(data.message),
      /Task 'first' finished successfully[\s\S]*log of first[\s\S]*log of second[\s\S]*log of third/,
    );
    const test = data.test as { start: string; end: string; gitCommit: string };
    assert.ok(Date.parse(test.start) <= Date.parse(test.end));
    assert.equal(test.gitCommit, 'commit-1');
    assert.equal((data.jobExecutor as { tasks: unknown[] }).tasks.length, 3);
    for (const job of jobsOf(world, runId)) {
      const { labels, finalizers } = job.metadata ?? {};
      assert.equal(labels?.[Labels.state], 'done');
      assert.ok(!(finalizers ?? []).includes(REPORT_FINALIZER));
    }
    assert.deepEqual(world.keptn.rejectedEvents, []);
  });

  void it('fails the run when task 2 fails: errored .finished with its log, task 3 never started', async () => {
    const runId = await acceptRun(world);
    const reconciler = reconcilerFor(world);
    endJob(world.jobs, runningJob(world.jobs, runId)!, { kind: 'succeeded', log: 'ok\n' }, world.clock.now);
    await reconciler.pass();
    endJob(
      world.jobs,
      runningJob(world.jobs, runId)!,
      { kind: 'failed', exitCode: 3, log: 'boom: exit 3\n' },
      world.clock.now,
    );
    await reconciler.pass();
    const [finished] = finishedFor(world, runId);
    const data = finished!.body.data as Record<string, unknown>;
    assert.equal(data.status, 'errored');
    assert.equal(data.result, 'fail');
    assert.match(String(data.message), /Task 'second' failed[\s\S]*boom: exit 3/);
    assert.match(String(data.message), /Task 'third' was not run/);
    const third = jobsOf(world, runId).find(
      (job) => job.metadata?.annotations?.[Annotations.task] === 'third',
    );
    assert.ok(third === undefined || third.metadata?.deletionTimestamp !== undefined);
  });

  void it('sink down for several passes then up: exactly one .finished', async () => {
    const runId = await acceptRun(world, ONE_TASK);
    const reconciler = reconcilerFor(world);
    endJob(world.jobs, runningJob(world.jobs, runId)!, { kind: 'succeeded' }, world.clock.now);
    world.keptn.setDown(true);
    for (let pass = 0; pass < 3; pass += 1) await reconciler.pass();
    world.keptn.setDown(false);
    assert.equal(finishedFor(world, runId).length, 0);
    assert.equal(jobsOf(world, runId)[0]?.metadata?.annotations?.[Annotations.finishClaim], undefined);
    for (let pass = 0; pass < 3; pass += 1) await reconciler.pass();
    assert.equal(finishedFor(world, runId).length, 1);
  });

  void it('two reconcilers racing: exactly one .finished', async () => {
    const runId = await acceptRun(world, ONE_TASK);
    endJob(world.jobs, runningJob(world.jobs, runId)!, { kind: 'succeeded' }, world.clock.now);
    const a = reconcilerFor(world, 'reconciler-a');
    const b = reconcilerFor(world, 'reconciler-b');
    await Promise.all([a.pass(), b.pass(), a.pass(), b.pass()]);
    await Promise.all([a.pass(), b.pass()]);
    assert.equal(finishedFor(world, runId).length, 1);
  });

  void it('a process killed between claim and send: exactly one .finished after restart, with the same id', async () => {
    const runId = await acceptRun(world, ONE_TASK);
    endJob(world.jobs, runningJob(world.jobs, runId)!, { kind: 'succeeded' }, world.clock.now);
    // The first process claims, then dies inside send (it never returns, never releases the claim).
    const dying = reconcilerFor(world, 'dies', {
      description: 'a sink in a dying process',
      send: () => new Promise<void>(() => undefined),
    });
    void dying.pass();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const anchor = jobsOf(world, runId).find((job) => job.metadata?.labels?.[Labels.taskIndex] === '0');
    assert.match(anchor?.metadata?.annotations?.[Annotations.finishClaim] ?? '', /^dies@/);
    const restarted = reconcilerFor(world, 'restarted');
    await restarted.pass();
    assert.equal(finishedFor(world, runId).length, 0, 'a live claim is respected');
    world.clock.now = new Date(world.clock.now.getTime() + 121_000);
    await restarted.pass();
    await restarted.pass();
    assert.equal(finishedFor(world, runId).length, 1);
    assert.equal(finishedFor(world, runId)[0]!.originalId, deterministicId(`${runId}/finished`));
  });

  void it('a 10 MB log: the .finished stays within 64 KB, keeps the tail and marks the truncation', async () => {
    const runId = await acceptRun(world, ONE_TASK);
    const big = `${'x'.repeat(99)}\n`.repeat(100_000) + 'THE LAST LINE\n';
    endJob(world.jobs, runningJob(world.jobs, runId)!, { kind: 'succeeded', log: big }, world.clock.now);
    await reconcilerFor(world).pass();
    const [finished] = finishedFor(world, runId);
    assert.ok(finished, 'the .finished was accepted by the (fake) Keptn API');
    const size = Buffer.byteLength(JSON.stringify(finished.body));
    assert.ok(size <= 64 * 1024, `event is ${size} bytes`);
    const message = String((finished.body.data as Record<string, unknown>).message);
    assert.match(message, /THE LAST LINE/);
    assert.match(message, /truncated:/);
  });

  void it('fails fast when an image can never be pulled: errored with the reason, stuck and suspended Jobs removed', async () => {
    const runId = await acceptRun(world);
    endJob(world.jobs, runningJob(world.jobs, runId)!, { kind: 'imagePull' }, world.clock.now);
    const reconciler = reconcilerFor(world);
    await reconciler.pass();
    assert.equal(finishedFor(world, runId).length, 0, 'within the grace period nothing happens');
    world.clock.now = new Date(world.clock.now.getTime() + 121_000);
    await reconciler.pass();
    const [finished] = finishedFor(world, runId);
    assert.match(
      String((finished!.body.data as Record<string, unknown>).message),
      /can never start: container task: ErrImagePull/,
    );
    for (const job of jobsOf(world, runId))
      assert.ok(
        job.metadata?.deletionTimestamp !== undefined || job.metadata?.labels?.[Labels.state] === 'done',
      );
    assert.equal(jobsOf(world, runId).length, 0);
  });

  void it('reports a timed-out task as errored with the reason', async () => {
    const runId = await acceptRun(world, ONE_TASK);
    endJob(world.jobs, runningJob(world.jobs, runId)!, { kind: 'deadline' }, world.clock.now);
    await reconcilerFor(world).pass();
    const data = finishedFor(world, runId)[0]!.body.data as Record<string, unknown>;
    assert.equal(data.status, 'errored');
    assert.match(String(data.message), /timed out after 300s/);
  });

  void it('merges a task’s JSON termination message into the .finished data under the task name', async () => {
    const runId = await acceptRun(world, ONE_TASK);
    endJob(
      world.jobs,
      runningJob(world.jobs, runId)!,
      { kind: 'succeeded', terminationMessage: '{"passed": 12, "failed": 0}' },
      world.clock.now,
    );
    await reconcilerFor(world).pass();
    const data = finishedFor(world, runId)[0]!.body.data as Record<string, unknown>;
    assert.deepEqual(data.first, { passed: 12, failed: 0 });
  });

  void it('keeps a Job deleted by its TTL until it is reported (finalizer), then lets it go', async () => {
    const runId = await acceptRun(world, ONE_TASK);
    const job = runningJob(world.jobs, runId)!;
    endJob(world.jobs, job, { kind: 'succeeded' }, world.clock.now);
    await world.jobs.deleteJob('jobs', job.metadata!.name!);
    assert.ok(
      world.jobs.job('jobs', job.metadata!.name!)?.metadata?.deletionTimestamp,
      'still there, being deleted',
    );
    await reconcilerFor(world).pass();
    assert.equal(finishedFor(world, runId).length, 1);
    assert.equal(world.jobs.job('jobs', job.metadata!.name!), undefined);
  });

  void it('the function: a PingSource event runs a pass; an ApiServerSource event about a managed Job runs that run', async () => {
    const runId = await acceptRun(world, ONE_TASK);
    const job = runningJob(world.jobs, runId)!;
    endJob(world.jobs, job, { kind: 'succeeded' }, world.clock.now);
    const settings = reconcilerSettings(world.keptn, 'fn');
    const log = createLogger('silent', 'fn');
    const app = buildReconcilerApp({
      log,
      reconciler: reconcilerFor(world, 'fn'),
      jobs: world.jobs,
      managedBy: settings.jobs.managedBy,
      namespace: 'jobs',
    });
    try {
      const apiserver = await app.inject({
        method: 'POST',
        url: '/',
        headers: {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': unique('ev'),
          'ce-source': 'apiserver',
          'ce-type': 'dev.knative.apiserver.resource.update',
        },
        payload: JSON.stringify(world.jobs.job('jobs', job.metadata!.name!)),
      });
      assert.equal(apiserver.statusCode, 200);
      assert.equal(apiserver.json<{ runId: string }>().runId, runId);
      assert.equal(finishedFor(world, runId).length, 1);
      const ping = await app.inject({
        method: 'POST',
        url: '/',
        headers: {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': unique('ping'),
          'ce-source': 'ping',
          'ce-type': 'dev.knative.sources.ping',
        },
        payload: '{}',
      });
      assert.equal(ping.statusCode, 200);
      const other = await app.inject({
        method: 'POST',
        url: '/',
        headers: {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': unique('x'),
          'ce-source': 'x',
          'ce-type': 'com.example.other',
        },
        payload: '{}',
      });
      assert.equal(other.statusCode, 400);
    } finally {
      await app.close();
    }
  });
});

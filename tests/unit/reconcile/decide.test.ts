import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, type DecideLimits } from '../../../lib/reconcile/decide.js';
import type { RunSnapshot, TaskSnapshot } from '../../../lib/reconcile/snapshot.js';

const NOW = new Date('2026-12-03T12:00:00.000Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

const LIMITS: DecideLimits = {
  claimTimeoutMs: 120_000,
  startedGraceMs: 30_000,
  blockedGraceMs: { image: 120_000, config: 60_000, schedule: 300_000, create: 60_000 },
  incompleteGraceMs: 600_000,
};

function taskOf(index: number, overrides: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return {
    index,
    name: `task-${index}`,
    image: 'busybox:1.36',
    namespace: 'jobs',
    jobName: `jes-a-0123456789abcdef-0-${index}`,
    phase: index === 0 ? 'running' : 'suspended',
    failure: undefined,
    blocker: undefined,
    startedAt: undefined,
    finishedAt: undefined,
    timeoutSeconds: 300,
    ...overrides,
  };
}

function runOf(tasks: TaskSnapshot[], overrides: Partial<RunSnapshot> = {}): RunSnapshot {
  return {
    runId: '0123456789abcdef-0',
    envelope: {
      id: 'event-1',
      type: 'sh.keptn.event.test.triggered',
      source: 'shipyard-controller',
      replyTypePrefix: 'sh.keptn.event.test',
      shkeptncontext: 'ctx',
      gitcommitid: 'c1',
      project: 'p',
      stage: 'dev',
      service: 's',
      labels: {},
    },
    config: { hash: 'h', origin: 'o', commit: 'c1' },
    action: 'a',
    silent: false,
    taskCount: tasks.length,
    createdAt: ago(600),
    anchor: { namespace: 'jobs', name: tasks[0]?.jobName ?? '', resourceVersion: '7' },
    started: 'sent',
    claim: undefined,
    reported: undefined,
    tasks,
    ...overrides,
  };
}

const done = (index: number) =>
  taskOf(index, { phase: 'succeeded', startedAt: ago(100), finishedAt: ago(50) });

void describe('decide()', () => {
  void it('finishes a 1-task run that succeeded, sending the .finished', () => {
    assert.deepEqual(decide(runOf([done(0)]), NOW, LIMITS), [
      {
        kind: 'finish',
        cause: 'succeeded',
        task: undefined,
        reason: 'all tasks succeeded',
        send: true,
        deleteTasks: [],
      },
    ]);
  });

  void it('finishes an n-task run only when every task succeeded', () => {
    assert.equal(decide(runOf([done(0), done(1), done(2)]), NOW, LIMITS)[0]?.kind, 'finish');
    assert.deepEqual(decide(runOf([done(0), done(1), taskOf(2, { phase: 'running' })]), NOW, LIMITS), []);
  });

  void it('resumes the next suspended task after the previous one completed, one at a time', () => {
    assert.deepEqual(decide(runOf([done(0), taskOf(1), taskOf(2)]), NOW, LIMITS), [
      { kind: 'resume', task: 1 },
    ]);
    assert.deepEqual(decide(runOf([done(0), done(1), taskOf(2)]), NOW, LIMITS), [
      { kind: 'resume', task: 2 },
    ]);
  });

  void it('waits while task 0 runs (later tasks stay suspended)', () => {
    assert.deepEqual(decide(runOf([taskOf(0), taskOf(1)]), NOW, LIMITS), []);
  });

  void it('fails the run when task k fails; later tasks are deleted and never run', () => {
    const failed = taskOf(1, {
      phase: 'failed',
      failure: { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
    });
    const [action] = decide(runOf([done(0), failed, taskOf(2), taskOf(3)]), NOW, LIMITS);
    assert.ok(action?.kind === 'finish');
    assert.equal(action.cause, 'failed');
    assert.equal(action.task, 1);
    assert.deepEqual(action.deleteTasks, [2, 3]);
    assert.match(
      action.reason,
      /task 'task-1' failed \(BackoffLimitExceeded: Job has reached the specified backoff limit\)/,
    );
  });

  void it('reports a timeout (DeadlineExceeded) with the timeout in the reason', () => {
    const timedOut = taskOf(0, {
      phase: 'failed',
      failure: { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' },
      timeoutSeconds: 5,
    });
    const [action] = decide(runOf([timedOut, taskOf(1)]), NOW, LIMITS);
    assert.ok(action?.kind === 'finish');
    assert.equal(action.cause, 'timedOut');
    assert.match(action.reason, /timed out after 5s/);
    assert.deepEqual(action.deleteTasks, [1]);
  });

  const blockers = [
    ['image', 'ErrImagePull', 120],
    ['config', 'CreateContainerConfigError', 60],
    ['schedule', 'Unschedulable', 300],
    ['create', 'FailedCreate', 60],
  ] as const;
  for (const [kind, reason, graceSeconds] of blockers) {
    void it(`fails fast on ${reason} only after its grace period (${graceSeconds}s), deleting the stuck Job and the rest`, () => {
      const blocked = (since: number) =>
        taskOf(1, {
          phase: 'pending',
          blocker: { kind, reason, message: `container task: ${reason}`, since: ago(since) },
        });
      assert.deepEqual(decide(runOf([done(0), blocked(graceSeconds - 1), taskOf(2)]), NOW, LIMITS), []);
      const [action] = decide(runOf([done(0), blocked(graceSeconds), taskOf(2)]), NOW, LIMITS);
      assert.ok(action?.kind === 'finish');
      assert.equal(action.cause, 'blocked');
      assert.deepEqual(action.deleteTasks, [1, 2]);
      assert.match(action.reason, new RegExp(`can never start: container task: ${reason}`));
    });
  }

  void it('sends a missing .started after the grace period, before the .finished', () => {
    const kinds = decide(runOf([done(0)], { started: 'required', createdAt: ago(31) }), NOW, LIMITS).map(
      (action) => action.kind,
    );
    assert.deepEqual(kinds, ['sendStarted', 'finish']);
  });

  void it('waits for a .started being sent (claimed), and takes over a stale claim', () => {
    const sending = (seconds: number) => runOf([done(0)], { started: `sending@${ago(seconds)}` });
    assert.deepEqual(decide(sending(10), NOW, LIMITS), []);
    assert.deepEqual(
      decide(sending(121), NOW, LIMITS).map((action) => action.kind),
      ['sendStarted', 'finish'],
    );
  });

  void it('never finishes while the intake may still be sending .started', () => {
    assert.deepEqual(decide(runOf([done(0)], { started: 'required', createdAt: ago(5) }), NOW, LIMITS), []);
  });

  void it('leaves a run with a live claim alone, and takes over a stale one', () => {
    const live = runOf([done(0)], { claim: { by: 'other', at: ago(119) } });
    assert.deepEqual(decide(live, NOW, LIMITS), []);
    const stale = runOf([done(0)], { claim: { by: 'other', at: ago(121) } });
    assert.equal(decide(stale, NOW, LIMITS)[0]?.kind, 'finish');
  });

  void it('only marks a run reported once it was reported (no second .finished)', () => {
    assert.deepEqual(
      decide(runOf([done(0)], { reported: ago(10), claim: { by: 'me', at: ago(11) } }), NOW, LIMITS),
      [{ kind: 'markReported' }],
    );
  });

  void it('finishes silent runs and events that get no reply without sending', () => {
    const [silent] = decide(runOf([done(0)], { silent: true, started: 'none' }), NOW, LIMITS);
    assert.ok(silent?.kind === 'finish');
    assert.equal(silent.send, false);
    const noReply = runOf([done(0)]);
    const [action] = decide(
      { ...noReply, envelope: { ...noReply.envelope, replyTypePrefix: undefined } },
      NOW,
      LIMITS,
    );
    assert.ok(action?.kind === 'finish');
    assert.equal(action.send, false);
  });

  void it('fails a run whose intake stopped half-way only after the incomplete grace', () => {
    const missing = taskOf(0, { phase: 'missing', jobName: '' });
    assert.deepEqual(decide(runOf([missing, taskOf(1)], { createdAt: ago(60) }), NOW, LIMITS), []);
    const [action] = decide(runOf([missing, taskOf(1)], { createdAt: ago(601) }), NOW, LIMITS);
    assert.ok(action?.kind === 'finish');
    assert.equal(action.cause, 'incomplete');
    assert.deepEqual(action.deleteTasks, [1]);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FinishAction } from '../../../lib/reconcile/report.js';
import { buildFinished, cleanLog, tail } from '../../../lib/reconcile/report.js';
import type { RunSnapshot, TaskSnapshot } from '../../../lib/reconcile/snapshot.js';

const NOW = new Date('2026-12-03T12:00:00.000Z');

function task(index: number, phase: TaskSnapshot['phase']): TaskSnapshot {
  return {
    index,
    name: `t${index}`,
    image: 'busybox',
    namespace: 'jobs',
    jobName: `job-${index}`,
    phase,
    failure: undefined,
    blocker: undefined,
    startedAt: '2026-12-03T11:59:00.000Z',
    finishedAt: '2026-12-03T11:59:30.000Z',
    timeoutSeconds: 60,
  };
}

function run(tasks: TaskSnapshot[], prefix = 'sh.keptn.event.test'): RunSnapshot {
  return {
    runId: 'r-0',
    envelope: {
      id: 'e1',
      type: `${prefix}.triggered`,
      source: 's',
      replyTypePrefix: prefix,
      shkeptncontext: 'ctx',
      gitcommitid: 'c1',
      project: 'p',
      stage: 'dev',
      service: 'svc',
      labels: {},
    },
    config: { hash: 'h', origin: 'o', commit: 'c1' },
    action: 'a',
    silent: false,
    taskCount: tasks.length,
    createdAt: '2026-12-03T11:58:00.000Z',
    anchor: { namespace: 'jobs', name: 'job-0', resourceVersion: '1' },
    started: 'sent',
    claim: undefined,
    reported: undefined,
    tasks,
  };
}

const succeeded: FinishAction = {
  kind: 'finish',
  cause: 'succeeded',
  task: undefined,
  reason: 'all tasks succeeded',
  send: true,
  deleteTasks: [],
};

void describe('report', () => {
  void it('tail keeps the end, marks the cut and never splits a character', () => {
    assert.equal(tail('short', 100), 'short');
    const cut = tail(`${'é'.repeat(100)}END`, 11);
    assert.match(cut, /^\[… truncated: the first \d+ bytes of this log are left out …\]\n/);
    assert.ok(cut.endsWith('ééééEND'));
    assert.ok(!cut.includes('\uFFFD'));
  });

  void it('cleanLog strips colour codes and makes control characters visible', () => {
    assert.equal(cleanLog('\u001b[31mred\u001b[0m\u0007bell\nnext\tcol'), 'red\uFFFDbell\nnext\tcol');
  });

  void it('a succeeded run: succeeded/pass, test start/end, provenance, task outputs', () => {
    const event = buildFinished(
      run([task(0, 'succeeded')]),
      succeeded,
      [
        {
          index: 0,
          logs: [{ container: 'task', text: 'hello\n' }],
          events: [],
          terminationMessage: '{"passed":3}',
        },
      ],
      { now: NOW, maxBytes: 63_488 },
    );
    assert.equal(event.type, 'sh.keptn.event.test.finished');
    assert.equal(event.triggeredid, 'e1');
    assert.equal(event.data.status, 'succeeded');
    assert.equal(event.data.result, 'pass');
    assert.deepEqual(event.data.test, {
      start: '2026-12-03T11:59:00.000Z',
      end: '2026-12-03T11:59:30.000Z',
      gitCommit: 'c1',
    });
    assert.deepEqual(event.data.t0, { passed: 3 });
    assert.match(
      String(event.data.message),
      /Task 't0' finished successfully\.\n\nLogs of container task:\nhello/,
    );
  });

  void it('no test data for other tasks; outputs that are not JSON objects are ignored', () => {
    const event = buildFinished(
      run([task(0, 'succeeded')], 'sh.keptn.event.deployment'),
      succeeded,
      [{ index: 0, logs: [], events: [], terminationMessage: 'plain text' }],
      { now: NOW, maxBytes: 63_488 },
    );
    assert.equal(event.data.test, undefined);
    assert.equal(event.data.t0, undefined);
  });

  void it('a failed run: errored/fail, the failing task explained, the rest not run', () => {
    const failed: FinishAction = {
      kind: 'finish',
      cause: 'failed',
      task: 1,
      reason: "task 't1' failed (BackoffLimitExceeded)",
      send: true,
      deleteTasks: [2],
    };
    const event = buildFinished(
      run([task(0, 'succeeded'), task(1, 'failed'), task(2, 'suspended')]),
      failed,
      [
        {
          index: 1,
          logs: [],
          events: ['Pod p: BackOff: back-off restarting'],
          terminationMessage: undefined,
        },
      ],
      { now: NOW, maxBytes: 63_488 },
    );
    assert.equal(event.data.status, 'errored');
    assert.equal(event.data.result, 'fail');
    assert.match(
      String(event.data.message),
      /Task 't1' failed \(BackoffLimitExceeded\)\n\nKubernetes events:\nPod p: BackOff/,
    );
    assert.match(String(event.data.message), /Task 't2' was not run\./);
  });

  void it('stays within the byte budget with huge logs of several tasks, quotes and newlines included', () => {
    const huge = `${'"quoted" \\ line\n'.repeat(40_000)}LAST`;
    const outputs = [0, 1, 2].map((index) => ({
      index,
      logs: [{ container: 'task', text: huge }],
      events: [],
      terminationMessage: undefined,
    }));
    for (const maxBytes of [8_000, 20_000, 63_488]) {
      const event = buildFinished(
        run([task(0, 'succeeded'), task(1, 'succeeded'), task(2, 'succeeded')]),
        succeeded,
        outputs,
        { now: NOW, maxBytes },
      );
      const size = Buffer.byteLength(JSON.stringify(event));
      assert.ok(size <= maxBytes, `${size} > ${maxBytes}`);
      assert.equal(String(event.data.message).match(/LAST/g)?.length, 3);
    }
  });
});

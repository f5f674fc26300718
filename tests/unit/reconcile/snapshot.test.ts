import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CoreV1Event, V1Job, V1Pod } from '@kubernetes/client-node';
import { Annotations, Labels } from '../../../lib/jobs/contract.js';
import { runSnapshot, type PodInfo } from '../../../lib/reconcile/snapshot.js';

const CREATED = new Date('2026-12-03T10:00:00.000Z');

function job(index: number, overrides: Partial<V1Job> = {}): V1Job {
  return {
    metadata: {
      name: `job-${index}`,
      namespace: 'jobs',
      resourceVersion: String(10 + index),
      labels: { [Labels.run]: 'run-1', [Labels.taskIndex]: String(index) },
      annotations: {
        [Annotations.task]: `task-${index}`,
        [Annotations.taskCount]: '2',
        [Annotations.image]: 'busybox',
        [Annotations.timeoutSeconds]: '60',
        [Annotations.reply]: JSON.stringify({ id: 'e1', replyTypePrefix: 'sh.keptn.event.test' }),
        [Annotations.config]: JSON.stringify({ hash: 'h', origin: 'o', commit: 'c' }),
        [Annotations.createdAt]: CREATED.toISOString(),
        ...(index === 0
          ? { [Annotations.started]: 'sent', [Annotations.finishClaim]: 'pod-a@2026-12-03T10:01:00.000Z' }
          : {}),
      },
    },
    spec: { suspend: index > 0, template: {} },
    ...overrides,
  };
}

function pod(status: V1Pod['status']): V1Pod {
  return { metadata: { name: 'pod', creationTimestamp: CREATED }, status };
}

function only(info: PodInfo, jobs = [job(0), job(1)]) {
  const snapshot = runSnapshot(jobs, new Map([['job-0', info]]));
  assert.ok(snapshot);
  return snapshot;
}

void describe('runSnapshot()', () => {
  void it('reads the run-level markers from task 0 and orders the tasks', () => {
    const snapshot = only({ pods: [], events: [] }, [job(1), job(0)]);
    assert.equal(snapshot.runId, 'run-1');
    assert.deepEqual(snapshot.anchor, { namespace: 'jobs', name: 'job-0', resourceVersion: '10' });
    assert.deepEqual(snapshot.claim, { by: 'pod-a', at: '2026-12-03T10:01:00.000Z' });
    assert.deepEqual(
      snapshot.tasks.map((task) => [task.name, task.phase]),
      [
        ['task-0', 'pending'],
        ['task-1', 'suspended'],
      ],
    );
  });

  void it('marks a task of the run whose Job is missing', () => {
    const snapshot = runSnapshot([job(1)], new Map());
    assert.deepEqual(
      snapshot?.tasks.map((task) => task.phase),
      ['missing', 'suspended'],
    );
    assert.equal(snapshot.anchor.name, 'job-1');
  });

  const conditions: [string, string, string][] = [
    ['Complete', '', 'succeeded'],
    ['SuccessCriteriaMet', '', 'succeeded'],
    ['Failed', 'BackoffLimitExceeded', 'failed'],
    ['FailureTarget', 'DeadlineExceeded', 'failed'],
  ];
  for (const [type, reason, phase] of conditions) {
    void it(`a Job condition ${type} is ${phase}`, () => {
      const done = job(0, { status: { conditions: [{ type, status: 'True', reason }] } });
      const [task] = only({ pods: [], events: [] }, [done, job(1)]).tasks;
      assert.equal(task?.phase, phase);
      if (phase === 'failed') assert.equal(task.failure?.reason, reason);
    });
  }

  const waiting: [string, string][] = [
    ['ErrImagePull', 'image'],
    ['ImagePullBackOff', 'image'],
    ['InvalidImageName', 'image'],
    ['CreateContainerConfigError', 'config'],
  ];
  for (const [reason, kind] of waiting) {
    void it(`a container waiting with ${reason} is a ${kind} blocker`, () => {
      const status = {
        containerStatuses: [
          {
            name: 'task',
            image: '',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason, message: 'why' } },
          },
        ],
      };
      const [task] = only({ pods: [pod(status)], events: [] }).tasks;
      assert.deepEqual(task?.blocker, {
        reason,
        message: `container task: ${reason} (why)`,
        since: CREATED.toISOString(),
        kind,
      });
    });
  }

  void it('an unschedulable pod is a schedule blocker since the condition changed', () => {
    const since = new Date('2026-12-03T10:00:05.000Z');
    const status = {
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/1 nodes are available',
          lastTransitionTime: since,
        },
      ],
    };
    const [task] = only({ pods: [pod(status)], events: [] }).tasks;
    assert.deepEqual(task?.blocker, {
      reason: 'Unschedulable',
      message: '0/1 nodes are available',
      since: since.toISOString(),
      kind: 'schedule',
    });
  });

  void it('a FailedCreate event on a Job without pods is a create blocker (missing ServiceAccount, admission denied)', () => {
    const event: CoreV1Event = {
      metadata: {},
      involvedObject: { kind: 'Job', name: 'job-0' },
      reason: 'FailedCreate',
      message:
        'Error creating: pods "x" is forbidden: error looking up service account jobs/nope: serviceaccount "nope" not found',
      firstTimestamp: CREATED,
    };
    const [task] = only({ pods: [], events: [event] }).tasks;
    assert.equal(task?.blocker?.kind, 'create');
    assert.match(task.blocker.message, /serviceaccount "nope" not found/);
  });

  void it('a running pod without problems has no blocker', () => {
    const running = job(0, { status: { active: 1 } });
    const [task] = only({ pods: [pod({ phase: 'Running' })], events: [] }, [running, job(1)]).tasks;
    assert.equal(task?.phase, 'running');
    assert.equal(task.blocker, undefined);
  });
});

import type { V1Job, V1JobStatus, V1Pod } from '@kubernetes/client-node';
import { Labels } from '../../lib/jobs/contract.js';
import type { FakeJobClient } from '../fakes/job-client.js';

/**
 * Plays the Kubernetes Job controller and kubelet for the fake JobClient: gives a Job a pod with container states,
 * logs and a termination message, and writes the Job status the real controller would.
 */

export type Ending =
  | { readonly kind: 'succeeded'; readonly log?: string; readonly terminationMessage?: string }
  | { readonly kind: 'failed'; readonly exitCode: number; readonly log?: string }
  | { readonly kind: 'deadline' }
  | { readonly kind: 'imagePull' };

export function podFor(job: V1Job, ending: Ending, now: Date): V1Pod {
  const name = `${job.metadata?.name ?? ''}-pod`;
  const terminated =
    ending.kind === 'succeeded'
      ? { exitCode: 0, reason: 'Completed', message: ending.terminationMessage }
      : ending.kind === 'failed'
        ? { exitCode: ending.exitCode, reason: 'Error' }
        : undefined;
  const state =
    ending.kind === 'imagePull'
      ? { waiting: { reason: 'ErrImagePull', message: 'pull access denied for registry.invalid/nope' } }
      : terminated === undefined
        ? { running: { startedAt: now } }
        : { terminated };
  return {
    metadata: {
      name,
      namespace: job.metadata?.namespace ?? '',
      creationTimestamp: new Date(now.getTime() - 1000),
      labels: {
        [Labels.managedBy]: job.metadata?.labels?.[Labels.managedBy] ?? '',
        [Labels.run]: job.metadata?.labels?.[Labels.run] ?? '',
        'batch.kubernetes.io/job-name': job.metadata?.name ?? '',
      },
    },
    spec: { containers: [{ name: 'task' }] },
    status: {
      phase:
        ending.kind === 'succeeded'
          ? 'Succeeded'
          : ending.kind === 'failed'
            ? 'Failed'
            : ending.kind === 'imagePull'
              ? 'Pending'
              : 'Running',
      initContainerStatuses: [
        {
          name: 'init',
          image: 'jes',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: 0, reason: 'Completed' } },
        },
      ],
      containerStatuses: [{ name: 'task', image: '', imageID: '', ready: false, restartCount: 0, state }],
    },
  };
}

function failedStatus(startTime: Date, now: Date, reason: string, message: string): V1JobStatus {
  return {
    startTime,
    failed: 1,
    conditions: [{ type: 'Failed', status: 'True', reason, message, lastTransitionTime: now }],
  };
}

/** Ends the Job as the controller would, and records its pod and logs. */
export function endJob(fake: FakeJobClient, job: V1Job, ending: Ending, now = new Date()): void {
  const namespace = job.metadata?.namespace ?? '';
  const name = job.metadata?.name ?? '';
  const pod = podFor(job, ending, now);
  fake.pods.set(namespace, [
    ...(fake.pods.get(namespace) ?? []).filter((other) => other.metadata?.name !== pod.metadata?.name),
    pod,
  ]);
  if ('log' in ending && ending.log !== undefined)
    fake.logs.set(`${namespace}/${pod.metadata?.name ?? ''}/task`, ending.log);
  const startTime = new Date(now.getTime() - 2000);
  switch (ending.kind) {
    case 'succeeded':
      fake.setJobStatus(namespace, name, {
        startTime,
        completionTime: now,
        succeeded: 1,
        conditions: [{ type: 'Complete', status: 'True' }],
      });
      return;
    case 'failed':
      fake.setJobStatus(
        namespace,
        name,
        failedStatus(startTime, now, 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
      );
      return;
    case 'deadline':
      fake.setJobStatus(
        namespace,
        name,
        failedStatus(startTime, now, 'DeadlineExceeded', 'Job was active longer than specified deadline'),
      );
      return;
    case 'imagePull':
      fake.setJobStatus(namespace, name, { startTime, active: 1 });
      return;
  }
}

/** The run's Job that is currently not suspended and not finished (what the controller is running). */
export function runningJob(fake: FakeJobClient, runId: string): V1Job | undefined {
  return fake
    .allJobs()
    .filter((job) => job.metadata?.labels?.[Labels.run] === runId)
    .find((job) => job.spec?.suspend !== true && (job.status?.conditions ?? []).length === 0);
}

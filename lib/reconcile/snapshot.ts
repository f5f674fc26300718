import type { CoreV1Event, V1Job, V1Pod } from '@kubernetes/client-node';
import {
  Annotations,
  annotationOf,
  jobRef,
  Labels,
  labelOf,
  type ConfigProvenance,
  type ReplyEnvelope,
} from '../jobs/contract.js';

/**
 * A run as plain data, read from its Jobs (and, for tasks that have not finished, their pods and events): the input
 * of the pure `decide()`. Reading is pure too: Kubernetes objects in, snapshot out.
 */

export type TaskPhase = 'suspended' | 'pending' | 'running' | 'succeeded' | 'failed' | 'missing';

/** Why a task can never start (image pull, missing Secret, unschedulable, refused pod creation), since when. */
export interface Blocker {
  readonly reason: string;
  readonly message: string;
  readonly since: string;
  readonly kind: 'image' | 'config' | 'schedule' | 'create';
}

export interface TaskSnapshot {
  readonly index: number;
  readonly name: string;
  readonly image: string;
  readonly namespace: string;
  readonly jobName: string;
  readonly phase: TaskPhase;
  /** For failed tasks: the Job condition's reason (`DeadlineExceeded`, `BackoffLimitExceeded` …) and message. */
  readonly failure: { readonly reason: string; readonly message: string } | undefined;
  readonly blocker: Blocker | undefined;
  readonly startedAt: string | undefined;
  readonly finishedAt: string | undefined;
  readonly timeoutSeconds: number;
}

export interface RunSnapshot {
  readonly runId: string;
  readonly envelope: ReplyEnvelope;
  readonly config: ConfigProvenance;
  readonly action: string;
  readonly silent: boolean;
  readonly taskCount: number;
  readonly createdAt: string;
  /** The Job holding the run-level markers (task 0, or the lowest task present). */
  readonly anchor: { readonly namespace: string; readonly name: string; readonly resourceVersion: string };
  readonly started: string;
  readonly claim: { readonly by: string; readonly at: string } | undefined;
  readonly reported: string | undefined;
  /** Sorted by index, one per task of the run; tasks whose Job does not exist are `missing`. */
  readonly tasks: readonly TaskSnapshot[];
}

export interface PodInfo {
  readonly pods: readonly V1Pod[];
  readonly events: readonly CoreV1Event[];
}

export function runSnapshot(
  jobs: readonly V1Job[],
  podsByJob: ReadonlyMap<string, PodInfo>,
): RunSnapshot | undefined {
  const sorted = [...jobs].sort((a, b) => taskIndex(a) - taskIndex(b));
  const anchor = sorted[0];
  if (anchor === undefined) return undefined;
  const taskCount = Number(annotationOf(anchor, Annotations.taskCount) ?? sorted.length);
  const tasks: TaskSnapshot[] = [];
  for (let index = 0; index < taskCount; index += 1) {
    const job = sorted.find((candidate) => taskIndex(candidate) === index);
    tasks.push(
      job === undefined ? missingTask(index, anchor) : taskSnapshot(job, podsByJob.get(jobRef(job).name)),
    );
  }
  const claim = annotationOf(anchor, Annotations.finishClaim);
  return {
    runId: labelOf(anchor, Labels.run) ?? '',
    envelope: parseJson(annotationOf(anchor, Annotations.reply)) as ReplyEnvelope,
    config: parseJson(annotationOf(anchor, Annotations.config)) as ConfigProvenance,
    action: annotationOf(anchor, Annotations.action) ?? '',
    silent: annotationOf(anchor, Annotations.silent) === 'true',
    taskCount,
    createdAt: createdAtOf(anchor),
    anchor: { ...jobRef(anchor), resourceVersion: anchor.metadata?.resourceVersion ?? '' },
    started: annotationOf(anchor, Annotations.started) ?? 'none',
    claim: parseClaim(claim),
    reported: annotationOf(anchor, Annotations.reported),
    tasks,
  };
}

function createdAtOf(job: V1Job): string {
  return annotationOf(job, Annotations.createdAt) ?? job.metadata?.creationTimestamp?.toISOString() ?? '';
}

export function taskIndex(job: V1Job): number {
  return Number(labelOf(job, Labels.taskIndex) ?? 0);
}

function parseJson(text: string | undefined): unknown {
  return JSON.parse(text ?? '{}');
}

function parseClaim(value: string | undefined): RunSnapshot['claim'] {
  if (value === undefined || value === '') return undefined;
  const at = value.lastIndexOf('@');
  return { by: value.slice(0, at), at: value.slice(at + 1) };
}

function missingTask(index: number, anchor: V1Job): TaskSnapshot {
  return {
    index,
    name: `task ${index}`,
    image: '',
    namespace: anchor.metadata?.namespace ?? '',
    jobName: '',
    phase: 'missing',
    failure: undefined,
    blocker: undefined,
    startedAt: undefined,
    finishedAt: undefined,
    timeoutSeconds: 0,
  };
}

type Condition = NonNullable<NonNullable<V1Job['status']>['conditions']>[number];

function trueCondition(job: V1Job, ...types: string[]): Condition | undefined {
  const conditions = job.status?.conditions ?? [];
  return conditions.find((condition) => types.includes(condition.type) && condition.status === 'True');
}

function phaseOf(job: V1Job, info: PodInfo | undefined): TaskPhase {
  // FailureTarget/SuccessCriteriaMet come first on Kubernetes ≥ 1.31; the terminal condition follows later.
  if (trueCondition(job, 'Failed', 'FailureTarget')) return 'failed';
  if (trueCondition(job, 'Complete', 'SuccessCriteriaMet')) return 'succeeded';
  if (job.spec?.suspend === true) return 'suspended';
  const running = (info?.pods ?? []).some((pod) => pod.status?.phase === 'Running');
  return running ? 'running' : 'pending';
}

function taskSnapshot(job: V1Job, info: PodInfo | undefined): TaskSnapshot {
  const failed = trueCondition(job, 'Failed', 'FailureTarget');
  const phase = phaseOf(job, info);
  const ref = jobRef(job);
  const finishedAt = job.status?.completionTime ?? failed?.lastTransitionTime;
  const timeout =
    annotationOf(job, Annotations.timeoutSeconds) ?? String(job.spec?.activeDeadlineSeconds ?? 0);
  return {
    index: taskIndex(job),
    name: annotationOf(job, Annotations.task) ?? '',
    image: annotationOf(job, Annotations.image) ?? '',
    namespace: ref.namespace,
    jobName: ref.name,
    phase,
    failure: failed ? { reason: failed.reason ?? 'Failed', message: failed.message ?? '' } : undefined,
    blocker: phase === 'pending' || phase === 'running' ? findBlocker(job, info) : undefined,
    startedAt: job.status?.startTime?.toISOString(),
    finishedAt: finishedAt?.toISOString(),
    timeoutSeconds: Number(timeout),
  };
}

const IMAGE_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const CONFIG_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError']);

/** The first reason this task's pod cannot start, from container states, pod conditions and the Job's events. */
function findBlocker(job: V1Job, info: PodInfo | undefined): Blocker | undefined {
  for (const pod of info?.pods ?? []) {
    const blocker = containerBlocker(pod) ?? scheduleBlocker(pod);
    if (blocker !== undefined) return blocker;
  }
  return (info?.pods.length ?? 0) === 0 ? createBlocker(job, info?.events ?? []) : undefined;
}

function containerBlocker(pod: V1Pod): Blocker | undefined {
  const since = pod.metadata?.creationTimestamp?.toISOString() ?? '';
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const status of statuses) {
    const reason = status.state?.waiting?.reason ?? '';
    const kind = IMAGE_REASONS.has(reason) ? 'image' : CONFIG_REASONS.has(reason) ? 'config' : undefined;
    if (kind === undefined) continue;
    const detail = status.state?.waiting?.message;
    const message = `container ${status.name}: ${reason}${detail === undefined ? '' : ` (${detail})`}`;
    return { reason, message, since, kind };
  }
  return undefined;
}

function scheduleBlocker(pod: V1Pod): Blocker | undefined {
  const scheduled = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled');
  if (scheduled?.status !== 'False' || scheduled.reason !== 'Unschedulable') return undefined;
  const since = scheduled.lastTransitionTime ?? pod.metadata?.creationTimestamp ?? new Date(0);
  const message = scheduled.message ?? 'no node fits the pod';
  return { reason: 'Unschedulable', message, since: since.toISOString(), kind: 'schedule' };
}

/** The Job controller could not create the pod (missing ServiceAccount, admission denied, quota …). */
function createBlocker(job: V1Job, events: readonly CoreV1Event[]): Blocker | undefined {
  const failure = events.find((event) => event.reason === 'FailedCreate');
  if (failure === undefined) return undefined;
  const at = failure.firstTimestamp ?? failure.eventTime ?? job.metadata?.creationTimestamp ?? new Date(0);
  const message = failure.message ?? 'the pod could not be created';
  return { reason: 'FailedCreate', message, since: new Date(at).toISOString(), kind: 'create' };
}

import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isJesError, messageOf } from '../errors/index.js';
import type { EventSink } from '../events/sink.js';
import { Annotations, Labels, REPORT_FINALIZER, RunStates } from '../jobs/contract.js';
import type { JobClient } from '../k8s/job-client.js';
import { startedEvent } from '../keptn/replies.js';
import type { Settings } from '../settings/index.js';
import { decide, type Action } from './decide.js';
import { deliverStarted } from '../started/index.js';
import { buildFinished, type ContainerLog, type FinishAction, type TaskOutput } from './report.js';
import { runSnapshot, taskIndex, type PodInfo, type RunSnapshot } from './snapshot.js';

/**
 * The reconciler's thin I/O: list the unfinished runs (label selectors, never a scan of history), read each into a
 * snapshot, ask `decide()`, execute the actions. Exactly one `.finished` per run: claim (resourceVersion
 * precondition) → send (deterministic id) → mark reported. @see ../../docs/reconciler.md
 */

export interface ReconcileDeps {
  readonly settings: Pick<Settings, 'reconcile' | 'jobs'>;
  readonly jobs: JobClient;
  readonly sink: EventSink;
  readonly log: Logger;
  readonly now?: () => Date;
}

export interface PassSummary {
  readonly runs: number;
  readonly actions: Readonly<Record<string, number>>;
  readonly errors: number;
}

const MAX_EVENTS_PER_TASK = 20;

export function activeSelector(managedBy: string, extra = ''): string {
  return `${Labels.managedBy}=${managedBy},${Labels.state}=${RunStates.active}${extra}`;
}

/** One pass over every unfinished run. */
export async function reconcileAll(deps: ReconcileDeps): Promise<PassSummary> {
  const jobs = await listActive(deps, '');
  return reconcileJobs(deps, jobs);
}

/** The fast path: just the run a Job belongs to (an ApiServerSource or watch event). */
export async function reconcileRun(deps: ReconcileDeps, runId: string): Promise<PassSummary> {
  const jobs = await listActive(deps, `,${Labels.run}=${runId}`);
  return reconcileJobs(deps, jobs);
}

async function listActive(deps: ReconcileDeps, extra: string): Promise<V1Job[]> {
  const selector = activeSelector(deps.settings.jobs.managedBy, extra);
  const namespaces = deps.settings.reconcile.namespaces ?? [undefined];
  const lists = await Promise.all(namespaces.map((namespace) => deps.jobs.listJobs(namespace, selector)));
  return lists.flat();
}

async function reconcileJobs(deps: ReconcileDeps, jobs: readonly V1Job[]): Promise<PassSummary> {
  const runs = groupByRun(jobs);
  const pods = await podsOf(deps, jobs);
  const counts: Record<string, number> = {};
  let errors = 0;
  for (const runJobs of runs.values()) {
    try {
      for (const kind of await reconcileOne(deps, runJobs, pods)) counts[kind] = (counts[kind] ?? 0) + 1;
    } catch (error) {
      errors += 1;
      deps.log.warn(
        { runId: runJobs[0]?.metadata?.labels?.[Labels.run], err: messageOf(error) },
        'run not reconciled; next pass retries',
      );
    }
  }
  return { runs: runs.size, actions: counts, errors };
}

function groupByRun(jobs: readonly V1Job[]): Map<string, V1Job[]> {
  const runs = new Map<string, V1Job[]>();
  for (const job of jobs) {
    const run = job.metadata?.labels?.[Labels.run];
    if (run === undefined) continue;
    runs.set(run, [...(runs.get(run) ?? []), job]);
  }
  return runs;
}

/** Pods of the listed Jobs, one list call per namespace, keyed by Job name. */
async function podsOf(deps: ReconcileDeps, jobs: readonly V1Job[]): Promise<Map<string, V1Pod[]>> {
  const namespaces = [...new Set(jobs.map((job) => job.metadata?.namespace ?? ''))];
  const selector = `${Labels.managedBy}=${deps.settings.jobs.managedBy}`;
  const byJob = new Map<string, V1Pod[]>();
  for (const namespace of namespaces) {
    for (const pod of await deps.jobs.listPods(namespace, selector)) {
      const job =
        pod.metadata?.labels?.['batch.kubernetes.io/job-name'] ?? pod.metadata?.labels?.['job-name'];
      if (job !== undefined)
        byJob.set(`${namespace}/${job}`, [...(byJob.get(`${namespace}/${job}`) ?? []), pod]);
    }
  }
  return byJob;
}

async function reconcileOne(
  deps: ReconcileDeps,
  jobs: V1Job[],
  pods: Map<string, V1Pod[]>,
): Promise<string[]> {
  const info = new Map<string, PodInfo>();
  for (const job of jobs) {
    const namespace = job.metadata?.namespace ?? '';
    const name = job.metadata?.name ?? '';
    const jobPods = pods.get(`${namespace}/${name}`) ?? [];
    const unfinished = job.spec?.suspend !== true && job.status?.completionTime === undefined;
    // Events only explain a Job that has no pod yet (FailedCreate): read them only then.
    const events = unfinished && jobPods.length === 0 ? await deps.jobs.listEvents(namespace, name) : [];
    info.set(name, { pods: jobPods, events });
  }
  const run = runSnapshot(jobs, info);
  if (run === undefined) return [];
  const now = deps.now?.() ?? new Date();
  const actions = decide(run, now, deps.settings.reconcile.limits);
  const done: string[] = [];
  let state: RunState = { run, jobs, info };
  for (const action of actions) {
    const next = await execute(deps, state, action, now);
    if (next === undefined) break;
    state = next;
    done.push(action.kind);
  }
  return done;
}

interface RunState {
  readonly run: RunSnapshot;
  readonly jobs: readonly V1Job[];
  readonly info: ReadonlyMap<string, PodInfo>;
}

/** Executes one action; undefined stops the run's remaining actions (someone else holds it, or a send failed). */
async function execute(
  deps: ReconcileDeps,
  state: RunState,
  action: Action,
  now: Date,
): Promise<RunState | undefined> {
  const log = deps.log.child({ runId: state.run.runId, action: action.kind });
  switch (action.kind) {
    case 'sendStarted':
      return (await sendMissingStarted(deps, state, now, log)) ? state : undefined;
    case 'resume': {
      const job = state.jobs.find((candidate) => taskIndex(candidate) === action.task);
      if (job?.metadata?.name !== undefined) {
        await deps.jobs.patchJob(job.metadata.namespace ?? '', job.metadata.name, { suspend: false });
        log.info({ task: action.task, job: job.metadata.name }, 'task resumed');
      }
      return state;
    }
    case 'finish':
      return (await finish(deps, state, action, now)) ? state : undefined;
    case 'markReported':
      await markReported(deps, state, now);
      return state;
  }
}

/** The intake could not send `.started`: the reconciler sends it through the same claim protocol. */
async function sendMissingStarted(
  deps: ReconcileDeps,
  state: RunState,
  now: Date,
  log: Logger,
): Promise<boolean> {
  const event = startedEvent(state.run.envelope, state.run.runId, now);
  try {
    if (!(await deliverStarted(deps, state.run.anchor, event))) return false;
  } catch (error) {
    log.warn({ err: messageOf(error) }, '.started not delivered; next pass retries');
    return false;
  }
  log.info({}, '.started sent by the reconciler');
  return true;
}

async function finish(
  deps: ReconcileDeps,
  state: RunState,
  action: FinishAction,
  now: Date,
): Promise<boolean> {
  const log = deps.log.child({ runId: state.run.runId, action: 'finish' });
  const { run } = state;
  const { anchor } = run;
  try {
    await deps.jobs.patchJob(anchor.namespace, anchor.name, {
      resourceVersion: anchor.resourceVersion,
      annotations: { [Annotations.finishClaim]: `${deps.settings.reconcile.id}@${now.toISOString()}` },
    });
  } catch (error) {
    // Someone else changed the run first (another reconciler claimed it): leave it to them.
    if (isJesError(error, 'K8S_CONFLICT')) return false;
    throw error;
  }
  if (action.send) {
    try {
      const outputs = await collectOutputs(deps, state, action);
      const event = buildFinished(run, action, outputs, {
        now,
        maxBytes: deps.settings.reconcile.eventMaxBytes,
      });
      await deps.sink.send(event);
      log.info({ cause: action.cause, id: event.id }, '.finished sent');
    } catch (error) {
      // Nothing was delivered: release the claim so the next pass (here or elsewhere) tries again.
      await deps.jobs.patchJob(anchor.namespace, anchor.name, {
        annotations: { [Annotations.finishClaim]: null },
      });
      log.warn({ err: messageOf(error) }, '.finished not delivered; next pass retries');
      return false;
    }
  }
  for (const index of action.deleteTasks) {
    const job = state.jobs.find((candidate) => taskIndex(candidate) === index);
    if (job === undefined) continue;
    await release(deps, job, { labels: { [Labels.state]: RunStates.done } });
    await deps.jobs.deleteJob(job.metadata?.namespace ?? '', job.metadata?.name ?? '');
  }
  await markReported(deps, state, now, new Set(action.deleteTasks));
  return true;
}

/** Reported: the anchor records when, every Job leaves the active set and drops the report finalizer. */
async function markReported(
  deps: ReconcileDeps,
  state: RunState,
  now: Date,
  skip: ReadonlySet<number> = new Set(),
): Promise<void> {
  const anchorName = state.run.anchor.name;
  for (const job of state.jobs) {
    if (skip.has(taskIndex(job))) continue;
    const isAnchor = job.metadata?.name === anchorName;
    const reported = job.metadata?.annotations?.[Annotations.reported] ?? now.toISOString();
    await release(deps, job, {
      labels: { [Labels.state]: RunStates.done },
      ...(isAnchor ? { annotations: { [Annotations.reported]: reported } } : {}),
    });
  }
}

async function release(
  deps: ReconcileDeps,
  job: V1Job,
  patch: { labels: Record<string, string>; annotations?: Record<string, string> },
): Promise<void> {
  const finalizers = (job.metadata?.finalizers ?? []).filter((finalizer) => finalizer !== REPORT_FINALIZER);
  try {
    await deps.jobs.patchJob(job.metadata?.namespace ?? '', job.metadata?.name ?? '', {
      ...patch,
      finalizers,
    });
  } catch (error) {
    if (!isJesError(error, 'K8S_NOT_FOUND')) throw error;
  }
}

/** Logs (task container; init container when it failed or the task never ran), events, termination message. */
async function collectOutputs(
  deps: ReconcileDeps,
  state: RunState,
  action: FinishAction,
): Promise<TaskOutput[]> {
  const outputs: TaskOutput[] = [];
  for (const task of state.run.tasks) {
    if (task.phase === 'missing' || task.phase === 'suspended') continue;
    const pod = latestPod(state.info.get(task.jobName)?.pods ?? []);
    const explain = action.task === task.index;
    const podName = pod?.metadata?.name;
    const logs =
      pod === undefined || podName === undefined ? [] : await podLogs(deps, task.namespace, pod, explain);
    const events = explain ? await explainingEvents(deps, task.namespace, [task.jobName, podName]) : [];
    outputs.push({
      index: task.index,
      logs,
      events,
      terminationMessage: containerStatus(pod, 'task')?.terminated?.message,
    });
  }
  return outputs;
}

function latestPod(pods: readonly V1Pod[]): V1Pod | undefined {
  const created = (pod: V1Pod) => pod.metadata?.creationTimestamp?.getTime() ?? 0;
  return [...pods].sort((a, b) => created(a) - created(b)).at(-1);
}

function containerStatus(pod: V1Pod | undefined, name: string) {
  const statuses = [...(pod?.status?.initContainerStatuses ?? []), ...(pod?.status?.containerStatuses ?? [])];
  return statuses.find((status) => status.name === name)?.state;
}

/** The task container's log; the init container's too when it failed and this task explains the failure. */
async function podLogs(
  deps: ReconcileDeps,
  namespace: string,
  pod: V1Pod,
  explain: boolean,
): Promise<ContainerLog[]> {
  const init = containerStatus(pod, 'init')?.terminated;
  const initFailed = init === undefined || init.exitCode !== 0;
  const logs: ContainerLog[] = [];
  for (const container of initFailed && explain ? ['init', 'task'] : ['task']) {
    const text = await readLog(deps, namespace, pod.metadata?.name ?? '', container);
    if (text !== undefined) logs.push({ container, text });
  }
  return logs;
}

async function readLog(
  deps: ReconcileDeps,
  namespace: string,
  pod: string,
  container: string,
): Promise<string | undefined> {
  const limit = deps.settings.reconcile.logTailLines;
  let text: string;
  try {
    // One line more than shown tells whether earlier lines were cut.
    text = await deps.jobs.readLogTail(namespace, pod, container, limit + 1);
  } catch (error) {
    // A container that never started has no log: that is what the events explain.
    if (isJesError(error)) return undefined;
    throw error;
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length <= limit) return text;
  return `[… truncated: earlier lines are left out, showing the last ${limit} (LOG_TAIL_LINES) …]\n${lines.slice(-limit).join('\n')}\n`;
}

async function explainingEvents(
  deps: ReconcileDeps,
  namespace: string,
  names: readonly (string | undefined)[],
): Promise<string[]> {
  const lines: string[] = [];
  for (const name of names) {
    if (name === undefined) continue;
    for (const event of await deps.jobs.listEvents(namespace, name)) {
      if (event.type !== 'Warning' && !(event.reason ?? '').startsWith('Failed')) continue;
      lines.push(
        `${event.involvedObject.kind ?? ''} ${name}: ${event.reason ?? ''}: ${(event.message ?? '').slice(0, 300)}`,
      );
    }
  }
  return lines.slice(-MAX_EVENTS_PER_TASK);
}

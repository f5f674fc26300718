import { STARTED_SENDING, StartedStates } from '../jobs/contract.js';
import type { Blocker, RunSnapshot, TaskSnapshot } from './snapshot.js';

/**
 * The reconciler's brain: what to do next for one run, from its snapshot and the time. Pure: no I/O, no clock.
 * Thin I/O (./pass.ts) executes the actions in order.
 * @see ../../docs/reconciler.md
 */

export interface DecideLimits {
  /** A finish claim older than this was abandoned (its holder crashed): it may be taken over. */
  readonly claimTimeoutMs: number;
  /** How long the intake has to send `.started` itself before the reconciler sends it. */
  readonly startedGraceMs: number;
  /** How long a task may be blocked before the run fails fast, by kind of blocker. */
  readonly blockedGraceMs: Readonly<Record<Blocker['kind'], number>>;
  /** How long a run may lack some of its Jobs (an intake that stopped half-way) before it is failed. */
  readonly incompleteGraceMs: number;
}

export type FinishCause = 'succeeded' | 'failed' | 'timedOut' | 'blocked' | 'incomplete';

export type Action =
  | { readonly kind: 'sendStarted' }
  | { readonly kind: 'resume'; readonly task: number }
  | {
      readonly kind: 'finish';
      readonly cause: FinishCause;
      /** The task that failed, timed out or could not start. */
      readonly task: number | undefined;
      readonly reason: string;
      /** Whether a `.finished` is owed (not for silent runs or events that get no reply). */
      readonly send: boolean;
      /** Tasks whose Jobs must go: the blocked one and every suspended one that will never run. */
      readonly deleteTasks: readonly number[];
    }
  | { readonly kind: 'markReported' };

export function repliesOwed(run: RunSnapshot): boolean {
  return !run.silent && run.envelope.replyTypePrefix !== undefined;
}

const elapsed = (now: Date, since: string) => now.getTime() - Date.parse(since);

export function decide(run: RunSnapshot, now: Date, limits: DecideLimits): Action[] {
  if (run.reported !== undefined) return [{ kind: 'markReported' }];
  if (run.claim !== undefined && elapsed(now, run.claim.at) < limits.claimTimeoutMs) return [];
  const actions: Action[] = [];
  const sendingSince = run.started.startsWith(STARTED_SENDING)
    ? run.started.slice(STARTED_SENDING.length)
    : undefined;
  // A `.started` claimed by a sender that never finished (it crashed) is owed again once the claim is stale.
  const staleSending = sendingSince !== undefined && elapsed(now, sendingSince) >= limits.claimTimeoutMs;
  const startedPending = run.started === StartedStates.required || sendingSince !== undefined;
  if (
    (run.started === StartedStates.required || staleSending) &&
    elapsed(now, run.createdAt) >= limits.startedGraceMs
  )
    actions.push({ kind: 'sendStarted' });
  const next = nextStep(run, now, limits);
  if (next === undefined) return actions;
  // Never a `.finished` before the intake had its chance to send `.started`: the pair must stay a pair.
  if (next.kind === 'finish' && startedPending && actions.length === 0 && next.send) return actions;
  return [...actions, next];
}

function nextStep(run: RunSnapshot, now: Date, limits: DecideLimits): Action | undefined {
  for (const task of run.tasks) {
    switch (task.phase) {
      case 'succeeded':
        continue;
      case 'failed':
        return finish(
          run,
          task,
          task.failure?.reason === 'DeadlineExceeded' ? 'timedOut' : 'failed',
          failureReason(task),
        );
      case 'suspended':
        return { kind: 'resume', task: task.index };
      case 'missing':
        return elapsed(now, run.createdAt) >= limits.incompleteGraceMs
          ? finish(
              run,
              task,
              'incomplete',
              `task '${task.name}' is missing: its Job was never created (the intake stopped half-way and the event was not redelivered)`,
            )
          : undefined;
      case 'pending':
      case 'running':
        return blockedStep(run, task, now, limits);
    }
  }
  return finish(run, undefined, 'succeeded', 'all tasks succeeded');
}

function blockedStep(
  run: RunSnapshot,
  task: TaskSnapshot,
  now: Date,
  limits: DecideLimits,
): Action | undefined {
  const { blocker } = task;
  if (blocker === undefined || elapsed(now, blocker.since) < limits.blockedGraceMs[blocker.kind])
    return undefined;
  return finish(run, task, 'blocked', `task '${task.name}' can never start: ${blocker.message}`);
}

function failureReason(task: TaskSnapshot): string {
  if (task.failure?.reason === 'DeadlineExceeded') {
    return `task '${task.name}' timed out after ${task.timeoutSeconds}s and was stopped (activeDeadlineSeconds)`;
  }
  const detail = task.failure?.message ? `: ${task.failure.message}` : '';
  return `task '${task.name}' failed (${task.failure?.reason ?? 'Failed'}${detail})`;
}

function finish(
  run: RunSnapshot,
  task: TaskSnapshot | undefined,
  cause: FinishCause,
  reason: string,
): Action {
  const failedAt = task?.index ?? run.tasks.length;
  const deleteTasks = run.tasks
    .filter((candidate) => candidate.phase !== 'missing')
    .filter(
      (candidate) => candidate.index > failedAt || (cause === 'blocked' && candidate.index === failedAt),
    )
    .map((candidate) => candidate.index);
  return { kind: 'finish', cause, task: task?.index, reason, send: repliesOwed(run), deleteTasks };
}

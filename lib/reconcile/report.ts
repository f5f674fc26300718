import { finishedEvent, type Outcome, type OutgoingEvent } from '../keptn/replies.js';
import type { Action } from './decide.js';
import type { RunSnapshot, TaskSnapshot } from './snapshot.js';

/**
 * Builds the run's `.finished` (pure): status/result per Keptn rules, a message with a bounded tail of every
 * container's log and the Kubernetes events explaining a failure, test start/end, provenance and task outputs.
 * The serialized event never exceeds the byte budget (the Keptn API refuses events over 64 KB); truncation is marked.
 */

export interface ContainerLog {
  readonly container: string;
  readonly text: string;
}

export interface TaskOutput {
  readonly index: number;
  readonly logs: readonly ContainerLog[];
  /** `reason: message` lines of the Kubernetes events that explain a failure. */
  readonly events: readonly string[];
  /** The task container's termination message (a small JSON result, at most 4 KB). */
  readonly terminationMessage: string | undefined;
}

export type FinishAction = Extract<Action, { kind: 'finish' }>;

const TRUNCATION_MARK = '[… truncated: the first %d bytes of this log are left out …]\n';
const MIN_LOG_BYTES = 256;
const OUTPUT_MAX_BYTES = 4096;

const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

/** Terminal colour codes out, other control characters made visible: logs stay readable and cheap to escape. */
export function cleanLog(text: string): string {
  /* eslint-disable no-control-regex -- removing control characters is the point */
  return text
    .replace(/\u001b\[[0-9;]*[A-Za-z]/g, '')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\uFFFD');
  /* eslint-enable no-control-regex */
}

/** The last `limit` bytes of `text` (on a character boundary), marked when something was cut. */
export function tail(text: string, limit: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= limit) return text;
  const cut = bytes.length - Math.max(0, limit);
  return (
    TRUNCATION_MARK.replace('%d', String(cut)) +
    bytes
      .subarray(cut)
      .toString('utf8')
      .replace(/^\uFFFD+/, '')
  );
}

function statusLine(task: TaskSnapshot, action: FinishAction): string {
  if (task.phase === 'succeeded') return `Task '${task.name}' finished successfully.`;
  // Reasons are sentences about the task ("task 'x' failed (…)"): they lead the failing task's section.
  if (action.task === task.index) return action.reason.charAt(0).toUpperCase() + action.reason.slice(1);
  return `Task '${task.name}' was not run.`;
}

function composeMessage(
  run: RunSnapshot,
  action: FinishAction,
  outputs: readonly TaskOutput[],
  logBudget: number,
): string {
  const logCount = outputs.reduce((sum, output) => sum + output.logs.length, 0);
  const perLog = Math.max(MIN_LOG_BYTES, Math.floor(logBudget / Math.max(1, logCount)));
  const sections = run.tasks.map((task) => {
    const output = outputs.find((candidate) => candidate.index === task.index);
    const parts = [statusLine(task, action)];
    for (const log of output?.logs ?? []) {
      parts.push(`Logs of container ${log.container}:\n${tail(cleanLog(log.text), perLog).trimEnd()}`);
    }
    if ((output?.events.length ?? 0) > 0)
      parts.push(`Kubernetes events:\n${(output?.events ?? []).join('\n')}`);
    return parts.join('\n\n');
  });
  return sections.join('\n\n');
}

function parseOutput(message: string | undefined): Record<string, unknown> | undefined {
  if (message === undefined || message.trim() === '' || byteLength(message) > OUTPUT_MAX_BYTES)
    return undefined;
  try {
    const value: unknown = JSON.parse(message);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function extraData(run: RunSnapshot, outputs: readonly TaskOutput[], now: Date): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const output of outputs) {
    const parsed = parseOutput(output.terminationMessage);
    const task = run.tasks.find((candidate) => candidate.index === output.index);
    if (parsed !== undefined && task !== undefined) data[task.name] = parsed;
  }
  const prefix = run.envelope.replyTypePrefix ?? '';
  if (prefix === 'sh.keptn.event.test') {
    const starts = run.tasks.map((task) => task.startedAt).filter((time) => time !== undefined);
    const ends = run.tasks.map((task) => task.finishedAt).filter((time) => time !== undefined);
    data.test = {
      start: starts.sort()[0] ?? run.createdAt,
      end: ends.sort().at(-1) ?? now.toISOString(),
      ...(run.config.commit === undefined ? {} : { gitCommit: run.config.commit }),
    };
  }
  data.jobExecutor = {
    runId: run.runId,
    action: run.action,
    config: run.config,
    tasks: run.tasks.map((task) => ({
      name: task.name,
      image: task.image,
      job: task.jobName,
      namespace: task.namespace,
      phase: task.phase,
      ...(task.startedAt === undefined ? {} : { start: task.startedAt }),
      ...(task.finishedAt === undefined ? {} : { end: task.finishedAt }),
    })),
  };
  return data;
}

export function outcomeOf(action: FinishAction): Pick<Outcome, 'status' | 'result'> {
  return action.cause === 'succeeded'
    ? { status: 'succeeded', result: 'pass' }
    : { status: 'errored', result: 'fail' };
}

/** The `.finished` event of a run, at most `maxBytes` when serialized. */
export function buildFinished(
  run: RunSnapshot,
  action: FinishAction,
  outputs: readonly TaskOutput[],
  limits: { readonly now: Date; readonly maxBytes: number },
): OutgoingEvent {
  const data = extraData(run, outputs, limits.now);
  const make = (message: string, withData: Record<string, unknown>) =>
    finishedEvent(run.envelope, run.runId, limits.now, { ...outcomeOf(action), message, data: withData });
  let chosenData = data;
  let overhead = byteLength(JSON.stringify(make('', chosenData)));
  if (overhead > limits.maxBytes / 2) {
    // Task outputs that crowd out the message are dropped, the provenance and test data stay.
    chosenData = { test: data.test, jobExecutor: data.jobExecutor };
    overhead = byteLength(JSON.stringify(make('', chosenData)));
  }
  let logBudget = limits.maxBytes - overhead - 1024;
  for (;;) {
    const message = composeMessage(run, action, outputs, logBudget);
    const size = byteLength(JSON.stringify(make(message, chosenData)));
    if (size <= limits.maxBytes) return make(message, chosenData);
    if (logBudget <= MIN_LOG_BYTES) {
      // Even the shortest logs do not fit (very many tasks or events): keep the end of the whole message.
      return make(tail(message, Math.floor((limits.maxBytes - overhead) / 2)), chosenData);
    }
    // JSON escaping makes logs larger than their bytes: shrink by what is over, and try again.
    logBudget = Math.max(MIN_LOG_BYTES, logBudget - (size - limits.maxBytes) - 256);
  }
}

import type { V1Job } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ConfigLoader } from '../config/loader.js';
import type { LoadedConfig } from '../config/parse.js';
import { isJesError, messageOf, type Issue, type JesError } from '../errors/index.js';
import type { IncomingEvent } from '../events/cloudevent.js';
import type { EventSink } from '../events/sink.js';
import { buildRun, eventKey, type Run } from '../jobs/builder.js';
import {
  Annotations,
  annotationOf,
  jobRef,
  StartedStates,
  type ReplyEnvelope,
  type StartedState,
} from '../jobs/contract.js';
import type { JobClient } from '../k8s/job-client.js';
import { isTriggered, replyEnvelope } from '../keptn/envelope.js';
import { finishedEvent, startedEvent } from '../keptn/replies.js';
import { matchActions, type MatchedAction } from '../matching/index.js';
import { assertAllowed } from '../policy/index.js';
import { deliverStarted } from '../started/index.js';
import type { Settings } from '../settings/index.js';

/**
 * The intake: one CloudEvent in, the Jobs of every matched action created, an answer out. Pure decisions (matching,
 * policy, the builder) run before any write; Kubernetes, the config source and the event sink are passed in.
 * @see ../../docs/event-flow.md
 */

export interface IntakeDeps {
  readonly settings: Pick<Settings, 'jobs' | 'config' | 'keptn'>;
  readonly configLoader: ConfigLoader;
  readonly jobs: JobClient;
  readonly sink: EventSink;
  readonly log: Logger;
  readonly now?: () => Date;
}

export interface RunSummary {
  readonly runId: string;
  readonly action: string;
  readonly jobs: readonly { readonly name: string; readonly namespace: string }[];
}

export type IntakeAnswer =
  | {
      readonly statusCode: 202;
      readonly body: { readonly matched: true; readonly runs: readonly RunSummary[] };
    }
  | {
      readonly statusCode: 200;
      readonly body: { readonly matched: false; readonly reason: string; readonly reported?: true };
    }
  | {
      /** Refused, and the refusal was reported to Keptn as an errored `.finished`: nothing for the sender to retry. */
      readonly statusCode: 200;
      readonly body: { readonly matched: boolean; readonly reported: true; readonly error: ErrorBody };
    };

export interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly issues: readonly Issue[];
}

export function errorBody(error: JesError): ErrorBody {
  return { code: error.code, message: error.message, issues: error.issues };
}

export async function handleEvent(deps: IntakeDeps, event: IncomingEvent): Promise<IntakeAnswer> {
  const log = deps.log.child({ ce: { id: event.id, type: event.type, source: event.source } });
  const envelope = replyEnvelope(event);
  const lookup = await deps.configLoader.load({
    project: envelope.project,
    stage: envelope.stage,
    service: envelope.service,
    commit: envelope.gitcommitid,
  });
  if (lookup.kind !== 'found') {
    if (lookup.kind === 'missing' && !isTriggered(event.type)) {
      return { statusCode: 200, body: { matched: false, reason: lookup.error.message } };
    }
    return refuse(deps, log, { event, envelope, error: lookup.error, matched: false });
  }
  let plan: RunPlan;
  try {
    const createdAt = (deps.now?.() ?? new Date()).toISOString();
    plan = planRuns(deps.settings, { event, envelope, loaded: lookup.loaded, createdAt });
  } catch (error) {
    if (!isJesError(error)) throw error;
    // Silent actions send nothing, refused or not: the sender hears the reason in the HTTP answer only.
    const matches = matchActions(lookup.loaded.config, event);
    if (matches.length > 0 && matches.every(({ action }) => action.silent === true)) throw error;
    return refuse(deps, log, { event, envelope, error, matched: true });
  }
  const { matches, runs } = plan;
  if (matches.length === 0) {
    const reason = `no action in ${lookup.loaded.origin} matches ${event.type}`;
    return answerUnmatched(deps, event, envelope, reason);
  }
  for (const [index, run] of runs.entries()) {
    const match = matches[index];
    if (match === undefined) continue;
    await createRun(deps, log, run);
    log.info({ runId: run.runId, action: match.action.name, jobs: run.jobs.length }, 'run accepted');
  }
  await sendStartedEvents(deps, log, envelope, runs);
  return {
    statusCode: 202,
    body: { matched: true, runs: runs.map((run, index) => summary(run, matches[index])) },
  };
}

export interface RunPlan {
  readonly matches: readonly MatchedAction[];
  readonly runs: readonly Run[];
}

export type PlanSettings = Pick<Settings, 'jobs' | 'config' | 'keptn'>;

/**
 * The pure part of the intake, shared with `jes render`: match, check every task against the policy, build the Jobs.
 * Throws a policy or event-data error before anything would be created.
 */
export interface PlanInput {
  readonly event: IncomingEvent;
  readonly envelope: ReplyEnvelope;
  readonly loaded: LoadedConfig;
  /** ISO time recorded on the Jobs. */
  readonly createdAt: string;
}

export function planRuns(settings: PlanSettings, { event, envelope, loaded, createdAt }: PlanInput): RunPlan {
  const matches = matchActions(loaded.config, event);
  const tokenSecret = settings.keptn.apiTokenSecret?.name;
  assertAllowed(matches, {
    ...settings.jobs,
    protectedSecrets: tokenSecret === undefined ? [] : [tokenSecret],
  });
  const runs = matches.map((match) =>
    buildRun(
      {
        event,
        envelope,
        action: match.action,
        actionIndex: match.actionIndex,
        config: { hash: loaded.hash, origin: loaded.origin, commit: loaded.commit ?? envelope.gitcommitid },
        started: startedState(settings, envelope, match),
        createdAt,
      },
      settings,
    ),
  );
  return { matches, runs };
}

function startedState(settings: PlanSettings, envelope: ReplyEnvelope, match: MatchedAction): StartedState {
  // Owed exactly when a `.finished` is (see repliesOwed in lib/reconcile/decide.ts): every `.started` gets its pair.
  const owed = match.action.silent !== true && envelope.replyTypePrefix !== undefined;
  return owed && settings.keptn.sendStarted ? StartedStates.required : StartedStates.none;
}

/**
 * Suspended tasks first, task 0 (the one that runs) last: a run interrupted half-way has nothing running, and the
 * redelivery of the event completes it (existing Jobs answer 409 = already there).
 */
async function createRun(deps: IntakeDeps, log: Logger, run: Run): Promise<void> {
  const ordered = [...run.jobs].reverse();
  const created: V1Job[] = [];
  for (const job of ordered) {
    try {
      if ((await deps.jobs.createJob(job)) === 'created') created.push(job);
    } catch (error) {
      if (isJesError(error, 'K8S_INVALID')) await discard(deps, log, created);
      throw error;
    }
  }
}

/** Removes the Jobs of a run the API refused part of, finalizer first so they really go. */
async function discard(deps: IntakeDeps, log: Logger, jobs: readonly V1Job[]): Promise<void> {
  for (const job of jobs) {
    const { namespace, name } = jobRef(job);
    try {
      await deps.jobs.patchJob(namespace, name, { finalizers: [] });
      await deps.jobs.deleteJob(namespace, name);
    } catch (error) {
      log.warn(
        { job: { namespace, name }, err: messageOf(error) },
        'could not remove a Job of a refused run',
      );
    }
  }
}

/** `.started` now, for the runs that owe one; a failure leaves `required` on the Job and the reconciler sends it. */
async function sendStartedEvents(
  deps: IntakeDeps,
  log: Logger,
  envelope: ReplyEnvelope,
  runs: readonly Run[],
): Promise<void> {
  for (const run of runs) {
    try {
      await sendStarted(deps, envelope, run);
    } catch (error) {
      log.warn(
        { runId: run.runId, err: messageOf(error) },
        '.started not sent yet; the reconciler will send it',
      );
    }
  }
}

const CLAIM_ATTEMPTS = 5;

/**
 * Sends the run's `.started` through the shared claim protocol (lib/started). A conflict is retried while the marker
 * is still `required`: the Job controller updates the Job's status at the same time, which is no competing claim.
 * A redelivered event finds the marker moved on and sends nothing.
 */
async function sendStarted(deps: IntakeDeps, envelope: ReplyEnvelope, run: Run): Promise<void> {
  const first = run.jobs[0];
  if (first === undefined || annotationOf(first, Annotations.started) !== StartedStates.required) return;
  const { namespace, name } = jobRef(first);
  const event = startedEvent(envelope, run.runId, deps.now?.() ?? new Date());
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt += 1) {
    const current = await deps.jobs.readJob(namespace, name);
    if (annotationOf(current, Annotations.started) !== StartedStates.required) return;
    const resourceVersion = current?.metadata?.resourceVersion ?? '';
    if (await deliverStarted(deps, { namespace, name, resourceVersion }, event)) return;
  }
}

/**
 * A `.triggered` event we cannot run (no or invalid config, policy refusal, missing event data) still ends its Keptn
 * task: `.started` (unless the webhook-service sent it) and an errored `.finished` carrying the precise reason.
 */
interface Refusal {
  readonly event: IncomingEvent;
  readonly envelope: ReplyEnvelope;
  readonly error: JesError;
  readonly matched: boolean;
}

async function refuse(
  deps: IntakeDeps,
  log: Logger,
  { event, envelope, error, matched }: Refusal,
): Promise<IntakeAnswer> {
  log.warn({ code: error.code, issues: error.issues.length }, 'event refused');
  if (envelope.replyTypePrefix === undefined || !isTriggered(event.type)) throw error;
  const runId = `${eventKey(event)}-refused`;
  const now = deps.now?.() ?? new Date();
  if (deps.settings.keptn.sendStarted) await deps.sink.send(startedEvent(envelope, runId, now));
  await deps.sink.send(
    finishedEvent(envelope, runId, now, { status: 'errored', result: 'fail', message: error.describe() }),
  );
  return { statusCode: 200, body: { matched, reported: true, error: errorBody(error) } };
}

/**
 * Behind the Keptn webhook-service (KEPTN_SEND_STARTED=false) every event we receive already has a `.started` from
 * it, and Keptn has no timeout after a `.started`: an event no action matches is finished here (succeeded, nothing to
 * run) so the sequence goes on. Otherwise nothing is sent.
 */
async function answerUnmatched(
  deps: IntakeDeps,
  event: IncomingEvent,
  envelope: ReplyEnvelope,
  reason: string,
): Promise<IntakeAnswer> {
  if (deps.settings.keptn.sendStarted || envelope.replyTypePrefix === undefined || !isTriggered(event.type)) {
    return { statusCode: 200, body: { matched: false, reason } };
  }
  const runId = `${eventKey(event)}-unmatched`;
  const message = `Nothing to run: ${reason}.`;
  await deps.sink.send(
    finishedEvent(envelope, runId, deps.now?.() ?? new Date(), {
      status: 'succeeded',
      result: 'pass',
      message,
    }),
  );
  return { statusCode: 200, body: { matched: false, reason, reported: true } };
}

function summary(run: Run, match: MatchedAction | undefined): RunSummary {
  return {
    runId: run.runId,
    action: match?.action.name ?? '',
    jobs: run.jobs.map((job) => ({
      name: job.metadata?.name ?? '',
      namespace: job.metadata?.namespace ?? '',
    })),
  };
}

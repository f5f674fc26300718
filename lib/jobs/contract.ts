/**
 * The Job state contract: everything the functions know about a run lives on its Jobs, in these labels and
 * annotations (documented in docs/state-contract.md). The handler writes it, the reconciler reads and advances it;
 * no function keeps state in memory. Change it here and in the doc together.
 */

export const DOMAIN = 'jes.dev';

export const Labels = Object.freeze({
  managedBy: 'app.kubernetes.io/managed-by',
  /** One run = one matched action of one event: `<event key>-<action index>`. */
  run: `${DOMAIN}/run`,
  /** sha256(source, id) of the event, 16 hex characters. */
  event: `${DOMAIN}/event`,
  actionIndex: `${DOMAIN}/action-index`,
  taskIndex: `${DOMAIN}/task-index`,
  /** `active` until the run's `.finished` is sent (or not owed), then `done`: passes list only `active`. */
  state: `${DOMAIN}/state`,
});

export const Annotations = Object.freeze({
  /** JSON ReplyEnvelope: what the `.started`/`.finished` need (ids, context, project/stage/service, labels). */
  reply: `${DOMAIN}/reply`,
  action: `${DOMAIN}/action`,
  task: `${DOMAIN}/task`,
  taskCount: `${DOMAIN}/task-count`,
  /** JSON {hash, origin, commit} of the config the run was built from. */
  config: `${DOMAIN}/config`,
  image: `${DOMAIN}/image`,
  /** `true` when the action is silent: nothing is sent for the run. */
  silent: `${DOMAIN}/silent`,
  /** On task 0: `required` (owed, not yet sent), `sending@<time>` (claimed), `sent`, or `none` (not ours to send). */
  started: `${DOMAIN}/started`,
  /** On task 0: the claim of the finish, `<claimer id>@<ISO time>`, set with a resourceVersion precondition. */
  finishClaim: `${DOMAIN}/finish-claim`,
  /** On task 0: ISO time the `.finished` was delivered. */
  reported: `${DOMAIN}/reported`,
  /** The task's timeout in seconds (also the Job's activeDeadlineSeconds). */
  timeoutSeconds: `${DOMAIN}/timeout-seconds`,
  /** ISO time the intake created the run. */
  createdAt: `${DOMAIN}/created-at`,
});

/** Keeps a Job (and so its logs) until the run is reported, whatever its TTL says. */
export const REPORT_FINALIZER = `${DOMAIN}/report`;

export const RunStates = Object.freeze({ active: 'active', done: 'done' });

export const StartedStates = Object.freeze({ required: 'required', sent: 'sent', none: 'none' });
/** `sending@<ISO time>`: a sender claimed the `.started` (resourceVersion precondition) and is delivering it. */
export const STARTED_SENDING = 'sending@';
export type StartedState = (typeof StartedStates)[keyof typeof StartedStates];

/** What a reply (`.started`/`.finished`) to the triggering event needs. */
export interface ReplyEnvelope {
  /** The id of the event we answer (becomes `triggeredid`). */
  readonly id: string;
  readonly type: string;
  readonly source: string;
  /** The type prefix of replies, e.g. `sh.keptn.event.test` → `.started`/`.finished`; absent when no reply is owed. */
  readonly replyTypePrefix: string | undefined;
  readonly shkeptncontext: string | undefined;
  readonly gitcommitid: string | undefined;
  readonly project: string;
  readonly stage: string;
  readonly service: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ConfigProvenance {
  readonly hash: string;
  readonly origin: string;
  readonly commit: string | undefined;
}

export const CONTAINER_NAMES = Object.freeze({ init: 'init', task: 'task' });
export const WORKSPACE_PATH = '/keptn';

/** The minimal Job shape the contract helpers read (a V1Job fits). */
export interface JobLike {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
}

export function annotationOf(job: JobLike | undefined, key: string): string | undefined {
  return job?.metadata?.annotations?.[key];
}

export function labelOf(job: JobLike | undefined, key: string): string | undefined {
  return job?.metadata?.labels?.[key];
}

export function jobRef(job: JobLike): { readonly namespace: string; readonly name: string } {
  return { namespace: job.metadata?.namespace ?? '', name: job.metadata?.name ?? '' };
}

import { createHash } from 'node:crypto';
import type { ReplyEnvelope } from '../jobs/contract.js';

/** The `source` of every event we send. */
export const EVENT_SOURCE = 'job-executor';
const KEPTN_SPEC_VERSION = '0.2.4';

export interface OutgoingEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly shkeptncontext?: string;
  readonly triggeredid: string;
  readonly gitcommitid?: string;
  readonly shkeptnspecversion: string;
  readonly data: Record<string, unknown>;
}

export type FinishedStatus = 'succeeded' | 'errored';
export type FinishedResult = 'pass' | 'fail';

export interface Outcome {
  readonly status: FinishedStatus;
  readonly result: FinishedResult;
  readonly message: string;
  /** Merged into `data` (e.g. `test.start/end`, task outputs, provenance). */
  readonly data?: Record<string, unknown>;
}

/** A UUID-shaped id derived from a name: the same reply always has the same id, so receivers can deduplicate. */
export function deterministicId(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

interface ReplyInput {
  readonly envelope: ReplyEnvelope;
  readonly kind: 'started' | 'finished';
  readonly runId: string;
  readonly time: Date;
  readonly data: Record<string, unknown>;
}

function reply({ envelope, kind, runId, time, data }: ReplyInput): OutgoingEvent {
  return {
    specversion: '1.0',
    id: deterministicId(`${runId}/${kind}`),
    source: EVENT_SOURCE,
    type: `${envelope.replyTypePrefix ?? envelope.type}.${kind}`,
    time: time.toISOString(),
    datacontenttype: 'application/json',
    ...(envelope.shkeptncontext === undefined ? {} : { shkeptncontext: envelope.shkeptncontext }),
    triggeredid: envelope.id,
    ...(envelope.gitcommitid === undefined ? {} : { gitcommitid: envelope.gitcommitid }),
    shkeptnspecversion: KEPTN_SPEC_VERSION,
    // The scope comes last: no task output can overwrite what Keptn correlates the reply by.
    data: {
      ...data,
      project: envelope.project,
      stage: envelope.stage,
      service: envelope.service,
      ...(Object.keys(envelope.labels).length > 0 ? { labels: envelope.labels } : {}),
    },
  };
}

export function startedEvent(envelope: ReplyEnvelope, runId: string, time: Date): OutgoingEvent {
  return reply({ envelope, kind: 'started', runId, time, data: { status: 'succeeded' } });
}

export function finishedEvent(
  envelope: ReplyEnvelope,
  runId: string,
  time: Date,
  outcome: Outcome,
): OutgoingEvent {
  const data = { ...outcome.data, status: outcome.status, result: outcome.result, message: outcome.message };
  return reply({ envelope, kind: 'finished', runId, time, data });
}

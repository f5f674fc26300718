import { isJesError } from '../errors/index.js';
import type { EventSink } from '../events/sink.js';
import { Annotations, STARTED_SENDING, StartedStates } from '../jobs/contract.js';
import type { JobClient } from '../k8s/job-client.js';
import type { OutgoingEvent } from '../keptn/replies.js';

/**
 * The `.started` protocol on a run's task-0 Job, shared by the intake and the reconciler: claim the marker with a
 * resourceVersion precondition (`sending@<time>`), send, mark it `sent`. Of concurrent senders exactly one wins.
 */

export interface StartedTarget {
  readonly namespace: string;
  readonly name: string;
  /** The version the sender saw `required` (or a stale claim) at. */
  readonly resourceVersion: string;
}

/**
 * True once delivered; false when the Job changed since `resourceVersion` (409: someone else may hold it). A failed
 * send gives the claim back (`required`) and rethrows, so a later attempt sends it.
 */
export async function deliverStarted(
  deps: { readonly jobs: JobClient; readonly sink: EventSink },
  target: StartedTarget,
  event: OutgoingEvent,
): Promise<boolean> {
  const { namespace, name } = target;
  try {
    await deps.jobs.patchJob(namespace, name, {
      resourceVersion: target.resourceVersion,
      annotations: { [Annotations.started]: `${STARTED_SENDING}${event.time}` },
    });
  } catch (error) {
    if (isJesError(error, 'K8S_CONFLICT')) return false;
    throw error;
  }
  try {
    await deps.sink.send(event);
  } catch (error) {
    await deps.jobs.patchJob(namespace, name, {
      annotations: { [Annotations.started]: StartedStates.required },
    });
    throw error;
  }
  await deps.jobs.patchJob(namespace, name, { annotations: { [Annotations.started]: StartedStates.sent } });
  return true;
}

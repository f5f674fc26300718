import { messageOf } from '../errors/index.js';
import { Labels } from '../jobs/contract.js';
import { activeSelector, reconcileAll, reconcileRun, type PassSummary, type ReconcileDeps } from './pass.js';

/**
 * Runs passes one at a time in a process (single-flight): a trigger that arrives during a pass shares that pass's
 * result; runs triggered by Job changes queue behind it. Safety across processes comes from the claims, not from here.
 */
export interface Reconciler {
  /** A full pass; concurrent callers share the pass in flight. */
  pass(): Promise<PassSummary>;
  /** Just one run (fast path), queued behind whatever is running. */
  run(runId: string): Promise<PassSummary>;
  /** Long-running mode: watch managed Jobs, reconcile each changed run, and pass every interval. */
  watch(): Promise<() => void>;
}

export function createReconciler(deps: ReconcileDeps): Reconciler {
  let queue: Promise<unknown> = Promise.resolve();
  let passInFlight: Promise<PassSummary> | undefined;

  const enqueue = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  const reconciler: Reconciler = {
    pass() {
      passInFlight ??= enqueue(async () => {
        const started = Date.now();
        try {
          const summary = await reconcileAll(deps);
          deps.log.info({ ...summary, ms: Date.now() - started }, 'pass done');
          return summary;
        } finally {
          passInFlight = undefined;
        }
      });
      return passInFlight;
    },
    run(runId) {
      return enqueue(() => reconcileRun(deps, runId));
    },
    async watch() {
      return watchJobs(deps, reconciler);
    },
  };
  return reconciler;
}

async function watchJobs(deps: ReconcileDeps, reconciler: Reconciler): Promise<() => void> {
  const selector = activeSelector(deps.settings.jobs.managedBy);
  const namespaces = deps.settings.reconcile.namespaces ?? [undefined];
  const stops = new Set<() => void>();
  let stopped = false;
  const pending = new Set<string>();

  const onChange = (runId: string | undefined) => {
    if (runId === undefined || pending.has(runId)) return;
    pending.add(runId);
    reconciler.run(runId).then(
      () => pending.delete(runId),
      (error: unknown) => {
        pending.delete(runId);
        deps.log.warn({ runId, err: messageOf(error) }, 'run not reconciled; next pass retries');
      },
    );
  };

  const start = async (namespace: string | undefined): Promise<void> => {
    if (stopped) return;
    try {
      const stop = await deps.jobs.watchJobs(
        namespace,
        selector,
        (job) => {
          onChange(job.metadata?.labels?.[Labels.run]);
        },
        () => {
          stops.delete(stop);
          // A watch ends (timeouts, apiserver restarts): start again shortly; passes cover the gap.
          setTimeout(() => {
            void start(namespace);
          }, 1000).unref();
        },
      );
      stops.add(stop);
    } catch (error) {
      deps.log.warn({ namespace, err: messageOf(error) }, 'watch failed; retrying');
      setTimeout(() => {
        void start(namespace);
      }, 5000).unref();
    }
  };

  await Promise.all(namespaces.map((namespace) => start(namespace)));
  const passLogged = async () => {
    try {
      await reconciler.pass();
    } catch (error) {
      deps.log.warn({ err: messageOf(error) }, 'pass failed');
    }
  };
  const interval = setInterval(() => {
    void passLogged();
  }, deps.settings.reconcile.intervalSeconds * 1000);
  await passLogged();
  return () => {
    stopped = true;
    clearInterval(interval);
    for (const stop of stops) stop();
  };
}

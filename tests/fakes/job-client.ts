/**
 * A FAKE Kubernetes behind the project's own JobClient interface, for contract tests: an in-memory store of Jobs
 * with resourceVersions, 409 on an existing name, merge-patch with an optional resourceVersion precondition,
 * injected outages, and hand-set pods, logs and events. The cluster test tier checks the same behaviour against a
 * real apiserver.
 */
import type { CoreV1Event, V1Job, V1JobStatus, V1Pod } from '@kubernetes/client-node';
import { jesError } from '../../lib/errors/index.js';
import type { JobClient, JobPatch } from '../../lib/k8s/job-client.js';

export interface FakeJobClient extends JobClient {
  readonly jobs: Map<string, V1Job>;
  readonly calls: string[];
  /** While set, every call fails as if the API could not be reached. */
  unavailable: boolean;
  /** How many of the next patches with a resourceVersion precondition lose to a concurrent status update (409). */
  conflicts: number;
  /** Names (ns/name) whose create is refused as invalid (422). */
  readonly invalidNames: Set<string>;
  readonly pods: Map<string, V1Pod[]>;
  readonly logs: Map<string, string>;
  readonly events: Map<string, CoreV1Event[]>;
  job(namespace: string, name: string): V1Job | undefined;
  /** What the Job controller would write: conditions, start/completion times, active count. */
  setJobStatus(namespace: string, name: string, status: V1JobStatus): void;
  allJobs(): V1Job[];
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function matchesSelector(labels: Record<string, string> | undefined, selector: string): boolean {
  return selector
    .split(',')
    .filter((term) => term !== '')
    .every((term) => {
      const notEqual = term.split('!=');
      if (notEqual.length === 2) return labels?.[notEqual[0] ?? ''] !== notEqual[1];
      const [name = '', value] = term.split('=');
      return value === undefined ? labels?.[name] !== undefined : labels?.[name] === value;
    });
}

function applyMap(
  target: Record<string, string> | undefined,
  patch: Record<string, string | null> | undefined,
) {
  const result = { ...target };
  for (const [name, value] of Object.entries(patch ?? {})) {
    if (value === null) Reflect.deleteProperty(result, name);
    else result[name] = value;
  }
  return result;
}

export function createFakeJobClient(): FakeJobClient {
  const jobs = new Map<string, V1Job>();
  const watchers = new Set<(job: V1Job) => void>();
  let version = 0;
  const nextVersion = () => String((version += 1));

  const fake: FakeJobClient = {
    jobs,
    calls: [],
    unavailable: false,
    conflicts: 0,
    invalidNames: new Set(),
    pods: new Map(),
    logs: new Map(),
    events: new Map(),
    job: (namespace, name) => jobs.get(key(namespace, name)),
    allJobs: () => [...jobs.values()],
    async createJob(job) {
      const namespace = job.metadata?.namespace ?? 'default';
      const name = job.metadata?.name ?? '';
      record(`create ${namespace}/${name}`);
      if (fake.invalidNames.has(key(namespace, name)))
        throw jesError('K8S_INVALID', `create Job ${namespace}/${name}: Kubernetes answered 422`);
      if (jobs.has(key(namespace, name))) return 'exists';
      jobs.set(
        key(namespace, name),
        structuredClone({
          ...job,
          metadata: { ...job.metadata, resourceVersion: nextVersion(), uid: `uid-${name}` },
        }),
      );
      return 'created';
    },
    async readJob(namespace, name) {
      record(`read ${namespace}/${name}`);
      const job = jobs.get(key(namespace, name));
      return job === undefined ? undefined : structuredClone(job);
    },
    async patchJob(namespace, name, patch: JobPatch) {
      record(`patch ${namespace}/${name}`);
      const job = jobs.get(key(namespace, name));
      if (job === undefined)
        throw jesError('K8S_NOT_FOUND', `patch Job ${namespace}/${name}: Kubernetes answered 404`);
      if (patch.resourceVersion !== undefined && fake.conflicts > 0) {
        // As the Job controller writing the status meanwhile: the version moved on.
        fake.conflicts -= 1;
        jobs.set(key(namespace, name), {
          ...job,
          metadata: { ...job.metadata, resourceVersion: nextVersion() },
        });
        throw jesError('K8S_CONFLICT', `patch Job ${namespace}/${name}: Kubernetes answered 409`);
      }
      if (patch.resourceVersion !== undefined && patch.resourceVersion !== job.metadata?.resourceVersion) {
        throw jesError('K8S_CONFLICT', `patch Job ${namespace}/${name}: Kubernetes answered 409`);
      }
      const metadata = {
        ...job.metadata,
        labels: applyMap(job.metadata?.labels, patch.labels),
        annotations: applyMap(job.metadata?.annotations, patch.annotations),
        ...(patch.finalizers === undefined ? {} : { finalizers: patch.finalizers }),
        resourceVersion: nextVersion(),
      };
      const spec =
        job.spec && patch.suspend !== undefined ? { ...job.spec, suspend: patch.suspend } : job.spec;
      const updated: V1Job = { ...job, metadata, ...(spec === undefined ? {} : { spec }) };
      if (
        updated.metadata?.deletionTimestamp !== undefined &&
        (updated.metadata.finalizers ?? []).length === 0
      ) {
        jobs.delete(key(namespace, name));
      } else {
        jobs.set(key(namespace, name), updated);
      }
      return structuredClone(updated);
    },
    async listJobs(namespace, labelSelector) {
      record(`list ${namespace} ${labelSelector}`);
      return [...jobs.values()]
        .filter(
          (job) =>
            (namespace === undefined || job.metadata?.namespace === namespace) &&
            matchesSelector(job.metadata?.labels, labelSelector),
        )
        .map((job) => structuredClone(job));
    },
    async deleteJob(namespace, name) {
      record(`delete ${namespace}/${name}`);
      const job = jobs.get(key(namespace, name));
      if (job === undefined) return;
      if ((job.metadata?.finalizers ?? []).length === 0) jobs.delete(key(namespace, name));
      else
        jobs.set(key(namespace, name), {
          ...job,
          metadata: { ...job.metadata, deletionTimestamp: new Date() },
        });
    },
    async listPods(namespace, labelSelector) {
      record(`pods ${namespace} ${labelSelector}`);
      const pods =
        namespace === undefined ? [...fake.pods.values()].flat() : (fake.pods.get(namespace) ?? []);
      return pods.filter((pod) => matchesSelector(pod.metadata?.labels, labelSelector));
    },
    async readLogTail(namespace, pod, container, tailLines) {
      record(`log ${namespace}/${pod}/${container}`);
      const text = fake.logs.get(`${namespace}/${pod}/${container}`);
      if (text === undefined)
        throw jesError(
          'K8S_INVALID',
          `read log of ${namespace}/${pod}/${container}: Kubernetes answered 400`,
        );
      // As the kubelet: the last `tailLines` lines.
      const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
      return `${lines.slice(-tailLines).join('\n')}\n`;
    },
    async listEvents(namespace, involvedName) {
      record(`events ${namespace}/${involvedName}`);
      return fake.events.get(key(namespace, involvedName)) ?? [];
    },
    async ping(namespace) {
      record(`ping ${namespace}`);
    },
    async watchJobs(namespace, labelSelector, onChange) {
      record(`watch ${namespace ?? '*'} ${labelSelector}`);
      const watcher = (job: V1Job) => {
        const inNamespace = namespace === undefined || job.metadata?.namespace === namespace;
        if (inNamespace && matchesSelector(job.metadata?.labels, labelSelector))
          onChange(structuredClone(job));
      };
      watchers.add(watcher);
      return () => watchers.delete(watcher);
    },
    setJobStatus(namespace, name, status) {
      const job = jobs.get(key(namespace, name));
      if (job === undefined) throw new Error(`no Job ${namespace}/${name}`);
      const updated: V1Job = {
        ...job,
        status,
        metadata: { ...job.metadata, resourceVersion: nextVersion() },
      };
      jobs.set(key(namespace, name), updated);
      for (const watcher of watchers) watcher(updated);
    },
  };

  function record(call: string): void {
    fake.calls.push(call);
    if (fake.unavailable)
      throw jesError('K8S_UNAVAILABLE', `${call}: cannot reach the Kubernetes API (fake outage)`);
  }
  return fake;
}

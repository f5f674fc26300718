import {
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type CoreV1Event,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node';
import { isJesError, jesError } from '../errors/index.js';
import { fromKubernetesError } from './errors.js';

/**
 * The project's own interface to Kubernetes: everything the functions do with the API, and nothing else (the RBAC
 * manifests grant exactly these verbs). Tests use a fake behind this interface; production uses client-node below.
 */
export interface JobClient {
  /** `exists` when a Job of that name is already there (a redelivered event): not an error. */
  createJob(job: V1Job): Promise<'created' | 'exists'>;
  readJob(namespace: string, name: string): Promise<V1Job | undefined>;
  /**
   * Merge-patches labels/annotations/spec. With `resourceVersion` the patch applies only to that version
   * (optimistic concurrency): a newer Job gives JES_ERR_K8S_CONFLICT.
   */
  patchJob(namespace: string, name: string, patch: JobPatch): Promise<V1Job>;
  /** Jobs matching the selector in one namespace, or in all (`undefined`, needs cluster-wide list). */
  listJobs(namespace: string | undefined, labelSelector: string): Promise<V1Job[]>;
  deleteJob(namespace: string, name: string): Promise<void>;
  listPods(namespace: string | undefined, labelSelector: string): Promise<V1Pod[]>;
  /**
   * Calls `onChange` for every change of a Job matching the selector until the returned stop function is called;
   * `onEnd` when the watch ends (the caller re-watches).
   */
  watchJobs(
    namespace: string | undefined,
    labelSelector: string,
    onChange: (job: V1Job) => void,
    onEnd: (error?: unknown) => void,
  ): Promise<() => void>;
  /** The last `tailLines` lines of a container's log (the caller bounds the size further). */
  readLogTail(namespace: string, pod: string, container: string, tailLines: number): Promise<string>;
  listEvents(namespace: string, involvedName: string): Promise<CoreV1Event[]>;
  /** Resolves when the API answers (used by /readyz). */
  ping(namespace: string): Promise<void>;
}

export interface JobPatch {
  readonly resourceVersion?: string;
  readonly labels?: Record<string, string | null>;
  readonly annotations?: Record<string, string | null>;
  readonly finalizers?: string[];
  readonly suspend?: boolean;
}

/** The kubeconfig ($KUBECONFIG, ~/.kube/config, or in-cluster), or a precise error saying which file failed. */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const config = new KubeConfig();
  try {
    if (path === undefined) config.loadFromDefault();
    else config.loadFromFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw jesError(
      'K8S_UNAVAILABLE',
      `Cannot load the kubeconfig (${reason}): point KUBECONFIG at a readable kubeconfig file, or run inside a cluster`,
      { cause: error },
    );
  }
  return config;
}

export function createJobClient(config: KubeConfig): JobClient {
  const batch = config.makeApiClient(BatchV1Api);
  const core = config.makeApiClient(CoreV1Api);
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

  async function guard<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw fromKubernetesError(error, action);
    }
  }

  return {
    async createJob(job) {
      const namespace = job.metadata?.namespace ?? 'default';
      try {
        await guard(`create Job ${namespace}/${job.metadata?.name ?? ''}`, () =>
          batch.createNamespacedJob({ namespace, body: job }),
        );
        return 'created';
      } catch (error) {
        if (isJesError(error, 'K8S_CONFLICT')) return 'exists';
        throw error;
      }
    },
    async readJob(namespace, name) {
      try {
        return await guard(`read Job ${namespace}/${name}`, () =>
          batch.readNamespacedJob({ namespace, name }),
        );
      } catch (error) {
        if (isJesError(error, 'K8S_NOT_FOUND')) return undefined;
        throw error;
      }
    },
    async patchJob(namespace, name, patch) {
      const metadata = {
        ...(patch.resourceVersion === undefined ? {} : { resourceVersion: patch.resourceVersion }),
        ...(patch.labels === undefined ? {} : { labels: patch.labels }),
        ...(patch.annotations === undefined ? {} : { annotations: patch.annotations }),
        ...(patch.finalizers === undefined ? {} : { finalizers: patch.finalizers }),
      };
      const body = { metadata, ...(patch.suspend === undefined ? {} : { spec: { suspend: patch.suspend } }) };
      return guard(`patch Job ${namespace}/${name}`, () =>
        batch.patchNamespacedJob({ namespace, name, body }, mergePatch),
      );
    },
    async listJobs(namespace, labelSelector) {
      const list = await guard(`list Jobs in ${namespace ?? 'all namespaces'}`, () =>
        namespace === undefined
          ? batch.listJobForAllNamespaces({ labelSelector })
          : batch.listNamespacedJob({ namespace, labelSelector }),
      );
      return list.items;
    },
    async deleteJob(namespace, name) {
      try {
        await guard(`delete Job ${namespace}/${name}`, () =>
          batch.deleteNamespacedJob({ namespace, name, propagationPolicy: 'Background' }),
        );
      } catch (error) {
        if (!isJesError(error, 'K8S_NOT_FOUND')) throw error;
      }
    },
    async listPods(namespace, labelSelector) {
      const list = await guard(`list Pods in ${namespace ?? 'all namespaces'}`, () =>
        namespace === undefined
          ? core.listPodForAllNamespaces({ labelSelector })
          : core.listNamespacedPod({ namespace, labelSelector }),
      );
      return list.items;
    },
    async watchJobs(namespace, labelSelector, onChange, onEnd) {
      const path =
        namespace === undefined ? '/apis/batch/v1/jobs' : `/apis/batch/v1/namespaces/${namespace}/jobs`;
      const request = await guard(`watch Jobs in ${namespace ?? 'all namespaces'}`, () =>
        new Watch(config).watch(
          path,
          { labelSelector, allowWatchBookmarks: true },
          (type: string, object: V1Job) => {
            if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') onChange(object);
          },
          (error: unknown) => {
            onEnd(error ?? undefined);
          },
        ),
      );
      return () => {
        request.abort();
      };
    },
    async readLogTail(namespace, pod, container, tailLines) {
      return guard(`read log of ${namespace}/${pod}/${container}`, () =>
        core.readNamespacedPodLog({ namespace, name: pod, container, tailLines }),
      );
    },
    async listEvents(namespace, involvedName) {
      const list = await guard(`list Events in ${namespace}`, () =>
        core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${involvedName}` }),
      );
      return list.items;
    },
    async ping(namespace) {
      await guard('reach the API', () => batch.listNamespacedJob({ namespace, limit: 1 }));
    },
  };
}

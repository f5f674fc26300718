import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ApiException,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
  type V1Job,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { unique } from '../../helpers/factories.js';

/**
 * The cluster tier's view of Kubernetes: the admin kubeconfig from the environment (the local control plane or any
 * cluster), namespaces and RBAC made from the project's own manifests (infra/base), and ServiceAccount kubeconfigs
 * the functions run with, as in production.
 */

const root = resolve(import.meta.dirname, '../../..');

export interface TestCluster {
  readonly admin: KubeConfig;
  readonly core: CoreV1Api;
  readonly batch: BatchV1Api;
  /** Where Jobs run (the functions' RBAC is bound here). */
  readonly jobsNamespace: string;
  /** Where the functions' ServiceAccounts live. */
  readonly systemNamespace: string;
  /** A namespace the functions have no rights in. */
  readonly otherNamespace: string;
  readonly handlerKubeconfig: string;
  readonly reconcilerKubeconfig: string;
  /** Kubeconfig of a ServiceAccount's token, for access reviews. */
  tokenKubeconfig(serviceAccount: string): Promise<string>;
  jobsOfRun(runId: string): Promise<V1Job[]>;
  close(): Promise<void>;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((wake) => setTimeout(wake, 200));
  }
}

export async function openCluster(): Promise<TestCluster> {
  const kubeconfig = process.env.KUBECONFIG;
  if (kubeconfig === undefined || kubeconfig === '') {
    throw new Error('KUBECONFIG is not set: run the cluster tier through `npm run test:cluster`');
  }
  const admin = new KubeConfig();
  admin.loadFromFile(kubeconfig);
  const core = admin.makeApiClient(CoreV1Api);
  const batch = admin.makeApiClient(BatchV1Api);
  const suffix = unique('c')
    .replace(/[^a-z0-9]/g, '')
    .slice(-10);
  const jobsNamespace = `jes-jobs-${suffix}`;
  const systemNamespace = `jes-sys-${suffix}`;
  const otherNamespace = `jes-other-${suffix}`;
  for (const name of [jobsNamespace, systemNamespace, otherNamespace]) {
    await core.createNamespace({ body: { metadata: { name, labels: { 'jes.dev/test': 'cluster' } } } });
  }
  await applyManifests(admin, jobsNamespace, systemNamespace);
  await waitFor('the default ServiceAccount of the jobs namespace', async () => {
    const list = await core.listNamespacedServiceAccount({ namespace: jobsNamespace });
    return list.items.some((account) => account.metadata?.name === 'default') ? true : undefined;
  });
  const directory = await mkdtemp(join(tmpdir(), 'jes-cluster-'));

  const tokenKubeconfig = async (serviceAccount: string): Promise<string> => {
    const request = await core.createNamespacedServiceAccountToken({
      name: serviceAccount,
      namespace: systemNamespace,
      body: { spec: { expirationSeconds: 3600, audiences: [] } },
    });
    const cluster = admin.getCurrentCluster();
    if (cluster === null) throw new Error('the admin kubeconfig has no current cluster');
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [cluster],
      users: [{ name: serviceAccount, token: request.status?.token ?? '' }],
      contexts: [{ name: serviceAccount, cluster: cluster.name, user: serviceAccount }],
      currentContext: serviceAccount,
    });
    const path = join(directory, `${serviceAccount}.kubeconfig`);
    await writeFile(path, config.exportConfig(), { mode: 0o600 });
    return path;
  };

  return {
    admin,
    core,
    batch,
    jobsNamespace,
    systemNamespace,
    otherNamespace,
    handlerKubeconfig: await tokenKubeconfig('job-executor-handler'),
    reconcilerKubeconfig: await tokenKubeconfig('job-executor-reconciler'),
    tokenKubeconfig,
    async jobsOfRun(runId) {
      const list = await batch.listNamespacedJob({
        namespace: jobsNamespace,
        labelSelector: `jes.dev/run=${runId}`,
      });
      return list.items;
    },
    async close() {
      await rm(directory, { recursive: true, force: true });
      for (const name of [jobsNamespace, systemNamespace, otherNamespace]) {
        await releaseJobs(batch, name);
        await core.deleteNamespace({ name }).catch(() => undefined);
      }
    },
  };
}

/** The project's manifests, pointed at this test's namespaces. */
async function applyManifests(
  admin: KubeConfig,
  jobsNamespace: string,
  systemNamespace: string,
): Promise<void> {
  const client = KubernetesObjectApi.makeApiClient(admin);
  for (const file of ['serviceaccounts.yaml', 'rbac-jobs.yaml', 'job-serviceaccount.yaml']) {
    const text = await readFile(join(root, 'infra/base', file), 'utf8');
    for (const document of parseAllDocuments(text)) {
      const object = document.toJS() as KubernetesObject & { subjects?: { namespace?: string }[] };
      const namespace = object.metadata?.namespace === 'job-executor' ? systemNamespace : jobsNamespace;
      object.metadata = { ...object.metadata, namespace };
      for (const subject of object.subjects ?? []) subject.namespace = systemNamespace;
      await client.create(object);
    }
  }
  // Cluster-scoped, the same for every test: created once, kept (it only concerns the executor's ServiceAccounts).
  const policy = await readFile(join(root, 'infra/base/admission-policy.yaml'), 'utf8');
  for (const document of parseAllDocuments(policy)) {
    const object = document.toJS() as KubernetesObject;
    // As `kubectl apply` would record it, so that the manifests tier can `kubectl apply --dry-run` over it silently.
    object.metadata = {
      ...object.metadata,
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(object) },
    };
    await client.create(object).catch((error: unknown) => {
      if (!(error instanceof ApiException && (error as ApiException<unknown>).code === 409)) throw error;
    });
  }
}

/** Our Jobs carry a finalizer the reconciler removes; a test that ends early removes it so the namespace can go. */
async function releaseJobs(batch: BatchV1Api, namespace: string): Promise<void> {
  const list = await batch.listNamespacedJob({ namespace }).catch(() => ({ items: [] as V1Job[] }));
  for (const job of list.items) {
    if ((job.metadata?.finalizers ?? []).length === 0) continue;
    await batch
      .patchNamespacedJob({
        namespace,
        name: job.metadata?.name ?? '',
        body: [{ op: 'replace', path: '/metadata/finalizers', value: [] }],
      })
      .catch(() => undefined);
  }
}

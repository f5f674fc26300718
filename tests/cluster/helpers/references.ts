import { SETTINGS_VARIABLES } from '../../../lib/settings/index.js';
import { groupOf, type KubeObject } from './manifests.js';

/**
 * What an API server does not check at admission: that the objects of one build refer to each other correctly.
 * Each function returns human-readable problems (empty = fine).
 */

/** Secrets the operator creates out of band (infra/README.md); every other reference must be in the build. */
export const EXTERNAL_SECRETS = new Set(['job-executor-keptn']);

const RBAC = 'rbac.authorization.k8s.io';

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'CustomResourceDefinition',
]);

interface PodSpec {
  serviceAccountName?: string;
  containers?: Container[];
  initContainers?: Container[];
  volumes?: { configMap?: { name?: string }; secret?: { secretName?: string } }[];
}

interface Container {
  image?: string;
  env?: {
    valueFrom?: { configMapKeyRef?: { name?: string }; secretKeyRef?: { name?: string; optional?: boolean } };
  }[];
  envFrom?: { configMapRef?: { name?: string }; secretRef?: { name?: string } }[];
}

interface Ref {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

/** `<group>/<kind>/<namespace>/<name>` (core kinds have the group ''; a Knative Service is not a core Service). */
function id(kind: string, namespace: string | undefined, name: string, group = ''): string {
  return `${group}/${kind}/${namespace ?? ''}/${name}`;
}

function describeObject(object: KubeObject): string {
  return `${object.kind} ${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

function index(objects: readonly KubeObject[]): Set<string> {
  return new Set(
    objects.map((object) =>
      id(object.kind, object.metadata.namespace, object.metadata.name, groupOf(object)),
    ),
  );
}

function podSpecOf(object: KubeObject): PodSpec | undefined {
  const spec = object.spec as Record<string, unknown> | undefined;
  type WithPod = { template?: { spec?: PodSpec } };
  switch (object.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
      return (spec as WithPod | undefined)?.template?.spec;
    case 'CronJob':
      return (spec as { jobTemplate?: { spec?: WithPod } } | undefined)?.jobTemplate?.spec?.template?.spec;
    case 'Service':
      return object.apiVersion.startsWith('serving.knative.dev/')
        ? (spec as WithPod | undefined)?.template?.spec
        : undefined;
    default:
      return undefined;
  }
}

function podReferences(pod: PodSpec): { configMaps: string[]; secrets: string[] } {
  const configMaps: string[] = [];
  const secrets: string[] = [];
  for (const container of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
    for (const from of container.envFrom ?? []) {
      if (from.configMapRef?.name !== undefined) configMaps.push(from.configMapRef.name);
      if (from.secretRef?.name !== undefined) secrets.push(from.secretRef.name);
    }
    for (const variable of container.env ?? []) {
      const source = variable.valueFrom;
      if (source?.configMapKeyRef?.name !== undefined) configMaps.push(source.configMapKeyRef.name);
      if (source?.secretKeyRef?.name !== undefined) secrets.push(source.secretKeyRef.name);
    }
  }
  for (const volume of pod.volumes ?? []) {
    if (volume.configMap?.name !== undefined) configMaps.push(volume.configMap.name);
    if (volume.secret?.secretName !== undefined) secrets.push(volume.secret.secretName);
  }
  return { configMaps, secrets };
}

/** ServiceAccounts, ConfigMaps and Secrets named by workloads (Deployments, CronJobs, Knative Services). */
export function workloadProblems(objects: readonly KubeObject[]): string[] {
  const known = index(objects);
  const problems: string[] = [];
  for (const object of objects) {
    const pod = podSpecOf(object);
    if (pod === undefined) continue;
    const namespace = object.metadata.namespace;
    const account = pod.serviceAccountName;
    if (account === undefined) problems.push(`${describeObject(object)} runs as the default ServiceAccount`);
    else if (!known.has(id('ServiceAccount', namespace, account)))
      problems.push(`${describeObject(object)}: ServiceAccount ${account} is not in the build`);
    const { configMaps, secrets } = podReferences(pod);
    for (const name of configMaps) {
      if (!known.has(id('ConfigMap', namespace, name)))
        problems.push(`${describeObject(object)}: ConfigMap ${name} is not in the build`);
    }
    for (const name of secrets) {
      if (!EXTERNAL_SECRETS.has(name) && !known.has(id('Secret', namespace, name)))
        problems.push(
          `${describeObject(object)}: Secret ${name} is neither in the build nor a documented one`,
        );
    }
  }
  return problems;
}

/** RoleBindings point at Roles and ServiceAccounts of the build. */
export function rbacProblems(objects: readonly KubeObject[]): string[] {
  const known = index(objects);
  const problems: string[] = [];
  for (const binding of objects.filter((object) => object.kind === 'RoleBinding')) {
    const roleRef = binding.roleRef as { kind: string; name: string };
    if (roleRef.kind !== 'Role' || !known.has(id('Role', binding.metadata.namespace, roleRef.name, RBAC)))
      problems.push(
        `${describeObject(binding)}: roleRef ${roleRef.kind} ${roleRef.name} is not a Role of the build`,
      );
    for (const subject of (binding.subjects ?? []) as { kind: string; name: string; namespace?: string }[]) {
      if (
        subject.kind !== 'ServiceAccount' ||
        !known.has(id('ServiceAccount', subject.namespace, subject.name))
      )
        problems.push(
          `${describeObject(binding)}: subject ${subject.kind} ${subject.name} is not in the build`,
        );
    }
  }
  return problems;
}

function refProblem(owner: KubeObject, where: string, ref: Ref | undefined, known: Set<string>): string[] {
  if (ref === undefined) return [];
  const namespace = ref.namespace ?? owner.metadata.namespace;
  const group = groupOf({ apiVersion: ref.apiVersion ?? '' });
  return known.has(id(ref.kind ?? '', namespace, ref.name ?? '', group))
    ? []
    : [
        `${describeObject(owner)}: ${where} ${ref.kind ?? '?'} ${namespace ?? ''}/${ref.name ?? '?'} is not in the build`,
      ];
}

/** Knative sinks, subscribers, brokers and binding subjects exist in the build. */
export function eventingProblems(objects: readonly KubeObject[]): string[] {
  const known = index(objects);
  const problems: string[] = [];
  for (const object of objects) {
    const spec = (object.spec ?? {}) as {
      sink?: { ref?: Ref };
      subscriber?: { ref?: Ref };
      broker?: string;
      subject?: Ref & { selector?: { matchLabels?: Record<string, string> } };
    };
    problems.push(...refProblem(object, 'sink', spec.sink?.ref, known));
    problems.push(...refProblem(object, 'subscriber', spec.subscriber?.ref, known));
    if (object.kind === 'Trigger' && spec.broker !== undefined)
      problems.push(
        ...refProblem(
          object,
          'broker',
          { apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', name: spec.broker },
          known,
        ),
      );
    const subject = spec.subject;
    if (object.kind === 'SinkBinding' && subject?.selector?.matchLabels !== undefined) {
      const labels = Object.entries(subject.selector.matchLabels);
      const bound = objects.filter(
        (candidate) =>
          candidate.kind === subject.kind &&
          candidate.apiVersion === subject.apiVersion &&
          candidate.metadata.namespace === object.metadata.namespace &&
          labels.every(([key, value]) => candidate.metadata.labels?.[key] === value),
      );
      if (bound.length === 0)
        problems.push(`${describeObject(object)}: the subject selector matches nothing`);
    }
  }
  return problems;
}

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
}

function grants(objects: readonly KubeObject[], account: Ref, namespace: string, verbs: string[]): boolean {
  const roles = objects
    .filter(
      (binding) =>
        binding.kind === 'RoleBinding' &&
        binding.metadata.namespace === namespace &&
        ((binding.subjects ?? []) as Ref[]).some(
          (subject) => subject.name === account.name && subject.namespace === account.namespace,
        ),
    )
    .map((binding) => (binding.roleRef as { name: string }).name);
  const rules = objects
    .filter(
      (role) =>
        role.kind === 'Role' && role.metadata.namespace === namespace && roles.includes(role.metadata.name),
    )
    .flatMap((role) => (role.rules ?? []) as Rule[]);
  return verbs.every((verb) =>
    rules.some(
      (rule) =>
        (rule.apiGroups ?? []).includes('batch') &&
        (rule.resources ?? []).includes('jobs') &&
        (rule.verbs ?? []).includes(verb),
    ),
  );
}

/**
 * The settings agree with the objects: JOB_NAMESPACE exists and holds the functions' Roles and the default Job
 * ServiceAccount (without a token), MANAGED_BY is what the ApiServerSource selects, and the ApiServerSource's
 * account may get/list/watch Jobs where it watches (the check Knative makes before it starts the adapter).
 */
export function settingsProblems(objects: readonly KubeObject[]): string[] {
  const config = objects.find(
    (object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('job-executor-config'),
  );
  if (config === undefined) return ['no job-executor-config ConfigMap'];
  const data = (config.data ?? {}) as Record<string, string>;
  const problems = Object.keys(data)
    .filter((key) => !SETTINGS_VARIABLES.includes(key))
    .map((key) => `job-executor-config: ${key} is not a setting`);
  const jobs = data.JOB_NAMESPACE ?? 'default';
  const known = index(objects);
  if (!known.has(id('Namespace', undefined, jobs)))
    problems.push(`JOB_NAMESPACE ${jobs} is not a Namespace of the build`);
  for (const role of ['job-executor-handler', 'job-executor-reconciler']) {
    if (!known.has(id('RoleBinding', jobs, role, RBAC)))
      problems.push(`no RoleBinding ${role} in JOB_NAMESPACE ${jobs}`);
  }
  const account = data.DEFAULT_JOB_SERVICE_ACCOUNT;
  const jobAccount = objects.find(
    (object) =>
      object.kind === 'ServiceAccount' &&
      object.metadata.namespace === jobs &&
      object.metadata.name === account,
  );
  if (jobAccount === undefined)
    problems.push(`DEFAULT_JOB_SERVICE_ACCOUNT ${account ?? '(unset)'} is not in ${jobs}`);
  else if (jobAccount.automountServiceAccountToken !== false)
    problems.push(`${account ?? ''} must not mount a token (automountServiceAccountToken: false)`);
  problems.push(...imageProblems(objects, data.INIT_CONTAINER_IMAGE));
  for (const source of objects.filter((object) => object.kind === 'ApiServerSource')) {
    problems.push(...apiServerSourceProblems(objects, source, data.MANAGED_BY ?? 'job-executor'));
  }
  return problems;
}

/** The functions run the image the Jobs' init containers use (one image, several entrypoints). */
function imageProblems(objects: readonly KubeObject[], initImage: string | undefined): string[] {
  const images = objects.flatMap((object) =>
    (podSpecOf(object)?.containers ?? []).map((container) => ({ object, image: container.image })),
  );
  if (images.length === 0) return [];
  if (initImage === undefined) return ['INIT_CONTAINER_IMAGE is not set'];
  return images
    .filter(({ image }) => image !== initImage)
    .map(
      ({ object, image }) =>
        `${describeObject(object)} runs ${image ?? '?'}, INIT_CONTAINER_IMAGE is ${initImage}`,
    );
}

function apiServerSourceProblems(
  objects: readonly KubeObject[],
  source: KubeObject,
  managedBy: string,
): string[] {
  const spec = source.spec as {
    serviceAccountName?: string;
    namespaceSelector?: { matchExpressions?: { key: string; values?: string[] }[] };
    resources?: { kind: string; selector?: { matchLabels?: Record<string, string> } }[];
  };
  const problems: string[] = [];
  const watched = (spec.namespaceSelector?.matchExpressions ?? [])
    .filter((expression) => expression.key === 'kubernetes.io/metadata.name')
    .flatMap((expression) => expression.values ?? []);
  const account = { name: spec.serviceAccountName ?? 'default', namespace: source.metadata.namespace ?? '' };
  for (const namespace of watched.length > 0 ? watched : [account.namespace]) {
    if (!grants(objects, account, namespace, ['get', 'list', 'watch']))
      problems.push(`${describeObject(source)}: ${account.name} may not get/list/watch Jobs in ${namespace}`);
  }
  for (const resource of spec.resources ?? []) {
    if (resource.selector?.matchLabels?.['app.kubernetes.io/managed-by'] !== managedBy)
      problems.push(`${describeObject(source)}: selects ${resource.kind}s not managed by ${managedBy}`);
  }
  return problems;
}

/** Every namespaced object names its namespace (apply must not depend on the kubeconfig's default namespace). */
export function namespaceProblems(objects: readonly KubeObject[], allowed: ReadonlySet<string>): string[] {
  return objects.flatMap((object) => {
    if (CLUSTER_SCOPED.has(object.kind)) return [];
    const namespace = object.metadata.namespace;
    if (namespace === undefined) return [`${describeObject(object)} has no namespace`];
    return allowed.has(namespace)
      ? []
      : [`${describeObject(object)} is in the unexpected namespace ${namespace}`];
  });
}

import { createHash } from 'node:crypto';
import type {
  V1Container,
  V1EnvFromSource,
  V1EnvVar,
  V1Job,
  V1PodSecurityContext,
  V1ResourceRequirements,
  V1SecurityContext,
  V1Volume,
} from '@kubernetes/client-node';
import { stringify as toYaml } from 'yaml';
import type { Action, Task } from '../config/schema.js';
import { jesError, type Issue } from '../errors/index.js';
import type { IncomingEvent } from '../events/cloudevent.js';
import { evaluateJsonPath } from '../matching/jsonpath.js';
import type { Settings } from '../settings/index.js';
import {
  Annotations,
  CONTAINER_NAMES,
  Labels,
  REPORT_FINALIZER,
  RunStates,
  WORKSPACE_PATH,
  type ConfigProvenance,
  type ReplyEnvelope,
  type StartedState,
} from './contract.js';

/**
 * The pure Job builder: one matched action of one event → one Job per task (task 0 running, the rest suspended),
 * carrying the state contract (./contract.ts). Same input, same output: names are derived from the event, never
 * from the clock, so a redelivered event maps onto the Jobs that already exist.
 */

export interface RunInput {
  readonly event: IncomingEvent;
  readonly envelope: ReplyEnvelope;
  readonly action: Action;
  readonly actionIndex: number;
  readonly config: ConfigProvenance;
  readonly started: StartedState;
  /** ISO time recorded as the run's creation time (annotation only; never part of a name). */
  readonly createdAt: string;
}

export interface BuildSettings {
  readonly jobs: Settings['jobs'];
  readonly config: Pick<Settings['config'], 'source' | 'directory'>;
  readonly keptn: Pick<Settings['keptn'], 'resourceServiceUrl' | 'uriEscaping' | 'apiTokenSecret'>;
}

export interface Run {
  readonly runId: string;
  readonly jobs: readonly V1Job[];
}

const MIN_TTL_SECONDS = 60;
const POD_USER = 1000;
const POD_GROUP = 2000;

/** sha256 over the event's source and id: the same event (however often delivered) has the same key. */
export function eventKey(event: Pick<IncomingEvent, 'source' | 'id'>): string {
  return createHash('sha256').update(`${event.source}\n${event.id}`).digest('hex').slice(0, 16);
}

export function runIdOf(event: Pick<IncomingEvent, 'source' | 'id'>, actionIndex: number): string {
  return `${eventKey(event)}-${actionIndex}`;
}

/** `jes-<action slug ≤ 20>-<event key>-<action>-<task>`, at most 63 characters. */
export function jobName(
  event: Pick<IncomingEvent, 'source' | 'id'>,
  action: { name: string },
  actionIndex: number,
  taskIndex: number,
): string {
  const slug = action.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 20)
    .replace(/-+$/, '');
  return ['jes', slug, eventKey(event), String(actionIndex), String(taskIndex)]
    .filter((part) => part !== '')
    .join('-');
}

export function buildRun(input: RunInput, settings: BuildSettings): Run {
  const runId = runIdOf(input.event, input.actionIndex);
  const jobs = input.action.tasks.map((task, taskIndex) => buildJob(input, settings, task, taskIndex));
  return { runId, jobs };
}

function buildJob(input: RunInput, settings: BuildSettings, task: Task, taskIndex: number): V1Job {
  const { jobs } = settings;
  const name = jobName(input.event, input.action, input.actionIndex, taskIndex);
  const timeoutSeconds = task.maxPollDuration ?? jobs.defaultTimeoutSeconds;
  const selectorLabels = {
    [Labels.managedBy]: jobs.managedBy,
    [Labels.run]: runIdOf(input.event, input.actionIndex),
    [Labels.event]: eventKey(input.event),
    [Labels.actionIndex]: String(input.actionIndex),
    [Labels.taskIndex]: String(taskIndex),
  };
  const serviceAccount = task.serviceAccount ?? jobs.defaultServiceAccount;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: task.namespace ?? jobs.namespace,
      labels: { ...task.labels, ...selectorLabels, [Labels.state]: RunStates.active },
      annotations: { ...task.annotations, ...contractAnnotations(input, task, taskIndex, timeoutSeconds) },
      finalizers: [REPORT_FINALIZER],
    },
    spec: {
      suspend: taskIndex > 0,
      backoffLimit: 0,
      activeDeadlineSeconds: timeoutSeconds,
      ttlSecondsAfterFinished: Math.max(
        MIN_TTL_SECONDS,
        task.ttlSecondsAfterFinished ?? jobs.defaultTtlSecondsAfterFinished,
      ),
      template: {
        metadata: { labels: { ...task.labels, ...selectorLabels } },
        spec: {
          restartPolicy: 'Never',
          enableServiceLinks: false,
          ...(serviceAccount === undefined ? {} : { serviceAccountName: serviceAccount }),
          // A token only when the config asks for an identity: a job cannot talk to the API by default.
          automountServiceAccountToken: task.serviceAccount !== undefined,
          securityContext: podSecurityContext(),
          ...(task.imagePullSecrets
            ? { imagePullSecrets: task.imagePullSecrets.map((secret) => ({ name: secret })) }
            : {}),
          ...(task.nodeSelector ? { nodeSelector: task.nodeSelector } : {}),
          ...(task.tolerations ? { tolerations: task.tolerations } : {}),
          volumes: volumes(settings),
          initContainers: [initContainer(input, settings, task)],
          containers: [taskContainer(input, settings, task, taskIndex)],
        },
      },
    },
  };
}

function contractAnnotations(
  input: RunInput,
  task: Task,
  taskIndex: number,
  timeoutSeconds: number,
): Record<string, string> {
  return {
    [Annotations.reply]: JSON.stringify(input.envelope),
    [Annotations.action]: input.action.name,
    [Annotations.task]: task.name,
    [Annotations.taskCount]: String(input.action.tasks.length),
    [Annotations.config]: JSON.stringify(input.config),
    [Annotations.image]: task.image,
    [Annotations.silent]: String(input.action.silent === true),
    [Annotations.timeoutSeconds]: String(timeoutSeconds),
    [Annotations.createdAt]: input.createdAt,
    ...(taskIndex === 0 ? { [Annotations.started]: input.started } : {}),
  };
}

function podSecurityContext(): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: POD_USER,
    runAsGroup: POD_GROUP,
    fsGroup: POD_GROUP,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** The secure default, overridden field by field by the task's securityContext (as in JES). */
export function containerSecurityContext(task: Pick<Task, 'securityContext'>): V1SecurityContext {
  const overrides = task.securityContext ?? {};
  return {
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    runAsUser: POD_USER,
    runAsGroup: POD_GROUP,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
    ...overrides,
  };
}

function volumes(settings: BuildSettings): V1Volume[] {
  const list: V1Volume[] = [
    { name: 'workspace', emptyDir: { sizeLimit: settings.jobs.workspaceSizeLimit } },
    // The root filesystem is read-only: tools that write scratch files (terraform, helm) get a writable /tmp.
    { name: 'tmp', emptyDir: { sizeLimit: settings.jobs.workspaceSizeLimit } },
  ];
  if (settings.config.source === 'directory' && settings.jobs.configClaim !== undefined) {
    list.push({
      name: 'config',
      persistentVolumeClaim: { claimName: settings.jobs.configClaim, readOnly: true },
    });
  }
  return list;
}

function workspaceMounts() {
  return [
    { name: 'workspace', mountPath: WORKSPACE_PATH },
    { name: 'tmp', mountPath: '/tmp' },
  ];
}

function initContainer(input: RunInput, settings: BuildSettings, task: Task): V1Container {
  const { envelope } = input;
  const env: V1EnvVar[] = [
    { name: 'JES_FILES', value: JSON.stringify(task.files ?? []) },
    { name: 'JES_EVENT', value: JSON.stringify(input.event) },
    { name: 'JES_WORKSPACE', value: WORKSPACE_PATH },
    { name: 'KEPTN_PROJECT', value: envelope.project },
    { name: 'KEPTN_STAGE', value: envelope.stage },
    { name: 'KEPTN_SERVICE', value: envelope.service },
    ...(envelope.gitcommitid === undefined ? [] : [{ name: 'GIT_COMMIT_ID', value: envelope.gitcommitid }]),
    ...configSourceEnv(settings),
  ];
  const mounts = workspaceMounts();
  if (
    settings.config.source === 'directory' &&
    settings.jobs.configClaim !== undefined &&
    settings.config.directory !== undefined
  ) {
    mounts.push({ name: 'config', mountPath: settings.config.directory });
  }
  return {
    name: CONTAINER_NAMES.init,
    image: settings.jobs.initImage,
    imagePullPolicy: 'IfNotPresent',
    command: ['node', '/app/dist/init.js'],
    env,
    resources: defaultResources(settings),
    securityContext: containerSecurityContext({}),
    volumeMounts: mounts,
  };
}

function configSourceEnv(settings: BuildSettings): V1EnvVar[] {
  if (settings.config.source === 'directory') {
    return [{ name: 'CONFIG_DIR', value: settings.config.directory ?? '' }];
  }
  const env: V1EnvVar[] = [
    { name: 'CONFIG_SOURCE', value: 'keptn' },
    { name: 'KEPTN_RESOURCE_SERVICE_URL', value: settings.keptn.resourceServiceUrl ?? '' },
    { name: 'KEPTN_RESOURCE_URI_ESCAPING', value: settings.keptn.uriEscaping },
  ];
  const secret = settings.keptn.apiTokenSecret;
  // The token is referenced, never copied into the Job object.
  if (secret !== undefined) {
    env.push({
      name: 'KEPTN_API_TOKEN',
      valueFrom: { secretKeyRef: { name: secret.name, key: secret.key } },
    });
  }
  return env;
}

function defaultResources(settings: BuildSettings): V1ResourceRequirements {
  const { limits, requests } = settings.jobs.defaultResources;
  return { limits: { ...limits }, requests: { ...requests } };
}

/** A task's `resources` block replaces the defaults entirely when present (as in JES). */
function taskResources(task: Task, settings: BuildSettings): V1ResourceRequirements {
  if (task.resources === undefined) return defaultResources(settings);
  const quantities = (block: { cpu?: string | number; memory?: string | number } | undefined) =>
    block === undefined
      ? undefined
      : Object.fromEntries(Object.entries(block).map(([key, value]) => [key, String(value)]));
  const limits = quantities(task.resources.limits);
  const requests = quantities(task.resources.requests);
  return { ...(limits ? { limits } : {}), ...(requests ? { requests } : {}) };
}

function taskContainer(input: RunInput, settings: BuildSettings, task: Task, taskIndex: number): V1Container {
  const { env, envFrom } = taskEnvironment(input, task, taskIndex);
  return {
    name: CONTAINER_NAMES.task,
    image: task.image,
    ...(task.imagePullPolicy ? { imagePullPolicy: task.imagePullPolicy } : {}),
    ...(task.cmd ? { command: [...task.cmd] } : {}),
    ...(task.args ? { args: [...task.args] } : {}),
    ...(task.workingDir ? { workingDir: task.workingDir } : {}),
    env,
    ...(envFrom.length > 0 ? { envFrom } : {}),
    resources: taskResources(task, settings),
    securityContext: containerSecurityContext(task),
    volumeMounts: workspaceMounts(),
    terminationMessagePolicy: 'File',
  };
}

/**
 * The task's env (in config order), then the built-ins. A Secret imported whole uses `envFrom`, so the handler
 * never reads Secrets: Kubernetes resolves them when the pod starts.
 */
function taskEnvironment(
  input: RunInput,
  task: Task,
  taskIndex: number,
): { env: V1EnvVar[]; envFrom: V1EnvFromSource[] } {
  const env: V1EnvVar[] = [];
  const envFrom: V1EnvFromSource[] = [];
  const issues: Issue[] = [];
  (task.env ?? []).forEach((variable, index) => {
    const at = `actions[${input.actionIndex}].tasks[${taskIndex}].env[${index}]`;
    if (variable.valueFrom === 'string') env.push({ name: variable.name, value: variable.value ?? '' });
    else if (variable.valueFrom === 'secret' && variable.secret === undefined)
      envFrom.push({ secretRef: { name: variable.name } });
    else if (variable.valueFrom === 'secret') {
      env.push({
        name: variable.name,
        valueFrom: { secretKeyRef: { name: variable.secret ?? '', key: variable.key ?? '' } },
      });
    } else {
      const result = evaluateJsonPath(variable.value ?? '$', input.event);
      if (result.found) env.push({ name: variable.name, value: formatValue(result.value, variable.as) });
      else
        issues.push({
          path: at,
          message: `${variable.value ?? ''} selects nothing in event ${input.event.id} (variable ${variable.name})`,
        });
    }
  });
  if (issues.length > 0) {
    throw jesError('EVENT_DATA_INVALID', `Task "${task.name}" takes env from the event, which lacks it`, {
      issues,
    });
  }
  return { env: [...env, ...builtInEnv(input)], envFrom };
}

function builtInEnv(input: RunInput): V1EnvVar[] {
  const { envelope } = input;
  const env: V1EnvVar[] = [
    { name: 'KEPTN_PROJECT', value: envelope.project },
    { name: 'KEPTN_STAGE', value: envelope.stage },
    { name: 'KEPTN_SERVICE', value: envelope.service },
    { name: 'KEPTN_CONTEXT', value: envelope.shkeptncontext ?? '' },
    { name: 'KEPTN_EVENT_ID', value: envelope.id },
  ];
  for (const [key, value] of Object.entries(envelope.labels)) {
    env.push({ name: `LABELS_${key.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`, value });
  }
  return env;
}

/** Strings as they are; `as: json`, objects and lists as JSON; `as: yaml` as YAML; numbers and booleans as text. */
export function formatValue(value: unknown, as: 'string' | 'json' | 'yaml' | undefined): string {
  if (as === 'yaml') return toYaml(value).trimEnd();
  if (as === 'json') return JSON.stringify(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

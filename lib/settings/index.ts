import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { hostname } from 'node:os';
import { collectIssues } from '../config/issues.js';
import { jesError } from '../errors/index.js';
import type { DecideLimits } from '../reconcile/decide.js';

/**
 * The one place that reads the environment. `loadSettings(env)` validates it once at start-up, fills in the
 * defaults and returns a deep-frozen Settings object that is passed to whatever needs it.
 * Every variable is documented in the README's configuration reference.
 */

const QUANTITY = '^[0-9]+(\\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$';
const NAME = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const Bool = Type.Union([Type.Literal('true'), Type.Literal('false')]);

const EnvSchema = Type.Object(
  {
    PORT: Type.String({ pattern: '^[0-9]{1,5}$', default: '8080' }),
    HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
    LOG_LEVEL: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
      { default: 'info' },
    ),
    KEPTN_API_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'an http(s) URL' })),
    KEPTN_API_TOKEN: Type.Optional(Type.String()),
    KEPTN_API_TOKEN_SECRET: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9][-a-z0-9.]*/[-._a-zA-Z0-9]+$',
        description: 'a Secret and key as <name>/<key>',
      }),
    ),
    KEPTN_RESOURCE_SERVICE_URL: Type.Optional(
      Type.String({ pattern: '^https?://', description: 'an http(s) URL' }),
    ),
    KEPTN_RESOURCE_URI_ESCAPING: Type.Union([Type.Literal('double'), Type.Literal('single')], {
      default: 'double',
    }),
    KEPTN_API_TIMEOUT_MS: Type.String({ pattern: '^[0-9]+$', default: '5000' }),
    KEPTN_API_RETRIES: Type.String({ pattern: '^[0-9]$', default: '3' }),
    KEPTN_SEND_STARTED: { ...Bool, default: 'true' },
    K_SINK: Type.Optional(Type.String({ pattern: '^https?://', description: 'an http(s) URL' })),
    CONFIG_SOURCE: Type.Optional(Type.Union([Type.Literal('keptn'), Type.Literal('directory')])),
    CONFIG_DIR: Type.Optional(Type.String({ minLength: 1 })),
    CONFIG_PVC: Type.Optional(Type.String({ pattern: NAME, description: 'a PersistentVolumeClaim name' })),
    CONFIG_CACHE_TTL_SECONDS: Type.String({ pattern: '^[0-9]+$', default: '30' }),
    CONFIG_CACHE_MAX_ENTRIES: Type.String({ pattern: '^[0-9]+$', default: '500' }),
    JOB_NAMESPACE: Type.String({ pattern: NAME, default: 'default', description: 'a namespace name' }),
    ALLOWED_NAMESPACES: Type.Optional(Type.String()),
    ALLOWED_IMAGES: Type.String({ default: '' }),
    ALLOW_PRIVILEGED_JOBS: { ...Bool, default: 'false' },
    DEFAULT_JOB_SERVICE_ACCOUNT: Type.Optional(
      Type.String({ pattern: NAME, description: 'a service account name' }),
    ),
    DEFAULT_RESOURCE_LIMITS_CPU: Type.String({ pattern: QUANTITY, default: '1' }),
    DEFAULT_RESOURCE_LIMITS_MEMORY: Type.String({ pattern: QUANTITY, default: '512Mi' }),
    DEFAULT_RESOURCE_REQUESTS_CPU: Type.String({ pattern: QUANTITY, default: '50m' }),
    DEFAULT_RESOURCE_REQUESTS_MEMORY: Type.String({ pattern: QUANTITY, default: '128Mi' }),
    DEFAULT_TASK_TIMEOUT_SECONDS: Type.String({ pattern: '^[1-9][0-9]*$', default: '300' }),
    DEFAULT_TTL_SECONDS_AFTER_FINISHED: Type.String({ pattern: '^[0-9]+$', default: '21600' }),
    WORKSPACE_SIZE_LIMIT: Type.String({ pattern: QUANTITY, default: '20Mi' }),
    INIT_CONTAINER_IMAGE: Type.String({ minLength: 1, default: 'ghcr.io/jes-serverless/job-executor:0.1.0' }),
    MANAGED_BY: Type.String({ pattern: NAME, default: 'job-executor' }),
    RESULTS_DIR: Type.Optional(Type.String({ minLength: 1 })),
    RECONCILER_ID: Type.Optional(Type.String({ pattern: '^[^@]+$', description: 'a name without @' })),
    RECONCILE_INTERVAL_SECONDS: Type.String({ pattern: '^[1-9][0-9]*$', default: '30' }),
    CLAIM_TIMEOUT_SECONDS: Type.String({ pattern: '^[1-9][0-9]*$', default: '120' }),
    STARTED_GRACE_SECONDS: Type.String({ pattern: '^[0-9]+$', default: '30' }),
    FAIL_FAST_IMAGE_PULL_SECONDS: Type.String({ pattern: '^[0-9]+$', default: '120' }),
    FAIL_FAST_CONFIG_SECONDS: Type.String({ pattern: '^[0-9]+$', default: '60' }),
    FAIL_FAST_UNSCHEDULABLE_SECONDS: Type.String({ pattern: '^[0-9]+$', default: '300' }),
    FAIL_FAST_CREATE_SECONDS: Type.String({ pattern: '^[0-9]+$', default: '60' }),
    INCOMPLETE_RUN_SECONDS: Type.String({ pattern: '^[0-9]+$', default: '600' }),
    EVENT_MAX_BYTES: Type.String({
      pattern: '^[1-9][0-9]{3,}$',
      default: '63488',
      description: 'at least 1000',
    }),
    LOG_TAIL_LINES: Type.String({ pattern: '^[1-9][0-9]*$', default: '500' }),
  },
  { additionalProperties: true },
);

type Env = Static<typeof EnvSchema>;

export interface ResourceDefaults {
  readonly limits: { readonly cpu: string; readonly memory: string };
  readonly requests: { readonly cpu: string; readonly memory: string };
}

export interface Settings {
  readonly host: string;
  readonly port: number;
  readonly logLevel: string;
  readonly keptn: {
    /** Base of the Keptn API (`…/api`); absent when no Keptn is used. */
    readonly apiUrl: string | undefined;
    readonly apiToken: string | undefined;
    /** Where Job init containers read the token from (never copied into a Job). */
    readonly apiTokenSecret: { readonly name: string; readonly key: string } | undefined;
    /** Base of the resource service (`…/api/resource-service` through the gateway). */
    readonly resourceServiceUrl: string | undefined;
    readonly uriEscaping: 'double' | 'single';
    readonly timeoutMs: number;
    readonly retries: number;
    /** False when the Keptn webhook-service already sends `.started` for us. */
    readonly sendStarted: boolean;
  };
  readonly sinkUrl: string | undefined;
  readonly config: {
    readonly source: 'keptn' | 'directory';
    readonly directory: string | undefined;
    readonly cacheTtlSeconds: number;
    readonly cacheMaxEntries: number;
  };
  readonly jobs: {
    readonly namespace: string;
    readonly allowedNamespaces: readonly string[];
    readonly allowedImages: readonly string[];
    readonly allowPrivileged: boolean;
    readonly defaultServiceAccount: string | undefined;
    readonly defaultResources: ResourceDefaults;
    readonly defaultTimeoutSeconds: number;
    readonly defaultTtlSecondsAfterFinished: number;
    readonly workspaceSizeLimit: string;
    readonly initImage: string;
    readonly managedBy: string;
    /** A claim holding CONFIG_DIR, mounted into init containers when the directory source is used in a cluster. */
    readonly configClaim: string | undefined;
  };
  readonly resultsDir: string | undefined;
  readonly reconcile: {
    /** Who claims finishes (unique per process): `<host>-<pid>` unless set. */
    readonly id: string;
    /** Namespaces to list Jobs in; undefined = all (an allow-list glob needs cluster-wide list). */
    readonly namespaces: readonly string[] | undefined;
    readonly intervalSeconds: number;
    readonly limits: DecideLimits;
    readonly eventMaxBytes: number;
    readonly logTailLines: number;
  };
}

/** Set variables only (an empty one counts as unset), with the schema's defaults, and every problem found. */
function readEnv<T extends TSchema>(schema: T, env: Readonly<Record<string, string | undefined>>) {
  const defined = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const values = Value.Default(schema, defined) as Static<T>;
  return { values, issues: collectIssues(schema, values) };
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function secretReference(value: string | undefined): { name: string; key: string } | undefined {
  if (value === undefined) return undefined;
  const [name = '', key = ''] = value.split('/');
  return { name, key };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export interface LoadOptions {
  /** False for functions that never read job configs (the reconciler). */
  readonly needsConfigSource?: boolean;
}

export function loadSettings(
  env: Readonly<Record<string, string | undefined>>,
  options: LoadOptions = {},
): Settings {
  const needsConfigSource = options.needsConfigSource ?? true;
  const { values: withDefaults, issues } = readEnv(EnvSchema, env);
  const usesKeptn =
    withDefaults.KEPTN_API_URL !== undefined || withDefaults.KEPTN_RESOURCE_SERVICE_URL !== undefined;
  const source = withDefaults.CONFIG_SOURCE ?? (usesKeptn ? 'keptn' : 'directory');
  if (needsConfigSource && source === 'keptn' && !usesKeptn) {
    issues.push({
      path: 'CONFIG_SOURCE',
      message:
        'the keptn source needs KEPTN_API_URL (or KEPTN_RESOURCE_SERVICE_URL); set CONFIG_DIR to use a directory',
    });
  }
  if (needsConfigSource && source === 'directory' && withDefaults.CONFIG_DIR === undefined) {
    issues.push({
      path: 'CONFIG_DIR',
      message:
        'is required without a Keptn API: the directory holding <project>/<stage>/<service>/job/config.yaml',
    });
  }
  if (issues.length > 0) {
    throw jesError('SETTINGS_INVALID', `Invalid settings in the environment (${issues.length} problem(s))`, {
      issues,
    });
  }
  return deepFreeze(toSettings(withDefaults, source));
}

function toSettings(env: Env, source: 'keptn' | 'directory'): Settings {
  const apiUrl = env.KEPTN_API_URL?.replace(/\/+$/, '');
  const allowedNamespaces = list(env.ALLOWED_NAMESPACES);
  const allowed = allowedNamespaces.length > 0 ? allowedNamespaces : [env.JOB_NAMESPACE];
  return {
    host: env.HOST,
    port: Number(env.PORT),
    logLevel: env.LOG_LEVEL,
    keptn: {
      apiUrl,
      apiToken: env.KEPTN_API_TOKEN,
      apiTokenSecret: secretReference(env.KEPTN_API_TOKEN_SECRET),
      resourceServiceUrl:
        env.KEPTN_RESOURCE_SERVICE_URL?.replace(/\/+$/, '') ??
        (apiUrl === undefined ? undefined : `${apiUrl}/resource-service`),
      uriEscaping: env.KEPTN_RESOURCE_URI_ESCAPING,
      timeoutMs: Number(env.KEPTN_API_TIMEOUT_MS),
      retries: Number(env.KEPTN_API_RETRIES),
      sendStarted: env.KEPTN_SEND_STARTED === 'true',
    },
    sinkUrl: env.K_SINK,
    config: {
      source,
      directory: env.CONFIG_DIR,
      cacheTtlSeconds: Number(env.CONFIG_CACHE_TTL_SECONDS),
      cacheMaxEntries: Number(env.CONFIG_CACHE_MAX_ENTRIES),
    },
    jobs: {
      namespace: env.JOB_NAMESPACE,
      allowedNamespaces: allowed,
      allowedImages: list(env.ALLOWED_IMAGES),
      allowPrivileged: env.ALLOW_PRIVILEGED_JOBS === 'true',
      defaultServiceAccount: env.DEFAULT_JOB_SERVICE_ACCOUNT,
      defaultResources: {
        limits: { cpu: env.DEFAULT_RESOURCE_LIMITS_CPU, memory: env.DEFAULT_RESOURCE_LIMITS_MEMORY },
        requests: { cpu: env.DEFAULT_RESOURCE_REQUESTS_CPU, memory: env.DEFAULT_RESOURCE_REQUESTS_MEMORY },
      },
      defaultTimeoutSeconds: Number(env.DEFAULT_TASK_TIMEOUT_SECONDS),
      defaultTtlSecondsAfterFinished: Number(env.DEFAULT_TTL_SECONDS_AFTER_FINISHED),
      workspaceSizeLimit: env.WORKSPACE_SIZE_LIMIT,
      initImage: env.INIT_CONTAINER_IMAGE,
      managedBy: env.MANAGED_BY,
      configClaim: env.CONFIG_PVC,
    },
    resultsDir: env.RESULTS_DIR,
    reconcile: {
      id: env.RECONCILER_ID ?? `${hostname()}-${process.pid}`,
      namespaces: allowed.some((pattern) => pattern.includes('*')) ? undefined : allowed,
      intervalSeconds: Number(env.RECONCILE_INTERVAL_SECONDS),
      limits: {
        claimTimeoutMs: Number(env.CLAIM_TIMEOUT_SECONDS) * 1000,
        startedGraceMs: Number(env.STARTED_GRACE_SECONDS) * 1000,
        blockedGraceMs: {
          image: Number(env.FAIL_FAST_IMAGE_PULL_SECONDS) * 1000,
          config: Number(env.FAIL_FAST_CONFIG_SECONDS) * 1000,
          schedule: Number(env.FAIL_FAST_UNSCHEDULABLE_SECONDS) * 1000,
          create: Number(env.FAIL_FAST_CREATE_SECONDS) * 1000,
        },
        incompleteGraceMs: Number(env.INCOMPLETE_RUN_SECONDS) * 1000,
      },
      eventMaxBytes: Number(env.EVENT_MAX_BYTES),
      logTailLines: Number(env.LOG_TAIL_LINES),
    },
  };
}

/** The documented variables, for the README's configuration reference and its drift test. */
export const SETTINGS_VARIABLES: readonly string[] = Object.keys(EnvSchema.properties);

const InitSchema = Type.Object(
  {
    JES_FILES: Type.String({ default: '[]', description: 'a JSON list of resource paths' }),
    JES_EVENT: Type.String({ default: '{}', description: 'the event as JSON' }),
    JES_WORKSPACE: Type.String({ minLength: 1, default: '/keptn' }),
    KEPTN_PROJECT: Type.String({ minLength: 1 }),
    KEPTN_STAGE: Type.String({ minLength: 1 }),
    KEPTN_SERVICE: Type.String({ minLength: 1 }),
    GIT_COMMIT_ID: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

/** What the Job builder hands the init container (lib/jobs/builder.ts initContainer). */
export interface InitInputs {
  readonly files: readonly string[];
  readonly eventJson: string;
  readonly workspace: string;
  readonly scope: {
    readonly project: string;
    readonly stage: string;
    readonly service: string;
    readonly commit: string | undefined;
  };
}

/** The init container's own inputs, validated like the settings. */
export function loadInitInputs(env: Readonly<Record<string, string | undefined>>): InitInputs {
  const { values, issues } = readEnv(InitSchema, env);
  let files: unknown = [];
  try {
    files = JSON.parse(values.JES_FILES);
  } catch {
    files = undefined;
  }
  if (!Array.isArray(files) || files.some((file) => typeof file !== 'string')) {
    issues.push({ path: 'JES_FILES', message: 'must be a JSON list of strings, e.g. ["terraform/"]' });
  }
  if (issues.length > 0) {
    throw jesError('SETTINGS_INVALID', `Invalid init container environment (${issues.length} problem(s))`, {
      issues,
    });
  }
  return {
    files: files as string[],
    eventJson: values.JES_EVENT,
    workspace: values.JES_WORKSPACE,
    scope: {
      project: values.KEPTN_PROJECT,
      stage: values.KEPTN_STAGE,
      service: values.KEPTN_SERVICE,
      commit:
        values.GIT_COMMIT_ID === undefined || values.GIT_COMMIT_ID === '' ? undefined : values.GIT_COMMIT_ID,
    },
  };
}

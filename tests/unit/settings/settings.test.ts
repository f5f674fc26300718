import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { isJesError, type Issue } from '../../../lib/errors/index.js';
import { loadSettings, SETTINGS_VARIABLES, type Settings } from '../../../lib/settings/index.js';

/** The issues loadSettings reports for `env`; fails when it accepts it. */
function settingsIssues(env: Record<string, string | undefined>): readonly Issue[] {
  try {
    loadSettings(env);
  } catch (error) {
    assert.ok(isJesError(error, 'SETTINGS_INVALID'), String(error));
    assert.equal(error.code, 'JES_ERR_SETTINGS_INVALID');
    assert.equal(error.message, `Invalid settings in the environment (${error.issues.length} problem(s))`);
    return error.issues;
  }
  return assert.fail(`expected ${JSON.stringify(env)} to be refused`);
}

const QUANTITY = "'^[0-9]+(\\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$'";
const NAME = "'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'";

void describe('loadSettings: defaults', () => {
  void it('fills in every default with only CONFIG_DIR set', () => {
    const expected: Settings = {
      host: '0.0.0.0',
      port: 8080,
      logLevel: 'info',
      keptn: {
        apiUrl: undefined,
        apiToken: undefined,
        apiTokenSecret: undefined,
        resourceServiceUrl: undefined,
        uriEscaping: 'double',
        timeoutMs: 5000,
        retries: 3,
        sendStarted: true,
      },
      sinkUrl: undefined,
      config: {
        source: 'directory',
        directory: '/etc/jes/config',
        cacheTtlSeconds: 30,
        cacheMaxEntries: 500,
      },
      jobs: {
        namespace: 'default',
        allowedNamespaces: ['default'],
        allowedImages: [],
        allowPrivileged: false,
        defaultServiceAccount: undefined,
        defaultResources: {
          limits: { cpu: '1', memory: '512Mi' },
          requests: { cpu: '50m', memory: '128Mi' },
        },
        defaultTimeoutSeconds: 300,
        defaultTtlSecondsAfterFinished: 21600,
        workspaceSizeLimit: '20Mi',
        initImage: 'ghcr.io/jes-serverless/job-executor:0.1.0',
        managedBy: 'job-executor',
        configClaim: undefined,
      },
      resultsDir: undefined,
      reconcile: {
        id: `${hostname()}-${process.pid}`,
        namespaces: ['default'],
        intervalSeconds: 30,
        limits: {
          claimTimeoutMs: 120_000,
          startedGraceMs: 30_000,
          blockedGraceMs: { image: 120_000, config: 60_000, schedule: 300_000, create: 60_000 },
          incompleteGraceMs: 600_000,
        },
        eventMaxBytes: 63488,
        logTailLines: 500,
      },
    };
    assert.deepEqual(loadSettings({ CONFIG_DIR: '/etc/jes/config' }), expected);
  });

  void it('treats empty and undefined variables as unset, and ignores unknown ones', () => {
    const settings = loadSettings({
      CONFIG_DIR: '/c',
      PORT: '',
      JOB_NAMESPACE: undefined,
      KEPTN_API_URL: '',
      PATH: '/usr/bin',
      HOME: '/root',
    });
    assert.equal(settings.port, 8080);
    assert.equal(settings.jobs.namespace, 'default');
    assert.equal(settings.keptn.apiUrl, undefined);
    assert.equal(settings.config.source, 'directory');
  });

  void it('reads every variable into its typed setting', () => {
    const settings = loadSettings({
      PORT: '9090',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      KEPTN_API_URL: 'https://keptn.example.com/api/',
      KEPTN_API_TOKEN: 'token-value',
      KEPTN_API_TOKEN_SECRET: 'keptn-api-token/x-token',
      KEPTN_RESOURCE_URI_ESCAPING: 'single',
      KEPTN_API_TIMEOUT_MS: '1500',
      KEPTN_API_RETRIES: '0',
      KEPTN_SEND_STARTED: 'false',
      K_SINK: 'http://broker.example/default',
      CONFIG_CACHE_TTL_SECONDS: '0',
      CONFIG_CACHE_MAX_ENTRIES: '10',
      JOB_NAMESPACE: 'jes-jobs',
      ALLOWED_NAMESPACES: ' team-* , jes-jobs ,,',
      ALLOWED_IMAGES: 'docker.io/*,ghcr.io/acme/*',
      ALLOW_PRIVILEGED_JOBS: 'true',
      DEFAULT_JOB_SERVICE_ACCOUNT: 'jes-jobs',
      DEFAULT_RESOURCE_LIMITS_CPU: '2',
      DEFAULT_RESOURCE_LIMITS_MEMORY: '1Gi',
      DEFAULT_RESOURCE_REQUESTS_CPU: '0.5',
      DEFAULT_RESOURCE_REQUESTS_MEMORY: '256Mi',
      DEFAULT_TASK_TIMEOUT_SECONDS: '600',
      DEFAULT_TTL_SECONDS_AFTER_FINISHED: '3600',
      WORKSPACE_SIZE_LIMIT: '1Gi',
      INIT_CONTAINER_IMAGE: 'registry.example/jes:1.0',
      MANAGED_BY: 'jes-prod',
      CONFIG_PVC: 'jes-config',
      RESULTS_DIR: '/results',
      RECONCILER_ID: 'reconciler-1',
      RECONCILE_INTERVAL_SECONDS: '10',
      CLAIM_TIMEOUT_SECONDS: '60',
      STARTED_GRACE_SECONDS: '0',
      FAIL_FAST_IMAGE_PULL_SECONDS: '1',
      FAIL_FAST_CONFIG_SECONDS: '2',
      FAIL_FAST_UNSCHEDULABLE_SECONDS: '3',
      FAIL_FAST_CREATE_SECONDS: '4',
      INCOMPLETE_RUN_SECONDS: '5',
      EVENT_MAX_BYTES: '1000',
      LOG_TAIL_LINES: '50',
    });
    assert.deepEqual(settings, {
      host: '127.0.0.1',
      port: 9090,
      logLevel: 'debug',
      keptn: {
        apiUrl: 'https://keptn.example.com/api',
        apiToken: 'token-value',
        apiTokenSecret: { name: 'keptn-api-token', key: 'x-token' },
        resourceServiceUrl: 'https://keptn.example.com/api/resource-service',
        uriEscaping: 'single',
        timeoutMs: 1500,
        retries: 0,
        sendStarted: false,
      },
      sinkUrl: 'http://broker.example/default',
      config: { source: 'keptn', directory: undefined, cacheTtlSeconds: 0, cacheMaxEntries: 10 },
      jobs: {
        namespace: 'jes-jobs',
        allowedNamespaces: ['team-*', 'jes-jobs'],
        allowedImages: ['docker.io/*', 'ghcr.io/acme/*'],
        allowPrivileged: true,
        defaultServiceAccount: 'jes-jobs',
        defaultResources: { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '0.5', memory: '256Mi' } },
        defaultTimeoutSeconds: 600,
        defaultTtlSecondsAfterFinished: 3600,
        workspaceSizeLimit: '1Gi',
        initImage: 'registry.example/jes:1.0',
        managedBy: 'jes-prod',
        configClaim: 'jes-config',
      },
      resultsDir: '/results',
      reconcile: {
        id: 'reconciler-1',
        namespaces: undefined,
        intervalSeconds: 10,
        limits: {
          claimTimeoutMs: 60_000,
          startedGraceMs: 0,
          blockedGraceMs: { image: 1000, config: 2000, schedule: 3000, create: 4000 },
          incompleteGraceMs: 5000,
        },
        eventMaxBytes: 1000,
        logTailLines: 50,
      },
    });
  });

  void it('takes KEPTN_RESOURCE_SERVICE_URL over the one derived from KEPTN_API_URL, without a trailing /', () => {
    const settings = loadSettings({
      KEPTN_API_URL: 'http://keptn/api',
      KEPTN_RESOURCE_SERVICE_URL: 'http://resource-service:8080//',
    });
    assert.equal(settings.keptn.resourceServiceUrl, 'http://resource-service:8080');
    assert.equal(settings.keptn.apiUrl, 'http://keptn/api');
  });

  void it('lists every documented variable', () => {
    const documented = new Set(SETTINGS_VARIABLES);
    for (const name of [
      'ALLOWED_IMAGES',
      'ALLOWED_NAMESPACES',
      'ALLOW_PRIVILEGED_JOBS',
      'CONFIG_CACHE_MAX_ENTRIES',
      'CONFIG_CACHE_TTL_SECONDS',
      'CONFIG_DIR',
      'CONFIG_PVC',
      'CONFIG_SOURCE',
      'DEFAULT_JOB_SERVICE_ACCOUNT',
      'DEFAULT_RESOURCE_LIMITS_CPU',
      'DEFAULT_RESOURCE_LIMITS_MEMORY',
      'DEFAULT_RESOURCE_REQUESTS_CPU',
      'DEFAULT_RESOURCE_REQUESTS_MEMORY',
      'DEFAULT_TASK_TIMEOUT_SECONDS',
      'DEFAULT_TTL_SECONDS_AFTER_FINISHED',
      'HOST',
      'INIT_CONTAINER_IMAGE',
      'JOB_NAMESPACE',
      'KEPTN_API_RETRIES',
      'KEPTN_API_TIMEOUT_MS',
      'KEPTN_API_TOKEN',
      'KEPTN_API_TOKEN_SECRET',
      'KEPTN_API_URL',
      'KEPTN_RESOURCE_SERVICE_URL',
      'KEPTN_RESOURCE_URI_ESCAPING',
      'KEPTN_SEND_STARTED',
      'K_SINK',
      'LOG_LEVEL',
      'MANAGED_BY',
      'PORT',
      'RESULTS_DIR',
      'WORKSPACE_SIZE_LIMIT',
      'RECONCILER_ID',
      'RECONCILE_INTERVAL_SECONDS',
      'EVENT_MAX_BYTES',
      'LOG_TAIL_LINES',
    ]) {
      assert.ok(documented.has(name), name);
    }
    for (const name of SETTINGS_VARIABLES) assert.match(name, /^[A-Z][A-Z0-9_]*$/);
  });
});

void describe('loadSettings: every validation error names its variable', () => {
  const cases: [variable: string, value: string, message: string][] = [
    ['PORT', 'http', `expected string to match '^[0-9]{1,5}$', got string "http"`],
    ['PORT', '123456', `expected string to match '^[0-9]{1,5}$', got string "123456"`],
    [
      'LOG_LEVEL',
      'verbose',
      'expected one of: fatal, error, warn, info, debug, trace, silent, got string "verbose"',
    ],
    [
      'KEPTN_API_URL',
      'keptn:80',
      `expected string to match '^https?://' (an http(s) URL), got string "keptn:80"`,
    ],
    [
      'KEPTN_API_TOKEN_SECRET',
      'keptn-api-token',
      `expected string to match '^[a-z0-9][-a-z0-9.]*/[-._a-zA-Z0-9]+$' (a Secret and key as <name>/<key>), got string "keptn-api-token"`,
    ],
    [
      'KEPTN_API_TOKEN_SECRET',
      'Keptn/token',
      `expected string to match '^[a-z0-9][-a-z0-9.]*/[-._a-zA-Z0-9]+$' (a Secret and key as <name>/<key>), got string "Keptn/token"`,
    ],
    [
      'KEPTN_RESOURCE_SERVICE_URL',
      'ftp://x',
      `expected string to match '^https?://' (an http(s) URL), got string "ftp://x"`,
    ],
    ['KEPTN_RESOURCE_URI_ESCAPING', 'none', 'expected one of: double, single, got string "none"'],
    ['KEPTN_API_TIMEOUT_MS', '5s', `expected string to match '^[0-9]+$', got string "5s"`],
    ['KEPTN_API_RETRIES', '10', `expected string to match '^[0-9]$', got string "10"`],
    ['KEPTN_SEND_STARTED', 'yes', 'expected one of: true, false, got string "yes"'],
    ['K_SINK', 'broker', `expected string to match '^https?://' (an http(s) URL), got string "broker"`],
    ['CONFIG_SOURCE', 'git', 'expected one of: keptn, directory, got string "git"'],
    [
      'CONFIG_PVC',
      'My_PVC',
      `expected string to match ${NAME} (a PersistentVolumeClaim name), got string "My_PVC"`,
    ],
    ['CONFIG_CACHE_TTL_SECONDS', '-1', `expected string to match '^[0-9]+$', got string "-1"`],
    ['CONFIG_CACHE_MAX_ENTRIES', 'many', `expected string to match '^[0-9]+$', got string "many"`],
    ['JOB_NAMESPACE', 'Jobs', `expected string to match ${NAME} (a namespace name), got string "Jobs"`],
    ['ALLOW_PRIVILEGED_JOBS', 'TRUE', 'expected one of: true, false, got string "TRUE"'],
    [
      'DEFAULT_JOB_SERVICE_ACCOUNT',
      'SA',
      `expected string to match ${NAME} (a service account name), got string "SA"`,
    ],
    ['DEFAULT_RESOURCE_LIMITS_CPU', '1 core', `expected string to match ${QUANTITY}, got string "1 core"`],
    ['DEFAULT_RESOURCE_LIMITS_MEMORY', '512MB', `expected string to match ${QUANTITY}, got string "512MB"`],
    ['DEFAULT_RESOURCE_REQUESTS_CPU', '-1', `expected string to match ${QUANTITY}, got string "-1"`],
    ['DEFAULT_RESOURCE_REQUESTS_MEMORY', 'x', `expected string to match ${QUANTITY}, got string "x"`],
    ['DEFAULT_TASK_TIMEOUT_SECONDS', '0', `expected string to match '^[1-9][0-9]*$', got string "0"`],
    ['DEFAULT_TTL_SECONDS_AFTER_FINISHED', '1.5', `expected string to match '^[0-9]+$', got string "1.5"`],
    ['WORKSPACE_SIZE_LIMIT', '20 Mi', `expected string to match ${QUANTITY}, got string "20 Mi"`],
    ['MANAGED_BY', 'JES', `expected string to match ${NAME}, got string "JES"`],
    ['RECONCILER_ID', 'a@b', `expected string to match '^[^@]+$' (a name without @), got string "a@b"`],
    ['RECONCILE_INTERVAL_SECONDS', '0', `expected string to match '^[1-9][0-9]*$', got string "0"`],
    ['CLAIM_TIMEOUT_SECONDS', '2m', `expected string to match '^[1-9][0-9]*$', got string "2m"`],
    ['STARTED_GRACE_SECONDS', '-1', `expected string to match '^[0-9]+$', got string "-1"`],
    ['FAIL_FAST_IMAGE_PULL_SECONDS', 'x', `expected string to match '^[0-9]+$', got string "x"`],
    ['FAIL_FAST_CONFIG_SECONDS', '1.5', `expected string to match '^[0-9]+$', got string "1.5"`],
    ['FAIL_FAST_UNSCHEDULABLE_SECONDS', 'never', `expected string to match '^[0-9]+$', got string "never"`],
    ['FAIL_FAST_CREATE_SECONDS', ' 1', `expected string to match '^[0-9]+$', got string " 1"`],
    ['INCOMPLETE_RUN_SECONDS', '10m', `expected string to match '^[0-9]+$', got string "10m"`],
    [
      'EVENT_MAX_BYTES',
      '999',
      `expected string to match '^[1-9][0-9]{3,}$' (at least 1000), got string "999"`,
    ],
    ['LOG_TAIL_LINES', '0', `expected string to match '^[1-9][0-9]*$', got string "0"`],
  ];
  for (const [variable, value, message] of cases) {
    void it(`${variable}=${value}`, () => {
      assert.deepEqual(settingsIssues({ CONFIG_DIR: '/c', [variable]: value }), [
        { path: variable, message },
      ]);
    });
  }

  void it('reports every invalid variable at once', () => {
    assert.deepEqual(
      settingsIssues({ CONFIG_DIR: '/c', PORT: 'x', JOB_NAMESPACE: 'X', MANAGED_BY: 'Y' }).map(
        (issue) => issue.path,
      ),
      ['PORT', 'JOB_NAMESPACE', 'MANAGED_BY'],
    );
  });
});

void describe('loadSettings: CONFIG_SOURCE rules', () => {
  const directoryMessage =
    'is required without a Keptn API: the directory holding <project>/<stage>/<service>/job/config.yaml';
  const keptnMessage =
    'the keptn source needs KEPTN_API_URL (or KEPTN_RESOURCE_SERVICE_URL); set CONFIG_DIR to use a directory';

  const accepted: [name: string, env: Record<string, string>, source: 'keptn' | 'directory'][] = [
    ['CONFIG_DIR alone means directory', { CONFIG_DIR: '/c' }, 'directory'],
    ['KEPTN_API_URL alone means keptn', { KEPTN_API_URL: 'http://keptn/api' }, 'keptn'],
    [
      'KEPTN_RESOURCE_SERVICE_URL alone means keptn',
      { KEPTN_RESOURCE_SERVICE_URL: 'http://rs:8080' },
      'keptn',
    ],
    [
      'a Keptn URL wins over CONFIG_DIR without CONFIG_SOURCE',
      { KEPTN_API_URL: 'http://keptn/api', CONFIG_DIR: '/c' },
      'keptn',
    ],
    [
      'CONFIG_SOURCE=directory with a Keptn URL',
      { CONFIG_SOURCE: 'directory', CONFIG_DIR: '/c', KEPTN_API_URL: 'http://keptn/api' },
      'directory',
    ],
    [
      'CONFIG_SOURCE=keptn with a Keptn URL',
      { CONFIG_SOURCE: 'keptn', KEPTN_API_URL: 'http://keptn/api' },
      'keptn',
    ],
  ];
  for (const [name, env, source] of accepted) {
    void it(name, () => {
      assert.equal(loadSettings(env).config.source, source);
    });
  }

  const refused: [name: string, env: Record<string, string>, issues: Issue[]][] = [
    ['nothing set', {}, [{ path: 'CONFIG_DIR', message: directoryMessage }]],
    [
      'CONFIG_SOURCE=directory without CONFIG_DIR',
      { CONFIG_SOURCE: 'directory', KEPTN_API_URL: 'http://keptn/api' },
      [{ path: 'CONFIG_DIR', message: directoryMessage }],
    ],
    [
      'CONFIG_SOURCE=keptn without a Keptn URL',
      { CONFIG_SOURCE: 'keptn', CONFIG_DIR: '/c' },
      [{ path: 'CONFIG_SOURCE', message: keptnMessage }],
    ],
  ];
  for (const [name, env, issues] of refused) {
    void it(`refuses ${name}`, () => {
      assert.deepEqual(settingsIssues(env), issues);
    });
  }

  void it('needs no config source for a function that reads no configs', () => {
    assert.equal(loadSettings({}, { needsConfigSource: false }).config.directory, undefined);
    assert.doesNotThrow(() => loadSettings({ CONFIG_SOURCE: 'keptn' }, { needsConfigSource: false }));
    assert.deepEqual(
      settingsIssues({ PORT: 'x' }).map((issue) => issue.path),
      ['PORT', 'CONFIG_DIR'],
    );
  });
});

void describe('loadSettings: the result is frozen', () => {
  void it('freezes the settings and everything in them', () => {
    const settings = loadSettings({
      CONFIG_DIR: '/c',
      KEPTN_API_URL: 'http://keptn/api',
      KEPTN_API_TOKEN_SECRET: 'a/b',
    });
    for (const value of [
      settings,
      settings.keptn,
      settings.keptn.apiTokenSecret,
      settings.config,
      settings.jobs,
      settings.jobs.allowedNamespaces,
      settings.jobs.allowedImages,
      settings.jobs.defaultResources,
      settings.jobs.defaultResources.limits,
      settings.jobs.defaultResources.requests,
      settings.reconcile,
      settings.reconcile.limits,
      settings.reconcile.limits.blockedGraceMs,
    ]) {
      assert.equal(Object.isFrozen(value), true);
    }
  });

  void it('throws on any attempt to change it', () => {
    const settings = loadSettings({ CONFIG_DIR: '/c' });
    assert.throws(() => {
      Object.assign(settings.jobs, { namespace: 'kube-system' });
    }, TypeError);
    assert.throws(() => {
      (settings.jobs.allowedImages as string[]).push('*');
    }, TypeError);
    assert.throws(() => {
      Object.assign(settings.jobs.defaultResources.limits, { cpu: '64' });
    }, TypeError);
    assert.equal(settings.jobs.namespace, 'default');
    assert.deepEqual(settings.jobs.allowedImages, []);
  });

  void it('does not freeze or change the env it was given', () => {
    const env = { CONFIG_DIR: '/c' };
    loadSettings(env);
    assert.equal(Object.isFrozen(env), false);
    assert.deepEqual(env, { CONFIG_DIR: '/c' });
  });
});

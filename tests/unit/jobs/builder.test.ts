import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { V1Container, V1EnvVar, V1Job, V1PodSpec } from '@kubernetes/client-node';
import type { Task } from '../../../lib/config/schema.js';
import { isJesError } from '../../../lib/errors/index.js';
import {
  buildRun,
  containerSecurityContext,
  eventKey,
  formatValue,
  jobName,
  runIdOf,
} from '../../../lib/jobs/builder.js';
import { Annotations, Labels, REPORT_FINALIZER } from '../../../lib/jobs/contract.js';
import { action, keptnEvent, runInput, settings, task } from '../../helpers/factories.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const KEY = createHash('sha256').update('shipyard-controller\nevent-1').digest('hex').slice(0, 16);

const DEFAULT_RESOURCES = {
  limits: { cpu: '1', memory: '512Mi' },
  requests: { cpu: '50m', memory: '128Mi' },
};
const DEFAULT_CONTAINER_SECURITY = {
  privileged: false,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 2000,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};
const WORKSPACE_MOUNTS = [
  { name: 'workspace', mountPath: '/keptn' },
  { name: 'tmp', mountPath: '/tmp' },
];
const BUILT_IN_ENV: V1EnvVar[] = [
  { name: 'KEPTN_PROJECT', value: 'sockshop' },
  { name: 'KEPTN_STAGE', value: 'dev' },
  { name: 'KEPTN_SERVICE', value: 'carts' },
  { name: 'KEPTN_CONTEXT', value: 'ctx-5b1c2d3e' },
  { name: 'KEPTN_EVENT_ID', value: 'event-1' },
  { name: 'LABELS_BUILDID', value: '42' },
];

/** The only Job of a one-task action running `taskOverrides`. */
function buildOne(taskOverrides: Partial<Task> = {}, env: Record<string, string> = {}): V1Job {
  const run = buildRun(runInput({ action: action({ tasks: [task(taskOverrides)] }) }), settings(env));
  assert.equal(run.jobs.length, 1);
  return run.jobs[0]!;
}

function podSpec(job: V1Job): V1PodSpec {
  return job.spec!.template.spec!;
}

function taskContainer(job: V1Job): V1Container {
  const containers = podSpec(job).containers;
  assert.equal(containers.length, 1);
  return containers[0]!;
}

function initContainer(job: V1Job): V1Container {
  const containers = podSpec(job).initContainers ?? [];
  assert.equal(containers.length, 1);
  return containers[0]!;
}

function envValue(container: V1Container, name: string): string | undefined {
  const matches = (container.env ?? []).filter((variable) => variable.name === name);
  assert.ok(matches.length <= 1, `${name} is set ${matches.length} times`);
  return matches[0]?.value;
}

void describe('buildRun: one Job, field by field', () => {
  void it('builds exactly this Job for a plain task', () => {
    const selector = {
      'app.kubernetes.io/managed-by': 'job-executor',
      'jes.dev/run': `${KEY}-0`,
      'jes.dev/event': KEY,
      'jes.dev/action-index': '0',
      'jes.dev/task-index': '0',
    };
    const input = runInput();
    assert.deepEqual(buildRun(input, settings()), {
      runId: `${KEY}-0`,
      jobs: [
        {
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: {
            name: `jes-test-${KEY}-0-0`,
            namespace: 'default',
            labels: { ...selector, 'jes.dev/state': 'active' },
            annotations: {
              'jes.dev/reply': JSON.stringify(input.envelope),
              'jes.dev/action': 'test',
              'jes.dev/task': 'run',
              'jes.dev/task-count': '1',
              'jes.dev/config':
                '{"hash":"c0ffee","origin":"job/config.yaml at service level","commit":"commit-1"}',
              'jes.dev/image': 'busybox:1.36',
              'jes.dev/silent': 'false',
              'jes.dev/timeout-seconds': '300',
              'jes.dev/created-at': '2026-12-03T10:00:01.000Z',
              'jes.dev/started': 'required',
            },
            finalizers: ['jes.dev/report'],
          },
          spec: {
            suspend: false,
            backoffLimit: 0,
            activeDeadlineSeconds: 300,
            ttlSecondsAfterFinished: 21600,
            template: {
              metadata: { labels: selector },
              spec: {
                restartPolicy: 'Never',
                enableServiceLinks: false,
                automountServiceAccountToken: false,
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: 1000,
                  runAsGroup: 2000,
                  fsGroup: 2000,
                  seccompProfile: { type: 'RuntimeDefault' },
                },
                volumes: [
                  { name: 'workspace', emptyDir: { sizeLimit: '20Mi' } },
                  { name: 'tmp', emptyDir: { sizeLimit: '20Mi' } },
                ],
                initContainers: [
                  {
                    name: 'init',
                    image: 'jes:test',
                    imagePullPolicy: 'IfNotPresent',
                    command: ['node', '/app/dist/init.js'],
                    env: [
                      { name: 'JES_FILES', value: '[]' },
                      { name: 'JES_EVENT', value: JSON.stringify(input.event) },
                      { name: 'JES_WORKSPACE', value: '/keptn' },
                      { name: 'KEPTN_PROJECT', value: 'sockshop' },
                      { name: 'KEPTN_STAGE', value: 'dev' },
                      { name: 'KEPTN_SERVICE', value: 'carts' },
                      { name: 'GIT_COMMIT_ID', value: 'commit-1' },
                      { name: 'CONFIG_DIR', value: '/config' },
                    ],
                    resources: DEFAULT_RESOURCES,
                    securityContext: DEFAULT_CONTAINER_SECURITY,
                    volumeMounts: WORKSPACE_MOUNTS,
                  },
                ],
                containers: [
                  {
                    name: 'task',
                    image: 'busybox:1.36',
                    command: ['sh', '-c', 'echo hello'],
                    env: BUILT_IN_ENV,
                    resources: DEFAULT_RESOURCES,
                    securityContext: DEFAULT_CONTAINER_SECURITY,
                    volumeMounts: WORKSPACE_MOUNTS,
                    terminationMessagePolicy: 'File',
                  },
                ],
              },
            },
          },
        },
      ],
    });
  });

  void it('is pure: the same input builds the same Jobs', () => {
    const input = runInput({ action: action({ tasks: [task({ name: 'a' }), task({ name: 'b' })] }) });
    assert.deepEqual(buildRun(input, settings()), buildRun(input, settings()));
  });
});

void describe('Job names', () => {
  void it('are jes-<action slug>-<event key>-<action>-<task>', () => {
    assert.equal(eventKey({ source: 'shipyard-controller', id: 'event-1' }), KEY);
    assert.equal(runIdOf({ source: 'shipyard-controller', id: 'event-1' }, 3), `${KEY}-3`);
    assert.equal(
      jobName({ source: 'shipyard-controller', id: 'event-1' }, { name: 'Run Locust' }, 3, 7),
      `jes-run-locust-${KEY}-3-7`,
    );
  });

  void it('are stable for the same event, whatever else differs (time, data, redelivery)', () => {
    const first = buildRun(
      runInput({ event: keptnEvent({ id: 'event-1', time: '2026-01-01T00:00:00Z' }) }),
      settings(),
    );
    const again = buildRun(
      runInput({
        event: keptnEvent({
          id: 'event-1',
          time: '2026-02-02T00:00:00Z',
          data: { test: { teststrategy: 'x' } },
        }),
      }),
      settings(),
    );
    assert.equal(first.runId, again.runId);
    assert.deepEqual(
      first.jobs.map((job) => job.metadata?.name),
      again.jobs.map((job) => job.metadata?.name),
    );
  });

  void it('differ for another event id or another source', () => {
    const base = jobName({ source: 'shipyard-controller', id: 'event-1' }, { name: 'test' }, 0, 0);
    assert.notEqual(jobName({ source: 'shipyard-controller', id: 'event-2' }, { name: 'test' }, 0, 0), base);
    assert.notEqual(jobName({ source: 'other-source', id: 'event-1' }, { name: 'test' }, 0, 0), base);
    assert.notEqual(jobName({ source: 'shipyard-controller', id: 'event-1' }, { name: 'test' }, 1, 0), base);
    assert.notEqual(jobName({ source: 'shipyard-controller', id: 'event-1' }, { name: 'test' }, 0, 1), base);
    assert.notEqual(runIdOf({ source: 's', id: 'i' }, 0), runIdOf({ source: 's', id: 'i' }, 1));
  });

  const longNames: [name: string, expected: string][] = [
    ['A very long action name with Spaces & Symbols!!! that goes on', `jes-a-very-long-action-n-${KEY}-0-0`],
    ['Run___locust...tests', `jes-run-locust-tests-${KEY}-0-0`],
    ['abcdefghijklmnopqrs-uvwxyz', `jes-abcdefghijklmnopqrs-${KEY}-0-0`],
    ['!!!', `jes-${KEY}-0-0`],
    ['ÄÖÜ', `jes-${KEY}-0-0`],
    ['x'.repeat(300), `jes-${'x'.repeat(20)}-${KEY}-0-0`],
  ];
  for (const [name, expected] of longNames) {
    void it(`slugs the action name ${JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name)}`, () => {
      const job = jobName({ source: 'shipyard-controller', id: 'event-1' }, { name }, 0, 0);
      assert.equal(job, expected);
      assert.ok(job.length <= 63);
      assert.match(job, DNS_LABEL);
    });
  }

  void it('stay unique, valid and at most 63 characters for 999 tasks and a long action name', () => {
    const tasks = Array.from({ length: 999 }, (_, index) => task({ name: `task-${index}` }));
    const longAction = action({ name: 'An action whose name is far too long for a Kubernetes name', tasks });
    const run = buildRun(runInput({ action: longAction, actionIndex: 42 }), settings());
    const names = run.jobs.map((job) => job.metadata?.name ?? '');
    assert.equal(names.length, 999);
    assert.equal(new Set(names).size, 999);
    for (const name of names) {
      assert.ok(name.length <= 63, name);
      assert.match(name, DNS_LABEL);
    }
    assert.equal(names[998], `jes-an-action-whose-name-${KEY}-42-998`);
    assert.deepEqual(
      run.jobs.map((job) => job.spec?.suspend),
      names.map((_, index) => index > 0),
    );
  });
});

void describe('the suspend plan and the state contract', () => {
  const threeTasks = () =>
    runInput({
      action: action({
        name: 'deploy',
        tasks: [task({ name: 'a' }), task({ name: 'b', image: 'alpine:3' }), task({ name: 'c' })],
      }),
      actionIndex: 2,
      started: 'none',
    });

  void it('runs task 0 and suspends the others', () => {
    const { jobs } = buildRun(threeTasks(), settings());
    assert.deepEqual(
      jobs.map((job) => job.spec?.suspend),
      [false, true, true],
    );
  });

  void it('labels every Job and its pod with the run, event, action and task index', () => {
    const { jobs } = buildRun(threeTasks(), settings({ MANAGED_BY: 'jes-prod' }));
    jobs.forEach((job, index) => {
      const selector = {
        [Labels.managedBy]: 'jes-prod',
        [Labels.run]: `${KEY}-2`,
        [Labels.event]: KEY,
        [Labels.actionIndex]: '2',
        [Labels.taskIndex]: String(index),
      };
      assert.deepEqual(job.metadata?.labels, { ...selector, [Labels.state]: 'active' });
      assert.deepEqual(job.spec?.template.metadata?.labels, selector);
    });
  });

  void it('annotates every Job with the contract; the started state only on task 0', () => {
    const input = threeTasks();
    const { jobs } = buildRun(input, settings());
    assert.deepEqual(
      jobs.map((job) => job.metadata?.annotations),
      ['a', 'b', 'c'].map((name, index) => ({
        [Annotations.reply]: JSON.stringify(input.envelope),
        [Annotations.action]: 'deploy',
        [Annotations.task]: name,
        [Annotations.taskCount]: '3',
        [Annotations.config]: JSON.stringify(input.config),
        [Annotations.image]: index === 1 ? 'alpine:3' : 'busybox:1.36',
        [Annotations.silent]: 'false',
        [Annotations.timeoutSeconds]: '300',
        [Annotations.createdAt]: '2026-12-03T10:00:01.000Z',
        ...(index === 0 ? { [Annotations.started]: 'none' } : {}),
      })),
    );
    assert.deepEqual(JSON.parse(jobs[0]!.metadata!.annotations![Annotations.reply]!), input.envelope);
  });

  void it('marks a silent action', () => {
    const { jobs } = buildRun(runInput({ action: action({ silent: true }) }), settings());
    assert.equal(jobs[0]!.metadata?.annotations?.[Annotations.silent], 'true');
  });

  void it('puts the report finalizer on every Job', () => {
    const { jobs } = buildRun(threeTasks(), settings());
    assert.deepEqual(
      jobs.map((job) => job.metadata?.finalizers),
      [[REPORT_FINALIZER], [REPORT_FINALIZER], [REPORT_FINALIZER]],
    );
    assert.equal(REPORT_FINALIZER, 'jes.dev/report');
  });

  void it('never lets task labels or annotations replace the contract ones', () => {
    const job = buildOne({
      labels: { [Labels.run]: 'forged', [Labels.state]: 'done', team: 'a' },
      annotations: { [Annotations.silent]: 'true', [Annotations.task]: 'forged', owner: 'me' },
    });
    const labels = job.metadata!.labels!;
    const podLabels = job.spec!.template.metadata!.labels!;
    const annotations = job.metadata!.annotations!;
    assert.equal(labels[Labels.run], `${KEY}-0`);
    assert.equal(labels[Labels.state], 'active');
    assert.equal(labels.team, 'a');
    assert.equal(podLabels[Labels.run], `${KEY}-0`);
    assert.equal(podLabels.team, 'a');
    assert.equal(annotations[Annotations.silent], 'false');
    assert.equal(annotations[Annotations.task], 'run');
    assert.equal(annotations.owner, 'me');
  });
});

void describe('the task environment', () => {
  void it('lists the task env in config order, then the built-ins; whole Secrets go to envFrom', () => {
    const job = buildRun(
      runInput({
        event: keptnEvent({
          id: 'event-1',
          data: {
            count: 5,
            ratio: 1.5,
            enabled: false,
            nothing: null,
            urls: ['http://a', 'http://b'],
            deployment: { deploymentURIsLocal: ['http://carts.dev:80'] },
          },
        }),
        action: action({
          tasks: [
            task({
              env: [
                { name: 'LITERAL', valueFrom: 'string', value: 'hello world' },
                { name: 'HOST', valueFrom: 'event', value: '$.data.deployment.deploymentURIsLocal[0]' },
                { name: 'API_KEY', valueFrom: 'secret', secret: 'api-credentials', key: 'api-key' },
                { name: 'TEST', valueFrom: 'event', value: '$.data.test', as: 'json' },
                { name: 'locust-secret', valueFrom: 'secret' },
                { name: 'TEST_YAML', valueFrom: 'event', value: '$.data.test', as: 'yaml' },
                { name: 'TEST_OBJECT', valueFrom: 'event', value: '$.data.test' },
                { name: 'COUNT', valueFrom: 'event', value: '$.data.count' },
                { name: 'RATIO', valueFrom: 'event', value: '$.data.ratio' },
                { name: 'ENABLED', valueFrom: 'event', value: '$.data.enabled' },
                { name: 'NOTHING', valueFrom: 'event', value: '$.data.nothing' },
                { name: 'URLS', valueFrom: 'event', value: '$.data.urls' },
                { name: 'STRATEGY_JSON', valueFrom: 'event', value: '$.data.test.teststrategy', as: 'json' },
                { name: 'STRATEGY', valueFrom: 'event', value: '$.data.test.teststrategy', as: 'string' },
                { name: 'EMPTY', valueFrom: 'string', value: '' },
                { name: 'other-secret', valueFrom: 'secret' },
              ],
            }),
          ],
        }),
      }),
      settings(),
    ).jobs[0]!;
    const container = taskContainer(job);
    assert.deepEqual(container.env, [
      { name: 'LITERAL', value: 'hello world' },
      { name: 'HOST', value: 'http://carts.dev:80' },
      { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'api-credentials', key: 'api-key' } } },
      { name: 'TEST', value: '{"teststrategy":"functional"}' },
      { name: 'TEST_YAML', value: 'teststrategy: functional' },
      { name: 'TEST_OBJECT', value: '{"teststrategy":"functional"}' },
      { name: 'COUNT', value: '5' },
      { name: 'RATIO', value: '1.5' },
      { name: 'ENABLED', value: 'false' },
      { name: 'NOTHING', value: 'null' },
      { name: 'URLS', value: '["http://a","http://b"]' },
      { name: 'STRATEGY_JSON', value: '"functional"' },
      { name: 'STRATEGY', value: 'functional' },
      { name: 'EMPTY', value: '' },
      ...BUILT_IN_ENV,
    ]);
    assert.deepEqual(container.envFrom, [
      { secretRef: { name: 'locust-secret' } },
      { secretRef: { name: 'other-secret' } },
    ]);
  });

  void it('has no envFrom without a whole-Secret import', () => {
    assert.equal('envFrom' in taskContainer(buildOne()), false);
  });

  void it('passes the whole event with value $ and as: json', () => {
    const input = runInput({
      action: action({
        tasks: [task({ env: [{ name: 'EVENT', valueFrom: 'event', value: '$', as: 'json' }] })],
      }),
    });
    const container = taskContainer(buildRun(input, settings()).jobs[0]!);
    assert.deepEqual(JSON.parse(envValue(container, 'EVENT') ?? ''), input.event);
  });

  void it('names the built-in label variables LABELS_<KEY> in upper case with _ for other characters', () => {
    const event = keptnEvent({
      id: 'event-1',
      shkeptncontext: 'ctx-9',
      data: { labels: { 'build-id': '1', 'my label': '2', 'Owner.Name': '3', x: '' } },
    });
    const env = taskContainer(buildRun(runInput({ event }), settings()).jobs[0]!).env;
    assert.deepEqual(env, [
      { name: 'KEPTN_PROJECT', value: 'sockshop' },
      { name: 'KEPTN_STAGE', value: 'dev' },
      { name: 'KEPTN_SERVICE', value: 'carts' },
      { name: 'KEPTN_CONTEXT', value: 'ctx-9' },
      { name: 'KEPTN_EVENT_ID', value: 'event-1' },
      { name: 'LABELS_BUILD_ID', value: '1' },
      { name: 'LABELS_MY_LABEL', value: '2' },
      { name: 'LABELS_OWNER_NAME', value: '3' },
      { name: 'LABELS_X', value: '' },
    ]);
  });

  void it('sets KEPTN_CONTEXT empty for an event without shkeptncontext', () => {
    const event = keptnEvent({
      id: 'event-1',
      type: 'com.example.build.finished',
      shkeptncontext: undefined,
      data: { labels: {} },
    });
    const container = taskContainer(buildRun(runInput({ event }), settings()).jobs[0]!);
    assert.equal(envValue(container, 'KEPTN_CONTEXT'), '');
    assert.equal(envValue(container, 'LABELS_BUILDID'), undefined);
  });

  void it('refuses the run when an event JSONPath selects nothing, naming every such variable', () => {
    const input = runInput({
      actionIndex: 2,
      action: action({
        tasks: [
          task(),
          task({
            name: 'second',
            env: [
              { name: 'OK', valueFrom: 'event', value: '$.data.project' },
              { name: 'MISSING', valueFrom: 'event', value: '$.data.missing' },
              { name: 'ALSO_MISSING', valueFrom: 'event', value: '$.data.test.nope', as: 'json' },
            ],
          }),
        ],
      }),
    });
    assert.throws(
      () => buildRun(input, settings()),
      (error: unknown) => {
        assert.ok(isJesError(error, 'EVENT_DATA_INVALID'));
        assert.equal(error.code, 'JES_ERR_EVENT_DATA_INVALID');
        assert.equal(error.statusCode, 400);
        assert.equal(error.message, 'Task "second" takes env from the event, which lacks it');
        assert.deepEqual(error.issues, [
          {
            path: 'actions[2].tasks[1].env[1]',
            message: '$.data.missing selects nothing in event event-1 (variable MISSING)',
          },
          {
            path: 'actions[2].tasks[1].env[2]',
            message: '$.data.test.nope selects nothing in event event-1 (variable ALSO_MISSING)',
          },
        ]);
        return true;
      },
    );
  });

  void it('a present null or empty value is not a miss', () => {
    const event = keptnEvent({ id: 'event-1', data: { nothing: null, empty: '' } });
    const env = [
      { name: 'N', valueFrom: 'event' as const, value: '$.data.nothing' },
      { name: 'E', valueFrom: 'event' as const, value: '$.data.empty' },
    ];
    const container = taskContainer(
      buildRun(runInput({ event, action: action({ tasks: [task({ env })] }) }), settings()).jobs[0]!,
    );
    assert.equal(envValue(container, 'N'), 'null');
    assert.equal(envValue(container, 'E'), '');
  });
});

void describe('formatValue', () => {
  const cases: [value: unknown, as: 'string' | 'json' | 'yaml' | undefined, expected: string][] = [
    ['text', undefined, 'text'],
    ['text', 'string', 'text'],
    ['text', 'json', '"text"'],
    ['text', 'yaml', 'text'],
    [5, undefined, '5'],
    [5, 'json', '5'],
    [true, undefined, 'true'],
    [null, undefined, 'null'],
    [null, 'yaml', 'null'],
    [{ a: 1, b: ['x'] }, undefined, '{"a":1,"b":["x"]}'],
    [{ a: 1, b: ['x'] }, 'string', '{"a":1,"b":["x"]}'],
    [{ a: 1, b: ['x'] }, 'json', '{"a":1,"b":["x"]}'],
    [{ a: 1, b: ['x'] }, 'yaml', 'a: 1\nb:\n  - x'],
    [['a', 'b'], undefined, '["a","b"]'],
    [['a', 'b'], 'yaml', '- a\n- b'],
  ];
  for (const [value, as, expected] of cases) {
    void it(`${JSON.stringify(value)} as ${as ?? '(none)'}`, () => {
      assert.equal(formatValue(value, as), expected);
    });
  }
});

void describe('the init container', () => {
  void it('gets the files to fetch, the event and the workspace', () => {
    const input = runInput({
      action: action({ tasks: [task({ files: ['locust/basic.py', '/locust/', 'terraform'] })] }),
    });
    const job = buildRun(input, settings()).jobs[0]!;
    const init = initContainer(job);
    assert.equal(envValue(init, 'JES_FILES'), '["locust/basic.py","/locust/","terraform"]');
    assert.deepEqual(JSON.parse(envValue(init, 'JES_EVENT') ?? ''), input.event);
    assert.equal(envValue(init, 'JES_WORKSPACE'), '/keptn');
    assert.deepEqual(init.volumeMounts, WORKSPACE_MOUNTS);
    assert.deepEqual(taskContainer(job).volumeMounts, WORKSPACE_MOUNTS);
  });

  void it('omits GIT_COMMIT_ID for an event without gitcommitid', () => {
    const event = keptnEvent({ id: 'event-1', gitcommitid: undefined });
    assert.equal(
      envValue(initContainer(buildRun(runInput({ event }), settings()).jobs[0]!), 'GIT_COMMIT_ID'),
      undefined,
    );
  });

  void it('keeps the default resources and security context whatever the task asks', () => {
    const init = initContainer(
      buildOne({ resources: { limits: { cpu: 4 } }, securityContext: { runAsUser: 0, runAsNonRoot: false } }),
    );
    assert.deepEqual(init.resources, DEFAULT_RESOURCES);
    assert.deepEqual(init.securityContext, DEFAULT_CONTAINER_SECURITY);
  });

  void it('mounts the config claim read-only at CONFIG_DIR for the directory source', () => {
    const job = buildOne({}, { CONFIG_PVC: 'jes-config' });
    assert.deepEqual(podSpec(job).volumes, [
      { name: 'workspace', emptyDir: { sizeLimit: '20Mi' } },
      { name: 'tmp', emptyDir: { sizeLimit: '20Mi' } },
      { name: 'config', persistentVolumeClaim: { claimName: 'jes-config', readOnly: true } },
    ]);
    assert.deepEqual(initContainer(job).volumeMounts, [
      ...WORKSPACE_MOUNTS,
      { name: 'config', mountPath: '/config' },
    ]);
    assert.deepEqual(taskContainer(job).volumeMounts, WORKSPACE_MOUNTS);
  });

  void it('sizes the workspace from WORKSPACE_SIZE_LIMIT', () => {
    assert.deepEqual(podSpec(buildOne({}, { WORKSPACE_SIZE_LIMIT: '100Mi' })).volumes, [
      { name: 'workspace', emptyDir: { sizeLimit: '100Mi' } },
      { name: 'tmp', emptyDir: { sizeLimit: '100Mi' } },
    ]);
  });

  void it('gets the Keptn source and the token only as a secretKeyRef', () => {
    const env = {
      KEPTN_API_URL: 'http://keptn.example/api',
      KEPTN_API_TOKEN: 'literal-token-value-0123',
      KEPTN_API_TOKEN_SECRET: 'keptn-api-token/x-token',
    };
    const job = buildOne({}, env);
    const init = initContainer(job);
    assert.deepEqual(init.env?.slice(-4), [
      { name: 'CONFIG_SOURCE', value: 'keptn' },
      { name: 'KEPTN_RESOURCE_SERVICE_URL', value: 'http://keptn.example/api/resource-service' },
      { name: 'KEPTN_RESOURCE_URI_ESCAPING', value: 'double' },
      { name: 'KEPTN_API_TOKEN', valueFrom: { secretKeyRef: { name: 'keptn-api-token', key: 'x-token' } } },
    ]);
    assert.equal(envValue(init, 'CONFIG_DIR'), undefined);
    assert.equal(
      JSON.stringify(job).includes('literal-token-value-0123'),
      false,
      'the token value is never in the Job',
    );
    assert.equal(
      (taskContainer(job).env ?? []).some((variable) => variable.name === 'KEPTN_API_TOKEN'),
      false,
      'the task never gets the token',
    );
  });

  void it('gets no token at all without KEPTN_API_TOKEN_SECRET', () => {
    const job = buildOne(
      {},
      { KEPTN_API_URL: 'http://keptn.example/api', KEPTN_API_TOKEN: 'literal-token-value-0123' },
    );
    assert.equal(
      (initContainer(job).env ?? []).some((variable) => variable.name === 'KEPTN_API_TOKEN'),
      false,
    );
    assert.equal(JSON.stringify(job).includes('literal-token-value-0123'), false);
  });
});

void describe('security', () => {
  void it('runs as non-root with a read-only root, no capabilities, seccomp RuntimeDefault and no token', () => {
    const job = buildOne();
    assert.deepEqual(taskContainer(job).securityContext, DEFAULT_CONTAINER_SECURITY);
    assert.deepEqual(podSpec(job).securityContext, {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 2000,
      fsGroup: 2000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.equal(podSpec(job).automountServiceAccountToken, false);
    assert.equal('serviceAccountName' in podSpec(job), false);
  });

  void it('uses the default service account without mounting its token', () => {
    const spec = podSpec(buildOne({}, { DEFAULT_JOB_SERVICE_ACCOUNT: 'jes-jobs' }));
    assert.equal(spec.serviceAccountName, 'jes-jobs');
    assert.equal(spec.automountServiceAccountToken, false);
  });

  void it('mounts a token only for a task that names its serviceAccount', () => {
    const spec = podSpec(
      buildOne({ serviceAccount: 'deployer' }, { DEFAULT_JOB_SERVICE_ACCOUNT: 'jes-jobs' }),
    );
    assert.equal(spec.serviceAccountName, 'deployer');
    assert.equal(spec.automountServiceAccountToken, true);
  });

  const overrides: [name: string, securityContext: NonNullable<Task['securityContext']>][] = [
    ['privileged', { privileged: true }],
    ['allowPrivilegeEscalation', { allowPrivilegeEscalation: true }],
    ['readOnlyRootFilesystem', { readOnlyRootFilesystem: false }],
    ['runAsNonRoot', { runAsNonRoot: false }],
    ['runAsUser', { runAsUser: 0 }],
    ['runAsGroup', { runAsGroup: 0 }],
    ['capabilities', { capabilities: { add: ['NET_ADMIN'] } }],
    ['seccompProfile', { seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } }],
    ['procMount', { procMount: 'Unmasked' }],
  ];
  for (const [name, securityContext] of overrides) {
    void it(`overrides ${name} alone, keeping every other default`, () => {
      assert.deepEqual(taskContainer(buildOne({ securityContext })).securityContext, {
        ...DEFAULT_CONTAINER_SECURITY,
        ...securityContext,
      });
      assert.deepEqual(containerSecurityContext({ securityContext }), {
        ...DEFAULT_CONTAINER_SECURITY,
        ...securityContext,
      });
    });
  }

  void it('takes several overrides at once and leaves the pod security context alone', () => {
    const job = buildOne({
      securityContext: { runAsUser: 0, runAsNonRoot: false, readOnlyRootFilesystem: false },
    });
    assert.deepEqual(taskContainer(job).securityContext, {
      ...DEFAULT_CONTAINER_SECURITY,
      runAsUser: 0,
      runAsNonRoot: false,
      readOnlyRootFilesystem: false,
    });
    assert.equal(podSpec(job).securityContext?.runAsNonRoot, true);
  });
});

void describe('resources, timeouts and TTL', () => {
  void it('uses the default resources without a task block, and the DEFAULT_RESOURCE_* settings', () => {
    assert.deepEqual(taskContainer(buildOne()).resources, DEFAULT_RESOURCES);
    const custom = {
      DEFAULT_RESOURCE_LIMITS_CPU: '2',
      DEFAULT_RESOURCE_LIMITS_MEMORY: '1Gi',
      DEFAULT_RESOURCE_REQUESTS_CPU: '100m',
      DEFAULT_RESOURCE_REQUESTS_MEMORY: '256Mi',
    };
    const job = buildOne({}, custom);
    const expected = { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '100m', memory: '256Mi' } };
    assert.deepEqual(taskContainer(job).resources, expected);
    assert.deepEqual(initContainer(job).resources, expected);
  });

  const blocks: [name: string, resources: NonNullable<Task['resources']>, expected: object][] = [
    [
      'a full block',
      { limits: { cpu: 2, memory: '1Gi' }, requests: { cpu: '500m', memory: 268435456 } },
      { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '500m', memory: '268435456' } },
    ],
    ['limits only (no default requests)', { limits: { cpu: 0.5 } }, { limits: { cpu: '0.5' } }],
    ['requests only (no default limits)', { requests: { memory: '64Mi' } }, { requests: { memory: '64Mi' } }],
    ['an empty block (no defaults at all)', {}, {}],
    ['empty limits', { limits: {} }, { limits: {} }],
  ];
  for (const [name, resources, expected] of blocks) {
    void it(`replaces the defaults with ${name}`, () => {
      assert.deepEqual(taskContainer(buildOne({ resources })).resources, expected);
    });
  }

  const timeouts: [name: string, overrides: Partial<Task>, env: Record<string, string>, expected: number][] =
    [
      ['the default 300 s', {}, {}, 300],
      ['DEFAULT_TASK_TIMEOUT_SECONDS', {}, { DEFAULT_TASK_TIMEOUT_SECONDS: '900' }, 900],
      ['maxPollDuration', { maxPollDuration: 1200 }, { DEFAULT_TASK_TIMEOUT_SECONDS: '900' }, 1200],
      ['a short maxPollDuration', { maxPollDuration: 1 }, {}, 1],
    ];
  for (const [name, overrides, env, expected] of timeouts) {
    void it(`sets activeDeadlineSeconds and the timeout annotation from ${name}`, () => {
      const job = buildOne(overrides, env);
      assert.equal(job.spec?.activeDeadlineSeconds, expected);
      assert.equal(job.metadata?.annotations?.[Annotations.timeoutSeconds], String(expected));
    });
  }

  const ttls: [name: string, overrides: Partial<Task>, env: Record<string, string>, expected: number][] = [
    ['the default', {}, {}, 21600],
    ['DEFAULT_TTL_SECONDS_AFTER_FINISHED', {}, { DEFAULT_TTL_SECONDS_AFTER_FINISHED: '3600' }, 3600],
    ['the task', { ttlSecondsAfterFinished: 600 }, {}, 600],
    ['the task, raised to 60', { ttlSecondsAfterFinished: 10 }, {}, 60],
    ['the task, 0 raised to 60', { ttlSecondsAfterFinished: 0 }, {}, 60],
    ['exactly 60', { ttlSecondsAfterFinished: 60 }, {}, 60],
    ['the setting, raised to 60', {}, { DEFAULT_TTL_SECONDS_AFTER_FINISHED: '5' }, 60],
  ];
  for (const [name, overrides, env, expected] of ttls) {
    void it(`sets ttlSecondsAfterFinished from ${name}`, () => {
      assert.equal(buildOne(overrides, env).spec?.ttlSecondsAfterFinished, expected);
    });
  }
});

void describe('placement of the remaining task fields', () => {
  void it('puts pull secrets, node selector and tolerations on the pod, labels on Job and pod, annotations on the Job only', () => {
    const job = buildOne({
      imagePullPolicy: 'Always',
      imagePullSecrets: ['registry-a', 'registry-b'],
      nodeSelector: { 'kubernetes.io/arch': 'arm64' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'jobs', effect: 'NoSchedule' }],
      labels: { team: 'a' },
      annotations: { 'example.com/owner': 'me' },
      args: ['--verbose'],
      workingDir: '/keptn/locust',
    });
    const spec = podSpec(job);
    assert.deepEqual(spec.imagePullSecrets, [{ name: 'registry-a' }, { name: 'registry-b' }]);
    assert.deepEqual(spec.nodeSelector, { 'kubernetes.io/arch': 'arm64' });
    assert.deepEqual(spec.tolerations, [
      { key: 'dedicated', operator: 'Equal', value: 'jobs', effect: 'NoSchedule' },
    ]);
    assert.equal(job.metadata!.labels!.team, 'a');
    assert.equal(job.spec!.template.metadata!.labels!.team, 'a');
    assert.equal(job.metadata!.annotations!['example.com/owner'], 'me');
    assert.equal(job.spec!.template.metadata!.annotations, undefined);
    const container = taskContainer(job);
    assert.equal(container.imagePullPolicy, 'Always');
    assert.deepEqual(container.command, ['sh', '-c', 'echo hello']);
    assert.deepEqual(container.args, ['--verbose']);
    assert.equal(container.workingDir, '/keptn/locust');
  });

  void it('leaves them out when the task does not set them', () => {
    const job = buildOne({ cmd: undefined });
    const spec = podSpec(job);
    for (const key of ['imagePullSecrets', 'nodeSelector', 'tolerations'] as const)
      assert.equal(key in spec, false, key);
    const container = taskContainer(job);
    for (const key of ['imagePullPolicy', 'command', 'args', 'workingDir'] as const)
      assert.equal(key in container, false, key);
  });

  const namespaces: [
    name: string,
    overrides: Partial<Task>,
    env: Record<string, string>,
    expected: string,
  ][] = [
    ['the default namespace', {}, {}, 'default'],
    ['JOB_NAMESPACE', {}, { JOB_NAMESPACE: 'jes-jobs' }, 'jes-jobs'],
    ['the task namespace', { namespace: 'load-tests' }, { JOB_NAMESPACE: 'jes-jobs' }, 'load-tests'],
  ];
  for (const [name, overrides, env, expected] of namespaces) {
    void it(`creates the Job in ${name}`, () => {
      assert.equal(buildOne(overrides, env).metadata?.namespace, expected);
    });
  }
});

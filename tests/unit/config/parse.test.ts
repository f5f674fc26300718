import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { parseJobConfig } from '../../../lib/config/parse.js';
import type { JobConfig } from '../../../lib/config/schema.js';
import { isJesError, type Issue } from '../../../lib/errors/index.js';

/** Every field of the format, each with a non-default value. */
const FULL_CONFIG_YAML = `apiVersion: v2
actions:
  - name: Run locust
    silent: true
    events:
      - name: sh.keptn.event.test.triggered
        jsonpath:
          property: $.data.test.teststrategy
          match: locust
      - name: sh.keptn.event.*.triggered
      - name: sh.keptn.**
        jsonpath: { property: $.data.count, match: 5 }
    tasks:
      - name: Run locust tests
        image: locustio/locust:2.20
        imagePullPolicy: IfNotPresent
        imagePullSecrets: [registry-credentials]
        cmd: [locust]
        args: ['--config', /keptn/locust/locust.conf, '--host', $(HOST)]
        files: [locust/basic.py, locust/]
        env:
          - { name: HOST, value: "$.data.deployment.deploymentURIsLocal[0]", valueFrom: event }
          - { name: EVENT, value: $, valueFrom: event, as: json }
          - { name: DATA_YAML, value: $.data, valueFrom: event, as: yaml }
          - { name: STRATEGY, value: $.data.test.teststrategy, valueFrom: event, as: string }
          - { name: locust-secret, valueFrom: secret }
          - { name: API_KEY, valueFrom: secret, secret: api-credentials, key: api-key }
          - { name: DATA_DIR, value: /data, valueFrom: string }
        resources:
          limits: { cpu: 1, memory: 512Mi }
          requests: { cpu: 50m, memory: 134217728 }
        workingDir: /keptn
        maxPollDuration: 1200
        namespace: load-tests
        serviceAccount: locust-runner
        ttlSecondsAfterFinished: 600
        securityContext:
          capabilities: { add: [NET_BIND_SERVICE], drop: [ALL] }
          privileged: false
          runAsUser: 1001
          runAsGroup: 3000
          runAsNonRoot: true
          readOnlyRootFilesystem: false
          allowPrivilegeEscalation: false
          procMount: Default
          seccompProfile: { type: Localhost, localhostProfile: profiles/locust.json }
        annotations: { example.com/owner: team-a }
        labels: { app.kubernetes.io/part-of: load-tests }
        nodeSelector: { kubernetes.io/arch: amd64 }
        tolerations:
          - { key: dedicated, operator: Equal, value: load, effect: NoSchedule }
          - { operator: Exists, effect: NoExecute, tolerationSeconds: 30 }
  - name: notify
    events:
      - name: com.example.build.finished
    tasks:
      - name: first
        image: busybox
      - name: second
        image: busybox
`;

const FULL_CONFIG: JobConfig = {
  apiVersion: 'v2',
  actions: [
    {
      name: 'Run locust',
      silent: true,
      events: [
        {
          name: 'sh.keptn.event.test.triggered',
          jsonpath: { property: '$.data.test.teststrategy', match: 'locust' },
        },
        { name: 'sh.keptn.event.*.triggered' },
        { name: 'sh.keptn.**', jsonpath: { property: '$.data.count', match: 5 } },
      ],
      tasks: [
        {
          name: 'Run locust tests',
          image: 'locustio/locust:2.20',
          imagePullPolicy: 'IfNotPresent',
          imagePullSecrets: ['registry-credentials'],
          cmd: ['locust'],
          args: ['--config', '/keptn/locust/locust.conf', '--host', '$(HOST)'],
          files: ['locust/basic.py', 'locust/'],
          env: [
            { name: 'HOST', value: '$.data.deployment.deploymentURIsLocal[0]', valueFrom: 'event' },
            { name: 'EVENT', value: '$', valueFrom: 'event', as: 'json' },
            { name: 'DATA_YAML', value: '$.data', valueFrom: 'event', as: 'yaml' },
            { name: 'STRATEGY', value: '$.data.test.teststrategy', valueFrom: 'event', as: 'string' },
            { name: 'locust-secret', valueFrom: 'secret' },
            { name: 'API_KEY', valueFrom: 'secret', secret: 'api-credentials', key: 'api-key' },
            { name: 'DATA_DIR', value: '/data', valueFrom: 'string' },
          ],
          resources: { limits: { cpu: 1, memory: '512Mi' }, requests: { cpu: '50m', memory: 134217728 } },
          workingDir: '/keptn',
          maxPollDuration: 1200,
          namespace: 'load-tests',
          serviceAccount: 'locust-runner',
          ttlSecondsAfterFinished: 600,
          securityContext: {
            capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
            privileged: false,
            runAsUser: 1001,
            runAsGroup: 3000,
            runAsNonRoot: true,
            readOnlyRootFilesystem: false,
            allowPrivilegeEscalation: false,
            procMount: 'Default',
            seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/locust.json' },
          },
          annotations: { 'example.com/owner': 'team-a' },
          labels: { 'app.kubernetes.io/part-of': 'load-tests' },
          nodeSelector: { 'kubernetes.io/arch': 'amd64' },
          tolerations: [
            { key: 'dedicated', operator: 'Equal', value: 'load', effect: 'NoSchedule' },
            { operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
          ],
        },
      ],
    },
    {
      name: 'notify',
      events: [{ name: 'com.example.build.finished' }],
      tasks: [
        { name: 'first', image: 'busybox' },
        { name: 'second', image: 'busybox' },
      ],
    },
  ],
};

/** A fresh, mutable copy of the full config as plain data. */
function fullConfigData(): Record<string, unknown> {
  return parseYaml(FULL_CONFIG_YAML) as Record<string, unknown>;
}

/** The issues parseJobConfig reports for `text`; fails when it accepts it. */
function issuesOf(text: string): readonly Issue[] {
  try {
    parseJobConfig(text, 'test.yaml');
  } catch (error) {
    assert.ok(isJesError(error, 'CONFIG_INVALID'), `expected JES_ERR_CONFIG_INVALID, got ${String(error)}`);
    assert.equal(error.statusCode, 422);
    return error.issues;
  }
  return assert.fail(`expected the config to be refused:\n${text}`);
}

/** Issues without their ` (line N)` suffix, for tables whose YAML is generated. */
function issuesWithoutLines(text: string): Issue[] {
  return issuesOf(text).map((issue) => ({
    path: issue.path,
    message: issue.message.replace(/ \(line \d+\)$/, ''),
  }));
}

type Segment = string | number;
const REMOVE = Symbol('remove');

function segmentsOf(path: string): Segment[] {
  return [...path.matchAll(/([A-Za-z_][\w-]*)|\[(\d+)\]/g)].map((match) =>
    match[2] === undefined ? match[1]! : Number(match[2]),
  );
}

/** Sets (or removes) the value at a dotted path such as `actions[0].tasks[0].image`, creating parents as needed. */
function setIn(root: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const segments = segmentsOf(path);
  let node: Record<Segment, unknown> = root;
  segments.slice(0, -1).forEach((segment, index) => {
    if (typeof node[segment] !== 'object' || node[segment] === null) {
      node[segment] = typeof segments[index + 1] === 'number' ? [] : {};
    }
    node = node[segment] as Record<Segment, unknown>;
  });
  const last = segments.at(-1)!;
  if (value === REMOVE) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else Reflect.deleteProperty(node, last);
  } else {
    node[last] = value;
  }
  return root;
}

/** The full config with one change, as YAML. */
function fullConfigWith(path: string, value: unknown): string {
  return toYaml(setIn(fullConfigData(), path, value));
}

/** A one-action, one-task config with extra lines in the task (indented 8 spaces) and an event entry. */
function taskYaml(taskLines: string, eventLines = ''): string {
  return `apiVersion: v2
actions:
  - name: a
    events:
      - name: sh.keptn.event.test.triggered
${eventLines}    tasks:
      - name: t
        image: busybox
${taskLines}`;
}

const T = 'actions[0].tasks[0]';
const E = 'actions[0].events[0]';

void describe('parseJobConfig: a valid config', () => {
  void it('parses a config using every field into exactly that data', () => {
    const loaded = parseJobConfig(FULL_CONFIG_YAML, 'job/config.yaml at service level', 'abc123');
    assert.deepEqual(loaded.config, FULL_CONFIG);
    assert.equal(loaded.origin, 'job/config.yaml at service level');
    assert.equal(loaded.commit, 'abc123');
    assert.equal(loaded.hash, createHash('sha256').update(FULL_CONFIG_YAML).digest('hex'));
  });

  void it('has no commit when none is given, and the hash changes with the text', () => {
    const loaded = parseJobConfig(FULL_CONFIG_YAML, 'o');
    assert.equal(loaded.commit, undefined);
    assert.notEqual(parseJobConfig(`${FULL_CONFIG_YAML}# a comment\n`, 'o').hash, loaded.hash);
  });

  void it('accepts the minimal config (apiVersion, one action with one event and one task)', () => {
    const loaded = parseJobConfig(taskYaml(''), 'o');
    assert.deepEqual(loaded.config, {
      apiVersion: 'v2',
      actions: [
        {
          name: 'a',
          events: [{ name: 'sh.keptn.event.test.triggered' }],
          tasks: [{ name: 't', image: 'busybox' }],
        },
      ],
    });
  });

  void it('accepts a quantity as a string or a number, and any JSON value as match', () => {
    for (const match of ['"x"', '5', 'true', 'null', '{ a: [1] }', '[1, 2]']) {
      const text = taskYaml(
        '        resources: { limits: { cpu: 0.5, memory: 1Gi }, requests: { cpu: "250m", memory: 1000 } }\n',
        `        jsonpath: { property: $.data.x, match: ${match} }\n`,
      );
      assert.doesNotThrow(() => parseJobConfig(text, 'o'), match);
    }
  });

  void it('allows the same task name in different actions', () => {
    const text = toYaml({
      apiVersion: 'v2',
      actions: [
        { name: 'a', events: [{ name: 'x.y' }], tasks: [{ name: 'run', image: 'busybox' }] },
        { name: 'b', events: [{ name: 'x.y' }], tasks: [{ name: 'run', image: 'busybox' }] },
      ],
    });
    assert.equal(parseJobConfig(text, 'o').config.actions.length, 2);
  });
});

void describe('parseJobConfig: wrong types, each reported at its exact path with what is expected', () => {
  const cases: { set: string; value: unknown; path?: string; message: string }[] = [
    { set: 'apiVersion', value: 2, message: "expected 'v2', got number 2" },
    { set: 'actions', value: 'run', message: 'expected array, got string "run"' },
    { set: 'actions[0]', value: 'run', message: 'expected object, got string "run"' },
    { set: 'actions[0].name', value: 5, message: 'expected string, got number 5' },
    {
      set: 'actions[0].name',
      value: '',
      message: 'expected string length greater or equal to 1, got string ""',
    },
    { set: 'actions[0].events', value: { name: 'x' }, message: 'expected array, got a map' },
    {
      set: 'actions[0].silent',
      value: 'yes',
      message: 'expected boolean (send no .started/.finished for this action), got string "yes"',
    },
    { set: 'actions[0].tasks', value: 'run', message: 'expected array, got string "run"' },
    {
      set: E,
      value: 'sh.keptn.event.test.triggered',
      message: 'expected object, got string "sh.keptn.event.test.triggered"',
    },
    {
      set: `${E}.name`,
      value: 1,
      message:
        'expected string (a CloudEvent type or a glob over its dot-separated segments: * = one segment, ** = any number), got number 1',
    },
    {
      set: `${E}.jsonpath`,
      value: '$.data.x',
      message:
        'expected object (run only when the value at `property` equals `match`), got string "$.data.x"',
    },
    {
      set: `${E}.jsonpath.property`,
      value: ['$.data'],
      message: 'expected string (a JSONPath into the event, e.g. $.data.test.teststrategy), got a list',
    },
    { set: T, value: ['busybox'], message: 'expected object, got a list' },
    { set: `${T}.name`, value: 7, message: 'expected string, got number 7' },
    { set: `${T}.image`, value: 5, message: 'expected string (a container image reference), got number 5' },
    {
      set: `${T}.image`,
      value: '',
      message: 'expected string length greater or equal to 1 (a container image reference), got string ""',
    },
    {
      set: `${T}.imagePullPolicy`,
      value: 'Sometimes',
      message: 'expected one of: Always, IfNotPresent, Never, got string "Sometimes"',
    },
    {
      set: `${T}.imagePullSecrets`,
      value: 'registry',
      message:
        'expected array (names of Secrets of type kubernetes.io/dockerconfigjson), got string "registry"',
    },
    {
      set: `${T}.imagePullSecrets`,
      value: [1],
      path: `${T}.imagePullSecrets[0]`,
      message: 'expected string, got number 1',
    },
    {
      set: `${T}.cmd`,
      value: 'locust -f x',
      message: 'expected array (the container command), got string "locust -f x"',
    },
    { set: `${T}.cmd`, value: ['sh', 1], path: `${T}.cmd[1]`, message: 'expected string, got number 1' },
    { set: `${T}.args`, value: { a: 1 }, message: 'expected array (the container arguments), got a map' },
    { set: `${T}.args`, value: [true], path: `${T}.args[0]`, message: 'expected string, got boolean true' },
    {
      set: `${T}.files`,
      value: 'locust/',
      message:
        'expected array (Keptn resources (files or directories) copied to /keptn/<path>), got string "locust/"',
    },
    { set: `${T}.files`, value: [null], path: `${T}.files[0]`, message: 'expected string, got null' },
    { set: `${T}.env`, value: { HOST: 'x' }, message: 'expected array, got a map' },
    { set: `${T}.env[0]`, value: 'HOST=x', message: 'expected object, got string "HOST=x"' },
    {
      set: `${T}.env[0].name`,
      value: 1,
      message:
        'expected string (the variable name; for valueFrom secret without `secret`, the name of the Secret to import), got number 1',
    },
    {
      set: `${T}.env[0].valueFrom`,
      value: 'configmap',
      message: 'expected one of: event, secret, string, got string "configmap"',
    },
    {
      set: `${T}.env[0].value`,
      value: 3,
      message: 'expected string (a JSONPath for event, the literal for string), got number 3',
    },
    { set: `${T}.env[0].as`, value: 'xml', message: 'expected one of: string, json, yaml, got string "xml"' },
    {
      set: `${T}.env[5].secret`,
      value: 1,
      message: 'expected string (a Secret name (single-key form)), got number 1',
    },
    {
      set: `${T}.env[5].key`,
      value: false,
      message: 'expected string (the key in `secret` (single-key form)), got boolean false',
    },
    { set: `${T}.resources`, value: '1Gi', message: 'expected object, got string "1Gi"' },
    { set: `${T}.resources.limits`, value: [], message: 'expected object, got a list' },
    { set: `${T}.resources.requests`, value: 'small', message: 'expected object, got string "small"' },
    {
      set: `${T}.resources.limits.cpu`,
      value: true,
      message: 'expected string or number (a Kubernetes quantity such as 500m, 1 or 256Mi), got boolean true',
    },
    {
      set: `${T}.resources.limits.memory`,
      value: '',
      message: 'expected string or number (a Kubernetes quantity such as 500m, 1 or 256Mi), got string ""',
    },
    {
      set: `${T}.resources.requests.cpu`,
      value: -1,
      message: 'expected string or number (a Kubernetes quantity such as 500m, 1 or 256Mi), got number -1',
    },
    {
      set: `${T}.resources.requests.memory`,
      value: ['1Gi'],
      message: 'expected string or number (a Kubernetes quantity such as 500m, 1 or 256Mi), got a list',
    },
    { set: `${T}.workingDir`, value: 1, message: 'expected string, got number 1' },
    {
      set: `${T}.maxPollDuration`,
      value: '5m',
      message:
        'expected integer (the task timeout in seconds (the Job is stopped after it)), got string "5m"',
    },
    {
      set: `${T}.maxPollDuration`,
      value: 0,
      message:
        'expected integer to be greater or equal to 1 (the task timeout in seconds (the Job is stopped after it)), got number 0',
    },
    {
      set: `${T}.maxPollDuration`,
      value: 1.5,
      message: 'expected integer (the task timeout in seconds (the Job is stopped after it)), got number 1.5',
    },
    { set: `${T}.namespace`, value: 1, message: 'expected string, got number 1' },
    {
      set: `${T}.namespace`,
      value: '',
      message: 'expected string length greater or equal to 1, got string ""',
    },
    { set: `${T}.serviceAccount`, value: true, message: 'expected string, got boolean true' },
    {
      set: `${T}.ttlSecondsAfterFinished`,
      value: -1,
      message: 'expected integer to be greater or equal to 0, got number -1',
    },
    { set: `${T}.ttlSecondsAfterFinished`, value: '1h', message: 'expected integer, got string "1h"' },
    { set: `${T}.securityContext`, value: 'restricted', message: 'expected object, got string "restricted"' },
    { set: `${T}.securityContext.capabilities`, value: ['ALL'], message: 'expected object, got a list' },
    {
      set: `${T}.securityContext.capabilities.add`,
      value: 'NET_ADMIN',
      message: 'expected array (capabilities), got string "NET_ADMIN"',
    },
    {
      set: `${T}.securityContext.capabilities.drop`,
      value: [1],
      path: `${T}.securityContext.capabilities.drop[0]`,
      message: 'expected string, got number 1',
    },
    { set: `${T}.securityContext.privileged`, value: 'no', message: 'expected boolean, got string "no"' },
    {
      set: `${T}.securityContext.runAsUser`,
      value: -1,
      message: 'expected integer to be greater or equal to 0, got number -1',
    },
    { set: `${T}.securityContext.runAsUser`, value: 1.5, message: 'expected integer, got number 1.5' },
    {
      set: `${T}.securityContext.runAsGroup`,
      value: 'staff',
      message: 'expected integer, got string "staff"',
    },
    { set: `${T}.securityContext.runAsNonRoot`, value: 1, message: 'expected boolean, got number 1' },
    {
      set: `${T}.securityContext.readOnlyRootFilesystem`,
      value: 'true',
      message: 'expected boolean, got string "true"',
    },
    {
      set: `${T}.securityContext.allowPrivilegeEscalation`,
      value: null,
      message: 'expected boolean, got null',
    },
    {
      set: `${T}.securityContext.procMount`,
      value: 'Masked',
      message: 'expected one of: Default, Unmasked, got string "Masked"',
    },
    {
      set: `${T}.securityContext.seccompProfile`,
      value: 'RuntimeDefault',
      message: 'expected object, got string "RuntimeDefault"',
    },
    {
      set: `${T}.securityContext.seccompProfile.type`,
      value: 'Strict',
      message: 'expected one of: RuntimeDefault, Localhost, Unconfined, got string "Strict"',
    },
    {
      set: `${T}.securityContext.seccompProfile.localhostProfile`,
      value: 1,
      message: 'expected string, got number 1',
    },
    {
      set: `${T}.annotations`,
      value: [{ key1: 'value1' }],
      message: 'expected object (annotations on the Job (a map of string to string)), got a list',
    },
    {
      set: `${T}.annotations`,
      value: { 'example.com/owner': 1 },
      path: `${T}.annotations["example.com/owner"]`,
      message: 'expected string, got number 1',
    },
    {
      set: `${T}.labels`,
      value: 'team=a',
      message:
        'expected object (labels on the Job and its pod (a map of string to string)), got string "team=a"',
    },
    {
      set: `${T}.labels`,
      value: { team: true },
      path: `${T}.labels.team`,
      message: 'expected string, got boolean true',
    },
    {
      set: `${T}.nodeSelector`,
      value: ['amd64'],
      message: 'expected object (node labels the pod must run on (a map of string to string)), got a list',
    },
    {
      set: `${T}.nodeSelector`,
      value: { arch: 64 },
      path: `${T}.nodeSelector.arch`,
      message: 'expected string, got number 64',
    },
    { set: `${T}.tolerations`, value: { key: 'x' }, message: 'expected array, got a map' },
    { set: `${T}.tolerations[0]`, value: 'dedicated', message: 'expected object, got string "dedicated"' },
    { set: `${T}.tolerations[0].key`, value: 1, message: 'expected string, got number 1' },
    {
      set: `${T}.tolerations[0].operator`,
      value: 'In',
      message: 'expected one of: Exists, Equal, got string "In"',
    },
    { set: `${T}.tolerations[0].value`, value: true, message: 'expected string, got boolean true' },
    {
      set: `${T}.tolerations[0].effect`,
      value: 'Never',
      message: 'expected one of: NoSchedule, PreferNoSchedule, NoExecute, got string "Never"',
    },
    { set: `${T}.tolerations[1].tolerationSeconds`, value: 1.5, message: 'expected integer, got number 1.5' },
  ];
  for (const { set, value, path, message } of cases) {
    void it(`${set} = ${JSON.stringify(value)}`, () => {
      assert.deepEqual(issuesWithoutLines(fullConfigWith(set, value)), [{ path: path ?? set, message }]);
    });
  }
});

void describe('parseJobConfig: apiVersion and empty lists', () => {
  const cases: { name: string; set: string; value: unknown; message: string }[] = [
    { name: 'apiVersion v1', set: 'apiVersion', value: 'v1', message: `expected 'v2', got string "v1"` },
    { name: 'apiVersion "2"', set: 'apiVersion', value: '2', message: `expected 'v2', got string "2"` },
    { name: 'no actions', set: 'actions', value: [], message: 'must have at least 1 item(s)' },
    { name: 'no events', set: 'actions[0].events', value: [], message: 'must have at least 1 item(s)' },
    { name: 'no tasks', set: 'actions[1].tasks', value: [], message: 'must have at least 1 item(s)' },
  ];
  for (const { name, set, value, message } of cases) {
    void it(name, () => {
      assert.deepEqual(issuesWithoutLines(fullConfigWith(set, value)), [{ path: set, message }]);
    });
  }
});

void describe('parseJobConfig: missing required fields', () => {
  const cases: { remove: string; message: string }[] = [
    { remove: 'apiVersion', message: 'is required' },
    { remove: 'actions', message: 'is required' },
    { remove: 'actions[0].name', message: 'is required' },
    { remove: 'actions[0].events', message: 'is required' },
    { remove: 'actions[0].tasks', message: 'is required' },
    {
      remove: `${E}.name`,
      message:
        'is required (a CloudEvent type or a glob over its dot-separated segments: * = one segment, ** = any number)',
    },
    {
      remove: `${E}.jsonpath.property`,
      message: 'is required (a JSONPath into the event, e.g. $.data.test.teststrategy)',
    },
    {
      remove: `${E}.jsonpath.match`,
      message: 'is required (the value to compare with (any JSON value, compared by value))',
    },
    { remove: `${T}.name`, message: 'is required' },
    { remove: `${T}.image`, message: 'is required (a container image reference)' },
    {
      remove: `${T}.env[0].name`,
      message:
        'is required (the variable name; for valueFrom secret without `secret`, the name of the Secret to import)',
    },
    { remove: `${T}.env[0].valueFrom`, message: 'is required' },
    { remove: `${T}.securityContext.seccompProfile.type`, message: 'is required' },
  ];
  for (const { remove, message } of cases) {
    void it(remove, () => {
      assert.deepEqual(issuesWithoutLines(fullConfigWith(remove, REMOVE)), [{ path: remove, message }]);
    });
  }

  void it('reports an empty file as a root issue', () => {
    assert.deepEqual(issuesOf(''), [{ path: '(root)', message: 'expected object, got null' }]);
  });

  void it('reports a list at the root', () => {
    assert.deepEqual(issuesOf('- name: a\n'), [
      { path: '(root)', message: 'expected object, got a list (line 1)' },
    ]);
  });

  void it('reports every problem at once, each with its path', () => {
    const text = toYaml({ apiVersion: 'v1', actions: [{ name: 'a', events: [], tasks: [{ image: 5 }] }] });
    assert.deepEqual(
      issuesWithoutLines(text).map((issue) => issue.path),
      ['apiVersion', 'actions[0].events', 'actions[0].tasks[0].name', 'actions[0].tasks[0].image'],
    );
  });
});

void describe('parseJobConfig: unknown keys are refused at every level', () => {
  const taskKeys =
    'name, image, imagePullPolicy, imagePullSecrets, cmd, args, files, env, resources, workingDir, maxPollDuration, namespace, serviceAccount, ttlSecondsAfterFinished, securityContext, annotations, labels, nodeSelector, tolerations';
  const cases: { at: string; allowed: string }[] = [
    { at: 'kind', allowed: 'apiVersion, actions' },
    { at: 'actions[0].description', allowed: 'name, events, silent, tasks' },
    { at: `${E}.type`, allowed: 'name, jsonpath' },
    { at: `${E}.jsonpath.equals`, allowed: 'property, match' },
    { at: `${T}.volumes`, allowed: taskKeys },
    { at: `${T}.env[0].valueFromm`, allowed: 'name, valueFrom, value, as, secret, key' },
    { at: `${T}.resources.limit`, allowed: 'limits, requests' },
    { at: `${T}.resources.limits.gpu`, allowed: 'cpu, memory' },
    { at: `${T}.resources.requests.storage`, allowed: 'cpu, memory' },
    {
      at: `${T}.securityContext.fsGroup`,
      allowed:
        'capabilities, privileged, runAsUser, runAsGroup, runAsNonRoot, readOnlyRootFilesystem, allowPrivilegeEscalation, procMount, seccompProfile',
    },
    { at: `${T}.securityContext.capabilities.remove`, allowed: 'add, drop' },
    { at: `${T}.securityContext.seccompProfile.profile`, allowed: 'type, localhostProfile' },
    { at: `${T}.tolerations[0].operation`, allowed: 'key, operator, value, effect, tolerationSeconds' },
  ];
  for (const { at, allowed } of cases) {
    void it(at, () => {
      assert.deepEqual(issuesWithoutLines(fullConfigWith(at, 'x')), [
        { path: at, message: `unknown key; allowed keys here: ${allowed}` },
      ]);
    });
  }
});

void describe('parseJobConfig: YAML problems', () => {
  void it('reports a syntax error with its line', () => {
    assert.deepEqual(issuesOf('apiVersion: v2\nactions: [\n'), [
      {
        path: 'line 3',
        message: 'Flow sequence in block collection must be sufficiently indented and end with a ]',
      },
    ]);
  });

  void it('reports a tab indentation with its line', () => {
    assert.deepEqual(issuesOf('apiVersion: v2\nactions:\n\t- name: a\n'), [
      { path: 'line 3', message: 'Tabs are not allowed as indentation' },
    ]);
  });

  void it('reports an unterminated quote', () => {
    assert.deepEqual(issuesOf('apiVersion: v2\nactions:\n  - name: "a\n'), [
      { path: 'line 4', message: 'Missing closing "quote' },
    ]);
  });

  void it('refuses duplicate keys at the top level', () => {
    assert.deepEqual(issuesOf('apiVersion: v2\napiVersion: v2\nactions: []\n'), [
      { path: 'line 2', message: 'Map keys must be unique' },
    ]);
  });

  void it('refuses duplicate keys in a task', () => {
    assert.deepEqual(issuesOf(taskYaml('        image: alpine\n')), [
      { path: 'line 9', message: 'Map keys must be unique' },
    ]);
  });

  void it('names the origin in the error message', () => {
    assert.throws(
      () => parseJobConfig('apiVersion: v1\nactions: []\n', 'job/config.yaml at stage level'),
      (error: unknown) =>
        isJesError(error, 'CONFIG_INVALID') &&
        error.message === 'Invalid job config job/config.yaml at stage level: 2 problem(s)' &&
        error.describe().includes('apiVersion: expected \'v2\', got string "v1" (line 1)'),
    );
  });
});

void describe('parseJobConfig: issues carry the YAML line', () => {
  void it('points a wrong value at its own line', () => {
    assert.deepEqual(issuesOf(taskYaml('        cmd: locust\n')), [
      { path: `${T}.cmd`, message: 'expected array (the container command), got string "locust" (line 9)' },
    ]);
  });

  void it('points an unknown key at its line', () => {
    assert.deepEqual(issuesOf(taskYaml('        cmd: [a]\n        volumes: []\n')), [
      {
        path: `${T}.volumes`,
        message: `unknown key; allowed keys here: name, image, imagePullPolicy, imagePullSecrets, cmd, args, files, env, resources, workingDir, maxPollDuration, namespace, serviceAccount, ttlSecondsAfterFinished, securityContext, annotations, labels, nodeSelector, tolerations (line 10)`,
      },
    ]);
  });

  void it('points a missing key at the map that lacks it', () => {
    const text =
      'apiVersion: v2\nactions:\n  - name: a\n    events:\n      - name: x.y\n    tasks:\n      - name: t\n        cmd: [a]\n';
    assert.deepEqual(issuesOf(text), [
      { path: `${T}.image`, message: 'is required (a container image reference) (line 7)' },
    ]);
  });

  void it('points a semantic problem at its line', () => {
    assert.deepEqual(issuesOf(taskYaml('        namespace: Load_Tests\n')), [
      {
        path: `${T}.namespace`,
        message: 'must be a namespace name (lower case letters, digits, -) (line 9)',
      },
    ]);
  });

  void it('points a problem in a flow map entry at its line', () => {
    const text = taskYaml(
      '        env:\n          - { name: A, valueFrom: string, value: x }\n          - { name: B, valueFrom: event }\n',
    );
    assert.deepEqual(issuesOf(text), [
      {
        path: `${T}.env[1].value`,
        message: 'is required: a JSONPath into the event, e.g. $.data.stage (line 11)',
      },
    ]);
  });
});

void describe('parseJobConfig: rules beyond the schema', () => {
  const regexMessage = (pattern: string) =>
    `"${pattern}" uses regular-expression syntax; event names are globs: * matches one segment, ** any number of segments`;
  const filterMessage = (path: string) =>
    `"${path}" uses a filter or script expression, which is not supported (no code from a config is run)`;
  const cases: { name: string; set: string; value: unknown; path?: string; message: string }[] = [
    {
      name: 'a regex alternation in an event name',
      set: `${E}.name`,
      value: 'sh.keptn.event.(test|deployment).triggered',
      message: regexMessage('sh.keptn.event.(test|deployment).triggered'),
    },
    {
      name: 'a regex anchor in an event name',
      set: `${E}.name`,
      value: '^sh.keptn.event.test.triggered$',
      message: regexMessage('^sh.keptn.event.test.triggered$'),
    },
    {
      name: 'a regex class in an event name',
      set: `${E}.name`,
      value: 'sh.keptn.event.[a-z]+.triggered',
      message: regexMessage('sh.keptn.event.[a-z]+.triggered'),
    },
    {
      name: 'a regex .* in an event name',
      set: `${E}.name`,
      value: 'sh\\.keptn\\..*',
      message: regexMessage('sh\\.keptn\\..*'),
    },
    {
      name: '** inside a segment',
      set: `${E}.name`,
      value: 'sh.keptn.event.test**',
      message: '"sh.keptn.event.test**": ** must be a whole segment, as in sh.keptn.**',
    },
    {
      name: '*** as a segment',
      set: `${E}.name`,
      value: 'sh.keptn.***',
      message: '"sh.keptn.***": ** must be a whole segment, as in sh.keptn.**',
    },
    {
      name: 'an empty segment',
      set: `${E}.name`,
      value: 'sh.keptn..test',
      message: '"sh.keptn..test" has an empty segment (two dots in a row, or a dot at an end)',
    },
    {
      name: 'a trailing dot',
      set: `${E}.name`,
      value: 'sh.keptn.',
      message: '"sh.keptn." has an empty segment (two dots in a row, or a dot at an end)',
    },
    {
      name: 'a JSONPath without $',
      set: `${E}.jsonpath.property`,
      value: 'data.test.teststrategy',
      message: '"data.test.teststrategy" must start with $ (for example $.data.project)',
    },
    {
      name: 'a filter JSONPath',
      set: `${E}.jsonpath.property`,
      value: '$.data.tests[?(@.name=="x")]',
      message: filterMessage('$.data.tests[?(@.name=="x")]'),
    },
    {
      name: 'a script JSONPath',
      set: `${E}.jsonpath.property`,
      value: '$.data[(process.exit(1))]',
      message: filterMessage('$.data[(process.exit(1))]'),
    },
    {
      name: 'a filter JSONPath after ..',
      set: `${E}.jsonpath.property`,
      value: '$..[?(@.x)]',
      message: filterMessage('$..[?(@.x)]'),
    },
    {
      name: 'a filter JSONPath with spaces',
      set: `${E}.jsonpath.property`,
      value: '$.data[ ?(@.x) ]',
      message: filterMessage('$.data[ ?(@.x) ]'),
    },
    {
      name: 'an RFC 9535 filter JSONPath',
      set: `${E}.jsonpath.property`,
      value: '$.data[?@.x == 1]',
      message: filterMessage('$.data[?@.x == 1]'),
    },
    // env, valueFrom: event
    {
      name: 'event env: invalid name',
      set: `${T}.env[0].name`,
      value: '1HOST',
      message: '"1HOST" is not a valid environment variable name',
    },
    {
      name: 'event env: name with a space',
      set: `${T}.env[0].name`,
      value: 'MY HOST',
      message: '"MY HOST" is not a valid environment variable name',
    },
    {
      name: 'event env: no value',
      set: `${T}.env[0].value`,
      value: REMOVE,
      message: 'is required: a JSONPath into the event, e.g. $.data.stage',
    },
    {
      name: 'event env: value without $',
      set: `${T}.env[0].value`,
      value: 'data.stage',
      message: '"data.stage" must start with $ (for example $.data.project)',
    },
    {
      name: 'event env: filter value',
      set: `${T}.env[0].value`,
      value: '$.data[?(@.x)]',
      message: filterMessage('$.data[?(@.x)]'),
    },
    {
      name: 'event env: secret given',
      set: `${T}.env[0].secret`,
      value: 'creds',
      path: `${T}.env[0].secret`,
      message: 'only valueFrom: secret takes secret/key',
    },
    {
      name: 'event env: key given',
      set: `${T}.env[0].key`,
      value: 'token',
      path: `${T}.env[0].secret`,
      message: 'only valueFrom: secret takes secret/key',
    },
    // env, valueFrom: string
    {
      name: 'string env: invalid name',
      set: `${T}.env[6].name`,
      value: 'DATA-DIR!',
      message: '"DATA-DIR!" is not a valid environment variable name',
    },
    {
      name: 'string env: no value',
      set: `${T}.env[6].value`,
      value: REMOVE,
      message: 'is required: the literal value',
    },
    {
      name: 'string env: secret given',
      set: `${T}.env[6].secret`,
      value: 'creds',
      message: 'only valueFrom: secret takes secret/key',
    },
    {
      name: 'string env: key given',
      set: `${T}.env[6].key`,
      value: 'token',
      path: `${T}.env[6].secret`,
      message: 'only valueFrom: secret takes secret/key',
    },
    // env, valueFrom: secret (whole Secret, JES form)
    {
      name: 'secret env: as given',
      set: `${T}.env[4].as`,
      value: 'json',
      message: 'only valueFrom: event takes as',
    },
    {
      name: 'secret env: name is not a Secret name',
      set: `${T}.env[4].name`,
      value: 'LOCUST_SECRET',
      message:
        '"LOCUST_SECRET" is not a Secret name (for one key, use name: VAR, secret: <secret>, key: <key>)',
    },
    {
      name: 'secret env: value given',
      set: `${T}.env[4].value`,
      value: 'x',
      message: 'is not used with valueFrom: secret; use secret and key for a single key',
    },
    // env, valueFrom: secret (single key)
    {
      name: 'single-key secret: key without secret',
      set: `${T}.env[5].secret`,
      value: REMOVE,
      message: 'is required with key: the name of the Secret',
    },
    {
      name: 'single-key secret: secret without key',
      set: `${T}.env[5].key`,
      value: REMOVE,
      message: 'is required with secret: the key to read from the Secret',
    },
    {
      name: 'single-key secret: invalid variable name',
      set: `${T}.env[5].name`,
      value: 'api-key!',
      message: '"api-key!" is not a valid environment variable name',
    },
    {
      name: 'single-key secret: invalid Secret name',
      set: `${T}.env[5].secret`,
      value: 'API_Credentials',
      message: '"API_Credentials" is not a Secret name',
    },
    {
      name: 'single-key secret: as given',
      set: `${T}.env[5].as`,
      value: 'yaml',
      message: 'only valueFrom: event takes as',
    },
    // names Kubernetes accepts
    {
      name: 'namespace with upper case',
      set: `${T}.namespace`,
      value: 'Load-Tests',
      message: 'must be a namespace name (lower case letters, digits, -)',
    },
    {
      name: 'namespace with a dot',
      set: `${T}.namespace`,
      value: 'load.tests',
      message: 'must be a namespace name (lower case letters, digits, -)',
    },
    {
      name: 'namespace ending with -',
      set: `${T}.namespace`,
      value: 'load-',
      message: 'must be a namespace name (lower case letters, digits, -)',
    },
    {
      name: 'serviceAccount with _',
      set: `${T}.serviceAccount`,
      value: 'locust_runner',
      message: 'must be a service account name (lower case letters, digits, -, .)',
    },
    {
      name: 'imagePullSecrets entry',
      set: `${T}.imagePullSecrets`,
      value: ['ok', 'Not OK'],
      path: `${T}.imagePullSecrets[1]`,
      message: '"Not OK" is not a Secret name',
    },
    // files
    ...['../etc/passwd', 'locust/../../x', '~/x', 'a/~b', '', '   ', '/'].map((file) => ({
      name: `files entry ${JSON.stringify(file)}`,
      set: `${T}.files`,
      value: ['ok.txt', file],
      path: `${T}.files[1]`,
      message: `"${file}" must be a relative resource path without .. or ~ (e.g. terraform/ or locust/basic.py)`,
    })),
    // unique names
    {
      name: 'a duplicate action name',
      set: 'actions[1].name',
      value: 'Run locust',
      message: 'duplicate action name "Run locust"',
    },
    {
      name: 'a duplicate task name',
      set: 'actions[1].tasks[1].name',
      value: 'first',
      message: 'duplicate task name "first" in this action',
    },
  ];
  for (const { name, set, value, path, message } of cases) {
    void it(name, () => {
      assert.deepEqual(issuesWithoutLines(fullConfigWith(set, value)), [{ path: path ?? set, message }]);
    });
  }

  void it('accepts the valid names and paths these rules allow', () => {
    const text = taskYaml(
      [
        '        namespace: load-tests-2',
        '        serviceAccount: runner.v2',
        '        imagePullSecrets: [ghcr.io-creds]',
        '        files: [/locust/basic.py, terraform/, .hidden/file]',
        '        env:',
        '          - { name: _A.b-c, valueFrom: event, value: "$.data[\'a:b\']" }',
        '          - { name: my-secret.v1, valueFrom: secret }',
        '          - { name: TOKEN, valueFrom: secret, secret: keptn-api-token, key: x-token }',
        '          - { name: EMPTY, valueFrom: string, value: "" }',
        '',
      ].join('\n'),
      '        jsonpath: { property: "$..teststrategy", match: functional }\n',
    );
    assert.doesNotThrow(() => parseJobConfig(text, 'o'));
  });

  void it('reports semantic problems of several actions and tasks together', () => {
    const data = fullConfigData();
    setIn(data, `${T}.namespace`, 'NS');
    setIn(data, 'actions[1].tasks[1].name', 'first');
    setIn(data, 'actions[1].events[0].name', 'a..b');
    assert.deepEqual(
      issuesWithoutLines(toYaml(data)).map((issue) => issue.path),
      [`${T}.namespace`, 'actions[1].events[0].name', 'actions[1].tasks[1].name'],
    );
  });
});

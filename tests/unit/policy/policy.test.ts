import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Task } from '../../../lib/config/schema.js';
import { isJesError } from '../../../lib/errors/index.js';
import type { MatchedAction } from '../../../lib/matching/index.js';
import { assertAllowed, checkTask, globMatches, type PolicySettings } from '../../../lib/policy/index.js';
import { action, settings, task } from '../../helpers/factories.js';

function policy(env: Record<string, string> = {}): PolicySettings {
  return settings(env).jobs;
}

function kinds(taskOverrides: Partial<Task>, env: Record<string, string> = {}): string[] {
  return checkTask(task(taskOverrides), policy(env)).map((problem) => problem.kind);
}

void describe('globMatches', () => {
  const cases: [pattern: string, value: string, expected: boolean][] = [
    ['busybox:1.36', 'busybox:1.36', true],
    ['busybox:1.36', 'busybox:1.37', false],
    ['busybox:1.36', 'docker.io/busybox:1.36', false],
    ['busybox', 'busybox:1.36', false],
    ['busybox*', 'busybox:1.36', true],
    ['docker.io/*', 'docker.io/library/busybox:1.36', true],
    ['docker.io/*', 'ghcr.io/docker.io/x', false],
    ['docker.io/*', 'docker.iox/busybox', false],
    ['ghcr.io/acme/*:v*', 'ghcr.io/acme/tool:v1.2', true],
    ['ghcr.io/acme/*:v*', 'ghcr.io/acme/tool:latest', false],
    ['*', 'anything/at:all', true],
    ['*', '', true],
    ['registry.example.com:5000/*', 'registry.example.com:5000/app', true],
    ['a.b', 'aXb', false],
    ['img@sha256:*', 'img@sha256:abc', true],
    ['(a|b)', 'a', false],
    ['(a|b)', '(a|b)', true],
    ['team-*', 'team-a', true],
    ['team-*', 'other', false],
  ];
  for (const [pattern, value, expected] of cases) {
    void it(`${pattern} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(value)}`, () => {
      assert.equal(globMatches(pattern, value), expected);
    });
  }
});

void describe('checkTask', () => {
  void it('allows every image when the allow-list is empty', () => {
    assert.deepEqual(kinds({ image: 'evil.example.com/miner:latest' }), []);
  });

  void it('allows an image matching any glob of ALLOWED_IMAGES', () => {
    const env = { ALLOWED_IMAGES: 'docker.io/*, ghcr.io/acme/*' };
    assert.deepEqual(kinds({ image: 'ghcr.io/acme/tool:1' }, env), []);
    assert.deepEqual(kinds({ image: 'docker.io/library/busybox' }, env), []);
  });

  void it('refuses an image outside the allow-list, naming it and the list', () => {
    assert.deepEqual(
      checkTask(task({ image: 'busybox:1.36' }), policy({ ALLOWED_IMAGES: 'docker.io/*,ghcr.io/acme/*' })),
      [
        {
          kind: 'POLICY_IMAGE_NOT_ALLOWED',
          message:
            'image "busybox:1.36" is not in the image allow-list (ALLOWED_IMAGES: docker.io/*, ghcr.io/acme/*)',
        },
      ],
    );
  });

  void it('allows only JOB_NAMESPACE by default', () => {
    assert.deepEqual(kinds({}), []);
    assert.deepEqual(kinds({ namespace: 'default' }), []);
    assert.deepEqual(checkTask(task({ namespace: 'kube-system' }), policy()), [
      {
        kind: 'POLICY_NAMESPACE_NOT_ALLOWED',
        message: 'namespace "kube-system" is not in the namespace allow-list (ALLOWED_NAMESPACES: default)',
      },
    ]);
    assert.deepEqual(kinds({}, { JOB_NAMESPACE: 'jes-jobs' }), []);
    assert.deepEqual(kinds({ namespace: 'default' }, { JOB_NAMESPACE: 'jes-jobs' }), [
      'POLICY_NAMESPACE_NOT_ALLOWED',
    ]);
  });

  void it('allows namespaces matching ALLOWED_NAMESPACES globs (and no longer JOB_NAMESPACE unless listed)', () => {
    const env = { JOB_NAMESPACE: 'jes-jobs', ALLOWED_NAMESPACES: 'team-*,load-tests' };
    assert.deepEqual(kinds({ namespace: 'team-a' }, env), []);
    assert.deepEqual(kinds({ namespace: 'load-tests' }, env), []);
    assert.deepEqual(kinds({ namespace: 'load-tests-2' }, env), ['POLICY_NAMESPACE_NOT_ALLOWED']);
    assert.deepEqual(kinds({}, env), ['POLICY_NAMESPACE_NOT_ALLOWED']);
    assert.deepEqual(kinds({}, { ...env, ALLOWED_NAMESPACES: 'team-*,jes-jobs' }), []);
  });

  void it('refuses privileged: true unless ALLOW_PRIVILEGED_JOBS=true', () => {
    assert.deepEqual(checkTask(task({ securityContext: { privileged: true } }), policy()), [
      {
        kind: 'POLICY_PRIVILEGED_NOT_ALLOWED',
        message: 'privileged: true is refused (the operator has not set ALLOW_PRIVILEGED_JOBS=true)',
      },
    ]);
    assert.deepEqual(kinds({ securityContext: { privileged: true } }, { ALLOW_PRIVILEGED_JOBS: 'true' }), []);
    assert.deepEqual(kinds({ securityContext: { privileged: false } }), []);
    assert.deepEqual(kinds({ securityContext: { runAsUser: 0 } }), []);
  });

  void it('reports every problem of a task', () => {
    assert.deepEqual(
      kinds(
        { image: 'evil/x', namespace: 'kube-system', securityContext: { privileged: true } },
        { ALLOWED_IMAGES: 'busybox*' },
      ),
      ['POLICY_IMAGE_NOT_ALLOWED', 'POLICY_NAMESPACE_NOT_ALLOWED', 'POLICY_PRIVILEGED_NOT_ALLOWED'],
    );
  });
});

void describe('assertAllowed', () => {
  const allowed = (): MatchedAction[] => [
    { action: action({ tasks: [task(), task({ name: 'b' })] }), actionIndex: 0 },
    { action: action({ name: 'other' }), actionIndex: 3 },
  ];

  void it('passes when every task of every match is allowed', () => {
    assert.doesNotThrow(() => {
      assertAllowed(allowed(), policy({ ALLOWED_IMAGES: 'busybox:*' }));
    });
    assert.doesNotThrow(() => {
      assertAllowed([], policy({ ALLOWED_IMAGES: 'nothing' }));
    });
  });

  void it('throws the first refusal carrying every problem of every match as an issue', () => {
    const matches: MatchedAction[] = [
      { action: action({ tasks: [task(), task({ name: 'b', namespace: 'kube-system' })] }), actionIndex: 1 },
      {
        action: action({
          name: 'other',
          tasks: [task({ image: 'evil/x', securityContext: { privileged: true } })],
        }),
        actionIndex: 4,
      },
    ];
    assert.throws(
      () => {
        assertAllowed(matches, policy({ ALLOWED_IMAGES: 'busybox:*' }));
      },
      (error: unknown) => {
        assert.ok(isJesError(error, 'POLICY_NAMESPACE_NOT_ALLOWED'));
        assert.equal(error.code, 'JES_ERR_POLICY_NAMESPACE_NOT_ALLOWED');
        assert.equal(error.statusCode, 403);
        const issues = [
          {
            path: 'actions[1].tasks[1]',
            message:
              'namespace "kube-system" is not in the namespace allow-list (ALLOWED_NAMESPACES: default)',
          },
          {
            path: 'actions[4].tasks[0]',
            message: 'image "evil/x" is not in the image allow-list (ALLOWED_IMAGES: busybox:*)',
          },
          {
            path: 'actions[4].tasks[0]',
            message: 'privileged: true is refused (the operator has not set ALLOW_PRIVILEGED_JOBS=true)',
          },
        ];
        assert.deepEqual(error.issues, issues);
        assert.equal(
          error.message,
          `Refused by policy, nothing was created: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
        );
        return true;
      },
    );
  });

  const firstKinds: [name: string, overrides: Partial<Task>, code: string][] = [
    ['image', { image: 'evil/x' }, 'JES_ERR_POLICY_IMAGE_NOT_ALLOWED'],
    ['namespace', { namespace: 'kube-system' }, 'JES_ERR_POLICY_NAMESPACE_NOT_ALLOWED'],
    ['privileged', { securityContext: { privileged: true } }, 'JES_ERR_POLICY_PRIVILEGED_NOT_ALLOWED'],
  ];
  for (const [name, overrides, code] of firstKinds) {
    void it(`uses the ${name} refusal's code when it comes first`, () => {
      assert.throws(
        () => {
          assertAllowed(
            [{ action: action({ tasks: [task(overrides)] }), actionIndex: 0 }],
            policy({ ALLOWED_IMAGES: 'busybox:*' }),
          );
        },
        { code },
      );
    });
  }
});

void describe('checkTask: protected Secrets', () => {
  const settings = {
    allowedImages: [],
    allowedNamespaces: ['jobs'],
    allowPrivileged: false,
    namespace: 'jobs',
    protectedSecrets: ['keptn-token'],
  };
  for (const env of [
    { name: 'keptn-token', valueFrom: 'secret' as const },
    { name: 'TOKEN', valueFrom: 'secret' as const, secret: 'keptn-token', key: 'token' },
  ]) {
    void it(`refuses ${JSON.stringify(env)}`, () => {
      const problems = checkTask({ name: 't', image: 'busybox', env: [env] }, settings);
      assert.deepEqual(
        problems.map((problem) => problem.kind),
        ['POLICY_SECRET_NOT_ALLOWED'],
      );
    });
  }
  void it('allows other Secrets', () => {
    assert.deepEqual(
      checkTask({ name: 't', image: 'busybox', env: [{ name: 'db', valueFrom: 'secret' }] }, settings),
      [],
    );
  });
});

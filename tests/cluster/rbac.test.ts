import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuthorizationV1Api, KubeConfig } from '@kubernetes/client-node';
import { openCluster, type TestCluster } from './helpers/cluster.js';

/**
 * Least privilege, checked by the real authorizer with the functions' own ServiceAccount tokens
 * (SelfSubjectAccessReview): every verb the code calls is allowed in the jobs namespace, and what they must never do
 * is refused.
 */

interface Check {
  readonly verb: string;
  readonly resource: string;
  readonly group?: string;
  readonly subresource?: string;
  /** `jobs` (the allowed namespace), `other` (not allowed), or `cluster` (cluster-wide). */
  readonly where: 'jobs' | 'other' | 'cluster';
}

/** What lib/k8s/job-client.ts calls, per function (keep in sync with infra/base/rbac-jobs.yaml). */
const NEEDED: Record<'job-executor-handler' | 'job-executor-reconciler', Check[]> = {
  'job-executor-handler': ['create', 'get', 'list', 'patch', 'delete'].map((verb) => ({
    verb,
    resource: 'jobs',
    group: 'batch',
    where: 'jobs',
  })),
  'job-executor-reconciler': [
    ...['list', 'watch', 'patch', 'delete'].map((verb) => ({
      verb,
      resource: 'jobs',
      group: 'batch',
      where: 'jobs' as const,
    })),
    { verb: 'list', resource: 'pods', where: 'jobs' },
    { verb: 'get', resource: 'pods', subresource: 'log', where: 'jobs' },
    { verb: 'list', resource: 'events', where: 'jobs' },
  ],
};

const FORBIDDEN: Check[] = [
  { verb: 'create', resource: 'jobs', group: 'batch', where: 'other' },
  { verb: 'delete', resource: 'jobs', group: 'batch', where: 'other' },
  { verb: 'list', resource: 'jobs', group: 'batch', where: 'cluster' },
  { verb: 'get', resource: 'secrets', where: 'jobs' },
  { verb: 'list', resource: 'secrets', where: 'jobs' },
  { verb: 'get', resource: 'secrets', where: 'other' },
  { verb: 'create', resource: 'pods', subresource: 'exec', where: 'jobs' },
  { verb: 'create', resource: 'pods', where: 'jobs' },
  { verb: 'create', resource: 'namespaces', where: 'cluster' },
  { verb: 'create', resource: 'rolebindings', group: 'rbac.authorization.k8s.io', where: 'jobs' },
  { verb: 'update', resource: 'jobs', group: 'batch', where: 'jobs' },
];

void describe(
  'RBAC least privilege (infra/base/rbac-jobs.yaml) on the real authorizer',
  { timeout: 120_000 },
  () => {
    let cluster: TestCluster;
    before(async () => {
      cluster = await openCluster();
    });
    after(async () => {
      await cluster.close();
    });

    async function allowed(account: string, check: Check): Promise<boolean> {
      const config = new KubeConfig();
      config.loadFromFile(await cluster.tokenKubeconfig(account));
      const namespace =
        check.where === 'jobs'
          ? cluster.jobsNamespace
          : check.where === 'other'
            ? cluster.otherNamespace
            : '';
      const review = await config.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
        body: {
          spec: {
            resourceAttributes: {
              verb: check.verb,
              resource: check.resource,
              group: check.group ?? '',
              subresource: check.subresource ?? '',
              namespace,
            },
          },
        },
      });
      return review.status?.allowed === true;
    }

    const describeCheck = (check: Check) =>
      `${check.verb} ${check.group === undefined ? '' : `${check.group}/`}${check.resource}${check.subresource === undefined ? '' : `/${check.subresource}`} in ${check.where}`;

    for (const [account, checks] of Object.entries(NEEDED)) {
      void it(`${account} may do everything its code calls`, async () => {
        for (const check of checks)
          assert.equal(await allowed(account, check), true, `${account}: ${describeCheck(check)}`);
      });
      void it(`${account} is refused outside its job`, async () => {
        for (const check of FORBIDDEN)
          assert.equal(await allowed(account, check), false, `${account}: ${describeCheck(check)}`);
      });
    }

    void it('the handler cannot read pods or logs, the reconciler cannot create Jobs', async () => {
      assert.equal(
        await allowed('job-executor-handler', { verb: 'list', resource: 'pods', where: 'jobs' }),
        false,
      );
      assert.equal(
        await allowed('job-executor-reconciler', {
          verb: 'create',
          resource: 'jobs',
          group: 'batch',
          where: 'jobs',
        }),
        false,
      );
    });
  },
);

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiException, AuthorizationV1Api, BatchV1Api, KubeConfig } from '@kubernetes/client-node';
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
  'least privilege on the real authorizer and admission (infra/base/rbac-jobs.yaml, admission-policy.yaml)',
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

    // The admission policy (infra/base/admission-policy.yaml): RBAC cannot tell Jobs apart, the policy can.
    const jobBody = (name: string, labels: Record<string, string>) => ({
      metadata: { name, labels },
      spec: {
        suspend: true,
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36' }] } },
      },
    });

    async function batchAs(account: string): Promise<BatchV1Api> {
      const config = new KubeConfig();
      config.loadFromFile(await cluster.tokenKubeconfig(account));
      return config.makeApiClient(BatchV1Api);
    }

    async function refused(call: Promise<unknown>): Promise<string> {
      try {
        await call;
      } catch (error) {
        if (error instanceof ApiException) return String((error as ApiException<unknown>).body);
        throw error;
      }
      throw new Error('the call was allowed');
    }

    void it('the reconciler may not delete or change a Job that is not the executor’s; it may its own', async () => {
      const namespace = cluster.jobsNamespace;
      await cluster.batch.createNamespacedJob({
        namespace,
        body: jobBody('someone-elses', { team: 'other' }),
      });
      await cluster.batch.createNamespacedJob({
        namespace,
        body: jobBody('ours', { 'app.kubernetes.io/managed-by': 'job-executor' }),
      });
      const reconciler = await batchAs('job-executor-reconciler');
      const body = await refused(
        reconciler.deleteNamespacedJob({ namespace, name: 'someone-elses', dryRun: 'All' }),
      );
      assert.match(body, /may only create, change and delete the Jobs it manages/);
      await refused(
        reconciler.patchNamespacedJob({
          namespace,
          name: 'someone-elses',
          body: [{ op: 'add', path: '/metadata/annotations', value: { x: 'y' } }],
          dryRun: 'All',
        }),
      );
      await reconciler.deleteNamespacedJob({ namespace, name: 'ours', dryRun: 'All' });
    });

    void it('the handler may not create a Job without the executor’s label', async () => {
      const handler = await batchAs('job-executor-handler');
      const namespace = cluster.jobsNamespace;
      await refused(
        handler.createNamespacedJob({ namespace, body: jobBody('unlabelled', {}), dryRun: 'All' }),
      );
      await handler.createNamespacedJob({
        namespace,
        body: jobBody('labelled', { 'app.kubernetes.io/managed-by': 'job-executor' }),
        dryRun: 'All',
      });
    });
  },
);

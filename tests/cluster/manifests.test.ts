import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { unique } from '../helpers/factories.js';
import { buildGoTool } from '../helpers/tools.js';
import {
  build,
  groupOf,
  infra,
  isKnative,
  JOBS_NAMESPACE,
  knativeAdmission,
  knativeCrds,
  knativeModule,
  kubectlRunner,
  kustomizations,
  SYSTEM_NAMESPACE,
  withNamespaces,
  type CustomResourceDefinition,
  type KnativeModule,
  type KubeObject,
  type Kubectl,
  type KustomizationDir,
} from './helpers/manifests.js';
import {
  eventingProblems,
  namespaceProblems,
  rbacProblems,
  settingsProblems,
  workloadProblems,
} from './helpers/references.js';

/**
 * Every kustomization under infra/ builds with `kubectl kustomize`, and what it builds is accepted:
 *
 * - core kinds (Namespaces, ServiceAccounts, RBAC, ConfigMaps, Deployments, Services, CronJobs, NetworkPolicies …) by
 *   a server-side dry-run on the real API server (admission, Pod Security, strict field validation), in namespaces
 *   of this test's own (the Namespaces are created for real, everything else is dry-run only);
 * - Knative kinds twice: by the same dry-run against Knative's real CRDs (OpenAPI schemas: types, required fields,
 *   unknown fields), installed from the Knative modules pinned in tests/tools/knative-validate/go.mod when the
 *   cluster lacks them; and by Knative's own admission code (the webhooks' SetDefaults + Validate, strict decoding,
 *   a stock installation's ConfigMaps), which checks what the loose CRD schemas leave open (the PingSource's cron
 *   expression, sink references, container ports and probes, allowed pod fields, autoscaling annotations …);
 * - cross-references no server checks (ServiceAccounts, ConfigMaps, Roles, sinks, settings) by the build itself.
 *
 * CRDs this test installs stay on the project's local control plane (other runs reuse them); on a cluster named by
 * JES_TEST_KUBECONFIG they are removed again afterwards.
 */

interface Built {
  readonly dir: KustomizationDir;
  readonly objects: KubeObject[];
}

const foreignCluster = (process.env.JES_TEST_KUBECONFIG ?? '') !== '';

async function installCrds(kubectl: Kubectl, crds: CustomResourceDefinition[]): Promise<string[]> {
  const installed: string[] = [];
  for (const crd of crds) {
    const name = crd.metadata.name;
    if ((await kubectl(['get', 'crd', name, '-o', 'name'])).code === 0) continue;
    const applied = await kubectl(
      ['apply', '--server-side', '--field-manager=jes-manifests-test', '-f', '-'],
      JSON.stringify(crd),
    );
    assert.equal(applied.code, 0, `installing the CRD ${name}: ${applied.stderr}`);
    installed.push(name);
  }
  for (const crd of crds) {
    const established = await kubectl([
      'wait',
      '--for=condition=Established',
      `crd/${crd.metadata.name}`,
      '--timeout=60s',
    ]);
    assert.equal(established.code, 0, `CRD ${crd.metadata.name} not established: ${established.stderr}`);
  }
  return installed;
}

function asList(objects: readonly KubeObject[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
}

void describe(
  'manifests (infra/): kustomize builds, server-side dry-run, Knative schemas and admission',
  { timeout: 900_000 },
  () => {
    let kubectl: Kubectl;
    let cacheDir: string;
    let builds: Built[] = [];
    let serving: KnativeModule;
    let eventing: KnativeModule;
    let validator: string;
    let installedCrds: string[] = [];
    const namespaces: string[] = [];

    before(async () => {
      if ((process.env.KUBECONFIG ?? '') === '') {
        throw new Error('KUBECONFIG is not set: run the cluster tier through `npm run test:cluster`');
      }
      cacheDir = await mkdtemp(join(tmpdir(), 'jes-kubectl-cache-'));
      kubectl = kubectlRunner(cacheDir);
      const dirs = (await kustomizations()).filter((dir) => dir.kind === 'Kustomization');
      builds = await Promise.all(dirs.map(async (dir) => ({ dir, objects: await build(dir.path) })));
      [serving, eventing] = await Promise.all([
        knativeModule('knative.dev/serving'),
        knativeModule('knative.dev/eventing'),
      ]);
      validator = await buildGoTool('knative-validate');
      const crds = await knativeCrds([serving, eventing]);
      const needed = new Map<string, CustomResourceDefinition>();
      for (const object of builds.flatMap((built) => built.objects).filter(isKnative)) {
        const crd = crds.get(`${groupOf(object)}/${object.kind}`);
        assert.ok(
          crd,
          `no CRD for ${object.apiVersion} ${object.kind} in ${serving.path} ${serving.version} or ${eventing.path} ${eventing.version}`,
        );
        needed.set(crd.metadata.name, crd);
      }
      installedCrds = await installCrds(kubectl, [...needed.values()]);
    });

    after(async () => {
      if (namespaces.length > 0) await kubectl(['delete', 'namespace', '--wait=false', ...namespaces]);
      if (foreignCluster && installedCrds.length > 0)
        await kubectl(['delete', 'crd', '--wait=false', ...installedCrds]);
      await rm(cacheDir, { recursive: true, force: true });
    });

    /** Creates the build's namespaces for real under unique names; returns the objects moved into them. */
    async function intoTestNamespaces(objects: readonly KubeObject[]): Promise<KubeObject[]> {
      const suffix = unique('m')
        .replace(/[^a-z0-9]/g, '')
        .slice(-10);
      const names = new Map([
        [SYSTEM_NAMESPACE, `jes-mf-sys-${suffix}`],
        [JOBS_NAMESPACE, `jes-mf-jobs-${suffix}`],
      ]);
      const moved = withNamespaces(objects, names);
      const defined = moved.filter((object) => object.kind === 'Namespace');
      const used = new Set(
        moved.flatMap((object) =>
          object.metadata.namespace === undefined ? [] : [object.metadata.namespace],
        ),
      );
      for (const name of used) {
        if (defined.some((namespace) => namespace.metadata.name === name)) continue;
        defined.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      }
      for (const namespace of defined) {
        namespace.metadata.labels = { ...namespace.metadata.labels, 'jes.dev/test': 'manifests' };
        const created = await kubectl(['create', '-f', '-'], JSON.stringify(namespace));
        assert.equal(created.code, 0, `creating ${namespace.metadata.name}: ${created.stderr}`);
        namespaces.push(namespace.metadata.name);
      }
      return moved;
    }

    void it('finds the overlays and variants to check', () => {
      const paths = builds.map((built) => built.dir.path);
      for (const expected of [
        'infra/base',
        'infra/knative',
        'infra/kubernetes',
        'infra/overlays/knative-keptn',
        'infra/overlays/knative-broker',
        'infra/overlays/kubernetes',
        'infra/overlays/kubernetes-cronjob',
      ]) {
        assert.ok(paths.includes(expected), `${expected} was not built (found: ${paths.join(', ')})`);
      }
    });

    void it('every build refers only to objects it contains (or documented Secrets) and agrees with its settings', () => {
      for (const { dir, objects } of builds) {
        const problems = [
          ...namespaceProblems(objects, new Set([SYSTEM_NAMESPACE, JOBS_NAMESPACE])),
          ...rbacProblems(objects),
          ...(dir.path === 'infra/base' ? [] : workloadProblems(objects)),
          ...eventingProblems(objects),
          ...settingsProblems(objects),
        ];
        assert.deepEqual(problems, [], dir.path);
      }
    });

    void it('every build passes a server-side dry-run (core kinds and Knative CRD schemas), without warnings', async () => {
      for (const { dir, objects } of builds) {
        const moved = await intoTestNamespaces(objects);
        const rest = moved.filter((object) => object.kind !== 'Namespace');
        const result = await kubectl(
          ['apply', '--dry-run=server', '--validate=strict', '-f', '-'],
          asList(rest),
        );
        assert.equal(result.code, 0, `${dir.path}: server-side dry-run failed:\n${result.stderr}`);
        assert.doesNotMatch(result.stderr, /warning/i, `${dir.path}: warnings:\n${result.stderr}`);
        const accepted = result.stdout.split('\n').filter((line) => line.includes('(server dry run)'));
        assert.equal(accepted.length, rest.length, `${dir.path}: ${result.stdout}`);
      }
    });

    void it("every Knative object passes Knative's own defaulting and validation (a stock install)", async (t) => {
      t.diagnostic(
        `Knative Serving ${serving.version}, Knative Eventing ${eventing.version} (${serving.dir}, ${eventing.dir})`,
      );
      const knative = builds.flatMap(({ objects }) => objects.filter(isKnative));
      assert.ok(knative.length > 0);
      const kinds = new Set(knative.map((object) => object.kind));
      for (const kind of ['Service', 'PingSource', 'ApiServerSource', 'SinkBinding', 'Broker', 'Trigger']) {
        assert.ok(kinds.has(kind), `no ${kind} among the Knative objects`);
      }
      const verdicts = await knativeAdmission(validator, serving, eventing, knative);
      const refused = verdicts.filter((verdict) => verdict.errors.length > 0 || verdict.warnings.length > 0);
      assert.deepEqual(refused, [], `Knative ${serving.version} / eventing ${eventing.version}`);
    });

    void it('the Knative admission check refuses what Knative refuses (bad cron, missing image, unknown field)', async () => {
      const pings = builds.flatMap(({ objects }) => objects.filter((object) => object.kind === 'PingSource'));
      const services = builds.flatMap(({ objects }) =>
        objects.filter((object) => object.kind === 'Service' && isKnative(object)),
      );
      const [ping] = pings;
      const [service] = services;
      assert.ok(ping && service);
      const badCron = structuredClone(ping);
      (badCron.spec as { schedule: string }).schedule = '61 * * * *';
      const noImage = structuredClone(service);
      const spec = noImage.spec as { template: { spec: { containers: { image?: string }[] } } };
      delete spec.template.spec.containers[0]?.image;
      const typo = structuredClone(ping);
      (typo.spec as Record<string, unknown>).shedule = '* * * * *';
      const verdicts = await knativeAdmission(validator, serving, eventing, [badCron, noImage, typo]);
      assert.match(verdicts[0]?.errors.join('\n') ?? '', /schedule/);
      assert.match(verdicts[1]?.errors.join('\n') ?? '', /image/);
      assert.match(verdicts[2]?.errors.join('\n') ?? '', /unknown field "shedule"/);
    });

    void it('components/jobs-namespace moves everything of the jobs namespace to JOB_NAMESPACE', async () => {
      const directory = await mkdtemp(join(tmpdir(), 'jes-overlay-'));
      try {
        const jobs = `jes-renamed-${unique('j')
          .replace(/[^a-z0-9]/g, '')
          .slice(-8)}`;
        const to = (path: string) => relative(directory, join(infra, path));
        await mkdir(directory, { recursive: true });
        await writeFile(
          join(directory, 'kustomization.yaml'),
          stringify({
            apiVersion: 'kustomize.config.k8s.io/v1beta1',
            kind: 'Kustomization',
            resources: [to('knative')],
            components: [
              to('components/apiserversource'),
              to('components/network-policies'),
              to('components/jobs-namespace'),
            ],
            configMapGenerator: [
              {
                name: 'job-executor-config',
                namespace: SYSTEM_NAMESPACE,
                behavior: 'merge',
                literals: [`JOB_NAMESPACE=${jobs}`],
              },
            ],
          }),
        );
        const objects = await build(directory);
        assert.deepEqual(
          objects
            .filter((object) => object.metadata.namespace === JOBS_NAMESPACE)
            .map((object) => object.metadata.name),
          [],
        );
        assert.ok(objects.some((object) => object.kind === 'Namespace' && object.metadata.name === jobs));
        assert.deepEqual(namespaceProblems(objects, new Set([SYSTEM_NAMESPACE, jobs])), []);
        assert.deepEqual(settingsProblems(objects), []);
        assert.deepEqual(rbacProblems(objects), []);
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    });

    void it("least privilege on the real authorizer: the ApiServerSource's account reads Jobs and nothing else; Jobs' account has no rights", async () => {
      const overlay = builds.find((built) => built.dir.path === 'infra/overlays/knative-keptn');
      assert.ok(overlay);
      const moved = await intoTestNamespaces(overlay.objects);
      const identities = moved.filter(
        (object) =>
          ['ServiceAccount', 'Role', 'RoleBinding'].includes(object.kind) &&
          ['job-executor-apiserversource', 'job-executor-job'].includes(object.metadata.name),
      );
      assert.equal(identities.length, 4);
      const created = await kubectl(['create', '-f', '-'], asList(identities));
      assert.equal(created.code, 0, created.stderr);
      const system = moved.find(
        (object) =>
          object.kind === 'Namespace' && object.metadata.labels?.['app.kubernetes.io/component'] === 'system',
      );
      const jobs = moved.find(
        (object) =>
          object.kind === 'Namespace' && object.metadata.labels?.['app.kubernetes.io/component'] === 'jobs',
      );
      assert.ok(system && jobs);
      const can = async (account: string, namespace: string, verb: string, resource: string) => {
        const result = await kubectl(['auth', 'can-i', verb, resource, '-n', namespace, '--as', account]);
        return result.stdout.trim() === 'yes';
      };
      const source = `system:serviceaccount:${system.metadata.name}:job-executor-apiserversource`;
      for (const verb of ['get', 'list', 'watch']) {
        assert.equal(await can(source, jobs.metadata.name, verb, 'jobs.batch'), true, `${verb} jobs`);
      }
      for (const [verb, resource] of [
        ['create', 'jobs.batch'],
        ['patch', 'jobs.batch'],
        ['delete', 'jobs.batch'],
        ['list', 'pods'],
        ['get', 'secrets'],
      ] as const) {
        assert.equal(await can(source, jobs.metadata.name, verb, resource), false, `${verb} ${resource}`);
      }
      assert.equal(
        await can(source, system.metadata.name, 'list', 'jobs.batch'),
        false,
        'jobs outside JOB_NAMESPACE',
      );
      const job = `system:serviceaccount:${jobs.metadata.name}:job-executor-job`;
      for (const [verb, resource] of [
        ['list', 'jobs.batch'],
        ['get', 'pods'],
        ['get', 'secrets'],
        ['get', 'configmaps'],
      ] as const) {
        assert.equal(
          await can(job, jobs.metadata.name, verb, resource),
          false,
          `job account: ${verb} ${resource}`,
        );
      }
    });
  },
);

import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { GO_ENV, runTool, runToolOk, type ToolResult } from '../../helpers/tools.js';

/**
 * The project's kustomize overlays as built objects, the Knative modules (CRDs and admission code) the manifests are
 * checked against, and kubectl against the test cluster.
 */

export const root = resolve(import.meta.dirname, '../../..');
export const infra = join(root, 'infra');

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** The system and jobs namespaces the manifests use by default. */
export const SYSTEM_NAMESPACE = 'job-executor';
export const JOBS_NAMESPACE = 'job-executor-jobs';

export const KNATIVE_GROUPS = new Set(['serving.knative.dev', 'sources.knative.dev', 'eventing.knative.dev']);

export function groupOf(object: Pick<KubeObject, 'apiVersion'>): string {
  const slash = object.apiVersion.indexOf('/');
  return slash < 0 ? '' : object.apiVersion.slice(0, slash);
}

export function isKnative(object: KubeObject): boolean {
  return KNATIVE_GROUPS.has(groupOf(object));
}

export interface KustomizationDir {
  /** Relative to the repository root. */
  readonly path: string;
  readonly kind: 'Kustomization' | 'Component';
}

/** Every kustomization under infra/, overlays and components alike. */
export async function kustomizations(directory = infra): Promise<KustomizationDir[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const found: KustomizationDir[] = [];
  if (entries.some((entry) => entry.isFile() && entry.name === 'kustomization.yaml')) {
    const parsed = parse(await readFile(join(directory, 'kustomization.yaml'), 'utf8')) as { kind?: string };
    found.push({
      path: directory.slice(root.length + 1),
      kind: parsed.kind === 'Component' ? 'Component' : 'Kustomization',
    });
  }
  for (const entry of entries.filter((candidate) => candidate.isDirectory())) {
    found.push(...(await kustomizations(join(directory, entry.name))));
  }
  return found;
}

/** `kubectl kustomize DIR` (kustomize v5 built into kubectl); warnings count as failures. */
export async function build(directory: string): Promise<KubeObject[]> {
  const result = await runTool('kubectl', ['kustomize', directory], { cwd: root });
  if (result.code !== 0 || result.stderr.trim() !== '') {
    throw new Error(`kubectl kustomize ${directory} failed (exit ${result.code}):\n${result.stderr.trim()}`);
  }
  return parseAllDocuments(result.stdout)
    .map((document) => document.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null);
}

/** kubectl with the test's admin kubeconfig and its own discovery cache (CRDs installed by the test show at once). */
export function kubectlRunner(cacheDir: string) {
  return (args: readonly string[], input?: string): Promise<ToolResult> =>
    runTool('kubectl', ['--cache-dir', cacheDir, ...args], input === undefined ? {} : { input });
}

export type Kubectl = ReturnType<typeof kubectlRunner>;

// ---------------------------------------------------------------------------------------------------------------
// Namespaces: every test run moves the manifests into namespaces of its own.

function mapSelector(selector: unknown, names: ReadonlyMap<string, string>): void {
  if (typeof selector !== 'object' || selector === null) return;
  const { matchLabels, matchExpressions } = selector as {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; values?: string[] }[];
  };
  const key = 'kubernetes.io/metadata.name';
  const label = matchLabels?.[key];
  if (matchLabels !== undefined && label !== undefined) matchLabels[key] = names.get(label) ?? label;
  for (const expression of matchExpressions ?? []) {
    if (expression.key === key)
      expression.values = expression.values?.map((value) => names.get(value) ?? value);
  }
}

function mapTree(node: unknown, names: ReadonlyMap<string, string>): void {
  if (Array.isArray(node)) {
    for (const item of node) mapTree(item, names);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const record = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (key === 'namespace' && typeof value === 'string') record[key] = names.get(value) ?? value;
    else if (key === 'namespaceSelector') mapSelector(value, names);
    else mapTree(value, names);
  }
}

/**
 * A copy of the objects with the namespaces renamed: Namespace names, every `namespace` field (metadata, RoleBinding
 * subjects, Knative refs), namespace selectors by name, and JOB_NAMESPACE / ALLOWED_NAMESPACES of the settings.
 */
export function withNamespaces(
  objects: readonly KubeObject[],
  names: ReadonlyMap<string, string>,
): KubeObject[] {
  const copies = structuredClone(objects) as KubeObject[];
  for (const object of copies) {
    mapTree(object, names);
    if (object.kind === 'Namespace')
      object.metadata.name = names.get(object.metadata.name) ?? object.metadata.name;
    const data =
      object.kind === 'ConfigMap' ? (object.data as Record<string, string> | undefined) : undefined;
    for (const key of ['JOB_NAMESPACE', 'ALLOWED_NAMESPACES']) {
      const value = data?.[key];
      if (data !== undefined && value !== undefined) {
        data[key] = value
          .split(',')
          .map((name) => names.get(name.trim()) ?? name.trim())
          .join(',');
      }
    }
  }
  return copies;
}

// ---------------------------------------------------------------------------------------------------------------
// Knative, from the Go module proxy: the modules pinned by tests/tools/knative-validate/go.mod.

export interface KnativeModule {
  readonly path: string;
  readonly version: string;
  readonly dir: string;
}

const VALIDATOR_MODULE = join(root, 'tests/tools/knative-validate');

export async function knativeModule(
  path: 'knative.dev/serving' | 'knative.dev/eventing',
): Promise<KnativeModule> {
  const result = await runToolOk('go', ['mod', 'download', '-json', path], {
    cwd: VALIDATOR_MODULE,
    env: GO_ENV,
  });
  const info = JSON.parse(result.stdout) as { Path: string; Version: string; Dir?: string; Error?: string };
  if (info.Dir === undefined) throw new Error(`go mod download ${path}: ${info.Error ?? 'no directory'}`);
  return { path: info.Path, version: info.Version, dir: info.Dir };
}

export interface CustomResourceDefinition extends KubeObject {
  spec: { group: string; names: { kind: string } };
}

async function crdsIn(directory: string): Promise<CustomResourceDefinition[]> {
  const files = await readdir(directory).catch(() => [] as string[]);
  const found: CustomResourceDefinition[] = [];
  for (const file of files.filter((name) => name.endsWith('.yaml'))) {
    for (const document of parseAllDocuments(await readFile(join(directory, file), 'utf8'))) {
      const object = document.toJS() as CustomResourceDefinition | null;
      if (object?.kind === 'CustomResourceDefinition') found.push(object);
    }
  }
  return found;
}

/** The CRDs shipped in the modules' config/core, by `<group>/<kind>`. */
export async function knativeCrds(
  modules: readonly KnativeModule[],
): Promise<Map<string, CustomResourceDefinition>> {
  const crds = new Map<string, CustomResourceDefinition>();
  for (const module of modules) {
    for (const sub of ['config/core/300-resources', 'config/core/resources']) {
      for (const crd of await crdsIn(join(module.dir, sub))) {
        crds.set(`${crd.spec.group}/${crd.spec.names.kind}`, crd);
      }
    }
  }
  return crds;
}

export interface KnativeVerdict {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly errors: string[];
  readonly warnings: string[];
}

/** Knative's own defaulting and validation (tests/tools/knative-validate) on the given objects. */
export async function knativeAdmission(
  validator: string,
  serving: KnativeModule,
  eventing: KnativeModule,
  objects: readonly KubeObject[],
): Promise<KnativeVerdict[]> {
  const result = await runToolOk(validator, ['-serving', serving.dir, '-eventing', eventing.dir], {
    input: JSON.stringify(objects),
  });
  return JSON.parse(result.stdout) as KnativeVerdict[];
}

import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { SETTINGS_VARIABLES } from '../../../lib/settings/index.js';

/**
 * The manifests' static rules (no cluster, no kubectl): the two copies of the handler's Knative Service agree, every
 * setting the ConfigMaps set is one the functions read, and every kustomize component is used by an overlay.
 * tests/cluster/manifests.test.ts builds the overlays and checks them against a real API server and Knative.
 */

const root = resolve(import.meta.dirname, '../../..');
const infra = join(root, 'infra');

interface Kustomization {
  kind?: string;
  resources?: string[];
  components?: string[];
  configMapGenerator?: { name: string; envs?: string[]; literals?: string[] }[];
}

async function kustomizationDirs(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const found = entries.some((entry) => entry.isFile() && entry.name === 'kustomization.yaml')
    ? [directory]
    : [];
  for (const entry of entries.filter((candidate) => candidate.isDirectory())) {
    found.push(...(await kustomizationDirs(join(directory, entry.name))));
  }
  return found;
}

async function readKustomization(directory: string): Promise<Kustomization> {
  return parse(await readFile(join(directory, 'kustomization.yaml'), 'utf8')) as Kustomization;
}

/** VARIABLE=value lines of an env file or configMapGenerator literals (comments and blanks skipped). */
function keysOf(lines: readonly string[]): string[] {
  return lines
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.slice(0, line.indexOf('=')));
}

void describe('infra manifests (static)', () => {
  void it('infra/knative/handler.yaml is an exact copy of the top-level knative-service.yaml', async () => {
    const [top, copy] = await Promise.all([
      readFile(join(root, 'knative-service.yaml'), 'utf8'),
      readFile(join(infra, 'knative/handler.yaml'), 'utf8'),
    ]);
    assert.equal(copy, top, 'run: cp knative-service.yaml infra/knative/handler.yaml');
  });

  void it('job-executor-config sets only settings the functions read (README configuration reference)', async () => {
    const known = new Set(SETTINGS_VARIABLES);
    for (const directory of await kustomizationDirs(infra)) {
      const kustomization = await readKustomization(directory);
      for (const generator of kustomization.configMapGenerator ?? []) {
        if (generator.name !== 'job-executor-config') continue;
        const keys = keysOf(generator.literals ?? []);
        for (const file of generator.envs ?? []) {
          keys.push(...keysOf((await readFile(join(directory, file), 'utf8')).split('\n')));
        }
        for (const key of keys) {
          assert.ok(known.has(key), `${relative(root, directory)}: ${key} is not a setting`);
          assert.notEqual(key, 'KEPTN_API_TOKEN', 'the token comes from the Secret, never the ConfigMap');
        }
      }
    }
  });

  void it('every component is used by at least one overlay', async () => {
    const directories = await kustomizationDirs(infra);
    const used = new Set<string>();
    for (const directory of directories) {
      for (const component of (await readKustomization(directory)).components ?? []) {
        used.add(resolve(directory, component));
      }
    }
    for (const directory of directories) {
      if ((await readKustomization(directory)).kind !== 'Component') continue;
      assert.ok(used.has(directory), `${relative(root, directory)} is used by no overlay`);
    }
  });
});

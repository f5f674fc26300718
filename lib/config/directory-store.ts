import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ResourceLevel, ResourceScope, ResourceStore } from './resource-store.js';

/**
 * A plain directory as a ResourceStore, laid out `<project>/<stage>/<service>/<uri>` (service level),
 * `<project>/<stage>/<uri>` (stage) and `<project>/<uri>` (project): a ConfigMap/PVC mount or a local checkout.
 * It has no commits: every read is of the current files.
 */
export function createDirectoryStore(root: string): ResourceStore {
  const levelDir = (level: ResourceLevel, scope: ResourceScope) =>
    level === 'project'
      ? join(root, scope.project)
      : level === 'stage'
        ? join(root, scope.project, scope.stage)
        : join(root, scope.project, scope.stage, scope.service);
  return {
    description: `the directory ${root}`,
    async read(level, scope, uri) {
      try {
        return {
          content: await readFile(join(levelDir(level, scope), uri.replace(/^\/+/, ''))),
          commit: undefined,
        };
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
    },
    async list(level, scope, prefix) {
      const base = levelDir(level, scope);
      const start = join(base, prefix.replace(/^\/+/, ''));
      try {
        const entries = await readdir(start, { recursive: true, withFileTypes: true });
        return entries
          .filter((entry) => entry.isFile())
          .map((entry) => relative(base, join(entry.parentPath, entry.name)).split(sep).join('/'))
          .sort();
      } catch (error) {
        if (isMissing(error)) return [];
        throw error;
      }
    },
  };
}

function isMissing(error: unknown): boolean {
  return (
    error instanceof Error &&
    'code' in error &&
    (error.code === 'ENOENT' || error.code === 'ENOTDIR' || error.code === 'EISDIR')
  );
}

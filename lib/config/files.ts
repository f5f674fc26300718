import { jesError } from '../errors/index.js';
import { LEVELS, type ResourceLevel, type ResourceScope, type ResourceStore } from './resource-store.js';

export interface FetchedFile {
  /** Relative path under the workspace, e.g. `terraform/main.tf`. */
  readonly path: string;
  readonly content: Buffer;
  readonly level: ResourceLevel;
}

/**
 * The files a task names, each looked up service → stage → project (first level that has it wins): an exact file,
 * else every file under it as a directory. An entry found at no level is an error naming it (JES #143 fixed:
 * files are no longer only read from the service level).
 */
export async function fetchTaskFiles(
  store: ResourceStore,
  scope: ResourceScope,
  entries: readonly string[],
): Promise<FetchedFile[]> {
  const fetched: FetchedFile[] = [];
  for (const entry of entries) {
    const files = await fetchEntry(store, scope, entry.replace(/^\/+/, ''));
    if (files.length === 0) {
      throw jesError(
        'RESOURCE_NOT_FOUND',
        `files entry "${entry}" is neither a file nor a directory at service, stage or project level of ${scope.project}/${scope.stage}/${scope.service} in ${store.description}`,
      );
    }
    fetched.push(...files);
  }
  return fetched;
}

async function fetchEntry(store: ResourceStore, scope: ResourceScope, entry: string): Promise<FetchedFile[]> {
  for (const level of LEVELS) {
    if (!entry.endsWith('/')) {
      const file = await store.read(level, scope, entry);
      if (file !== undefined) return [{ path: entry, content: file.content, level }];
    }
    const directory = entry.endsWith('/') ? entry : `${entry}/`;
    const uris = await store.list(level, scope, directory);
    if (uris.length === 0) continue;
    const files: FetchedFile[] = [];
    for (const uri of uris) {
      const file = await store.read(level, scope, uri);
      if (file !== undefined) files.push({ path: uri, content: file.content, level });
    }
    return files;
  }
  return [];
}

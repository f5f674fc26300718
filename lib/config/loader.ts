import { isJesError, jesError, type JesError } from '../errors/index.js';
import { parseJobConfig, type LoadedConfig } from './parse.js';
import { LEVELS, type ResourceScope, type ResourceStore } from './resource-store.js';

export const CONFIG_URI = 'job/config.yaml';

/** The outcome of a lookup: a config, none at any level, or an invalid one (with its issues). */
export type ConfigLookup =
  | { readonly kind: 'found'; readonly loaded: LoadedConfig }
  | { readonly kind: 'missing'; readonly error: JesError }
  | { readonly kind: 'invalid'; readonly error: JesError };

export interface ConfigLoader {
  load(scope: ResourceScope): Promise<ConfigLookup>;
}

export interface ConfigCacheOptions {
  /** How long a lookup without a commit stays cached (a lookup at a commit never changes). */
  readonly ttlSeconds: number;
  readonly maxEntries: number;
  readonly now?: () => number;
}

/**
 * Looks `job/config.yaml` up service → stage → project (first found wins, never merged) and parses it.
 * Outcomes are cached per (project, stage, service, commit) so non-matching events cost no remote call;
 * source outages are not cached, so the next event tries again.
 */
export function createConfigLoader(store: ResourceStore, cache: ConfigCacheOptions): ConfigLoader {
  const entries = new Map<string, { lookup: ConfigLookup; expiresAt: number }>();
  const now = cache.now ?? Date.now;

  async function lookup(scope: ResourceScope): Promise<ConfigLookup> {
    for (const level of LEVELS) {
      const resource = await store.read(level, scope, CONFIG_URI);
      if (resource === undefined) continue;
      const origin = `${CONFIG_URI} at ${level} level (${scope.project}/${scope.stage}/${scope.service}) in ${store.description}`;
      try {
        return {
          kind: 'found',
          loaded: parseJobConfig(resource.content.toString('utf8'), origin, resource.commit),
        };
      } catch (error) {
        if (isJesError(error, 'CONFIG_INVALID')) return { kind: 'invalid', error };
        throw error;
      }
    }
    const where = `${scope.project}/${scope.stage}/${scope.service}${scope.commit === undefined ? '' : ` at commit ${scope.commit}`}`;
    return {
      kind: 'missing',
      error: jesError(
        'CONFIG_NOT_FOUND',
        `No ${CONFIG_URI} for ${where} at service, stage or project level in ${store.description}`,
      ),
    };
  }

  return {
    async load(scope) {
      const key = JSON.stringify([scope.project, scope.stage, scope.service, scope.commit ?? null]);
      const cached = entries.get(key);
      if (cached !== undefined && cached.expiresAt > now()) return cached.lookup;
      const result = await lookup(scope);
      if (entries.size >= cache.maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
      const ttlMs = scope.commit === undefined ? cache.ttlSeconds * 1000 : Number.POSITIVE_INFINITY;
      entries.delete(key);
      entries.set(key, { lookup: result, expiresAt: now() + ttlMs });
      return result;
    },
  };
}

/**
 * Where configuration files come from: the Keptn resource API or a plain directory. Both answer per level;
 * `undefined` means "not at this level" (any 404 for Keptn), so callers fall back service → stage → project.
 */

export type ResourceLevel = 'service' | 'stage' | 'project';

/** Lookup order: the first level that has the file wins; levels are never merged. */
export const LEVELS: readonly ResourceLevel[] = ['service', 'stage', 'project'];

export interface ResourceScope {
  readonly project: string;
  readonly stage: string;
  readonly service: string;
  /** The config repository commit of the event (`gitcommitid`); service and stage reads use it. */
  readonly commit: string | undefined;
}

export interface Resource {
  readonly content: Buffer;
  /** The commit the content was read at, when the store knows it. */
  readonly commit: string | undefined;
}

export interface ResourceStore {
  /** A short description for messages, e.g. `Keptn resource API at http://…`. */
  readonly description: string;
  read(level: ResourceLevel, scope: ResourceScope, uri: string): Promise<Resource | undefined>;
  /** The URIs of all files at this level whose path starts with `prefix` (a directory ending in `/`). */
  list(level: ResourceLevel, scope: ResourceScope, prefix: string): Promise<string[]>;
}

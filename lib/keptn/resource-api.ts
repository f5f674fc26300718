import type { AxiosResponse } from 'axios';
import { jesError } from '../errors/index.js';
import type { Resource, ResourceLevel, ResourceScope, ResourceStore } from '../config/resource-store.js';
import { createHttpClient, type HttpClient } from '../http/client.js';

/**
 * The Keptn resource API (resource-service, or configuration-service before 0.16) as a ResourceStore.
 * `{uri}` is one path segment: through the public nginx gateway it must be escaped twice, directly in-cluster once.
 * The project level is read without gitCommitID: the event's commit may live on another branch (as JES does).
 * @see ../../../shared/reference/keptn-protocol.md §4 (in the project's shared docs)
 */

export interface ResourceApiOptions {
  /** e.g. `http://api-gateway-nginx.keptn/api/resource-service` or `http://resource-service.keptn:8080`. */
  readonly baseUrl: string;
  readonly token: string | undefined;
  readonly escaping: 'double' | 'single';
  readonly timeoutMs: number;
  readonly retries: number;
}

const PAGE_SIZE = '50';

interface ResourceBody {
  resourceContent?: unknown;
  metadata?: { version?: unknown };
}

interface ListBody {
  resources?: { resourceURI?: unknown }[];
  nextPageKey?: unknown;
}

export function createResourceApiStore(options: ResourceApiOptions, client?: HttpClient): ResourceStore {
  const http =
    client ??
    createHttpClient({
      baseURL: options.baseUrl,
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      headers: options.token === undefined ? {} : { 'x-token': options.token },
    });
  const escape = (uri: string) =>
    options.escaping === 'double' ? encodeURIComponent(encodeURIComponent(uri)) : encodeURIComponent(uri);
  const description = `the Keptn resource API at ${options.baseUrl}`;

  async function call(url: string, params: Record<string, string>): Promise<AxiosResponse> {
    try {
      return await http.request({ method: 'GET', url, params });
    } catch (error) {
      throw jesError(
        'CONFIG_SOURCE_UNAVAILABLE',
        `Cannot reach ${description} (GET ${url}): ${errorText(error)}`,
        { cause: error },
      );
    }
  }

  function failure(response: AxiosResponse, url: string) {
    const kind = response.status >= 500 ? 'CONFIG_SOURCE_UNAVAILABLE' : 'KEPTN_API_REJECTED';
    const hint = response.status === 401 || response.status === 403 ? ' (check KEPTN_API_TOKEN)' : '';
    return jesError(
      kind,
      `${description} answered ${response.status} to GET ${url}${hint}: ${bodyText(response.data)}`,
    );
  }

  return {
    description,
    async read(level, scope, uri): Promise<Resource | undefined> {
      const url = `${levelPath(level, scope)}/resource/${escape(uri.replace(/^\/+/, ''))}`;
      const response = await call(url, commitParams(level, scope));
      if (response.status === 404) return undefined;
      if (response.status !== 200) throw failure(response, url);
      const body = parseJson(response.data) as ResourceBody;
      if (typeof body.resourceContent !== 'string') {
        throw jesError('KEPTN_API_REJECTED', `${description} answered GET ${url} without resourceContent`);
      }
      const version = body.metadata?.version;
      return {
        content: Buffer.from(body.resourceContent, 'base64'),
        commit: typeof version === 'string' ? version : scope.commit,
      };
    },
    async list(level, scope, prefix): Promise<string[]> {
      const url = `${levelPath(level, scope)}/resource`;
      const wanted = `/${prefix.replace(/^\/+/, '')}`;
      const found: string[] = [];
      let pageKey = '';
      do {
        const params = {
          ...commitParams(level, scope),
          pageSize: PAGE_SIZE,
          ...(pageKey === '' ? {} : { nextPageKey: pageKey }),
        };
        const response = await call(url, params);
        if (response.status === 404) return [];
        if (response.status !== 200) throw failure(response, url);
        const body = parseJson(response.data) as ListBody;
        for (const resource of body.resources ?? []) {
          if (typeof resource.resourceURI === 'string' && resource.resourceURI.startsWith(wanted)) {
            found.push(resource.resourceURI.replace(/^\/+/, ''));
          }
        }
        pageKey = typeof body.nextPageKey === 'string' && body.nextPageKey !== '0' ? body.nextPageKey : '';
      } while (pageKey !== '');
      return found;
    },
  };
}

function levelPath(level: ResourceLevel, scope: ResourceScope): string {
  const project = `/v1/project/${encodeURIComponent(scope.project)}`;
  if (level === 'project') return project;
  const stage = `${project}/stage/${encodeURIComponent(scope.stage)}`;
  return level === 'stage' ? stage : `${stage}/service/${encodeURIComponent(scope.service)}`;
}

function commitParams(level: ResourceLevel, scope: ResourceScope): Record<string, string> {
  return level === 'project' || scope.commit === undefined ? {} : { gitCommitID: scope.commit };
}

function parseJson(data: unknown): unknown {
  if (typeof data !== 'string') return data ?? {};
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return {};
  }
}

function bodyText(data: unknown): string {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function errorText(error: unknown): string {
  if (error instanceof Error)
    return 'code' in error && typeof error.code === 'string'
      ? `${error.code} ${error.message}`
      : error.message;
  return String(error);
}

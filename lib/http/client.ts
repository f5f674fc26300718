import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The one outgoing-HTTP helper: an axios instance that never throws on a status (callers decide what a status
 * means), with a per-attempt timeout and retries with exponential backoff on network errors and 5xx answers.
 */

export interface HttpClientOptions {
  readonly baseURL: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** First backoff; doubles each retry. */
  readonly backoffMs?: number;
}

export interface HttpClient {
  request(config: {
    method: 'GET' | 'POST';
    url: string;
    params?: Record<string, string>;
    data?: unknown;
    headers?: Record<string, string>;
  }): Promise<AxiosResponse>;
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const instance: AxiosInstance = axios.create({
    baseURL: options.baseURL,
    timeout: options.timeoutMs,
    headers: { ...options.headers },
    validateStatus: () => true,
    // Keep our own percent-encoding of path segments (the resource API's double escaping depends on it).
    paramsSerializer: {
      serialize: (params: Record<string, string>) => new URLSearchParams(params).toString(),
    },
    maxRedirects: 0,
    proxy: false,
  });
  const backoffMs = options.backoffMs ?? 200;
  return {
    async request(config) {
      for (let attempt = 0; ; attempt += 1) {
        try {
          const response = await instance.request(config);
          if (response.status < 500 || attempt >= options.retries) return response;
        } catch (error) {
          if (attempt >= options.retries) throw error;
        }
        await sleep(backoffMs * 2 ** attempt);
      }
    },
  };
}

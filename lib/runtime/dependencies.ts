import type { Logger } from 'pino';
import { createDirectoryStore } from '../config/directory-store.js';
import { createConfigLoader, type ConfigLoader } from '../config/loader.js';
import type { ResourceStore } from '../config/resource-store.js';
import {
  createCloudEventsSink,
  createKeptnApiSink,
  createLocalSink,
  type EventSink,
} from '../events/sink.js';
import { createJobClient, loadKubeConfig, type JobClient } from '../k8s/job-client.js';
import { createResourceApiStore } from '../keptn/resource-api.js';
import type { Settings } from '../settings/index.js';

/** Wires the real edges (config source, event sink, Kubernetes) from the settings: the only place that picks them. */

export function createResourceStore(settings: Settings): ResourceStore {
  if (settings.config.source === 'directory') return createDirectoryStore(settings.config.directory ?? '.');
  return createResourceApiStore({
    baseUrl: settings.keptn.resourceServiceUrl ?? '',
    token: settings.keptn.apiToken,
    escaping: settings.keptn.uriEscaping,
    timeoutMs: settings.keptn.timeoutMs,
    retries: settings.keptn.retries,
  });
}

export function createConfigLoaderFor(settings: Settings, store: ResourceStore): ConfigLoader {
  return createConfigLoader(store, {
    ttlSeconds: settings.config.cacheTtlSeconds,
    maxEntries: settings.config.cacheMaxEntries,
  });
}

/** Keptn API when configured, else the CloudEvents sink (K_SINK), else the log (local runs). */
export function createEventSink(settings: Settings, log: Logger): EventSink {
  const http = { timeoutMs: settings.keptn.timeoutMs, retries: settings.keptn.retries };
  if (settings.keptn.apiUrl !== undefined)
    return createKeptnApiSink(settings.keptn.apiUrl, settings.keptn.apiToken, http);
  if (settings.sinkUrl !== undefined) return createCloudEventsSink(settings.sinkUrl, http);
  return createLocalSink(log, settings.resultsDir);
}

export function createKubernetesClient(kubeconfigPath?: string): JobClient {
  return createJobClient(loadKubeConfig(kubeconfigPath));
}

/** Everything the handler needs, from the settings (Kubernetes from the kubeconfig unless given). */
export function createHandlerDeps(
  settings: Settings,
  log: Logger,
  jobs: JobClient = createKubernetesClient(),
) {
  return {
    settings,
    log,
    configLoader: createConfigLoaderFor(settings, createResourceStore(settings)),
    jobs,
    sink: createEventSink(settings, log),
  };
}

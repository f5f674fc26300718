import type { ResourceScope } from '../../lib/config/resource-store.js';
import type { Action, JobConfig, Task } from '../../lib/config/schema.js';
import type { IncomingEvent } from '../../lib/events/cloudevent.js';
import type { RunInput } from '../../lib/jobs/builder.js';
import type { ReplyEnvelope } from '../../lib/jobs/contract.js';
import { replyEnvelope } from '../../lib/keptn/envelope.js';
import { loadSettings, type Settings } from '../../lib/settings/index.js';

/** Small factories returning fresh fixtures; tests override only what they are about. */

let counter = 0;
/** A unique suffix for names and ids within this process. */
export function unique(prefix = 'x'): string {
  counter += 1;
  return `${prefix}-${process.pid.toString(36)}-${Date.now().toString(36)}-${counter}`;
}

export function keptnEvent(
  overrides: Partial<Record<string, unknown>> & { data?: Record<string, unknown> } = {},
): IncomingEvent {
  const { data, ...attributes } = overrides;
  return {
    specversion: '1.0',
    id: unique('event'),
    source: 'shipyard-controller',
    type: 'sh.keptn.event.test.triggered',
    time: '2026-12-03T10:00:00.000Z',
    datacontenttype: 'application/json',
    shkeptncontext: 'ctx-5b1c2d3e',
    gitcommitid: 'commit-1',
    ...attributes,
    data: {
      project: 'sockshop',
      stage: 'dev',
      service: 'carts',
      labels: { buildId: '42' },
      test: { teststrategy: 'functional' },
      ...data,
    },
  };
}

export function task(overrides: Partial<Task> = {}): Task {
  return { name: 'run', image: 'busybox:1.36', cmd: ['sh', '-c', 'echo hello'], ...overrides };
}

export function jobConfig(overrides: Partial<JobConfig> = {}): JobConfig {
  return {
    apiVersion: 'v2',
    actions: [{ name: 'test', events: [{ name: 'sh.keptn.event.test.triggered' }], tasks: [task()] }],
    ...overrides,
  };
}

export function settings(env: Record<string, string> = {}): Settings {
  return loadSettings({ CONFIG_DIR: '/config', INIT_CONTAINER_IMAGE: 'jes:test', ...env });
}

export function action(overrides: Partial<Action> = {}): Action {
  return { name: 'test', events: [{ name: 'sh.keptn.event.test.triggered' }], tasks: [task()], ...overrides };
}

/** Where a config is looked up: the factory event's project/stage/service, no commit. */
export function scope(overrides: Partial<ResourceScope> = {}): ResourceScope {
  return { project: 'sockshop', stage: 'dev', service: 'carts', commit: undefined, ...overrides };
}

export function envelope(overrides: Partial<ReplyEnvelope> = {}): ReplyEnvelope {
  return {
    id: 'event-1',
    type: 'sh.keptn.event.test.triggered',
    source: 'shipyard-controller',
    replyTypePrefix: 'sh.keptn.event.test',
    shkeptncontext: 'ctx-5b1c2d3e',
    gitcommitid: 'commit-1',
    project: 'sockshop',
    stage: 'dev',
    service: 'carts',
    labels: { buildId: '42' },
    ...overrides,
  };
}

/** The input of the Job builder for one matched action; the envelope is derived from the event unless given. */
export function runInput(overrides: Partial<RunInput> = {}): RunInput {
  const event = overrides.event ?? keptnEvent({ id: 'event-1' });
  return {
    event,
    envelope: replyEnvelope(event),
    action: action(),
    actionIndex: 0,
    config: { hash: 'c0ffee', origin: 'job/config.yaml at service level', commit: 'commit-1' },
    started: 'required',
    createdAt: '2026-12-03T10:00:01.000Z',
    ...overrides,
  };
}

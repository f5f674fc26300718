import { jesError, type Issue } from '../errors/index.js';
import type { IncomingEvent } from '../events/cloudevent.js';
import type { ReplyEnvelope } from '../jobs/contract.js';

/**
 * What an incoming event means for us: where its configuration lives (project/stage/service) and whether and how it
 * is answered. Keptn task events `sh.keptn.event.<task>.triggered` are answered with `<task>.started`/`.finished`;
 * other Keptn events get no answer (as in JES); any other CloudEvent is answered with `<type>.started`/`.finished`
 * (a trailing `.triggered` replaced), sent to the configured sink.
 * @see ../../docs/event-flow.md
 */

const SCOPE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const KEPTN_PREFIX = 'sh.keptn.';

export function isKeptnType(type: string): boolean {
  return type.startsWith(KEPTN_PREFIX);
}

/** `sh.keptn.event.test.triggered` → `sh.keptn.event.test`; undefined when the event gets no reply. */
export function replyTypePrefix(type: string): string | undefined {
  if (isKeptnType(type)) {
    const parts = type.split('.');
    return parts.length === 5 && parts[2] === 'event' && parts[4] === 'triggered'
      ? parts.slice(0, 4).join('.')
      : undefined;
  }
  return type.endsWith('.triggered') ? type.slice(0, -'.triggered'.length) : type;
}

export function isTriggered(type: string): boolean {
  return replyTypePrefix(type) !== undefined && type.endsWith('.triggered');
}

function readData(event: IncomingEvent): Record<string, unknown> {
  const { data } = event;
  return typeof data === 'object' && data !== null && !Array.isArray(data)
    ? (data as Record<string, unknown>)
    : {};
}

/** Project/stage/service and labels from `data`, checked so they are safe in paths and URLs. */
export function replyEnvelope(event: IncomingEvent): ReplyEnvelope {
  const data = readData(event);
  const issues: Issue[] = [];
  const scope = (['project', 'stage', 'service'] as const).map((field) => {
    const value = data[field];
    if (typeof value !== 'string' || value === '') {
      issues.push({
        path: `data.${field}`,
        message: 'is required: a non-empty string naming where the job config lives',
      });
      return '';
    }
    if (!SCOPE_NAME.test(value) || value.includes('..')) {
      issues.push({
        path: `data.${field}`,
        message: `"${value}" may hold only letters, digits, _, . and - (no ..)`,
      });
    }
    return value;
  });
  const labels = readLabels(data.labels, issues);
  if (issues.length > 0) {
    throw jesError(
      'EVENT_INVALID',
      `The event ${event.type} ${event.id} cannot be handled: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      { issues },
    );
  }
  const [project = '', stage = '', service = ''] = scope;
  return {
    id: event.id,
    type: event.type,
    source: event.source,
    replyTypePrefix: replyTypePrefix(event.type),
    shkeptncontext: stringAttribute(event.shkeptncontext),
    gitcommitid: stringAttribute(event.gitcommitid),
    project,
    stage,
    service,
    labels,
  };
}

function readLabels(value: unknown, issues: Issue[]): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    issues.push({ path: 'data.labels', message: 'must be a map of string to string' });
    return {};
  }
  const labels: Record<string, string> = {};
  for (const [key, label] of Object.entries(value)) {
    if (typeof label === 'string') labels[key] = label;
    else issues.push({ path: `data.labels.${key}`, message: 'must be a string' });
  }
  return labels;
}

function stringAttribute(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

import { HTTP, ValidationError, type CloudEvent } from 'cloudevents';
import { jesError, type Issue } from '../errors/index.js';

/** A received CloudEvent as plain JSON (the structured form): attributes, extensions and data. */
export interface IncomingEvent {
  readonly specversion: string;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time?: string;
  readonly data?: unknown;
  readonly [extension: string]: unknown;
}

export interface HttpMessage {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/**
 * Reads a CloudEvent from an HTTP request in structured (`application/cloudevents+json`) or binary (`ce-*` headers)
 * mode. A plain `application/json` body that is itself a structured event (what a Keptn webhook template renders) is
 * read as structured.
 * @see https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md
 */
export function parseHttpEvent(message: HttpMessage): IncomingEvent {
  const contentType = headerValue(message.headers, 'content-type')?.toLowerCase() ?? '';
  if (contentType.startsWith('application/cloudevents-batch+json')) {
    throw jesError('EVENT_INVALID', 'Batched CloudEvents are not supported: send one event per request');
  }
  const structuredJson = isStructuredJson(message, contentType);
  const single = singleValued(message.headers);
  const headers = structuredJson ? { ...single, 'content-type': 'application/cloudevents+json' } : single;
  // The SDK fills a missing id with a random UUID (a redelivery would get new Jobs) and specversion with 1.0.
  const missing = missingAttributes(
    message,
    structuredJson || contentType.startsWith('application/cloudevents+json'),
  );
  if (missing.length > 0) {
    throw jesError(
      'EVENT_INVALID',
      `Not a valid CloudEvent: ${missing.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
      { issues: missing },
    );
  }
  let event: CloudEvent<unknown>;
  try {
    const parsed = HTTP.toEvent<unknown>({ headers, body: message.body });
    if (Array.isArray(parsed)) throw new Error('a batch');
    event = parsed as CloudEvent<unknown>;
    event.validate();
  } catch (error) {
    throw invalidEvent(error);
  }
  return JSON.parse(JSON.stringify(event)) as IncomingEvent;
}

const REQUIRED_ATTRIBUTES = ['specversion', 'id', 'source', 'type'] as const;

/** The required attributes that are absent or empty: in the JSON body (structured) or the ce- headers (binary). */
function missingAttributes(message: HttpMessage, structured: boolean): Issue[] {
  if (structured) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.body);
    } catch {
      return []; // the SDK reports the malformed JSON
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return [];
    const attributes = parsed as Record<string, unknown>;
    return REQUIRED_ATTRIBUTES.flatMap((name) => {
      const value = attributes[name];
      if (value === undefined) return [{ path: name, message: 'is required (a non-empty string)' }];
      return typeof value === 'string' && value !== ''
        ? []
        : [{ path: name, message: 'must be a non-empty string' }];
    });
  }
  const headers = new Map(
    Object.entries(singleValued(message.headers)).map(([name, value]) => [name.toLowerCase(), value]),
  );
  if (![...headers.keys()].some((name) => name.startsWith('ce-'))) return [];
  return REQUIRED_ATTRIBUTES.filter((name) => !headers.get(`ce-${name}`)).map((name) => ({
    path: name,
    message: `is required (the ce-${name} header)`,
  }));
}

/** The first value of each header (the SDK reads only strings). */
function singleValued(headers: HttpMessage['headers']): Record<string, string> {
  const single: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    const value = headerValue(headers, name);
    if (value !== undefined) single[name] = value;
  }
  return single;
}

function isStructuredJson(message: HttpMessage, contentType: string): boolean {
  if (
    !contentType.startsWith('application/json') ||
    headerValue(message.headers, 'ce-specversion') !== undefined
  ) {
    return false;
  }
  try {
    const parsed: unknown = JSON.parse(message.body);
    return typeof parsed === 'object' && parsed !== null && 'specversion' in parsed;
  } catch {
    return false;
  }
}

function invalidEvent(error: unknown) {
  if (error instanceof ValidationError) {
    const issues: Issue[] = (error.errors ?? []).map((item) =>
      typeof item === 'string'
        ? { path: '(event)', message: item }
        : {
            path: item.instancePath === '' ? '(event)' : item.instancePath.slice(1),
            message: item.message ?? 'invalid',
          },
    );
    return jesError(
      'EVENT_INVALID',
      `Not a valid CloudEvent: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ') || error.message}`,
      { issues, cause: error },
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  const hint =
    'send a structured event (Content-Type: application/cloudevents+json) or binary mode with ce-specversion, ce-id, ce-source and ce-type headers';
  return jesError('EVENT_INVALID', `Not a CloudEvent (${reason}): ${hint}`, { cause: error });
}

function headerValue(headers: HttpMessage['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The error catalog: every error the functions raise has a stable code, an HTTP status and a message template.
 * Codes are documented in docs/errors.md and are never reused once retired.
 */

export interface ErrorDefinition {
  readonly code: string;
  readonly statusCode: number;
  readonly summary: string;
}

function define(code: string, statusCode: number, summary: string): ErrorDefinition {
  return Object.freeze({ code: `JES_ERR_${code}`, statusCode, summary });
}

export const ErrorCodes = Object.freeze({
  SETTINGS_INVALID: define('SETTINGS_INVALID', 500, 'The environment does not hold valid settings'),
  EVENT_INVALID: define('EVENT_INVALID', 400, 'The request is not a valid CloudEvent'),
  EVENT_DATA_INVALID: define('EVENT_DATA_INVALID', 400, 'The event data lacks what the matched action needs'),
  CONFIG_NOT_FOUND: define('CONFIG_NOT_FOUND', 422, 'No job/config.yaml at service, stage or project level'),
  CONFIG_INVALID: define('CONFIG_INVALID', 422, 'job/config.yaml is not a valid job configuration'),
  CONFIG_SOURCE_UNAVAILABLE: define(
    'CONFIG_SOURCE_UNAVAILABLE',
    503,
    'The configuration source cannot be reached',
  ),
  RESOURCE_NOT_FOUND: define(
    'RESOURCE_NOT_FOUND',
    404,
    'A file named in the task is not in the configuration',
  ),
  POLICY_IMAGE_NOT_ALLOWED: define(
    'POLICY_IMAGE_NOT_ALLOWED',
    403,
    'The image is not in the image allow-list',
  ),
  POLICY_NAMESPACE_NOT_ALLOWED: define(
    'POLICY_NAMESPACE_NOT_ALLOWED',
    403,
    'The namespace is not in the namespace allow-list',
  ),
  POLICY_PRIVILEGED_NOT_ALLOWED: define(
    'POLICY_PRIVILEGED_NOT_ALLOWED',
    403,
    'Privileged tasks are not allowed',
  ),
  POLICY_SECRET_NOT_ALLOWED: define('POLICY_SECRET_NOT_ALLOWED', 403, 'A task may not read this Secret'),
  K8S_UNAVAILABLE: define('K8S_UNAVAILABLE', 503, 'The Kubernetes API cannot be reached'),
  K8S_FORBIDDEN: define('K8S_FORBIDDEN', 502, 'The Kubernetes API refused the request (RBAC)'),
  K8S_NOT_FOUND: define('K8S_NOT_FOUND', 404, 'The Kubernetes object does not exist'),
  K8S_CONFLICT: define('K8S_CONFLICT', 409, 'The Kubernetes object already exists or changed meanwhile'),
  K8S_INVALID: define('K8S_INVALID', 422, 'The Kubernetes API rejected the object as invalid'),
  K8S_FAILED: define('K8S_FAILED', 502, 'The Kubernetes API answered with an unexpected error'),
  KEPTN_API_UNAVAILABLE: define('KEPTN_API_UNAVAILABLE', 503, 'The Keptn API cannot be reached'),
  KEPTN_API_REJECTED: define('KEPTN_API_REJECTED', 502, 'The Keptn API rejected the request'),
  SINK_UNAVAILABLE: define('SINK_UNAVAILABLE', 503, 'The CloudEvents sink cannot be reached'),
  SINK_REJECTED: define('SINK_REJECTED', 502, 'The CloudEvents sink rejected the event'),
});

export type ErrorCode = keyof typeof ErrorCodes;

/** One precise problem with user input: where it is and what is expected instead. */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

export interface JesErrorOptions {
  readonly cause?: unknown;
  readonly issues?: readonly Issue[];
}

export class JesError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly issues: readonly Issue[];

  constructor(definition: ErrorDefinition, message: string, options: JesErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'JesError';
    this.code = definition.code;
    this.statusCode = definition.statusCode;
    this.issues = options.issues ?? [];
  }

  /** The message followed by one `path: message` line per issue. */
  describe(): string {
    if (this.issues.length === 0) return this.message;
    return [this.message, ...this.issues.map((issue) => `${issue.path}: ${issue.message}`)].join('\n');
  }
}

export function jesError(kind: ErrorCode, message: string, options?: JesErrorOptions): JesError {
  return new JesError(ErrorCodes[kind], message, options);
}

export function isJesError(error: unknown, kind?: ErrorCode): error is JesError {
  return error instanceof JesError && (kind === undefined || error.code === ErrorCodes[kind].code);
}

/** The message of anything thrown, without dumping objects (ApiException messages embed headers). */
export function messageOf(error: unknown): string {
  if (error instanceof JesError) return error.describe();
  if (error instanceof Error) return error.message;
  return String(error);
}

import { ApiException } from '@kubernetes/client-node';
import { jesError, type ErrorCode, type JesError } from '../errors/index.js';

const BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'K8S_INVALID',
  401: 'K8S_FORBIDDEN',
  403: 'K8S_FORBIDDEN',
  404: 'K8S_NOT_FOUND',
  409: 'K8S_CONFLICT',
  422: 'K8S_INVALID',
};

/**
 * The one adapter from Kubernetes client failures to typed errors. Only the status code and the Status message
 * are kept: ApiException messages embed headers and the whole body, which must not reach logs.
 */
export function fromKubernetesError(error: unknown, action: string): JesError {
  if (error instanceof ApiException) {
    const code = (error as ApiException<unknown>).code;
    const reason = statusMessage((error as ApiException<unknown>).body);
    const text = `${action}: Kubernetes answered ${code}${reason === '' ? '' : ` (${reason})`}`;
    const kind = BY_STATUS[code] ?? (code >= 500 || code === 429 ? 'K8S_UNAVAILABLE' : 'K8S_FAILED');
    return jesError(
      kind,
      kind === 'K8S_FORBIDDEN' ? `${text}: check the function's ServiceAccount and RBAC` : text,
    );
  }
  const detail =
    error instanceof Error
      ? error.cause instanceof Error
        ? `${error.message}: ${error.cause.message}`
        : error.message
      : String(error);
  return jesError('K8S_UNAVAILABLE', `${action}: cannot reach the Kubernetes API (${detail})`, {
    cause: error,
  });
}

function statusMessage(body: unknown): string {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body) as unknown;
    } catch {
      return body.slice(0, 300);
    }
  }
  if (
    typeof parsed === 'object' &&
    parsed !== null &&
    'message' in parsed &&
    typeof parsed.message === 'string'
  ) {
    return parsed.message;
  }
  return '';
}

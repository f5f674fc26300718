import { pino, type Logger } from 'pino';

/** Paths never written to logs: tokens, auth headers, secret env values. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-token"]',
  'headers.authorization',
  'headers["x-token"]',
  '*.token',
  '*.apiToken',
  'token',
];

/** The one logger factory: JSON lines, object first, identifiers only, secrets redacted. */
export function createLogger(level: string, name: string): Logger {
  return pino({ name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
}

export type { Logger };

/**
 * Typed errors. Every error that reaches a user carries a one-line `reason`; `retryable` tells the callers
 * that answer other services (SQS, S3 Batch Operations, Lambda async) whether trying again can help.
 */
export class SesAuditError extends Error {
  /** One line, no stack: what the user reads after `error: INPUT: `. */
  readonly reason: string;
  readonly retryable: boolean;
  constructor(reason: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(reason, { cause: options.cause });
    this.name = new.target.name;
    this.reason = reason;
    this.retryable = options.retryable ?? false;
  }
}

/** The input itself is bad (corrupt gzip, invalid JSON, not a trail file, too large): retrying cannot help. */
export class InputError extends SesAuditError {
  constructor(reason: string, cause?: unknown) {
    super(reason, { retryable: false, cause });
  }
}

/** The input could not be read: missing object, access denied (permanent) or throttled, network (retryable). */
export class SourceError extends SesAuditError {}

/** Rows could not be written after every retry, or time ran out: the invocation must fail so it is retried. */
export class WriteError extends SesAuditError {
  constructor(reason: string, cause?: unknown, retryable = true) {
    super(reason, { retryable, cause });
  }
}

/** Configuration is missing or wrong. */
export class ConfigError extends SesAuditError {}

/** AWS error names that mean "try again": throttling, server-side trouble, timeouts (any service). */
const TRANSIENT_NAMES: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
  'InternalServerError',
  'InternalServerException',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'NetworkingError',
]);

/** Node and undici network error codes: the connection, not the request, failed. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Whether trying again can help. Our own errors say so themselves; for SDK and Node errors, throttling,
 * 5xx, 429, timeouts and network failures are transient, and everything else (validation, missing
 * resource, access denied, a bug) is not.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof SesAuditError) return err.retryable;
  if (typeof err !== 'object' || err === null) return false;
  // A boundary: SDK and Node errors carry these fields (every one typed unknown and checked below).
  const e = err as { name?: unknown; code?: unknown; $retryable?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true;
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || TRANSIENT_NAMES.has(e.code))) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
  return Boolean(e.$retryable);
}

/** A one-line reason for any thrown value, for messages that must never show a stack trace. */
export function reasonOf(err: unknown): string {
  if (err instanceof SesAuditError) return err.reason;
  if (err instanceof Error) return oneLine(err.message || err.name);
  return oneLine(String(err));
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * JSON.parse's complaint about a record, as one line that quotes none of the record: V8's messages can
 * include a slice of the input (with its newlines), which must not reach logs or failure reasons.
 */
export function jsonParseReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const position = /at position (\d+)/.exec(message)?.[1];
  const kind = message
    .replace(/,?\s*"[\s\S]*$/, '') // `Unexpected token '}', "...input..." is not valid JSON`
    .replace(/\s+in JSON[\s\S]*$/, '') // `... in JSON at position 12 (line 1 column 13)`
    .replace(/\s+at position[\s\S]*$/, '')
    .replace(/\s+'[\s\S]*'$/, '') // the offending token itself
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 80);
  return `${kind || 'not valid JSON'}${position === undefined ? '' : ` at character ${position}`}`;
}

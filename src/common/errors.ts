/**
 * The one error type dora throws across module boundaries.
 *
 * Every failure carries a stable `code` (what callers branch on and what protocol edges map to
 * S3 error codes or errnos) and a `retryable` flag (what retry loops read; they never match on
 * message text). Messages follow one voice: what was attempted, the value quoted, a colon, the
 * cause — `Cannot read "s3://b/k" at offset 4096: object changed since it was cached`.
 */

export type ErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'INVALID_ARGUMENT'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'FAILED_PRECONDITION'
  | 'OUT_OF_RANGE'
  | 'NOT_A_DIRECTORY'
  | 'IS_A_DIRECTORY'
  | 'DIRECTORY_NOT_EMPTY'
  | 'CANCELLED'
  | 'ABORTED'
  | 'DATA_LOSS'
  | 'UNIMPLEMENTED'
  | 'INTERNAL';

/** Whether a failure with this code is worth trying again when nothing more is known. */
const RETRYABLE_BY_DEFAULT: Readonly<Record<ErrorCode, boolean>> = {
  NOT_FOUND: false,
  ALREADY_EXISTS: false,
  INVALID_ARGUMENT: false,
  PERMISSION_DENIED: false,
  RESOURCE_EXHAUSTED: false,
  UNAVAILABLE: true,
  DEADLINE_EXCEEDED: true,
  FAILED_PRECONDITION: false,
  OUT_OF_RANGE: false,
  NOT_A_DIRECTORY: false,
  IS_A_DIRECTORY: false,
  DIRECTORY_NOT_EMPTY: false,
  CANCELLED: false,
  ABORTED: true,
  DATA_LOSS: true,
  UNIMPLEMENTED: false,
  INTERNAL: false,
};

/** Every error code. */
export const ERROR_CODES: ReadonlySet<string> = new Set(Object.keys(RETRYABLE_BY_DEFAULT));

export interface DoraErrorOptions {
  cause?: unknown;
  /** Overrides the code's default (e.g. RESOURCE_EXHAUSTED for throttling is retryable, for a full disk not). */
  retryable?: boolean;
}

export class DoraError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: DoraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DoraError';
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT[code];
  }

  /** A plain object for JSON APIs and logs. */
  toJSON(): { code: ErrorCode; message: string; retryable: boolean } {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

export function isDoraError(error: unknown, code?: ErrorCode): error is DoraError {
  return error instanceof DoraError && (code === undefined || error.code === code);
}

/** The text after the colon in a message: the innermost useful description of a cause. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message || cause.name;
  return String(cause);
}

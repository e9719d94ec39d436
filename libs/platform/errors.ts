/**
 * One error hierarchy with a closed set of codes. The table below is the only place that
 * maps a code to an HTTP status and to "retry" versus "dead-letter".
 */
export type ErrorCode =
  | 'VALIDATION'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONCURRENCY'
  | 'ILLEGAL_STATE'
  | 'UNAVAILABLE'
  | 'CONFIGURATION';

export interface ErrorPolicy {
  readonly httpStatus: number;
  /** true: the same operation may succeed later (retry with backoff); false: dead-letter / reject. */
  readonly retriable: boolean;
}

export const ERROR_POLICIES: Readonly<Record<ErrorCode, ErrorPolicy>> = {
  VALIDATION: { httpStatus: 400, retriable: false },
  UNAUTHENTICATED: { httpStatus: 401, retriable: false },
  FORBIDDEN: { httpStatus: 403, retriable: false },
  NOT_FOUND: { httpStatus: 404, retriable: false },
  CONCURRENCY: { httpStatus: 409, retriable: true },
  ILLEGAL_STATE: { httpStatus: 409, retriable: false },
  UNAVAILABLE: { httpStatus: 503, retriable: true },
  CONFIGURATION: { httpStatus: 500, retriable: false },
};

/** A rule that a field broke: `path` is dotted (`subject.nhsNumber`, `events.3.data.sessions`). */
export interface FieldIssue {
  readonly path: string;
  readonly rule: string;
  readonly message: string;
}

export class ThroughlineError extends Error {
  readonly retriable: boolean;
  readonly httpStatus: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.retriable = ERROR_POLICIES[code].retriable;
    this.httpStatus = ERROR_POLICIES[code].httpStatus;
    this.details = options.details ?? {};
  }

  readonly details: Record<string, unknown>;
}

export class ValidationError extends ThroughlineError {
  constructor(
    message: string,
    readonly issues: readonly FieldIssue[],
  ) {
    super('VALIDATION', message, { details: { issues } });
  }
}

export class ConcurrencyError extends ThroughlineError {
  constructor(
    readonly streamId: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super('CONCURRENCY', `stream ${streamId}: expected revision ${expected}, actual ${actual}`, {
      details: { streamId, expected, actual },
    });
  }
}

export class NotFoundError extends ThroughlineError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

export class UnavailableError extends ThroughlineError {
  constructor(
    message: string,
    cause?: unknown,
    readonly retryAfterSeconds = 5,
  ) {
    super('UNAVAILABLE', message, { cause });
  }
}

export function isRetriable(error: unknown): boolean {
  if (error instanceof ThroughlineError) return error.retriable;
  // Connection-level failures from pg/kafkajs/node are worth retrying; anything else is not.
  const code = (error as { code?: unknown } | null)?.code;
  if (
    typeof code === 'string' &&
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|57P01|57P03|08\d{3})$/.test(code)
  ) {
    return true;
  }
  return (error as { retriable?: unknown } | null)?.retriable === true;
}

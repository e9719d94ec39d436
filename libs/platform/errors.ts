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

/**
 * Error codes of a dependency that is down, restarting or overloaded, where the same operation
 * may succeed later: node's socket errors; PostgreSQL's connection exceptions (class 08),
 * admin_shutdown 57P01, crash_shutdown 57P02, cannot_connect_now 57P03 (starting up, shutting
 * down, in recovery), too_many_connections 53300, serialization_failure 40001, deadlock 40P01.
 */
const RETRIABLE_CODES =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|08[0-9A-Z]{3}|57P0[123]|53300|40001|40P01)$/;

/** node-postgres reports a server that went away mid-conversation without a code. */
const RETRIABLE_MESSAGES =
  /^(Connection terminated( unexpectedly| due to connection timeout)?|Client has encountered a connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect)$/;

/**
 * kafkajs errors meaning "the broker is not reachable or not ready (yet)". kafkajs marks some of
 * them non-retriable because its own retrier has already given up (NumberOfRetriesExceeded wraps
 * the last retriable error; Timeout and LockTimeout end a wait), but one level up, after a
 * pause, a restarted broker answers again.
 */
const KAFKA_UNAVAILABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
]);

/**
 * true when the same operation may succeed later, so it is worth retrying with backoff: a
 * ThroughlineError by its code's policy; otherwise a connection-level failure of PostgreSQL,
 * Kafka or the network (by code, by the kafkajs error name, by node-postgres' message, or by
 * a `retriable: true` flag as kafkajs sets it on protocol errors such as NOT_LEADER and
 * COORDINATOR_NOT_AVAILABLE), looked for along the `cause` chain. Anything else is not.
 */
export function isRetriable(error: unknown): boolean {
  for (let current = error, depth = 0; depth < 5; depth += 1) {
    if (current === null || typeof current !== 'object') return false;
    if (current instanceof ThroughlineError) return current.retriable;
    const { code, name, message, retriable, cause } = current as {
      code?: unknown;
      name?: unknown;
      message?: unknown;
      retriable?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string' && RETRIABLE_CODES.test(code)) return true;
    if (typeof name === 'string' && KAFKA_UNAVAILABLE.has(name)) return true;
    if (typeof message === 'string' && RETRIABLE_MESSAGES.test(message)) return true;
    if (retriable === true) return true;
    current = cause;
  }
  return false;
}

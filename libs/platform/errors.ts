/**
 * One error hierarchy with a closed set of codes, and one table (FAILURE_RULES, below) that
 * says what happens on any failure: a code of ours, a PostgreSQL SQLSTATE, a kafkajs error, a
 * socket error or a timeout. Nothing else decides retry, dead-letter, HTTP status or stop.
 */
export type ErrorCode =
  | 'VALIDATION'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'CONCURRENCY'
  | 'ILLEGAL_STATE'
  | 'UNAVAILABLE'
  | 'TIMEOUT'
  | 'CONFIGURATION'
  | 'RETRIES_EXHAUSTED';

/**
 * What to do about a failure:
 * - `retry`: the same operation may succeed later; retry with backoff (HTTP: the status, with
 *   Retry-After for 503).
 * - `dead-letter`: this input is refused for good; park it with its reason and go on.
 * - `fail-request`: the caller's request is refused (who, what, where); nothing to retry or park.
 * - `stop`: no retry can fix it (setup, credentials, schema, a bound already spent): stop loudly.
 */
export type FailureAction = 'retry' | 'dead-letter' | 'fail-request' | 'stop';

export interface FailureRule {
  readonly action: FailureAction;
  readonly httpStatus: number;
  /** Sent as Retry-After with a 503. */
  readonly retryAfterSeconds?: number;
}

/** The row of FAILURE_RULES a failure fell in. A ThroughlineError's row is its code. */
export type FailureReason =
  | ErrorCode
  | 'postgres-connection'
  | 'postgres-resources'
  | 'postgres-serialization'
  | 'postgres-timeout'
  | 'postgres-unique-race'
  | 'postgres-data'
  | 'postgres-integrity'
  | 'postgres-setup'
  | 'kafka-unavailable'
  | 'kafka-not-acknowledged'
  | 'kafka-retriable'
  | 'kafka-unauthorized'
  | 'network'
  | 'timeout'
  | 'unexpected';

const RETRY_AFTER_SECONDS = 5;

/**
 * THE table. Which failures fall in each row is decided by `reasonOf` right below it, in this
 * order, along the `cause` chain (the first error in the chain that matches a row decides).
 */
export const FAILURE_RULES: Readonly<Record<FailureReason, FailureRule>> = {
  // ThroughlineError, by code.
  VALIDATION: { action: 'dead-letter', httpStatus: 400 },
  UNAUTHENTICATED: { action: 'fail-request', httpStatus: 401 },
  FORBIDDEN: { action: 'fail-request', httpStatus: 403 },
  NOT_FOUND: { action: 'fail-request', httpStatus: 404 },
  /** A request body over its route's limit (the edge). */
  PAYLOAD_TOO_LARGE: { action: 'fail-request', httpStatus: 413 },
  /** A caller over its rate limit (the edge sets Retry-After). */
  RATE_LIMITED: { action: 'fail-request', httpStatus: 429 },
  CONCURRENCY: { action: 'retry', httpStatus: 409 },
  ILLEGAL_STATE: { action: 'dead-letter', httpStatus: 409 },
  UNAVAILABLE: { action: 'retry', httpStatus: 503, retryAfterSeconds: RETRY_AFTER_SECONDS },
  TIMEOUT: { action: 'retry', httpStatus: 503, retryAfterSeconds: RETRY_AFTER_SECONDS },
  CONFIGURATION: { action: 'stop', httpStatus: 500 },
  /** A bounded retry gave up (the recorder past RECORDER_MAX_RETRY_MS). */
  RETRIES_EXHAUSTED: { action: 'stop', httpStatus: 503 },
  // PostgreSQL, by SQLSTATE.
  /** Class 08 connection exception; 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now. */
  'postgres-connection': { action: 'retry', httpStatus: 503, retryAfterSeconds: RETRY_AFTER_SECONDS },
  /** Class 53 insufficient resources (too many connections, disk full, out of memory). */
  'postgres-resources': { action: 'retry', httpStatus: 503, retryAfterSeconds: RETRY_AFTER_SECONDS },
  /** 40001 serialization_failure, 40P01 deadlock_detected: the transaction lost a race; redo it. */
  'postgres-serialization': { action: 'retry', httpStatus: 503, retryAfterSeconds: 1 },
  /** 57014 query_canceled (statement timeout). */
  'postgres-timeout': { action: 'retry', httpStatus: 503, retryAfterSeconds: RETRY_AFTER_SECONDS },
  /** 23505 unique_violation, 23P01 exclusion_violation: a concurrent writer got there first; the redo sees its row. */
  'postgres-unique-race': { action: 'retry', httpStatus: 409 },
  /** Class 22 data exception (a value PostgreSQL cannot take, e.g. \u0000 in jsonb): the input. */
  'postgres-data': { action: 'dead-letter', httpStatus: 400 },
  /** The rest of class 23 integrity constraint violation (not null, foreign key, check). */
  'postgres-integrity': { action: 'dead-letter', httpStatus: 409 },
  /** Class 28 invalid authorization, 3D000 no such database, class 42 (missing table, privilege). */
  'postgres-setup': { action: 'stop', httpStatus: 500 },
  // Kafka (kafkajs), by error name, protocol error type or retriable flag.
  /** The broker is unreachable or kafkajs' own retries ran out on a retriable error. */
  'kafka-unavailable': { action: 'retry', httpStatus: 503, retryAfterSeconds: RETRY_AFTER_SECONDS },
  /** The broker did not acknowledge a produce (too few in-sync replicas, timed out, sequence lost). */
  'kafka-not-acknowledged': { action: 'retry', httpStatus: 503, retryAfterSeconds: RETRY_AFTER_SECONDS },
  /** Any other protocol error kafkajs marks retriable (NOT_LEADER, COORDINATOR_LOAD_IN_PROGRESS…). */
  'kafka-retriable': { action: 'retry', httpStatus: 503, retryAfterSeconds: RETRY_AFTER_SECONDS },
  /** Authentication or authorization refused: credentials or ACLs to fix. */
  'kafka-unauthorized': { action: 'stop', httpStatus: 500 },
  // Anything.
  /** Node's socket errors, node-postgres losing its server, a `retriable: true` flag. */
  network: { action: 'retry', httpStatus: 503, retryAfterSeconds: RETRY_AFTER_SECONDS },
  /** An error named TimeoutError (AbortSignal.timeout's, for one). */
  timeout: { action: 'retry', httpStatus: 503, retryAfterSeconds: RETRY_AFTER_SECONDS },
  /**
   * None of the above (a bug, an unlisted SQLSTATE such as 55000 "not accepting connections").
   * Consumers retry it with backoff, loudly and within their bound; an HTTP caller gets 500.
   */
  unexpected: { action: 'retry', httpStatus: 500 },
};

/** Node's socket errors: the peer is down, restarting or unreachable. */
const SOCKET_CODES = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/;
const SQLSTATE = /^[0-9A-Z]{5}$/;

function reasonOfSqlState(code: string): FailureReason | undefined {
  if (code.startsWith('08') || /^57P0[123]$/.test(code)) return 'postgres-connection';
  if (code.startsWith('53')) return 'postgres-resources';
  if (code === '40001' || code === '40P01') return 'postgres-serialization';
  if (code === '57014') return 'postgres-timeout';
  if (code === '23505' || code === '23P01') return 'postgres-unique-race';
  if (code.startsWith('22')) return 'postgres-data';
  if (code.startsWith('23')) return 'postgres-integrity';
  if (code.startsWith('28') || code === '3D000' || code.startsWith('42')) return 'postgres-setup';
  return undefined;
}

/** node-postgres reports a server that went away mid-conversation without a code. */
const POSTGRES_LOST =
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

/** Protocol error types of a produce the broker did not acknowledge (some marked non-retriable by kafkajs). */
const KAFKA_NOT_ACKNOWLEDGED = new Set([
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'REQUEST_TIMED_OUT',
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
]);

const KAFKA_UNAUTHORIZED =
  /^(TOPIC|GROUP|CLUSTER|TRANSACTIONAL_ID|DELEGATION_TOKEN)_AUTHORIZATION_FAILED$|^SASL_AUTHENTICATION_FAILED$|^KafkaJSSASLAuthenticationError$/;

/** The row one error (not its causes) falls in, or undefined. */
function reasonOf(error: object): FailureReason | undefined {
  if (error instanceof ThroughlineError) return error.code;
  const { code, name, type, message, retriable } = error as {
    code?: unknown;
    name?: unknown;
    type?: unknown;
    message?: unknown;
    retriable?: unknown;
  };
  if (typeof code === 'string') {
    if (SOCKET_CODES.test(code)) return 'network';
    if (SQLSTATE.test(code)) return reasonOfSqlState(code) ?? 'unexpected';
  }
  if (typeof type === 'string') {
    if (KAFKA_UNAUTHORIZED.test(type)) return 'kafka-unauthorized';
    if (KAFKA_NOT_ACKNOWLEDGED.has(type)) return 'kafka-not-acknowledged';
  }
  if (typeof name === 'string') {
    if (KAFKA_UNAVAILABLE.has(name)) return 'kafka-unavailable';
    if (KAFKA_UNAUTHORIZED.test(name)) return 'kafka-unauthorized';
    if (name === 'TimeoutError') return 'timeout';
  }
  if (typeof message === 'string' && POSTGRES_LOST.test(message)) return 'network';
  if (retriable === true) return typeof type === 'string' ? 'kafka-retriable' : 'network';
  return undefined;
}

export interface FailureClass extends FailureRule {
  readonly reason: FailureReason;
}

/**
 * What happens on `error`: its row of FAILURE_RULES, looked for along the `cause` chain (five
 * deep), `unexpected` when nothing matches. An UnavailableError's own retryAfterSeconds wins.
 */
export function classifyFailure(error: unknown): FailureClass {
  let current = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth += 1) {
    const reason = reasonOf(current);
    if (reason !== undefined) {
      const rule = FAILURE_RULES[reason];
      if (current instanceof UnavailableError)
        return { ...rule, reason, retryAfterSeconds: current.retryAfterSeconds };
      return { ...rule, reason };
    }
    current = (current as { cause?: unknown }).cause;
  }
  return { ...FAILURE_RULES.unexpected, reason: 'unexpected' };
}

/**
 * true when the same operation is known to be worth retrying with backoff: its row says
 * `retry` and it is not merely `unexpected`.
 */
export function isRetriable(error: unknown): boolean {
  const { action, reason } = classifyFailure(error);
  return action === 'retry' && reason !== 'unexpected';
}

/** A rule that a field broke: `path` is dotted (`subject.nhsNumber`, `events.3.data.sessions`). */
export interface FieldIssue {
  readonly path: string;
  readonly rule: string;
  readonly message: string;
}

export class ThroughlineError extends Error {
  /** kafkajs-style flag: the code's row says `retry`. */
  readonly retriable: boolean;
  readonly httpStatus: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.retriable = FAILURE_RULES[code].action === 'retry';
    this.httpStatus = FAILURE_RULES[code].httpStatus;
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
    readonly retryAfterSeconds = RETRY_AFTER_SECONDS,
  ) {
    super('UNAVAILABLE', message, { cause });
  }
}

/** An operation took longer than its bound; it may still complete (so a retry must be idempotent). */
export class TimeoutError extends ThroughlineError {
  constructor(message: string, cause?: unknown) {
    super('TIMEOUT', message, { cause });
  }
}

/** A bounded retry has given up: whoever gets it stops for good, loudly. */
export class RetriesExhaustedError extends ThroughlineError {
  constructor(message: string, cause?: unknown) {
    super('RETRIES_EXHAUSTED', message, { cause });
  }
}

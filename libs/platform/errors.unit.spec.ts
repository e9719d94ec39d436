import { describe, expect, it } from '@jest/globals';
import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import { DatabaseError } from 'pg';
import {
  ConcurrencyError,
  FAILURE_RULES,
  NotFoundError,
  RetriesExhaustedError,
  ThroughlineError,
  TimeoutError,
  UnavailableError,
  ValidationError,
  classifyFailure,
  isRetriable,
  type FailureReason,
} from './errors';

/** What node-postgres throws when the server answers with an error (code = SQLSTATE). */
function postgresError(code: string, message = `server error ${code}`): DatabaseError {
  const error = new DatabaseError(message, message.length, 'error');
  error.code = code;
  return error;
}

/** A protocol error as kafkajs builds it from the broker's error code. */
function kafkaProtocolError(type: string, message: string, retriable: boolean): KafkaJSProtocolError {
  return new KafkaJSProtocolError(Object.assign(new Error(message), { type, code: 0, retriable }));
}

const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('isRetriable', () => {
  it('follows the policy of a ThroughlineError, whatever its cause', () => {
    expect(isRetriable(new UnavailableError('store down'))).toBe(true);
    expect(isRetriable(new ConcurrencyError('s', '1', '2'))).toBe(true);
    expect(isRetriable(new ValidationError('bad', []))).toBe(false);
    expect(isRetriable(new NotFoundError('no such stream'))).toBe(false);
  });

  it.each([
    ['57P01', 'terminating connection due to administrator command'],
    ['57P02', 'terminating connection due to crash of another server process'],
    ['57P03', 'the database system is starting up'],
    ['08006', 'connection failure'],
    ['08001', 'sqlclient unable to establish sqlconnection'],
    ['08P01', 'protocol violation'],
    ['53300', 'sorry, too many clients already'],
    ['40001', 'could not serialize access due to concurrent update'],
    ['40P01', 'deadlock detected'],
    // A concurrent writer inserted the row first: the redo sees it.
    ['23505', 'duplicate key value violates unique constraint'],
    ['57014', 'canceling statement due to statement timeout'],
  ])('retries PostgreSQL %s (%s)', (code, message) => {
    expect(isRetriable(postgresError(code, message))).toBe(true);
  });

  it.each([
    ['22P05', 'unsupported Unicode escape sequence'],
    ['42P01', 'relation "events" does not exist'],
    ['28P01', 'password authentication failed'],
    ['3D000', 'database "gone" does not exist'],
    ['55000', 'database "x" is not currently accepting connections'],
  ])('does not retry PostgreSQL %s (%s)', (code, message) => {
    expect(isRetriable(postgresError(code, message))).toBe(false);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])(
    'retries the socket error %s',
    (code) => {
      expect(isRetriable(withCode(code, `connect ${code} 127.0.0.1:5432`))).toBe(true);
    },
  );

  it.each([
    'Connection terminated unexpectedly',
    'Connection terminated',
    'Connection terminated due to connection timeout',
    'Client has encountered a connection error and is not queryable',
    'timeout exceeded when trying to connect',
  ])('retries node-postgres losing the server: "%s"', (message) => {
    expect(isRetriable(new Error(message))).toBe(true);
  });

  it('retries kafkajs errors of a broker that is down or restarting', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    expect(isRetriable(refused)).toBe(true);
    // kafkajs' own retrier gave up on a retriable error: not retriable to kafkajs, retriable one level up.
    const exhausted = new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 3000 });
    expect(exhausted.retriable).toBe(false);
    expect(isRetriable(exhausted)).toBe(true);
    expect(
      isRetriable(
        new KafkaJSRequestTimeoutError('Request Fetch(key: 1, version: 11) timed out', {
          broker: '127.0.0.1:9092',
          clientId: 'throughline-recorder',
          correlationId: 7,
          createdAt: 0,
          sentAt: 0,
          pendingDuration: 0,
        }),
      ),
    ).toBe(true);
    expect(
      isRetriable(
        kafkaProtocolError(
          'NOT_LEADER_FOR_PARTITION',
          'This server is not the leader for that topic-partition',
          true,
        ),
      ),
    ).toBe(true);
    expect(
      isRetriable(
        kafkaProtocolError('GROUP_COORDINATOR_NOT_AVAILABLE', 'The group coordinator is not available', true),
      ),
    ).toBe(true);
  });

  it('does not retry kafkajs errors that a retry cannot fix', () => {
    expect(
      isRetriable(kafkaProtocolError('TOPIC_AUTHORIZATION_FAILED', 'Not authorized to access topics', false)),
    ).toBe(false);
    expect(isRetriable(new KafkaJSNonRetriableError('Invalid message'))).toBe(false);
  });

  it('looks along the cause chain of a wrapping error', () => {
    const migration = new Error('migration event-store/001_events failed', {
      cause: postgresError('57P01', 'terminating connection due to administrator command'),
    });
    expect(isRetriable(migration)).toBe(true);
    expect(isRetriable(new Error('wrapped', { cause: new Error('a plain bug') }))).toBe(false);
  });

  it('does not retry plain bugs or non-errors', () => {
    expect(isRetriable(new TypeError("Cannot read properties of undefined (reading 'offset')"))).toBe(false);
    expect(isRetriable(new Error('Connection terminated by a typo in the test?'))).toBe(false);
    expect(isRetriable(undefined)).toBe(false);
    expect(isRetriable(null)).toBe(false);
    expect(isRetriable('ECONNREFUSED')).toBe(false);
  });
});

describe('classifyFailure: the retry rule, one row at a time', () => {
  const requestTimedOut = new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out', {
    broker: '127.0.0.1:9092',
    clientId: 'health-gateway',
    correlationId: 3,
    createdAt: 0,
    sentAt: 0,
    pendingDuration: 0,
  });
  const rows: readonly [FailureReason, unknown][] = [
    ['VALIDATION', new ValidationError('bad', [])],
    ['UNAUTHENTICATED', new ThroughlineError('UNAUTHENTICATED', 'no key')],
    ['FORBIDDEN', new ThroughlineError('FORBIDDEN', 'not yours')],
    ['NOT_FOUND', new NotFoundError('no such child')],
    ['PAYLOAD_TOO_LARGE', new ThroughlineError('PAYLOAD_TOO_LARGE', 'over 65536 bytes')],
    ['RATE_LIMITED', new ThroughlineError('RATE_LIMITED', 'too many requests')],
    ['CONCURRENCY', new ConcurrencyError('s', '1', '2')],
    ['ILLEGAL_STATE', new ThroughlineError('ILLEGAL_STATE', 'tombstoned')],
    ['UNAVAILABLE', new UnavailableError('store down')],
    ['TIMEOUT', new TimeoutError('sending to Kafka took longer than 10000 ms')],
    ['CONFIGURATION', new ThroughlineError('CONFIGURATION', 'PUBLISHER_KEYS empty')],
    ['RETRIES_EXHAUSTED', new RetriesExhaustedError('still failing after 300000 ms')],
    ['postgres-connection', postgresError('08006')],
    ['postgres-connection', postgresError('57P01')],
    ['postgres-resources', postgresError('53300')],
    ['postgres-resources', postgresError('53100', 'could not extend file: No space left on device')],
    ['postgres-serialization', postgresError('40001')],
    ['postgres-serialization', postgresError('40P01')],
    ['postgres-timeout', postgresError('57014', 'canceling statement due to statement timeout')],
    ['postgres-unique-race', postgresError('23505')],
    ['postgres-data', postgresError('22P05', 'unsupported Unicode escape sequence')],
    ['postgres-data', postgresError('22001', 'value too long')],
    ['postgres-integrity', postgresError('23502', 'null value violates not-null constraint')],
    ['postgres-integrity', postgresError('23514', 'violates check constraint')],
    ['postgres-setup', postgresError('28P01', 'password authentication failed')],
    ['postgres-setup', postgresError('3D000')],
    ['postgres-setup', postgresError('42P01', 'relation "events" does not exist')],
    [
      'kafka-unavailable',
      new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'),
    ],
    ['kafka-unavailable', requestTimedOut],
    ['kafka-not-acknowledged', kafkaProtocolError('NOT_ENOUGH_REPLICAS', 'Messages are rejected', true)],
    ['kafka-not-acknowledged', kafkaProtocolError('NOT_ENOUGH_REPLICAS_AFTER_APPEND', 'written', true)],
    ['kafka-not-acknowledged', kafkaProtocolError('REQUEST_TIMED_OUT', 'The request timed out', true)],
    ['kafka-not-acknowledged', kafkaProtocolError('OUT_OF_ORDER_SEQUENCE_NUMBER', 'out of order', false)],
    ['kafka-retriable', kafkaProtocolError('COORDINATOR_LOAD_IN_PROGRESS', 'loading', true)],
    ['kafka-unauthorized', kafkaProtocolError('TOPIC_AUTHORIZATION_FAILED', 'Not authorized', false)],
    ['network', withCode('ECONNRESET')],
    ['network', new Error('Connection terminated unexpectedly')],
    [
      'timeout',
      Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }),
    ],
    ['unexpected', new TypeError('a bug')],
    ['unexpected', postgresError('P0001', 'injected fault')],
  ];

  it('covers every row of the table', () => {
    expect(new Set(rows.map(([reason]) => reason))).toEqual(new Set(Object.keys(FAILURE_RULES)));
  });

  it.each(rows)('%s: %p', (reason, error) => {
    expect(classifyFailure(error)).toEqual({ ...FAILURE_RULES[reason], reason });
  });

  it('says what happens, by action', () => {
    const action = (error: unknown) => classifyFailure(error).action;
    expect(action(new ValidationError('bad', []))).toBe('dead-letter');
    expect(action(postgresError('22P05'))).toBe('dead-letter');
    expect(action(postgresError('23503'))).toBe('dead-letter');
    expect(action(new NotFoundError('none'))).toBe('fail-request');
    expect(action(postgresError('08006'))).toBe('retry');
    expect(action(new RetriesExhaustedError('gave up'))).toBe('stop');
    expect(action(postgresError('42P01'))).toBe('stop');
  });

  it('answers a Kafka produce that was not acknowledged with 503 and Retry-After, never 500', () => {
    const notAcknowledged = [
      kafkaProtocolError('NOT_ENOUGH_REPLICAS', 'Messages are rejected', true),
      kafkaProtocolError('REQUEST_TIMED_OUT', 'The request timed out', true),
      new KafkaJSNumberOfRetriesExceeded(kafkaProtocolError('NOT_ENOUGH_REPLICAS', 'rejected', true), {
        retryCount: 5,
        retryTime: 2000,
      }),
      new TimeoutError('sending to Kafka took longer than 10000 ms'),
      new UnavailableError('Kafka did not acknowledge the events', requestTimedOut, 7),
    ];
    for (const error of notAcknowledged) {
      const { action, httpStatus, retryAfterSeconds } = classifyFailure(error);
      expect([action, httpStatus]).toEqual(['retry', 503]);
      expect(retryAfterSeconds).toBeGreaterThan(0);
    }
    expect(classifyFailure(notAcknowledged[4]).retryAfterSeconds).toBe(7);
  });

  it('decides by the first error along the cause chain that matches a row', () => {
    expect(classifyFailure(new Error('migration failed', { cause: postgresError('42P01') })).reason).toBe(
      'postgres-setup',
    );
    expect(classifyFailure(new UnavailableError('store down', postgresError('42P01'))).reason).toBe(
      'UNAVAILABLE',
    );
    expect(classifyFailure(undefined)).toEqual({ ...FAILURE_RULES.unexpected, reason: 'unexpected' });
  });

  it('gives a ThroughlineError the flag and status of its code', () => {
    expect([new TimeoutError('slow').retriable, new TimeoutError('slow').httpStatus]).toEqual([true, 503]);
    expect(new RetriesExhaustedError('gave up').retriable).toBe(false);
    expect(new ValidationError('bad', []).httpStatus).toBe(400);
  });
});

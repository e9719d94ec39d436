import { describe, expect, it } from '@jest/globals';
import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import { DatabaseError } from 'pg';
import { ConcurrencyError, NotFoundError, UnavailableError, ValidationError, isRetriable } from './errors';

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
  ])('retries PostgreSQL %s (%s)', (code, message) => {
    expect(isRetriable(postgresError(code, message))).toBe(true);
  });

  it.each([
    ['23505', 'duplicate key value violates unique constraint'],
    ['22P05', 'unsupported Unicode escape sequence'],
    ['42P01', 'relation "events" does not exist'],
    ['28P01', 'password authentication failed'],
    ['3D000', 'database "gone" does not exist'],
    ['57014', 'canceling statement due to statement timeout'],
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

import { describe, expect, it } from '@jest/globals';
import { UnavailableError } from './errors';
import { retryRetriableKafka, topicNames } from './kafka';

class FakeKafkaError extends Error {
  constructor(
    message: string,
    readonly retriable: boolean,
  ) {
    super(message);
  }
}

describe('retryRetriableKafka', () => {
  it('retries a retriable answer (a coordinator still loading) until the call succeeds', async () => {
    let calls = 0;
    const answer = await retryRetriableKafka('probe', async () => {
      calls++;
      if (calls < 3) throw new FakeKafkaError('The coordinator is loading', true);
      return 'offsets';
    });
    expect(answer).toBe('offsets');
    expect(calls).toBe(3);
  });

  it('throws a non-retriable error at once', async () => {
    let calls = 0;
    const failing = retryRetriableKafka('probe', async () => {
      calls++;
      throw new FakeKafkaError('Topic authorization failed', false);
    });
    await expect(failing).rejects.toThrow('Topic authorization failed');
    expect(calls).toBe(1);
  });

  it('gives up after its bound with UnavailableError naming what it was doing', async () => {
    const failing = retryRetriableKafka(
      'fetching the offsets',
      async () => {
        throw new FakeKafkaError('The coordinator is loading', true);
      },
      250,
    );
    await expect(failing).rejects.toBeInstanceOf(UnavailableError);
    await expect(failing).rejects.toThrow(
      /fetching the offsets: Kafka still answers The coordinator is loading/,
    );
  });
});

describe('topicNames', () => {
  it('prefixes the agency topics and the dead-letter topic', () => {
    expect(topicNames('t.')).toEqual({
      agency: {
        health: 't.health.events.v1',
        education: 't.education.events.v1',
        'social-care': 't.social-care.events.v1',
      },
      deadLetter: 't.throughline.dead-letter.v1',
    });
  });
});

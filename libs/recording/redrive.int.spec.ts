import { parseAgencyEventBytes, streamIdOf, type AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import { topicNames } from '@throughline/platform';
import {
  buildEnrolmentRecorded,
  buildReferralReceived,
  createTestDatabase,
  type TestDatabase,
} from '@throughline/testing';
import type { DeadLetter } from './batch-plan';
import { PostgresDeadLetters } from './postgres-dead-letters';
import { DeadLetterRedriver, REDRIVEN_FROM } from './redrive';

/**
 * Re-driving dead letters on a real PostgreSQL. The dead letters are the rows the recorder
 * writes (PostgresDeadLetters.record), with the issues the contracts gave at the time.
 */

const topics = topicNames('test-redrive.');
const DAY_MS = 24 * 60 * 60 * 1000;

describe('DeadLetterRedriver', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let deadLetters: PostgresDeadLetters;
  let redriver: DeadLetterRedriver;
  let nextOffset = 0;

  beforeAll(async () => {
    db = await createTestDatabase('tl_redrive');
    store = await PostgresEventStore.create({ connectionString: db.url });
    deadLetters = await PostgresDeadLetters.create({ connectionString: db.url });
    redriver = new DeadLetterRedriver({ deadLetters, store, topics });
  });

  afterAll(async () => {
    await deadLetters.close();
    await store.close();
    await db.drop();
  });

  /** Dead-letters the bytes as the recorder would have with its clock at `at`; returns the row id. */
  async function deadLetter(topic: string, value: Buffer, at: Date): Promise<string> {
    const parsed = parseAgencyEventBytes(value, { now: at });
    const letter: DeadLetter = {
      topic,
      partition: 0,
      offset: String(nextOffset++),
      key: 'k',
      value,
      headers: { publisher: 'test-publisher' },
      reason: 'contract-violation',
      issues: parsed.ok ? [] : parsed.issues,
      deadLetteredAt: at,
    };
    expect(await deadLetters.record([letter])).toBe(1);
    const page = await deadLetters.list({ limit: 500 });
    return page.deadLetters[page.deadLetters.length - 1].id;
  }

  function bytesOf(event: AgencyEvent): Buffer {
    return Buffer.from(JSON.stringify(event), 'utf8');
  }

  it('stores a dead letter that the current rules accept, once, and records who re-drove it', async () => {
    // Refused then: the recorder's clock was three days behind, so occurredAt was "in the future".
    const event = buildEnrolmentRecorded();
    const then = new Date(Date.now() - 3 * DAY_MS);
    const id = await deadLetter(topics.agency.education, bytesOf(event), then);
    expect((await deadLetters.find(id))?.issues.map((i) => i.rule)).toEqual(['not-in-future']);

    const first = await redriver.redrive(id, 'analyst-1');
    expect(first).toMatchObject({
      deadLetterId: id,
      status: 'stored',
      issues: [],
      redrive: {
        redrivenBy: 'analyst-1',
        outcome: 'stored',
        eventId: event.eventId,
        streamId: streamIdOf(event),
      },
    });

    const stored = await store.readStream(streamIdOf(event));
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ eventId: event.eventId, type: event.type, data: event });
    expect(stored[0].metadata).toMatchObject({
      [REDRIVEN_FROM]: id,
      redrivenBy: 'analyst-1',
      topic: topics.agency.education,
      partition: 0,
      publisher: 'test-publisher',
      kafkaPrincipal: 'User:education-service',
      kafkaTimestamp: null,
    });
    expect(first.redrive?.position).toBe(stored[0].position.toString());

    const second = await redriver.redrive(id, 'analyst-2');
    expect(second).toMatchObject({ status: 'already-redriven', redrive: first.redrive });
    expect(await store.readStream(streamIdOf(event))).toHaveLength(1);

    const listed = (await deadLetters.list({ limit: 500 })).deadLetters.find((d) => d.id === id);
    expect(listed?.redrive).toEqual(first.redrive);
    expect((await deadLetters.attempts(id)).map((a) => [a.requestedBy, a.outcome])).toEqual([
      ['analyst-1', 'stored'],
      ['analyst-2', 'already-redriven'],
    ]);
  });

  it('stores nothing again for an event the store already holds', async () => {
    const event = buildReferralReceived();
    const [appended] = await store.appendMany([
      {
        streamId: streamIdOf(event),
        expectedRevision: 'any',
        events: [{ eventId: event.eventId, type: event.type, data: event, metadata: {} }],
      },
    ]);
    const id = await deadLetter(
      topics.agency['social-care'],
      bytesOf(event),
      new Date(Date.now() - 3 * DAY_MS),
    );

    const result = await redriver.redrive(id, 'analyst-1');
    expect(result).toMatchObject({
      status: 'already-stored',
      redrive: { outcome: 'already-stored', position: appended.positions[0].toString() },
    });
    expect(await store.readStream(streamIdOf(event))).toHaveLength(1);
  });

  it('leaves a dead letter that is still invalid unchanged and answers with the issues', async () => {
    const invalid = Buffer.from('{"type":"education.enrolment.recorded"}', 'utf8');
    const id = await deadLetter(topics.agency.education, invalid, new Date());
    const before = await deadLetters.find(id);
    const positionBefore = (await store.readAll()).length;

    const result = await redriver.redrive(id, 'analyst-1');
    expect(result.status).toBe('still-invalid');
    expect(result.redrive).toBeNull();
    expect(result.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'eventId', rule: 'required' })]),
    );
    expect(await deadLetters.find(id)).toEqual(before);
    expect(await store.readAll()).toHaveLength(positionBefore);
    expect((await deadLetters.attempts(id)).map((a) => [a.requestedBy, a.outcome])).toEqual([
      ['analyst-1', 'still-invalid'],
    ]);
  });

  it('refuses an event published on another agency topic, and an unknown id', async () => {
    const event = buildEnrolmentRecorded();
    const id = await deadLetter(topics.agency.health, bytesOf(event), new Date());
    const result = await redriver.redrive(id, 'analyst-1');
    expect(result.status).toBe('still-invalid');
    expect(result.issues.length).toBeGreaterThan(0);
    expect(await store.readStream(streamIdOf(event))).toHaveLength(0);

    await expect(redriver.redrive('999999', 'analyst-1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

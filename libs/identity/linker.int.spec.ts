import { Client, type Pool } from 'pg';
import { streamIdOf, type AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore, storageParameters, type RecordedEvent } from '@throughline/event-store';
import { createPool, dropDatabase, withTransaction } from '@throughline/platform';
import { DEMO_COHORT_OPTIONS, generateCohort } from '@throughline/synthetic';
import {
  buildEnrolmentRecorded,
  buildImmunisationGiven,
  createTestDatabase,
  freshNhsNumber,
  freshRecordId,
  recordedAppend,
  testDatabaseServerUrl,
  type TestDatabase,
} from '@throughline/testing';
import { identityStreamOf, orderedPair, proposalStreamOf, uuidV5, type IdentityEvent } from './events';
import { linkBatch } from './link-batch';
import { IdentityLinker, migrateIdentity } from './linker';

/** A database of its own, with the store and the linker's tables, closed in afterAll. */
interface LinkerDatabase {
  readonly url: string;
  readonly store: PostgresEventStore;
  readonly pool: Pool;
  close(): Promise<void>;
}

async function openLinkerDatabase(url: string): Promise<LinkerDatabase> {
  const store = await PostgresEventStore.create({ connectionString: url, idlePollMs: 50 });
  const pool = createPool(url);
  await migrateIdentity(pool);
  return {
    url,
    store,
    pool,
    close: async () => {
      await store.close();
      await pool.end();
    },
  };
}

/** A copy of a database, so two linkers start from the same store, recorded_at and all. */
async function cloneDatabase(template: string, suffix: string): Promise<string> {
  const name = `${new URL(template).pathname.slice(1)}_${suffix}`;
  const admin = new Client({ connectionString: `${testDatabaseServerUrl()}/postgres` });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${new URL(template).pathname.slice(1)}"`);
  } finally {
    await admin.end();
  }
  return `${testDatabaseServerUrl()}/${name}`;
}

const streamOf = (event: AgencyEvent) => streamIdOf(event);

describe('linkBatch', () => {
  let database: TestDatabase;
  let linker: LinkerDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('identity_link_batch');
    linker = await openLinkerDatabase(database.url);
  });

  afterAll(async () => {
    await linker?.close();
    await database?.drop();
  });

  /** Appends the events, then links them all in one linkBatch call (one transaction). */
  async function linkInOneBatch(...events: AgencyEvent[]) {
    const after = await linker.store.headPosition();
    for (const event of events) await linker.store.appendMany([recordedAppend(event)]);
    const batch: RecordedEvent[] = await linker.store.readAll({ after, maxCount: events.length });
    expect(batch).toHaveLength(events.length);
    const result = await withTransaction(linker.pool, (client) => linkBatch(client, linker.store, batch));
    return { batch, result };
  }

  it('finds a record first seen earlier in the same batch as a candidate for a later event', async () => {
    const nhsNumber = freshNhsNumber();
    const demographics = {
      dateOfBirth: '2016-02-11',
      name: { given: 'Isadora', family: 'Batchling' },
      sex: '2' as const,
      postcode: 'ZZ99 4QT',
    };
    const healthRecord = freshRecordId('chs');
    const health = buildImmunisationGiven({
      occurredAt: '2024-01-10T09:00:00Z',
      subject: { recordId: healthRecord, nhsNumber, ...demographics },
    });
    // Seen again with nothing new about who it is: only when it was last seen moves.
    const healthAgain = buildImmunisationGiven({
      occurredAt: '2024-03-10T09:00:00Z',
      subject: { recordId: healthRecord, nhsNumber, ...demographics },
    });
    const education = buildEnrolmentRecorded({
      occurredAt: '2024-09-04T08:00:00Z',
      subject: { nhsNumber, ...demographics },
    });
    // A look-alike with no identifier in common: proposed, against a record also new to the batch.
    const lookalike = buildEnrolmentRecorded({
      occurredAt: '2024-09-05T08:00:00Z',
      subject: { nhsNumber: undefined, upn: undefined, ...demographics },
    });

    const { batch, result } = await linkInOneBatch(health, healthAgain, education, lookalike);

    const decided = result.decided.map(({ event }) => event);
    expect(decided).toEqual(
      expect.arrayContaining<IdentityEvent>([
        expect.objectContaining({
          type: 'identity.subject.linked',
          data: expect.objectContaining({
            subject: streamOf(education),
            linkedTo: streamOf(health),
            method: 'shared-nhs-number',
          }),
        }),
        expect.objectContaining({
          type: 'identity.match.proposed',
          data: expect.objectContaining({ subject: streamOf(lookalike) }),
        }),
      ]),
    );
    expect(result.appended).toBe(result.decided.length);
    const linked = await linker.store.readStream(identityStreamOf(streamOf(education)));
    expect(linked.map((event) => event.type)).toEqual(['identity.subject.linked']);

    // The last-seen update written at the end of the batch: the newest snapshot, its position.
    const row = await linker.pool.query<{
      observed_at: string;
      first_seen_position: string;
      last_changed_position: string;
    }>(
      `SELECT observed_at, first_seen_position, last_changed_position
       FROM identity_subjects WHERE stream_id = $1`,
      [streamOf(health)],
    );
    expect(row.rows).toEqual([
      {
        observed_at: '2024-03-10T09:00:00Z',
        first_seen_position: batch[0].position.toString(),
        last_changed_position: batch[1].position.toString(),
      },
    ]);
  });

  it('writes only when a record was last seen when nothing else about it changed, and reads it back', async () => {
    const recordId = freshRecordId('chs');
    const seenAt = (occurredAt: string, postcode: string) =>
      buildImmunisationGiven({
        occurredAt,
        subject: {
          recordId,
          nhsNumber: freshNhsNumber(),
          dateOfBirth: '2019-06-02',
          name: { given: 'Perpetua', family: 'Lastseen' },
          sex: '2',
          postcode,
        },
      });
    const first = seenAt('2024-01-10T09:00:00Z', 'ZZ99 1AA');
    const again = { ...seenAt('2024-05-10T09:00:00Z', 'ZZ99 1AA'), subject: first.subject };
    // Older than the last time seen, with another postcode: demographics take the latest, so it
    // changes nothing, if the linker knows when the record was last seen from its row.
    const late = {
      ...seenAt('2024-03-01T09:00:00Z', 'ZZ99 7ZZ'),
      subject: { ...first.subject, postcode: 'ZZ99 7ZZ' },
    };
    const rowOf = async () =>
      (
        await linker.pool.query<{ who: string; observed_at: string | null; last_changed_position: string }>(
          `SELECT snapshot::text AS who, observed_at, last_changed_position FROM identity_subjects WHERE stream_id = $1`,
          [streamOf(first)],
        )
      ).rows;

    await linkInOneBatch(first);
    const [written] = await rowOf();
    expect(written.observed_at).toBe('2024-01-10T09:00:00Z');
    expect(JSON.parse(written.who)).toEqual(expect.objectContaining({ postcode: 'ZZ99 1AA' }));
    expect(JSON.parse(written.who)).not.toHaveProperty('observedAt');

    // Seen again, nothing else new: the column and the position move, who the record is does not.
    const { batch } = await linkInOneBatch(again);
    expect(await rowOf()).toEqual([
      {
        who: written.who,
        observed_at: '2024-05-10T09:00:00Z',
        last_changed_position: batch[0].position.toString(),
      },
    ]);

    // Read back from the row in a new batch (linkBatch here keeps no snapshots between batches).
    const { result } = await linkInOneBatch(late);
    expect(result.decided).toEqual([]);
    expect(await rowOf()).toEqual([
      {
        who: written.who,
        observed_at: '2024-05-10T09:00:00Z',
        last_changed_position: batch[0].position.toString(),
      },
    ]);
  });
});

describe('the linker in batches of 1 and of 500', () => {
  const databases: LinkerDatabase[] = [];
  const urls: string[] = [];
  let template: TestDatabase;

  afterAll(async () => {
    for (const database of databases) await database.close();
    for (const url of urls) await dropDatabase(url);
    await template?.drop();
  });

  /**
   * A person's decisions, as the review API would append them, placed after `before` and
   * ahead of `after`: two records sharing an NHS number kept apart before the second is first
   * seen, and the planted look-alikes rejected. (Decisions on pairs the linker has decided
   * already would come after its own events in a real store, not in the middle of a fill.)
   */
  function decisionsBetween(
    before: readonly AgencyEvent[],
    after: readonly AgencyEvent[],
    probable: readonly [string, string],
  ) {
    const seen = new Map(
      before.filter((event) => event.subject.nhsNumber).map((e) => [e.subject.nhsNumber, e]),
    );
    const known = new Set(before.map(streamOf));
    const second = after.find((event) => {
      const first = event.subject.nhsNumber ? seen.get(event.subject.nhsNumber) : undefined;
      return first && first.source.agency !== event.source.agency && !known.has(streamOf(event));
    });
    if (!second)
      throw new Error('no record first seen in the second half shares an NHS number with the first');
    const pair = [seen.get(second.subject.nhsNumber)!, second] as const;
    const [a, b] = orderedPair(...probable);
    const proposalId = uuidV5(`proposal|${a}|${b}`);
    const by = { type: 'user' as const, userId: 'ig-test-0001' };
    return [
      {
        streamId: identityStreamOf(streamOf(pair[1])),
        events: [
          {
            eventId: uuidV5(`test-unlink|${streamOf(pair[1])}`),
            type: 'identity.subject.unlinked',
            data: {
              subject: streamOf(pair[1]),
              formerChildKey: 'test-child-key',
              formerMembers: [streamOf(pair[0])],
              reason: 'different children: checked with the school',
              by,
              at: '2026-01-05T10:00:00.000Z',
            },
          },
        ],
      },
      {
        streamId: proposalStreamOf(proposalId),
        events: [
          {
            eventId: uuidV5(`test-reject|${proposalId}`),
            type: 'identity.match.rejected',
            data: {
              proposalId,
              subject: probable[0],
              candidate: probable[1],
              score: 0,
              reason: 'twins: different children',
              by,
              at: '2026-01-05T10:05:00.000Z',
            },
          },
        ],
      },
    ];
  }

  async function identityOutcome(database: LinkerDatabase) {
    const rows = async (sql: string) => (await database.pool.query(sql)).rows;
    return {
      // json as stored (data::text): the same bytes, not merely equal after parsing.
      events: await rows(
        `SELECT event_id, stream_id, type, data::text AS data FROM events
         WHERE type LIKE 'identity.%' ORDER BY event_id`,
      ),
      subjects: await rows('SELECT * FROM identity_subjects ORDER BY stream_id'),
      keys: await rows('SELECT * FROM identity_subject_keys ORDER BY key, stream_id'),
      pairs: await rows('SELECT * FROM identity_pairs ORDER BY subject_a, subject_b'),
      proposals: await rows('SELECT * FROM identity_proposals ORDER BY proposal_id'),
      conflicts: await rows('SELECT * FROM identity_conflicts ORDER BY conflict_id'),
    };
  }

  it('decides the identical identity events and state', async () => {
    const cohort = generateCohort({ ...DEMO_COHORT_OPTIONS, children: 30 });
    const probable = cohort.planted.probabilisticMatch?.streamIds;
    if (!probable) throw new Error('the cohort has no planted probabilistic match');
    const half = Math.floor(cohort.events.length / 2);

    // One store: the first half of the events, a person's decisions, the second half.
    template = await createTestDatabase('identity_linker_batches');
    const filling = await openLinkerDatabase(template.url);
    const append = async (events: readonly AgencyEvent[]) => {
      for (let i = 0; i < events.length; i += 200)
        await filling.store.appendMany(events.slice(i, i + 200).map(recordedAppend));
    };
    await append(cohort.events.slice(0, half));
    await filling.store.appendMany(
      decisionsBetween(cohort.events.slice(0, half), cohort.events.slice(half), probable),
    );
    await append(cohort.events.slice(half));
    const head = await filling.store.headPosition();
    await filling.close();

    const outcomes = [];
    for (const batchSize of [1, 500]) {
      const url = await cloneDatabase(template.url, `b${batchSize}`);
      urls.push(url);
      const database = await openLinkerDatabase(url);
      databases.push(database);
      const running = new IdentityLinker({ pool: database.pool, store: database.store, batchSize });
      await running.start();
      try {
        await running.waitForPosition(head, 120_000);
        // And past its own events, which it reads back (appending nothing for them).
        await running.waitForPosition(await database.store.headPosition(), 120_000);
      } finally {
        await running.stop();
      }
      outcomes.push(await identityOutcome(database));
    }

    const [one, five] = outcomes;
    expect(new Set(one.events.map((event) => event.type))).toEqual(
      new Set([
        'identity.subject.linked',
        'identity.subject.unlinked',
        'identity.match.proposed',
        'identity.match.rejected',
        'identity.conflict.flagged',
      ]),
    );
    expect(one.pairs.map((pair) => pair.state)).toEqual(
      expect.arrayContaining(['linked', 'unlinked', 'rejected', 'conflict']),
    );
    expect(five).toEqual(one);
    // A record's snapshot row is rewritten at nearly every event of it: its pages keep room for the next version (decision 042).
    expect(await storageParameters(databases[0].pool, 'public', 'identity_subjects')).toEqual([
      'fillfactor=70',
    ]);
  });
});

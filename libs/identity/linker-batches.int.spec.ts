import { Client } from 'pg';
import { streamIdOf, type AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore, type StreamAppend } from '@throughline/event-store';
import { createPool, dropDatabase } from '@throughline/platform';
import { DEMO_COHORT_OPTIONS, generateCohort } from '@throughline/synthetic';
import {
  createTestDatabase,
  recordedAppend,
  testDatabaseServerUrl,
  type TestDatabase,
} from '@throughline/testing';
import { identityStreamOf, orderedPair, proposalStreamOf, uuidV5 } from './events';
import { IdentityLinker, migrateIdentity } from './linker';

/**
 * The linker reads a batch's state once and links it in memory (libs/identity/README.md): in
 * batches of 1 every decision reads the tables as the previous batch left them, so batches of
 * 37 and of 500 must append the same identity events and leave the same tables. The store
 * mixes a person's decisions (a manual link, a confirmed proposal, an unlink) in among the
 * agency events, so they land inside batches.
 */
const by = { type: 'user' as const, userId: 'ig-test-0002' };
const streamOf = (event: AgencyEvent) => streamIdOf(event);

async function cloneDatabase(template: string, suffix: string): Promise<string> {
  const from = new URL(template).pathname.slice(1);
  const admin = new Client({ connectionString: `${testDatabaseServerUrl()}/postgres` });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${from}_${suffix}" TEMPLATE "${from}"`);
  } finally {
    await admin.end();
  }
  return `${testDatabaseServerUrl()}/${from}_${suffix}`;
}

function decision(
  streamId: string,
  eventId: string,
  type: string,
  data: Record<string, unknown>,
): StreamAppend {
  return { streamId, events: [{ eventId: uuidV5(eventId), type, data }] };
}

describe('the linker in batches of 1, 37 and 500', () => {
  const urls: string[] = [];
  let template: TestDatabase | undefined;

  afterAll(async () => {
    for (const url of urls) await dropDatabase(url);
    await template?.drop();
  });

  it('appends the same identity events and leaves the same tables', async () => {
    const cohort = generateCohort({ ...DEMO_COHORT_OPTIONS, seed: 424_242, children: 60 });
    const probable = cohort.planted.probabilisticMatch?.streamIds;
    if (!probable) throw new Error('the cohort has no planted probabilistic match');
    const events = cohort.events;
    const third = Math.floor(events.length / 3);
    const early = events.slice(0, third);
    // Two records of different children, both seen early: a person links them by hand.
    const first = early[0];
    const other = early.find(
      (event) =>
        event.source.agency !== first.source.agency && event.subject.nhsNumber !== first.subject.nhsNumber,
    )!;
    // Two records of one child sharing an NHS number, both seen early: linked by the linker, then pulled apart.
    const seen = new Map<string, AgencyEvent>();
    let together: [AgencyEvent, AgencyEvent] | undefined;
    for (const event of early) {
      const nhs = event.subject.nhsNumber;
      const before = nhs ? seen.get(nhs) : undefined;
      if (before && before.source.agency !== event.source.agency && streamOf(before) !== streamOf(first)) {
        together = [before, event];
        break;
      }
      if (nhs && !before) seen.set(nhs, event);
    }
    if (!together) throw new Error('no two early records share an NHS number');
    const [a, b] = orderedPair(...probable);
    const proposalId = uuidV5(`proposal|${a}|${b}`);

    template = await createTestDatabase('identity_linker_batch_sizes');
    const store = await PostgresEventStore.create({ connectionString: template.url });
    const append = async (slice: readonly AgencyEvent[]) => {
      for (let i = 0; i < slice.length; i += 200)
        await store.appendMany(slice.slice(i, i + 200).map(recordedAppend));
    };
    await append(early.slice(0, 40));
    await store.appendMany([
      decision(
        identityStreamOf(streamOf(first)),
        `test-manual|${streamOf(first)}`,
        'identity.subject.linked',
        {
          subject: streamOf(first),
          linkedTo: streamOf(other),
          method: 'manual',
          childKey: 'test-child-key',
          reason: 'the same child: checked with the family',
          by,
          at: '2026-01-06T10:00:00.000Z',
        },
      ),
    ]);
    await append(early.slice(40));
    await store.appendMany([
      decision(proposalStreamOf(proposalId), `test-confirm|${proposalId}`, 'identity.match.confirmed', {
        proposalId,
        subject: probable[0],
        candidate: probable[1],
        score: 0,
        by,
        at: '2026-01-06T10:05:00.000Z',
      }),
      decision(
        identityStreamOf(streamOf(together[1])),
        `test-unlink|${streamOf(together[1])}`,
        'identity.subject.unlinked',
        {
          subject: streamOf(together[1]),
          formerChildKey: 'test-child-key-2',
          formerMembers: [streamOf(together[0])],
          reason: 'different children: checked with the school',
          by,
          at: '2026-01-06T10:10:00.000Z',
        },
      ),
    ]);
    await append(events.slice(third));
    const head = await store.headPosition();
    await store.close();

    const outcomes = [];
    // Tight candidate limits too (decision 026): keys purged as too broad, candidates ranked.
    const runs = [1, 37, 500].flatMap((batchSize) => [
      { batchSize, suffix: `b${batchSize}` },
      { batchSize, suffix: `t${batchSize}`, candidateLimits: { candidates: 3, block: 8 } },
    ]);
    for (const { batchSize, suffix, candidateLimits } of runs) {
      const url = await cloneDatabase(template.url, suffix);
      urls.push(url);
      const linkerStore = await PostgresEventStore.create({ connectionString: url, idlePollMs: 50 });
      const pool = createPool(url);
      try {
        await migrateIdentity(pool);
        const linker = new IdentityLinker({ pool, store: linkerStore, batchSize, candidateLimits });
        await linker.start();
        try {
          await linker.waitForPosition(head, 240_000);
          await linker.waitForPosition(await linkerStore.headPosition(), 240_000);
        } finally {
          await linker.stop();
        }
        const rows = async (sql: string) => (await pool.query(sql)).rows;
        outcomes.push({
          events: await rows(
            `SELECT event_id, stream_id, type, data::text AS data FROM events
             WHERE type LIKE 'identity.%' ORDER BY event_id`,
          ),
          subjects: await rows('SELECT * FROM identity_subjects ORDER BY stream_id'),
          keys: await rows('SELECT * FROM identity_subject_keys ORDER BY key, stream_id'),
          pairs: await rows('SELECT * FROM identity_pairs ORDER BY subject_a, subject_b'),
          proposals: await rows('SELECT * FROM identity_proposals ORDER BY proposal_id'),
          conflicts: await rows('SELECT * FROM identity_conflicts ORDER BY conflict_id'),
        });
      } finally {
        await linkerStore.close();
        await pool.end();
      }
    }

    const [one, tight, ...others] = outcomes;
    // The store exercises what a batch changes: links, proposals opened and decided, conflicts, a person's judgements.
    expect(new Set(one.events.map((event) => event.type))).toEqual(
      new Set([
        'identity.subject.linked',
        'identity.subject.unlinked',
        'identity.match.proposed',
        'identity.match.confirmed',
        'identity.conflict.flagged',
      ]),
    );
    expect(new Set(one.pairs.map((pair) => pair.state))).toEqual(
      new Set(['linked', 'unlinked', 'proposed', 'conflict']),
    );
    expect(one.proposals.map((proposal) => proposal.status)).toEqual(
      expect.arrayContaining(['open', 'confirmed']),
    );
    for (const [index, outcome] of others.entries()) expect(outcome).toEqual(index % 2 === 0 ? one : tight);
    // The tight limits changed what was decided: the runs compared under them test them.
    expect(tight.events).not.toEqual(one.events);
  }, 600_000);
});

import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import { identityStreamOf } from '@throughline/identity';
import { createPool, WorkerFunction } from '@throughline/platform';
import {
  buildAttendanceSummarised,
  buildEnrolmentRecorded,
  buildImmunisationGiven,
  buildReferralReceived,
  createTestDatabase,
  freshNhsNumber,
  freshUpn,
  recordAsTheRecorderWould,
  type TestDatabase,
} from '@throughline/testing';
import { READ_MODEL_TABLES, TimelineProjector, childKeyOf, migrateTimeline } from '@throughline/timeline';

/**
 * A batch is applied with set-based writes (decision 020): the read models it leaves must be
 * the ones the same events give applied one at a time. One store holds a scripted history of
 * merges, splits, merges of merged children, links to records not seen yet, duplicates and
 * events that are not valid contracts; it is projected into fresh read models with batches of
 * 1, 7 and 500 (all of it in one batch) and the tables compared row for row. Batches of 7 and 500
 * are applied again with their events read in the projector's worker thread (`prepareEvents`).
 */

const BY_LINKER = { type: 'linker' } as const;
const BY_PERSON = { type: 'user', userId: 'ig-0001', role: 'identity reviewer' } as const;
const AT = '2024-06-01T10:00:00Z';

let storeDatabase: TestDatabase;
let store: PostgresEventStore;
const streamOf = (event: AgencyEvent) => `${event.source.agency}-${event.subject.recordId}`;

const record = (...events: AgencyEvent[]): Promise<bigint> => recordAsTheRecorderWould(store, ...events);

async function identity(subject: string, type: string, data: Record<string, unknown>): Promise<void> {
  await store.append(identityStreamOf(subject), [{ eventId: randomUUID(), type, data }]);
}

const link = (subject: string, linkedTo: string, by: object = BY_LINKER) =>
  identity(subject, 'identity.subject.linked', {
    subject,
    linkedTo,
    method: by === BY_LINKER ? 'shared-nhs-number' : 'manual',
    ...(by === BY_LINKER ? { shared: [{ kind: 'nhs-number', value: '9434765919' }] } : { reason: 'checked' }),
    by,
    at: AT,
  });

const unlink = (subject: string, formerMembers: string[]) =>
  identity(subject, 'identity.subject.unlinked', {
    subject,
    formerChildKey: 'ch_unknown',
    formerMembers,
    reason: 'wrong child',
    by: BY_PERSON,
    at: AT,
  });

function people() {
  const born = '2016-04-02';
  const subject = () => ({ nhsNumber: freshNhsNumber(), dateOfBirth: born });
  return {
    a: buildImmunisationGiven({ subject: subject() }),
    b: buildEnrolmentRecorded({ subject: { upn: freshUpn(), dateOfBirth: born } }),
    c: buildReferralReceived({ subject: { ...subject(), laChildId: undefined, laCode: undefined } }),
    d: buildImmunisationGiven({ subject: subject() }),
    e: buildEnrolmentRecorded({ subject: { upn: freshUpn(), dateOfBirth: born } }),
    f: buildReferralReceived({ subject: { ...subject(), laChildId: undefined, laCode: undefined } }),
    g: buildImmunisationGiven({ subject: subject() }),
    h: buildEnrolmentRecorded({ subject: { upn: freshUpn(), dateOfBirth: born } }),
  };
}

let cast: ReturnType<typeof people>;
let ids: Record<keyof ReturnType<typeof people>, string>;

beforeAll(async () => {
  storeDatabase = await createTestDatabase('tl_bulk_store');
  store = await PostgresEventStore.create({ connectionString: storeDatabase.url, idlePollMs: 50 });
  cast = people();
  ids = Object.fromEntries(
    Object.entries(cast).map(([name, event]) => [name, streamOf(event)]),
  ) as typeof ids;
  const { a, b, c, d, e, f, g, h } = ids;
  await record(cast.a, cast.b, cast.c, cast.d, cast.e);
  await link(b, a); // b joins a
  await link(c, b); // c joins a's child through b
  // Later events: last seen moves, a new identifier (a former UPN), a date of birth corrected.
  await record(
    buildImmunisationGiven({ subject: { ...cast.a.subject, dateOfBirth: '2016-04-03' } }),
    buildAttendanceSummarised({
      subject: { ...cast.b.subject, upn: freshUpn(), formerUpn: cast.b.subject.upn },
    }),
  );
  await unlink(b, [a, c]); // b leaves; c was linked only through b, so it goes too
  await link(c, a); // c back with a
  await link(b, a, BY_PERSON); // b back by hand: the pair unlinked before is linked again
  await link(b, a); // a duplicate link of a linked pair
  await link(f, d); // f is not seen yet: the link is kept, nothing merges
  await record(cast.f);
  await link(e, d); // e joins d
  await link(d, a); // d's child (d and e) joins a's, founded earlier: a merged child merged again
  await record(buildEnrolmentRecorded({ subject: cast.e.subject })); // an event of a record of a merged child
  await unlink(d, [a, b, c, e]); // d leaves: e, linked only to d, stands alone again; a, b, c stay
  await record(cast.g, cast.h);
  const proposalId = randomUUID();
  const decision = { proposalId, subject: h, candidate: g, score: 12.5, by: BY_PERSON, at: AT };
  await identity(h, 'identity.match.proposed', {
    ...decision,
    threshold: 10,
    evidence: [{ field: 'date-of-birth', outcome: 'agree', weight: 4 }],
    by: BY_LINKER,
  });
  await identity(h, 'identity.match.confirmed', { ...decision, reason: 'same child' });
  await identity(g, 'identity.conflict.flagged', {
    conflictId: randomUUID(),
    subject: g,
    others: [a],
    rule: 'contradicting-identifiers',
    shared: [],
    conflicts: [],
    by: BY_LINKER,
    at: AT,
  });
  await unlink('health-never-seen', []); // a record the projection has never seen
  await link('health-never-seen', 'education-never-seen-either');
  // Not valid contracts: an agency event and an identity event (both skipped, and listed).
  await store.append('health-broken-1', [
    { eventId: randomUUID(), type: 'health.immunisation.given', data: { not: 'a contract' } },
  ]);
  await identity(a, 'identity.subject.linked', { subject: a });
  // A record seen again after everything, and a record linked and unlinked within a few events.
  await record(buildReferralReceived({ subject: cast.c.subject }));
  await link(e, g);
  await unlink(e, [g, h]);
});

afterAll(async () => {
  await store?.close();
  await storeDatabase?.drop();
});

/** Every read-model table as sorted JSON rows (the skipped events' wall-clock time left out). */
async function dump(pool: Pool): Promise<Record<string, string[]>> {
  const tables: Record<string, string[]> = {};
  for (const table of READ_MODEL_TABLES) {
    const result = await pool.query<{ row: string }>(
      `SELECT (to_jsonb(t) - 'skipped_at')::text AS row FROM ${table} t ORDER BY 1`,
    );
    tables[table] = result.rows.map((row) => row.row);
  }
  return tables;
}

/** `inThread`: every batch is prepared in the worker thread; otherwise none is (they are all small). */
async function projectWithBatchesOf(batchSize: number, inThread = false): Promise<Record<string, string[]>> {
  const database = await createTestDatabase('tl_bulk_model');
  const pool = createPool(database.url);
  const projector = new TimelineProjector({
    pool,
    store,
    name: 'bulk-apply',
    batchSize,
    retryBackoffMs: 50,
    prepareThreadMinEvents: inThread ? 1 : undefined,
  });
  try {
    await migrateTimeline(pool);
    await projector.start();
    await projector.waitForPosition(await store.headPosition(), 60_000);
    expect((await projector.status()).lastError).toBeUndefined();
    return await dump(pool);
  } finally {
    await projector.stop();
    await pool.end();
    await database.drop();
  }
}

describe('a batch applied in bulk', () => {
  it('gives the same read models as the events applied one at a time, whatever the batch size', async () => {
    const oneAtATime = await projectWithBatchesOf(1);
    const parse = (rows: string[]) => rows.map((row) => JSON.parse(row) as Record<string, unknown>);
    const childOf = (streamId: string) =>
      parse(oneAtATime.subject_records).find((row) => row.stream_id === streamId)?.child_key;

    // The script did what it says (so that the comparison below compares something).
    const { a, b, c, d, e, f, g, h } = ids;
    expect([a, b, c].map(childOf)).toEqual(Array(3).fill(childKeyOf(a)));
    expect(childOf(d)).toBe(childKeyOf(d));
    expect(childOf(e)).toBe(childKeyOf(e));
    expect(childOf(f)).toBe(childKeyOf(f));
    expect(childOf(h)).toBe(childKeyOf(g));
    const children = parse(oneAtATime.children);
    expect(children.find((row) => row.child_key === childKeyOf(d))).toMatchObject({ merged_into: null });
    expect(children.find((row) => row.child_key === childKeyOf(e))).toMatchObject({ merged_into: null });
    expect(children.find((row) => row.child_key === childKeyOf(b))).toMatchObject({
      merged_into: childKeyOf(a),
    });
    expect(parse(oneAtATime.identity_links).map((row) => [row.subject_a, row.subject_b].sort())).toEqual(
      // d's unlink took its links with it, the one to f (linked before f was seen) too.
      expect.arrayContaining([[a, b].sort(), [a, c].sort(), [g, h].sort()]),
    );
    expect(oneAtATime.identity_links).toHaveLength(4); // and the pair never seen
    expect(oneAtATime.projection_skipped_events).toHaveLength(2);
    expect(parse(oneAtATime.subject_records).find((row) => row.stream_id === a)).toMatchObject({
      date_of_birth: '2016-04-03',
    });
    expect(
      parse(oneAtATime.subject_identifiers).filter((row) => row.stream_id === b && row.kind === 'former-upn'),
    ).toHaveLength(1);

    expect(await projectWithBatchesOf(7)).toEqual(oneAtATime);
    expect(await projectWithBatchesOf(500)).toEqual(oneAtATime);
  });

  it('gives the same read models when the batches are read in the worker thread', async () => {
    const threadCalls = jest.spyOn(WorkerFunction.prototype, 'call');
    try {
      const oneAtATime = await projectWithBatchesOf(1);
      expect(threadCalls).not.toHaveBeenCalled(); // batches of one are prepared on the event loop
      expect(await projectWithBatchesOf(7, true)).toEqual(oneAtATime);
      const batchesOfSeven = threadCalls.mock.calls.length;
      expect(batchesOfSeven).toBeGreaterThan(3);
      expect(await projectWithBatchesOf(500, true)).toEqual(oneAtATime);
      expect(threadCalls.mock.calls.length).toBe(batchesOfSeven + 1);
    } finally {
      threadCalls.mockRestore();
    }
  }, 60_000);

  it("keeps the runner's prepare thread through a rebuild and ends it at stop", async () => {
    const oneAtATime = await projectWithBatchesOf(1);
    const starts = jest.spyOn(WorkerFunction.prototype, 'start');
    const closes = jest.spyOn(WorkerFunction.prototype, 'close');
    const database = await createTestDatabase('tl_bulk_model');
    const pool = createPool(database.url);
    const projector = new TimelineProjector({ pool, store, name: 'bulk-apply', prepareThreadMinEvents: 1 });
    try {
      await migrateTimeline(pool);
      await projector.start();
      expect(starts).toHaveBeenCalledTimes(1); // loading beside the first reads
      const head = await store.headPosition();
      await projector.waitForPosition(head, 60_000);
      await projector.rebuild();
      await projector.waitForPosition(head, 60_000);
      expect(closes).not.toHaveBeenCalled();
      expect(await dump(pool)).toEqual(oneAtATime);
      await projector.stop();
      expect(closes).toHaveBeenCalledTimes(1);
    } finally {
      starts.mockRestore();
      closes.mockRestore();
      await projector.stop();
      await pool.end();
      await database.drop();
    }
  }, 60_000);
});

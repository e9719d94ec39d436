import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import { identityStreamOf } from '@throughline/identity';
import { createPool } from '@throughline/platform';
import {
  buildAttendanceSummarised,
  buildEnrolmentRecorded,
  buildEvent,
  buildImmunisationGiven,
  buildOutcomeObservationRecorded,
  buildReferralReceived,
  createTestDatabase,
  freshNhsNumber,
  freshUpn,
  recordAsTheRecorderWould,
  type TestDatabase,
} from '@throughline/testing';
import { AnalysisProjector, migrateAnalysis, Pseudonymiser } from '@throughline/analysis';
import { recomputeChildren } from './apply-batch';

/**
 * The analysis model applies a batch with set-based writes (decision 020): the model it leaves
 * must be the one the same events give applied one at a time. A scripted history of merges,
 * splits, merges of merged children, links to records not seen yet, duplicates and invalid
 * events is projected with batches of 1, 2, 3, 7 and 500 (all of it in one) and the tables compared;
 * and each child must be what recomputing it from its records gives (a batch carries the
 * characteristics its events gave to a child whose records did not change, decision 032).
 */

const KEY = 'analysis-bulk-key-0123456789';
const pseudonymiser = new Pseudonymiser(KEY);
const BY_LINKER = { type: 'linker' } as const;
const BY_PERSON = { type: 'user', userId: 'ig-0001' } as const;
const AT = '2024-06-01T10:00:00Z';
const BORN = '2016-04-02';
const EDUCATION = { agency: 'education', system: 'demo-school-mis' } as const;

let storeDatabase: TestDatabase;
let store: PostgresEventStore;
const streamOf = (event: AgencyEvent) => `${event.source.agency}-${event.subject.recordId}`;
const record = (...events: AgencyEvent[]): Promise<bigint> => recordAsTheRecorderWould(store, ...events);

async function identity(subject: string, type: string, data: Record<string, unknown>): Promise<void> {
  await store.append(identityStreamOf(subject), [{ eventId: randomUUID(), type, data }]);
}

const link = (subject: string, linkedTo: string) =>
  identity(subject, 'identity.subject.linked', {
    subject,
    linkedTo,
    method: 'manual',
    reason: 'checked',
    by: BY_PERSON,
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

let ids: Record<'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h', string>;
let subjectOfA: AgencyEvent['subject'];

beforeAll(async () => {
  storeDatabase = await createTestDatabase('tl_analysis_bulk_store');
  store = await PostgresEventStore.create({ connectionString: storeDatabase.url, idlePollMs: 50 });
  const subject = () => ({ nhsNumber: freshNhsNumber(), dateOfBirth: BORN, sex: '2' as const });
  const cast = {
    a: buildImmunisationGiven({ subject: { ...subject(), postcode: 'ZZ99 3AB' } }),
    b: buildEnrolmentRecorded({ subject: { upn: freshUpn(), dateOfBirth: BORN } }),
    c: buildReferralReceived({ subject: { ...subject(), laChildId: undefined, laCode: undefined } }),
    d: buildImmunisationGiven({ subject: subject() }),
    e: buildEnrolmentRecorded({ subject: { upn: freshUpn(), dateOfBirth: '2015-01-09' } }),
    f: buildReferralReceived({ subject: { ...subject(), laChildId: undefined, laCode: undefined } }),
    g: buildImmunisationGiven({ subject: subject() }),
    h: buildEnrolmentRecorded({ subject: { upn: freshUpn(), dateOfBirth: BORN } }),
  };
  subjectOfA = cast.a.subject;
  ids = Object.fromEntries(
    Object.entries(cast).map(([name, event]) => [name, streamOf(event)]),
  ) as typeof ids;
  const { a, b, c, d, e, f, g, h } = ids;
  await record(cast.a, cast.b, cast.c, cast.d, cast.e);
  await link(b, a);
  await link(c, b);
  await record(
    buildAttendanceSummarised({ subject: cast.b.subject }),
    buildEvent('social-care.child-characteristics.recorded', {
      source: { organisation: '926' },
      subject: cast.c.subject,
      data: { asAt: '2024-03-31', ethnicity: 'MWBC' },
    }),
  );
  await unlink(b, [a, c]);
  await link(c, a);
  await link(b, a);
  await link(b, a); // a duplicate
  await link(f, d); // f not seen yet
  await record(cast.f);
  await link(e, d);
  await link(d, a); // a merged child merged again
  await record(buildEnrolmentRecorded({ subject: cast.e.subject }));
  // Rated observations of records that are merged and split after (their ratings move with them).
  await record(
    buildOutcomeObservationRecorded({ source: EDUCATION, subject: cast.e.subject }),
    buildOutcomeObservationRecorded({
      source: EDUCATION,
      subject: cast.b.subject,
      data: { perspective: 'child', rating: { scale: 'five-point', value: 4, min: 1, max: 5 } },
    }),
  );
  await unlink(d, [a, b, c, e]);
  await record(cast.g, cast.h);
  const proposalId = randomUUID();
  await identity(h, 'identity.match.confirmed', {
    proposalId,
    subject: h,
    candidate: g,
    score: 12.5,
    reason: 'same child',
    by: BY_PERSON,
    at: AT,
  });
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
  await unlink('health-never-seen', []);
  await link('health-never-seen', 'education-never-seen-either');
  await store.append('health-broken-1', [
    { eventId: randomUUID(), type: 'health.immunisation.given', data: { not: 'a contract' } },
  ]);
  // Appended with the recorder's lineage, but with a day no calendar has where the model writes a
  // date column: validated and skipped by itself, not refused by the database with its batch
  // (decision 034), whatever the batch size.
  await record(
    buildReferralReceived({
      subject: { ...subject(), laChildId: undefined, laCode: undefined },
      data: { referralDate: '2024-02-30' },
    }),
  );
  await identity(a, 'identity.subject.linked', { subject: a });
  await record(buildReferralReceived({ subject: cast.c.subject }));
  // a, b and c are one child from here on, regrouped by nothing after. An SEN status is the latest
  // by the day it held from: the child is recomputed from its records.
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  await record(
    buildEnrolmentRecorded({ subject: cast.b.subject, data: { senProvision: 'K', entryDate: yesterday } }),
  );
  // Then its postcode district and sex are those its records gave last: carried, not recomputed
  // (the last two in one batch of 2, 3 or 7: the later of them is the one that counts).
  await record(buildReferralReceived({ subject: { ...cast.c.subject, postcode: 'ZY1 2CD' } }));
  await record(
    buildReferralReceived({ subject: { ...cast.c.subject, postcode: 'ZY1 2CD', sex: '1' } }),
    buildImmunisationGiven({ subject: { ...cast.a.subject, postcode: 'ZZ7 1AB' } }),
  );
  await link(e, g);
  await unlink(e, [g, h]);
});

afterAll(async () => {
  await store?.close();
  await storeDatabase?.drop();
});

const TABLES = [
  'analysis_records',
  'analysis_links',
  'analysis_children',
  'analysis_facts',
  'analysis_ratings',
  'analysis_skipped_events',
];

async function dump(pool: Pool): Promise<Record<string, string[]>> {
  const tables: Record<string, string[]> = {};
  for (const table of TABLES) {
    const result = await pool.query<{ row: string }>(
      `SELECT to_jsonb(t)::text AS row FROM ${table} t ORDER BY 1`,
    );
    tables[table] = result.rows.map((row) => row.row);
  }
  return tables;
}

/** The children recomputed from their records, in a transaction rolled back after. */
async function recomputedChildren(pool: Pool): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const children = await client.query<{ pseudonym: string }>(
      'SELECT DISTINCT pseudonym FROM analysis_records',
    );
    await recomputeChildren(
      client,
      children.rows.map((row) => row.pseudonym),
    );
    const rows = await client.query<{ row: string }>(
      'SELECT to_jsonb(t)::text AS row FROM analysis_children t ORDER BY 1',
    );
    return rows.rows.map((row) => row.row);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

async function modelWithBatchesOf(batchSize: number): Promise<Record<string, string[]>> {
  const database = await createTestDatabase('tl_analysis_bulk_model');
  const pool = createPool(database.url);
  const projector = new AnalysisProjector({ pool, store, pseudonymKey: KEY, batchSize, retryBackoffMs: 50 });
  try {
    await migrateAnalysis(pool);
    await projector.start();
    await projector.waitForPosition(await store.headPosition(), 60_000);
    expect((await projector.status()).lastError).toBeUndefined();
    const model = await dump(pool);
    expect(await recomputedChildren(pool)).toEqual(model.analysis_children);
    return model;
  } finally {
    await projector.stop();
    await pool.end();
    await database.drop();
  }
}

describe('an analysis batch applied in bulk', () => {
  it('gives the same model as the events applied one at a time, whatever the batch size', async () => {
    const oneAtATime = await modelWithBatchesOf(1);
    const rows = (table: string) =>
      oneAtATime[table].map((row) => JSON.parse(row) as Record<string, unknown>);
    const pseudonymOf = (streamId: string) =>
      rows('analysis_records').find((row) => row.record_ref === pseudonymiser.recordRef(streamId))?.pseudonym;
    const { a, b, c, d, e, f, g, h } = ids;
    expect([a, b, c].map(pseudonymOf)).toEqual(Array(3).fill(pseudonymiser.pseudonymOf(a)));
    expect([d, e, f, g].map(pseudonymOf)).toEqual([d, e, f, g].map((id) => pseudonymiser.pseudonymOf(id)));
    expect(pseudonymOf(h)).toBe(pseudonymiser.pseudonymOf(g));
    // Facts follow their records; children are the pseudonyms left.
    for (const fact of rows('analysis_facts'))
      expect(fact.pseudonym).toBe(
        rows('analysis_records').find((r) => r.record_ref === fact.record_ref)?.pseudonym,
      );
    // Each child's number is the position its founding record was first seen at, one per child.
    const numberOf = (pseudonym: unknown) =>
      rows('analysis_children').find((row) => row.pseudonym === pseudonym)?.child_number;
    for (const child of rows('analysis_children'))
      expect(child.child_number).toBe(
        rows('analysis_records').find((r) => r.own_pseudonym === child.pseudonym)?.first_seen_position,
      );
    expect(new Set(rows('analysis_children').map((row) => row.child_number)).size).toBe(
      rows('analysis_children').length,
    );
    // Ratings follow their facts to their child's number, on 0–100 by their scale.
    const byPosition = (x: Record<string, unknown>, y: Record<string, unknown>) =>
      Number(x.position) - Number(y.position);
    const onHundred = (value: number) => Math.round(value * 1e9) / 1e9;
    const ratings = rows('analysis_ratings').sort(byPosition);
    expect(ratings.map((row) => [row.position, row.child_number, onHundred(Number(row.value))])).toEqual(
      rows('analysis_facts')
        .filter((fact) => fact.event_type === 'outcome.observation.recorded')
        .sort(byPosition)
        .map((fact) => [
          fact.position,
          numberOf(fact.pseudonym),
          onHundred(
            ((Number(fact.rating) - Number(fact.scale_min)) /
              (Number(fact.scale_max) - Number(fact.scale_min))) *
              100,
          ),
        ]),
    );
    expect(ratings.map((row) => onHundred(Number(row.value)))).toEqual([onHundred((6 / 9) * 100), 75]);
    expect(
      rows('analysis_children')
        .map((row) => row.pseudonym)
        .sort(),
    ).toEqual([a, d, e, f, g].map((id) => pseudonymiser.pseudonymOf(id)).sort());
    expect(
      rows('analysis_children').find((row) => row.pseudonym === pseudonymiser.pseudonymOf(a)),
    ).toMatchObject({
      ethnicity_group: expect.any(String),
      postcode_district: 'ZZ7',
      sex: 'female',
      sen_status: 'sen-support',
    });
    expect(oneAtATime.analysis_links).toHaveLength(4);
    expect(rows('analysis_skipped_events').map((row) => [row.type, row.rules])).toEqual([
      ['health.immunisation.given', expect.any(Array)],
      ['identity.subject.linked', ['identity-event']],
      ['social-care.referral.received', [expect.stringMatching(/^data\.referralDate /)]],
    ]);

    for (const size of [2, 3, 7]) expect(await modelWithBatchesOf(size)).toEqual(oneAtATime);
    expect(await modelWithBatchesOf(500)).toEqual(oneAtATime);
  });

  it('recomputes a child whose row is missing when its records next give characteristics', async () => {
    const database = await createTestDatabase('tl_analysis_bulk_missing');
    const pool = createPool(database.url);
    const projector = new AnalysisProjector({ pool, store, pseudonymKey: KEY, retryBackoffMs: 50 });
    const childRow = async (pseudonym: string) =>
      (
        await pool.query<{ row: string }>(
          'SELECT to_jsonb(t)::text AS row FROM analysis_children t WHERE pseudonym = $1',
          [pseudonym],
        )
      ).rows.map((row) => row.row);
    try {
      await migrateAnalysis(pool);
      await projector.start();
      await projector.waitForPosition(await store.headPosition(), 60_000);
      const child = pseudonymiser.pseudonymOf(ids.a);
      const before = await childRow(child);
      expect(before).toHaveLength(1);
      await pool.query('DELETE FROM analysis_children WHERE pseudonym = $1', [child]);
      // A's child is not regrouped by this event: it would only be carried, but has no row to carry to.
      await record(buildImmunisationGiven({ subject: subjectOfA }));
      await projector.waitForPosition(await store.headPosition(), 60_000);
      expect((await projector.status()).lastError).toBeUndefined();
      // Back, with what a gave last (ZZ99 3AB), as a recompute from the records gives it.
      const after = await childRow(child);
      expect(after).toHaveLength(1);
      expect(JSON.parse(after[0])).toEqual({
        ...JSON.parse(before[0]),
        postcode_district: 'ZZ99',
      });
      expect(await recomputedChildren(pool)).toEqual((await dump(pool)).analysis_children);
    } finally {
      await projector.stop();
      await pool.end();
      await database.drop();
    }
  });
});

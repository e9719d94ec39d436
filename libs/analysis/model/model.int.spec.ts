import type { Pool } from 'pg';
import type { AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import { IdentityLinker, identityStreamOf, migrateIdentity } from '@throughline/identity';
import { createPool } from '@throughline/platform';
import {
  buildAttendanceSummarised,
  buildEvent,
  buildImmunisationGiven,
  buildOutcomeObservationRecorded,
  buildReferralReceived,
  createTestDatabase,
  freshNhsNumber,
  freshRecordId,
  freshUpn,
  recordAsTheRecorderWould,
  type TestDatabase,
} from '@throughline/testing';
import { childKeyOf } from '@throughline/timeline';
import { AnalysisProjector, migrateAnalysis, Pseudonymiser } from '@throughline/analysis';

const KEY = 'analysis-int-key-0123456789';
const BORN = '2015-03-14';
const pseudonymiser = new Pseudonymiser(KEY);

let database: TestDatabase;
let store: PostgresEventStore;
let pool: Pool;
let linker: IdentityLinker;
let projector: AnalysisProjector;

beforeAll(async () => {
  database = await createTestDatabase('tl_analysis_model');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  pool = createPool(database.url);
  await migrateIdentity(pool);
  await migrateAnalysis(pool);
  linker = new IdentityLinker({ pool, store });
  await linker.start();
  projector = new AnalysisProjector({ pool, store, pseudonymKey: KEY, batchSize: 7 });
  await projector.start();
});

afterAll(async () => {
  await projector?.stop();
  await linker?.stop();
  await store?.close();
  await pool?.end();
  await database?.drop();
});

const record = (...events: AgencyEvent[]): Promise<bigint> => recordAsTheRecorderWould(store, ...events);

/** Until the linker adds nothing more and the analysis model has applied everything. */
async function settle(): Promise<void> {
  for (let head = await store.headPosition(); ;) {
    await linker.waitForPosition(head);
    await projector.waitForPosition(head);
    const now = await store.headPosition();
    if (now === head) return;
    head = now;
  }
}

const streamOf = (event: AgencyEvent) => `${event.source.agency}-${event.subject.recordId}`;

async function pseudonymsOf(...events: AgencyEvent[]): Promise<string[]> {
  const result = await pool.query<{ pseudonym: string }>(
    'SELECT pseudonym FROM analysis_records WHERE record_ref = ANY($1::text[]) ORDER BY first_seen_position',
    [events.map((event) => pseudonymiser.recordRef(streamOf(event)))],
  );
  return result.rows.map((row) => row.pseudonym);
}

function childOfThreeAgencies() {
  const nhsNumber = freshNhsNumber();
  const upn = freshUpn();
  const health = buildImmunisationGiven({
    subject: { recordId: freshRecordId('chs'), nhsNumber, dateOfBirth: BORN, postcode: 'ZZ99 3AB', sex: '2' },
    data: { vaccine: 'MMR', dose: 1, givenDate: '2016-04-02' },
  });
  const socialCare = buildReferralReceived({
    source: { organisation: '926' },
    subject: {
      recordId: freshRecordId('case'),
      nhsNumber,
      upn,
      laChildId: undefined,
      laCode: undefined,
      dateOfBirth: BORN,
      name: { given: 'Synthetica', family: 'Testperson' },
    },
    data: {
      referralDate: '2023-05-10',
      referralSource: '2A',
      noFurtherAction: false,
      narrative: 'Synthetic narrative: school worried about bruising.',
    },
  });
  const education = buildAttendanceSummarised({
    subject: { recordId: freshRecordId('pupil'), upn, dateOfBirth: BORN },
    data: {
      academicYear: '2023/24',
      term: 'autumn',
      sessionsPossible: 120,
      authorisedAbsence: 6,
      unauthorisedAbsence: 4,
    },
  });
  const characteristics = buildEvent('social-care.child-characteristics.recorded', {
    source: { organisation: '926' },
    subject: socialCare.subject,
    data: { asAt: '2024-03-31', ethnicity: 'MWBC' },
  });
  const observation = buildOutcomeObservationRecorded({
    source: { agency: 'education', system: 'demo-school-mis' },
    subject: education.subject,
    data: {
      perspective: 'child',
      observedOn: '2024-01-15',
      narrative: 'Synthetic: I like my new class.',
      rating: { scale: 'ten-point', value: 7, min: 1, max: 10 },
    },
  });
  return { nhsNumber, upn, health, socialCare, education, characteristics, observation };
}

async function contentOfModel(): Promise<unknown> {
  const children = await pool.query('SELECT * FROM analysis_children ORDER BY pseudonym');
  const facts = await pool.query(
    'SELECT position, pseudonym, event_type, on_day::text, code, rating::float FROM analysis_facts ORDER BY position',
  );
  const records = await pool.query('SELECT record_ref, pseudonym FROM analysis_records ORDER BY record_ref');
  return { children: children.rows, facts: facts.rows, records: records.rows };
}

describe('the analysis model', () => {
  it("holds one pseudonym for a child's records of three agencies, with characteristics cut", async () => {
    const child = childOfThreeAgencies();
    await record(child.health, child.socialCare, child.education, child.characteristics, child.observation);
    await settle();
    const pseudonyms = await pseudonymsOf(child.health, child.socialCare, child.education);
    expect(new Set(pseudonyms).size).toBe(1);
    // The founder's (health's) pseudonym, under the analysis key: neither its child key nor unkeyed.
    expect(pseudonyms[0]).toBe(pseudonymiser.pseudonymOf(streamOf(child.health)));
    expect(pseudonyms[0]).not.toBe(childKeyOf(streamOf(child.health)));
    expect(pseudonyms[0]).not.toBe(new Pseudonymiser('another-key').pseudonymOf(streamOf(child.health)));
    const children = await pool.query('SELECT * FROM analysis_children WHERE pseudonym = $1', [
      pseudonyms[0],
    ]);
    expect(children.rows).toEqual([
      {
        pseudonym: pseudonyms[0],
        birth_month: expect.any(Date),
        sex: 'female',
        ethnicity_group: 'mixed',
        sen_status: null,
        local_authority: '926',
        postcode_district: 'ZZ99',
        agencies: ['education', 'health', 'social-care'],
        // The position the founding (health) record was first seen at (migration 007).
        child_number: String((await store.readStream(streamOf(child.health)))[0].position),
      },
    ]);
    const facts = await pool.query(
      `SELECT event_type, on_day::text, code, age_months, sessions_possible, sessions_missed, rating::float
       FROM analysis_facts WHERE pseudonym = $1 ORDER BY position`,
      [pseudonyms[0]],
    );
    expect(facts.rows).toEqual([
      expect.objectContaining({
        event_type: 'health.immunisation.given',
        on_day: '2016-04-01',
        age_months: 12,
      }),
      // The referral keeps its day: the measures count days from it.
      expect.objectContaining({ event_type: 'social-care.referral.received', on_day: '2023-05-10' }),
      expect.objectContaining({
        event_type: 'education.attendance.summarised',
        on_day: '2023-09-01',
        sessions_possible: 120,
        sessions_missed: 10,
      }),
      expect.objectContaining({
        event_type: 'social-care.child-characteristics.recorded',
        on_day: '2024-03-01',
      }),
      expect.objectContaining({ event_type: 'outcome.observation.recorded', code: 'child', rating: 7 }),
    ]);
  });

  it('splits a child when a record is unlinked, each part under its founder’s pseudonym', async () => {
    const child = childOfThreeAgencies();
    await record(child.health, child.socialCare, child.education);
    await settle();
    const [merged] = await pseudonymsOf(child.health);
    expect(new Set(await pseudonymsOf(child.health, child.socialCare, child.education))).toEqual(
      new Set([merged]),
    );

    // Social care is the bridge (NHS number and UPN): unlinking it leaves three children.
    const subject = streamOf(child.socialCare);
    await store.append(
      identityStreamOf(subject),
      [
        {
          eventId: crypto.randomUUID(),
          type: 'identity.subject.unlinked',
          data: {
            subject,
            formerChildKey: childKeyOf(streamOf(child.health)),
            formerMembers: [streamOf(child.health), streamOf(child.education)],
            reason: 'synthetic: wrong child',
            by: { type: 'user', userId: 'ig-0001' },
            at: new Date().toISOString(),
          },
        },
      ],
      'any',
    );
    await settle();
    const after = await pseudonymsOf(child.health, child.socialCare, child.education);
    expect(after).toEqual([
      pseudonymiser.pseudonymOf(streamOf(child.health)),
      pseudonymiser.pseudonymOf(streamOf(child.socialCare)),
      pseudonymiser.pseudonymOf(streamOf(child.education)),
    ]);
    const facts = await pool.query<{ pseudonym: string; event_type: string }>(
      'SELECT pseudonym, event_type FROM analysis_facts WHERE pseudonym = ANY($1::text[]) ORDER BY position',
      [after],
    );
    expect(facts.rows.map((row) => [after.indexOf(row.pseudonym), row.event_type])).toEqual([
      [0, 'health.immunisation.given'],
      [1, 'social-care.referral.received'],
      [2, 'education.attendance.summarised'],
    ]);
    const children = await pool.query(
      'SELECT pseudonym FROM analysis_children WHERE pseudonym = ANY($1::text[])',
      [after],
    );
    expect(children.rows).toHaveLength(3);
  });

  it('is rebuilt from the store to the same content and pseudonyms', async () => {
    await settle();
    const before = await contentOfModel();
    await projector.stop();
    await projector.rebuild();
    await settle();
    expect(await contentOfModel()).toEqual(before);
  });

  it('holds no identifier, name, narrative, record id, child key or full postcode in any text column', async () => {
    const child = childOfThreeAgencies();
    await record(child.health, child.socialCare, child.education, child.characteristics, child.observation);
    await settle();
    const forbidden = [
      child.nhsNumber,
      child.upn,
      child.health.subject.recordId,
      child.socialCare.subject.recordId,
      child.education.subject.recordId,
      streamOf(child.health),
      childKeyOf(streamOf(child.health)),
      'Synthetica',
      'Testperson',
      'ZZ99 3AB',
      'ZZ993AB',
      'bruising',
      'new class',
    ];
    const columns = await pool.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name LIKE 'analysis\\_%'
         AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'ARRAY')`,
    );
    expect(columns.rows.length).toBeGreaterThan(10);
    for (const { table_name: table, column_name: column } of columns.rows) {
      for (const value of forbidden) {
        const hits = await pool.query(`SELECT 1 FROM ${table} WHERE ${column}::text ILIKE $1 LIMIT 1`, [
          `%${value}%`,
        ]);
        expect({ table, column, value, hits: hits.rowCount }).toEqual({ table, column, value, hits: 0 });
      }
    }
    // Any NHS number or UPN at all, not only this child's.
    for (const { table_name: table, column_name: column } of columns.rows) {
      const shaped = await pool.query(
        `SELECT 1 FROM ${table} WHERE ${column}::text ~ '(^|[^0-9a-f])[0-9]{10}([^0-9a-f]|$)' OR ${column}::text ~ '[A-Z][0-9]{11}[A-Z0-9]' LIMIT 1`,
      );
      expect({ table, column, hits: shaped.rowCount }).toEqual({ table, column, hits: 0 });
    }
  });
});

import type { Pool } from 'pg';
import type { AgencyEvent } from '@throughline/contracts';
import { RECORDED_BY } from '@throughline/recording';
import { PostgresEventStore } from '@throughline/event-store';
import { IdentityLinker, migrateIdentity } from '@throughline/identity';
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
  freshRecordId,
  freshUpn,
  recordAsTheRecorderWould,
  recordedAppend,
  waitFor,
  type TestDatabase,
  allSeeingRequester,
} from '@throughline/testing';
import {
  READ_MODEL_TABLES,
  TimelineProjector,
  TimelineQueries,
  childKeyOf,
  migrateTimeline,
} from '@throughline/timeline';

const PROJECTION = 'timeline-int';
const BORN = '2015-03-01';
const ACCESS = allSeeingRequester();

let database: TestDatabase;
let store: PostgresEventStore;
let pool: Pool;
let queries: TimelineQueries;
let linker: IdentityLinker;
const running: TimelineProjector[] = [];

beforeAll(async () => {
  database = await createTestDatabase('tl_timeline');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  pool = createPool(database.url);
  await migrateTimeline(pool);
  await migrateIdentity(pool);
  queries = new TimelineQueries(pool);
  // Links are identity events now (docs/decisions/005): the linker runs beside the projector throughout.
  linker = new IdentityLinker({ pool, store });
  await linker.start();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((projector) => projector.stop()));
});

afterAll(async () => {
  await linker?.stop();
  await store?.close();
  await pool?.end();
  await database?.drop();
});

async function startProjector(options: { retryBackoffMs?: number } = {}): Promise<TimelineProjector> {
  const projector = new TimelineProjector({ pool, store, name: PROJECTION, batchSize: 100, ...options });
  running.push(projector);
  await projector.start();
  return projector;
}

const record = (...events: AgencyEvent[]): Promise<bigint> => recordAsTheRecorderWould(store, ...events);

/** The linker has linked everything stored, and the projector has applied that and the links. */
async function settle(projector: TimelineProjector): Promise<void> {
  await linker.waitForPosition(await store.headPosition());
  await projector.waitForPosition(await store.headPosition());
}

async function rows(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  return (await pool.query(sql, params)).rows;
}

function threeAgencies(nhsNumber = freshNhsNumber(), upn = freshUpn()) {
  const health = freshRecordId('chs');
  const education = freshRecordId('pupil');
  const socialCare = freshRecordId('case');
  return {
    nhsNumber,
    upn,
    streams: {
      health: `health-${health}`,
      education: `education-${education}`,
      socialCare: `social-care-${socialCare}`,
    },
    immunisation: buildImmunisationGiven({
      occurredAt: '2024-03-05T09:00:00Z',
      subject: { recordId: health, nhsNumber, dateOfBirth: BORN },
      data: { vaccine: 'MMR', dose: 2, givenDate: '2024-03-05' },
    }),
    referral: buildReferralReceived({
      occurredAt: '2024-02-01T14:30:00+00:00',
      subject: { recordId: socialCare, nhsNumber, upn, dateOfBirth: BORN },
      data: { referralDate: '2024-02-01', referralSource: '2A', primaryNeed: 'N1', noFurtherAction: false },
    }),
    attendance: buildAttendanceSummarised({
      occurredAt: '2024-03-05T09:00:00Z',
      subject: { recordId: education, upn, dateOfBirth: BORN },
      data: {
        academicYear: '2023/24',
        term: 'autumn',
        sessionsPossible: 114,
        authorisedAbsence: 6,
        unauthorisedAbsence: 4,
      },
    }),
    observation: buildOutcomeObservationRecorded({
      occurredAt: '2024-01-15T10:00:00Z',
      source: { agency: 'education', system: 'demo-school-mis' },
      subject: { recordId: education, nhsNumber: undefined, upn, dateOfBirth: BORN },
      data: {
        framework: 'ecm',
        domain: 'enjoy-and-achieve',
        perspective: 'professional',
        observerRole: 'class teacher',
        observedOn: '2024-01-15',
        narrative: 'Synthetic: settling well, reading with help.',
        rating: { scale: 'ten-point', value: 6, min: 1, max: 10 },
        confidence: 'medium',
      },
    }),
  };
}

describe('timeline projection on PostgreSQL', () => {
  it("links three agencies' records of one child by NHS number and UPN, with a chronology in time order", async () => {
    const projector = await startProjector();
    const child = threeAgencies();
    // Health first (founds the child), social care bridges NHS number and UPN, education joins by UPN.
    await record(child.immunisation, child.referral, child.attendance, child.observation);
    await settle(projector);

    const expectedKey = childKeyOf(child.streams.health);
    expect(await queries.lookupChild({ type: 'nhs-number', value: child.nhsNumber }, ACCESS)).toEqual({
      childKey: expectedKey,
    });
    expect(await queries.lookupChild({ type: 'upn', value: child.upn }, ACCESS)).toEqual({
      childKey: expectedKey,
    });

    const timeline = await queries.timelineOf(expectedKey, ACCESS);
    expect(timeline.subjects.map((s) => [s.streamId, s.linkedBy])).toEqual([
      [child.streams.health, 'first-record'],
      [child.streams.socialCare, 'shared-nhs-number'],
      [child.streams.education, 'shared-upn'],
    ]);
    expect(timeline.links.find((link) => link.streamId === child.streams.education)).toMatchObject({
      linkedTo: child.streams.socialCare,
      method: 'shared-upn',
      evidence: { shared: [{ kind: 'upn', value: child.upn }] },
      by: { type: 'linker' },
    });
    expect(timeline.linkHistory.map((entry) => [entry.type, entry.method])).toEqual([
      ['identity.subject.linked', 'shared-nhs-number'],
      ['identity.subject.linked', 'shared-upn'],
    ]);
    expect(timeline.entries.map((entry) => entry.summary)).toEqual([
      'Outcome observation (ecm / enjoy-and-achieve) from the professional perspective, by class teacher: rated 6 on ten-point (1–10); confidence medium',
      'Referral received from SCHOOLS — primary need: Abuse or neglect',
      'Immunisation given: Measles, mumps and rubella, dose 2',
      'Attendance autumn 2023/24: 91.2% (104 attended, 6 authorised, 4 unauthorised of 114 sessions)',
    ]);
    const [observation, referral, , attendance] = timeline.entries;
    expect(observation).toMatchObject({
      kind: 'observation',
      narrative: 'Synthetic: settling well, reading with help.',
      perspective: 'professional',
      confidence: 'medium',
      indicators: [{ name: 'ten-point', value: 6 }],
      outcomeDomain: { framework: 'ecm', domain: 'enjoy-and-achieve', label: 'Enjoy and achieve' },
    });
    expect(referral.outcomeDomain).toEqual({ framework: 'ecm', domain: 'stay-safe', label: 'Stay safe' });
    expect(attendance).toMatchObject({
      kind: 'fact',
      indicators: [
        { name: 'attendance', value: 91.2, unit: '%', period: { academicYear: '2023/24', term: 'autumn' } },
      ],
    });
    expect(attendance.lineage).toEqual({
      eventId: child.attendance.eventId,
      topic: 'education.events.v1',
      partition: 0,
      offset: expect.stringMatching(/^\d+$/),
      storePosition: attendance.position,
      publisher: 'demo-school-mis',
      sourceSystem: 'demo-school-mis',
      // Stored as the school sent it (v1), projected from its upcast to v2.
      storedSchemaVersion: 1,
      schemaVersion: 2,
    });
    expect(
      (await store.readAll({ after: BigInt(attendance.position) - 1n, maxCount: 1 }))[0].metadata,
    ).toMatchObject({
      recordedBy: RECORDED_BY,
    });
  });

  it('merges two children when a late event shows them to be one, keeping the child founded first', async () => {
    const projector = await startProjector();
    const child = threeAgencies();
    // Education (UPN only) and health (NHS number only) cannot be linked: two children.
    await record(child.attendance, child.immunisation);
    await settle(projector);
    const educationKey = childKeyOf(child.streams.education);
    const healthKey = childKeyOf(child.streams.health);
    expect(await queries.lookupChild({ type: 'upn', value: child.upn }, ACCESS)).toEqual({
      childKey: educationKey,
    });
    expect(await queries.lookupChild({ type: 'nhs-number', value: child.nhsNumber }, ACCESS)).toEqual({
      childKey: healthKey,
    });

    // Social care holds both identifiers: the health child merges into the education child.
    await record(child.referral);
    await settle(projector);
    expect(await queries.lookupChild({ type: 'nhs-number', value: child.nhsNumber }, ACCESS)).toEqual({
      childKey: educationKey,
    });
    const timeline = await queries.timelineOf(healthKey, ACCESS);
    expect(timeline.childKey).toBe(educationKey);
    // Every record founds a child until a link joins it (the social care record too, now).
    expect(timeline.mergedChildKeys).toEqual([healthKey, childKeyOf(child.streams.socialCare)]);
    // Attendance and immunisation share their occurredAt: store position breaks the tie.
    expect(timeline.entries.map((entry) => entry.type)).toEqual([
      'social-care.referral.received',
      'education.attendance.summarised',
      'health.immunisation.given',
    ]);
    expect(timeline.subjects.map((s) => [s.streamId, s.linkedBy])).toEqual([
      [child.streams.education, 'first-record'],
      [child.streams.health, 'shared-nhs-number'],
      [child.streams.socialCare, 'shared-upn'],
    ]);
    expect(timeline.links).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          streamId: child.streams.socialCare,
          linkedTo: child.streams.education,
          method: 'shared-upn',
          evidence: { shared: [{ kind: 'upn', value: child.upn }] },
        }),
        expect.objectContaining({
          streamId: child.streams.socialCare,
          linkedTo: child.streams.health,
          method: 'shared-nhs-number',
          evidence: { shared: [{ kind: 'nhs-number', value: child.nhsNumber }] },
        }),
      ]),
    );
    expect(timeline.links).toHaveLength(2);
  });

  it('merges when a known record later reports the identifier that links it', async () => {
    const projector = await startProjector();
    const child = threeAgencies();
    await record(child.immunisation, child.attendance);
    const enrolment = buildEnrolmentRecorded({
      occurredAt: '2024-04-01T08:00:00Z',
      subject: {
        recordId: child.streams.education.replace(/^education-/, ''),
        upn: child.upn,
        nhsNumber: child.nhsNumber,
        dateOfBirth: BORN,
      },
    });
    await record(enrolment);
    await settle(projector);
    const timeline = await queries.timelineOf(childKeyOf(child.streams.education), ACCESS);
    expect(timeline.childKey).toBe(childKeyOf(child.streams.health));
    expect(timeline.entries).toHaveLength(3);
  });

  it('keeps on each record the latest date of birth and expected date of birth its events gave', async () => {
    const recordId = freshRecordId('case');
    const streamId = `social-care-${recordId}`;
    const unborn = { recordId, laChildId: 'C900001', laCode: '926', dateOfBirth: undefined };
    const projector = await startProjector();
    await record(
      buildEvent('social-care.contact.received', {
        occurredAt: '2024-01-10T09:00:00Z',
        subject: { ...unborn, expectedDateOfBirth: '2024-05-20' },
        data: { contactDate: '2024-01-10' },
      }),
      buildEvent('social-care.referral.received', {
        occurredAt: '2024-02-10T09:00:00Z',
        subject: { ...unborn, expectedDateOfBirth: '2024-05-27' },
        data: { referralDate: '2024-02-10' },
      }),
    );
    await settle(projector);
    const datesOf = async () =>
      (
        await rows(
          `SELECT to_char(date_of_birth, 'YYYY-MM-DD') AS born, to_char(expected_date_of_birth, 'YYYY-MM-DD') AS expected
           FROM subject_records WHERE stream_id = $1`,
          [streamId],
        )
      )[0];
    expect(await datesOf()).toEqual({ born: null, expected: '2024-05-27' });

    // Born: a later batch gives the date of birth; the expected date stays as the record gave it.
    await record(
      buildEvent('social-care.assessment.completed', {
        occurredAt: '2024-06-10T09:00:00Z',
        subject: { ...unborn, dateOfBirth: '2024-05-25' },
        data: { startDate: '2024-05-30', authorisationDate: '2024-06-10' },
      }),
    );
    await settle(projector);
    expect(await datesOf()).toEqual({ born: '2024-05-25', expected: '2024-05-27' });

    // A corrected date of birth wins; an event giving none changes nothing.
    await record(
      buildEvent('social-care.cin-plan.started', {
        occurredAt: '2024-07-01T09:00:00Z',
        subject: { ...unborn, dateOfBirth: '2024-05-24' },
        data: { startDate: '2024-07-01' },
      }),
      buildEvent('practice.views.differ', {
        occurredAt: '2024-07-02T09:00:00Z',
        subject: { ...unborn, dateOfBirth: undefined },
        data: { recordedOn: '2024-07-02' },
      }),
    );
    await settle(projector);
    expect(await datesOf()).toEqual({ born: '2024-05-24', expected: '2024-05-27' });
  });

  it('stores every detail a practitioner needs in the entry (regression: issue 13)', async () => {
    const child = threeAgencies();
    const correlationId = '6f1c2f0e-7a57-4b8e-9d0c-1b2a3c4d5e6f';
    const decision = buildEvent('practice.decision.recorded', {
      occurredAt: '2024-03-01T09:00:00Z',
      correlationId,
      subject: { recordId: child.streams.socialCare.slice('social-care-'.length), dateOfBirth: BORN },
      data: {
        decidedOn: '2024-03-01',
        reviewDate: '2024-05-01',
        forum: 'strategy discussion',
        uncertainty: 'Synthetic: the explanation has not been checked with the GP.',
      },
    });
    const voice = buildEvent('practice.voice-of-child.recorded', {
      occurredAt: '2024-03-02T09:00:00Z',
      causationId: decision.eventId,
      correlationId,
      subject: {
        recordId: child.streams.education.slice('education-'.length),
        upn: child.upn,
        dateOfBirth: BORN,
      },
      data: { capturedOn: '2024-03-02', interpretation: 'Synthetic: relaxed when talking about Nan.' },
    });
    const projector = await startProjector();
    await record(decision, voice);
    await settle(projector);
    const details = async (eventId: string) =>
      (await rows('SELECT details FROM timeline_entries WHERE event_id = $1', [eventId]))[0].details;
    expect(await details(decision.eventId)).toMatchObject({
      observerAgency: 'social-care',
      correlationId,
      decision: {
        uncertainty: 'Synthetic: the explanation has not been checked with the GP.',
        options: decision.data.optionsConsidered,
        forum: 'strategy discussion',
        team: 'Assessment team 2',
        expectedOutcomes: decision.data.expectedOutcomes,
        reviewDate: '2024-05-01',
      },
    });
    expect(await details(voice.eventId)).toMatchObject({
      narrative: voice.data.whatTheChildSaid,
      observerAgency: 'education',
      correlationId,
      causationId: decision.eventId,
      voice: {
        context: voice.data.context,
        interpretation: 'Synthetic: relaxed when talking about Nan.',
        childAgreedToShare: true,
      },
    });
  });

  it('resumes from its checkpoint after a restart without doubling entries', async () => {
    const first = await startProjector();
    const child = threeAgencies();
    await first.waitForPosition(await record(child.immunisation, child.referral));
    await first.stop();

    await record(child.attendance, child.observation);
    const second = await startProjector();
    await settle(second);

    const [{ entries, events }] = await rows(
      `SELECT (SELECT count(*)::int FROM timeline_entries) AS entries,
              (SELECT count(DISTINCT event_id)::int FROM timeline_entries) AS events`,
    );
    const stored = await store.readAll({ maxCount: 100000 });
    expect(entries).toBe(stored.filter((event) => !event.type.startsWith('identity.')).length);
    expect(events).toBe(entries);
    expect((await queries.timelineOf(childKeyOf(child.streams.health), ACCESS)).entries).toHaveLength(4);
    const status = await second.status();
    expect(status).toMatchObject({ projection: PROJECTION, lag: 0, running: true });
    expect(status.checkpoint).toBe(status.head);
  });

  it('keeps nothing of a batch that fails part-way, and redoes it once the fault is gone', async () => {
    const child = threeAgencies();
    // A real database fault on the batch's last write (the entries insert), after its identity rows.
    await pool.query(`
      CREATE FUNCTION fail_poisoned_entry() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.event_id = '${child.attendance.eventId}' THEN RAISE EXCEPTION 'injected fault'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER fail_poisoned_entry BEFORE INSERT ON timeline_entries
        FOR EACH ROW EXECUTE FUNCTION fail_poisoned_entry();`);
    try {
      const before = BigInt(
        (await rows('SELECT position FROM projection_checkpoints WHERE name = $1', [PROJECTION]))[0]
          .position as string,
      );
      // One transaction, so the projector sees all three in one batch.
      const [, , attendance] = await store.appendMany([
        recordedAppend(child.immunisation),
        recordedAppend(child.referral),
        recordedAppend(child.attendance),
      ]);
      const projector = await startProjector({ retryBackoffMs: 20 });
      await waitFor(async () => (await projector.status()).lastError?.includes('injected fault') === true, {
        message: 'the injected fault',
      });
      expect(
        await rows('SELECT 1 FROM subject_records WHERE stream_id = ANY($1)', [Object.values(child.streams)]),
      ).toEqual([]);
      expect(
        await rows('SELECT 1 FROM timeline_entries WHERE event_id = $1', [child.immunisation.eventId]),
      ).toEqual([]);
      expect((await projector.status()).checkpoint).toBe(Number(before));

      await pool.query('DROP TRIGGER fail_poisoned_entry ON timeline_entries');
      await projector.waitForPosition(attendance.positions[0]);
      await settle(projector);
      expect((await queries.timelineOf(childKeyOf(child.streams.health), ACCESS)).entries).toHaveLength(3);
      expect((await projector.status()).lastError).toBeUndefined();
    } finally {
      await pool.query(
        'DROP TRIGGER IF EXISTS fail_poisoned_entry ON timeline_entries; DROP FUNCTION IF EXISTS fail_poisoned_entry()',
      );
    }
  });

  it('skips and counts a stored event that is not a valid contract, and goes on', async () => {
    const projector = await startProjector();
    const skippedBefore = (await projector.status()).skippedEvents;
    const child = threeAgencies();
    const broken = { ...child.immunisation, data: { ...child.immunisation.data, dose: 9 } } as AgencyEvent;
    // Appended by another writer than the recorder (no lineage of its): validated as it is read.
    await store.appendMany([
      {
        streamId: child.streams.health,
        events: [{ eventId: broken.eventId, type: broken.type, data: broken }],
      },
    ]);
    await projector.waitForPosition(await record(child.referral));
    expect((await projector.status()).skippedEvents).toBe(skippedBefore + 1);
    expect(
      await rows('SELECT type, issues FROM projection_skipped_events WHERE event_id = $1', [broken.eventId]),
    ).toEqual([
      {
        type: 'health.immunisation.given',
        issues: [expect.objectContaining({ path: 'data.dose', rule: 'max' })],
      },
    ]);
    expect((await queries.timelineOf(childKeyOf(child.streams.socialCare), ACCESS)).entries).toHaveLength(1);
  });

  it('takes what the recorder appended as validated at intake, and shows it as recorded (decision 034)', async () => {
    const projector = await startProjector();
    const skippedBefore = (await projector.status()).skippedEvents;
    const child = threeAgencies();
    // With the recorder's lineage, a sixth dose (refused by the contract when read) is taken as written.
    const sixth = { ...child.immunisation, data: { ...child.immunisation.data, dose: 9 } } as AgencyEvent;
    // A 30 February would be refused by the database (occurred_at): the envelope's check finds
    // it, the event is validated, and skipped at the field, whatever batch it falls in.
    const impossible = {
      ...buildImmunisationGiven({ subject: child.immunisation.subject }),
      occurredAt: '2024-02-30T10:00:00Z',
    } as AgencyEvent;
    await record(sixth, impossible);
    await projector.waitForPosition(await record(child.referral));
    const status = await projector.status();
    expect(status.skippedEvents).toBe(skippedBefore + 1);
    expect(status.lastError).toBeUndefined();
    expect(
      await rows('SELECT type, issues FROM projection_skipped_events WHERE event_id = $1', [
        impossible.eventId,
      ]),
    ).toEqual([
      { type: 'health.immunisation.given', issues: [expect.objectContaining({ path: 'occurredAt' })] },
    ]);
    const health = await queries.timelineOf(childKeyOf(child.streams.health), ACCESS);
    expect(health.entries.find((entry) => entry.lineage.eventId === sixth.eventId)?.summary).toBe(
      'Immunisation given: Measles, mumps and rubella, dose 9',
    );
    expect(health.entries.map((entry) => entry.lineage.eventId)).not.toContain(impossible.eventId);
  });

  it('finds decisions and their reviews across children by an index of their own (reviews due)', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // A test table is tiny, so the planner would scan it; refusing scans shows the index serves the predicate.
      await client.query('SET LOCAL enable_seqscan = off');
      const plan = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT event_id FROM timeline_entries WHERE type = 'practice.decision.recorded'`,
      );
      expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toContain(
        'timeline_entries_practice_decisions',
      );
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('answers a child read again exactly as a first read would: entries since, a record linked since, a late report in order', async () => {
    const projector = await startProjector();
    const child = threeAgencies();
    const uncached = new TimelineQueries(pool, undefined, undefined, { entryCache: 0 });
    const key = childKeyOf(child.streams.socialCare);
    const readBoth = async () => {
      const [held, fresh] = [await queries.timelineOf(key, ACCESS), await uncached.timelineOf(key, ACCESS)];
      expect(held).toEqual(fresh);
      return held.entries.map((entry) => entry.type);
    };
    await record(child.referral);
    await settle(projector);
    expect(await readBoth()).toEqual(['social-care.referral.received']);
    // The health record links by NHS number; the attendance (education) by UPN.
    await record(child.immunisation, child.attendance);
    await settle(projector);
    expect(await readBoth()).toEqual([
      'social-care.referral.received',
      'health.immunisation.given',
      'education.attendance.summarised',
    ]);
    // Reported late: a higher position that occurred before everything read so far.
    await record(child.observation);
    await settle(projector);
    expect(await readBoth()).toEqual([
      'outcome.observation.recorded',
      'social-care.referral.received',
      'health.immunisation.given',
      'education.attendance.summarised',
    ]);
  });

  it('rebuilds identical child keys, links and entries from the store', async () => {
    const projector = await startProjector();
    await settle(projector);
    const snapshot = async () => {
      const tables: Record<string, Record<string, unknown>[]> = {};
      for (const table of READ_MODEL_TABLES) {
        const columns =
          table === 'projection_skipped_events' ? 'projection, position, event_id, issues' : '*';
        tables[table] = await rows(`SELECT ${columns} FROM ${table} ORDER BY 1, 2, 3`);
      }
      return tables;
    };
    const before = await snapshot();
    expect(before.children.length).toBeGreaterThan(3);
    expect(before.children.some((row) => row.merged_into !== null)).toBe(true);

    await projector.rebuild();
    await projector.waitForPosition(await store.headPosition());
    expect(await snapshot()).toEqual(before);
  });
});

import type { Pool } from 'pg';
import type { AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import {
  IdentityLinker,
  IdentityReview,
  identityStreamOf,
  migrateIdentity,
  resetIdentityLinker,
  type Reviewer,
} from '@throughline/identity';
import { createPool } from '@throughline/platform';
import {
  buildAttendanceSummarised,
  buildEnrolmentRecorded,
  buildImmunisationGiven,
  buildReferralReceived,
  createTestDatabase,
  freshNhsNumber,
  freshRecordId,
  freshUpn,
  recordAsTheRecorderWould,
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

const BORN = '2015-03-01';
const ACCESS = allSeeingRequester();
const REVIEWER: Reviewer = { userId: 'ig-0001', role: 'identity reviewer', purpose: 'identity-review' };

let database: TestDatabase;
let store: PostgresEventStore;
let pool: Pool;
let queries: TimelineQueries;
let review: IdentityReview;
let linker: IdentityLinker;
let projector: TimelineProjector;

beforeAll(async () => {
  database = await createTestDatabase('tl_identity_links');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  pool = createPool(database.url);
  await migrateTimeline(pool);
  await migrateIdentity(pool);
  queries = new TimelineQueries(pool);
  review = new IdentityReview(pool, store, queries);
  linker = new IdentityLinker({ pool, store, batchSize: 50 });
  projector = new TimelineProjector({ pool, store, name: 'identity-links-int', batchSize: 50 });
  await linker.start();
  await projector.start();
});

afterAll(async () => {
  await linker?.stop();
  await projector?.stop();
  await store?.close();
  await pool?.end();
  await database?.drop();
});

const record = (...events: AgencyEvent[]): Promise<bigint> => recordAsTheRecorderWould(store, ...events);

/** The linker has linked everything stored, and the projector has applied that and the links. */
async function settle(): Promise<void> {
  await linker.waitForPosition(await store.headPosition());
  await projector.waitForPosition(await store.headPosition());
}

async function childOf(streamId: string): Promise<string> {
  const found = await queries.childOfRecord(streamId);
  if (!found) throw new Error(`no record ${streamId}`);
  return found.childKey;
}

async function identityEventsOf(streamId: string) {
  return (await store.readStream(identityStreamOf(streamId))).map((event) => ({
    type: event.type,
    data: event.data as Record<string, unknown>,
  }));
}

const streamOf = (event: AgencyEvent) => `${event.source.agency}-${event.subject.recordId}`;

/** Two records of one synthetic child with no shared identifier but the same demographics. */
function lookalikes(given: string, dateOfBirth: string, postcode: string) {
  const demographics = { name: { given, family: 'Testperson' }, sex: '2' as const, postcode, dateOfBirth };
  return {
    health: buildImmunisationGiven({
      occurredAt: '2024-03-05T09:00:00Z',
      subject: { recordId: freshRecordId('chs'), nhsNumber: freshNhsNumber(), ...demographics },
      data: { vaccine: 'MMR', dose: 2, givenDate: '2024-03-05' },
    }),
    education: buildEnrolmentRecorded({
      occurredAt: '2024-09-04T08:00:00Z',
      subject: { recordId: freshRecordId('pupil'), upn: freshUpn(), ...demographics },
    }),
  };
}

describe('identity links as events', () => {
  it('links records across agencies that share a valid identifier, as a linked event by the linker', async () => {
    const nhsNumber = freshNhsNumber();
    const health = buildImmunisationGiven({ subject: { nhsNumber, dateOfBirth: BORN } });
    const socialCare = buildReferralReceived({
      subject: { nhsNumber, dateOfBirth: BORN, laChildId: undefined, laCode: undefined },
    });
    await record(health, socialCare);
    await settle();

    expect(await identityEventsOf(streamOf(socialCare))).toEqual([
      {
        type: 'identity.subject.linked',
        data: expect.objectContaining({
          subject: streamOf(socialCare),
          linkedTo: streamOf(health),
          method: 'shared-nhs-number',
          shared: [{ kind: 'nhs-number', value: nhsNumber }],
          by: { type: 'linker' },
        }),
      },
    ]);
    expect(await childOf(streamOf(socialCare))).toBe(childKeyOf(streamOf(health)));
  });

  it('flags two records with the same UPN but different NHS numbers, and never merges them', async () => {
    const upn = freshUpn();
    const socialCare = buildReferralReceived({
      subject: {
        nhsNumber: freshNhsNumber(),
        upn,
        dateOfBirth: BORN,
        laChildId: undefined,
        laCode: undefined,
      },
    });
    const education = buildEnrolmentRecorded({
      subject: { upn, nhsNumber: freshNhsNumber(), dateOfBirth: BORN },
    });
    await record(socialCare, education);
    await settle();

    expect(await childOf(streamOf(education))).not.toBe(await childOf(streamOf(socialCare)));
    const { conflicts } = await review.conflicts(REVIEWER);
    expect(conflicts.filter((conflict) => conflict.subject === streamOf(education))).toEqual([
      expect.objectContaining({
        others: [streamOf(socialCare)],
        rule: 'contradicting-identifiers',
        shared: [{ kind: 'upn', value: upn, with: streamOf(socialCare) }],
        conflicts: [
          expect.objectContaining({
            kind: 'nhs-number',
            between: [streamOf(education), streamOf(socialCare)],
          }),
        ],
      }),
    ]);
    // Another event of the same record does not flag it again.
    await record(buildAttendanceSummarised({ subject: education.subject }));
    await settle();
    const again = await review.conflicts(REVIEWER);
    expect(again.conflicts.filter((conflict) => conflict.subject === streamOf(education))).toHaveLength(1);
  });

  it('proposes a probable match for review; confirming it merges the two timelines without a rebuild', async () => {
    const child = lookalikes('Amelia', '2016-07-14', 'ZZ99 3AB');
    await record(child.health, child.education);
    await settle();
    expect(await childOf(streamOf(child.education))).not.toBe(await childOf(streamOf(child.health)));

    const { proposals } = await review.proposals({ status: 'open' }, REVIEWER);
    const proposal = proposals.find((p) => p.subject === streamOf(child.education));
    expect(proposal).toMatchObject({ candidate: streamOf(child.health), status: 'open' });
    expect(proposal?.score).toBeGreaterThanOrEqual(proposal?.threshold ?? Infinity);
    expect(proposal?.evidence).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'date-of-birth', outcome: 'agree' }),
        expect.objectContaining({ field: 'given-name', outcome: 'agree' }),
      ]),
    );

    const projectedBefore = projector.committedPosition();
    await review.confirm(
      proposal?.proposalId as string,
      { reason: 'same child: checked with the school' },
      REVIEWER,
    );
    await settle();
    const healthKey = childKeyOf(streamOf(child.health));
    expect(await childOf(streamOf(child.education))).toBe(healthKey);
    // The projector went on from where it was: no replay.
    expect(projector.committedPosition()).toBeGreaterThan(projectedBefore);

    const timeline = await queries.timelineOf(healthKey, ACCESS);
    expect(timeline.entries).toHaveLength(2);
    expect(timeline.subjects.map((s) => [s.streamId, s.linkedBy])).toEqual([
      [streamOf(child.health), 'first-record'],
      [streamOf(child.education), 'confirmed-match'],
    ]);
    expect(timeline.linkHistory.map((entry) => [entry.type, entry.by])).toEqual([
      ['identity.match.proposed', { type: 'linker' }],
      ['identity.match.confirmed', { type: 'user', userId: 'ig-0001', role: 'identity reviewer' }],
    ]);
    expect(timeline.linkHistory[1].reason).toBe('same child: checked with the school');
    const after = await review.proposals({ status: 'confirmed' }, REVIEWER);
    expect(after.proposals.map((p) => p.proposalId)).toContain(proposal?.proposalId);

    // A second decision on the same proposal is refused.
    await expect(
      review.reject(proposal?.proposalId as string, { reason: 'late' }, REVIEWER),
    ).rejects.toMatchObject({
      code: 'ILLEGAL_STATE',
    });
  });

  it('keeps rejected look-alikes apart, and does not propose them again', async () => {
    const child = lookalikes('Beatrix', '2017-02-21', 'ZZ98 1CD');
    await record(child.health, child.education);
    await settle();
    const { proposals } = await review.proposals({ status: 'open' }, REVIEWER);
    const proposal = proposals.find((p) => p.subject === streamOf(child.education));
    if (!proposal) throw new Error('no proposal');
    await review.reject(proposal.proposalId, { reason: 'twins: different children' }, REVIEWER);
    await record(
      buildAttendanceSummarised({ subject: { ...child.education.subject, postcode: 'ZZ98 2CD' } }),
    );
    await settle();

    expect(await childOf(streamOf(child.education))).not.toBe(await childOf(streamOf(child.health)));
    const all = await review.proposals({}, REVIEWER);
    expect(all.proposals.filter((p) => p.subject === streamOf(child.education))).toEqual([
      expect.objectContaining({ status: 'rejected', reason: 'twins: different children' }),
    ]);
  });

  it('lets only one of two people deciding the same proposal at once succeed (409 for the other)', async () => {
    const child = lookalikes('Clementine', '2018-05-09', 'ZZ97 7GH');
    await record(child.health, child.education);
    await settle();
    const { proposals } = await review.proposals({ status: 'open' }, REVIEWER);
    const proposal = proposals.find((p) => p.subject === streamOf(child.education));
    if (!proposal) throw new Error('no proposal');
    const other: Reviewer = { userId: 'ig-0002', purpose: 'identity-review' };
    const outcomes = await Promise.allSettled([
      review.confirm(proposal.proposalId, {}, REVIEWER),
      review.reject(proposal.proposalId, { reason: 'not the same child' }, other),
    ]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const [refused] = outcomes.filter((outcome) => outcome.status === 'rejected');
    // CONCURRENCY when both read the proposal before either appended, ILLEGAL_STATE otherwise: 409 both.
    expect((refused as PromiseRejectedResult).reason).toMatchObject({ httpStatus: 409 });
    expect(await store.readStream(`identitymatch-${proposal.proposalId}`)).toHaveLength(2);
  });

  it('splits a timeline on unlink, and it stays split when the same identifiers come again', async () => {
    const nhsNumber = freshNhsNumber();
    const health = buildImmunisationGiven({ subject: { nhsNumber, dateOfBirth: BORN } });
    const socialCare = buildReferralReceived({
      subject: { nhsNumber, dateOfBirth: BORN, laChildId: undefined, laCode: undefined },
    });
    await record(health, socialCare);
    await settle();
    const healthKey = childKeyOf(streamOf(health));
    expect(await childOf(streamOf(socialCare))).toBe(healthKey);

    await review.unlink(
      {
        agency: 'social-care',
        recordId: socialCare.subject.recordId,
        reason: 'wrong child: NHS number keyed in error',
      },
      REVIEWER,
    );
    await settle();
    const socialCareKey = childKeyOf(streamOf(socialCare));
    expect(await childOf(streamOf(socialCare))).toBe(socialCareKey);
    expect((await queries.timelineOf(healthKey, ACCESS)).entries).toHaveLength(1);
    const split = await queries.timelineOf(socialCareKey, ACCESS);
    expect(split.entries).toHaveLength(1);
    expect(split.mergedChildKeys).toEqual([]);
    expect(split.linkHistory.map((entry) => entry.type)).toEqual([
      'identity.subject.linked',
      'identity.subject.unlinked',
    ]);
    expect(split.linkHistory[1]).toMatchObject({
      reason: 'wrong child: NHS number keyed in error',
      by: { type: 'user', userId: 'ig-0001' },
    });

    // The same identifiers again, from both records and from a third: still apart.
    await record(
      buildReferralReceived({ subject: socialCare.subject }),
      buildImmunisationGiven({ subject: health.subject }),
    );
    const third = buildEnrolmentRecorded({ subject: { nhsNumber, dateOfBirth: BORN } });
    await record(third);
    await settle();
    expect(await childOf(streamOf(socialCare))).toBe(socialCareKey);
    expect(await childOf(streamOf(health))).toBe(healthKey);
    expect(await childOf(streamOf(third))).toBe(childKeyOf(streamOf(third)));
    const { conflicts } = await review.conflicts(REVIEWER);
    expect(conflicts.find((conflict) => conflict.subject === streamOf(third))).toMatchObject({
      rule: 'bridges-separated-records',
    });

    // A person can still link it back by hand.
    await review.link(
      {
        agency: 'social-care',
        recordId: socialCare.subject.recordId,
        childKey: healthKey,
        reason: 'checked again',
      },
      REVIEWER,
    );
    await settle();
    expect(await childOf(streamOf(socialCare))).toBe(healthKey);
    const relinked = await queries.timelineOf(healthKey, ACCESS);
    expect(relinked.links.find((link) => link.streamId === streamOf(socialCare))).toMatchObject({
      method: 'manual',
      evidence: { childKey: healthKey, reason: 'checked again' },
    });
  });

  it('keeps a record linked when its temporary UPN is replaced by a permanent one', async () => {
    const temporaryUpn = freshUpn();
    const permanentUpn = freshUpn();
    const pupil = freshRecordId('pupil');
    const socialCare = buildReferralReceived({
      subject: { upn: temporaryUpn, dateOfBirth: BORN, laChildId: undefined, laCode: undefined },
    });
    const firstEnrolment = buildEnrolmentRecorded({
      occurredAt: '2024-01-10T08:00:00Z',
      subject: { recordId: pupil, upn: temporaryUpn, dateOfBirth: BORN },
    });
    await record(socialCare, firstEnrolment);
    await settle();
    const key = childKeyOf(streamOf(socialCare));
    expect(await childOf(streamOf(firstEnrolment))).toBe(key);

    const later = buildAttendanceSummarised({
      occurredAt: '2024-07-10T08:00:00Z',
      subject: { recordId: pupil, upn: permanentUpn, formerUpn: temporaryUpn, dateOfBirth: BORN },
    });
    // A health record that only knows the permanent UPN joins through the pupil.
    const health = buildImmunisationGiven({
      subject: { upn: permanentUpn, nhsNumber: undefined, dateOfBirth: BORN },
    });
    await record(later, health);
    await settle();
    expect(await childOf(streamOf(later))).toBe(key);
    expect(await childOf(streamOf(health))).toBe(key);
    expect((await review.conflicts(REVIEWER)).conflicts.map((c) => c.subject)).not.toContain(streamOf(later));
  });

  it('appends nothing twice when the linker fails after its append, before its checkpoint commits', async () => {
    await pool.query(`
      CREATE TABLE linker_fault (armed boolean NOT NULL);
      INSERT INTO linker_fault VALUES (true);
      CREATE FUNCTION fail_linker_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.position <> OLD.position AND EXISTS (SELECT 1 FROM linker_fault WHERE armed) THEN
          RAISE EXCEPTION 'injected linker fault';
        END IF;
        RETURN NEW;
      END $$;
      -- At the commit, after the batch's append: the checkpoint moves in the batch's first statement.
      CREATE CONSTRAINT TRIGGER fail_linker_checkpoint AFTER UPDATE ON identity_linker_checkpoints
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_linker_checkpoint();`);
    try {
      const nhsNumber = freshNhsNumber();
      const health = buildImmunisationGiven({ subject: { nhsNumber, dateOfBirth: BORN } });
      const education = buildEnrolmentRecorded({ subject: { nhsNumber, dateOfBirth: BORN } });
      const educationAt = await record(health, education);
      // The append goes through; the state and checkpoint do not, and the linker retries.
      await waitFor(async () => (await identityEventsOf(streamOf(education))).length > 0, {
        message: "the linker's append",
      });
      await waitFor(
        async () => (await linker.status()).lastError?.includes('injected linker fault') === true,
        {
          message: 'the injected linker fault',
        },
      );
      expect(BigInt((await linker.status()).checkpoint)).toBeLessThan(educationAt);
      await pool.query('UPDATE linker_fault SET armed = false');
      await settle();
      expect((await identityEventsOf(streamOf(education))).map((event) => event.type)).toEqual([
        'identity.subject.linked',
      ]);
      expect(await childOf(streamOf(education))).toBe(childKeyOf(streamOf(health)));
    } finally {
      await pool.query(`DROP TRIGGER IF EXISTS fail_linker_checkpoint ON identity_linker_checkpoints;
        DROP FUNCTION IF EXISTS fail_linker_checkpoint(); DROP TABLE IF EXISTS linker_fault;`);
    }
  });

  it('rebuilds the same children from the store, and a linker replayed from zero appends nothing', async () => {
    await settle();
    const snapshot = async () => {
      const tables: Record<string, unknown[]> = {};
      for (const table of READ_MODEL_TABLES) {
        if (table === 'projection_skipped_events') continue;
        tables[table] = (await pool.query(`SELECT * FROM ${table} ORDER BY 1, 2, 3`)).rows;
      }
      return tables;
    };
    const before = await snapshot();
    expect(before.identity_links.length).toBeGreaterThan(3);
    await projector.rebuild();
    await settle();
    expect(await snapshot()).toEqual(before);

    const linkerState = async () => ({
      proposals: (await pool.query('SELECT * FROM identity_proposals ORDER BY proposal_id')).rows,
      conflicts: (await pool.query('SELECT * FROM identity_conflicts ORDER BY conflict_id')).rows,
      pairs: (await pool.query('SELECT * FROM identity_pairs ORDER BY 1, 2')).rows,
    });
    const stateBefore = await linkerState();
    const head = await store.headPosition();
    await linker.stop();
    await resetIdentityLinker(pool);
    const replay = new IdentityLinker({ pool, store, batchSize: 7 });
    await replay.start();
    try {
      await replay.waitForPosition(head);
      expect(await store.headPosition()).toBe(head);
      expect(await linkerState()).toEqual(stateBefore);
    } finally {
      await replay.stop();
      await linker.start();
    }
  });
});

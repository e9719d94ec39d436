import { randomBytes, randomUUID } from 'node:crypto';
import { logLevel } from 'kafkajs';
import { createKafka, createPool, topicNames } from '@throughline/platform';
import {
  buildAssessmentCompleted,
  buildEmergencyCareAttended,
  buildEnrolmentRecorded,
  buildAttendanceSummarised,
  buildImmunisationGiven,
  buildOutcomeObservationRecorded,
  buildReferralReceived,
  freshNhsNumber,
  freshUpn,
  waitFor,
} from '@throughline/testing';
import {
  DEV_KEYS,
  PRACTITIONER,
  getJson,
  postJson,
  startSystem,
  type DeadLetterList,
  type RunningSystem,
  type TimelineView,
} from './harness';

/**
 * One synthetic child seen by all three agencies, posted over HTTP through the agency
 * services, carried by Kafka, recorded, projected and read back as one chronology.
 */
describe('the backbone, end to end', () => {
  let system: RunningSystem;
  const run = randomBytes(3).toString('hex');
  const dateOfBirth = '2016-03-10';
  const nhsNumber = freshNhsNumber();
  const upn = freshUpn();
  const healthRecord = `CHS-${run}`;
  const educationRecord = `MIS-100001-${run}`;
  const socialCareRecord = `LA926-${run}`;
  const healthSubject = { recordId: healthRecord, nhsNumber, dateOfBirth };
  const educationSubject = { recordId: educationRecord, upn, dateOfBirth };
  const socialCareSubject = {
    recordId: socialCareRecord,
    laChildId: `C${run}`,
    laCode: '926',
    nhsNumber,
    upn,
    dateOfBirth,
  };

  const immunisation = buildImmunisationGiven({
    occurredAt: '2019-07-15T10:00:00Z',
    subject: healthSubject,
    data: { vaccine: 'MMR', dose: 2, givenDate: '2019-07-15', batchNumber: 'SYN-77' },
  });
  const emergency = buildEmergencyCareAttended({
    occurredAt: '2023-11-02T19:30:00Z',
    subject: healthSubject,
    data: {
      arrivedAt: '2023-11-02T19:30:00Z',
      chiefComplaint: 'Burn to forearm',
      injury: true,
      discharge: 'home',
      cpisFlagSeen: false,
      safeguardingConcern: true,
    },
  });
  const enrolment = buildEnrolmentRecorded({
    occurredAt: '2020-09-03T09:00:00Z',
    subject: educationSubject,
    data: { schoolUrn: '100001', entryDate: '2020-09-03', yearGroup: 'R', senProvision: 'N' },
  });
  const attendance = buildAttendanceSummarised({
    occurredAt: '2023-12-20T16:00:00Z',
    subject: educationSubject,
    data: {
      schoolUrn: '100001',
      academicYear: '2023/24',
      term: 'autumn',
      sessionsPossible: 130,
      authorisedAbsence: 10,
      unauthorisedAbsence: 14,
    },
  });
  const teacherView = buildOutcomeObservationRecorded({
    occurredAt: '2023-12-01T12:00:00Z',
    source: { agency: 'education', system: 'demo-school-mis' },
    // The school does not hold an NHS number: drop the builder's random one, which would contradict
    // the child's and (rightly) be flagged as a conflict rather than linked.
    subject: { ...educationSubject, nhsNumber: undefined },
    data: {
      framework: 'ecm',
      domain: 'enjoy-and-achieve',
      perspective: 'professional',
      observerRole: 'class teacher',
      observedOn: '2023-12-01',
      narrative: 'Withdrawn in class since half term; reading has stalled.',
      rating: { scale: 'ten-point', value: 4, min: 1, max: 10 },
      confidence: 'medium',
    },
  });
  const referral = buildReferralReceived({
    occurredAt: '2023-11-03T11:00:00Z',
    subject: socialCareSubject,
    data: { referralDate: '2023-11-03', referralSource: '3E', primaryNeed: 'N1', noFurtherAction: false },
  });
  const assessment = buildAssessmentCompleted({
    occurredAt: '2023-12-08T15:00:00Z',
    subject: socialCareSubject,
    data: { startDate: '2023-11-06', authorisationDate: '2023-12-08', factors: ['3B', '16A'] },
  });
  const motherView = buildOutcomeObservationRecorded({
    occurredAt: '2023-12-05T10:00:00Z',
    source: { agency: 'social-care', system: 'demo-case-system' },
    subject: socialCareSubject,
    data: {
      framework: 'ecm',
      domain: 'stay-safe',
      perspective: 'family',
      observerRole: 'mother',
      observedOn: '2023-12-05',
      narrative: 'Things are calmer at home since her partner moved out.',
      rating: { scale: 'ten-point', value: 7, min: 1, max: 10 },
      confidence: 'low',
    },
  });

  const auth = (agency: keyof typeof DEV_KEYS) => ({ authorization: `Bearer ${DEV_KEYS[agency]}` });
  let childKey: string;

  beforeAll(async () => {
    system = await startSystem();
  });

  afterAll(async () => {
    await system?.stop();
  });

  it('accepts valid events, answers a duplicate the same way, and rejects bad ones with field and rule', async () => {
    const first = await postJson(`${system.urls.health}/v1/events`, immunisation, auth('health'));
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({
      accepted: 1,
      rejected: 0,
      results: [
        {
          index: 0,
          eventId: immunisation.eventId,
          status: 'accepted',
          topic: topicNames(system.config.KAFKA_TOPIC_PREFIX).agency.health,
        },
      ],
    });

    const duplicate = await postJson(`${system.urls.health}/v1/events`, immunisation, auth('health'));
    expect(duplicate.status).toBe(202);
    expect((await postJson(`${system.urls.health}/v1/events`, emergency, auth('health'))).status).toBe(202);

    const badNhsNumber = {
      ...emergency,
      eventId: randomUUID(),
      subject: { ...healthSubject, nhsNumber: '9434765918' },
    };
    const invalid = await postJson(`${system.urls.health}/v1/events`, badNhsNumber, auth('health'));
    expect(invalid.status).toBe(400);
    expect(invalid.body).toEqual({
      accepted: 0,
      rejected: 1,
      results: [
        {
          index: 0,
          eventId: badNhsNumber.eventId,
          status: 'rejected',
          issues: [
            {
              path: 'subject.nhsNumber',
              rule: 'nhs-number-check-digit',
              message: 'NHS number fails its modulus 11 check digit',
            },
          ],
        },
      ],
    });

    const foreign = await postJson(`${system.urls.health}/v1/events`, referral, auth('health'));
    expect(foreign.status).toBe(400);
    expect(foreign.body.results[0].issues).toEqual([
      {
        path: 'type',
        rule: 'publisher-agency',
        message: 'health may not publish social-care.referral.received',
      },
    ]);

    const unauthenticated = await postJson(`${system.urls.health}/v1/events`, emergency);
    expect(unauthenticated.status).toBe(401);

    const impossibleAttendance = {
      ...attendance,
      eventId: randomUUID(),
      data: { ...attendance.data, authorisedAbsence: 100, unauthorisedAbsence: 40 },
    };
    const batch = await postJson(
      `${system.urls.education}/v1/events/batch`,
      { events: [enrolment, impossibleAttendance, attendance, teacherView] },
      auth('education'),
    );
    expect(batch.status).toBe(202);
    expect(batch.body.accepted).toBe(3);
    expect(batch.body.rejected).toBe(1);
    expect(batch.body.results.map((result: { status: string }) => result.status)).toEqual([
      'accepted',
      'rejected',
      'accepted',
      'accepted',
    ]);
    expect(batch.body.results[1]).toEqual({
      index: 1,
      eventId: impossibleAttendance.eventId,
      status: 'rejected',
      issues: [
        {
          path: 'data.unauthorisedAbsence',
          rule: 'absence-within-sessions-possible',
          message: 'authorised + unauthorised absence cannot exceed sessions possible',
        },
      ],
    });

    const socialCare = await postJson(
      `${system.urls.socialCare}/v1/events/batch`,
      { events: [referral, assessment, motherView] },
      auth('social-care'),
    );
    expect(socialCare.status).toBe(202);
    expect(socialCare.body.accepted).toBe(3);
  });

  it('finds the same child by any identifier', async () => {
    const lookup = (identifier: Record<string, string>) =>
      postJson<{ childKey: string }>(
        `${system.urls.projection}/v1/children/lookup`,
        { identifier },
        PRACTITIONER,
      );
    // Linking is asynchronous (identity events, docs/decisions/005): wait until every identifier finds one child.
    await waitFor(
      async () => {
        const found = await Promise.all([
          lookup({ type: 'upn', value: upn }),
          lookup({ type: 'nhs-number', value: nhsNumber }),
          lookup({ type: 'record', agency: 'education', value: educationRecord }),
        ]);
        return found.every(
          (answer) => answer.status === 200 && answer.body.childKey === found[0].body.childKey,
        );
      },
      { message: 'the child to be projected and linked', timeoutMs: 60000 },
    );
    const byNhs = await lookup({ type: 'nhs-number', value: nhsNumber });
    const byUpn = await lookup({ type: 'upn', value: upn });
    const byRecord = await lookup({ type: 'record', agency: 'education', value: educationRecord });
    expect(byNhs.status).toBe(200);
    childKey = byNhs.body.childKey;
    expect(childKey).toMatch(/^ch_/);
    expect(byUpn.body.childKey).toBe(childKey);
    expect(byRecord.body.childKey).toBe(childKey);
  });

  it('shows one chronology across the three agencies, each entry with its lineage', async () => {
    const timelineUrl = `${system.urls.projection}/v1/children/${childKey}/timeline`;
    let timeline: TimelineView | undefined;
    await waitFor(
      async () => {
        timeline = (await getJson<TimelineView>(timelineUrl, PRACTITIONER)).body;
        return (timeline?.entries?.length ?? 0) >= 8;
      },
      { message: 'all eight entries', timeoutMs: 60000 },
    );
    const expected = [
      immunisation,
      enrolment,
      emergency,
      referral,
      teacherView,
      motherView,
      assessment,
      attendance,
    ];
    if (!timeline) throw new Error('no timeline');
    expect(timeline.entries).toHaveLength(8); // the duplicate immunisation is stored once
    expect(
      timeline.entries.map((entry) => ({
        eventId: entry.lineage.eventId,
        occurredAt: new Date(entry.occurredAt).toISOString(),
        agency: entry.agency,
        type: entry.type,
      })),
    ).toEqual(
      expected.map((event) => ({
        eventId: event.eventId,
        occurredAt: new Date(event.occurredAt).toISOString(),
        agency: event.source.agency,
        type: event.type,
      })),
    );
    expect(timeline.entries.map((entry) => entry.summary)).toEqual(SUMMARIES);

    const topics = topicNames(system.config.KAFKA_TOPIC_PREFIX).agency;
    for (const [index, entry] of timeline.entries.entries()) {
      const event = expected[index];
      expect(entry.lineage).toMatchObject({
        eventId: event.eventId,
        topic: topics[event.source.agency],
        sourceSystem: event.source.system,
      });
      expect(entry.lineage.partition).toEqual(expect.any(Number));
      expect(entry.lineage.offset).toMatch(/^\d+$/);
      expect(entry.lineage.storePosition).toBeGreaterThan(0);
    }
    // The school sent attendance as contract version 1; the store keeps it so, and the timeline
    // reads it upcast to version 2 (sessions attended, given since v2, derived for v1).
    const attendanceEntry = timeline.entries.find((entry) => entry.lineage.eventId === attendance.eventId);
    expect(attendance.schemaVersion).toBe(1);
    expect(attendanceEntry?.lineage).toMatchObject({ storedSchemaVersion: 1, schemaVersion: 2 });
    const pool = createPool(system.config.DATABASE_URL, { max: 1 });
    const stored = await pool
      .query<{ data: { schemaVersion: number; data: Record<string, unknown> } }>(
        'SELECT data FROM events WHERE event_id = $1',
        [attendance.eventId],
      )
      .finally(() => pool.end());
    expect(stored.rows[0].data.schemaVersion).toBe(1);
    expect(stored.rows[0].data.data).not.toHaveProperty('sessionsAttended');
    // Indicators sit beside the narratives and perspectives they are evidence for, and disagree here.
    const observations = timeline.entries.filter((entry) => entry.kind === 'observation');
    expect(
      observations.map((entry) => [
        entry.perspective,
        entry.indicator?.value,
        entry.confidence,
        entry.narrative,
      ]),
    ).toEqual([
      ['professional', 4, 'medium', 'Withdrawn in class since half term; reading has stalled.'],
      ['family', 7, 'low', 'Things are calmer at home since her partner moved out.'],
    ]);

    expect(timeline.subjects.map((subject) => `${subject.agency}:${subject.recordId}`).sort()).toEqual(
      [`education:${educationRecord}`, `health:${healthRecord}`, `social-care:${socialCareRecord}`].sort(),
    );

    const deadLetters = await getJson<DeadLetterList>(`${system.urls.recorder}/v1/dead-letters`);
    expect(deadLetters.body.deadLetters).toEqual([]); // rejected at the edge, nothing poisoned the topics
  });

  it('dead-letters garbage written straight onto an agency topic and keeps going', async () => {
    const topic = topicNames(system.config.KAFKA_TOPIC_PREFIX).agency.health;
    // The health service's own principal (the only one that may write this topic), as a buggy
    // or compromised agency service would: the recorder must still dead-letter what it wrote.
    const kafka = createKafka(system.config, 'health', { clientSuffix: `e2e-${run}` });
    kafka.logger().setLogLevel(logLevel.NOTHING);
    const producer = kafka.producer();
    await producer.connect();
    const garbage = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x7b, 0x00, 0x22]);
    const forged = {
      ...emergency,
      eventId: randomUUID(),
      subject: { ...healthSubject, nhsNumber: '1234567890' },
    };
    const later = buildImmunisationGiven({
      occurredAt: '2024-01-10T09:30:00Z',
      subject: healthSubject,
      data: { vaccine: 'flu-LAIV', dose: 1, givenDate: '2024-01-10' },
    });
    // Same key: one partition, so the valid event queues behind the poison messages.
    await producer.send({
      topic,
      acks: -1,
      messages: [
        { key: healthRecord, value: garbage },
        { key: healthRecord, value: JSON.stringify(forged) },
        { key: healthRecord, value: JSON.stringify(later) },
      ],
    });
    await producer.disconnect();

    let deadLetters: DeadLetterList['deadLetters'] = [];
    await waitFor(
      async () => {
        deadLetters = (await getJson<DeadLetterList>(`${system.urls.recorder}/v1/dead-letters`)).body
          .deadLetters;
        return deadLetters.length >= 2;
      },
      { message: 'two dead letters', timeoutMs: 60000 },
    );
    expect(deadLetters).toHaveLength(2);
    expect(deadLetters.map((letter) => [letter.topic, letter.key, letter.reason])).toEqual([
      [topic, healthRecord, 'unparseable'],
      [topic, healthRecord, 'contract-violation'],
    ]);
    expect(deadLetters[0].issues[0]).toMatchObject({ path: '', rule: 'json' });
    expect(deadLetters[1].issues).toEqual([
      {
        path: 'subject.nhsNumber',
        rule: 'nhs-number-check-digit',
        message: 'NHS number fails its modulus 11 check digit',
      },
    ]);
    expect(deadLetters[0].partition).toBe(deadLetters[1].partition);
    expect(BigInt(deadLetters[1].offset)).toBe(BigInt(deadLetters[0].offset) + 1n);

    await waitFor(
      async () => {
        const timeline = (
          await getJson<TimelineView>(
            `${system.urls.projection}/v1/children/${childKey}/timeline`,
            PRACTITIONER,
          )
        ).body;
        return timeline.entries.some((entry) => entry.lineage.eventId === later.eventId);
      },
      { message: 'the event behind the poison messages to reach the timeline', timeoutMs: 60000 },
    );
  });
});

const SUMMARIES = [
  'Immunisation given: Measles, mumps and rubella, dose 2',
  'Enrolled at school 100001 in reception — No special educational need',
  'Emergency care attendance: Burn to forearm — Discharged home (injury; safeguarding concern raised)',
  'Referral received from Health services: A&E (emergency department) — primary need: Abuse or neglect',
  'Outcome observation (ecm / enjoy-and-achieve) from the professional perspective, by class teacher: rated 4 on ten-point (1–10); confidence medium',
  'Outcome observation (ecm / stay-safe) from the family perspective, by mother: rated 7 on ten-point (1–10); confidence low',
  'Assessment completed, authorised 2023-12-08 — factors: Domestic abuse: concerns about the parent or carer; Neglect',
  // 130 sessions, 24 missed: 106 / 130 = 81.5%
  'Attendance autumn 2023/24: 81.5% (106 attended, 10 authorised, 14 unauthorised of 130 sessions)',
];

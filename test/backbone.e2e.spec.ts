import { randomBytes, randomUUID } from 'node:crypto';
import { logLevel } from 'kafkajs';
import { createKafka, topicNames } from '@throughline/platform';
import {
  buildAssessmentCompleted,
  buildAttendanceSummarised,
  buildChildProtectionPlanStarted,
  buildEmergencyCareAttended,
  buildEnrolmentRecorded,
  buildEvent,
  buildImmunisationGiven,
  buildOutcomeObservationRecorded,
  buildReferralReceived,
  freshNhsNumber,
  freshUpn,
  waitFor,
} from '@throughline/testing';
import {
  getJson,
  postJson,
  startSystem,
  type DeadLetterList,
  type DeadLetterPayload,
  type RunningSystem,
  type TimelineView,
} from './harness';

/**
 * One synthetic child of the Throughline Vale partnership seen by all three agencies: the
 * agencies' systems publish over HTTP with their client-credentials tokens, Kafka carries the
 * events, the recorder stores them and the projection links them into one chronology, which
 * demo people read with their own tokens and purposes. Each reader sees what the demo policy
 * shares with them (infra/access-policy.demo.json), every answer says what it withheld and why,
 * and after every guarded call the access record it wrote is read back and checked.
 */

/** Within the agency systems' scopes (infra/oidc-demo.json): their source systems and organisations. */
const CHILD_HEALTH = { agency: 'health', system: 'child-health-system', organisation: 'DEMO-CHS' } as const;
const EMERGENCY_DEPARTMENT = { agency: 'health', system: 'ed-system', organisation: 'DEMO-ED' } as const;
const MENTAL_HEALTH_TRUST = {
  agency: 'health',
  system: 'mental-health-ehr',
  organisation: 'DEMO-MHT',
} as const;
const SCHOOL = { agency: 'education', system: 'school-mis', organisation: '990201' } as const;
const LOCAL_AUTHORITY = { agency: 'social-care', system: 'case-system', organisation: '991' } as const;

const DAY_MS = 24 * 60 * 60 * 1000;
const daysAgo = (days: number): string => new Date(Date.now() - days * DAY_MS).toISOString();

describe('the backbone, end to end', () => {
  let system: RunningSystem;
  const run = randomBytes(3).toString('hex');
  const dateOfBirth = '2016-03-10';
  const nhsNumber = freshNhsNumber();
  const upn = freshUpn();
  const healthRecord = `CHS-${run}`;
  const mentalHealthRecord = `MH-${run}`;
  const educationRecord = `MIS-990201-${run}`;
  const socialCareRecord = `LA991-${run}`;
  const healthSubject = { recordId: healthRecord, nhsNumber, dateOfBirth };
  const educationSubject = { recordId: educationRecord, upn, dateOfBirth };
  const socialCareSubject = {
    recordId: socialCareRecord,
    laChildId: `C${run}`,
    laCode: '991',
    nhsNumber,
    upn,
    dateOfBirth,
  };

  const immunisation = buildImmunisationGiven({
    occurredAt: '2019-07-15T10:00:00Z',
    source: CHILD_HEALTH,
    subject: healthSubject,
    data: { vaccine: 'MMR', dose: 2, givenDate: '2019-07-15', batchNumber: 'SYN-77' },
  });
  const emergency = buildEmergencyCareAttended({
    occurredAt: '2023-11-02T19:30:00Z',
    source: EMERGENCY_DEPARTMENT,
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
  const camhsReferral = buildEvent('health.camhs.referred', {
    occurredAt: '2024-01-15T10:00:00Z',
    source: MENTAL_HEALTH_TRUST,
    subject: { recordId: mentalHealthRecord, nhsNumber, dateOfBirth },
    data: { referralDate: '2024-01-15', urgency: '3' },
  });
  const enrolment = buildEnrolmentRecorded({
    occurredAt: '2020-09-03T09:00:00Z',
    source: SCHOOL,
    subject: educationSubject,
    data: { schoolUrn: '990201', entryDate: '2020-09-03', yearGroup: 'R', senProvision: 'N' },
  });
  const attendance = buildAttendanceSummarised({
    occurredAt: '2023-12-20T16:00:00Z',
    source: SCHOOL,
    subject: educationSubject,
    data: {
      schoolUrn: '990201',
      academicYear: '2023/24',
      term: 'autumn',
      sessionsPossible: 130,
      authorisedAbsence: 10,
      unauthorisedAbsence: 14,
    },
  });
  const teacherView = buildOutcomeObservationRecorded({
    occurredAt: '2023-12-01T12:00:00Z',
    source: SCHOOL,
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
    source: LOCAL_AUTHORITY,
    subject: socialCareSubject,
    data: { referralDate: '2023-11-03', referralSource: '3E', primaryNeed: 'N1', noFurtherAction: false },
  });
  const assessment = buildAssessmentCompleted({
    occurredAt: '2023-12-08T15:00:00Z',
    source: LOCAL_AUTHORITY,
    subject: socialCareSubject,
    data: { startDate: '2023-11-06', authorisationDate: '2023-12-08', factors: ['3B', '16A'] },
  });
  const motherView = buildOutcomeObservationRecorded({
    occurredAt: '2023-12-05T10:00:00Z',
    source: LOCAL_AUTHORITY,
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

  /** The chronology in time order, with why the social worker (LA 991, safeguarding) may see each entry. */
  const chronology = [
    [immunisation, { basis: 'agreement', agreement: 'vale-health-to-childrens-services@1' }],
    [enrolment, { basis: 'agreement', agreement: 'vale-education-to-partners@1' }],
    [emergency, { basis: 'agreement', agreement: 'vale-health-to-childrens-services@1' }],
    [referral, { basis: 'own-organisation' }],
    [teacherView, { basis: 'agreement', agreement: 'vale-education-to-partners@1' }],
    [motherView, { basis: 'own-organisation' }],
    [assessment, { basis: 'own-organisation' }],
    [attendance, { basis: 'agreement', agreement: 'vale-education-to-partners@1' }],
    [camhsReferral, { basis: 'agreement', agreement: 'vale-camhs-safeguarding@1' }],
  ] as const;

  const socialWorker = { user: 'demo-social-worker', organisation: '991' };
  let childKey: string;

  beforeAll(async () => {
    system = await startSystem();
  });

  afterAll(async () => {
    await system?.stop();
  });

  const publish = async (
    agency: 'health' | 'education' | 'socialCare',
    path: string,
    body: unknown,
    as: string,
  ) => postJson(`${system.urls[agency]}${path}`, body, await system.headers(as));
  const lookup = async (
    identifier: Record<string, string>,
    as = 'demo-social-worker',
    purpose = 'safeguarding',
  ) =>
    postJson<{ childKey: string }>(
      `${system.urls.projection}/v1/children/lookup`,
      { identifier },
      await system.headers(as, purpose),
    );
  const timelineOf = async (key: string, headers: Record<string, string>) =>
    getJson<TimelineView>(`${system.urls.projection}/v1/children/${key}/timeline`, headers);

  it('accepts the agency systems’ events, answers a duplicate the same way, and rejects bad ones with field and rule', async () => {
    const first = await publish('health', '/v1/events', immunisation, 'demo-child-health-system');
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

    const duplicate = await publish('health', '/v1/events', immunisation, 'demo-child-health-system');
    expect(duplicate.status).toBe(202);
    const healthBatch = await publish(
      'health',
      '/v1/events/batch',
      { events: [emergency, camhsReferral] },
      'demo-child-health-system',
    );
    expect(healthBatch.status).toBe(202);
    expect(healthBatch.body.accepted).toBe(2);

    const badNhsNumber = {
      ...emergency,
      eventId: randomUUID(),
      subject: { ...healthSubject, nhsNumber: '9434765918' },
    };
    const invalid = await publish('health', '/v1/events', badNhsNumber, 'demo-child-health-system');
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

    const foreign = await publish('health', '/v1/events', referral, 'demo-child-health-system');
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
    const batch = await publish(
      'education',
      '/v1/events/batch',
      { events: [enrolment, impossibleAttendance, attendance, teacherView] },
      'demo-school-mis',
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

    const socialCare = await publish(
      'socialCare',
      '/v1/events/batch',
      { events: [referral, assessment, motherView] },
      'demo-case-system',
    );
    expect(socialCare.status).toBe(202);
    expect(socialCare.body.accepted).toBe(3);
  });

  it("refuses a health system publishing for another trust's organisation, and a person's token", async () => {
    const otherTrust = buildImmunisationGiven({
      source: { ...CHILD_HEALTH, organisation: 'RX1' },
      subject: { dateOfBirth },
    });
    const refused = await publish('health', '/v1/events', otherTrust, 'demo-child-health-system');
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      accepted: 0,
      rejected: 1,
      results: [
        {
          index: 0,
          eventId: otherTrust.eventId,
          status: 'rejected',
          issues: [
            {
              path: 'source.organisation',
              rule: 'not-authorised-for-publisher',
              message: 'publisher demo-child-health-system may not publish for organisation "RX1"',
            },
          ],
        },
      ],
    });

    const otherSystem = await publish(
      'health',
      '/v1/events',
      buildImmunisationGiven({ source: { ...CHILD_HEALTH, system: 'case-system' } }),
      'demo-child-health-system',
    );
    expect(otherSystem.status).toBe(400);
    expect(otherSystem.body.results[0].issues).toEqual([
      expect.objectContaining({ path: 'source.system', rule: 'not-authorised-for-publisher' }),
    ]);

    // Another agency's system on the health service, and a health visitor: both 403.
    const education = await publish(
      'health',
      '/v1/events',
      buildImmunisationGiven({ source: CHILD_HEALTH }),
      'demo-school-mis',
    );
    expect(education.status).toBe(403);
    const person = await publish(
      'health',
      '/v1/events',
      buildImmunisationGiven({ source: CHILD_HEALTH }),
      'demo-health-visitor',
    );
    expect(person.status).toBe(403);
    expect(person.body).toMatchObject({ error: 'FORBIDDEN', message: expect.stringMatching(/person/) });
  });

  it('finds the same child by any identifier, as a social worker stating safeguarding', async () => {
    // Linking is asynchronous (identity events, docs/decisions/005): wait until the social worker
    // sees all three agencies' records as one child. Slowly: lookups are rate limited per caller.
    await waitFor(
      async () => {
        const found = await lookup({ type: 'record', agency: 'education', value: educationRecord });
        if (found.status !== 200) return false;
        const timeline = await timelineOf(
          found.body.childKey,
          await system.headers('demo-social-worker', 'safeguarding'),
        );
        return timeline.status === 200 && timeline.body.entries.length >= chronology.length;
      },
      { message: 'the child to be projected and linked', timeoutMs: 90_000, intervalMs: 1500 },
    );
    await system.audit.skip();

    const byNhs = await lookup({ type: 'nhs-number', value: nhsNumber });
    expect(byNhs.status).toBe(200);
    childKey = byNhs.body.childKey;
    expect(childKey).toMatch(/^ch_/);
    const found = { ...socialWorker, purpose: 'safeguarding', action: 'lookup', outcome: 'ok', childKey };
    await system.audit.expectRecorded({ ...found, grantedRoles: 'social-worker', returned: 1 });

    const byUpn = await lookup({ type: 'upn', value: upn });
    expect(byUpn.body.childKey).toBe(childKey);
    await system.audit.expectRecorded(found);
    const byRecord = await lookup({ type: 'record', agency: 'education', value: educationRecord });
    expect(byRecord.body.childKey).toBe(childKey);
    await system.audit.expectRecorded(found);

    const miss = await lookup({ type: 'record', agency: 'health', value: `nobody-${run}` });
    expect(miss.status).toBe(404);
    await system.audit.expectRecorded({ ...found, outcome: 'NOT_FOUND', childKey: null, returned: 0 });
  });

  it('shows the social worker one chronology across the three agencies, each entry with its lineage and why it is shared', async () => {
    const answer = await timelineOf(childKey, await system.headers('demo-social-worker', 'safeguarding'));
    expect(answer.status).toBe(200);
    const timeline = answer.body;
    expect(timeline.entries).toHaveLength(chronology.length); // the duplicate immunisation is stored once
    expect(
      timeline.entries.map((entry) => ({
        eventId: entry.lineage.eventId,
        occurredAt: new Date(entry.occurredAt).toISOString(),
        agency: entry.agency,
        type: entry.type,
        sharedUnder: entry.sharedUnder,
      })),
    ).toEqual(
      chronology.map(([event, sharedUnder]) => ({
        eventId: event.eventId,
        occurredAt: new Date(event.occurredAt).toISOString(),
        agency: event.source.agency,
        type: event.type,
        sharedUnder,
      })),
    );
    expect(timeline.entries.map((entry) => entry.summary)).toEqual(SUMMARIES);
    expect(timeline.withheld).toEqual([]);
    expect(timeline.access).toMatchObject({ purpose: 'safeguarding', roles: ['social-worker'] });
    const agreements = [
      'vale-camhs-safeguarding@1',
      'vale-education-to-partners@1',
      'vale-health-to-childrens-services@1',
    ];
    await system.audit.expectRecorded({
      ...socialWorker,
      purpose: 'safeguarding',
      action: 'timeline',
      outcome: 'ok',
      childKey,
      requestedChildKey: childKey,
      grantedRoles: 'social-worker',
      returned: chronology.length,
      agreements,
    });

    const topics = topicNames(system.config.KAFKA_TOPIC_PREFIX).agency;
    for (const [index, entry] of timeline.entries.entries()) {
      const [event] = chronology[index];
      expect(entry.lineage).toMatchObject({
        eventId: event.eventId,
        topic: topics[event.source.agency],
        sourceSystem: event.source.system,
      });
      expect(entry.lineage.partition).toEqual(expect.any(Number));
      expect(entry.lineage.offset).toMatch(/^\d+$/);
      expect(entry.lineage.storePosition).toBeGreaterThan(0);
    }
    expect(
      timeline.entries.find((entry) => entry.type === 'health.camhs.referred')?.specialCategories,
    ).toEqual(['mental-health']);
    // The school sent attendance as contract version 1; the store keeps it so, and the timeline
    // reads it upcast to version 2 (sessions attended, given since v2, derived for v1).
    const attendanceEntry = timeline.entries.find((entry) => entry.lineage.eventId === attendance.eventId);
    expect(attendance.schemaVersion).toBe(1);
    expect(attendanceEntry?.lineage).toMatchObject({ storedSchemaVersion: 1, schemaVersion: 2 });
    const stored = await system.pool.query<{
      data: { schemaVersion: number; data: Record<string, unknown> };
    }>('SELECT data FROM events WHERE event_id = $1', [attendance.eventId]);
    expect(stored.rows[0].data.schemaVersion).toBe(1);
    expect(stored.rows[0].data.data).not.toHaveProperty('sessionsAttended');
    // Indicators sit beside the narratives and perspectives they are evidence for, and disagree here.
    const observations = timeline.entries.filter((entry) => entry.kind === 'observation');
    expect(
      observations.map((entry) => [
        entry.perspective,
        entry.indicators?.[0]?.value,
        entry.confidence,
        entry.narrative,
      ]),
    ).toEqual([
      ['professional', 4, 'medium', 'Withdrawn in class since half term; reading has stalled.'],
      ['family', 7, 'low', 'Things are calmer at home since her partner moved out.'],
    ]);

    expect(timeline.subjects.map((subject) => `${subject.agency}:${subject.recordId}`).sort()).toEqual(
      [
        `education:${educationRecord}`,
        `health:${healthRecord}`,
        `health:${mentalHealthRecord}`,
        `social-care:${socialCareRecord}`,
      ].sort(),
    );

    // For direct care no agreement shares the CAMHS referral with children's services: withheld, and said so.
    const directCare = await timelineOf(childKey, await system.headers('demo-social-worker', 'direct-care'));
    expect(directCare.status).toBe(200);
    const camhsWithheld = {
      count: 1,
      reason:
        'health mental-health-services (mental-health): no agreement shares it with role social-worker, purpose direct-care',
    };
    const recordWithheld = {
      count: 1,
      reason: 'linked records: every entry of each of them is withheld, so the records are not shown',
    };
    expect(directCare.body.withheld).toEqual([camhsWithheld, recordWithheld]);
    expect(directCare.body.entries.map((entry) => entry.type)).not.toContain('health.camhs.referred');
    expect(directCare.body.subjects.map((subject) => subject.recordId)).not.toContain(mentalHealthRecord);
    await system.audit.expectRecorded({
      ...socialWorker,
      purpose: 'direct-care',
      action: 'timeline',
      outcome: 'ok',
      childKey,
      returned: chronology.length - 1,
      withheld: [camhsWithheld, recordWithheld],
      agreements: ['vale-education-to-partners@1', 'vale-health-to-childrens-services@1'],
    });
  });

  it("shows a school's safeguarding lead its own school's and children's services' entries, and says what health withholds", async () => {
    const answer = await timelineOf(childKey, await system.headers('demo-school-dsl', 'safeguarding'));
    expect(answer.status).toBe(200);
    const whom = 'role school-dsl, purpose safeguarding';
    const withheld = [
      { count: 1, reason: `health immunisation: no agreement shares it with ${whom}` },
      {
        count: 1,
        reason: `health mental-health-services (mental-health): no agreement shares it with ${whom}`,
      },
      { count: 1, reason: `health urgent-and-hospital-care: no agreement shares it with ${whom}` },
      {
        count: 2,
        reason: 'linked records: every entry of each of them is withheld, so the records are not shown',
      },
    ];
    expect(answer.body.withheld).toEqual(withheld);
    expect(answer.body.entries.map((entry) => [entry.lineage.eventId, entry.sharedUnder])).toEqual([
      [enrolment.eventId, { basis: 'own-organisation' }],
      [referral.eventId, { basis: 'agreement', agreement: 'vale-childrens-services-to-partners@1' }],
      [teacherView.eventId, { basis: 'own-organisation' }],
      [motherView.eventId, { basis: 'agreement', agreement: 'vale-childrens-services-to-partners@1' }],
      [assessment.eventId, { basis: 'agreement', agreement: 'vale-childrens-services-to-partners@1' }],
      [attendance.eventId, { basis: 'own-organisation' }],
    ]);
    expect(answer.body.subjects.map((subject) => subject.agency).sort()).toEqual([
      'education',
      'social-care',
    ]);
    await system.audit.expectRecorded({
      user: 'demo-school-dsl',
      organisation: '990201',
      purpose: 'safeguarding',
      action: 'timeline',
      outcome: 'ok',
      childKey,
      grantedRoles: 'school-dsl',
      returned: 6,
      withheld,
      agreements: ['vale-childrens-services-to-partners@1'],
    });
  });

  it('refuses an analyst, a caller without a token or a purpose, and records each refusal', async () => {
    const analyst = await timelineOf(childKey, await system.headers('demo-analyst', 'analysis'));
    expect(analyst.status).toBe(403);
    expect(analyst.body).toMatchObject({ error: 'FORBIDDEN' });
    await system.audit.expectRecorded({
      user: 'demo-analyst',
      organisation: '991',
      purpose: 'analysis',
      action: 'timeline',
      outcome: 'FORBIDDEN',
      childKey: null,
      requestedChildKey: childKey,
      grantedRoles: null,
      returned: 0,
      refusal: /may not timeline:read for purpose analysis/,
    });

    // A made-up user in a header is nobody: 401.
    const anonymous = await timelineOf(childKey, { 'x-user-id': 'sw-0042', 'x-purpose': 'safeguarding' });
    expect(anonymous.status).toBe(401);
    await system.audit.expectRecorded({
      user: '(unverified)',
      organisation: null,
      purpose: '(none)',
      action: 'timeline',
      outcome: 'UNAUTHENTICATED',
      childKey: null,
      requestedChildKey: childKey,
      grantedRoles: null,
    });

    const noPurpose = await timelineOf(childKey, await system.headers('demo-social-worker'));
    expect(noPurpose.status).toBe(400);
    expect(noPurpose.body).toMatchObject({
      issues: [expect.objectContaining({ path: 'headers.x-purpose', rule: 'required' })],
    });
    await system.audit.expectRecorded({
      ...socialWorker,
      purpose: '(none)',
      action: 'timeline',
      outcome: 'VALIDATION',
      childKey: null,
      requestedChildKey: childKey,
    });
  });

  it('dead-letters garbage written straight onto an agency topic, lists it without payload, and keeps going', async () => {
    const deadLettersUrl = `${system.urls.recorder}/v1/dead-letters`;
    const steward = () => system.headers('demo-ig-officer', 'data-quality');
    const listed = {
      user: 'demo-ig-officer',
      organisation: '991',
      purpose: 'data-quality',
      action: 'dead-letters',
      outcome: 'ok',
      childKey: null,
      grantedRoles: 'ig-officer',
    };
    // Rejected at the edge: nothing poisoned the topics so far.
    const none = await getJson<DeadLetterList>(deadLettersUrl, await steward());
    expect(none.status).toBe(200);
    expect(none.body.deadLetters).toEqual([]);
    await system.audit.expectRecorded({ ...listed, returned: 0, extra: { deadLetters: [] } });

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
      source: CHILD_HEALTH,
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
        deadLetters = (await getJson<DeadLetterList>(deadLettersUrl, await steward())).body.deadLetters;
        return deadLetters.length >= 2;
      },
      { message: 'two dead letters', timeoutMs: 60000, intervalMs: 250 },
    );
    await system.audit.skip();
    const page = await getJson<DeadLetterList>(deadLettersUrl, await steward());
    deadLetters = page.body.deadLetters;
    expect(deadLetters).toHaveLength(2);
    await system.audit.expectRecorded({
      ...listed,
      returned: 2,
      extra: { deadLetters: deadLetters.map((letter) => letter.id) },
    });
    expect(deadLetters.map((letter) => [letter.topic, letter.reason])).toEqual([
      [topic, 'unparseable'],
      [topic, 'contract-violation'],
    ]);
    // Coordinates, reason and issues only: the key (a record id) and the payload are not listed.
    for (const letter of deadLetters) {
      expect(Object.keys(letter).sort()).toEqual(
        ['deadLetteredAt', 'id', 'issues', 'offset', 'partition', 'reason', 'redrive', 'topic'].sort(),
      );
    }
    expect(JSON.stringify(page.body)).not.toContain(healthRecord);
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

    // The payload: its own permission and a stated purpose, and the read is recorded.
    const payloadUrl = `${deadLettersUrl}/${deadLetters[1].id}/payload`;
    const payload = await getJson<DeadLetterPayload>(payloadUrl, await steward());
    expect(payload.status).toBe(200);
    expect(payload.body).toMatchObject({
      id: deadLetters[1].id,
      key: healthRecord,
      value: { encoding: 'utf8' },
    });
    expect(JSON.parse(payload.body.value.text ?? '')).toMatchObject({ eventId: forged.eventId });
    await system.audit.expectRecorded({
      ...listed,
      action: 'dead-letter-payload',
      returned: 1,
      extra: { deadLetter: deadLetters[1].id },
    });
    const forIg = await getJson(
      payloadUrl,
      await system.headers('demo-ig-officer', 'information-governance'),
    );
    expect(forIg.status).toBe(403);
    await system.audit.expectRecorded({
      ...listed,
      purpose: 'information-governance',
      action: 'dead-letter-payload',
      outcome: 'FORBIDDEN',
      grantedRoles: null,
    });

    await waitFor(
      async () => {
        const timeline = await timelineOf(
          childKey,
          await system.headers('demo-social-worker', 'safeguarding'),
        );
        return timeline.body.entries.some((entry) => entry.lineage.eventId === later.eventId);
      },
      {
        message: 'the event behind the poison messages to reach the timeline',
        timeoutMs: 60000,
        intervalMs: 250,
      },
    );
    await system.audit.skip();
  });

  it('tells LA 991 when a health visitor reads the chronology of its child on a child protection plan (CP-IS)', async () => {
    const cpNhsNumber = freshNhsNumber();
    const plan = buildChildProtectionPlanStarted({
      occurredAt: daysAgo(30),
      source: LOCAL_AUTHORITY,
      subject: {
        recordId: `LA991-CP-${run}`,
        laChildId: `P${run}`,
        laCode: '991',
        nhsNumber: cpNhsNumber,
        dateOfBirth: '2021-05-04',
      },
      data: { startDate: daysAgo(30).slice(0, 10), reviewDate: daysAgo(-60).slice(0, 10) },
    });
    expect((await publish('socialCare', '/v1/events', plan, 'demo-case-system')).status).toBe(202);

    const healthVisitor = { user: 'demo-health-visitor', organisation: 'DEMO-CHS', purpose: 'safeguarding' };
    let planChild = '';
    await waitFor(
      async () => {
        const found = await lookup({ type: 'nhs-number', value: cpNhsNumber }, 'demo-health-visitor');
        planChild = found.status === 200 ? found.body.childKey : '';
        return planChild !== '';
      },
      { message: 'the child on a plan to be projected', timeoutMs: 60_000, intervalMs: 1500 },
    );
    await system.audit.skip();

    const read = await timelineOf(planChild, await system.headers('demo-health-visitor', 'safeguarding'));
    expect(read.status).toBe(200);
    expect(read.body.entries.map((entry) => [entry.type, entry.sharedUnder])).toEqual([
      [
        'social-care.child-protection-plan.started',
        { basis: 'agreement', agreement: 'vale-childrens-services-to-partners@1' },
      ],
    ]);
    await system.audit.expectRecorded({
      ...healthVisitor,
      action: 'timeline',
      outcome: 'ok',
      childKey: planChild,
      grantedRoles: 'health-visitor',
      returned: 1,
      agreements: ['vale-childrens-services-to-partners@1'],
    });

    // The notification travels outbox → Kafka → the social-care service, which lists it for LA 991.
    const notificationsUrl = `${system.urls.socialCare}/v1/access-notifications`;
    type Listing = { localAuthority: string; count: number; notifications: Record<string, unknown>[] };
    await waitFor(
      async () => {
        const listing = await getJson<Listing>(
          notificationsUrl,
          await system.headers('demo-social-worker', 'safeguarding'),
        );
        return listing.status === 200 && listing.body.count > 0;
      },
      { message: 'the access notification listed for LA 991', timeoutMs: 60_000, intervalMs: 250 },
    );
    await system.notificationReads.skip();
    const listing = await getJson<Listing>(
      notificationsUrl,
      await system.headers('demo-social-worker', 'safeguarding'),
    );
    expect(listing.status).toBe(200);
    expect(listing.body).toMatchObject({ localAuthority: '991', count: 1 });
    expect(listing.body.notifications[0]).toMatchObject({
      childKey: planChild,
      recordIds: [`LA991-CP-${run}`],
      responsibleLocalAuthority: { code: '991' },
      status: { kind: 'child-protection-plan' },
      accessor: {
        userId: 'demo-health-visitor',
        organisation: { code: 'DEMO-CHS', type: 'health' },
        roles: ['health-visitor'],
      },
      purpose: 'safeguarding',
      breakGlass: false,
    });
    expect(JSON.stringify(listing.body)).not.toContain(cpNhsNumber);
    await system.notificationReads.expectRecorded({
      user: 'demo-social-worker',
      organisation: '991',
      roles: ['social-worker'],
      purpose: 'safeguarding',
      localAuthority: '991',
      returned: 1,
      outcome: 'ok',
    });

    // The health visitor is not the authority's staff: 403, and the refusal is recorded too.
    const refused = await getJson(
      notificationsUrl,
      await system.headers('demo-health-visitor', 'safeguarding'),
    );
    expect(refused.status).toBe(403);
    await system.notificationReads.expectRecorded({
      user: 'demo-health-visitor',
      organisation: 'DEMO-CHS',
      outcome: 'FORBIDDEN',
      returned: 0,
    });
  });
});

const SUMMARIES = [
  'Immunisation given: Measles, mumps and rubella, dose 2',
  'Enrolled at school 990201 in reception — No special educational need',
  'Emergency care attendance: Burn to forearm — Discharged home (injury; safeguarding concern raised)',
  'Referral received from HEALTH SERVICES – A&E (accident and emergency department) — primary need: Abuse or neglect',
  'Outcome observation (ecm / enjoy-and-achieve) from the professional perspective, by class teacher: rated 4 on ten-point (1–10); confidence medium',
  'Outcome observation (ecm / stay-safe) from the family perspective, by mother: rated 7 on ten-point (1–10); confidence low',
  'Assessment completed, authorised 2023-12-08 — factors: Domestic violence: concerns about the child’s parent(s)/carer(s) being the subject of domestic violence; Abuse or neglect – ‘NEGLECT’: concerns that services may be required or the child may be suffering or likely to suffer significant harm due to abuse or neglect',
  // 130 sessions, 24 missed: 106 / 130 = 81.5%
  'Attendance autumn 2023/24: 81.5% (106 attended, 10 authorised, 14 unauthorised of 130 sessions)',
  'CAMHS referral (routine) from Primary health care: general medical practice — Anxiety',
];

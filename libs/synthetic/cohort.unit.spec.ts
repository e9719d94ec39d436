import {
  isValidNhsNumber,
  isValidUpn,
  parseAgencyEvent,
  streamIdOf,
  type AgencyEvent,
} from '@throughline/contracts';
import {
  DEMO_COHORT_OPTIONS,
  exampleLinkedChild,
  generateCohort,
  summariseCohort,
  toAgencyBatches,
  type SyntheticCohort,
} from '@throughline/synthetic';

const options = { seed: 42, startYear: 2011, endYear: 2026, now: '2026-11-01T00:00:00.000Z' } as const;
const now = new Date(options.now);

describe('generateCohort', () => {
  let cohort: SyntheticCohort;
  beforeAll(() => {
    cohort = generateCohort(options);
  });

  it('is a pure function of its options: same seed, identical cohort', () => {
    expect(JSON.stringify(generateCohort(options))).toBe(JSON.stringify(cohort));
  });

  it('gives another seed other children', () => {
    const other = generateCohort({ ...options, seed: 43, children: 20 });
    expect(other.children.map((c) => c.nhsNumber)).not.toEqual(
      cohort.children.slice(0, 20).map((c) => c.nhsNumber),
    );
  });

  it('keeps earlier children unchanged when the cohort grows', () => {
    const small = generateCohort({ ...options, children: 30 });
    expect(JSON.stringify(small.children)).toBe(JSON.stringify(cohort.children.slice(0, 30)));
  });

  it('makes 200 children by default, every event valid against the contracts', () => {
    expect(cohort.children).toHaveLength(200);
    const invalid = cohort.events
      .map((event) => ({ event, result: parseAgencyEvent(event, { now, futureToleranceMs: 0 }) }))
      .filter(({ result }) => !result.ok);
    expect(invalid.slice(0, 3)).toEqual([]);
  });

  it('gives every event a unique v4-shaped id, dated between birth and now', () => {
    const ids = new Set(cohort.events.map((event) => event.eventId));
    expect(ids.size).toBe(cohort.events.length);
    for (const event of cohort.events) {
      expect(event.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(Date.parse(event.occurredAt)).toBeLessThanOrEqual(now.getTime());
      expect(event.occurredAt.slice(0, 10) >= event.subject.dateOfBirth!).toBe(true);
    }
  });

  it('orders events by occurredAt', () => {
    const times = cohort.events.map((event) => event.occurredAt);
    expect(times).toEqual([...times].sort());
  });

  it('gives children unique, valid identifiers', () => {
    const nhs = cohort.children.map((child) => child.nhsNumber);
    const upns = cohort.children.flatMap((child) => (child.upn ? [child.upn] : []));
    expect(new Set(nhs).size).toBe(nhs.length);
    expect(new Set(upns).size).toBe(upns.length);
    expect(nhs.every((n) => isValidNhsNumber(n) && n.startsWith('999'))).toBe(true);
    expect(upns.every(isValidUpn)).toBe(true);
  });

  it('covers every event type, with a plausible share of each kind of child', () => {
    const types = new Set(cohort.events.map((event) => event.type));
    expect([...types].sort()).toEqual([
      'education.attendance.summarised',
      'education.enrolment.recorded',
      'education.exclusion.recorded',
      'health.emergency-care.attended',
      'health.health-visitor-review.completed',
      'health.immunisation.given',
      'health.safeguarding-concern.raised',
      'outcome.observation.recorded',
      'social-care.assessment.completed',
      'social-care.child-protection-plan.started',
      'social-care.referral.received',
    ]);
    const summary = summariseCohort(cohort);
    expect(summary.withEducationRecord / summary.children).toBeGreaterThan(0.5);
    expect(summary.withSocialCareRecord / summary.children).toBeGreaterThan(0.1);
    expect(summary.withSocialCareRecord / summary.children).toBeLessThan(0.4);
  });

  it('links a non-trivial share across all three agencies and leaves a share unlinkable', () => {
    const summary = summariseCohort(cohort);
    expect(summary.linkedAcrossAllAgencies).toBeGreaterThanOrEqual(15);
    expect(summary.withUnlinkedRecord).toBeGreaterThanOrEqual(5);
    const unlinkableSocialCare = cohort.children.filter(
      (child) =>
        child.records.socialCare && !child.records.socialCare.nhsNumber && !child.records.socialCare.upn,
    );
    expect(unlinkableSocialCare.length).toBeGreaterThanOrEqual(1);
  });

  it('puts the linking identifiers on the events themselves', () => {
    const child = exampleLinkedChild(cohort);
    const byStream = new Map<string, AgencyEvent[]>();
    for (const event of cohort.events)
      byStream.set(streamIdOf(event), [...(byStream.get(streamIdOf(event)) ?? []), event]);
    const health = byStream.get(`health-${child.records.health.recordId}`)!;
    expect(health.every((event) => event.subject.nhsNumber === child.nhsNumber)).toBe(true);
    const socialCare = byStream.get(`social-care-${child.records.socialCare!.recordId}`)!;
    expect(socialCare.length).toBeGreaterThan(0);
    const last = socialCare[socialCare.length - 1].subject;
    expect(last.nhsNumber === child.nhsNumber || last.upn === child.upn).toBe(true);
  });

  it('shows perspectives that disagree', () => {
    const safety = cohort.events.flatMap((event) =>
      event.type === 'outcome.observation.recorded' && event.data.framework === 'signs-of-safety'
        ? [event]
        : [],
    );
    const perspectives = new Set(safety.map((event) => event.data.perspective));
    expect([...perspectives].sort()).toEqual(['child', 'family', 'professional']);
    const byRound = new Map<string, Map<string, number>>();
    for (const event of safety) {
      const key = `${event.subject.recordId}/${event.data.observedOn}`;
      const round = byRound.get(key) ?? new Map<string, number>();
      round.set(event.data.perspective, event.data.rating!.value);
      byRound.set(key, round);
    }
    const disagreements = [...byRound.values()].filter(
      (round) => Math.abs((round.get('family') ?? 0) - (round.get('professional') ?? 0)) >= 3,
    );
    expect(disagreements.length).toBeGreaterThan(0);
  });

  it('never dates an event after now, however early now is', () => {
    const early = generateCohort({ ...options, children: 50, now: '2020-02-01T12:00:00Z' });
    expect(early.events.length).toBeGreaterThan(0);
    expect(early.events.every((event) => event.occurredAt <= '2020-02-01T12:00:00.000Z')).toBe(true);
  });

  it('rejects options it cannot honour', () => {
    expect(() => generateCohort({ ...options, seed: 1.5 })).toThrow('seed');
    expect(() => generateCohort({ ...options, startYear: 2026 })).toThrow('startYear');
    expect(() => generateCohort({ ...options, now: 'yesterday' })).toThrow('now');
  });
});

describe('the demo cohort', () => {
  it('has 200+ children and an example child linked across all three agencies', () => {
    const cohort = generateCohort(DEMO_COHORT_OPTIONS);
    expect(cohort.children.length).toBeGreaterThanOrEqual(200);
    const child = exampleLinkedChild(cohort);
    expect(child.linkage.linkedAcrossAllAgencies).toBe(true);
    expect(child.linkage.groups).toHaveLength(1);
  });
});

describe('toAgencyBatches', () => {
  const cohort = generateCohort({ ...options, children: 60 });

  it('splits by source agency into batches of at most the maximum, losing and reordering nothing', () => {
    const batches = toAgencyBatches(cohort.events, 250);
    expect(batches.every((batch) => batch.events.length >= 1 && batch.events.length <= 250)).toBe(true);
    expect(
      batches.every((batch) => batch.events.every((event) => event.source.agency === batch.agency)),
    ).toBe(true);
    for (const agency of ['health', 'education', 'social-care'] as const) {
      const posted = batches.filter((batch) => batch.agency === agency).flatMap((batch) => batch.events);
      expect(posted).toEqual(cohort.events.filter((event) => event.source.agency === agency));
    }
  });

  it('sends outcome observations to the service of their source agency', () => {
    const observations = toAgencyBatches(cohort.events)
      .flatMap((batch) => batch.events.map((event) => [batch.agency, event] as const))
      .filter(([, event]) => event.type === 'outcome.observation.recorded');
    expect(new Set(observations.map(([agency]) => agency)).size).toBeGreaterThan(1);
    expect(observations.every(([agency, event]) => agency === event.source.agency)).toBe(true);
  });

  it('refuses batches larger than the services accept', () => {
    expect(() => toAgencyBatches(cohort.events, 1001)).toThrow('maxBatchSize');
    expect(toAgencyBatches([])).toEqual([]);
  });
});

import {
  EVENT_TYPES,
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
  type SyntheticChild,
  type SyntheticCohort,
} from '@throughline/synthetic';
import {
  candidatePairs,
  compareDeterministic,
  DEFAULT_MATCH_MODEL,
  evolveSubject,
  scoreMatch,
  shouldPropose,
  subjectOf,
  type SubjectSnapshot,
} from '@throughline/identity';

// Generating and folding whole cohorts takes seconds; a shared 2-core machine can make it many more.
jest.setTimeout(60_000);

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

  it('covers every event type of the contracts, with a plausible share of each kind of child', () => {
    // Born from 2011, no child is yet a care leaver (OC3) or 18 (UASC status ceasing): those
    // come from the same generator over older births.
    const older = generateCohort({ ...DEMO_COHORT_OPTIONS, startYear: 2003 });
    const types = new Set<string>([...cohort.events, ...older.events].map((event) => event.type));
    expect(EVENT_TYPES.filter((type) => !types.has(type))).toEqual([]);
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
      if (!event.data.rating) continue;
      const key = `${event.subject.recordId}/${event.data.observedOn}`;
      const round = byRound.get(key) ?? new Map<string, number>();
      round.set(event.data.perspective, event.data.rating.value);
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

describe('identity data, as real agency systems hold it', () => {
  let cohort: SyntheticCohort;
  let subjects: Map<string, SubjectSnapshot>;
  let streamsOf: (child: SyntheticChild) => string[];
  beforeAll(() => {
    cohort = generateCohort(options);
    subjects = new Map();
    for (const event of cohort.events) {
      const facts = subjectOf(event);
      subjects.set(facts.streamId, evolveSubject(subjects.get(facts.streamId), facts, event.occurredAt));
    }
    streamsOf = (child) =>
      [
        child.records.health,
        ...child.records.education,
        ...(child.records.senService ? [child.records.senService] : []),
        ...(child.records.socialCare ? [child.records.socialCare] : []),
      ]
        .map((record) => `${record.agency}-${record.recordId}`)
        .filter((streamId) => subjects.has(streamId));
  });
  const subject = (streamId: string) => {
    const found = subjects.get(streamId);
    if (!found) throw new Error(`no events for ${streamId}`);
    return found;
  };
  const proposed = (a: string, b: string) =>
    compareDeterministic(subject(a), subject(b)).shared.length === 0 &&
    shouldPropose(scoreMatch(subject(a), subject(b)));

  it('puts name, sex, postcode and date of birth on every event; health holds no UPN', () => {
    for (const event of cohort.events) {
      expect(event.subject.name).toBeDefined();
      // 1/2 up to 2023-24, M/F from 2024-25 (the sex list of the event's year).
      expect(['1', '2', 'M', 'F']).toContain(event.subject.sex);
      expect(event.subject.postcode).toMatch(/^Z[ZY]\d \d[A-Z]{2}$/);
      expect(event.subject.dateOfBirth).toBeDefined();
      if (event.source.agency === 'health') expect(event.subject.upn).toBeUndefined();
    }
    const education = cohort.events.filter((event) => event.source.agency === 'education');
    expect(education.some((event) => !event.subject.nhsNumber)).toBe(true);
  });

  it('has the imperfections of real records: moves, misspellings, temporary UPNs, LA transfers, late NHS numbers', () => {
    const all = [...subjects.values()];
    const health = all.filter((s) => s.agency === 'health');
    // An address updated after a house move.
    expect(cohort.children.filter((child) => child.homes.length > 1).length).toBeGreaterThan(20);
    // A given name one agency holds differently from health.
    const misnamed = cohort.children.filter((child) =>
      streamsOf(child).some((id) => subject(id).name?.given !== child.givenName),
    );
    expect(misnamed.length).toBeGreaterThanOrEqual(5);
    // A temporary UPN replaced by a permanent one, kept as the former UPN.
    const replaced = all.filter((s) => s.identifiers.some((p) => p.kind === 'upn' && p.validTo));
    expect(replaced.length).toBeGreaterThanOrEqual(3);
    for (const pupil of replaced) {
      const old = pupil.identifiers.find((p) => p.kind === 'upn' && p.validTo)!;
      expect(old.value).toMatch(/[A-Z]$/);
      expect(pupil.identifiers).toContainEqual(
        expect.objectContaining({ kind: 'former-upn', value: old.value }),
      );
    }
    // An LA child id that changed when the family moved to the neighbouring authority.
    const transferred = all.filter((s) =>
      s.identifiers.some((p) => p.kind === 'la-child-id' && p.value.startsWith('992/')),
    );
    expect(transferred.length).toBeGreaterThanOrEqual(1);
    expect(transferred[0].identifiers.filter((p) => p.kind === 'la-child-id')).toEqual([
      expect.objectContaining({ value: expect.stringMatching(/^991\//), validTo: expect.any(String) }),
      expect.objectContaining({ value: expect.stringMatching(/^992\/LF\d+$/) }),
    ]);
    // An NHS number the case system learned after the referral.
    const learnedLater = cohort.children.filter((child) => child.records.socialCare?.nhsNumberKnownFrom);
    expect(learnedLater.length).toBeGreaterThanOrEqual(1);
    expect(health.length).toBe(cohort.children.length);
  });

  it('plants (a): one child’s school and health records share no identifier but are proposed', () => {
    const planted = cohort.planted.probabilisticMatch!;
    const [school, health] = planted.streamIds.map(subject);
    const child = cohort.children[planted.childNumber - 1];
    expect(child.planted).toBe('probabilistic-match');
    expect(compareDeterministic(school, health)).toEqual({ shared: [], conflicts: [] });
    expect(school.name!.given).not.toBe(health.name!.given);
    expect(school.postcode).not.toBe(health.postcode);
    const score = scoreMatch(school, health);
    expect(shouldPropose(score)).toBe(true);
    expect(score.evidence.find((e) => e.field === 'postcode')!.outcome).toBe('disagree');
  });

  it('plants (b): twins blocked together but never proposed, their NHS numbers conflicting', () => {
    const [first, second] = cohort.planted.twins!.childNumbers.map((n) => cohort.children[n - 1]);
    const [a, b] = cohort.planted.twins!.healthStreamIds.map(subject);
    expect([a.name!.family, a.dateOfBirth, a.sex, a.postcode]).toEqual([
      b.name!.family,
      b.dateOfBirth,
      b.sex,
      b.postcode,
    ]);
    expect(a.name!.given).not.toBe(b.name!.given);
    expect(candidatePairs([a, b])).toHaveLength(1);
    expect(compareDeterministic(a, b).conflicts).toContainEqual(
      expect.objectContaining({ kind: 'nhs-number' }),
    );
    for (const x of streamsOf(first)) for (const y of streamsOf(second)) expect(proposed(x, y)).toBe(false);
  });

  it('plants (c): cousins with the same name, never proposed and scoring below the threshold', () => {
    const [first, second] = cohort.planted.cousins!.childNumbers.map((n) => cohort.children[n - 1]);
    expect([first.givenName, first.familyName]).toEqual([second.givenName, second.familyName]);
    expect(first.dateOfBirth.slice(0, 4)).not.toBe(second.dateOfBirth.slice(0, 4));
    for (const x of streamsOf(first))
      for (const y of streamsOf(second)) {
        expect(scoreMatch(subject(x), subject(y)).score).toBeLessThan(DEFAULT_MATCH_MODEL.proposeAt);
        expect(proposed(x, y)).toBe(false);
      }
  });

  it('plants (d): two school records with the same UPN and different NHS numbers, reported as a conflict', () => {
    const planted = cohort.planted.upnConflict!;
    const [a, b] = planted.streamIds.map(subject);
    const comparison = compareDeterministic(a, b);
    expect(comparison.shared).toEqual([{ kind: 'upn', value: planted.upn }]);
    expect(comparison.conflicts).toContainEqual(expect.objectContaining({ kind: 'nhs-number' }));
    const [donor, child] = planted.childNumbers.map((n) => cohort.children[n - 1]);
    expect(child.planted).toBe('upn-conflict');
    expect(
      new Set([
        a.identifiers.find((p) => p.kind === 'nhs-number')!.value,
        b.identifiers.find((p) => p.kind === 'nhs-number')!.value,
      ]),
    ).toEqual(new Set([donor.nhsNumber, child.nhsNumber]));
  });

  it('proposes only records of the same child (no false proposals in this cohort)', () => {
    const childOf = new Map<string, number>();
    for (const child of cohort.children) for (const id of streamsOf(child)) childOf.set(id, child.number);
    const proposals = candidatePairs([...subjects.values()]).filter(([a, b]) =>
      proposed(a.streamId, b.streamId),
    );
    expect(proposals.length).toBeGreaterThan(10);
    const wrong = proposals.filter(([a, b]) => childOf.get(a.streamId) !== childOf.get(b.streamId));
    expect(wrong.map(([a, b]) => `${a.streamId} ~ ${b.streamId}`)).toEqual([]);
  });

  it('contradicts itself only in the planted conflict, at every point of the event order', () => {
    // A linker compares records as each event arrives, so a record seen half-updated must not
    // contradict another (e.g. a school still on a temporary UPN the case system never held).
    const seen = new Map<string, SubjectSnapshot>();
    const holders = new Map<string, Set<string>>();
    const keyOf = (kind: string, value: string) => `${kind === 'former-upn' ? 'upn' : kind}:${value}`;
    const contradicting = new Set<string>();
    for (const event of cohort.events) {
      const facts = subjectOf(event);
      const snapshot = evolveSubject(seen.get(facts.streamId), facts, event.occurredAt);
      seen.set(facts.streamId, snapshot);
      const others = new Set<string>();
      for (const { kind, value } of snapshot.identifiers) {
        const key = keyOf(kind, value);
        const streams = holders.get(key) ?? new Set<string>();
        for (const other of streams) if (other !== snapshot.streamId) others.add(other);
        holders.set(key, streams.add(snapshot.streamId));
      }
      for (const other of others)
        if (compareDeterministic(snapshot, seen.get(other)!).conflicts.length > 0)
          contradicting.add([snapshot.streamId, other].sort().join(' ~ '));
    }
    const conflict = cohort.planted.upnConflict!;
    const plantedChildren = conflict.childNumbers.map((n) => cohort.children[n - 1]);
    const plantedStreams = new Set(plantedChildren.flatMap(streamsOf));
    expect(contradicting).toContain([...conflict.streamIds].sort().join(' ~ '));
    const unexpected = [...contradicting].filter((pair) =>
      pair.split(' ~ ').some((streamId) => !plantedStreams.has(streamId)),
    );
    expect(unexpected).toEqual([]);
  });

  it('plants every case in the demo cohort too', () => {
    const demo = generateCohort(DEMO_COHORT_OPTIONS);
    expect(Object.keys(demo.planted).sort()).toEqual([
      'cousins',
      'probabilisticMatch',
      'twins',
      'upnConflict',
    ]);
  });

  it('plants nothing it cannot complete in a tiny cohort', () => {
    expect(generateCohort({ ...options, children: 5 }).planted).toEqual({});
  });
});

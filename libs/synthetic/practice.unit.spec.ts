import { parseAgencyEvent, type AgencyEvent, type EventOfType, type EventType } from '@throughline/contracts';
import {
  ALL_PARTS,
  DEMO_COHORT_OPTIONS,
  decisionStatuses,
  eventsOf,
  exampleLinkedChild,
  generateCohort,
  partsShown,
  storyOf,
  type SyntheticCohort,
} from '@throughline/synthetic';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// Generating whole cohorts takes seconds; a shared 2-core machine can make it many more.
jest.setTimeout(60_000);

/**
 * Issue 13, point 8: a cohort that shows outcomes as practice sees them. Decisions expect
 * outcomes and are reviewed; domains improve, worsen and fluctuate over years, seen by the
 * child, the family and professionals of several agencies, who disagree at times and say so.
 */

const options = { seed: 42, startYear: 2011, endYear: 2026, now: '2026-11-01T00:00:00.000Z' } as const;
const addDays = (isoDate: string, days: number) =>
  new Date(Date.parse(`${isoDate}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

function ofType<T extends EventType>(events: readonly AgencyEvent[], type: T): EventOfType<T>[] {
  return events.filter((event): event is EventOfType<T> => event.type === type);
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

describe('the synthetic cohort shows outcomes as practice sees them', () => {
  let cohort: SyntheticCohort;
  let demo: SyntheticCohort;
  beforeAll(() => {
    cohort = generateCohort(options);
    demo = generateCohort(DEMO_COHORT_OPTIONS);
  });

  it('validates every new event against the contracts, in both cohorts', () => {
    for (const generated of [cohort, demo]) {
      const now = new Date(generated.now);
      const invalid = generated.events
        .filter((event) =>
          ['practice.decision.reviewed', 'practice.views.differ', 'outcome.observation.recorded'].includes(
            event.type,
          ),
        )
        .map((event) => ({
          type: event.type,
          result: parseAgencyEvent(event, { now, futureToleranceMs: 0 }),
        }))
        .filter(({ result }) => !result.ok);
      expect(invalid.slice(0, 3)).toEqual([]);
      expect(ofType(generated.events, 'practice.decision.reviewed').length).toBeGreaterThan(30);
      expect(ofType(generated.events, 'practice.views.differ').length).toBeGreaterThan(10);
    }
  });

  it('gives every decision expected outcomes and a team; an SEN panel expects learning, not safety', () => {
    const decisions = ofType(cohort.events, 'practice.decision.recorded');
    for (const decision of decisions) {
      expect(decision.data.expectedOutcomes?.length).toBeGreaterThan(0);
      expect(decision.data.team).toBeTruthy();
      expect(decision.recordedBy?.role).toBe(decision.data.decidedBy.role);
    }
    const panel = decisions.filter((decision) => decision.data.forum === 'SEN panel');
    expect(panel.length).toBeGreaterThan(2);
    for (const decision of panel)
      expect(decision.data.expectedOutcomes!.map((o) => `${o.framework}/${o.domain}`)).toEqual([
        'ecm/enjoy-and-achieve',
      ]);
  });

  it('reviews decisions in order, on time or late, continued, revised or ended, against what each expected', () => {
    const decisions = new Map(ofType(cohort.events, 'practice.decision.recorded').map((d) => [d.eventId, d]));
    const reviews = ofType(cohort.events, 'practice.decision.reviewed');
    const byDecision = new Map<string, typeof reviews>();
    for (const review of reviews)
      byDecision.set(review.data.decisionId, [...(byDecision.get(review.data.decisionId) ?? []), review]);
    let late = 0;
    for (const [decisionId, chain] of byDecision) {
      const decision = decisions.get(decisionId);
      expect(decision).toBeDefined();
      // Recorded about the same child, by the system that recorded the decision.
      expect(chain.every((review) => review.source.agency === decision!.source.agency)).toBe(true);
      expect(chain.every((review) => review.subject.recordId === decision!.subject.recordId)).toBe(true);
      expect(chain.every((review) => review.causationId === decisionId)).toBe(true);
      let due = decision!.data.reviewDate;
      let previous = decision!.data.decidedOn;
      chain.forEach((review, index) => {
        expect(review.data.reviewedOn >= previous).toBe(true);
        if (review.data.reviewedOn > addDays(due, 14)) late += 1;
        // Nothing follows an ending.
        if (review.data.outcome === 'ended') expect(index).toBe(chain.length - 1);
        else expect(review.data.nextReviewDate! > review.data.reviewedOn).toBe(true);
        expect(review.data.revisedDecision !== undefined).toBe(review.data.outcome === 'revised');
        // Each finding is about a domain the decision expected to change.
        const expected = decision!.data.expectedOutcomes!.map((o) => `${o.framework}/${o.domain}`);
        expect(review.data.againstExpected.map((j) => `${j.framework}/${j.domain}`)).toEqual(expected);
        previous = review.data.reviewedOn;
        due = review.data.nextReviewDate ?? due;
      });
    }
    expect(late).toBeGreaterThan(3);
    const outcomes = new Set(reviews.map((review) => review.data.outcome));
    expect([...outcomes].sort()).toEqual(['continued', 'ended', 'revised']);
    const judgements = new Set(
      reviews.flatMap((review) => review.data.againstExpected.map((j) => j.judgement)),
    );
    expect([...judgements].sort()).toEqual([
      'as-expected',
      'better-than-expected',
      'too-early-to-say',
      'worse-than-expected',
    ]);
  });

  it('leaves some decisions overdue and some due within 14 days of now, others open or reviewed', () => {
    const statuses = [...decisionStatuses(cohort.events, cohort.now).values()];
    for (const status of ['open', 'review-due', 'overdue', 'reviewed'] as const)
      expect(statuses.filter((s) => s === status).length).toBeGreaterThan(2);
    // A decision reviewed late was overdue in between: one whose review is still to come is overdue now.
    expect(statuses.filter((s) => s === 'reviewed').length).toBeGreaterThan(statuses.length / 4);
  });

  it('plans domains that improve, worsen and fluctuate over years, and a child with complex needs has both', () => {
    const courses = new Set(cohort.children.flatMap((child) => child.trajectories.map((t) => t.course)));
    expect([...courses].sort()).toEqual(['fluctuating', 'improving', 'steady', 'worsening']);
    let complex = 0;
    for (const child of cohort.children.filter((c) => c.needs === 'complex')) {
      const ecm = child.trajectories.filter((t) => t.framework === 'ecm');
      if (ecm.length < 2) continue;
      const own = new Set(ecm.map((t) => t.course));
      expect(own.has('improving') && own.has('worsening')).toBe(true);
      complex += 1;
    }
    expect(complex).toBeGreaterThan(5);
    const long = cohort.children
      .flatMap((child) => child.trajectories)
      .filter((t) => t.to > addDays(t.from, 3 * 365));
    expect(long.length).toBeGreaterThan(20);
  });

  it('rates each domain the way its course runs: the professional ratings of an improving domain rise, a worsening one fall', () => {
    let checked = 0;
    for (const child of cohort.children) {
      const observations = ofType(eventsOf(cohort, child), 'outcome.observation.recorded');
      for (const track of child.trajectories.filter(
        (t) => t.course === 'improving' || t.course === 'worsening',
      )) {
        const ratings = observations
          .filter(
            (o) =>
              o.data.framework === track.framework &&
              o.data.domain === track.domain &&
              o.data.perspective === 'professional' &&
              o.data.rating &&
              o.data.observedOn >= track.from &&
              o.data.observedOn <= track.to,
          )
          .map(
            (o) => (o.data.rating!.value - o.data.rating!.min) / (o.data.rating!.max - o.data.rating!.min),
          );
        if (ratings.length < 6) continue;
        const third = Math.floor(ratings.length / 3);
        const [early, late] = [mean(ratings.slice(0, third)), mean(ratings.slice(-third))];
        if (track.course === 'improving') expect(late).toBeGreaterThan(early);
        else expect(late).toBeLessThan(early);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('has the child, the family and professionals of several agencies rate safety; the family well above the social worker at first', () => {
    const safety = ofType(cohort.events, 'outcome.observation.recorded').filter(
      (o) => o.data.framework === 'signs-of-safety',
    );
    expect(new Set(safety.map((o) => o.data.perspective))).toEqual(
      new Set(['child', 'family', 'professional']),
    );
    const agencies = new Set(
      safety.filter((o) => o.data.perspective === 'professional').map((o) => o.data.observerAgency),
    );
    expect(agencies).toEqual(new Set(['social-care', 'education', 'health']));
    // Per round (child and date): the family's rating against the social worker's.
    const gaps: number[] = [];
    const rounds = new Map<string, typeof safety>();
    for (const o of safety) {
      const key = `${o.subject.recordId}/${o.data.observedOn}`;
      rounds.set(key, [...(rounds.get(key) ?? []), o]);
    }
    for (const round of rounds.values()) {
      const family = round.find((o) => o.data.perspective === 'family' && o.data.rating);
      const worker = round.find((o) => o.data.observerRole === 'social worker' && o.data.rating);
      if (family && worker) gaps.push(family.data.rating!.value - worker.data.rating!.value);
    }
    expect(mean(gaps)).toBeGreaterThan(1);
    expect(gaps.filter((gap) => gap >= 3).length).toBeGreaterThan(5);
    // Accounts without a rating sit beside the ratings.
    expect(safety.some((o) => !o.data.rating)).toBe(true);
    for (const o of safety) expect(o.recordedBy).toBeDefined();
  });

  it("hears the child's view change first: on an improving safety course the child rates above the social worker", () => {
    const gaps: number[] = [];
    for (const [generated, child] of [cohort, demo].flatMap((c) => c.children.map((x) => [c, x] as const))) {
      const observations = ofType(eventsOf(generated, child), 'outcome.observation.recorded');
      for (const track of child.trajectories.filter(
        (t) => t.domain === 'safety' && t.course === 'improving',
      )) {
        const inTrack = observations.filter(
          (o) =>
            o.data.domain === 'safety' &&
            o.data.rating &&
            o.data.observedOn >= track.from &&
            o.data.observedOn <= track.to,
        );
        for (const o of inTrack.filter((x) => x.data.perspective === 'child')) {
          const worker = inTrack.find(
            (x) => x.data.observerRole === 'social worker' && x.data.observedOn === o.data.observedOn,
          );
          if (worker) gaps.push(o.data.rating!.value - worker.data.rating!.value);
        }
      }
    }
    expect(gaps.length).toBeGreaterThan(5);
    expect(mean(gaps)).toBeGreaterThan(0.5);
  });

  it('completes a Journey of Change star (1-10) with the family and the early help worker through early help plans', () => {
    const star = ofType(cohort.events, 'outcome.observation.recorded').filter(
      (o) => o.data.framework === 'journey-of-change',
    );
    expect(star.length).toBeGreaterThan(50);
    expect(new Set(star.map((o) => o.data.perspective))).toEqual(
      new Set(['child', 'family', 'professional']),
    );
    for (const o of star) {
      if (o.data.rating)
        expect([o.data.rating.scale, o.data.rating.min, o.data.rating.max]).toEqual([
          'journey-of-change',
          1,
          10,
        ]);
      if (o.data.perspective === 'professional') expect(o.data.observerAgency).toBe('early-help');
      expect(o.recordedBy).toEqual({
        role: 'family support worker',
        agency: 'early-help',
        team: 'Early help hub',
      });
    }
  });

  it('records that views differ about the entries they refer to, also where nothing was rated', () => {
    const byId = new Map(cohort.events.map((event) => [event.eventId, event]));
    const differ = ofType(cohort.events, 'practice.views.differ');
    let unrated = 0;
    for (const record of differ) {
      const about = record.data.about.map((id) => byId.get(id));
      // Entries of the same child, recorded before (or when) the difference is.
      for (const entry of about) {
        expect(entry).toBeDefined();
        expect(entry!.occurredAt.slice(0, 10) <= record.data.recordedOn).toBe(true);
        expect(entry!.subject.dateOfBirth).toBe(record.subject.dateOfBirth);
      }
      expect(new Set(record.data.views.map((v) => v.perspective + v.role)).size).toBe(
        record.data.views.length,
      );
      const rated = about.filter(
        (entry) => entry!.type === 'outcome.observation.recorded' && entry!.data.rating !== undefined,
      );
      if (rated.length === 0) unrated += 1;
    }
    expect(unrated).toBeGreaterThan(3);
    // Some are about a decision the family disagrees with.
    expect(
      differ.some((record) => byId.get(record.data.about[0])?.type === 'practice.decision.recorded'),
    ).toBe(true);
  });

  it('says who recorded the facts a practitioner recorded, with narratives beside attendance, key stage and ASQ-3', () => {
    const events = cohort.events;
    expect(ofType(events, 'health.immunisation.given').some((e) => e.recordedBy)).toBe(false);
    for (const type of [
      'health.health-visitor-review.completed',
      'education.key-stage.assessed',
      'social-care.assessment.completed',
    ] as const)
      expect(ofType(events, type).every((e) => e.recordedBy !== undefined)).toBe(true);
    const commented = ofType(events, 'education.attendance.summarised').filter((e) => e.data.narrative);
    expect(commented.length).toBeGreaterThan(20);
    expect(commented.every((e) => e.recordedBy?.role === 'attendance officer')).toBe(true);
    expect(
      ofType(events, 'education.key-stage.assessed').filter((e) => e.data.narrative).length,
    ).toBeGreaterThan(5);
    const asq = ofType(events, 'health.health-visitor-review.completed').filter((e) => e.data.asq3);
    expect(asq.every((e) => e.data.notes)).toBe(true);
    // Some practitioners say which outcome domains a fact is evidence about.
    const declared = events.filter((e) => e.outcomeDomains);
    expect(new Set(declared.map((e) => e.type)).size).toBeGreaterThanOrEqual(3);
  });

  it('uses only the frameworks, domains and scales of the seeded framework document (infra/outcome-frameworks.json)', () => {
    const document = JSON.parse(
      readFileSync(join(__dirname, '..', '..', 'infra', 'outcome-frameworks.json'), 'utf8'),
    ) as {
      frameworks: { id: string; domains: { id: string }[]; scales: string[] }[];
      scales: { id: string; min: number; max: number }[];
    };
    const known = new Set(document.frameworks.flatMap((f) => f.domains.map((d) => `${f.id}/${d.id}`)));
    const used = new Set<string>();
    const scales = new Set<string>();
    const ref = (framework: string | undefined, domain: string | undefined) =>
      framework && domain && used.add(`${framework}/${domain}`);
    for (const event of demo.events) {
      for (const r of event.outcomeDomains ?? []) ref(r.framework, r.domain);
      switch (event.type) {
        case 'outcome.observation.recorded': {
          ref(event.data.framework, event.data.domain);
          const rating = event.data.rating;
          if (rating) scales.add(`${event.data.framework}:${rating.scale}:${rating.min}-${rating.max}`);
          break;
        }
        case 'practice.decision.recorded':
          for (const o of event.data.expectedOutcomes ?? []) ref(o.framework, o.domain);
          break;
        case 'practice.decision.reviewed':
          for (const o of event.data.againstExpected) ref(o.framework, o.domain);
          break;
        case 'practice.views.differ':
          ref(event.data.framework, event.data.domain);
          break;
        default:
          break;
      }
    }
    expect([...used].filter((d) => !known.has(d))).toEqual([]);
    const seeded = new Set(
      document.frameworks.flatMap((f) =>
        f.scales.map((id) => {
          const scale = document.scales.find((s) => s.id === id)!;
          return `${f.id}:${id}:${scale.min}-${scale.max}`;
        }),
      ),
    );
    expect([...scales].filter((s) => !seeded.has(s))).toEqual([]);
    expect(scales.size).toBeGreaterThanOrEqual(3);
  });

  it('gives the demo an example child that shows every part', () => {
    const child = exampleLinkedChild(demo);
    const story = storyOf(demo, child);
    expect(partsShown(story)).toHaveLength(ALL_PARTS);
    expect(story.perspectives).toEqual(expect.arrayContaining(['child', 'family']));
    expect(
      story.perspectives.filter((p) => p.startsWith('professional:')).map((p) => p.split(':')[1]),
    ).toEqual(expect.arrayContaining(['education', 'health', 'social-care']));
  });
});

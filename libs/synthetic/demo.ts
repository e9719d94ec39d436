import type { AgencyEvent, EventOfType } from '@throughline/contracts';
import { addDays } from './calendar';
import type { CohortOptions, SyntheticChild, SyntheticCohort } from './cohort';

/** The cohort `npm start` feeds: fixed seed and a fixed `now`, so every run posts the same event ids. */
export const DEMO_COHORT_OPTIONS: CohortOptions = {
  seed: 20261128,
  children: 240,
  startYear: 2011,
  endYear: 2026,
  now: '2026-11-01T00:00:00.000Z',
};

/**
 * The cohort size of the README's analyst example (`DEMO_CHILDREN=… npm start`): large enough
 * that at least two thirds of the measures show most of their cells of the last five years
 * (libs/synthetic/analysis-support.int.spec.ts: 12 of 17 at 5,000 children, 11 at 3,000). The
 * rarest (permanent exclusions, two-year CP plans, placement stability) stay suppressed at this
 * size, as they are for a small authority's published figures.
 */
export const ANALYST_EXAMPLE_CHILDREN = 5_000;

/** How long before its review date a decision counts as due for review (decision 015). */
export const REVIEW_DUE_WITHIN_DAYS = 14;
/** Two perspectives' ratings this far apart (share of the scale's range) disagree (decision 015). */
export const DISAGREEMENT_SHARE = 0.3;

export type DecisionStatus = 'open' | 'review-due' | 'overdue' | 'reviewed';

/** What a child's records show of issue 13, as the generator made them (the read side computes its own). */
export interface ChildStory {
  /** Domains (`framework/domain`) whose course is improving, worsening or fluctuating, begun by now. */
  readonly improving: readonly string[];
  readonly worsening: readonly string[];
  readonly fluctuating: readonly string[];
  /** Rounds where two perspectives' ratings of a domain lie at least 0.3 of the scale apart. */
  readonly disagreements: number;
  /** Perspectives that rated or described an outcome (`child`, `family`, `professional:<agency>:<role>`). */
  readonly perspectives: readonly string[];
  readonly decisions: Readonly<Record<DecisionStatus, number>>;
  readonly reviews: number;
  readonly viewsDiffer: number;
  /** Health visitor reviews with ASQ-3 scores. */
  readonly asq3: number;
  /** Key stage results (e.g. `KS2 2024/25`). */
  readonly keyStages: readonly string[];
}

function ofType<T extends AgencyEvent['type']>(events: readonly AgencyEvent[], type: T): EventOfType<T>[] {
  return events.filter((event): event is EventOfType<T> => event.type === type);
}

/** The child's events: those of every record the child holds. */
export function eventsOf(cohort: SyntheticCohort, child: SyntheticChild): AgencyEvent[] {
  const ids = new Set([
    child.records.health.recordId,
    ...child.records.education.map((record) => record.recordId),
    ...(child.records.senService ? [child.records.senService.recordId] : []),
    ...(child.records.socialCare ? [child.records.socialCare.recordId] : []),
  ]);
  return cohort.events.filter((event) => ids.has(event.subject.recordId));
}

/** Each decision's status on `now`'s date: reviewed (ended at review), overdue, review due within 14 days, or open. */
export function decisionStatuses(events: readonly AgencyEvent[], now: string): Map<string, DecisionStatus> {
  const today = now.slice(0, 10);
  const reviews = ofType(events, 'practice.decision.reviewed').sort((a, b) =>
    a.data.reviewedOn < b.data.reviewedOn ? -1 : 1,
  );
  const statuses = new Map<string, DecisionStatus>();
  for (const decision of ofType(events, 'practice.decision.recorded')) {
    const own = reviews.filter((review) => review.data.decisionId === decision.eventId);
    const latest = own[own.length - 1];
    if (latest?.data.outcome === 'ended') {
      statuses.set(decision.eventId, 'reviewed');
      continue;
    }
    const due = latest?.data.nextReviewDate ?? decision.data.reviewDate;
    statuses.set(
      decision.eventId,
      due < today ? 'overdue' : due <= addDays(today, REVIEW_DUE_WITHIN_DAYS) ? 'review-due' : 'open',
    );
  }
  return statuses;
}

export function storyOf(cohort: SyntheticCohort, child: SyntheticChild): ChildStory {
  const events = eventsOf(cohort, child);
  const today = cohort.now.slice(0, 10);
  const begun = child.trajectories.filter((t) => t.from <= today);
  const named = (course: string) =>
    [...new Set(begun.filter((t) => t.course === course).map((t) => `${t.framework}/${t.domain}`))].sort();
  const observations = ofType(events, 'outcome.observation.recorded');
  const perspectiveOf = (o: EventOfType<'outcome.observation.recorded'>) =>
    o.data.perspective === 'professional'
      ? `professional:${o.data.observerAgency ?? o.source.agency}:${o.data.observerRole}`
      : o.data.perspective;
  const rounds = new Map<string, number[]>();
  for (const o of observations) {
    const rating = o.data.rating;
    if (!rating) continue;
    const key = `${o.data.framework}/${o.data.domain}/${o.data.observedOn}`;
    rounds.set(key, [...(rounds.get(key) ?? []), (rating.value - rating.min) / (rating.max - rating.min)]);
  }
  const disagreements = [...rounds.values()].filter(
    (values) => Math.max(...values) - Math.min(...values) >= DISAGREEMENT_SHARE,
  ).length;
  const decisions: Record<DecisionStatus, number> = { open: 0, 'review-due': 0, overdue: 0, reviewed: 0 };
  for (const status of decisionStatuses(events, cohort.now).values()) decisions[status] += 1;
  return {
    improving: named('improving'),
    worsening: named('worsening'),
    fluctuating: named('fluctuating'),
    disagreements,
    perspectives: [...new Set(observations.map(perspectiveOf))].sort(),
    decisions,
    reviews: ofType(events, 'practice.decision.reviewed').length,
    viewsDiffer: ofType(events, 'practice.views.differ').length,
    asq3: ofType(events, 'health.health-visitor-review.completed').filter((e) => e.data.asq3).length,
    keyStages: ofType(events, 'education.key-stage.assessed').map(
      (e) => `${e.data.keyStage} ${e.data.academicYear}`,
    ),
  };
}

/** How many of the parts of issue 13 a child's records show. */
export function partsShown(story: ChildStory): string[] {
  const parts: [string, boolean][] = [
    ['improving', story.improving.length > 0],
    ['worsening', story.worsening.length > 0],
    ['disagreement', story.disagreements > 0],
    ['decision open', story.decisions.open > 0],
    ['decision review due', story.decisions['review-due'] > 0],
    ['decision overdue', story.decisions.overdue > 0],
    ['decision reviewed', story.decisions.reviewed > 0],
    ['views differ', story.viewsDiffer > 0],
    ['ASQ-3', story.asq3 > 0],
    ['key stage', story.keyStages.length > 0],
  ];
  return parts.filter(([, shown]) => shown).map(([part]) => part);
}

/** Every part a demo child should show. */
export const ALL_PARTS = 10;

/**
 * A child whose health, education and social-care records all link: the demo's example. Of
 * those, the one whose records show most of issue 13 (improving and worsening domains,
 * disagreement, decisions open, due, overdue and reviewed, views differ, ASQ-3 and key stage
 * results); among equals, the most eventful.
 */
export function exampleLinkedChild(cohort: SyntheticCohort): SyntheticChild {
  const linked = cohort.children.filter(
    (child) => child.linkage.linkedAcrossAllAgencies && child.linkage.groups.length === 1,
  );
  const scored = linked.map((child) => ({ child, parts: partsShown(storyOf(cohort, child)).length }));
  const best = scored.sort((a, b) => b.parts - a.parts || b.child.eventCount - a.child.eventCount)[0];
  if (!best) throw new Error('the cohort has no child linked across all three agencies');
  return best.child;
}

export interface CohortSummary {
  readonly children: number;
  readonly events: number;
  readonly eventsByAgency: Readonly<Record<string, number>>;
  readonly withEducationRecord: number;
  readonly withSocialCareRecord: number;
  readonly linkedAcrossAllAgencies: number;
  /** Children with at least one record that shares no identifier with their others. */
  readonly withUnlinkedRecord: number;
}

export function summariseCohort(cohort: SyntheticCohort): CohortSummary {
  const eventsByAgency: Record<string, number> = {};
  for (const event of cohort.events)
    eventsByAgency[event.source.agency] = (eventsByAgency[event.source.agency] ?? 0) + 1;
  const count = (predicate: (child: SyntheticChild) => boolean) => cohort.children.filter(predicate).length;
  return {
    children: cohort.children.length,
    events: cohort.events.length,
    eventsByAgency,
    withEducationRecord: count((child) => child.records.education.length > 0),
    withSocialCareRecord: count((child) => child.records.socialCare !== undefined),
    linkedAcrossAllAgencies: count((child) => child.linkage.linkedAcrossAllAgencies),
    withUnlinkedRecord: count((child) => child.linkage.unlinkedRecordIds.length > 0),
  };
}

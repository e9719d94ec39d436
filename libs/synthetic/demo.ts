import type { CohortOptions, SyntheticChild, SyntheticCohort } from './cohort';

/** The cohort `npm start` feeds: fixed seed and a fixed `now`, so every run posts the same event ids. */
export const DEMO_COHORT_OPTIONS: CohortOptions = {
  seed: 20261128,
  children: 240,
  startYear: 2011,
  endYear: 2026,
  now: '2026-11-01T00:00:00.000Z',
};

/** A child whose health, education and social-care records all link: the demo's example. */
export function exampleLinkedChild(cohort: SyntheticCohort): SyntheticChild {
  const linked = cohort.children.filter(
    (child) => child.linkage.linkedAcrossAllAgencies && child.linkage.groups.length === 1,
  );
  // The most eventful linked child makes the richest chronology to show.
  const richest = [...linked].sort((a, b) => b.eventCount - a.eventCount)[0];
  if (!richest) throw new Error('the cohort has no child linked across all three agencies');
  return richest;
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

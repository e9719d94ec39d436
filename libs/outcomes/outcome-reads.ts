import type { Requester } from '@throughline/access';
import type { ChildTimeline, TimelineQueries } from '@throughline/timeline';
import { decisionsOf } from './decisions';
import type { FrameworkStore } from './framework-store';
import { outcomesOf } from './outcomes';
import type { ChildDecisions, ChildOutcomes, OutcomesQuery, ReviewsDue, ReviewsDueQuery } from './responses';
import type { ReviewsDueQueries } from './reviews-due';

export interface OutcomeSettings {
  /** REVIEW_DUE_DAYS (days). */
  readonly reviewDueDays: number;
  /** DISAGREEMENT_THRESHOLD (share of a scale's range, 0–1). */
  readonly disagreementThreshold: number;
}

/** What every per-child answer carries from the chronology read it was derived from. */
export type Governed<T> = T & { readonly childKey: string } & Pick<ChildTimeline, 'withheld' | 'access'>;
export type GovernedOutcomes = Governed<ChildOutcomes>;
export type GovernedDecisions = Governed<ChildDecisions>;

const today = (): string => new Date().toISOString().slice(0, 10);

/**
 * The outcome read side: each per-child answer is derived from the chronology as this reader
 * may see it (TimelineQueries.timelineOf decides every entry by the access policy, writes the
 * access note and any CP-IS notification), so nothing withheld there leaks through an outcome
 * series; the answer carries the same `withheld` and `access`.
 */
export class OutcomeReads {
  constructor(
    private readonly timeline: Pick<TimelineQueries, 'entriesOf'>,
    private readonly frameworks: Pick<FrameworkStore, 'current'>,
    private readonly reviews: Pick<ReviewsDueQueries, 'reviewsDue'>,
    private readonly settings: OutcomeSettings,
  ) {}

  async outcomes(
    childKey: string,
    query: OutcomesQuery,
    requester: Requester,
  ): Promise<Governed<ChildOutcomes>> {
    const { version, document } = this.frameworks.current();
    const timeline = await this.timeline.entriesOf(childKey, requester);
    const outcomes = outcomesOf({
      entries: timeline.entries,
      document,
      documentVersion: version,
      dateOfBirth: timeline.dateOfBirth,
      framework: query.framework,
      from: query.from,
      to: query.to,
      period: query.period,
      threshold: this.settings.disagreementThreshold,
    });
    return { childKey: timeline.childKey, ...outcomes, withheld: timeline.withheld, access: timeline.access };
  }

  async decisions(childKey: string, requester: Requester): Promise<Governed<ChildDecisions>> {
    const { document } = this.frameworks.current();
    const timeline = await this.timeline.entriesOf(childKey, requester);
    const decisions = decisionsOf({
      entries: timeline.entries,
      document,
      today: today(),
      reviewDueDays: this.settings.reviewDueDays,
    });
    return {
      childKey: timeline.childKey,
      ...decisions,
      withheld: timeline.withheld,
      access: timeline.access,
    };
  }

  reviewsDue(query: ReviewsDueQuery, requester: Requester): Promise<ReviewsDue> {
    return this.reviews.reviewsDue(query, requester, {
      today: today(),
      reviewDueDays: this.settings.reviewDueDays,
    });
  }
}

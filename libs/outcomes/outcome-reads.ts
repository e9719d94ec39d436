import type { Requester } from '@throughline/access';
import type { ChildTimeline, TimelineQueries } from '@throughline/timeline';
import { AnswerCache } from './answer-cache';
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
  /** OUTCOMES_ANSWER_CACHE_MB: derived answers kept as JSON (MiB; 0 turns it off). */
  readonly answerCacheMb?: number;
}

/** Derived answers kept by default (OUTCOMES_ANSWER_CACHE_MB): a few dozen long chronologies. */
export const DEFAULT_ANSWER_CACHE_MB = 32;

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
  private readonly answers: AnswerCache;

  constructor(
    private readonly timeline: Pick<TimelineQueries, 'entriesOf'>,
    private readonly frameworks: Pick<FrameworkStore, 'current'>,
    private readonly reviews: Pick<ReviewsDueQueries, 'reviewsDue'>,
    private readonly settings: OutcomeSettings,
  ) {
    this.answers = new AnswerCache((settings.answerCacheMb ?? DEFAULT_ANSWER_CACHE_MB) * 1024 * 1024);
  }

  /** Forgets the answers kept: the timeline now lives in another generation (decision 023). */
  forgetAnswers(): void {
    this.answers.clear();
  }

  async outcomes(childKey: string, query: OutcomesQuery, requester: Requester): Promise<GovernedOutcomes> {
    const { timeline, derive } = await this.outcomesRead(childKey, query, requester);
    return { childKey: timeline.childKey, ...derive(), withheld: timeline.withheld, access: timeline.access };
  }

  /** The same answer as `outcomes`, as the JSON the API sends; the derivation is kept for the next read. */
  async outcomesJson(childKey: string, query: OutcomesQuery, requester: Requester): Promise<string> {
    const { timeline, key, derive } = await this.outcomesRead(childKey, query, requester);
    return governedJson(timeline, this.derivedJson(key, derive));
  }

  async decisions(childKey: string, requester: Requester): Promise<GovernedDecisions> {
    const { timeline, derive } = await this.decisionsRead(childKey, requester);
    return { childKey: timeline.childKey, ...derive(), withheld: timeline.withheld, access: timeline.access };
  }

  /** The same answer as `decisions`, as the JSON the API sends; the derivation is kept for the next read. */
  async decisionsJson(childKey: string, requester: Requester): Promise<string> {
    const { timeline, key, derive } = await this.decisionsRead(childKey, requester);
    return governedJson(timeline, this.derivedJson(key, derive));
  }

  /** The chronology this reader may see (decided and noted for the access record), and how to derive from it. */
  private async outcomesRead(childKey: string, query: OutcomesQuery, requester: Requester) {
    const { version, document } = this.frameworks.current();
    const timeline = await this.timeline.entriesOf(childKey, requester);
    const inputs = [
      timeline.childKey,
      timeline.dateOfBirth,
      query.framework,
      query.from,
      query.to,
      query.period,
    ];
    return {
      timeline,
      key: AnswerCache.keyOf(['outcomes', version, ...inputs], positionsOf(timeline.entries)),
      derive: (): ChildOutcomes =>
        outcomesOf({
          entries: timeline.entries,
          document,
          documentVersion: version,
          dateOfBirth: timeline.dateOfBirth,
          framework: query.framework,
          from: query.from,
          to: query.to,
          period: query.period,
          threshold: this.settings.disagreementThreshold,
        }),
    };
  }

  private async decisionsRead(childKey: string, requester: Requester) {
    const { version, document } = this.frameworks.current();
    const timeline = await this.timeline.entriesOf(childKey, requester);
    const on = today();
    return {
      timeline,
      key: AnswerCache.keyOf(['decisions', version, timeline.childKey, on], positionsOf(timeline.entries)),
      derive: (): ChildDecisions =>
        decisionsOf({
          entries: timeline.entries,
          document,
          today: on,
          reviewDueDays: this.settings.reviewDueDays,
        }),
    };
  }

  /** The derived answer's members as JSON (without braces), from the cache or derived now and kept. */
  private derivedJson(key: string, derive: () => object): string {
    const held = this.answers.get(key);
    if (held !== undefined) return held;
    const json = JSON.stringify(derive()).slice(1, -1);
    this.answers.set(key, json);
    return json;
  }

  reviewsDue(query: ReviewsDueQuery, requester: Requester): Promise<ReviewsDue> {
    return this.reviews.reviewsDue(query, requester, {
      today: today(),
      reviewDueDays: this.settings.reviewDueDays,
    });
  }
}

const positionsOf = (entries: readonly { readonly position: number }[]): number[] =>
  entries.map((entry) => entry.position);

/** `{childKey, ...derived, withheld, access}` as JSON, in the order the object answer has its members. */
function governedJson(
  timeline: Pick<ChildTimeline, 'childKey' | 'withheld' | 'access'>,
  derived: string,
): string {
  const members = [
    `"childKey":${JSON.stringify(timeline.childKey)}`,
    derived,
    `"withheld":${JSON.stringify(timeline.withheld)}`,
    `"access":${JSON.stringify(timeline.access)}`,
  ];
  return `{${members.filter((member) => member !== '').join(',')}}`;
}

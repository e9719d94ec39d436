import type { EntryView } from '@throughline/timeline';
import { daysBetween } from './calendar';
import { byDateThenPosition, compareText, domainResolverOf } from './domains';
import { readEntry, type ReadEntry, type ReadReview } from './entry-reading';
import type { DomainRef, FrameworkDocument } from './framework-document';
import type { ChildDecisions, DecisionStatus, DecisionView, EvidenceEntry } from './responses';

export interface DecisionsInput {
  /** The entries the reader may see (already decided by the access policy), in any order. */
  readonly entries: readonly EntryView[];
  readonly document: FrameworkDocument;
  /** YYYY-MM-DD. */
  readonly today: string;
  /** REVIEW_DUE_DAYS: a review this many days away or fewer is `review-due`. */
  readonly reviewDueDays: number;
}

/**
 * A decision's status on `today`: `reviewed` once a review ended it; otherwise by its next
 * review date: `overdue` when past, `review-due` within `reviewDueDays`, else `open`.
 */
export function decisionStatus(
  nextReviewDate: string | undefined,
  latestReview: Pick<ReadReview, 'outcome'> | undefined,
  today: string,
  reviewDueDays: number,
): DecisionStatus {
  if (latestReview?.outcome === 'ended') return 'reviewed';
  if (!nextReviewDate) return 'open';
  const days = daysBetween(today, nextReviewDate);
  if (days < 0) return 'overdue';
  if (days <= reviewDueDays) return 'review-due';
  return 'open';
}

/**
 * Each decision the reader may see, with its reasoning as recorded, its reviews in order, its
 * status, and "since this decision": the observations and indicators in the domains it expected
 * to change, between the decision and its (next) review, by perspective.
 */
export function decisionsOf(input: DecisionsInput): ChildDecisions {
  const { document, today, reviewDueDays } = input;
  const resolver = domainResolverOf(document);
  const read = input.entries.map(readEntry).sort((a, b) => byDateThenPosition(a, b));
  const reviewsOf = new Map<string, ReadEntry[]>();
  for (const entry of read)
    if (entry.review) {
      const list = reviewsOf.get(entry.review.decisionId) ?? [];
      list.push(entry);
      reviewsOf.set(entry.review.decisionId, list);
    }
  // Accounts and measures; a recorded "views differ" holds several perspectives and is shown
  // beside its domain in the outcomes instead.
  const evidence = read.filter(
    (entry) => !entry.viewsDiffer && (entry.kind === 'observation' || entry.indicators.length > 0),
  );

  const cited = new Map<number, EvidenceEntry>();
  const decisions = read.flatMap((entry): DecisionView[] => {
    const decision = entry.decision;
    if (!decision) return [];
    const reviews = (reviewsOf.get(entry.eventId) ?? []).filter(
      (r) => r.review && r.review.reviewedOn >= decision.decidedOn,
    );
    const latest = reviews.at(-1)?.review;
    const nextReviewDate = latest
      ? latest.outcome === 'ended'
        ? undefined
        : latest.nextReviewDate
      : decision.reviewDate;
    const status = decisionStatus(nextReviewDate, latest, today, reviewDueDays);
    const until = latest?.outcome === 'ended' ? latest.reviewedOn : nextReviewDate;
    // Expected outcomes say where to look; a decision recorded without them is looked at in its own domains.
    const expected: DomainRef[] =
      decision.expectedOutcomes.length > 0
        ? decision.expectedOutcomes.map(({ framework, domain }) => ({ framework, domain }))
        : document.frameworks.flatMap((f) =>
            resolver.domainsOf(entry, f.id).map((domain) => ({ framework: f.id, domain })),
          );
    const byPerspective = new Map<string, DecisionView['since']['byPerspective'][number]['entries']>();
    // Evidence is in date order: start at the decision, stop after the window.
    for (let at = firstOnOrAfter(evidence, decision.decidedOn); at < evidence.length; at++) {
      const candidate = evidence[at];
      if (until && candidate.date > until) break;
      if (candidate.eventId === entry.eventId) continue;
      const hit = expected.find((ref) => resolver.domainsOf(candidate, ref.framework).includes(ref.domain));
      if (!hit) continue;
      const perspective = candidate.perspectiveKey ?? 'unattributed';
      const list = byPerspective.get(perspective) ?? [];
      list.push({ position: candidate.position, framework: hit.framework, domain: hit.domain });
      if (!cited.has(candidate.position))
        cited.set(candidate.position, {
          position: candidate.position,
          eventId: candidate.eventId,
          date: candidate.date,
          type: candidate.type,
          ...(candidate.narrative ? { narrative: candidate.narrative } : {}),
          indicators: candidate.indicators.map((i) => ({
            name: i.name,
            value: i.value,
            ...(i.unit ? { unit: i.unit } : {}),
          })),
          ...(candidate.confidence ? { confidence: candidate.confidence } : {}),
        });
      byPerspective.set(perspective, list);
    }
    return [
      {
        position: entry.position,
        eventId: entry.eventId,
        decidedOn: decision.decidedOn,
        decision: decision.decision,
        ...(decision.rationale ? { rationale: decision.rationale } : {}),
        optionsConsidered: decision.optionsConsidered.map((o) => ({ ...o })),
        ...(decision.uncertainty ? { uncertainty: decision.uncertainty } : {}),
        ...(decision.confidence ? { confidence: decision.confidence } : {}),
        ...(decision.decidedBy ? { decidedBy: { ...decision.decidedBy } } : {}),
        ...(decision.forum ? { forum: decision.forum } : {}),
        ...(decision.team ? { team: decision.team } : {}),
        expectedOutcomes: decision.expectedOutcomes.map((e) => ({ ...e })),
        ...(decision.reviewDate ? { reviewDate: decision.reviewDate } : {}),
        ...(nextReviewDate ? { nextReviewDate } : {}),
        reviews: reviews.map((r) => {
          const review = r.review as ReadReview;
          const { decisionId: _decisionId, againstExpected, reviewedBy, ...rest } = review;
          return {
            position: r.position,
            eventId: r.eventId,
            ...rest,
            againstExpected: againstExpected.map((a) => ({ ...a })),
            ...(reviewedBy ? { reviewedBy: { ...reviewedBy } } : {}),
          };
        }),
        status,
        since: {
          from: decision.decidedOn,
          ...(until ? { until } : {}),
          byPerspective: [...byPerspective.entries()]
            .sort(([a], [b]) => compareText(a, b))
            .map(([perspective, entries]) => ({ perspective, entries })),
        },
      },
    ];
  });
  return {
    today,
    reviewDueDays,
    decisions,
    evidence: [...cited.values()].sort((a, b) => a.position - b.position),
  };
}

/** The index of the first entry dated on or after `date` (entries in date order). */
function firstOnOrAfter(entries: readonly ReadEntry[], date: string): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (entries[middle].date < date) low = middle + 1;
    else high = middle;
  }
  return low;
}

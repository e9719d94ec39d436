import type { Pool } from 'pg';
import {
  entryDecider,
  noteAccess,
  summariseWithheld,
  type EntryDecision,
  type Requester,
} from '@throughline/access';
import { decisionStatus } from './decisions';
import type { ReviewsDue } from './responses';

interface DueRow {
  readonly child_key: string;
  readonly event_id: string;
  readonly agency: string;
  readonly type: string;
  readonly special_categories: string[];
  readonly source_organisation: string | null;
  readonly decision: string;
  readonly decided_on: string;
  readonly team: string | null;
  readonly review_date: string;
}

/**
 * A supervisor's list across children: every decision whose (next) review falls on or before
 * `before` and that no review has ended, for one team or all. Each row is decided by the access
 * policy like a chronology entry, so a reader sees only decisions they could see in the child's
 * chronology; one access record names every child in the answer.
 */
export class ReviewsDueQueries {
  constructor(private readonly pool: Pool) {}

  async reviewsDue(
    query: { readonly team?: string; readonly before?: string },
    requester: Requester,
    settings: { readonly today: string; readonly reviewDueDays: number },
  ): Promise<ReviewsDue> {
    const before = query.before ?? addDays(settings.today, settings.reviewDueDays);
    // The latest review of each decision (reviews name their decision by eventId) gives the next
    // review date, or ends it; a decision never reviewed is due on its own review date.
    const result = await this.pool.query<DueRow>(
      `WITH decisions AS (
         SELECT te.event_id, te.agency, te.type, te.special_categories, te.source_organisation, te.stream_id,
                coalesce(te.details->'decision'->>'decision', te.summary) AS decision,
                coalesce(te.details->'decision'->>'decidedOn', to_char(te.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')) AS decided_on,
                coalesce(te.details->'decision'->>'team', te.details->'recordedBy'->>'team') AS team,
                coalesce(te.details->'decision'->>'reviewDate', te.details->>'reviewDate') AS first_review_date
         FROM timeline_entries te
         WHERE te.type = 'practice.decision.recorded'
       ),
       latest_review AS (
         SELECT DISTINCT ON (te.details->'review'->>'decisionId')
                te.details->'review'->>'decisionId' AS decision_id,
                te.details->'review'->>'outcome' AS outcome,
                te.details->'review'->>'nextReviewDate' AS next_review_date
         FROM timeline_entries te
         WHERE te.type = 'practice.decision.reviewed' AND te.details->'review'->>'decisionId' IS NOT NULL
         ORDER BY te.details->'review'->>'decisionId', te.details->'review'->>'reviewedOn' DESC, te.position DESC
       )
       SELECT sr.child_key, d.event_id, d.agency, d.type, d.special_categories, d.source_organisation,
              d.decision, d.decided_on, d.team, coalesce(lr.next_review_date, d.first_review_date) AS review_date
       FROM decisions d
       JOIN subject_records sr ON sr.stream_id = d.stream_id
       LEFT JOIN latest_review lr ON lr.decision_id = d.event_id
       WHERE (lr.outcome IS NULL OR lr.outcome <> 'ended')
         AND coalesce(lr.next_review_date, d.first_review_date) <= $1
         AND ($2::text IS NULL OR lower(d.team) = lower($2))
       ORDER BY review_date, sr.child_key, d.event_id`,
      [before, query.team ?? null],
    );
    const decide = entryDecider(
      requester.policy,
      { principal: requester.principal, purpose: requester.purpose, roles: requester.roles },
      new Date(),
    );
    const decisions: EntryDecision[] = [];
    const reviews: ReviewsDue['reviews'] = [];
    for (const row of result.rows) {
      const decision = decide({
        agency: row.agency,
        type: row.type,
        specialCategories: row.special_categories,
        sourceOrganisation: row.source_organisation ?? undefined,
      });
      decisions.push(decision);
      if (!decision.visible) continue;
      reviews.push({
        childKey: row.child_key,
        eventId: row.event_id,
        decision: row.decision,
        decidedOn: row.decided_on,
        ...(row.team ? { team: row.team } : {}),
        reviewDate: row.review_date,
        status: decisionStatus(row.review_date, undefined, settings.today, settings.reviewDueDays),
      });
    }
    // In the policy's own words, as a chronology's answer says what it withheld.
    const withheld = summariseWithheld(decisions);
    const childKeys = [...new Set(reviews.map((review) => review.childKey))];
    noteAccess(requester, {
      childKeys,
      returned: reviews.length,
      withheld,
      extra: { before, ...(query.team ? { team: query.team } : {}) },
    });
    return { before, ...(query.team ? { team: query.team } : {}), reviews, withheld };
  }
}

function addDays(date: string, days: number): string {
  const at = new Date(`${date}T00:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().slice(0, 10);
}

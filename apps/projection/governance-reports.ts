import type { Pool } from 'pg';
import {
  agreementRef,
  agreementsSharing,
  type AccessPolicy,
  type PolicySnapshot,
  type Withheld,
} from '@throughline/access';

/**
 * What information governance reads across contexts: the flows of events per data-sharing
 * agreement (the event store, the gateways' rejections, the dead letters and their re-drives)
 * and the access log. Read-only SQL over tables the contexts own; the contexts' migrations made
 * them and grant the apps' role SELECT.
 */

/** A period [from, to). */
export interface Period {
  readonly from: Date;
  readonly to: Date;
}

/** Which clock each count of a flow goes by (every day is a UTC date). */
export const FLOW_TIME_BASIS = {
  accepted: 'when the event store recorded the event (events.recorded_at), not when it occurred',
  rejected: "the agency service's clock when it answered the publisher (gateway_rejections.rejected_at)",
  deadLettered: 'when the recorder dead-lettered the message (dead_letters.dead_lettered_at)',
  redriven: 'when the dead letter was first re-driven successfully (dead_letters.redriven_at)',
} as const;

/** One agreement's (or no agreement's) share of one flow: counts of one day, agency, publisher, type. */
export interface FlowRow {
  readonly day: string;
  /** `id@version` of an agreement in force that shares such events; null: none shares them. */
  readonly agreement: string | null;
  readonly agreementTitle: string | null;
  readonly providingAgency: string;
  /** The recording organisation, when known (not for a dead letter that is not JSON). */
  readonly sourceOrganisation: string | null;
  /** The publisher the agency service authenticated. */
  readonly publisher: string | null;
  /** A type of the contracts, or `unknown` (a rejected event that named none). */
  readonly eventType: string;
  /** Recorded in the event store straight from Kafka (re-driven events are counted in `redriven`). */
  readonly accepted: number;
  /** Rejected by the agency service (events). */
  readonly rejected: number;
  /** Rejected events per failing rule (an event failing two rules counts under each). */
  readonly rejectedByRule: Readonly<Record<string, number>>;
  readonly deadLettered: number;
  readonly redriven: number;
}

export interface FlowTotals {
  readonly accepted: number;
  readonly rejected: number;
  readonly deadLettered: number;
  readonly redriven: number;
}

export interface FlowReport {
  readonly period: { readonly from: string; readonly to: string };
  /** The policy version whose agreements the flows are mapped to. */
  readonly policyVersion: number;
  readonly timeBasis: typeof FLOW_TIME_BASIS;
  /** Each flow once per agreement that shares it, or once with agreement null. */
  readonly flows: readonly FlowRow[];
  /** Over the flows themselves (an event shared under two agreements counts once). */
  readonly totals: FlowTotals;
  /** What the report could not count, if anything. */
  readonly notes: readonly string[];
}

interface FlowKey {
  readonly day: string;
  readonly agency: string;
  readonly organisation: string | null;
  readonly publisher: string | null;
  readonly type: string;
}

interface Counts {
  accepted: number;
  rejected: number;
  rejectedByRule: Record<string, number>;
  deadLettered: number;
  redriven: number;
}

type CountRow = {
  day: string;
  agency: string | null;
  organisation: string | null;
  publisher: string | null;
  type: string | null;
  n: number;
};

const AGENCY_OF_TOPIC = String.raw`(health|education|social-care)\.events\.v1$`;

/** Per flow: SELECT day, agency, organisation, publisher, type, count(*) AS n. */
const DAY = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;

const ACCEPTED_SQL = `
  SELECT ${DAY('recorded_at')} AS day, data->'source'->>'agency' AS agency,
         data->'source'->>'organisation' AS organisation, metadata->>'publisher' AS publisher,
         type, count(*)::int AS n
  FROM events
  WHERE recorded_at >= $1 AND recorded_at < $2
    AND metadata->>'recordedBy' = 'recorder' AND metadata->>'redrivenFrom' IS NULL
  GROUP BY 1, 2, 3, 4, 5`;

const REJECTED_SQL = `
  SELECT ${DAY('rejected_at')} AS day, agency, source_organisation AS organisation, publisher,
         event_type AS type, count(*)::int AS n
  FROM gateway_rejections WHERE rejected_at >= $1 AND rejected_at < $2
  GROUP BY 1, 2, 3, 4, 5`;

const REJECTED_BY_RULE_SQL = `
  SELECT ${DAY('rejected_at')} AS day, agency, source_organisation AS organisation, publisher,
         event_type AS type, rule, count(*)::int AS n
  FROM gateway_rejections, unnest(rules) AS rule
  WHERE rejected_at >= $1 AND rejected_at < $2
  GROUP BY 1, 2, 3, 4, 5, 6`;

const deadLetterSql = (column: 'dead_lettered_at' | 'redriven_at') => `
  SELECT ${DAY(column)} AS day, substring(topic from '${AGENCY_OF_TOPIC}') AS agency,
         dead_letter_json(value)->'source'->>'organisation' AS organisation,
         headers->>'publisher' AS publisher, headers->>'event-type' AS type, count(*)::int AS n
  FROM dead_letters WHERE ${column} >= $1 AND ${column} < $2
  GROUP BY 1, 2, 3, 4, 5`;

function keyOf(row: Omit<CountRow, 'n'>): FlowKey {
  return {
    day: row.day,
    agency: row.agency ?? 'unknown',
    organisation: row.organisation,
    publisher: row.publisher,
    type: row.type ?? 'unknown',
  };
}

function keyText(key: FlowKey): string {
  return JSON.stringify([key.day, key.agency, key.organisation, key.publisher, key.type]);
}

const compareText = (a: string | null, b: string | null): number =>
  a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0;

/**
 * Maps counted flows to the agreements that share them: one row per agreement (so an event
 * shared under two agreements is in both rows), or one row with agreement null. Pure.
 */
export function flowRowsOf(
  document: AccessPolicy,
  counted: ReadonlyMap<string, { key: FlowKey; counts: Counts }>,
): FlowRow[] {
  const rows: FlowRow[] = [];
  for (const { key, counts } of counted.values()) {
    const sharing = agreementsSharing(document, {
      agency: key.agency,
      type: key.type,
      sourceOrganisation: key.organisation,
      day: key.day,
    });
    const base = {
      day: key.day,
      providingAgency: key.agency,
      sourceOrganisation: key.organisation,
      publisher: key.publisher,
      eventType: key.type,
      ...counts,
    };
    if (sharing.length === 0) rows.push({ ...base, agreement: null, agreementTitle: null });
    for (const agreement of sharing)
      rows.push({ ...base, agreement: agreementRef(agreement), agreementTitle: agreement.title });
  }
  return rows.sort(
    (a, b) =>
      compareText(a.day, b.day) ||
      compareText(a.agreement, b.agreement) ||
      compareText(a.providingAgency, b.providingAgency) ||
      compareText(a.sourceOrganisation, b.sourceOrganisation) ||
      compareText(a.publisher, b.publisher) ||
      compareText(a.eventType, b.eventType),
  );
}

/** One access_log row as information governance reads it. */
export interface AccessRecordRow {
  readonly seq: string;
  readonly accessedAt: string;
  readonly user: string;
  readonly userName: string | null;
  readonly organisation: string | null;
  readonly organisationType: string | null;
  readonly principalKind: string | null;
  /** The roles the policy granted the access under (space-separated); null on a refusal. */
  readonly grantedRoles: string | null;
  readonly purpose: string;
  readonly action: string;
  readonly requestedChildKey: string | null;
  readonly childKey: string | null;
  readonly childKeys: readonly string[];
  readonly returned: number;
  readonly withheld: readonly Withheld[];
  /** The agreements the answer was shared under (`id@version`). */
  readonly agreements: readonly string[];
  readonly breakGlass: { readonly id: string; readonly reason: string; readonly expiresAt: string } | null;
  readonly policyVersion: number | null;
  readonly outcome: string;
  readonly refusal: string | null;
  /** The request's own filters and the like (never child data). */
  readonly extra: Record<string, unknown> | null;
}

export interface AccessQuery extends Period {
  readonly child?: string;
  readonly user?: string;
  readonly limit: number;
}

export interface AccessReport {
  readonly period: { readonly from: string; readonly to: string };
  readonly filters: { readonly child: string | null; readonly user: string | null };
  /** Newest first. */
  readonly records: readonly AccessRecordRow[];
  /** More records matched than `limit`: narrow the period or the filters. */
  readonly truncated: boolean;
}

interface AccessLogRow {
  seq: string;
  accessed_at: Date;
  user_id: string;
  user_role: string | null;
  purpose: string;
  action: string;
  requested_child_key: string | null;
  child_key: string | null;
  returned_entries: number;
  withheld: Withheld[] | null;
  outcome: string;
  details: {
    principal?: { kind?: string; name?: string; organisation?: { code?: string; type?: string } } | null;
    policyVersion?: number;
    agreements?: string[];
    childKeys?: string[];
    breakGlass?: { id: string; reason: string; expiresAt: string };
    refusal?: string;
    extra?: Record<string, unknown>;
  } | null;
}

function accessRecordOf(row: AccessLogRow): AccessRecordRow {
  const details = row.details ?? {};
  const principal = details.principal ?? null;
  return {
    seq: String(row.seq),
    accessedAt: row.accessed_at.toISOString(),
    user: row.user_id,
    userName: principal?.name ?? null,
    organisation: principal?.organisation?.code ?? null,
    organisationType: principal?.organisation?.type ?? null,
    principalKind: principal?.kind ?? null,
    grantedRoles: row.user_role,
    purpose: row.purpose,
    action: row.action,
    requestedChildKey: row.requested_child_key,
    childKey: row.child_key,
    childKeys: details.childKeys ?? [],
    returned: row.returned_entries,
    withheld: row.withheld ?? [],
    agreements: details.agreements ?? [],
    breakGlass: details.breakGlass ?? null,
    policyVersion: details.policyVersion ?? null,
    outcome: row.outcome,
    refusal: details.refusal ?? null,
    extra: details.extra ?? null,
  };
}

export class GovernanceReports {
  constructor(private readonly pool: Pool) {}

  /** Accepted, rejected, dead-lettered and re-driven events per agreement, agency, publisher, type and day. */
  async flows(period: Period, policy: PolicySnapshot): Promise<FlowReport> {
    const params = [period.from, period.to];
    const notes: string[] = [];
    const exists = await this.pool.query<{ events: boolean }>(
      `SELECT to_regclass('events') IS NOT NULL AS events`,
    );
    const noRows = Promise.resolve({ rows: [] as CountRow[] });
    if (!exists.rows[0].events)
      notes.push(
        'accepted: not counted, the event store is not in this database (EVENT_STORE other than postgres)',
      );
    const [accepted, rejected, byRule, deadLettered, redriven] = await Promise.all([
      exists.rows[0].events ? this.pool.query<CountRow>(ACCEPTED_SQL, params) : noRows,
      this.pool.query<CountRow>(REJECTED_SQL, params),
      this.pool.query<CountRow & { rule: string }>(REJECTED_BY_RULE_SQL, params),
      this.pool.query<CountRow>(deadLetterSql('dead_lettered_at'), params),
      this.pool.query<CountRow>(deadLetterSql('redriven_at'), params),
    ]);
    const counted = new Map<string, { key: FlowKey; counts: Counts }>();
    const countsOf = (row: Omit<CountRow, 'n'>): Counts => {
      const key = keyOf(row);
      const text = keyText(key);
      let entry = counted.get(text);
      if (!entry) {
        entry = {
          key,
          counts: { accepted: 0, rejected: 0, rejectedByRule: {}, deadLettered: 0, redriven: 0 },
        };
        counted.set(text, entry);
      }
      return entry.counts;
    };
    for (const row of accepted.rows) countsOf(row).accepted += row.n;
    for (const row of rejected.rows) countsOf(row).rejected += row.n;
    for (const row of byRule.rows) {
      const counts = countsOf(row);
      counts.rejectedByRule[row.rule] = (counts.rejectedByRule[row.rule] ?? 0) + row.n;
    }
    for (const row of deadLettered.rows) countsOf(row).deadLettered += row.n;
    for (const row of redriven.rows) countsOf(row).redriven += row.n;
    const totals = { accepted: 0, rejected: 0, deadLettered: 0, redriven: 0 };
    for (const { counts } of counted.values()) {
      totals.accepted += counts.accepted;
      totals.rejected += counts.rejected;
      totals.deadLettered += counts.deadLettered;
      totals.redriven += counts.redriven;
    }
    return {
      period: { from: period.from.toISOString(), to: period.to.toISOString() },
      policyVersion: policy.version,
      timeBasis: FLOW_TIME_BASIS,
      flows: flowRowsOf(policy.document, counted),
      totals,
      notes,
    };
  }

  /** Who read what, why, under which agreement, what was withheld, and the outcome: newest first. */
  async access(query: AccessQuery): Promise<AccessReport> {
    const result = await this.pool.query<AccessLogRow>(
      `SELECT seq, accessed_at, user_id, user_role, purpose, action, requested_child_key, child_key,
              returned_entries, withheld, outcome, details
       FROM access_log
       WHERE accessed_at >= $1 AND accessed_at < $2
         AND ($3::text IS NULL OR child_key = $3 OR requested_child_key = $3
              OR coalesce(details->'childKeys', '[]'::jsonb) ? $3)
         AND ($4::text IS NULL OR user_id = $4)
       ORDER BY accessed_at DESC, seq DESC
       LIMIT $5`,
      [query.from, query.to, query.child ?? null, query.user ?? null, query.limit + 1],
    );
    const rows = result.rows.slice(0, query.limit);
    return {
      period: { from: query.from.toISOString(), to: query.to.toISOString() },
      filters: { child: query.child ?? null, user: query.user ?? null },
      records: rows.map(accessRecordOf),
      truncated: result.rows.length > query.limit,
    };
  }
}

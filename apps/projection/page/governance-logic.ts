// The governance page's pure logic, no DOM: built into the page's first script block (global
// GovernanceLogic) and run on its own by the tests. What the page reads from the governance API.

export interface FlowRow {
  day: string;
  agreement: string | null;
  agreementTitle: string | null;
  providingAgency: string;
  sourceOrganisation: string | null;
  publisher: string | null;
  eventType: string;
  accepted: number;
  rejected: number;
  rejectedByRule: Record<string, number>;
  deadLettered: number;
  redriven: number;
}

export interface Counts {
  accepted: number;
  rejected: number;
  deadLettered: number;
  redriven: number;
}

export interface FlowReport {
  period: { from: string; to: string };
  policyVersion: number;
  flows: FlowRow[];
  totals: Counts;
  notes: string[];
}

export interface AccessRecord {
  seq: string;
  accessedAt: string;
  user: string;
  userName: string | null;
  organisation: string | null;
  grantedRoles: string | null;
  purpose: string;
  action: string;
  requestedChildKey: string | null;
  childKey: string | null;
  childKeys: string[];
  returned: number;
  withheld: { count: number; reason: string }[];
  agreements: string[];
  breakGlass: { id: string; reason: string; expiresAt: string } | null;
  outcome: string;
  refusal: string | null;
}

export interface AccessReport {
  records: AccessRecord[];
  truncated: boolean;
}

export interface BreakGlassGrant {
  id: string;
  userId: string;
  organisation: string;
  roles: string[];
  purpose: string;
  childKey: string;
  reason: string;
  grantedAt: string;
  expiresAt: string;
}

export interface PolicyVersion {
  version: number;
  sha256: string;
  loadedAt: string;
  loadedBy: string;
  organisation?: string;
  reason: string;
  title: string;
  agreements: number;
}

/** The body of a refusal (ThroughlineError's JSON). */
export interface ErrorBody {
  error?: string;
  message?: string;
  issues?: { path: string; message: string }[];
}

export const CHILD_KEY = /^ch_[0-9a-f]{20}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** YYYY-MM-DD of a date (UTC). */
export function dayOf(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The default period the page opens with: the last 30 days, today included. */
export function defaultDays(now: Date): { from: string; to: string } {
  return { from: dayOf(new Date(now.getTime() - 29 * DAY_MS)), to: dayOf(now) };
}

/**
 * The API's period [from, to) for the days an officer chose, both included (UTC): from's
 * midnight to the midnight after `to`. Undefined for a day that is not a date.
 */
export function periodOfDays(fromDay: string, toDay: string): { from: string; to: string } | undefined {
  if (!DAY.test(fromDay) || !DAY.test(toDay)) return undefined;
  const from = new Date(`${fromDay}T00:00:00Z`);
  const to = new Date(new Date(`${toDay}T00:00:00Z`).getTime() + DAY_MS);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) return undefined;
  return { from: from.toISOString(), to: to.toISOString() };
}

/** A query string from the values that are set (`?a=1&b=2`, or '' when none is). */
export function queryOf(values: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value) params.set(name, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}

export interface AgreementFlows {
  /** `id@version`, or null for flows no agreement shares. */
  agreement: string | null;
  title: string | null;
  rows: FlowRow[];
  totals: Counts;
}

/** The flows grouped per agreement (agreements in name order, unshared flows last), rows by day. */
export function flowsByAgreement(flows: readonly FlowRow[]): AgreementFlows[] {
  const groups = new Map<string, AgreementFlows>();
  for (const row of flows) {
    const key = row.agreement ?? '';
    let group = groups.get(key);
    if (!group) {
      group = {
        agreement: row.agreement,
        title: row.agreementTitle,
        rows: [],
        totals: { accepted: 0, rejected: 0, deadLettered: 0, redriven: 0 },
      };
      groups.set(key, group);
    }
    group.rows.push(row);
    group.totals.accepted += row.accepted;
    group.totals.rejected += row.rejected;
    group.totals.deadLettered += row.deadLettered;
    group.totals.redriven += row.redriven;
  }
  return [...groups.values()]
    .sort((a, b) =>
      a.agreement === b.agreement
        ? 0
        : a.agreement === null
          ? 1
          : b.agreement === null
            ? -1
            : a.agreement.localeCompare(b.agreement),
    )
    .map((group) => ({ ...group, rows: [...group.rows].sort((a, b) => a.day.localeCompare(b.day)) }));
}

/** `required ×2, unknown-field ×1`: the rules an event count was rejected by. */
export function rulesText(rules: Record<string, number>): string {
  return Object.keys(rules)
    .sort()
    .map((rule) => `${rule} ×${rules[rule]}`)
    .join(', ');
}

/** `3 × mental-health: no agreement covers it…; 1 × …`, or '' when nothing was withheld. */
export function withheldText(withheld: readonly { count: number; reason: string }[]): string {
  return withheld.map((item) => `${item.count} × ${item.reason}`).join('; ');
}

/** The file name a CSV download is saved under. */
export function csvFileName(report: 'flows' | 'access', fromDay: string, toDay: string): string {
  return `throughline-${report}-${fromDay}-to-${toDay}.csv`;
}

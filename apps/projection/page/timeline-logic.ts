// Pure logic, no DOM: built into the page's `timeline-logic` block as the global `TimelineLogic`,
// which the integration test runs on its own (and the unit spec imports directly).
import type {
  Account,
  ChildDecisions,
  ChildOutcomes,
  DecisionCard,
  Disagreement,
  DomainFact,
  DomainOutcomes,
  DomainRef,
  Indicator,
  IndicatorPeriodView,
  IndicatorView,
  LinkHistoryEntry,
  RatingPoint,
  SinceEntry,
  TimelineEntry,
  View,
  ViewsDifferRecord,
  Withheld,
} from './api';

const DAY_MS = 24 * 60 * 60 * 1000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** Chronology entries per page: long histories are paged, not rendered as one list of thousands. */
export const PAGE_SIZE = 100;
/** An agency is "involved now" if it recorded something about the child within this many days. */
export const INVOLVED_WITHIN_DAYS = 365;

function instantOf(entry: TimelineEntry): number {
  return Date.parse(entry.occurredAt);
}

/** Time order, ties by store position (the API sends this order; sorting keeps the page honest). */
export function chronological<T extends TimelineEntry>(entries: readonly T[]): T[] {
  return entries.slice().sort((a, b) => instantOf(a) - instantOf(b) || a.position - b.position);
}

/** "2024-03-05T09:00:00+00:00" -> "5 Mar 2024, 09:00", as reported (no time-zone conversion). */
export function displayDate(iso: string | undefined): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(iso || '');
  if (!match) return String(iso);
  const date = `${Number(match[3])} ${MONTHS[Number(match[2]) - 1]} ${match[1]}`;
  return match[4] === undefined ? date : `${date}, ${match[4]}:${match[5]}`;
}

/** The calendar date as the agency reported it: year, month (1-12), day. */
function partsOf(iso: string): { year: number; month: number; day: number } | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!match) return undefined;
  return { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
}

/**
 * The English school year a date falls in, "2023/24" (1 September to 31 August), from the date
 * as reported, so a late-evening event is not moved a year by time zones.
 */
export function academicYearOf(iso: string): string {
  const parts = partsOf(iso);
  if (!parts) return 'Unknown year';
  const start = parts.month >= 9 ? parts.year : parts.year - 1;
  return `${start}/${String((start + 1) % 100).padStart(2, '0')}`;
}

/** Autumn 1 Sep-31 Dec, spring 1 Jan-31 Mar, summer 1 Apr-31 Aug (decision 015's terms). */
export function termOf(iso: string): 'autumn' | 'spring' | 'summer' | undefined {
  const parts = partsOf(iso);
  if (!parts) return undefined;
  if (parts.month >= 9) return 'autumn';
  return parts.month <= 3 ? 'spring' : 'summer';
}

/** Age in whole years and months on a date; undefined without a date of birth or before birth. */
export function ageOn(
  dateOfBirth: string | undefined,
  iso: string,
): { years: number; months: number } | undefined {
  const born = dateOfBirth ? partsOf(dateOfBirth) : undefined;
  const on = partsOf(iso);
  if (!born || !on) return undefined;
  let months = (on.year - born.year) * 12 + (on.month - born.month);
  if (on.day < born.day) months -= 1;
  if (months < 0) return undefined;
  return { years: Math.floor(months / 12), months: months % 12 };
}

/** "8 years 3 months", "11 months"; the empty string when the age cannot be known. */
export function ageText(age: { years: number; months: number } | undefined): string {
  if (age === undefined) return '';
  const years = age.years === 1 ? '1 year' : `${age.years} years`;
  const months = age.months === 1 ? '1 month' : `${age.months} months`;
  if (age.years === 0) return months;
  return age.months === 0 ? years : `${years} ${months}`;
}

/** The chronology grouped under school-year headings, oldest first. */
export function byAcademicYear<T extends TimelineEntry>(
  entries: readonly T[],
): { year: string; entries: T[] }[] {
  const groups: { year: string; entries: T[] }[] = [];
  for (const entry of entries) {
    const year = academicYearOf(entry.occurredAt);
    const last = groups[groups.length - 1];
    if (last && last.year === year) last.entries.push(entry);
    else groups.push({ year, entries: [entry] });
  }
  return groups;
}

/** Every indicator of an entry (entries projected before decision 015 carry one `indicator`). */
export function indicatorsOf(entry: TimelineEntry): Indicator[] {
  if (entry.indicators && entry.indicators.length) return entry.indicators;
  return entry.indicator ? [entry.indicator] : [];
}

/** The outcome domains an entry is evidence about: the framework's mapping and the recorder's own. */
export function domainsOf(entry: TimelineEntry): DomainRef[] {
  const all: DomainRef[] = [];
  const add = (ref: DomainRef | undefined): void => {
    if (!ref || !ref.domain) return;
    if (!all.some((seen) => seen.framework === ref.framework && seen.domain === ref.domain))
      all.push({ framework: ref.framework, domain: ref.domain });
  };
  (entry.declaredOutcomeDomains || []).forEach(add);
  add(entry.outcomeDomain);
  return all;
}

// ---------------------------------------------------------------------------------------------
// The chronology's filters and pages

export interface ChronologyFilter {
  agency?: string;
  /** "framework/domain", or a domain alone (any framework). */
  domain?: string;
  /** `child`, `family`, `professional`, or `none` (no perspective stated). */
  perspective?: string;
  kind?: string;
  /** Inclusive calendar dates, YYYY-MM-DD, compared with the date as reported. */
  from?: string;
  to?: string;
}

function matchesDomain(entry: TimelineEntry, wanted: string): boolean {
  return domainsOf(entry).some((ref) =>
    wanted.includes('/') ? `${ref.framework}/${ref.domain}` === wanted : ref.domain === wanted,
  );
}

export function filterEntries<T extends TimelineEntry>(entries: readonly T[], filter: ChronologyFilter): T[] {
  return entries.filter((entry) => {
    const day = entry.occurredAt.slice(0, 10);
    if (filter.agency && entry.agency !== filter.agency) return false;
    if (filter.kind && entry.kind !== filter.kind) return false;
    if (filter.perspective) {
      const perspective = entry.perspective || 'none';
      if (perspective !== filter.perspective) return false;
    }
    if (filter.domain && !matchesDomain(entry, filter.domain)) return false;
    if (filter.from && day < filter.from) return false;
    if (filter.to && day > filter.to) return false;
    return true;
  });
}

/** The choices the filters offer: only values the child's entries have. */
export function filterChoices(entries: readonly TimelineEntry[]): {
  agencies: string[];
  domains: { value: string; label: string }[];
  perspectives: string[];
  kinds: string[];
} {
  const agencies = new Set<string>();
  const domains = new Map<string, string>();
  const perspectives = new Set<string>();
  const kinds = new Set<string>();
  for (const entry of entries) {
    agencies.add(entry.agency);
    kinds.add(entry.kind);
    perspectives.add(entry.perspective || 'none');
    for (const ref of domainsOf(entry)) {
      const value = `${ref.framework}/${ref.domain}`;
      const label =
        entry.outcomeDomain &&
        entry.outcomeDomain.framework === ref.framework &&
        entry.outcomeDomain.domain === ref.domain &&
        entry.outcomeDomain.label
          ? entry.outcomeDomain.label
          : humanise(ref.domain);
      if (!domains.has(value)) domains.set(value, `${label} (${ref.framework})`);
    }
  }
  return {
    agencies: [...agencies].sort(),
    domains: [...domains.entries()]
      .map(([value, label]) => ({ value, label }))
      .sort((a, b) => a.label.localeCompare(b.label)),
    perspectives: [...perspectives].sort(),
    kinds: [...kinds].sort(),
  };
}

export interface Page<T> {
  items: T[];
  /** 1-based. */
  page: number;
  pages: number;
  total: number;
  /** 1-based positions of the first and last item shown (0 when none). */
  first: number;
  last: number;
}

/** One page of a list; a page past the end shows the last one. */
export function pageOf<T>(items: readonly T[], page: number, size: number = PAGE_SIZE): Page<T> {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const current = Math.min(Math.max(1, Math.floor(page) || 1), pages);
  const start = (current - 1) * size;
  const shown = items.slice(start, start + size);
  return {
    items: shown,
    page: current,
    pages,
    total: items.length,
    first: shown.length ? start + 1 : 0,
    last: start + shown.length,
  };
}

/** Abbreviations kept as they are written: ASQ-3, key stages, GCSE, EHC, CIN, CP, SEN(D), CAMHS. */
export function humanise(slug: string): string {
  const text = String(slug).replace(/-/g, ' ');
  return (text.charAt(0).toUpperCase() + text.slice(1))
    .replace(/\basq3\b/gi, 'ASQ-3')
    .replace(/\bks(\d)\b/gi, 'KS$1')
    .replace(/\b(gcse|ehc|cin|cp|sen|send|camhs)\b/gi, (match) => match.toUpperCase());
}

// ---------------------------------------------------------------------------------------------
// The overview: who is involved now, identity caveats, what was withheld

/** Plans and episodes a practitioner asks about first: opened by one type, closed by another. */
const EPISODES: { label: string; opens: string[]; closes: string[]; continues?: string[] }[] = [
  {
    label: 'Child protection plan',
    opens: ['social-care.child-protection-plan.started'],
    closes: ['social-care.child-protection-plan.ended'],
    continues: ['social-care.child-protection-plan.reviewed'],
  },
  {
    label: 'Child in need plan',
    opens: ['social-care.cin-plan.started'],
    closes: ['social-care.cin-plan.ended'],
  },
  {
    label: 'Looked after',
    opens: ['social-care.looked-after-episode.started'],
    closes: ['social-care.looked-after-episode.ended'],
    continues: ['social-care.looked-after-episode.changed', 'social-care.looked-after-review.held'],
  },
  {
    label: 'EHC plan',
    opens: ['education.ehc-plan.issued'],
    closes: ['education.ehc-plan.ceased'],
  },
  {
    label: 'Early help',
    opens: ['social-care.early-help-episode.started'],
    closes: ['social-care.early-help-episode.ended'],
  },
  {
    label: 'CAMHS',
    opens: ['health.camhs.referred'],
    closes: ['health.camhs.discharged'],
  },
];

export interface OpenEpisode {
  label: string;
  since: string;
  /** The entry that opened it (its position in the chronology). */
  position: number;
  agency: string;
  /** The latest review or change while it was open. */
  lastReviewed?: string;
  nextReview?: string;
  recordedBy?: string;
  summary: string;
}

function whoText(entry: TimelineEntry): string | undefined {
  if (entry.recordedBy) return `${entry.recordedBy.role}, ${entry.recordedBy.agency}`;
  if (entry.observerRole)
    return entry.observerRole + (entry.observerAgency ? `, ${entry.observerAgency}` : '');
  return undefined;
}

/** Episodes open at the end of the (visible) chronology, oldest first. */
export function openEpisodes(entries: readonly TimelineEntry[]): OpenEpisode[] {
  const open = new Map<string, OpenEpisode>();
  for (const entry of chronological(entries)) {
    for (const episode of EPISODES) {
      if (episode.opens.includes(entry.type)) {
        open.set(episode.label, {
          label: episode.label,
          since: entry.occurredAt,
          position: entry.position,
          agency: entry.agency,
          nextReview: entry.reviewDate,
          recordedBy: whoText(entry),
          summary: entry.summary,
        });
      } else if (episode.closes.includes(entry.type)) {
        open.delete(episode.label);
      } else if (episode.continues && episode.continues.includes(entry.type)) {
        const current = open.get(episode.label);
        if (current) {
          current.lastReviewed = entry.occurredAt;
          if (entry.reviewDate) current.nextReview = entry.reviewDate;
        }
      }
    }
  }
  return [...open.values()];
}

/** The early help summary names its lead practitioner ("Early help started, led by …"). */
const LED_BY = /led by (.+?)(?: — |$)/;

/** Who leads, as far as the shared record says: the open early help episode's lead practitioner. */
export function leadProfessional(episodes: readonly OpenEpisode[]): string | undefined {
  const earlyHelp = episodes.find((episode) => episode.label === 'Early help');
  const match = earlyHelp ? LED_BY.exec(earlyHelp.summary) : null;
  return match ? match[1] : undefined;
}

export interface Involvement {
  agency: string;
  /** Roles that recorded or observed something recently, e.g. "social worker", "class teacher". */
  roles: string[];
  lastRecorded: string;
  entries: number;
}

/**
 * Agencies that recorded something within INVOLVED_WITHIN_DAYS of `asOf` (default: the latest
 * entry), with the roles seen. The agency of a practitioner (recordedBy, observerAgency) counts,
 * not only the publishing system's.
 */
export function involvedNow(entries: readonly TimelineEntry[], asOf?: string): Involvement[] {
  const ordered = chronological(entries);
  if (!ordered.length) return [];
  const end = asOf ? Date.parse(asOf) : instantOf(ordered[ordered.length - 1]);
  const since = end - INVOLVED_WITHIN_DAYS * DAY_MS;
  const byAgency = new Map<string, Involvement>();
  for (const entry of ordered) {
    const at = instantOf(entry);
    if (at < since || at > end) continue;
    const agency = (entry.recordedBy && entry.recordedBy.agency) || entry.observerAgency || entry.agency;
    const role = (entry.recordedBy && entry.recordedBy.role) || entry.observerRole;
    const seen = byAgency.get(agency) || { agency, roles: [], lastRecorded: entry.occurredAt, entries: 0 };
    byAgency.set(agency, seen);
    seen.entries += 1;
    seen.lastRecorded = entry.occurredAt;
    if (role && entry.perspective !== 'child' && entry.perspective !== 'family' && !seen.roles.includes(role))
      seen.roles.push(role);
  }
  return [...byAgency.values()].sort((a, b) => a.agency.localeCompare(b.agency));
}

export interface IdentityCaveat {
  kind: 'proposal' | 'conflict';
  at: string;
  subjects: string[];
  reason?: string;
  score?: number;
}

function sameSubjects(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((subject) => b.includes(subject));
}

/**
 * What a reader must know about who these records are: match proposals still waiting for a
 * person's review, and conflicts flagged (records that look alike but were not merged).
 */
export function identityCaveats(history: readonly LinkHistoryEntry[]): IdentityCaveat[] {
  const caveats: IdentityCaveat[] = [];
  for (const item of history) {
    if (item.type === 'identity.match.proposed' || item.type === 'identity.conflict.flagged') {
      caveats.push({
        kind: item.type === 'identity.match.proposed' ? 'proposal' : 'conflict',
        at: item.at,
        subjects: item.subjects.slice(),
        reason: item.reason,
        score: item.details && item.details.score,
      });
    } else if (item.type === 'identity.match.confirmed' || item.type === 'identity.match.rejected') {
      // A decided proposal is no longer a caveat (a confirmed one is now a link).
      for (let i = caveats.length - 1; i >= 0; i--) {
        if (caveats[i].kind === 'proposal' && sameSubjects(caveats[i].subjects, item.subjects))
          caveats.splice(i, 1);
      }
    }
  }
  return caveats;
}

/** The API's group of linked records it left out (each wholly withheld); every other group counts entries. */
const RECORDS_GROUP = /^linked records: (.*)$/;

/**
 * The withheld notice: how many entries were left out, and one line per group, e.g.
 * "3 entries withheld: mental-health: no agreement covers it for role school-dsl, purpose
 * safeguarding" or "2 linked records not shown: every entry of each of them is withheld, …".
 */
export function withheldLines(groups: readonly Withheld[]): { entries: number; lines: string[] } {
  let entries = 0;
  const lines = groups.map((group) => {
    const records = RECORDS_GROUP.exec(group.reason);
    if (records)
      return `${group.count} linked record${group.count === 1 ? '' : 's'} not shown: ${records[1]}`;
    entries += group.count;
    return `${group.count} ${group.count === 1 ? 'entry' : 'entries'} withheld: ${group.reason}`;
  });
  return { entries, lines };
}

// ---------------------------------------------------------------------------------------------
// Outcomes over years (GET …/outcomes): one lane per domain, one line per perspective

const PERSPECTIVE_NAMES: Record<string, string> = {
  child: 'Child',
  family: 'Family',
  professional: 'Professional',
  unattributed: 'No perspective stated',
};

/** "professional:social-care:social worker" -> "Social worker (social care)"; child, family as they are. */
export function perspectiveLabel(perspective: string, role?: string, agency?: string): string {
  const [kind, fromAgency, ...roleParts] = perspective.split(':');
  const who = role || roleParts.join(':');
  const where = agency || fromAgency;
  if (kind === 'professional' && who)
    return humanise(who) + (where ? ` (${humanise(where).toLowerCase()})` : '');
  const name = PERSPECTIVE_NAMES[kind] || humanise(kind);
  return who && kind !== 'professional' ? `${name} (${who})` : name;
}

export interface LanePoint {
  date: string;
  age: string;
  period: string;
  value: number;
  normalised: number;
  scaleText: string;
  narrative?: string;
  confidence?: string;
  differs: boolean;
  differsFrom: string[];
  eventId: string;
  position: number;
}

export interface LaneSeries {
  perspective: string;
  label: string;
  points: LanePoint[];
}

export interface LaneIndicator {
  label: string;
  period: string;
  valueText: string;
  /** Whose accounts go with it in the same period, or "No account recorded". */
  accountText: string;
  hasAccount: boolean;
  thresholdText?: string;
}

export interface Lane {
  domain: string;
  label: string;
  series: LaneSeries[];
  accounts: { date: string; who: string; text: string }[];
  indicators: LaneIndicator[];
  disagreements: string[];
  viewsDiffer: { date: string; views: string[]; narrative?: string }[];
  facts: { date: string; summary: string }[];
  /** Number of points marked as differing from another perspective. */
  differing: number;
}

export function periodText(academicYear: string | undefined, term: string | undefined): string {
  if (!academicYear) return '';
  return term ? `${humanise(term)} ${academicYear}` : academicYear;
}

function scaleText(point: RatingPoint): string {
  const scale = point.scale;
  if (!scale) return String(point.value);
  return (
    `${point.value} on ${scale.min}–${scale.max}` + (scale.better === 'lower' ? ' (lower is better)' : '')
  );
}

function lanePoint(point: RatingPoint): LanePoint {
  const differsFrom = (point.disagreesWith || []).map((other) => perspectiveLabel(other));
  return {
    date: point.date,
    age: ageText(point.age),
    period: periodText(point.academicYear, point.term),
    value: point.value,
    normalised: point.normalised,
    scaleText: scaleText(point),
    narrative: point.narrative,
    confidence: point.confidence,
    differs: differsFrom.length > 0,
    differsFrom,
    eventId: point.eventId,
    position: point.position,
  };
}

function unitText(value: number, unit: string | undefined): string {
  return unit ? `${value}${unit}` : String(value);
}

function laneIndicators(indicator: IndicatorView): LaneIndicator[] {
  return (indicator.periods || []).map((period: IndicatorPeriodView) => {
    const values = period.values || [];
    const who = [...new Set((period.accounts || []).map((account) => perspectiveLabel(account.perspective)))];
    const hasAccount = !period.withoutAccount && who.length > 0;
    const threshold = values.find((value) => value.threshold !== undefined);
    return {
      label: humanise(indicator.name),
      period: periodText(period.academicYear, period.term),
      valueText:
        values.length === 1
          ? unitText(values[0].value, indicator.unit)
          : values
              .map((value) => `${unitText(value.value, indicator.unit)} (${displayDate(value.date)})`)
              .join('; '),
      accountText: hasAccount ? `Accounts in the same period: ${who.join(', ')}` : 'No account recorded',
      hasAccount,
      thresholdText:
        threshold && threshold.threshold !== undefined
          ? `threshold ${unitText(threshold.threshold, indicator.unit)}`
          : undefined,
    };
  });
}

function viewText(view: View): string {
  return `${perspectiveLabel(view.perspective, view.role, view.agency)}: ${view.view}`;
}

function disagreementText(disagreement: Disagreement): string {
  const [a, b] = disagreement.between || [];
  const who = [a, b].filter(Boolean).map((side) => perspectiveLabel(side.perspective));
  return (
    `${periodText(disagreement.academicYear, disagreement.term)}: ${who.join(' and ')} ` +
    `${Math.round(disagreement.difference * 100)}% of the scale apart`
  );
}

/**
 * The outcomes answer as the page draws it: per domain, each perspective's own series (never
 * blended), accounts without a rating, indicators with whose accounts go with them, the
 * disagreements the server found, recorded differences of view, and the facts mapped to the
 * domain. Tolerates absent parts.
 */
export function lanesOf(answer: ChildOutcomes | undefined): Lane[] {
  if (!answer || !Array.isArray(answer.domains)) return [];
  return answer.domains.map((domain: DomainOutcomes) => {
    const series = (domain.series || [])
      .filter((one) => one.points && one.points.length)
      .map((one) => ({
        perspective: one.perspective,
        label: perspectiveLabel(one.perspective),
        points: one.points.map(lanePoint).sort((a, b) => a.date.localeCompare(b.date)),
      }));
    return {
      domain: domain.domain,
      label: domain.label || humanise(domain.domain),
      series,
      accounts: (domain.accounts || []).map((account: Account) => ({
        date: account.date,
        who: perspectiveLabel(
          account.perspective,
          account.perspective === 'professional' ? account.observerRole : undefined,
        ),
        text: account.narrative,
      })),
      indicators: (domain.indicators || []).flatMap(laneIndicators),
      disagreements: (domain.disagreements || []).map(disagreementText),
      viewsDiffer: (domain.viewsDiffer || []).map((record: ViewsDifferRecord) => ({
        date: record.date,
        views: (record.views || []).map(viewText),
        narrative: record.narrative,
      })),
      facts: (domain.facts || []).map((fact: DomainFact) => ({ date: fact.date, summary: fact.summary })),
      differing: series.reduce((count, one) => count + one.points.filter((point) => point.differs).length, 0),
    };
  });
}

/** Whether a lane has anything to show (a framework lists domains nothing was recorded about). */
export function laneHasContent(lane: Lane): boolean {
  return (
    lane.series.length > 0 ||
    lane.accounts.length > 0 ||
    lane.indicators.length > 0 ||
    lane.viewsDiffer.length > 0 ||
    lane.facts.length > 0
  );
}

/** Event ids of the ratings the server marked as differing (the chronology marks those entries). */
export function differingEventIds(lanes: readonly Lane[]): string[] {
  const ids = new Set<string>();
  for (const lane of lanes)
    for (const series of lane.series)
      for (const point of series.points) if (point.differs) ids.add(point.eventId);
  return [...ids];
}

// ---------------------------------------------------------------------------------------------
// Decisions (GET …/decisions)

export const DECISION_STATUS: Record<string, { text: string; symbol: string }> = {
  open: { text: 'Open', symbol: '○' },
  'review-due': { text: 'Review due', symbol: '◔' },
  overdue: { text: 'Review overdue', symbol: '⚠' },
  reviewed: { text: 'Reviewed and ended', symbol: '✓' },
};

export function decisionStatus(status: string): { text: string; symbol: string } {
  return DECISION_STATUS[status] || { text: humanise(status), symbol: '•' };
}

export interface SinceGroup {
  label: string;
  items: { date: string; text: string; domain: string }[];
}

function sinceText(entry: SinceEntry): string {
  const numbers = (entry.indicators || []).map((indicator) =>
    indicator.unit
      ? `${humanise(indicator.name)} ${unitText(indicator.value, indicator.unit)}`
      : `Rated ${indicator.value} (${humanise(indicator.name).toLowerCase()})`,
  );
  const words = entry.narrative || '';
  return (
    [...numbers, words].filter(Boolean).join(' — ') || humanise(entry.type.split('.').slice(-2).join(' '))
  );
}

/**
 * The decisions with each "since" reference filled in from the answer's `evidence` (listed once
 * there, since the windows of successive decisions overlap). A reference to nothing is dropped.
 */
export function decisionCardsOf(answer: ChildDecisions | null | undefined): DecisionCard[] {
  if (!answer) return [];
  const evidence = new Map((answer.evidence || []).map((entry) => [entry.position, entry]));
  return (answer.decisions || []).map((decision) => {
    const { since, ...rest } = decision;
    if (!since) return rest;
    return {
      ...rest,
      since: {
        ...since,
        byPerspective: since.byPerspective.map((group) => ({
          perspective: group.perspective,
          entries: group.entries.flatMap((ref) => {
            const entry = evidence.get(ref.position);
            return entry ? [{ ...entry, framework: ref.framework, domain: ref.domain }] : [];
          }),
        })),
      },
    };
  });
}

/** "Since this decision", by perspective, each perspective's entries oldest first. */
export function sinceGroups(decision: DecisionCard): SinceGroup[] {
  const groups = (decision.since && decision.since.byPerspective) || [];
  return groups.map((group) => ({
    label: perspectiveLabel(group.perspective),
    items: (group.entries || [])
      .map((entry) => ({ date: entry.date, text: sinceText(entry), domain: humanise(entry.domain) }))
      .sort((a, b) => a.date.localeCompare(b.date)),
  }));
}

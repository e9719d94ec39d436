// Pure logic, no DOM: built into the page's `timeline-logic` block as the global `TimelineLogic`,
// which the integration test runs on its own.
import type { Indicator, Scale, TimelineEntry, Withheld } from './api';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Ratings this far apart... */
export const DIFFER_MIN_GAP = 3;
/** ...within this many days of each other are flagged. */
export const DIFFER_WINDOW_DAYS = 90;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An indicator on a rating scale. */
type Rating = Indicator & { scale: Scale };

function instantOf(entry: TimelineEntry): number {
  return Date.parse(entry.occurredAt);
}

/** Time order, ties by store position (the API sends this order; sorting keeps the page honest). */
export function chronological<T extends TimelineEntry>(entries: T[]): T[] {
  return entries.slice().sort((a, b) => instantOf(a) - instantOf(b) || a.position - b.position);
}

/** The year as the agency reported the date, so a late-evening event is not moved a year by time zones. */
function yearOf(entry: TimelineEntry): string {
  return entry.occurredAt.slice(0, 4);
}

export function byYear<T extends TimelineEntry>(entries: T[]): { year: string; entries: T[] }[] {
  const groups: { year: string; entries: T[] }[] = [];
  for (const entry of chronological(entries)) {
    const last = groups[groups.length - 1];
    if (last && last.year === yearOf(entry)) last.entries.push(entry);
    else groups.push({ year: yearOf(entry), entries: [entry] });
  }
  return groups;
}

/** "2024-03-05T09:00:00+00:00" -> "5 Mar 2024, 09:00", as reported (no time-zone conversion). */
export function displayDate(iso: string | undefined): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(iso || '');
  if (!match) return String(iso);
  const date = `${Number(match[3])} ${MONTHS[Number(match[2]) - 1]} ${match[1]}`;
  return match[4] === undefined ? date : `${date}, ${match[4]}:${match[5]}`;
}

function ratingOf(entry: TimelineEntry): Rating | undefined {
  const indicator = entry.indicator;
  if (entry.kind !== 'observation' || !indicator || !indicator.scale) return undefined;
  return indicator as Rating;
}

/** Each professional is a perspective of their own, as are the child and the family. */
function viewpointOf(entry: TimelineEntry): string {
  return `${entry.perspective || ''}|${(entry.observerRole || '').trim().toLowerCase()}`;
}

function sameScale(a: Rating, b: Rating): boolean {
  return a.scale.name === b.scale.name && a.scale.min === b.scale.min && a.scale.max === b.scale.max;
}

/**
 * Observations whose ratings of the same outcome domain, on the same scale, from different
 * perspectives, are DIFFER_MIN_GAP or more apart within DIFFER_WINDOW_DAYS. One viewpoint
 * changing its own rating over time is change, not disagreement, so it is not flagged.
 * Returns position -> the entries it differs from.
 */
export function perspectivesDiffering<T extends TimelineEntry>(entries: T[]): Map<number, T[]> {
  const rated = entries.filter((entry) => ratingOf(entry) !== undefined);
  const differing = new Map<number, T[]>();
  const note = (entry: T, other: T): void => {
    const others = differing.get(entry.position) ?? [];
    differing.set(entry.position, others);
    others.push(other);
  };
  for (let i = 0; i < rated.length; i++) {
    for (let j = i + 1; j < rated.length; j++) {
      const a = rated[i];
      const b = rated[j];
      const ratingA = ratingOf(a) as Rating;
      const ratingB = ratingOf(b) as Rating;
      if (
        a.outcomeDomain.framework === b.outcomeDomain.framework &&
        a.outcomeDomain.domain === b.outcomeDomain.domain &&
        viewpointOf(a) !== viewpointOf(b) &&
        sameScale(ratingA, ratingB) &&
        Math.abs(ratingA.value - ratingB.value) >= DIFFER_MIN_GAP &&
        Math.abs(instantOf(a) - instantOf(b)) <= DIFFER_WINDOW_DAYS * DAY_MS
      ) {
        note(a, b);
        note(b, a);
      }
    }
  }
  return differing;
}

/** The API's group of linked records it left out (each wholly withheld); every other group counts entries. */
const RECORDS_GROUP = /^linked records: (.*)$/;

/**
 * The withheld notice: how many entries were left out, and one line per group, e.g.
 * "3 entries withheld: mental-health: no agreement covers it for role school-dsl, purpose
 * safeguarding" or "2 linked records not shown: every entry of each of them is withheld, …".
 */
export function withheldLines(groups: Withheld[]): { entries: number; lines: string[] } {
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

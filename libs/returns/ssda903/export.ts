import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { AgencyEvent, EventOfType } from '@throughline/contracts';
import type { RecordedEvent } from '@throughline/event-store';
import {
  collectionYearOf,
  returnDateOf,
  sexInYear,
  SSDA903_TABLES,
  TABLE_NAMES,
  type TableName,
} from './tables';

/**
 * The SSDA903 tables of one LA for the year ending 31 March `year` (1 April year-1 to 31 March
 * year), from the recorded events: one CSV per table with the column specification's columns,
 * dates as dd/mm/yyyy, codes as the contracts hold them. Events are folded per child (the
 * episodes of a period need the next episode to know their end and the reason the placement
 * changed), so memory holds the looked-after children of the LA, not the store; each table is
 * then streamed out with csv-stringify.
 *
 * Which rows a year holds: episodes open at any time in the year (an end after 31 March is left
 * blank), reviews and missing episodes in the year, UASC while not ceased before the year,
 * OC2/OC3 of the year, AD1 matched (or adopted) in the year, decisions to place for adoption
 * not reversed before the year, previous permanence reported for the year or for a child who
 * started to be looked after in it, social workers allocated at any time in it. The header has
 * every child with a row in another table.
 */

export interface Ssda903ExportOptions {
  readonly laCode: string;
  /** The year the collection year ends in: 2025 is 1 April 2024 - 31 March 2025. */
  readonly year: number;
}

export interface Ssda903Written {
  readonly children: number;
  readonly rows: Readonly<Record<TableName, number>>;
}

type Of<T extends AgencyEvent['type']> = EventOfType<T>;

interface Episode {
  readonly date: string;
  readonly rne: string;
  readonly legalStatus: string;
  readonly placement: string;
  readonly provider?: string;
  readonly reasonPlaceChange?: string;
  readonly needCategory?: string;
}

interface ChildFold {
  subject?: AgencyEvent['subject'];
  ethnicity?: { asAt: string; code: string };
  upnUnknown?: { asAt: string; code: string };
  readonly episodes: Episode[];
  readonly ends: { date: string; reason: string }[];
  readonly reviews: Of<'social-care.looked-after-review.held'>['data'][];
  readonly missing: Of<'social-care.missing-episode.recorded'>['data'][];
  readonly uasc: string[];
  readonly uascCeased: string[];
  readonly oc2: Of<'social-care.looked-after-outcomes.recorded'>['data'][];
  readonly oc3: Of<'social-care.care-leaver.contacted'>['data'][];
  readonly ad1: Of<'social-care.adoption-match.recorded'>['data'][];
  readonly placed: Map<string, string | undefined>;
  readonly reversed: Of<'social-care.placement-for-adoption.reversed'>['data'][];
  readonly prevPerm: Of<'social-care.previous-permanence.recorded'>['data'][];
  readonly workers: Map<string, { workerId: string; startDate: string; endDate?: string; reason?: string }>;
}

const newFold = (): ChildFold => ({
  episodes: [],
  ends: [],
  reviews: [],
  missing: [],
  uasc: [],
  uascCeased: [],
  oc2: [],
  oc3: [],
  ad1: [],
  placed: new Map(),
  reversed: [],
  prevPerm: [],
  workers: new Map(),
});

/** The child's id in the return: its LA child id, or the one quarantined as reported. */
function childIdOf(subject: AgencyEvent['subject']): string | undefined {
  return (
    subject.laChildId ?? subject.quarantinedIdentifiers?.find((held) => held.field === 'laChildId')?.value
  );
}

/** Folds one event into its child; false when it is not an SSDA903 fact of this LA. */
function fold(children: Map<string, ChildFold>, event: AgencyEvent, laCode: string): void {
  if (event.source.agency !== 'social-care') return;
  if ((event.subject.laCode ?? event.source.organisation) !== laCode) return;
  const childId = childIdOf(event.subject);
  if (!childId) return;
  const get = () => {
    let child = children.get(childId);
    if (!child) children.set(childId, (child = newFold()));
    // The latest subject the LA sent: the header's identifiers as they stand now.
    child.subject = event.subject;
    return child;
  };
  switch (event.type) {
    case 'social-care.looked-after-episode.started': {
      const d = event.data;
      get().episodes.push({
        date: d.startDate,
        rne: 'S',
        legalStatus: d.legalStatus,
        placement: d.placement,
        provider: d.placementProvider,
        needCategory: d.needCategory,
      });
      if (d.unaccompaniedAsylumSeeking) get().uasc.push(d.startDate);
      return;
    }
    case 'social-care.looked-after-episode.changed': {
      const d = event.data;
      get().episodes.push({
        date: d.changeDate,
        rne: d.reasonForNewEpisode,
        legalStatus: d.legalStatus,
        placement: d.placement,
        provider: d.placementProvider,
        reasonPlaceChange: d.reasonPlaceChange,
      });
      return;
    }
    case 'social-care.looked-after-episode.ended':
      get().ends.push({ date: event.data.endDate, reason: event.data.reasonEnded });
      return;
    case 'social-care.looked-after-review.held':
      get().reviews.push(event.data);
      return;
    case 'social-care.missing-episode.recorded':
      get().missing.push(event.data);
      return;
    case 'social-care.uasc-status.recorded':
      get().uasc.push(event.data.yearEnding);
      return;
    case 'social-care.uasc-status.ceased':
      get().uascCeased.push(event.data.ceasedDate);
      return;
    case 'social-care.looked-after-outcomes.recorded':
      get().oc2.push(event.data);
      return;
    case 'social-care.care-leaver.contacted':
      get().oc3.push(event.data);
      return;
    case 'social-care.adoption-match.recorded':
      get().ad1.push(event.data);
      return;
    case 'social-care.placement-for-adoption.decided':
      get().placed.set(event.data.decisionDate, undefined);
      return;
    case 'social-care.placement-for-adoption.reversed':
      get().reversed.push(event.data);
      return;
    case 'social-care.previous-permanence.recorded':
      get().prevPerm.push(event.data);
      return;
    case 'social-care.social-worker.allocated': {
      const { workerId, startDate } = event.data;
      const workers = get().workers;
      const key = `${workerId}|${startDate}`;
      workers.set(key, { ...workers.get(key), workerId, startDate });
      return;
    }
    case 'social-care.social-worker.allocation-ended': {
      const { workerId, startDate, endDate, reason } = event.data;
      get().workers.set(`${workerId}|${startDate}`, { workerId, startDate, endDate, reason });
      return;
    }
    default:
      foldCensusItem(get, event as unknown as { type: string; data: Record<string, string> });
  }
}

/** The header items the CIN census types carry (ethnicity, UPN unknown): the latest as at the year. */
function foldCensusItem(get: () => ChildFold, event: { type: string; data: Record<string, string> }): void {
  const { asAt } = event.data;
  if (event.type === 'social-care.child-characteristics.recorded') {
    const child = get();
    if (!child.ethnicity || asAt >= child.ethnicity.asAt)
      child.ethnicity = { asAt, code: event.data.ethnicity };
  } else if (event.type === 'social-care.upn-unknown.recorded') {
    const child = get();
    if (!child.upnUnknown || asAt >= child.upnUnknown.asAt)
      child.upnUnknown = { asAt, code: event.data.reason };
  }
}

type Cells = Record<string, string>;
const date = (iso: string | undefined) => (iso ? returnDateOf(iso) : '');
const bit = (value: boolean | undefined) => (value === undefined ? '' : value ? '1' : '0');

/** The rows of one child for the year; the header row only when another table has one. */
function rowsOf(
  childId: string,
  child: ChildFold,
  start: string,
  end: string,
): Partial<Record<TableName, Cells[]>> {
  const inYear = (d: string | undefined) => d !== undefined && d >= start && d <= end;
  const dob = child.subject?.dateOfBirth;
  const base = { CHILD: childId, DOB: date(dob) };
  const rows: Partial<Record<TableName, Cells[]>> = {};
  const add = (table: TableName, cells: Cells) => (rows[table] ??= []).push(cells);

  // Episodes: one row per start; it ends where the next starts (X1) or where the period ended.
  const byDate = new Map<string, Episode>();
  for (const episode of child.episodes) {
    const held = byDate.get(episode.date);
    // The same change imported with and without its reason (two returns): keep the one that has it.
    if (!held || (!held.reasonPlaceChange && episode.reasonPlaceChange)) byDate.set(episode.date, episode);
  }
  const episodes = [...byDate.values()].sort((a, b) => (a.date < b.date ? -1 : 1));
  const ends = [...child.ends].sort((a, b) => (a.date < b.date ? -1 : 1));
  let need: string | undefined;
  let startedInYear = false;
  for (const [index, episode] of episodes.entries()) {
    if (episode.rne === 'S') need = episode.needCategory;
    const next = episodes[index + 1];
    const ended = ends.find((e) => e.date >= episode.date && (!next || e.date <= next.date));
    const dec = ended?.date ?? (next && next.rne !== 'S' ? next.date : undefined);
    const rec = ended ? ended.reason : dec ? 'X1' : undefined;
    if (episode.date > end || (dec !== undefined && dec < start)) continue;
    if (episode.rne === 'S' && inYear(episode.date)) startedInYear = true;
    const closed = dec !== undefined && dec <= end;
    add('Episodes', {
      CHILD: childId,
      DECOM: date(episode.date),
      RNE: episode.rne,
      LS: episode.legalStatus,
      CIN: need ?? '',
      PLACE: episode.placement,
      PLACE_PROVIDER: episode.provider ?? '',
      DEC: closed ? date(dec) : '',
      REC: closed ? (rec ?? '') : '',
      REASON_PLACE_CHANGE: closed && rec === 'X1' ? (next?.reasonPlaceChange ?? '') : '',
      HOME_POST: '',
      PL_POST: '',
      URN: '',
    });
  }
  for (const review of child.reviews.filter((r) => inYear(r.reviewDate)))
    add('Reviews', { ...base, REVIEW: date(review.reviewDate), REVIEW_CODE: review.participation });
  for (const missing of child.missing.filter((m) => inYear(m.startDate) || inYear(m.endDate)))
    add('Missing', {
      ...base,
      MISSING: missing.kind,
      MIS_START: date(missing.startDate),
      MIS_END: date(missing.endDate && missing.endDate <= end ? missing.endDate : undefined),
    });
  const ceased = child.uascCeased.filter((d) => d <= end).sort();
  const uascLast = ceased.at(-1);
  if (child.uasc.some((d) => d <= end) && (!uascLast || uascLast >= start))
    add('UASC', { ...base, SEX: sexOf(child, end), DUC: date(uascLast) });
  for (const oc2 of child.oc2.filter((o) => o.yearEnding === end))
    add('OC2', {
      ...base,
      SDQ_SCORE: oc2.sdqScore === undefined ? '' : String(oc2.sdqScore),
      SDQ_REASON: oc2.sdqReason ?? '',
      CONVICTED: bit(oc2.convicted),
      HEALTH_CHECK: bit(oc2.healthCheck),
      IMMUNISATIONS: bit(oc2.immunisations),
      TEETH_CHECK: bit(oc2.teethCheck),
      HEALTH_ASSESSMENT: bit(oc2.healthAssessment),
      SUBSTANCE_MISUSE: bit(oc2.substanceMisuse),
      INTERVENTION_RECEIVED: bit(oc2.interventionReceived),
      INTERVENTION_OFFERED: bit(oc2.interventionOffered),
    });
  for (const oc3 of child.oc3.filter((o) => o.yearEnding === end))
    add('OC3', { ...base, IN_TOUCH: oc3.inTouch, ACTIV: oc3.activity, ACCOM: oc3.accommodation });
  const adoptedInYear = ends.some((e) => inYear(e.date) && (e.reason === 'E11' || e.reason === 'E12'));
  for (const ad1 of child.ad1.filter((a) => inYear(a.matchedDate) || (adoptedInYear && a.matchedDate <= end)))
    add('AD1', {
      ...base,
      DATE_INT: date(ad1.decisionDate),
      DATE_MATCH: date(ad1.matchedDate),
      FOSTER_CARE: bit(ad1.adoptedByFosterCarers),
      NB_ADOPTR: String(ad1.numberOfAdopters),
      SEX_ADOPTR: ad1.adopterSex,
      LS_ADOPTR: ad1.adopterLegalStatus,
    });
  for (const decisionDate of [...child.placed.keys()].sort()) {
    if (decisionDate > end) continue;
    const reversal = child.reversed.find((r) => r.decisionDate === decisionDate && r.reversedDate <= end);
    if (reversal && reversal.reversedDate < start) continue;
    add('PlacedAdoption', {
      ...base,
      DATE_PLACED: date(decisionDate),
      DATE_PLACED_CEASED: date(reversal?.reversedDate),
      REASON_PLACED_CEASED: reversal?.reason ?? '',
    });
  }
  const prevPerm =
    child.prevPerm.find((p) => p.yearEnding === end) ??
    (startedInYear
      ? [...child.prevPerm].sort((a, b) => (a.yearEnding < b.yearEnding ? 1 : -1))[0]
      : undefined);
  if (prevPerm)
    add('PrevPerm', {
      ...base,
      PREV_PERM: prevPerm.option,
      LA_PERM: prevPerm.arrangedBy ?? (prevPerm.option === 'Z1' ? '' : '999'),
      DATE_PERM: permanenceDateOf(prevPerm.orderDate, prevPerm.option),
    });
  for (const worker of [...child.workers.values()].sort((a, b) => (a.startDate < b.startDate ? -1 : 1))) {
    if (worker.startDate > end || (worker.endDate !== undefined && worker.endDate < start)) continue;
    const closed = worker.endDate !== undefined && worker.endDate <= end;
    add('SocialWorker', {
      ...base,
      SW_ID: worker.workerId,
      SW_DECOM: date(worker.startDate),
      SW_DEC: closed ? date(worker.endDate) : '',
      SW_REASON: closed ? (worker.reason ?? '') : '',
    });
  }
  if (Object.keys(rows).length === 0) return rows;
  const subject = child.subject;
  const upn =
    subject?.upn ??
    subject?.quarantinedIdentifiers?.find((held) => held.field === 'upn')?.value ??
    child.upnUnknown?.code ??
    '';
  rows.Header = [
    {
      CHILD: childId,
      SEX: sexOf(child, end),
      DOB: date(dob),
      ETHNIC: child.ethnicity?.code ?? '',
      UPN: upn,
      MOTHER: '',
      MC_DOB: '',
    },
  ];
  return rows;
}

/** The child's sex in the code set of the year being written (1/2 to 2023-24, M/F/U after). */
function sexOf(child: ChildFold, yearEnd: string): string {
  const sex = child.subject?.sex;
  return sex === undefined ? '' : (sexInYear(sex, collectionYearOf(yearEnd)) ?? '');
}

/** DATE_PERM in the return's form: a full date, zz/mm/yyyy, zz/zz/yyyy, or zz/zz/zzzz when not known. */
function permanenceDateOf(orderDate: string | undefined, option: string): string {
  if (!orderDate) return option === 'Z1' ? '' : 'zz/zz/zzzz';
  if (orderDate.length === 10) return returnDateOf(orderDate);
  if (orderDate.length === 7) return `zz/${orderDate.slice(5, 7)}/${orderDate.slice(0, 4)}`;
  return `zz/zz/${orderDate}`;
}

/** Folds the events of the LA (a store read in global order) into its children's SSDA903 facts. */
export async function foldSsda903(
  events: AsyncIterable<RecordedEvent | AgencyEvent>,
  laCode: string,
): Promise<Map<string, ChildFold>> {
  const children = new Map<string, ChildFold>();
  for await (const recorded of events) {
    const event = ('position' in recorded ? recorded.data : recorded) as AgencyEvent;
    if (event && typeof event === 'object' && typeof event.type === 'string') fold(children, event, laCode);
  }
  return children;
}

/** The SSDA903 rows of each table for the year, children in id order. */
export function ssda903Rows(children: Map<string, ChildFold>, year: number): Record<TableName, Cells[]> {
  const start = `${year - 1}-04-01`;
  const end = `${year}-03-31`;
  const tables = Object.fromEntries(TABLE_NAMES.map((name) => [name, [] as Cells[]])) as Record<
    TableName,
    Cells[]
  >;
  for (const childId of [...children.keys()].sort()) {
    const rows = rowsOf(childId, children.get(childId)!, start, end);
    for (const name of TABLE_NAMES) for (const row of rows[name] ?? []) tables[name].push(row);
  }
  return tables;
}

/**
 * Writes the SSDA903 tables of `laCode` for the year ending 31 March `year` into `outDir`
 * (which must exist): header.csv, episodes.csv, … with the specification's columns.
 */
export async function exportSsda903(
  events: AsyncIterable<RecordedEvent | AgencyEvent>,
  options: Ssda903ExportOptions,
  outDir: string,
): Promise<Ssda903Written> {
  const tables = ssda903Rows(await foldSsda903(events, options.laCode), options.year);
  const rows = {} as Record<TableName, number>;
  for (const name of TABLE_NAMES) {
    const { file, columns } = SSDA903_TABLES[name];
    const out = createWriteStream(join(outDir, file));
    const csv = stringify({ header: true, columns: [...columns] });
    csv.pipe(out);
    for (const row of tables[name]) {
      // Respect the file's back-pressure: a large table is never queued whole in the stringifier.
      if (!csv.write(row)) await new Promise((resolve) => csv.once('drain', resolve));
    }
    csv.end();
    await finished(out);
    rows[name] = tables[name].length;
  }
  return { children: tables.Header.length, rows };
}

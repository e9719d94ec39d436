import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { makeUpn } from '@throughline/contracts';
import { addDays, addMonths, ageInYears } from '../calendar';
import { Random } from '../random';

/**
 * A synthetic SSDA903 (children looked after) return: children in care with their whole
 * history (periods of care as episodes, reviews, missing episodes, UASC status, OC2, OC3,
 * adoption decisions and matches, previous permanence, social workers), written for one
 * collection year as the DfE's CSV tables or its XML form. Streamed child by child, so it
 * writes 10,000 or 100,000 children in flat memory.
 *
 * The awkward cases real files have: most UPNs fail their check letter, some are lower case,
 * some children have a UPN-unknown code (UN1-UN5) instead; placement changes carry their reason
 * on the preceding row; registered supported accommodation (K3, from 2024-25) for 16- and
 * 17-year-olds; missing episodes, some still open; an impossible date on a review row of a few
 * children (`badDateEvery`). The histories depend on the seed and `anchorYear` only, so the
 * returns of two consecutive years share the episodes that span them.
 */

/** The tables' columns, in the column specification's order (SSDA903_schema_2024.yml). */
export const SSDA903_COLUMNS = {
  Header: ['CHILD', 'SEX', 'DOB', 'ETHNIC', 'UPN', 'MOTHER', 'MC_DOB'],
  Episodes: [
    'CHILD',
    'DECOM',
    'RNE',
    'LS',
    'CIN',
    'PLACE',
    'PLACE_PROVIDER',
    'DEC',
    'REC',
    'REASON_PLACE_CHANGE',
    'HOME_POST',
    'PL_POST',
    'URN',
  ],
  Reviews: ['CHILD', 'DOB', 'REVIEW', 'REVIEW_CODE'],
  Missing: ['CHILD', 'DOB', 'MISSING', 'MIS_START', 'MIS_END'],
  UASC: ['CHILD', 'DOB', 'SEX', 'DUC'],
  OC2: [
    'CHILD',
    'DOB',
    'SDQ_SCORE',
    'SDQ_REASON',
    'CONVICTED',
    'HEALTH_CHECK',
    'IMMUNISATIONS',
    'TEETH_CHECK',
    'HEALTH_ASSESSMENT',
    'SUBSTANCE_MISUSE',
    'INTERVENTION_RECEIVED',
    'INTERVENTION_OFFERED',
  ],
  OC3: ['CHILD', 'DOB', 'IN_TOUCH', 'ACTIV', 'ACCOM'],
  AD1: ['CHILD', 'DOB', 'DATE_INT', 'DATE_MATCH', 'FOSTER_CARE', 'NB_ADOPTR', 'SEX_ADOPTR', 'LS_ADOPTR'],
  PlacedAdoption: ['CHILD', 'DOB', 'DATE_PLACED', 'DATE_PLACED_CEASED', 'REASON_PLACED_CEASED'],
  PrevPerm: ['CHILD', 'DOB', 'PREV_PERM', 'LA_PERM', 'DATE_PERM'],
  SocialWorker: ['CHILD', 'DOB', 'SW_ID', 'SW_DECOM', 'SW_DEC', 'SW_REASON'],
} as const;

export type Ssda903Table = keyof typeof SSDA903_COLUMNS;
export const SSDA903_TABLE_NAMES = Object.keys(SSDA903_COLUMNS) as Ssda903Table[];

/** The DfE's file name of each table. */
export const SSDA903_FILES: Readonly<Record<Ssda903Table, string>> = {
  Header: 'header.csv',
  Episodes: 'episodes.csv',
  Reviews: 'reviews.csv',
  Missing: 'missing.csv',
  UASC: 'uasc.csv',
  OC2: 'oc2.csv',
  OC3: 'oc3.csv',
  AD1: 'ad1.csv',
  PlacedAdoption: 'placed_for_adoption.csv',
  PrevPerm: 'prev_perm.csv',
  SocialWorker: 'sw_episodes.csv',
};

export interface Ssda903Options {
  readonly seed: number;
  /** Children in care during the year written (each one has rows in the year). */
  readonly children: number;
  /** The year the collection year ends in: 2025 is 1 April 2024 - 31 March 2025. */
  readonly year: number;
  /** The year the histories are drawn around (default `year`): equal in two years' returns of one cohort. */
  readonly anchorYear?: number;
  /** Number of the first child (ids are 6 digits from it); default 1. */
  readonly firstChild?: number;
  /** One child in this many has a review row with an impossible date (default 97; 0 for none). */
  readonly badDateEvery?: number;
}

export type Ssda903Row = Record<string, string>;

interface Episode {
  decom: string;
  rne: string;
  ls: string;
  cin: string;
  place: string;
  provider: string;
  dec?: string;
  rec?: string;
  reasonPlaceChange?: string;
  homePost: string;
  plPost: string;
  urn: string;
}

/** One child's whole history, as the LA's case system would hold it. */
export interface LookedAfterHistory {
  readonly id: string;
  readonly sex: 'male' | 'female';
  readonly dob: string;
  readonly ethnic: string;
  /** As reported: a UPN (valid, failing its check letter, or lower case) or UN1-UN5. */
  readonly upn: string;
  readonly episodes: readonly Episode[];
  readonly reviews: readonly { date: string; code: string }[];
  readonly missing: readonly { kind: 'M' | 'A'; start: string; end?: string }[];
  readonly uasc?: { readonly ceased?: string };
  readonly adoption?: {
    readonly decision: string;
    readonly reversed?: { date: string; reason: string };
    readonly match?: {
      date: string;
      fosterCare: boolean;
      adopters: 1 | 2;
      sex: string;
      legalStatus: string;
    };
  };
  readonly prevPerm: { option: string; la: string; date: string };
  readonly workers: readonly { id: string; start: string; end?: string; reason?: string }[];
  readonly badDateReview: boolean;
}

const ETHNIC = [
  ['WBRI', 60],
  ['WOTH', 5],
  ['WIRT', 1],
  ['WROM', 1],
  ['MWBC', 5],
  ['MWBA', 2],
  ['MWAS', 2],
  ['MOTH', 3],
  ['AIND', 2],
  ['APKN', 3],
  ['ABAN', 1],
  ['AOTH', 2],
  ['BCRB', 2],
  ['BAFR', 4],
  ['BOTH', 1],
  ['CHNE', 1],
  ['OOTH', 3],
  ['REFU', 1],
  ['NOBT', 1],
] as const;
const CHANGE_REASONS = [
  'CARPL',
  'CLOSE',
  'ALLEG',
  'STAND',
  'APPRR',
  'CREQB',
  'CREQO',
  'CHILD',
  'LAREQ',
  'OTHER',
];
const POSTCODE_AREAS = ['ZZ99', 'ZZ98'];

/** The collection year (`2024-25`) of a date. */
function collectionYearOf(isoDate: string): string {
  const year = Number(isoDate.slice(0, 4));
  const start = isoDate.slice(5) >= '04-01' ? year : year - 1;
  return `${start}-${String((start + 1) % 100).padStart(2, '0')}`;
}

/** The return's date format. */
export function ddmmyyyy(isoDate: string | undefined): string {
  return isoDate ? `${isoDate.slice(8, 10)}/${isoDate.slice(5, 7)}/${isoDate.slice(0, 4)}` : '';
}

function reportedUpn(rng: Random): string {
  const valid = makeUpn(`${String(rng.int(0, 99_999_999_999)).padStart(11, '0')}${rng.int(0, 9)}`);
  return rng.weighted<() => string>([
    // Most real files: the check letter does not match (another letter of the alphabet).
    [() => (valid[0] === 'A' ? 'B' : 'A') + valid.slice(1), 75],
    [() => valid, 8],
    [() => valid.toLowerCase(), 7],
    [() => `UN${rng.int(1, 5)}`, 10],
  ])();
}

function placementFor(age: number, on: string, rng: Random): string {
  if (age >= 16)
    return collectionYearOf(on) >= '2024-25'
      ? rng.weighted([
          ['K3', 40],
          ['U6', 25],
          ['K2', 20],
          ['P2', 15],
        ] as const)
      : rng.weighted([
          ['H5', 40],
          ['U6', 25],
          ['K2', 20],
          ['P2', 15],
        ] as const);
  if (age < 11)
    return rng.weighted([
      ['U6', 55],
      ['U3', 30],
      ['U4', 10],
      ['U5', age < 2 ? 5 : 0],
    ] as const);
  return rng.weighted([
    ['U6', 45],
    ['K2', 30],
    ['U3', 15],
    ['U4', 10],
  ] as const);
}

function providerFor(place: string, rng: Random): string {
  if (place.startsWith('U') || place.startsWith('A')) return rng.chance(0.7) ? 'PR1' : 'PR4';
  if (place === 'P2') return 'PR1';
  return rng.chance(0.7) ? 'PR4' : 'PR1';
}

/** One child's history, drawn from the seed, the child's number and the anchor year only. */
export function lookedAfterHistory(
  seed: number,
  number: number,
  anchorYear: number,
  badDateEvery = 97,
): LookedAfterHistory {
  const rng = new Random(seed, number, 'ssda903');
  const yearStart = `${anchorYear - 1}-04-01`;
  const yearEnd = `${anchorYear}-03-31`;
  // In care at some time in the anchor year: started up to four years before its end.
  const start = addDays(yearEnd, -rng.int(5, 4 * 365));
  const age0 = rng.weighted([
    [rng.int(0, 4), 30],
    [rng.int(5, 10), 25],
    [rng.int(11, 15), 35],
    [rng.int(16, 17), 10],
  ]);
  const dob = addDays(addMonths(start, -12 * age0), -rng.int(0, 360));
  const eighteen = addMonths(dob, 18 * 12);
  const sex = rng.chance(0.55) ? 'male' : 'female';
  const uasc = age0 >= 14 && rng.chance(0.2);
  const adoptionPath = !uasc && age0 < 5 && rng.chance(0.35);
  const postcode = () =>
    `${rng.pick(POSTCODE_AREAS)} ${rng.int(1, 9)}${String.fromCharCode(65 + rng.int(0, 25))}${String.fromCharCode(65 + rng.int(0, 25))}`;
  const home = postcode();
  let ls: string = uasc
    ? 'V2'
    : rng.weighted([
        ['C1', 45],
        ['V2', 35],
        ['L2', 10],
        ['C2', 10],
      ] as const);
  let place: string = placementFor(age0, start, rng);
  const cin = uasc
    ? 'N8'
    : rng.weighted([
        ['N1', 60],
        ['N4', 10],
        ['N5', 10],
        ['N2', 5],
        ['N3', 5],
        ['N6', 5],
        ['N8', 5],
      ] as const);
  const episode = (decom: string, rne: string): Episode => ({
    decom,
    rne,
    ls,
    cin,
    place,
    provider: providerFor(place, rng),
    homePost: home,
    plPost: postcode(),
    urn: place === 'K2' || place === 'K3' ? `SC${rng.int(100000, 999999)}` : '',
  });
  const episodes: Episode[] = [episode(start, 'S')];
  const last = () => episodes[episodes.length - 1];
  // The horizon of a history: a year past the anchor year, and never past 18.
  const horizon = [addDays(yearEnd, 365), eighteen].sort()[0];
  let adoption: LookedAfterHistory['adoption'];
  let end: { date: string; reason: string } | undefined;

  if (adoptionPath) {
    const order = addMonths(start, rng.int(5, 9));
    const decision = addMonths(start, rng.int(3, 5));
    if (order < horizon) {
      last().dec = order;
      last().rec = 'X1';
      ls = 'E1';
      episodes.push(episode(order, 'L'));
      if (rng.chance(0.7)) {
        const matched = addMonths(order, rng.int(2, 5));
        const placed = addMonths(matched, 1);
        const fosterCare = last().place === 'U5' || rng.chance(0.15);
        if (placed < horizon) {
          last().dec = placed;
          last().rec = 'X1';
          last().reasonPlaceChange = 'CARPL';
          place = fosterCare ? 'A5' : 'A6';
          episodes.push(episode(placed, fosterCare ? 'T' : 'P'));
          const adopted = addMonths(placed, rng.int(5, 11));
          if (adopted < horizon) end = { date: adopted, reason: rng.chance(0.85) ? 'E11' : 'E12' };
        }
        const couple = rng.chance(0.8);
        adoption = {
          decision,
          match: {
            date: matched,
            fosterCare,
            adopters: couple ? 2 : 1,
            sex: couple
              ? rng.weighted([
                  ['MF', 80],
                  ['FF', 12],
                  ['MM', 8],
                ] as const)
              : rng.chance(0.8)
                ? 'F1'
                : 'M1',
            legalStatus: couple
              ? rng.weighted([
                  ['L11', 70],
                  ['L3', 15],
                  ['L12', 8],
                  ['L2', 5],
                  ['L4', 2],
                ] as const)
              : 'L0',
          },
        };
      } else {
        const reversedOn = addMonths(decision, rng.int(6, 10));
        adoption = {
          decision,
          reversed: { date: reversedOn, reason: rng.pick(['RD1', 'RD2', 'RD3', 'RD4']) },
        };
        if (reversedOn < horizon) {
          last().dec = reversedOn;
          last().rec = 'X1';
          ls = 'C2';
          episodes.push(episode(reversedOn, 'L'));
        }
      }
    }
  } else {
    let at = start;
    const changes = rng.int(0, 3);
    for (let k = 0; k < changes; k++) {
      at = addDays(at, rng.int(45, 300));
      if (at >= horizon) break;
      const age = ageInYears(dob, at);
      const rne = rng.weighted([
        ['P', 45],
        ['L', 20],
        ['T', 10],
        ['U', 10],
        ['B', 15],
      ] as const);
      const before = last();
      before.dec = at;
      before.rec = 'X1';
      if (rne !== 'L') before.reasonPlaceChange = rng.pick(CHANGE_REASONS);
      if (rne === 'L' || rne === 'U' || rne === 'B')
        ls = ls === 'C1' || ls === 'L2' ? 'C2' : ls === 'V2' ? 'C1' : 'C2';
      if (rne === 'T' || rne === 'U') place = place === 'U6' ? 'U4' : place === 'U3' ? 'U1' : place;
      else if (rne !== 'L') {
        const next = placementFor(age, at, rng);
        place = next === place ? (next === 'U6' ? 'K2' : 'U6') : next;
      }
      episodes.push(episode(at, rne));
    }
  }
  if (!end && !adoptionPath && rng.chance(0.45)) {
    const date = addDays(last().decom, rng.int(30, 500));
    if (date < horizon)
      end = {
        date,
        reason: rng.weighted([
          ['E4A', 40],
          ['E13', 15],
          ['E45', 10],
          ['E41', 10],
          ['E8', 5],
          ['E4B', 5],
        ] as const),
      };
  }
  if (!end && eighteen <= addDays(yearEnd, 365))
    end = { date: eighteen, reason: rng.chance(0.6) ? 'E17' : 'E5' };
  if (end) {
    last().dec = end.date;
    last().rec = end.reason;
  }
  const until = end?.date ?? horizon;

  const reviews: { date: string; code: string }[] = [];
  for (let date = addDays(start, 20), step = 3; date < until; date = addMonths(date, step), step = 6) {
    const age = ageInYears(dob, date);
    reviews.push({
      date,
      code:
        age < 4
          ? 'PN0'
          : rng.weighted([
              ['PN1', 40],
              ['PN2', 10],
              ['PN3', 5],
              ['PN4', 5],
              ['PN5', 10],
              ['PN6', 10],
              ['PN7', 20],
            ] as const),
    });
  }
  const missing: { kind: 'M' | 'A'; start: string; end?: string }[] = [];
  if (age0 >= 11 && rng.chance(0.3)) {
    const times = rng.int(1, 3);
    for (let k = 0; k < times; k++) {
      const from = addDays(
        start,
        rng.int(10, Math.max(11, Math.floor((Date.parse(until) - Date.parse(start)) / 86_400_000) - 1)),
      );
      if (from >= until) continue;
      const back = addDays(from, rng.int(0, 3));
      missing.push({
        kind: rng.chance(0.7) ? 'M' : 'A',
        start: from,
        ...(back < until && rng.chance(0.92) ? { end: back } : {}),
      });
    }
    missing.sort((a, b) => (a.start < b.start ? -1 : 1));
  }
  const workers: { id: string; start: string; end?: string; reason?: string }[] = [];
  for (let from = start; from < until;) {
    const change = addMonths(from, rng.int(6, 18));
    const id = `SW${rng.int(1000, 1400)}`;
    if (change < until) {
      workers.push({
        id,
        start: from,
        end: change,
        reason: rng.pick(['LEFTRL', 'ORGRST', 'TSPROC', 'ABSENC', 'MANAGE', 'OTHERS']),
      });
      from = change;
    } else {
      workers.push({ id, start: from, ...(end ? { end: end.date } : {}) });
      break;
    }
  }
  const drawn = rng.weighted([
    ['Z1', 75],
    ['P4', 12],
    ['P2', 7],
    ['P3', 4],
    ['P1', 2],
  ] as const);
  // An earlier order needs a child born the year before it at least.
  const permYear = Math.max(Number(start.slice(0, 4)) - rng.int(1, 6), Number(dob.slice(0, 4)) + 1);
  const option = drawn !== 'Z1' && drawn !== 'P4' && permYear >= Number(start.slice(0, 4)) ? 'Z1' : drawn;
  const prevPerm =
    option === 'Z1'
      ? { option, la: '', date: '' }
      : option === 'P4'
        ? { option, la: '999', date: 'zz/zz/zzzz' }
        : {
            option,
            la: rng.chance(0.8) ? String(rng.int(201, 940)) : rng.pick(['SCO', 'WAL', 'NUK']),
            date: rng.weighted([
              [ddmmyyyy(`${permYear}-0${rng.int(1, 9)}-1${rng.int(0, 9)}`), 50],
              [`zz/0${rng.int(1, 9)}/${permYear}`, 30],
              [`zz/zz/${permYear}`, 20],
            ]),
          };
  return {
    id: String(number).padStart(6, '0'),
    sex,
    dob,
    ethnic: uasc ? rng.pick(['BAFR', 'AOTH', 'OOTH', 'WOTH']) : rng.weighted(ETHNIC),
    upn: uasc && rng.chance(0.6) ? 'UN2' : reportedUpn(rng),
    episodes,
    reviews,
    missing,
    ...(uasc ? { uasc: eighteen <= until ? { ceased: eighteen } : {} } : {}),
    ...(adoption ? { adoption } : {}),
    prevPerm,
    workers,
    badDateReview: badDateEvery > 0 && number % badDateEvery === 5,
  } satisfies LookedAfterHistory;
  void yearStart;
}

/**
 * The rows of one child in the return for the year ending 31 March `year`: what the DfE's
 * tables hold for that year (episodes open in it, with an end after 31 March left blank; the
 * year's reviews, missing episodes, OC2, OC3, AD1 …). Empty when the child has none.
 */
export function rowsForYear(
  child: LookedAfterHistory,
  year: number,
): Partial<Record<Ssda903Table, Ssda903Row[]>> {
  const start = `${year - 1}-04-01`;
  const end = `${year}-03-31`;
  const inYear = (d: string | undefined) => d !== undefined && d >= start && d <= end;
  const dob = ddmmyyyy(child.dob);
  const rows: Partial<Record<Ssda903Table, Ssda903Row[]>> = {};
  const add = (table: Ssda903Table, row: Ssda903Row) => (rows[table] ??= []).push(row);
  const base = { CHILD: child.id, DOB: dob };
  const sex = year >= 2025 ? (child.sex === 'male' ? 'M' : 'F') : child.sex === 'male' ? '1' : '2';
  let startedInYear = false;
  for (const e of child.episodes) {
    if (e.decom > end || (e.dec !== undefined && e.dec < start)) continue;
    if (e.rne === 'S' && inYear(e.decom)) startedInYear = true;
    const closed = e.dec !== undefined && e.dec <= end;
    add('Episodes', {
      CHILD: child.id,
      DECOM: ddmmyyyy(e.decom),
      RNE: e.rne,
      LS: e.ls,
      CIN: e.cin,
      PLACE: e.place,
      PLACE_PROVIDER: e.provider,
      DEC: closed ? ddmmyyyy(e.dec) : '',
      REC: closed ? e.rec! : '',
      REASON_PLACE_CHANGE: closed ? (e.reasonPlaceChange ?? '') : '',
      HOME_POST: e.homePost,
      PL_POST: e.plPost,
      URN: e.urn,
    });
  }
  if (!rows.Episodes) return {};
  for (const review of child.reviews.filter((r) => inYear(r.date)))
    add('Reviews', { ...base, REVIEW: ddmmyyyy(review.date), REVIEW_CODE: review.code });
  if (child.badDateReview) add('Reviews', { ...base, REVIEW: `31/02/${year}`, REVIEW_CODE: 'PN1' });
  for (const m of child.missing.filter((m) => inYear(m.start) || inYear(m.end)))
    add('Missing', {
      ...base,
      MISSING: m.kind,
      MIS_START: ddmmyyyy(m.start),
      MIS_END: m.end && m.end <= end ? ddmmyyyy(m.end) : '',
    });
  if (child.uasc && (!child.uasc.ceased || child.uasc.ceased >= start))
    add('UASC', {
      ...base,
      SEX: sex,
      DUC: child.uasc.ceased && child.uasc.ceased <= end ? ddmmyyyy(child.uasc.ceased) : '',
    });
  // OC2: looked after continuously for 12 months at 31 March (one period, so from its start).
  const period = child.episodes.filter((e) => e.rne === 'S').at(-1)!;
  const lastEpisode = child.episodes.at(-1)!;
  const rng = new Random(child.id, year, 'outcomes');
  if (period.decom <= addDays(end, -365) && (lastEpisode.dec === undefined || lastEpisode.dec > end)) {
    const age = ageInYears(child.dob, end);
    const sdq = age >= 4 && age <= 16 && rng.chance(0.8);
    const older = age >= 10;
    const misuse = older && rng.chance(0.1);
    add('OC2', {
      ...base,
      SDQ_SCORE: sdq ? String(rng.int(2, 30)) : '',
      SDQ_REASON: sdq ? '' : age < 4 || age > 16 ? 'SDQ1' : rng.pick(['SDQ2', 'SDQ3', 'SDQ4', 'SDQ5']),
      CONVICTED: older ? (rng.chance(0.06) ? '1' : '0') : '',
      HEALTH_CHECK: rng.chance(0.9) ? '1' : '0',
      IMMUNISATIONS: rng.chance(0.85) ? '1' : '0',
      TEETH_CHECK: rng.chance(0.8) ? '1' : '0',
      HEALTH_ASSESSMENT: rng.chance(0.9) ? '1' : '0',
      SUBSTANCE_MISUSE: older ? (misuse ? '1' : '0') : '',
      INTERVENTION_RECEIVED: misuse ? (rng.chance(0.6) ? '1' : '0') : '',
      INTERVENTION_OFFERED: misuse ? (rng.chance(0.3) ? '1' : '0') : '',
    });
  }
  // OC3: left care at 18, the 18th birthday in the year.
  if ((lastEpisode.rec === 'E17' || lastEpisode.rec === 'E5') && inYear(lastEpisode.dec)) {
    const inTouch = rng.weighted([
      ['YES', 85],
      ['NO', 5],
      ['REFU', 5],
      ['NREQ', 5],
    ] as const);
    add('OC3', {
      ...base,
      IN_TOUCH: inTouch,
      ACTIV: inTouch === 'YES' ? rng.pick(['F2', 'F5', 'F4', 'G5', 'G4', 'P2']) : '0',
      ACCOM:
        inTouch === 'YES'
          ? lastEpisode.rec === 'E17'
            ? 'Z1'
            : rng.pick(['D1', 'U1', 'E1', 'B1', 'W2'])
          : '0',
    });
  }
  const adoption = child.adoption;
  if (adoption) {
    const adopted = (lastEpisode.rec === 'E11' || lastEpisode.rec === 'E12') && inYear(lastEpisode.dec);
    if (adoption.match && (inYear(adoption.match.date) || (adopted && adoption.match.date <= end)))
      add('AD1', {
        ...base,
        DATE_INT: ddmmyyyy(adoption.decision),
        DATE_MATCH: ddmmyyyy(adoption.match.date),
        FOSTER_CARE: adoption.match.fosterCare ? '1' : '0',
        NB_ADOPTR: String(adoption.match.adopters),
        SEX_ADOPTR: adoption.match.sex,
        LS_ADOPTR: adoption.match.legalStatus,
      });
    const reversed = adoption.reversed && adoption.reversed.date <= end ? adoption.reversed : undefined;
    if (adoption.decision <= end && !(reversed && reversed.date < start))
      add('PlacedAdoption', {
        ...base,
        DATE_PLACED: ddmmyyyy(adoption.decision),
        DATE_PLACED_CEASED: ddmmyyyy(reversed?.date),
        REASON_PLACED_CEASED: reversed?.reason ?? '',
      });
  }
  if (startedInYear)
    add('PrevPerm', {
      ...base,
      PREV_PERM: child.prevPerm.option,
      LA_PERM: child.prevPerm.la,
      DATE_PERM: child.prevPerm.date,
    });
  for (const w of child.workers) {
    if (w.start > end || (w.end !== undefined && w.end < start)) continue;
    const closed = w.end !== undefined && w.end <= end;
    add('SocialWorker', {
      ...base,
      SW_ID: w.id,
      SW_DECOM: ddmmyyyy(w.start),
      SW_DEC: closed ? ddmmyyyy(w.end) : '',
      SW_REASON: closed ? (w.reason ?? '') : '',
    });
  }
  rows.Header = [
    { CHILD: child.id, SEX: sex, DOB: dob, ETHNIC: child.ethnic, UPN: child.upn, MOTHER: '', MC_DOB: '' },
  ];
  return rows;
}

/** The children of the return, each with rows in the year (children drawn until `children` have some). */
export function* ssda903Children(
  options: Ssda903Options,
): Generator<{ history: LookedAfterHistory; rows: Partial<Record<Ssda903Table, Ssda903Row[]>> }> {
  const anchor = options.anchorYear ?? options.year;
  let found = 0;
  for (let number = options.firstChild ?? 1; found < options.children; number++) {
    const history = lookedAfterHistory(options.seed, number, anchor, options.badDateEvery);
    const rows = rowsForYear(history, options.year);
    if (!rows.Header) continue;
    found++;
    yield { history, rows };
  }
}

/** A CSV cell: quoted when it holds a comma, quote or line break. */
function cell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

async function writeLine(out: Writable, line: string): Promise<void> {
  if (!out.write(line)) await once(out, 'drain');
}

/**
 * Writes the return's eleven CSV tables into `dir` (which must exist), child by child.
 * Returns the children and the rows of each table.
 */
export async function writeSsda903Csv(
  dir: string,
  options: Ssda903Options,
): Promise<{ children: number; rows: Record<Ssda903Table, number> }> {
  const outs = Object.fromEntries(
    SSDA903_TABLE_NAMES.map((table) => [table, createWriteStream(join(dir, SSDA903_FILES[table]))]),
  ) as unknown as Record<Ssda903Table, Writable>;
  const rows = Object.fromEntries(SSDA903_TABLE_NAMES.map((table) => [table, 0])) as Record<
    Ssda903Table,
    number
  >;
  for (const table of SSDA903_TABLE_NAMES)
    await writeLine(outs[table], `${SSDA903_COLUMNS[table].join(',')}\n`);
  let children = 0;
  for (const { rows: childRows } of ssda903Children(options)) {
    children++;
    for (const table of SSDA903_TABLE_NAMES)
      for (const row of childRows[table] ?? []) {
        rows[table]++;
        await writeLine(
          outs[table],
          `${SSDA903_COLUMNS[table].map((column) => cell(row[column] ?? '')).join(',')}\n`,
        );
      }
  }
  for (const out of Object.values(outs)) out.end();
  await Promise.all(Object.values(outs).map((out) => finished(out)));
  return { children, rows };
}

const xmlText = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The XML of one child in the DfE's export shape (`<CHILD><HEADER>…</HEADER><EPISODE>…</EPISODE></CHILD>`). */
export function childXml(rows: Partial<Record<Ssda903Table, Ssda903Row[]>>): string {
  const leaves = (row: Ssda903Row, columns: readonly string[], rename: Record<string, string> = {}) =>
    columns
      .filter((column) => column !== 'CHILD' && column !== 'DOB' && (row[column] ?? '') !== '')
      .map((column) => `<${rename[column] ?? column}>${xmlText(row[column])}</${rename[column] ?? column}>`)
      .join('');
  const header = rows.Header![0];
  const uasc = rows.UASC?.[0];
  const oc3 = rows.OC3?.[0];
  const ad1 = rows.AD1?.[0];
  const wrap = (tag: string, list: Ssda903Row[] | undefined, table: Ssda903Table) =>
    (list ?? []).map((row) => `<${tag}>${leaves(row, SSDA903_COLUMNS[table])}</${tag}>`).join('');
  return (
    `<CHILD><HEADER><CHILDID>${xmlText(header.CHILD)}</CHILDID>` +
    `${header.UPN ? `<UPN>${xmlText(header.UPN)}</UPN>` : ''}<SEX>${header.SEX}</SEX><DOB>${header.DOB}</DOB>` +
    `<ETHNIC>${header.ETHNIC}</ETHNIC>` +
    (uasc ? `<UASC>1</UASC>${uasc.DUC ? `<DUC>${uasc.DUC}</DUC>` : ''}` : '') +
    wrap('AREVIEW', rows.Reviews, 'Reviews') +
    wrap('AMISSING', rows.Missing, 'Missing') +
    wrap('OC2', rows.OC2, 'OC2') +
    wrap('PERMANENCE', rows.PrevPerm, 'PrevPerm') +
    wrap('AD_PLACED', rows.PlacedAdoption, 'PlacedAdoption') +
    (oc3 ? leaves(oc3, SSDA903_COLUMNS.OC3) : '') +
    (ad1 ? leaves(ad1, SSDA903_COLUMNS.AD1) : '') +
    `</HEADER>` +
    (rows.Episodes ?? [])
      .map((row) => `<EPISODE>${leaves(row, SSDA903_COLUMNS.Episodes, { PLACE: 'PL' })}</EPISODE>`)
      .join('') +
    `</CHILD>`
  );
}

/**
 * Writes the return as one XML file in the DfE's export shape, child by child. The XML form
 * has no social worker table (the validators that read it know none), so those rows are left out.
 */
export async function writeSsda903Xml(file: string, options: Ssda903Options): Promise<{ children: number }> {
  const out = createWriteStream(file);
  await writeLine(out, '<?xml version="1.0" encoding="UTF-8"?>\n<EXPSSDA903>\n');
  let children = 0;
  for (const { rows } of ssda903Children(options)) {
    children++;
    await writeLine(out, `${childXml(rows)}\n`);
  }
  await writeLine(out, '</EXPSSDA903>\n');
  out.end();
  await finished(out);
  return { children };
}

/**
 * The SSDA903 tables as the column specification (`SSDA903_schema_2024.yml`, liia-tools) names
 * them: the columns in order and the file name the DfE's CSV form uses. Files are matched by
 * their column headers first, by name only when the headers do not decide.
 */
export const SSDA903_TABLES = {
  Header: { file: 'header.csv', columns: ['CHILD', 'SEX', 'DOB', 'ETHNIC', 'UPN', 'MOTHER', 'MC_DOB'] },
  Episodes: {
    file: 'episodes.csv',
    columns: [
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
  },
  Reviews: { file: 'reviews.csv', columns: ['CHILD', 'DOB', 'REVIEW', 'REVIEW_CODE'] },
  Missing: { file: 'missing.csv', columns: ['CHILD', 'DOB', 'MISSING', 'MIS_START', 'MIS_END'] },
  UASC: { file: 'uasc.csv', columns: ['CHILD', 'DOB', 'SEX', 'DUC'] },
  OC2: {
    file: 'oc2.csv',
    columns: [
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
  },
  OC3: { file: 'oc3.csv', columns: ['CHILD', 'DOB', 'IN_TOUCH', 'ACTIV', 'ACCOM'] },
  AD1: {
    file: 'ad1.csv',
    columns: [
      'CHILD',
      'DOB',
      'DATE_INT',
      'DATE_MATCH',
      'FOSTER_CARE',
      'NB_ADOPTR',
      'SEX_ADOPTR',
      'LS_ADOPTR',
    ],
  },
  PlacedAdoption: {
    file: 'placed_for_adoption.csv',
    columns: ['CHILD', 'DOB', 'DATE_PLACED', 'DATE_PLACED_CEASED', 'REASON_PLACED_CEASED'],
  },
  PrevPerm: { file: 'prev_perm.csv', columns: ['CHILD', 'DOB', 'PREV_PERM', 'LA_PERM', 'DATE_PERM'] },
  SocialWorker: {
    file: 'sw_episodes.csv',
    columns: ['CHILD', 'DOB', 'SW_ID', 'SW_DECOM', 'SW_DEC', 'SW_REASON'],
  },
} as const satisfies Record<string, { file: string; columns: readonly string[] }>;

export type TableName = keyof typeof SSDA903_TABLES;
export const TABLE_NAMES = Object.keys(SSDA903_TABLES) as TableName[];

/** Columns holding dates of events (not of birth): the latest of them dates a return when no year is given. */
export const EVENT_DATE_COLUMNS: ReadonlySet<string> = new Set([
  'DECOM',
  'DEC',
  'REVIEW',
  'MIS_START',
  'MIS_END',
  'DUC',
  'DATE_INT',
  'DATE_MATCH',
  'DATE_PLACED',
  'DATE_PLACED_CEASED',
  'SW_DECOM',
  'SW_DEC',
]);

/** Normalises a column header: trimmed, upper case (some systems write `child` or ` DOB`). */
export function columnKey(header: string): string {
  return header
    .replace(/^\uFEFF/, '')
    .trim()
    .toUpperCase();
}

/**
 * The table a CSV file holds, from its headers: the table whose columns are exactly the
 * headers; else the one whose columns are all present with the most columns; else by the file
 * name; else undefined.
 */
export function tableOfColumns(headers: readonly string[], fileName: string): TableName | undefined {
  const present = new Set(headers.map(columnKey));
  const exact = TABLE_NAMES.find((name) => {
    const columns = SSDA903_TABLES[name].columns as readonly string[];
    return columns.length === present.size && columns.every((column) => present.has(column));
  });
  if (exact) return exact;
  const covering = TABLE_NAMES.filter((name) =>
    (SSDA903_TABLES[name].columns as readonly string[]).every((column) => present.has(column)),
  ).sort((a, b) => SSDA903_TABLES[b].columns.length - SSDA903_TABLES[a].columns.length);
  if (covering.length) return covering[0];
  const lower = fileName.toLowerCase();
  return TABLE_NAMES.find((name) => lower.endsWith(SSDA903_TABLES[name].file));
}

/** `dd/mm/yyyy` (the return's format) or `yyyy-mm-dd` to an ISO date; undefined when not a real date. */
export function isoDateOf(value: string): string | undefined {
  const text = value.trim();
  let match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
  let [year, month, day] = [0, 0, 0];
  if (match) [day, month, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
  else {
    match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    if (!match) return undefined;
    [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  }
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    return undefined;
  return date.toISOString().slice(0, 10);
}

/** An ISO date in the return's format, `dd/mm/yyyy`. */
export function returnDateOf(isoDate: string): string {
  return `${isoDate.slice(8, 10)}/${isoDate.slice(5, 7)}/${isoDate.slice(0, 4)}`;
}

/** The DfE collection year (1 April - 31 March) holding a date: `2024-25` for 2024-04-01 .. 2025-03-31. */
export function collectionYearOf(isoDate: string): string {
  const year = Number(isoDate.slice(0, 4));
  const start = isoDate.slice(5) >= '04-01' ? year : year - 1;
  return `${start}-${String((start + 1) % 100).padStart(2, '0')}`;
}

/** The 31 March that ends a collection year (`2024-25` → `2025-03-31`). */
export function yearEndingOf(collectionYear: string): string {
  return `${Number(collectionYear.slice(0, 4)) + 1}-03-31`;
}

/**
 * SEX in the code set of a collection year: SSDA903 sends 1/2 up to 2023-24 and M/F/U from
 * 2024-25 (CODE-LISTS.md; the YAML still lists 1/2). Male and female carry across the change;
 * a code with no counterpart in the year (U before 2024-25, 0 or 9 after) gives undefined.
 */
export function sexInYear(code: string, collectionYear: string): string | undefined {
  const value = code.trim().toUpperCase();
  if (collectionYear >= '2024-25') {
    if (value === 'M' || value === 'F' || value === 'U') return value;
    return value === '1' ? 'M' : value === '2' ? 'F' : undefined;
  }
  if (value === '1' || value === '2' || value === '0' || value === '9') return value;
  return value === 'M' ? '1' : value === 'F' ? '2' : undefined;
}

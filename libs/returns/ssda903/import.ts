import { StringDecoder } from 'node:string_decoder';
import { parse } from 'csv-parse';
import sax from 'sax';
import { parseAgencyEvent, type Provenance, type Subject } from '@throughline/contracts';
import { importedEventId } from '../event-id';
import type { ImportContext, ImportFile, ImportItem, ReturnImporter } from '../importer';
import { returnRecordId, subjectFromReturn } from '../subject';
import {
  collectionYearOf,
  columnKey,
  EVENT_DATE_COLUMNS,
  isoDateOf,
  sexInYear,
  SSDA903_TABLES,
  tableOfColumns,
  type TableName,
  yearEndingOf,
} from './tables';

/**
 * SSDA903 (children looked after) importer: the CSV tables (a directory of header.csv,
 * episodes.csv, reviews.csv, …, matched by their column headers) streamed with csv-parse, or
 * the XML export (`<CHILD>` elements with `<HEADER>` and `<EPISODE>`s) streamed with sax.
 *
 * Every event carries provenance (the collection year — given, or else inferred from the
 * latest event date in the files —, the file's SHA-256 and the line or element), a subject
 * built with `subjectFromReturn` (failing UPNs quarantined, the child still recorded) and a
 * deterministic id from the child and the record's natural key, never the year or file.
 * A row that cannot become an event is a `refused` item with its line, rule and reason.
 *
 * Memory: one child's episodes (CSV rows of one child are consecutive, as the DfE's tables
 * are written) or one `<CHILD>` element at a time, plus one subject per child met (the header
 * table is read first, so every table's events carry the child's identifiers).
 */

const FORMAT = 'ssda903' as const;

/** A row of a table, as reported: column → trimmed text (blank columns left out). */
interface Row {
  readonly table: TableName;
  readonly fields: Readonly<Record<string, string>>;
  readonly location: string;
}

class RowProblem extends Error {
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(message);
  }
}

const isXml = (file: ImportFile) => /\.xml$/i.test(file.name);

/** Rows of a CSV table with their line numbers; headers normalised (trimmed, upper case). */
async function* csvRows(file: ImportFile): AsyncGenerator<{ fields: Record<string, string>; line: number }> {
  const parser = file.open().pipe(
    parse({
      bom: true,
      columns: (headers: string[]) => headers.map(columnKey),
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
    }),
  );
  for await (const { record, info } of parser as AsyncIterable<{
    record: Record<string, string>;
    info: { lines: number };
  }>) {
    const fields: Record<string, string> = {};
    for (const [column, value] of Object.entries(record))
      if (value !== undefined && value !== '') fields[column] = value;
    yield { fields, line: info.lines };
  }
}

/** The header line of a CSV file (read and the stream closed). */
async function csvHeaders(file: ImportFile): Promise<string[]> {
  const stream = file.open();
  const parser = stream.pipe(parse({ bom: true, to_line: 1, relax_column_count: true }));
  let headers: string[] = [];
  for await (const record of parser as AsyncIterable<string[]>) headers = record;
  (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  return headers;
}

/** Containers of one record inside an XML `<CHILD>` (the DfE export), and the table each is. */
const XML_RECORDS: Readonly<Record<string, TableName>> = {
  EPISODE: 'Episodes',
  AREVIEW: 'Reviews',
  AMISSING: 'Missing',
  OC2: 'OC2',
  PERMANENCE: 'PrevPerm',
  AD_PLACED: 'PlacedAdoption',
};
/** XML element names that differ from the CSV column names. */
const XML_RENAMED: Readonly<Record<string, string>> = { CHILDID: 'CHILD', PL: 'PLACE' };

interface XmlChild {
  readonly path: string;
  /** Leaves outside the record containers (header items, UASC, OC3, AD1): the last wins. */
  readonly leaves: Record<string, string>;
  readonly records: { table: TableName; fields: Record<string, string>; path: string }[];
}

/**
 * The `<CHILD>` elements of an SSDA903 XML file, one at a time, streamed with sax. The root
 * element's name is not checked (exports name it differently); only the children are read.
 */
async function* xmlChildren(file: ImportFile): AsyncGenerator<XmlChild> {
  const parser = sax.parser(true, { trim: true });
  const ready: XmlChild[] = [];
  const stack: string[] = [];
  let current: { path: string; leaves: Record<string, string>; records: XmlChild['records'] } | undefined;
  let childCount = 0;
  let record: { table: TableName; fields: Record<string, string>; path: string; depth: number } | undefined;
  const recordCounts = new Map<string, number>();
  let text = '';
  parser.onopentag = (node) => {
    stack.push(node.name);
    text = '';
    if (node.name === 'CHILD' && stack.length === 2) {
      childCount++;
      recordCounts.clear();
      current = { path: `${stack[0]}/CHILD[${childCount}]`, leaves: {}, records: [] };
    } else if (current && !record && XML_RECORDS[node.name]) {
      const n = (recordCounts.get(node.name) ?? 0) + 1;
      recordCounts.set(node.name, n);
      record = {
        table: XML_RECORDS[node.name],
        fields: {},
        path: `${current.path}/${stack.slice(2).join('/')}[${n}]`,
        depth: stack.length,
      };
    }
  };
  parser.ontext = (value) => {
    text += value;
  };
  parser.oncdata = (value) => {
    text += value;
  };
  parser.onclosetag = (name) => {
    const value = text.trim();
    text = '';
    if (current && value !== '') {
      const column = XML_RENAMED[name] ?? name;
      if (record) record.fields[column] = value;
      else current.leaves[column] = value;
    }
    if (record && stack.length === record.depth) {
      current?.records.push({ table: record.table, fields: record.fields, path: record.path });
      record = undefined;
    }
    if (name === 'CHILD' && stack.length === 2 && current) {
      ready.push(current);
      current = undefined;
    }
    stack.pop();
  };
  try {
    // Pulled chunk by chunk: the file is read no faster than its children are consumed.
    const decoder = new StringDecoder('utf8');
    for await (const chunk of file.open()) {
      parser.write(typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
      while (ready.length) yield ready.shift()!;
    }
    parser.close();
  } catch (error) {
    if (error instanceof Error && !(error instanceof RowProblem))
      throw new Error(`${file.name}: not well-formed XML (${error.message.split('\n')[0]})`);
    throw error;
  }
  while (ready.length) yield ready.shift()!;
}

/** The tables of one `<CHILD>` as rows, the CSV way. */
function rowsOfXmlChild(child: XmlChild, file: ImportFile): Row[] {
  const at = (path: string) => `${file.name} ${path}`;
  const leaves = child.leaves;
  const pick = (table: TableName, from: Record<string, string>) => {
    const fields: Record<string, string> = {};
    for (const column of SSDA903_TABLES[table].columns) {
      const value = from[column] ?? leaves[column];
      if (value !== undefined) fields[column] = value;
    }
    return fields;
  };
  const rows: Row[] = [
    { table: 'Header', fields: pick('Header', leaves), location: at(`${child.path}/HEADER`) },
  ];
  const uasc = leaves.UASC;
  if ((uasc !== undefined && uasc !== '0') || leaves.DUC !== undefined)
    rows.push({ table: 'UASC', fields: pick('UASC', leaves), location: at(`${child.path}/HEADER/UASC`) });
  if (leaves.IN_TOUCH !== undefined)
    rows.push({ table: 'OC3', fields: pick('OC3', leaves), location: at(`${child.path}/IN_TOUCH`) });
  if (leaves.DATE_INT !== undefined)
    rows.push({ table: 'AD1', fields: pick('AD1', leaves), location: at(`${child.path}/DATE_INT`) });
  for (const record of child.records)
    rows.push({ table: record.table, fields: pick(record.table, record.fields), location: at(record.path) });
  return rows;
}

/**
 * The collection year of a return that does not say: the year (1 April - 31 March) of the
 * latest event date in its files (episode, review, missing, adoption, social worker dates; not
 * dates of birth). Undefined when the files hold no such date.
 */
export async function inferCollectionYear(files: readonly ImportFile[]): Promise<string | undefined> {
  let latest = '';
  const consider = (fields: Readonly<Record<string, string>>) => {
    for (const [column, value] of Object.entries(fields)) {
      if (!EVENT_DATE_COLUMNS.has(column)) continue;
      const date = isoDateOf(value);
      if (date && date > latest) latest = date;
    }
  };
  for (const file of files) {
    if (isXml(file)) {
      for await (const child of xmlChildren(file))
        for (const row of rowsOfXmlChild(child, file)) consider(row.fields);
    } else {
      for await (const { fields } of csvRows(file)) consider(fields);
    }
  }
  return latest ? collectionYearOf(latest) : undefined;
}

/** Where the collection year of an import came from: the caller, or the files' latest date. */
export async function resolveCollectionYear(
  files: readonly ImportFile[],
  context: ImportContext,
): Promise<{ collectionYear: string; from: 'context' | 'latest-date' } | undefined> {
  if (context.collectionYear) return { collectionYear: context.collectionYear, from: 'context' };
  const inferred = await inferCollectionYear(files);
  return inferred ? { collectionYear: inferred, from: 'latest-date' } : undefined;
}

/** Builds the events of one import; one instance per `read`. */
class Ssda903Reader {
  private readonly subjects = new Map<string, Subject>();
  private readonly yearEnding: string;

  constructor(
    private readonly la: string,
    private readonly collectionYear: string,
    private readonly system: string,
  ) {
    this.yearEnding = yearEndingOf(collectionYear);
  }

  /** The rows of one table, in order; episodes grouped by child (consecutive rows). */
  *rows(rows: readonly Row[], file: ImportFile): Generator<ImportItem> {
    for (const row of rows) yield* this.row(row, file);
  }

  *row(row: Row, file: ImportFile): Generator<ImportItem> {
    try {
      yield* this.rowItems(row, file);
    } catch (error) {
      if (!(error instanceof RowProblem)) throw error;
      yield { kind: 'refused', location: row.location, rule: error.rule, reason: error.message };
    }
  }

  *episodes(rows: readonly Row[], file: ImportFile): Generator<ImportItem> {
    const child = rows[0]?.fields.CHILD;
    if (!child) {
      for (const row of rows)
        yield { kind: 'refused', location: row.location, rule: 'required', reason: 'CHILD is blank' };
      return;
    }
    const dated: { row: Row; decom: string }[] = [];
    for (const row of rows) {
      const decom = isoDateOf(row.fields.DECOM ?? '');
      if (!decom) {
        yield {
          kind: 'refused',
          location: row.location,
          rule: row.fields.DECOM ? 'date-format' : 'required',
          reason: row.fields.DECOM
            ? `DECOM '${row.fields.DECOM}' is not a date (dd/mm/yyyy)`
            : 'DECOM (start of the episode) is blank',
        };
        continue;
      }
      dated.push({ row, decom });
    }
    dated.sort((a, b) => (a.decom < b.decom ? -1 : a.decom > b.decom ? 1 : 0));
    yield* this.subjectItems(child, dated[0]?.row, file);
    let periodStart: string | undefined;
    for (const [index, { row, decom }] of dated.entries()) {
      const f = row.fields;
      const previous = index > 0 ? dated[index - 1].row.fields : undefined;
      const episode = {
        legalStatus: f.LS,
        placement: f.PLACE,
        placementProvider: f.PLACE_PROVIDER,
      };
      if (f.RNE === 'S') {
        periodStart = decom;
        yield* this.event(
          file,
          row,
          child,
          'social-care.looked-after-episode.started',
          decom,
          ['episode', 'started', decom],
          {
            startDate: decom,
            ...episode,
            needCategory: f.CIN,
          },
        );
      } else {
        // The reason for a placement change sits on the episode that ended that day.
        const carried =
          f.RNE !== 'L' && previous && isoDateOf(previous.DEC ?? '') === decom
            ? previous.REASON_PLACE_CHANGE
            : undefined;
        yield* this.event(
          file,
          row,
          child,
          'social-care.looked-after-episode.changed',
          decom,
          // A change whose preceding episode is not in this return has no reason: a distinct id, so
          // it never contradicts the same change imported with its reason from the earlier return.
          carried === undefined && f.RNE !== 'L'
            ? ['episode', 'changed', decom, 'reason-not-in-return']
            : ['episode', 'changed', decom],
          {
            changeDate: decom,
            reasonForNewEpisode: f.RNE,
            ...episode,
            reasonPlaceChange: carried,
          },
        );
      }
      if (f.DEC !== undefined) {
        const dec = isoDateOf(f.DEC);
        if (!dec) {
          yield {
            kind: 'refused',
            location: row.location,
            rule: 'date-format',
            reason: `DEC '${f.DEC}' is not a date (dd/mm/yyyy)`,
          };
          continue;
        }
        if (f.REC === undefined) {
          yield {
            kind: 'refused',
            location: row.location,
            rule: 'required-with-DEC',
            reason: 'REC (reason episode ceased) is blank while DEC is given',
          };
        } else if (f.REC !== 'X1') {
          yield* this.event(
            file,
            row,
            child,
            'social-care.looked-after-episode.ended',
            dec,
            ['episode', 'ended', dec],
            {
              startDate: periodStart,
              endDate: dec,
              reasonEnded: f.REC,
            },
          );
          periodStart = undefined;
        }
      }
    }
  }

  private *rowItems(row: Row, file: ImportFile): Generator<ImportItem> {
    const f = row.fields;
    const child = f.CHILD;
    if (!child) throw new RowProblem('required', 'CHILD is blank');
    const date = (column: string, required: true) => {
      const value = f[column];
      if (value === undefined) {
        if (required) throw new RowProblem('required', `${column} is blank`);
        return undefined;
      }
      const iso = isoDateOf(value);
      if (!iso) throw new RowProblem('date-format', `${column} '${value}' is not a date (dd/mm/yyyy)`);
      return iso;
    };
    const optionalDate = (column: string) => (f[column] === undefined ? undefined : date(column, true));
    const flag = (column: string) => {
      const value = f[column];
      if (value === undefined) return undefined;
      const normal = value.toUpperCase();
      if (normal === '1' || normal === 'TRUE') return true;
      if (normal === '0' || normal === 'FALSE') return false;
      throw new RowProblem('code-list', `${column} '${value}' is not 0 or 1`);
    };
    const integer = (column: string) => {
      const value = f[column];
      if (value === undefined) return undefined;
      if (!/^\d+$/.test(value)) throw new RowProblem('integer', `${column} '${value}' is not a whole number`);
      return Number(value);
    };
    switch (row.table) {
      case 'Header': {
        yield* this.subjectItems(child, row, file);
        const asAt = this.yearEnding;
        if (f.ETHNIC !== undefined)
          yield* this.event(
            file,
            row,
            child,
            'social-care.child-characteristics.recorded',
            asAt,
            ['header', 'ethnicity', f.ETHNIC, asAt],
            { asAt, ethnicity: f.ETHNIC },
            { specialCategories: ['ethnicity'] },
          );
        const unknown = /^UN\d+$/i.test(f.UPN ?? '') ? f.UPN!.toUpperCase() : undefined;
        if (unknown)
          yield* this.event(
            file,
            row,
            child,
            'social-care.upn-unknown.recorded',
            asAt,
            ['header', 'upn-unknown', unknown, asAt],
            { asAt, reason: unknown },
          );
        return;
      }
      case 'Episodes':
        yield* this.episodes([row], file);
        return;
      case 'Reviews': {
        yield* this.subjectItems(child, row, file);
        const reviewDate = date('REVIEW', true)!;
        yield* this.event(
          file,
          row,
          child,
          'social-care.looked-after-review.held',
          reviewDate,
          ['review', reviewDate],
          {
            reviewDate,
            participation: f.REVIEW_CODE,
          },
        );
        return;
      }
      case 'Missing': {
        yield* this.subjectItems(child, row, file);
        const startDate = date('MIS_START', true)!;
        const endDate = optionalDate('MIS_END');
        yield* this.event(
          file,
          row,
          child,
          'social-care.missing-episode.recorded',
          endDate ?? startDate,
          ['missing', f.MISSING, startDate, endDate ?? 'open'],
          {
            kind: f.MISSING,
            startDate,
            endDate,
          },
        );
        return;
      }
      case 'UASC': {
        yield* this.subjectItems(child, row, file);
        const ceased = optionalDate('DUC');
        yield* this.event(
          file,
          row,
          child,
          'social-care.uasc-status.recorded',
          this.yearEnding,
          ['uasc', this.yearEnding],
          {
            yearEnding: this.yearEnding,
          },
        );
        if (ceased)
          yield* this.event(
            file,
            row,
            child,
            'social-care.uasc-status.ceased',
            ceased,
            ['uasc', 'ceased', ceased],
            { ceasedDate: ceased },
          );
        return;
      }
      case 'OC2': {
        yield* this.subjectItems(child, row, file);
        yield* this.event(
          file,
          row,
          child,
          'social-care.looked-after-outcomes.recorded',
          this.yearEnding,
          ['oc2', this.yearEnding],
          {
            yearEnding: this.yearEnding,
            sdqScore: integer('SDQ_SCORE'),
            sdqReason: f.SDQ_REASON,
            convicted: flag('CONVICTED'),
            healthCheck: flag('HEALTH_CHECK'),
            immunisations: flag('IMMUNISATIONS'),
            teethCheck: flag('TEETH_CHECK'),
            healthAssessment: flag('HEALTH_ASSESSMENT'),
            substanceMisuse: flag('SUBSTANCE_MISUSE'),
            interventionReceived: flag('INTERVENTION_RECEIVED'),
            interventionOffered: flag('INTERVENTION_OFFERED'),
          },
          { specialCategories: ['substance-misuse', 'criminal-offence'] },
        );
        return;
      }
      case 'OC3':
        yield* this.subjectItems(child, row, file);
        yield* this.event(
          file,
          row,
          child,
          'social-care.care-leaver.contacted',
          this.yearEnding,
          ['oc3', this.yearEnding],
          {
            yearEnding: this.yearEnding,
            inTouch: f.IN_TOUCH,
            activity: f.ACTIV,
            accommodation: f.ACCOM,
          },
        );
        return;
      case 'AD1': {
        yield* this.subjectItems(child, row, file);
        const decisionDate = date('DATE_INT', true)!;
        const matchedDate = date('DATE_MATCH', true)!;
        yield* this.event(
          file,
          row,
          child,
          'social-care.adoption-match.recorded',
          matchedDate,
          ['ad1', decisionDate, matchedDate],
          {
            decisionDate,
            matchedDate,
            adoptedByFosterCarers: flag('FOSTER_CARE'),
            numberOfAdopters: integer('NB_ADOPTR'),
            adopterSex: f.SEX_ADOPTR,
            adopterLegalStatus: f.LS_ADOPTR,
          },
        );
        return;
      }
      case 'PlacedAdoption': {
        yield* this.subjectItems(child, row, file);
        const decisionDate = date('DATE_PLACED', true)!;
        const reversedDate = optionalDate('DATE_PLACED_CEASED');
        yield* this.event(
          file,
          row,
          child,
          'social-care.placement-for-adoption.decided',
          decisionDate,
          ['placed-adoption', decisionDate],
          { decisionDate },
        );
        if (reversedDate || f.REASON_PLACED_CEASED !== undefined)
          yield* this.event(
            file,
            row,
            child,
            'social-care.placement-for-adoption.reversed',
            reversedDate ?? decisionDate,
            ['placed-adoption', 'reversed', decisionDate, reversedDate],
            {
              decisionDate,
              reversedDate,
              reason: f.REASON_PLACED_CEASED,
            },
          );
        return;
      }
      case 'PrevPerm': {
        yield* this.subjectItems(child, row, file);
        const orderDate = partialDateOf(f.DATE_PERM);
        yield* this.event(
          file,
          row,
          child,
          'social-care.previous-permanence.recorded',
          this.yearEnding,
          ['prev-perm', this.yearEnding, f.PREV_PERM, f.LA_PERM, f.DATE_PERM],
          {
            yearEnding: this.yearEnding,
            option: f.PREV_PERM,
            arrangedBy: f.LA_PERM === '999' ? undefined : f.LA_PERM,
            orderDate,
          },
        );
        return;
      }
      case 'SocialWorker': {
        yield* this.subjectItems(child, row, file);
        const startDate = date('SW_DECOM', true)!;
        const endDate = optionalDate('SW_DEC');
        yield* this.event(
          file,
          row,
          child,
          'social-care.social-worker.allocated',
          startDate,
          ['sw', f.SW_ID, startDate],
          {
            workerId: f.SW_ID,
            startDate,
          },
        );
        if (endDate)
          yield* this.event(
            file,
            row,
            child,
            'social-care.social-worker.allocation-ended',
            endDate,
            ['sw', 'ended', f.SW_ID, startDate, endDate],
            {
              workerId: f.SW_ID,
              startDate,
              endDate,
              reason: f.SW_REASON,
            },
          );
        return;
      }
    }
  }

  /**
   * The child's subject, made the first time the child is met (a `child` item then): from the
   * header row when that is where we are, else from what the row says (its DOB).
   */
  private *subjectItems(child: string, row: Row | undefined, file: ImportFile): Generator<ImportItem> {
    if (this.subjects.has(child)) return;
    const f = row?.fields ?? {};
    const upn = f.UPN !== undefined && !/^UN\d+$/i.test(f.UPN) ? f.UPN : undefined;
    const dob = f.DOB !== undefined ? isoDateOf(f.DOB) : undefined;
    const sex =
      f.SEX !== undefined && row?.table === 'Header' ? sexInYear(f.SEX, this.collectionYear) : undefined;
    const { subject, dropped } = subjectFromReturn({
      recordId: returnRecordId(this.la, child),
      laChildId: child,
      laCode: this.la,
      ...(upn ? { upn } : {}),
      ...(sex ? { sex } : {}),
      ...(dob ? { dateOfBirth: dob } : {}),
    });
    this.subjects.set(child, subject);
    yield { kind: 'child', childId: child };
    if (row && f.DOB !== undefined && !dob)
      yield {
        kind: 'refused',
        location: row.location,
        rule: 'date-format',
        reason: `DOB '${f.DOB}' is not a date (dd/mm/yyyy); the child is recorded without it`,
      };
    if (row?.table === 'Header' && f.SEX !== undefined && !sex)
      yield {
        kind: 'refused',
        location: row.location,
        rule: 'code-valid-in-year',
        reason: `SEX '${f.SEX}' has no code in the ${this.collectionYear} set (1/2 to 2023-24, M/F/U from 2024-25); the child is recorded without it`,
      };
    for (const field of dropped)
      yield {
        kind: 'refused',
        location: row?.location ?? file.name,
        rule: field.rule,
        reason: `${field.field}: ${field.message}; the child is recorded without it`,
      };
    void file;
  }

  /** Builds, checks and yields one event; a contract failure becomes a refused item naming the field and rule. */
  private *event(
    file: ImportFile,
    row: Row,
    child: string,
    type: string,
    occurredOn: string,
    naturalKey: readonly (string | number | undefined)[],
    data: Record<string, unknown>,
    extra: { specialCategories?: string[] } = {},
  ): Generator<ImportItem> {
    const subject = this.subjects.get(child);
    if (!subject) throw new Error(`no subject for the child of ${row.location}`);
    const provenance: Provenance = {
      kind: 'statutory-return',
      format: FORMAT,
      collectionYear: this.collectionYear,
      fileSha256: file.sha256,
      location: row.location.slice(0, 200),
    };
    const event = {
      eventId: importedEventId(FORMAT, this.la, child, ...naturalKey),
      type,
      schemaVersion: 1,
      occurredAt: `${occurredOn}T00:00:00Z`,
      source: { agency: 'social-care', system: this.system, organisation: this.la },
      subject,
      ...(extra.specialCategories ? { specialCategories: extra.specialCategories } : {}),
      provenance,
      data: Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined)),
    };
    const parsed = parseAgencyEvent(event, { publishingAgency: 'social-care' });
    if (parsed.ok) {
      yield { kind: 'event', event, location: row.location };
      return;
    }
    yield {
      kind: 'refused',
      location: row.location,
      rule: parsed.issues[0].rule,
      reason: parsed.issues
        .slice(0, 5)
        .map((issue) => `${type} ${issue.path}: ${issue.message} (${issue.rule})`)
        .join('; ')
        .slice(0, 1000),
    };
  }
}

/** DATE_PERM: `dd/mm/yyyy`, `zz/mm/yyyy` (month known), `zz/zz/yyyy` (year known), `zz/zz/zzzz` (unknown). */
function partialDateOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = value.trim().toLowerCase();
  const full = isoDateOf(text);
  if (full) return full;
  let match = /^zz\/(\d{2})\/(\d{4})$/.exec(text);
  if (match && Number(match[1]) >= 1 && Number(match[1]) <= 12) return `${match[2]}-${match[1]}`;
  match = /^zz\/zz\/(\d{4})$/.exec(text);
  if (match) return match[1];
  if (text === 'zz/zz/zzzz') return undefined;
  throw new RowProblem(
    'date-format',
    `DATE_PERM '${value}' is not dd/mm/yyyy, zz/mm/yyyy, zz/zz/yyyy or zz/zz/zzzz`,
  );
}

/** Tables in the order they are read: the header first, so every event carries the child's identifiers. */
const READ_ORDER: readonly TableName[] = [
  'Header',
  'Episodes',
  'Reviews',
  'Missing',
  'UASC',
  'OC2',
  'OC3',
  'AD1',
  'PlacedAdoption',
  'PrevPerm',
  'SocialWorker',
];

async function* readSsda903(
  files: readonly ImportFile[],
  context: ImportContext,
): AsyncGenerator<ImportItem> {
  const la = context.laCode;
  if (!la || !/^\d{3}$/.test(la))
    throw new Error('an SSDA903 import needs the 3-digit LA code (laCode): the return does not hold it');
  const year = await resolveCollectionYear(files, context);
  if (!year) throw new Error('no collection year given and no event date in the files to infer it from');
  const reader = new Ssda903Reader(la, year.collectionYear, context.system);

  for (const file of files.filter(isXml)) {
    for await (const child of xmlChildren(file)) {
      const rows = rowsOfXmlChild(child, file);
      for (const table of READ_ORDER) {
        const ofTable = rows.filter((row) => row.table === table);
        if (!ofTable.length) continue;
        if (table === 'Episodes') yield* reader.episodes(ofTable, file);
        else yield* reader.rows(ofTable, file);
      }
    }
  }

  const tables: { file: ImportFile; table: TableName }[] = [];
  for (const file of files.filter((f) => !isXml(f))) {
    const table = tableOfColumns(await csvHeaders(file), file.name);
    if (!table) {
      yield {
        kind: 'refused',
        location: `${file.name} line 1`,
        rule: 'unknown-table',
        reason:
          'the column headers match no SSDA903 table (Header, Episodes, Reviews, Missing, UASC, OC2, OC3, AD1, PlacedAdoption, PrevPerm, SocialWorker)',
      };
      continue;
    }
    tables.push({ file, table });
  }
  tables.sort((a, b) => READ_ORDER.indexOf(a.table) - READ_ORDER.indexOf(b.table));
  for (const { file, table } of tables) {
    const rowOf = (fields: Record<string, string>, line: number): Row => ({
      table,
      fields,
      location: `${file.name} line ${line}`,
    });
    if (table !== 'Episodes') {
      for await (const { fields, line } of csvRows(file)) yield* reader.row(rowOf(fields, line), file);
      continue;
    }
    // One child's episodes at a time: the rows of a child are consecutive in the DfE's tables.
    let group: Row[] = [];
    for await (const { fields, line } of csvRows(file)) {
      if (group.length && group[0].fields.CHILD !== fields.CHILD) {
        yield* reader.episodes(group, file);
        group = [];
      }
      group.push(rowOf(fields, line));
    }
    if (group.length) yield* reader.episodes(group, file);
  }
}

export const ssda903Importer: ReturnImporter = { format: FORMAT, read: readSsda903 };

import { z } from 'zod';

/**
 * National code lists as data: each list is one file `contracts/code-lists/<id>.json` with its
 * source, the codes and labels as published and their validity (see contracts/code-lists/README.md).
 * `codeList(file)` in common.ts turns a file into a `z.enum` of every code it has ever held;
 * `codeValidityIssues` checks, at intake, that each code was valid in the event's own year.
 */

const COLLECTION_YEAR = /^\d{4}-\d{2}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A DfE collection year (`2024-25`, 1 April to 31 March) or an ISO date, for lists that change on a date. */
const validityBound = z
  .string()
  .refine(
    (value) => COLLECTION_YEAR.test(value) || (ISO_DATE.test(value) && !Number.isNaN(Date.parse(value))),
    {
      message: 'a collection year such as 2024-25 or an ISO date such as 2024-08-19',
      params: { rule: 'year-or-date' },
    },
  )
  .refine(
    (value) =>
      !COLLECTION_YEAR.test(value) || (Number(value.slice(0, 4)) + 1) % 100 === Number(value.slice(5)),
    {
      message: 'a collection year spans two consecutive years, e.g. 2024-25',
      params: { rule: 'consecutive-years' },
    },
  );

const label = z.string().trim().min(1).max(400);

const listedCode = z
  .strictObject({
    code: z.string().min(1).max(40),
    label,
    /** First collection year (or date) the code is valid in, inclusive; absent = always was. */
    validFrom: validityBound.optional(),
    /** Last collection year (or date) the code is valid in, inclusive; absent = still valid. */
    validTo: validityBound.optional(),
    notes: z.string().trim().min(1).max(1000).optional(),
  })
  .refine(
    (entry) => !entry.validFrom || !entry.validTo || boundKind(entry.validFrom) === boundKind(entry.validTo),
    {
      path: ['validTo'],
      message: 'validFrom and validTo are both collection years or both dates',
      params: { rule: 'same-kind-of-bound' },
    },
  )
  .refine((entry) => !entry.validFrom || !entry.validTo || entry.validFrom <= entry.validTo, {
    path: ['validTo'],
    message: 'validTo cannot precede validFrom',
    params: { rule: 'not-before-validFrom' },
  });

/** A code the project once accepted that is not in the published list: kept so stored events read, refused at intake. */
const withdrawnCode = z.strictObject({
  code: z.string().min(1).max(40),
  /** The label the project gave it, so stored events still read as they were meant. */
  label,
  /** Why it is not a code of the list. */
  reason: z.string().trim().min(1).max(400),
  /** The published code that says the same thing, when there is one. */
  replacedBy: z.string().min(1).max(40).optional(),
});

/** The format of a code list file. */
export const codeListFileSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, { message: 'a lower-case slug, e.g. ssda903-placement-type' }),
    title: label,
    authority: label,
    /** The publication the codes come from, e.g. "Children looked after return 2024 to 2025: guide". */
    document: label,
    /** Its version or collection year. */
    version: z.string().trim().min(1).max(100),
    url: z.url().nullable(),
    /** The machine-readable copy the test compares with (`../shared/domain/specs/<file>`), or null. */
    machineReadable: z.strictObject({ file: z.string().min(1), at: z.string().min(1) }).nullable(),
    /** False when no authoritative list was found: the notes say what the codes rest on. */
    authoritative: z.boolean(),
    notes: z.string().trim().min(1).max(2000).optional(),
    codes: z.array(listedCode).min(1),
    withdrawn: z.array(withdrawnCode).min(1).optional(),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    const all = [...file.codes, ...(file.withdrawn ?? [])];
    all.forEach((entry, index) => {
      if (seen.has(entry.code)) {
        const inWithdrawn = index >= file.codes.length;
        ctx.addIssue({
          code: 'custom',
          path: inWithdrawn ? ['withdrawn', index - file.codes.length, 'code'] : ['codes', index, 'code'],
          message: `code ${entry.code} appears more than once`,
          params: { rule: 'unique-code' },
        });
      }
      seen.add(entry.code);
    });
    const current = new Set(file.codes.map((entry) => entry.code));
    (file.withdrawn ?? []).forEach((entry, index) => {
      if (entry.replacedBy !== undefined && !current.has(entry.replacedBy)) {
        ctx.addIssue({
          code: 'custom',
          path: ['withdrawn', index, 'replacedBy'],
          message: `replacedBy ${entry.replacedBy} is not a code of ${file.id}`,
          params: { rule: 'replaced-by-a-listed-code' },
        });
      }
    });
  });

export type CodeListFile = z.infer<typeof codeListFileSchema>;

function boundKind(bound: string): 'year' | 'date' {
  return COLLECTION_YEAR.test(bound) ? 'year' : 'date';
}

/** Reads a code list file's JSON, failing with the list's id, the field and the rule broken. */
export function readCodeListFile(json: unknown): CodeListFile {
  const parsed = codeListFileSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const id = (json as { id?: unknown } | null)?.id;
  const problems = parsed.error.issues
    .map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`)
    .join('; ');
  throw new Error(`code list ${typeof id === 'string' ? id : '(no id)'} is malformed: ${problems}`);
}

/** The collection year (1 April to 31 March) a day falls in: 2024-03-31 is 2023-24, 2024-04-01 is 2024-25. */
export function collectionYearOf(day: string): string {
  const year = Number(day.slice(0, 4));
  const start = Number(day.slice(5, 7)) >= 4 ? year : year - 1;
  return `${start}-${String((start + 1) % 100).padStart(2, '0')}`;
}

interface Validity {
  readonly validFrom?: string;
  readonly validTo?: string;
  readonly withdrawn?: { readonly reason: string; readonly replacedBy?: string };
}

/** What the validity check needs of a list: each code with bounds or withdrawn (codes valid always are absent). */
interface ValidityTable {
  readonly id: string;
  readonly codes: ReadonlyMap<string, Validity>;
}

/** Every code-list enum made from a file, so the envelope can find them in a data schema. */
const LIST_OF_SCHEMA = new WeakMap<z.ZodType, ValidityTable>();

function validityTableOf(file: CodeListFile): ValidityTable {
  const codes = new Map<string, Validity>();
  for (const entry of file.codes) {
    if (entry.validFrom || entry.validTo)
      codes.set(entry.code, { validFrom: entry.validFrom, validTo: entry.validTo });
  }
  for (const entry of file.withdrawn ?? []) {
    codes.set(entry.code, { withdrawn: { reason: entry.reason, replacedBy: entry.replacedBy } });
  }
  return { id: file.id, codes };
}

/**
 * `z.enum` of every code the list has held (current, past and withdrawn, so that stored events
 * keep parsing), with `labels` (code → label as published) and the `list` it came from.
 */
export function codeListFromFile(json: unknown) {
  const list = readCodeListFile(json);
  const entries = [...list.codes, ...(list.withdrawn ?? [])];
  const labels: Record<string, string> = {};
  for (const entry of entries) labels[entry.code] = entry.label;
  // In the list's order (an object would put integer-like codes such as 10 before 01).
  const codes = entries.map((entry) => entry.code) as [string, ...string[]];
  const schema = Object.assign(z.enum(codes), { labels, list });
  LIST_OF_SCHEMA.set(schema, validityTableOf(list));
  return schema;
}

export type FileCodeList = ReturnType<typeof codeListFromFile>;

/** The list without some of its codes (e.g. RNE without S), still checked by year as the list. */
export function codeListExcluding(
  list: FileCodeList,
  excluded: readonly string[],
): z.ZodEnum<Record<string, string>> {
  const narrowed = list.exclude([...excluded] as [string, ...string[]]);
  const table = LIST_OF_SCHEMA.get(list);
  if (table) LIST_OF_SCHEMA.set(narrowed, table);
  return narrowed;
}

/** Whether a code of the list is valid on a day (by its collection year, or the day itself for date bounds). */
export function isCodeValidOn(list: FileCodeList, code: string, day: string): boolean {
  const table = LIST_OF_SCHEMA.get(list);
  if (!table || !(code in list.labels)) return false;
  return issueOf(table, code, '', { year: collectionYearOf(day), day }) === undefined;
}

/** A code-list field of an event: its path (`*` = every element of an array) and its list. */
interface CodeListField {
  readonly path: readonly string[];
  readonly table: ValidityTable;
}

function innerOf(schema: z.ZodType): z.ZodType | undefined {
  const def = (schema as unknown as { _zod: { def: { innerType?: z.ZodType; in?: z.ZodType } } })._zod.def;
  return def.innerType ?? def.in;
}

/** The code-list fields of a schema whose lists have bounds or withdrawn codes, found once at definition. */
function codeListFieldsOf(schema: z.ZodType, path: readonly string[], found: CodeListField[]): void {
  const table = LIST_OF_SCHEMA.get(schema);
  if (table) {
    if (table.codes.size) found.push({ path, table });
    return;
  }
  if (schema instanceof z.ZodObject) {
    for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      codeListFieldsOf(field, [...path, key], found);
    }
  } else if (schema instanceof z.ZodArray) {
    codeListFieldsOf(schema.element as z.ZodType, [...path, '*'], found);
  } else if (schema instanceof z.ZodUnion) {
    for (const option of schema.options as readonly z.ZodType[]) codeListFieldsOf(option, path, found);
  } else {
    const inner = innerOf(schema);
    if (inner) codeListFieldsOf(inner, path, found);
  }
}

const FIELDS_BY_VERSION = new Map<string, readonly CodeListField[]>();

/** Called by `envelope`: remembers the code-list fields of one event type and version. */
export function registerCodeListFields(
  type: string,
  version: number,
  parts: Record<string, z.ZodType>,
): void {
  const found: CodeListField[] = [];
  for (const [key, schema] of Object.entries(parts)) codeListFieldsOf(schema, [key], found);
  FIELDS_BY_VERSION.set(`${type}@${version}`, found);
}

/** A code-list rule broken, in the shape of a contract issue. */
export interface CodeListIssue {
  readonly path: string;
  readonly rule: 'code-valid-in-year' | 'code-withdrawn';
  readonly message: string;
}

interface EventTime {
  /** The collection year the event belongs to. */
  readonly year: string;
  /** The calendar day of the event, for lists that change on a date. */
  readonly day: string;
}

function issueOf(
  table: ValidityTable,
  code: string,
  path: string,
  when: EventTime,
): CodeListIssue | undefined {
  const validity = table.codes.get(code);
  if (!validity) return undefined;
  if (validity.withdrawn) {
    const { reason, replacedBy } = validity.withdrawn;
    return {
      path,
      rule: 'code-withdrawn',
      message: `${table.id}: ${code} is not a code of the list (${reason})${replacedBy ? `; use ${replacedBy}` : ''}`,
    };
  }
  const { validFrom, validTo } = validity;
  const at = (bound: string) => (boundKind(bound) === 'year' ? when.year : when.day);
  const tooEarly = validFrom !== undefined && at(validFrom) < validFrom;
  const tooLate = validTo !== undefined && at(validTo) > validTo;
  if (!tooEarly && !tooLate) return undefined;
  const span = [validFrom && `from ${validFrom}`, validTo && `to ${validTo}`].filter(Boolean).join(' ');
  const eventAt =
    boundKind((tooEarly ? validFrom : validTo) as string) === 'year'
      ? `the event's collection year is ${when.year}`
      : `the event is dated ${when.day}`;
  return { path, rule: 'code-valid-in-year', message: `${table.id}: ${code} is valid ${span}; ${eventAt}` };
}

function collect(
  value: unknown,
  path: readonly string[],
  index: number,
  at: string[],
  visit: (code: string, at: string) => void,
): void {
  if (value === undefined || value === null) return;
  if (index === path.length) {
    if (typeof value === 'string') visit(value, at.join('.'));
    return;
  }
  const key = path[index];
  if (key === '*') {
    if (!Array.isArray(value)) return;
    value.forEach((item, position) => {
      at.push(String(position));
      collect(item, path, index + 1, at, visit);
      at.pop();
    });
    return;
  }
  if (typeof value !== 'object') return;
  at.push(key);
  collect((value as Record<string, unknown>)[key], path, index + 1, at, visit);
  at.pop();
}

/**
 * Each code of a (schema-valid) event against the list of the event's own year: the
 * provenance's collection year for an imported return, else the collection year of
 * `occurredAt`; lists that change on a date compare with the day of `occurredAt`.
 */
export function codeValidityIssues(event: {
  readonly type: string;
  readonly schemaVersion: number;
  readonly occurredAt: string;
  readonly provenance?: { readonly collectionYear?: string };
}): CodeListIssue[] {
  const fields = FIELDS_BY_VERSION.get(`${event.type}@${event.schemaVersion}`);
  if (!fields || fields.length === 0) return [];
  const day = event.occurredAt.slice(0, 10);
  const when: EventTime = { year: event.provenance?.collectionYear ?? collectionYearOf(day), day };
  const issues: CodeListIssue[] = [];
  for (const field of fields) {
    collect(event, field.path, 0, [], (code, at) => {
      const issue = issueOf(field.table, code, at, when);
      if (issue) issues.push(issue);
    });
  }
  return issues;
}

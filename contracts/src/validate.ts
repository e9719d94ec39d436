import type { z } from 'zod';
import {
  agencyEvent,
  FUTURE_DATE_FIELDS,
  MAY_PRECEDE_BIRTH,
  mayPublish,
  PRE_BIRTH_EVENT_TYPES,
  type AgencyEvent,
} from './catalogue';
import { codeValidityIssues } from './code-lists';
import { laChildId, type Agency } from './common';

/** A broken rule, named by its field path (`subject.nhsNumber`, `data.factors.1`) and rule id. */
export interface ContractIssue {
  readonly path: string;
  readonly rule: string;
  readonly message: string;
}

export type ParseResult = { ok: true; event: AgencyEvent } | { ok: false; issues: ContractIssue[] };

export interface ParseOptions {
  /**
   * Events may not be dated later than now plus this tolerance (clock skew). Default 24 h.
   * `Infinity` switches the rule off: a stored event is read whatever the clock says now.
   */
  readonly futureToleranceMs?: number;
  readonly now?: Date;
  /** When set, event types owned by another agency are refused, and source.agency must match. */
  readonly publishingAgency?: Agency;
  /**
   * The event is read back from the store. The intake rules tightened after events were
   * recorded (each code valid in the event's year, LA child id characters) are then not
   * applied: the event met the rules of its time when it was accepted, and the store keeps it
   * as accepted. Default false.
   */
  readonly readingStored?: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function joinPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

function ruleOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return /received undefined/.test(issue.message) ? 'required' : `type:${issue.expected}`;
    case 'too_small':
      return issue.origin === 'string' ? 'min-length' : issue.origin === 'array' ? 'min-items' : 'min';
    case 'too_big':
      return issue.origin === 'string' ? 'max-length' : issue.origin === 'array' ? 'max-items' : 'max';
    case 'invalid_format':
      return issue.format === 'regex' ? 'pattern' : `format:${issue.format}`;
    case 'invalid_value':
      return 'one-of';
    case 'not_multiple_of':
      return 'multiple-of';
    case 'unrecognized_keys':
      return 'unknown-field';
    case 'invalid_union':
      return 'discriminator' in issue && issue.discriminator ? 'known-event-type' : 'union';
    case 'invalid_key':
    case 'invalid_element':
      return 'invalid';
    case 'custom':
      return typeof issue.params?.rule === 'string' ? issue.params.rule : 'custom';
  }
}

/** Whether `path` names a field missing from an object that is present in `input`. */
function isMissingField(input: unknown, path: readonly PropertyKey[]): boolean {
  if (path.length === 0) return false;
  let parent: unknown = input;
  for (const key of path.slice(0, -1)) {
    if (parent === null || typeof parent !== 'object') return false;
    parent = (parent as Record<PropertyKey, unknown>)[key];
  }
  if (parent === null || typeof parent !== 'object' || Array.isArray(parent)) return false;
  return (parent as Record<PropertyKey, unknown>)[path[path.length - 1]] === undefined;
}

/**
 * Flattens zod issues into field issues; an unknown key becomes an issue at that key's path.
 * Given the input, a missing code-list or literal field is reported as `required` (zod
 * reports it as an invalid value).
 */
export function toContractIssues(issues: readonly z.core.$ZodIssue[], input?: unknown): ContractIssue[] {
  return issues.flatMap((issue): ContractIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: joinPath([...issue.path, key]),
        rule: 'unknown-field',
        message: `unknown field "${key}" is not allowed`,
      }));
    }
    if (issue.code === 'invalid_value' && input !== undefined && isMissingField(input, issue.path)) {
      return [
        { path: joinPath(issue.path), rule: 'required', message: `${joinPath(issue.path)} is required` },
      ];
    }
    return [{ path: joinPath(issue.path), rule: ruleOf(issue), message: issue.message }];
  });
}

/**
 * Calls `visit` with every string in `value` and its path (segments in `path`, which the walk
 * pushes and pops; copy it to keep it). One pass, no allocation per node: the recorder runs
 * this for every event it consumes.
 */
function walkStrings(
  value: unknown,
  path: string[],
  visit: (text: string, path: readonly string[]) => void,
): void {
  if (typeof value === 'string') {
    visit(value, path);
  } else if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      path.push(String(index));
      walkStrings(value[index], path, visit);
      path.pop();
    }
  } else if (value !== null && typeof value === 'object') {
    for (const key in value) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
      path.push(key);
      walkStrings((value as Record<string, unknown>)[key], path, visit);
      path.pop();
    }
  }
}

/** PostgreSQL text and jsonb cannot hold U+0000; an event carrying one could never be stored. */
function nulCharacterIssues(value: unknown): ContractIssue[] {
  const issues: ContractIssue[] = [];
  walkStrings(value, [], (text, path) => {
    if (!text.includes('\u0000')) return;
    issues.push({
      path: path.join('.'),
      rule: 'no-nul-character',
      message: 'text must not contain the NUL character (U+0000)',
    });
  });
  return issues;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

interface DateField {
  readonly path: string;
  /** The field's own name (the last non-index segment of its path). */
  readonly key: string;
  readonly value: string;
  /** The calendar day (YYYY-MM-DD) for the birth comparison, as the agency wrote it. */
  readonly day: string;
  readonly time: number;
}

/** The last path segment that is not an array index: the name of the field a string sits in. */
function fieldNameOf(path: readonly string[]): string {
  for (let index = path.length - 1; index >= 0; index--) if (!/^\d+$/.test(path[index])) return path[index];
  return '';
}

/** Every ISO date or date-time in the event's data (schema-checked already, so the forms are valid). */
function dateFieldsOf(value: unknown, path: string[]): DateField[] {
  const fields: DateField[] = [];
  walkStrings(value, path, (text, at) => {
    const dateOnly = ISO_DATE.test(text);
    if (!dateOnly && !ISO_DATE_TIME.test(text)) return;
    const time = Date.parse(dateOnly ? `${text}T00:00:00Z` : text);
    if (Number.isNaN(time)) return;
    fields.push({ path: at.join('.'), key: fieldNameOf(at), value: text, day: text.slice(0, 10), time });
  });
  return fields;
}

/**
 * Sane dates: the event and every date in its data not later than now (plus the clock-skew
 * tolerance; plans such as `reviewDate` excepted, see FUTURE_DATE_FIELDS), and not before the
 * subject's date of birth (the starts of pre-birth plans excepted, see MAY_PRECEDE_BIRTH).
 * Types not in PRE_BIRTH_EVENT_TYPES need a born subject.
 */
function temporalIssues(event: AgencyEvent, options: ParseOptions): ContractIssue[] {
  const issues: ContractIssue[] = [];
  const now = options.now ?? new Date();
  const latest = now.getTime() + (options.futureToleranceMs ?? DAY_MS);
  const checkFuture = Number.isFinite(latest);
  const occurredAt = Date.parse(event.occurredAt);
  if (checkFuture && occurredAt > latest) {
    issues.push({ path: 'occurredAt', rule: 'not-in-future', message: 'occurredAt is in the future' });
  }
  const born = event.subject.dateOfBirth;
  if (born && event.occurredAt.slice(0, 10) < born) {
    issues.push({
      path: 'occurredAt',
      rule: 'not-before-birth',
      message: `occurredAt ${event.occurredAt} is before the subject's date of birth ${born}`,
    });
  }
  if (event.subject.expectedDateOfBirth && !PRE_BIRTH_EVENT_TYPES.has(event.type)) {
    issues.push({
      path: 'subject.expectedDateOfBirth',
      rule: 'pre-birth-not-allowed',
      message: `${event.type} is about a born child: give subject.dateOfBirth, not expectedDateOfBirth`,
    });
  }
  const mayPrecedeBirth = new Set(MAY_PRECEDE_BIRTH[event.type] ?? []);
  // A date (no time) in the future is one whose day starts after the latest allowed instant's day.
  const latestDay = checkFuture ? new Date(latest).toISOString().slice(0, 10) : '';
  for (const field of dateFieldsOf(event.data, ['data'])) {
    const future = checkFuture && (ISO_DATE.test(field.value) ? field.day > latestDay : field.time > latest);
    if (future && !FUTURE_DATE_FIELDS.has(field.key)) {
      issues.push({
        path: field.path,
        rule: 'not-in-future',
        message: `${field.key} ${field.value} is in the future`,
      });
    }
    if (born && field.day < born && !mayPrecedeBirth.has(field.key)) {
      issues.push({
        path: field.path,
        rule: 'not-before-birth',
        message: `${field.key} ${field.value} is before the subject's date of birth ${born}`,
      });
    }
  }
  return issues;
}

/**
 * Rules held at intake only (see `ParseOptions.readingStored`): every code against the list of
 * the event's own year (`code-valid-in-year`, `code-withdrawn`), and the LA child id's
 * characters (`la-child-id-characters`).
 */
function intakeIssues(event: AgencyEvent): ContractIssue[] {
  const issues: ContractIssue[] = codeValidityIssues(event);
  const childId = event.subject.laChildId;
  if (childId !== undefined && !laChildId.safeParse(childId).success) {
    issues.push({
      path: 'subject.laChildId',
      rule: 'la-child-id-characters',
      message: 'LA child id must be 1-20 letters and digits (CIN census rules 1570, 1580)',
    });
  }
  return issues;
}

/** Validates anything against the contracts, with every broken rule named. */
export function parseAgencyEvent(input: unknown, options: ParseOptions = {}): ParseResult {
  const parsed = agencyEvent.safeParse(input);
  if (!parsed.success) return { ok: false, issues: toContractIssues(parsed.error.issues, input) };
  const event = parsed.data;
  const issues = [...nulCharacterIssues(event), ...temporalIssues(event, options)];
  if (!options.readingStored) issues.push(...intakeIssues(event));
  const agency = options.publishingAgency;
  if (agency && !mayPublish(agency, event.type)) {
    issues.push({
      path: 'type',
      rule: 'publisher-agency',
      message: `${agency} may not publish ${event.type}`,
    });
  } else if (agency && event.source.agency !== agency) {
    issues.push({
      path: 'source.agency',
      rule: 'publisher-agency',
      message: `source.agency must be ${agency} on this service`,
    });
  }
  return issues.length ? { ok: false, issues } : { ok: true, event };
}

/** For consumers of raw Kafka bytes: JSON errors are reported like any other rule. */
export function parseAgencyEventBytes(bytes: Buffer | null, options: ParseOptions = {}): ParseResult {
  if (bytes === null || bytes.length === 0) {
    return { ok: false, issues: [{ path: '', rule: 'required', message: 'message has no value' }] };
  }
  let input: unknown;
  try {
    input = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return {
      ok: false,
      issues: [{ path: '', rule: 'json', message: `value is not JSON: ${(error as Error).message}` }],
    };
  }
  return parseAgencyEvent(input, options);
}

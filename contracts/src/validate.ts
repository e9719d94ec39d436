import type { z } from 'zod';
import { agencyEvent, mayPublish, type AgencyEvent } from './catalogue';
import type { Agency } from './common';

/** A broken rule, named by its field path (`subject.nhsNumber`, `data.factors.1`) and rule id. */
export interface ContractIssue {
  readonly path: string;
  readonly rule: string;
  readonly message: string;
}

export type ParseResult = { ok: true; event: AgencyEvent } | { ok: false; issues: ContractIssue[] };

export interface ParseOptions {
  /** Events may not be dated later than now plus this tolerance (clock skew). Default 24 h. */
  readonly futureToleranceMs?: number;
  readonly now?: Date;
  /** When set, event types owned by another agency are refused, and source.agency must match. */
  readonly publishingAgency?: Agency;
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

/** Flattens zod issues into field issues; an unknown key becomes an issue at that key's path. */
export function toContractIssues(issues: readonly z.core.$ZodIssue[]): ContractIssue[] {
  return issues.flatMap((issue): ContractIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: joinPath([...issue.path, key]),
        rule: 'unknown-field',
        message: `unknown field "${key}" is not allowed`,
      }));
    }
    return [{ path: joinPath(issue.path), rule: ruleOf(issue), message: issue.message }];
  });
}

/** PostgreSQL text and jsonb cannot hold U+0000; an event carrying one could never be stored. */
function nulCharacterIssues(value: unknown, path: string[] = []): ContractIssue[] {
  if (typeof value === 'string') {
    return value.includes('\u0000')
      ? [
          {
            path: path.join('.'),
            rule: 'no-nul-character',
            message: 'text must not contain the NUL character (U+0000)',
          },
        ]
      : [];
  }
  if (Array.isArray(value))
    return value.flatMap((item, index) => nulCharacterIssues(item, [...path, String(index)]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => nulCharacterIssues(item, [...path, key]));
  }
  return [];
}

function temporalIssues(event: AgencyEvent, options: ParseOptions): ContractIssue[] {
  const issues: ContractIssue[] = [];
  const now = options.now ?? new Date();
  const occurredAt = Date.parse(event.occurredAt);
  if (occurredAt > now.getTime() + (options.futureToleranceMs ?? DAY_MS)) {
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
  return issues;
}

/** Validates anything against the contracts, with every broken rule named. */
export function parseAgencyEvent(input: unknown, options: ParseOptions = {}): ParseResult {
  const parsed = agencyEvent.safeParse(input);
  if (!parsed.success) return { ok: false, issues: toContractIssues(parsed.error.issues) };
  const event = parsed.data;
  const issues = [...nulCharacterIssues(event), ...temporalIssues(event, options)];
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

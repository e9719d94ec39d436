import {
  IDENTIFIER_FIELDS,
  subject as subjectSchema,
  toContractIssues,
  type IdentifierField,
  type QuarantinedIdentifier,
  type Subject,
} from '@throughline/contracts';

/**
 * What a return or record says about its child, as reported: identifiers are not yet checked.
 * Everything but `recordId` may be missing.
 */
export interface ReportedSubject {
  readonly recordId: string;
  readonly nhsNumber?: string;
  readonly upn?: string;
  readonly formerUpn?: string;
  readonly laChildId?: string;
  readonly laCode?: string;
  readonly uln?: string;
  readonly name?: { readonly given: string; readonly family: string };
  readonly sex?: string;
  readonly postcode?: string;
  readonly dateOfBirth?: string;
  readonly expectedDateOfBirth?: string;
  /** Identifiers the source itself says are not to be trusted (e.g. an unverified NHS number). */
  readonly untrusted?: readonly { field: IdentifierField; rule: string; message: string }[];
}

const blank = (value: string | undefined): boolean => value === undefined || value.trim() === '';

/** Upper-cases a UPN and removes the spaces some systems put in it. */
export function normaliseUpn(value: string): string {
  return value.replace(/\s+/g, '').toUpperCase();
}

/** NHS numbers are often written 943 476 5919 or 943-476-5919. */
function normaliseNhsNumber(value: string): string {
  return value.replace(/[\s-]/g, '');
}

/**
 * The contract's subject for a reported child: UPNs upper-cased; each identifier checked with
 * the contract's own schema, one at a time; one that fails is quarantined (kept as reported,
 * with the rule it failed, never used for linking) and the rest of the subject kept. Other
 * fields that fail (a malformed date of birth, a postcode) are left out and returned as
 * `dropped`, so the caller can report them; the child is still recorded.
 */
export function subjectFromReturn(reported: ReportedSubject): {
  subject: Subject;
  quarantined: readonly QuarantinedIdentifier[];
  dropped: readonly { field: string; rule: string; message: string }[];
} {
  const candidate: Record<string, unknown> = { recordId: reported.recordId };
  const quarantined: QuarantinedIdentifier[] = [];
  const dropped: { field: string; rule: string; message: string }[] = [];
  const untrusted = new Map((reported.untrusted ?? []).map((flag) => [flag.field, flag]));

  for (const field of IDENTIFIER_FIELDS) {
    const raw = reported[field];
    if (blank(raw)) continue;
    const trimmed = raw!.trim();
    const value =
      field === 'upn' || field === 'formerUpn'
        ? normaliseUpn(trimmed)
        : field === 'nhsNumber'
          ? normaliseNhsNumber(trimmed)
          : trimmed;
    const flag = untrusted.get(field);
    if (flag) {
      quarantined.push({ field, value: trimmed.slice(0, 64), rule: flag.rule, message: flag.message });
      continue;
    }
    const shape = subjectSchema.safeParse({
      recordId: reported.recordId,
      [field]: value,
      ...(field === 'laChildId' && reported.laCode ? { laCode: reported.laCode } : {}),
    });
    const issue = shape.success
      ? undefined
      : toContractIssues(shape.error.issues).find((i) => i.path === field);
    if (issue) {
      quarantined.push({
        field,
        value: trimmed.slice(0, 64),
        rule: issue.rule,
        message: issue.message.slice(0, 200),
      });
    } else {
      candidate[field] = value;
    }
  }
  // A former UPN equal to the (valid) current one says nothing more.
  if (candidate.formerUpn !== undefined && candidate.formerUpn === candidate.upn) delete candidate.formerUpn;

  for (const field of ['laCode', 'name', 'sex', 'postcode', 'dateOfBirth', 'expectedDateOfBirth'] as const) {
    const raw = reported[field];
    if (raw === undefined || (typeof raw === 'string' && blank(raw))) continue;
    const value =
      field === 'postcode' && typeof raw === 'string'
        ? raw.trim().toUpperCase()
        : typeof raw === 'string'
          ? raw.trim()
          : raw;
    const shape = subjectSchema.safeParse({ recordId: reported.recordId, [field]: value });
    const issue = shape.success
      ? undefined
      : toContractIssues(shape.error.issues).find((i) => i.path.startsWith(field));
    if (issue) dropped.push({ field: `subject.${field}`, rule: issue.rule, message: issue.message });
    else candidate[field] = value;
  }
  if (candidate.dateOfBirth !== undefined && candidate.expectedDateOfBirth !== undefined) {
    // A child born since the expected date was recorded: the date of birth is what stands.
    delete candidate.expectedDateOfBirth;
  }
  if (candidate.laChildId !== undefined && candidate.laCode === undefined) {
    quarantined.push({
      field: 'laChildId',
      value: String(candidate.laChildId),
      rule: 'required-with-laChildId',
      message: 'an LA child id without its LA code cannot identify the child',
    });
    delete candidate.laChildId;
  }
  if (quarantined.length) candidate.quarantinedIdentifiers = quarantined.slice(0, 10);
  const subject = subjectSchema.parse(candidate);
  return { subject, quarantined, dropped };
}

/**
 * The agency record id of a child known to an LA by its LA child id: the same for the CIN
 * census and SSDA903 of one LA, so both returns land on one subject record. The LA child id
 * may hold characters a record id may not; they are escaped, so distinct ids stay distinct.
 */
export function returnRecordId(laCode: string, laChildId: string): string {
  const safe = laChildId
    .trim()
    .replace(/[^A-Za-z0-9.-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `la${laCode}-${safe}`.slice(0, 64);
}

import { z } from 'zod';
import {
  AGENCY_NAMES,
  isValidNhsNumber,
  isValidUpn,
  normaliseNhsNumber,
  toContractIssues,
} from '@throughline/contracts';
import { ThroughlineError, ValidationError } from '@throughline/platform';

/**
 * Who is asking and why. Every read of a child's data is recorded with this context.
 * (The user id is asserted by the calling system; authenticating it is the gateway's job.)
 */
export interface AccessContext {
  readonly userId: string;
  readonly role?: string;
  readonly purpose: string;
}

export const ACCESS_HEADERS = { userId: 'x-user-id', role: 'x-user-role', purpose: 'x-purpose' } as const;

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** The first value of a header, trimmed; absent when empty. */
function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  const trimmed = first?.trim();
  return trimmed ? trimmed : undefined;
}

const headerText = z
  .string()
  .regex(/^[\x20-\x7e]{1,200}$/, { message: 'printable text, at most 200 characters' });

/** The access headers, after `header()`: every key is present, absent ones as undefined. */
export const ACCESS_HEADER_SCHEMA = z.object({
  [ACCESS_HEADERS.userId]: headerText,
  [ACCESS_HEADERS.role]: headerText.optional(),
  [ACCESS_HEADERS.purpose]: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,63}$/, {
      message: 'a lower-case slug such as direct-care, safeguarding or analysis',
    })
    .optional()
    .refine((purpose) => purpose !== undefined, {
      message: `header ${ACCESS_HEADERS.purpose} is required: say why you are looking (e.g. direct-care, safeguarding, analysis)`,
      params: { rule: 'required' },
    }),
});

/**
 * Who is asking and why, from the request headers: a missing user is 401 (every access is
 * recorded against one), any other broken rule a 400 naming the header and the rule.
 */
export function accessContextOf(headers: Headers): AccessContext {
  const values = {
    [ACCESS_HEADERS.userId]: header(headers, ACCESS_HEADERS.userId),
    [ACCESS_HEADERS.role]: header(headers, ACCESS_HEADERS.role),
    [ACCESS_HEADERS.purpose]: header(headers, ACCESS_HEADERS.purpose),
  };
  if (values[ACCESS_HEADERS.userId] === undefined) {
    throw new ThroughlineError(
      'UNAUTHENTICATED',
      `header ${ACCESS_HEADERS.userId} is required: every access is recorded against a user`,
    );
  }
  const parsed = ACCESS_HEADER_SCHEMA.safeParse(values);
  if (!parsed.success) {
    const issues = toContractIssues(parsed.error.issues).map((issue) => ({
      ...issue,
      path: `headers.${issue.path}`,
    }));
    throw new ValidationError(issues.map((issue) => issue.message).join('; '), issues);
  }
  const {
    [ACCESS_HEADERS.userId]: userId,
    [ACCESS_HEADERS.role]: role,
    [ACCESS_HEADERS.purpose]: purpose,
  } = parsed.data;
  return { userId, role, purpose: purpose as string };
}

/** The body of a lookup. Identifiers travel in a body, never in a URL (URLs end up in logs). */
export const LOOKUP_REQUEST = z.strictObject({
  identifier: z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('nhs-number'),
      value: z
        .string()
        .meta({ description: '10 digits (spaces allowed) with a valid check digit', example: '943 476 5919' })
        .transform(normaliseNhsNumber)
        .refine(isValidNhsNumber, {
          message: 'not a valid NHS number',
          params: { rule: 'nhs-number-check-digit' },
        }),
    }),
    z.strictObject({
      type: z.literal('upn'),
      value: z
        .string()
        .meta({ description: '13 characters with a valid check letter', example: 'A950000178301' })
        .trim()
        .refine(isValidUpn, { message: 'not a valid UPN', params: { rule: 'upn-check-letter' } }),
    }),
    z.strictObject({
      type: z.literal('record'),
      value: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'record id must be 1-64 of A-Z a-z 0-9 . _ -' })
        .meta({ description: "the agency's own record id", example: 'chs-000123' }),
      agency: z.enum(AGENCY_NAMES),
    }),
  ]),
});

export type ChildIdentifierQuery = z.output<typeof LOOKUP_REQUEST>['identifier'];

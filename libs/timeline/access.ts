import { z } from 'zod';
import {
  AGENCY_NAMES,
  isValidNhsNumber,
  isValidUpn,
  normaliseNhsNumber,
  toContractIssues,
  type Agency,
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

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  const trimmed = first?.trim();
  return trimmed ? trimmed : undefined;
}

const PURPOSE = /^[a-z][a-z0-9-]{1,63}$/;
const HEADER_TEXT = /^[\x20-\x7e]{1,200}$/;

export function accessContextOf(headers: Headers): AccessContext {
  const userId = header(headers, ACCESS_HEADERS.userId);
  if (!userId) {
    throw new ThroughlineError(
      'UNAUTHENTICATED',
      `header ${ACCESS_HEADERS.userId} is required: every access is recorded against a user`,
    );
  }
  const role = header(headers, ACCESS_HEADERS.role);
  const purpose = header(headers, ACCESS_HEADERS.purpose);
  const issues = [];
  if (!HEADER_TEXT.test(userId)) {
    issues.push({
      path: `headers.${ACCESS_HEADERS.userId}`,
      rule: 'pattern',
      message: 'printable text, at most 200 characters',
    });
  }
  if (role !== undefined && !HEADER_TEXT.test(role)) {
    issues.push({
      path: `headers.${ACCESS_HEADERS.role}`,
      rule: 'pattern',
      message: 'printable text, at most 200 characters',
    });
  }
  if (purpose === undefined) {
    issues.push({
      path: `headers.${ACCESS_HEADERS.purpose}`,
      rule: 'required',
      message: `header ${ACCESS_HEADERS.purpose} is required: say why you are looking (e.g. direct-care, safeguarding, analysis)`,
    });
  } else if (!PURPOSE.test(purpose)) {
    issues.push({
      path: `headers.${ACCESS_HEADERS.purpose}`,
      rule: 'pattern',
      message: 'a lower-case slug such as direct-care, safeguarding or analysis',
    });
  }
  if (issues.length > 0) throw new ValidationError(issues.map((issue) => issue.message).join('; '), issues);
  return { userId, role, purpose: purpose as string };
}

export type ChildIdentifierQuery =
  | { readonly type: 'nhs-number'; readonly value: string }
  | { readonly type: 'upn'; readonly value: string }
  | { readonly type: 'record'; readonly value: string; readonly agency: Agency };

const lookupRequest = z.strictObject({
  identifier: z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('nhs-number'),
      value: z
        .string()
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
        .trim()
        .refine(isValidUpn, { message: 'not a valid UPN', params: { rule: 'upn-check-letter' } }),
    }),
    z.strictObject({
      type: z.literal('record'),
      value: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'record id must be 1-64 of A-Z a-z 0-9 . _ -' }),
      agency: z.enum(AGENCY_NAMES),
    }),
  ]),
});

/** Identifiers travel in a body, never in a URL (URLs end up in logs). */
export function parseLookupRequest(body: unknown): ChildIdentifierQuery {
  const parsed = lookupRequest.safeParse(body);
  if (!parsed.success) {
    const issues = toContractIssues(parsed.error.issues);
    throw new ValidationError(
      `invalid lookup: ${issues.map((issue) => `${issue.path} ${issue.message}`).join('; ')}`,
      issues,
    );
  }
  return parsed.data.identifier;
}

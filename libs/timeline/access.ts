import { z } from 'zod';
import { AGENCY_NAMES, isValidNhsNumber, isValidUpn, normaliseNhsNumber } from '@throughline/contracts';

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

import { z } from 'zod';
import {
  childDecisions,
  childOutcomes,
  FRAMEWORK_DOCUMENT,
  type FrameworkDocument,
  type FrameworkVersionView,
  type GovernedDecisions,
  type GovernedOutcomes,
} from '@throughline/outcomes';
import { childTimeline } from './http-schemas';

/**
 * The outcome endpoints' requests and responses as zod schemas (/docs is generated from them).
 * Per-child answers carry the chronology read's `withheld` and `access`: they are derived from
 * the entries that read let through, and say so.
 */

const governed = {
  childKey: childTimeline.shape.childKey,
  withheld: childTimeline.shape.withheld,
  access: childTimeline.shape.access,
};

export const childOutcomesResponse = childOutcomes.extend(governed) satisfies z.ZodType<GovernedOutcomes>;
export const childDecisionsResponse = childDecisions.extend(governed) satisfies z.ZodType<GovernedDecisions>;

export const FRAMEWORKS_CHANGE = z.strictObject({
  reason: z
    .string()
    .trim()
    .min(10, { message: 'say why the frameworks change (at least 10 characters)' })
    .max(2000),
  frameworks: z.unknown(),
});

export const frameworksResponse = z.object({
  version: z.number().int().nonnegative(),
  frameworks: FRAMEWORK_DOCUMENT,
}) satisfies z.ZodType<{ version: number; frameworks: FrameworkDocument }, unknown>;

export const frameworkVersionView = z.object({
  version: z.number().int().min(1),
  sha256: z.string(),
  loadedAt: z.string().meta({ format: 'date-time' }),
  loadedBy: z.string(),
  organisation: z.string().optional(),
  reason: z.string(),
  title: z.string(),
  frameworks: z.array(z.string()),
}) satisfies z.ZodType<FrameworkVersionView>;

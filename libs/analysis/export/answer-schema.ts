import { z } from 'zod';
import { type AnalysisAnswer, analysisQuerySchema, GROUP_BY, PERIODS } from '../types';

/**
 * An AnalysisAnswer as it arrives over HTTP (the CLI's edge): checked before a byte is written,
 * so a changed or broken server answer is an error naming the field, not a wrong file. Objects
 * are not strict: a field the server adds later is ignored, not refused.
 */
export const analysisAnswerSchema = z.object({
  measure: z.object({
    id: z.string().min(1),
    title: z.string(),
    definition: z.string(),
    source: z.object({ title: z.string(), url: z.string() }).optional(),
    unit: z.enum(['count', 'proportion', 'mean-days', 'median-days', 'mean-rating']),
    countOf: z.string(),
    eventTypes: z.array(z.string()),
    groupBy: z.array(z.enum(GROUP_BY)),
    periods: z.array(z.enum(PERIODS)),
    caveats: z.array(z.string()),
  }),
  query: analysisQuerySchema,
  cohortSize: z.number(),
  cells: z.array(
    z.object({
      key: z.record(z.string(), z.string()),
      count: z.number().nullable(),
      numerator: z.number().nullable().optional(),
      value: z.number().nullable(),
      suppressed: z.boolean(),
      reason: z
        .enum(['below-threshold', 'secondary', 'numerator-below-threshold', 'complement-below-threshold'])
        .optional(),
    }),
  ),
  rules: z.object({
    threshold: z.number().int().positive(),
    roundingBase: z.number().int().positive(),
    minimumCohort: z.number().int().nonnegative(),
  }),
  // A store position may come as a string (a bigint on the server).
  asOfPosition: z.coerce.number(),
}) satisfies z.ZodType<AnalysisAnswer, unknown>;

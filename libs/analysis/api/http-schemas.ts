import { z } from 'zod';
import { EXPORT_FORMATS } from '../export/write-answer';
import { analysisAnswerSchema } from '../export/answer-schema';
import { analysisQuerySchema } from '../types';

/** POST /v1/analysis/exports: the query, and the file format asked for. */
export const analysisExportRequestSchema = analysisQuerySchema.extend({
  format: z.enum(EXPORT_FORMATS),
});
export type AnalysisExportRequest = z.output<typeof analysisExportRequestSchema>;

/** The disclosure rules as /docs states them (OpenAPI 3.0 has no numeric exclusiveMinimum: bounds as minimums). */
const rulesSchema = z.object({
  threshold: z.number().int().min(1).meta({ description: 'cells under this many are suppressed' }),
  roundingBase: z.number().int().min(1).meta({ description: 'counts are rounded to a multiple of this' }),
  minimumCohort: z.number().int().min(0).meta({ description: 'a smaller cohort is refused' }),
});

/** POST /v1/analysis/queries' answer, for /docs. */
export const analysisAnswerDocSchema = analysisAnswerSchema.extend({ rules: rulesSchema });

/** GET /v1/analysis/measures, for /docs. */
export const analysisCatalogueSchema = z.object({
  measures: z.array(
    analysisAnswerSchema.shape.measure.extend({
      coverage: z.union([
        z.object({
          covered: z.literal(true),
          agreements: z
            .array(z.string())
            .meta({ description: 'the agreements it is answered under (id@version)' }),
        }),
        z.object({
          covered: z.literal(false),
          reason: z
            .string()
            .meta({ description: 'which agency and event category no agreement in force shares' }),
        }),
      ]),
    }),
  ),
  rules: rulesSchema,
});

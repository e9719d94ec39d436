import { z } from 'zod';
import { EXPORT_FORMATS } from '../export/write-answer';
import { analysisAnswerSchema } from '../export/answer-schema';
import { analysisQuerySchema } from '../types';

/** POST /v1/analysis/exports: the query, and the file format asked for. */
export const analysisExportRequestSchema = analysisQuerySchema.extend({
  format: z.enum(EXPORT_FORMATS),
});
export type AnalysisExportRequest = z.output<typeof analysisExportRequestSchema>;

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
  rules: analysisAnswerSchema.shape.rules,
});

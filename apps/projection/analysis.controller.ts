import { Body, Controller, Get, HttpCode, Optional, Post, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Access, CurrentRequester, type Requester } from '@throughline/access';
import {
  analysisAnswerDocSchema,
  analysisCatalogueSchema,
  analysisExportRequestSchema,
  analysisQuerySchema,
  GovernedAnalysis,
  type AnalysisAnswer,
  type AnalysisCatalogue,
  type AnalysisExportRequest,
  type AnalysisQuery,
} from '@throughline/analysis';
import { errorSchema, openApiSchemaOf, UnavailableError } from '@throughline/platform';
import { ZodValidationPipe } from './zod-validation.pipe';

const REFUSALS =
  'a field breaks a rule (each named with its field and rule): an unknown measure (known-measure), a grouping or ' +
  'period the measure does not offer, a cohort under the minimum (minimum-cohort) or one differing from an ' +
  'earlier cohort of yours by fewer than the threshold (differencing)';
const FORBIDDEN_AGREEMENT =
  'no role of the caller grants analysis:query for the purpose, or no agreement in force shares an agency’s ' +
  'events the measure reads (rule agreement-covers-analysis, naming the agency and category)';

/** `attachment; filename=…`, the name being the export writer's (lower case, digits, underscores). */
function attachment(name: string): string {
  return `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`;
}

/**
 * The analysts' API (issue 15): the catalogue of measures, and a measure's answer over a cohort
 * under disclosure control, as JSON or as a file. Only for analysis:query (the analyst role, purpose
 * analysis) under agreements that share what the measure reads; never one child's data.
 */
@ApiTags('analysis')
@Controller('v1/analysis')
export class AnalysisController {
  constructor(@Optional() private readonly analysis?: GovernedAnalysis) {}

  private governed(): GovernedAnalysis {
    if (!this.analysis) throw new UnavailableError('the analysis model is not running on this instance');
    return this.analysis;
  }

  @Get('measures')
  @Access('analysis:query', 'analysis-catalogue')
  @ApiOperation({
    summary:
      'The measures: each with its definition and source, unit, what it counts, the event types it reads, ' +
      'groupings, periods and caveats, and whether the agreements in force let you ask it',
  })
  @ApiOkResponse({ schema: openApiSchemaOf(analysisCatalogueSchema) })
  @ApiServiceUnavailableResponse({ description: 'the analysis model is not running', schema: errorSchema })
  catalogue(@CurrentRequester() requester: Requester): AnalysisCatalogue {
    return this.governed().catalogue(requester);
  }

  @Post('queries')
  @ApiForbiddenResponse({ description: FORBIDDEN_AGREEMENT, schema: errorSchema })
  @Access('analysis:query', 'analysis-query')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'A measure over a cohort, grouped and by period: cells with rounded counts, values from the exact counts, ' +
      'and suppressed cells with the reason; recorded in the access log with its definition and the shape of the answer',
  })
  @ApiBody({ schema: openApiSchemaOf(analysisQuerySchema, { io: 'input' }) })
  @ApiOkResponse({ schema: openApiSchemaOf(analysisAnswerDocSchema) })
  @ApiBadRequestResponse({ description: REFUSALS, schema: errorSchema })
  @ApiServiceUnavailableResponse({ description: 'the analysis model is not running', schema: errorSchema })
  query(
    @CurrentRequester() requester: Requester,
    @Body(new ZodValidationPipe(analysisQuerySchema, 'analysis query')) query: AnalysisQuery,
  ): Promise<AnalysisAnswer> {
    return this.governed().answer(query, requester);
  }

  @Post('exports')
  @ApiForbiddenResponse({ description: FORBIDDEN_AGREEMENT, schema: errorSchema })
  @Access('analysis:query', 'analysis-export')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'The same answer as a file: a DfE-style tidy CSV or a Parquet file (its data dictionary in the file’s ' +
      'metadata), under the same disclosure rules, recorded in the access log as a query is',
  })
  @ApiBody({ schema: openApiSchemaOf(analysisExportRequestSchema, { io: 'input' }) })
  @ApiOkResponse({
    description: 'the file, as an attachment (content-disposition names it)',
    content: {
      'text/csv': { schema: { type: 'string' } },
      'application/vnd.apache.parquet': { schema: { type: 'string', format: 'binary' } },
    },
  })
  @ApiBadRequestResponse({ description: REFUSALS, schema: errorSchema })
  @ApiServiceUnavailableResponse({ description: 'the analysis model is not running', schema: errorSchema })
  async export(
    @CurrentRequester() requester: Requester,
    @Body(new ZodValidationPipe(analysisExportRequestSchema, 'analysis export')) body: AnalysisExportRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer> {
    const { format, ...query } = body;
    const file = await this.governed().export(query, format, requester);
    void reply.headers({
      'content-type': file.contentType,
      'content-disposition': attachment(file.name),
      // The answer is controlled, but it is still a pseudonymised dataset: no shared caches.
      'cache-control': 'no-store',
    });
    return Buffer.from(file.bytes);
  }
}

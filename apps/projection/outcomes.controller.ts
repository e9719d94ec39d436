import { Body, Controller, Get, Param, Put, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { Access, CurrentRequester, noteAccess, type Requester } from '@throughline/access';
import { errorSchema, openApiSchemaOf } from '@throughline/platform';
import {
  FRAMEWORK_DOCUMENT,
  FrameworkStore,
  OUTCOMES_QUERY,
  OutcomeReads,
  parseFrameworkDocument,
  REVIEWS_DUE_QUERY,
  reviewsDue,
  type FrameworkDocument,
  type FrameworkVersionView,
  type OutcomesQuery,
  type ReviewsDue,
  type ReviewsDueQuery,
} from '@throughline/outcomes';
import {
  childDecisionsResponse,
  childOutcomesResponse,
  FRAMEWORKS_CHANGE,
  frameworksResponse,
  frameworkVersionView,
} from './outcomes-http-schemas';
import { ZodValidationPipe } from './zod-validation.pipe';

const date = { type: 'string', format: 'date' } as const;

/**
 * An answer already serialised (OutcomeReads keeps derived answers as JSON): sent as it is, as
 * JSON. The type is set only once the answer is there, so an error still goes out as the
 * error filter writes it.
 */
async function asJson(reply: FastifyReply, answer: Promise<string>): Promise<string> {
  const json = await answer;
  void reply.type('application/json; charset=utf-8');
  return json;
}

/**
 * Outcomes as practice sees them (decision 015): each perspective its own series beside the
 * indicators, decisions with their reasoning and reviews, reviews due across children, and the
 * outcome frameworks as versioned data.
 */
@ApiTags('outcomes')
@Controller('v1')
export class OutcomesController {
  constructor(
    private readonly reads: OutcomeReads,
    private readonly frameworks: FrameworkStore,
  ) {}

  @Get('children/:childKey/outcomes')
  @Access('timeline:read', 'outcomes')
  @ApiOperation({
    summary:
      "One child's outcomes in a framework: per domain, each perspective's own series, accounts without a rating, " +
      'indicators by period with the accounts beside them, facts, disagreements and recorded differing views',
  })
  @ApiQuery({ name: 'framework', required: false, schema: { type: 'string', example: 'ecm' } })
  @ApiQuery({ name: 'from', required: false, schema: date })
  @ApiQuery({ name: 'to', required: false, schema: date })
  @ApiQuery({ name: 'period', required: false, schema: { type: 'string', enum: ['term', 'year'] } })
  @ApiOkResponse({ schema: openApiSchemaOf(childOutcomesResponse) })
  @ApiBadRequestResponse({ description: 'a query parameter is malformed', schema: errorSchema })
  @ApiNotFoundResponse({ description: 'unknown child key or framework', schema: errorSchema })
  outcomes(
    @CurrentRequester() requester: Requester,
    @Param('childKey') childKey: string,
    @Query(new ZodValidationPipe(OUTCOMES_QUERY, 'outcomes query', 'query')) query: OutcomesQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    return asJson(reply, this.reads.outcomesJson(childKey, query, requester));
  }

  @Get('children/:childKey/decisions')
  @Access('timeline:read', 'decisions')
  @ApiOperation({
    summary:
      "One child's decisions: rationale, options and why not, uncertainty, expected outcomes, reviews, status, " +
      'and what was seen since in the domains each expected to change',
  })
  @ApiOkResponse({ schema: openApiSchemaOf(childDecisionsResponse) })
  @ApiNotFoundResponse({ description: 'unknown child key', schema: errorSchema })
  decisions(
    @CurrentRequester() requester: Requester,
    @Param('childKey') childKey: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    return asJson(reply, this.reads.decisionsJson(childKey, requester));
  }

  @Get('reviews/due')
  @Access('reviews:read', 'reviews-due')
  @ApiOperation({
    summary:
      'Decisions whose review falls on or before `before` (default today + REVIEW_DUE_DAYS), across children, ' +
      'for one team or all; only decisions the access policy lets the reader see',
  })
  @ApiQuery({ name: 'team', required: false, schema: { type: 'string', example: 'Assessment team 2' } })
  @ApiQuery({ name: 'before', required: false, schema: date })
  @ApiOkResponse({ schema: openApiSchemaOf(reviewsDue) })
  @ApiBadRequestResponse({ description: 'a query parameter is malformed', schema: errorSchema })
  reviewsDue(
    @CurrentRequester() requester: Requester,
    @Query(new ZodValidationPipe(REVIEWS_DUE_QUERY, 'reviews query', 'query')) query: ReviewsDueQuery,
  ): Promise<ReviewsDue> {
    return this.reads.reviewsDue(query, requester);
  }

  @Get('outcomes/frameworks')
  @Access('frameworks:read', 'frameworks-read')
  @ApiOperation({
    summary:
      'The outcome frameworks in force: domains, scales, and which events are evidence about which domain',
  })
  @ApiOkResponse({ schema: openApiSchemaOf(frameworksResponse) })
  current(): { version: number; frameworks: FrameworkDocument } {
    const { version, document } = this.frameworks.current();
    return { version, frameworks: document };
  }

  @Get('outcomes/frameworks/versions')
  @Access('frameworks:read', 'frameworks-versions')
  @ApiOperation({ summary: 'Every version of the outcome frameworks: when, by whom, why' })
  @ApiOkResponse({ schema: openApiSchemaOf(z.object({ versions: z.array(frameworkVersionView) })) })
  async versions(): Promise<{ versions: FrameworkVersionView[] }> {
    return { versions: await this.frameworks.history() };
  }

  @Put('outcomes/frameworks')
  @Access('frameworks:change', 'frameworks-change')
  @ApiOperation({
    summary:
      'Replace the outcome frameworks with a new version (checked first: an invalid document changes nothing; ' +
      'read side only, so no rebuild). Body: { reason, frameworks }',
  })
  @ApiBody({
    schema: openApiSchemaOf(z.object({ reason: z.string(), frameworks: FRAMEWORK_DOCUMENT }), {
      io: 'input',
    }),
  })
  @ApiOkResponse({ schema: openApiSchemaOf(frameworkVersionView) })
  @ApiBadRequestResponse({
    description: 'the document breaks a rule (each named with its field)',
    schema: errorSchema,
  })
  async change(
    @CurrentRequester() requester: Requester,
    @Body(new ZodValidationPipe(FRAMEWORKS_CHANGE, 'frameworks change', 'body'))
    body: z.output<typeof FRAMEWORKS_CHANGE>,
  ): Promise<FrameworkVersionView> {
    // Checked here, so that a refusal names the field as sent (body.frameworks.…).
    const document = parseFrameworkDocument(body.frameworks, 'body.frameworks');
    const view = await this.frameworks.replace(document, {
      userId: requester.principal.userId,
      organisation: requester.principal.organisation?.code,
      reason: body.reason,
    });
    noteAccess(requester, {
      extra: { frameworksVersion: view.version, sha256: view.sha256, reason: body.reason },
    });
    return view;
  }
}

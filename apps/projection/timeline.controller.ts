import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { z } from 'zod';
import { EdgeRoute, errorSchema, openApiSchemaOf } from '@throughline/platform';
import { LOOKUP_REQUEST, TimelineQueries, type ChildTimeline } from '@throughline/timeline';
import { childTimeline, lookupResponse } from './http-schemas';
import { Requester } from './requester.decorator';
import { ZodValidationPipe } from './zod-validation.pipe';

/** Every request here reads a child's data, so every one names who is asking and why; each is logged. */
@ApiTags('children')
@Controller('v1/children')
export class TimelineController {
  constructor(private readonly queries: TimelineQueries) {}

  @Post('lookup')
  @EdgeRoute({ rateLimit: 'lookup' })
  @HttpCode(200)
  @ApiOperation({
    summary: 'Find the child key for an NHS number, UPN or agency record (identifiers never go in URLs)',
  })
  @ApiBody({ schema: openApiSchemaOf(LOOKUP_REQUEST, { io: 'input' }) })
  @ApiOkResponse({ schema: openApiSchemaOf(lookupResponse) })
  @ApiBadRequestResponse({ description: 'the identifier is malformed', schema: errorSchema })
  @ApiNotFoundResponse({ description: 'no child is known by that identifier', schema: errorSchema })
  @ApiTooManyRequestsResponse({
    description: 'over RATE_LIMIT_LOOKUP_PER_MINUTE; retry after Retry-After seconds',
    schema: errorSchema,
  })
  lookup(
    @Requester() requester: Requester,
    @Body(new ZodValidationPipe(LOOKUP_REQUEST, 'lookup')) body: z.output<typeof LOOKUP_REQUEST>,
  ): Promise<{ childKey: string }> {
    return this.queries.lookupChild(body.identifier, requester);
  }

  @Get(':childKey/timeline')
  @ApiOperation({
    summary:
      "One child's multi-agency chronology: linked records, how they were linked, and entries in time order",
  })
  @ApiOkResponse({ schema: openApiSchemaOf(childTimeline) })
  @ApiNotFoundResponse({ description: 'unknown child key', schema: errorSchema })
  timeline(@Requester() requester: Requester, @Param('childKey') childKey: string): Promise<ChildTimeline> {
    return this.queries.timelineOf(childKey, requester);
  }
}

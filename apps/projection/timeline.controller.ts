import { Body, Controller, Get, Header, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { z } from 'zod';
import {
  Access,
  BREAK_GLASS_REQUEST,
  BreakGlassGrants,
  CurrentRequester,
  noteAccess,
  type BreakGlassGrant,
  type Requester,
} from '@throughline/access';
import { EdgeRoute, errorSchema, NotFoundError, openApiSchemaOf } from '@throughline/platform';
import { LOOKUP_REQUEST, TimelineQueries } from '@throughline/timeline';
import { breakGlassGrant, childTimeline, lookupResponse } from './http-schemas';
import { ZodValidationPipe } from './zod-validation.pipe';

/**
 * Every request here reads a child's data: a verified token, a stated purpose, a role that grants
 * it under the access policy; each answer says what it withheld, and each is in the access log.
 */
@ApiTags('children')
@Controller('v1/children')
export class TimelineController {
  constructor(
    private readonly queries: TimelineQueries,
    private readonly breakGlass: BreakGlassGrants,
  ) {}

  @Post('lookup')
  @Access('child:lookup', 'lookup')
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
    @CurrentRequester() requester: Requester,
    @Body(new ZodValidationPipe(LOOKUP_REQUEST, 'lookup')) body: z.output<typeof LOOKUP_REQUEST>,
  ): Promise<{ childKey: string }> {
    return this.queries.lookupChild(body.identifier, requester);
  }

  @Get(':childKey/timeline')
  @Access('timeline:read', 'timeline')
  // The answer is sent as the JSON bytes TimelineQueries puts together (each entry's made once).
  @Header('content-type', 'application/json; charset=utf-8')
  @ApiOperation({
    summary:
      "One child's multi-agency chronology: linked records, how they were linked, and entries in time order",
  })
  @ApiOkResponse({ schema: openApiSchemaOf(childTimeline) })
  @ApiNotFoundResponse({ description: 'unknown child key', schema: errorSchema })
  timeline(@CurrentRequester() requester: Requester, @Param('childKey') childKey: string): Promise<Buffer> {
    return this.queries.timelineJsonOf(childKey, requester);
  }

  @Post(':childKey/break-glass')
  @Access('break-glass', 'break-glass')
  @HttpCode(201)
  @ApiOperation({
    summary:
      "Break-glass: see all of one child's chronology for a limited time in a safeguarding emergency, with a reason " +
      '(recorded, and reviewed by information governance)',
  })
  @ApiBody({ schema: openApiSchemaOf(BREAK_GLASS_REQUEST, { io: 'input' }) })
  @ApiCreatedResponse({ schema: openApiSchemaOf(breakGlassGrant) })
  @ApiNotFoundResponse({ description: 'unknown child key', schema: errorSchema })
  async breakGlassFor(
    @CurrentRequester() requester: Requester,
    @Param('childKey') childKey: string,
    @Body() body: unknown,
  ): Promise<BreakGlassGrant> {
    const request = this.breakGlass.parse(body);
    const child = await this.queries.child(childKey);
    if (!child) throw new NotFoundError(`no child ${childKey}`);
    const grant = await this.breakGlass.grant(
      requester.principal,
      requester.purpose,
      child.childKey,
      request,
    );
    noteAccess(requester, {
      childKey: child.childKey,
      breakGlass: { id: grant.id, reason: grant.reason, expiresAt: grant.expiresAt },
    });
    return grant;
  }
}

import { applyDecorators, Body, Controller, Get, Headers, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import {
  TimelineQueries,
  accessContextOf,
  parseLookupRequest,
  type ChildTimeline,
} from '@throughline/timeline';
import { ChildTimelineDto, LookupRequestDto, LookupResponseDto } from './dto';

type RequestHeaders = Record<string, string | string[] | undefined>;

/** Every request here reads a child's data, so every one names who is asking and why; each is logged. */
export const AccessHeaders = () =>
  applyDecorators(
    ApiHeader({
      name: 'x-user-id',
      required: true,
      description: 'who is asking (recorded in the access log)',
    }),
    ApiHeader({ name: 'x-user-role', required: false, description: 'their role, e.g. social worker' }),
    ApiHeader({
      name: 'x-purpose',
      required: true,
      description: 'why: direct-care, safeguarding, analysis, …',
    }),
    ApiUnauthorizedResponse({ description: 'x-user-id missing' }),
  );

@ApiTags('children')
@Controller('v1/children')
export class TimelineController {
  constructor(private readonly queries: TimelineQueries) {}

  @Post('lookup')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Find the child key for an NHS number, UPN or agency record (identifiers never go in URLs)',
  })
  @AccessHeaders()
  @ApiBody({ type: LookupRequestDto })
  @ApiOkResponse({ type: LookupResponseDto })
  @ApiBadRequestResponse({ description: 'x-purpose missing, or the identifier is malformed' })
  @ApiNotFoundResponse({ description: 'no child is known by that identifier' })
  lookup(@Headers() headers: RequestHeaders, @Body() body: unknown): Promise<{ childKey: string }> {
    const access = accessContextOf(headers);
    return this.queries.lookupChild(parseLookupRequest(body), access);
  }

  @Get(':childKey/timeline')
  @ApiOperation({
    summary:
      "One child's multi-agency chronology: linked records, how they were linked, and entries in time order",
  })
  @AccessHeaders()
  @ApiOkResponse({ type: ChildTimelineDto })
  @ApiBadRequestResponse({ description: 'x-purpose missing' })
  @ApiNotFoundResponse({ description: 'unknown child key' })
  timeline(@Headers() headers: RequestHeaders, @Param('childKey') childKey: string): Promise<ChildTimeline> {
    return this.queries.timelineOf(childKey, accessContextOf(headers));
  }
}

import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
  ApiAcceptedResponse,
} from '@nestjs/swagger';
import {
  IdentityReview,
  type CommandResult,
  type ConflictView,
  type ProposalView,
} from '@throughline/identity';
import { accessContextOf } from '@throughline/timeline';
import {
  ConflictListDto,
  IdentityCommandResultDto,
  LinkRequestDto,
  ProposalDecisionDto,
  ProposalListDto,
  RejectionDto,
  UnlinkRequestDto,
} from './dto';
import { AccessHeaders } from './timeline.controller';

type RequestHeaders = Record<string, string | string[] | undefined>;

/**
 * Review of identity judgements: proposals to confirm or reject, conflicts to look at,
 * manual links and unlinks. Every call names who is asking and why, and is audited;
 * record identifiers travel in bodies, never in URLs.
 */
@ApiTags('identity')
@Controller('v1/identity')
export class IdentityController {
  constructor(private readonly review: IdentityReview) {}

  @Get('proposals')
  @ApiOperation({ summary: 'Probabilistic match proposals, with their score and per-field evidence' })
  @AccessHeaders()
  @ApiQuery({ name: 'status', required: false, enum: ['open', 'confirmed', 'rejected', 'superseded'] })
  @ApiOkResponse({ type: ProposalListDto })
  proposals(
    @Headers() headers: RequestHeaders,
    @Query() query: unknown,
  ): Promise<{ proposals: ProposalView[] }> {
    return this.review.proposals(query, accessContextOf(headers));
  }

  @Post('proposals/:proposalId/confirm')
  @HttpCode(202)
  @ApiOperation({ summary: 'Confirm a proposal: the two records become one child' })
  @AccessHeaders()
  @ApiBody({ type: ProposalDecisionDto, required: false })
  @ApiAcceptedResponse({ type: IdentityCommandResultDto })
  @ApiNotFoundResponse({ description: 'unknown proposal' })
  @ApiConflictResponse({ description: 'already decided, or decided concurrently' })
  confirm(
    @Headers() headers: RequestHeaders,
    @Param('proposalId') proposalId: string,
    @Body() body: unknown,
  ): Promise<CommandResult> {
    return this.review.confirm(proposalId, body, accessContextOf(headers));
  }

  @Post('proposals/:proposalId/reject')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Reject a proposal (with a reason): the records stay apart and are not proposed again',
  })
  @AccessHeaders()
  @ApiBody({ type: RejectionDto })
  @ApiAcceptedResponse({ type: IdentityCommandResultDto })
  @ApiBadRequestResponse({ description: 'reason missing' })
  @ApiNotFoundResponse({ description: 'unknown proposal' })
  @ApiConflictResponse({ description: 'already decided, or decided concurrently' })
  reject(
    @Headers() headers: RequestHeaders,
    @Param('proposalId') proposalId: string,
    @Body() body: unknown,
  ): Promise<CommandResult> {
    return this.review.reject(proposalId, body, accessContextOf(headers));
  }

  @Post('unlink')
  @HttpCode(202)
  @ApiOperation({
    summary: "Take a record out of its child (with a reason): the child's chronology splits, and stays split",
  })
  @AccessHeaders()
  @ApiBody({ type: UnlinkRequestDto })
  @ApiAcceptedResponse({ type: IdentityCommandResultDto })
  @ApiNotFoundResponse({ description: 'unknown record' })
  @ApiConflictResponse({ description: 'not linked to anything, or changed concurrently' })
  unlink(@Headers() headers: RequestHeaders, @Body() body: unknown): Promise<CommandResult> {
    return this.review.unlink(body, accessContextOf(headers));
  }

  @Post('link')
  @HttpCode(202)
  @ApiOperation({ summary: 'Link a record to a child by hand (with a reason)' })
  @AccessHeaders()
  @ApiBody({ type: LinkRequestDto })
  @ApiAcceptedResponse({ type: IdentityCommandResultDto })
  @ApiNotFoundResponse({ description: 'unknown record or child' })
  @ApiConflictResponse({ description: 'already in that child, or changed concurrently' })
  link(@Headers() headers: RequestHeaders, @Body() body: unknown): Promise<CommandResult> {
    return this.review.link(body, accessContextOf(headers));
  }

  @Get('conflicts')
  @ApiOperation({
    summary: 'Records that share an identifier but contradict each other: flagged, never merged',
  })
  @AccessHeaders()
  @ApiOkResponse({ type: ConflictListDto })
  conflicts(@Headers() headers: RequestHeaders): Promise<{ conflicts: ConflictView[] }> {
    return this.review.conflicts(accessContextOf(headers));
  }
}

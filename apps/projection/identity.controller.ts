import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import {
  IDENTITY_REVIEW_REQUESTS as REQUESTS,
  IdentityReview,
  type CommandResult,
  type ConflictView,
  type ProposalView,
  type Reviewer,
} from '@throughline/identity';
import type { z } from 'zod';
import { errorSchema, openApiSchemaOf } from '@throughline/platform';
import { conflictList, identityCommandResult, proposalList } from './http-schemas';
import { Access, CurrentRequester, type Requester } from '@throughline/access';

/** The identity audit's reviewer: the verified user, the roles that granted the call, the purpose. */
const reviewerOf = (requester: Requester): Reviewer => ({
  userId: requester.principal.userId,
  role: requester.roles.join(' '),
  purpose: requester.purpose,
});

const commandResult = openApiSchemaOf(identityCommandResult);
const requestOf = (schema: z.ZodType) => openApiSchemaOf(schema, { io: 'input' });
const invalid = (description: string) => ApiBadRequestResponse({ description, schema: errorSchema });
const notFound = (description: string) => ApiNotFoundResponse({ description, schema: errorSchema });
const conflicting = (description: string) => ApiConflictResponse({ description, schema: errorSchema });
const proposalIdParam = ApiParam({ name: 'proposalId', schema: requestOf(REQUESTS.proposalId) });

/**
 * Review of identity judgements: proposals to confirm or reject, conflicts to look at,
 * manual links and unlinks. Every call names who is asking and why, and is audited;
 * record identifiers travel in bodies, never in URLs. Requests are parsed by the review
 * itself, with the schemas /docs shows, so a refused request is audited too.
 */
@ApiTags('identity')
@Controller('v1/identity')
export class IdentityController {
  constructor(private readonly review: IdentityReview) {}

  @Get('proposals')
  @Access('identity:read', 'identity-proposals')
  @ApiOperation({ summary: 'Probabilistic match proposals, with their score and per-field evidence' })
  @ApiQuery({
    name: 'status',
    required: false,
    schema: requestOf(REQUESTS.proposalStatus.shape.status.unwrap()),
  })
  @ApiOkResponse({ schema: openApiSchemaOf(proposalList) })
  @invalid('an unknown status')
  proposals(
    @CurrentRequester() requester: Requester,
    @Query() query: unknown,
  ): Promise<{ proposals: ProposalView[] }> {
    return this.review.proposals(query, reviewerOf(requester));
  }

  @Post('proposals/:proposalId/confirm')
  @Access('identity:decide', 'identity-confirm')
  @HttpCode(202)
  @ApiOperation({ summary: 'Confirm a proposal: the two records become one child' })
  @proposalIdParam
  @ApiBody({ schema: requestOf(REQUESTS.confirm), required: false })
  @ApiAcceptedResponse({ schema: commandResult })
  @invalid('the proposal id is not a UUID')
  @notFound('unknown proposal')
  @conflicting('already decided, or decided concurrently')
  confirm(
    @CurrentRequester() requester: Requester,
    @Param('proposalId') proposalId: string,
    @Body() body: unknown,
  ): Promise<CommandResult> {
    return this.review.confirm(proposalId, body, reviewerOf(requester));
  }

  @Post('proposals/:proposalId/reject')
  @Access('identity:decide', 'identity-reject')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Reject a proposal (with a reason): the records stay apart and are not proposed again',
  })
  @proposalIdParam
  @ApiBody({ schema: requestOf(REQUESTS.reject) })
  @ApiAcceptedResponse({ schema: commandResult })
  @invalid('reason missing, or the proposal id is not a UUID')
  @notFound('unknown proposal')
  @conflicting('already decided, or decided concurrently')
  reject(
    @CurrentRequester() requester: Requester,
    @Param('proposalId') proposalId: string,
    @Body() body: unknown,
  ): Promise<CommandResult> {
    return this.review.reject(proposalId, body, reviewerOf(requester));
  }

  @Post('unlink')
  @Access('identity:decide', 'identity-unlink')
  @HttpCode(202)
  @ApiOperation({
    summary: "Take a record out of its child (with a reason): the child's chronology splits, and stays split",
  })
  @ApiBody({ schema: requestOf(REQUESTS.unlink) })
  @ApiAcceptedResponse({ schema: commandResult })
  @invalid('a field missing or malformed')
  @notFound('unknown record')
  @conflicting('not linked to anything, or changed concurrently')
  unlink(@CurrentRequester() requester: Requester, @Body() body: unknown): Promise<CommandResult> {
    return this.review.unlink(body, reviewerOf(requester));
  }

  @Post('link')
  @Access('identity:decide', 'identity-link')
  @HttpCode(202)
  @ApiOperation({ summary: 'Link a record to a child by hand (with a reason)' })
  @ApiBody({ schema: requestOf(REQUESTS.link) })
  @ApiAcceptedResponse({ schema: commandResult })
  @invalid('a field missing or malformed')
  @notFound('unknown record or child')
  @conflicting('already in that child, or changed concurrently')
  link(@CurrentRequester() requester: Requester, @Body() body: unknown): Promise<CommandResult> {
    return this.review.link(body, reviewerOf(requester));
  }

  @Get('conflicts')
  @Access('identity:read', 'identity-conflicts')
  @ApiOperation({
    summary: 'Records that share an identifier but contradict each other: flagged, never merged',
  })
  @ApiOkResponse({ schema: openApiSchemaOf(conflictList) })
  conflicts(@CurrentRequester() requester: Requester): Promise<{ conflicts: ConflictView[] }> {
    return this.review.conflicts(reviewerOf(requester));
  }
}

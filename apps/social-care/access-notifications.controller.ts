import { Controller, Get, Inject, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { TokenVerifier } from '@throughline/access';
import {
  AccessNotificationInbox,
  accessNotificationSchema,
  DEFAULT_LISTING,
  LISTING_ROLES,
  listingAuthorityOf,
  listingPurposeOf,
  listingQueryOf,
  MAX_LISTING,
  type NotificationListing,
} from '@throughline/notifications';
import { errorSchema, openApiSchemaOf, RouteAccess, ThroughlineError } from '@throughline/platform';
import { z } from 'zod';

const listingSchema = z.object({
  localAuthority: z.string(),
  count: z.number().int(),
  notifications: z.array(accessNotificationSchema.extend({ receivedAt: z.iso.datetime({ offset: true }) })),
});

/**
 * CP-IS-style notifications for the responsible local authority: who outside it read the
 * chronology of one of its children on a plan or looked after, when and why. Listed only to that
 * authority's staff; every listing, and every refusal of one, is recorded before it is answered.
 */
@ApiTags('access-notifications')
@Controller('v1/access-notifications')
export class AccessNotificationsController {
  constructor(
    @Inject(AccessNotificationInbox) private readonly inbox: AccessNotificationInbox,
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
  ) {}

  @Get()
  @RouteAccess({ permission: 'access-notifications:read', action: 'access-notifications' })
  @ApiOperation({
    summary:
      "Reads of your authority's children's chronologies by people outside it (children on a child protection " +
      `plan or looked after, now or in the last 12 months), newest first. For staff of the local authority with a role among ${LISTING_ROLES.join(', ')}.`,
  })
  @ApiBearerAuth()
  @ApiHeader({ name: 'x-purpose', required: true, description: 'why you are looking, e.g. safeguarding' })
  @ApiQuery({
    name: 'from',
    required: false,
    description: 'occurred at or after (ISO 8601 date-time with offset)',
  })
  @ApiQuery({ name: 'to', required: false, description: 'occurred before (ISO 8601 date-time with offset)' })
  @ApiQuery({ name: 'limit', required: false, description: `1..${MAX_LISTING}, default ${DEFAULT_LISTING}` })
  @ApiOkResponse({ schema: openApiSchemaOf(listingSchema) })
  @ApiBadRequestResponse({ description: 'x-purpose missing, or a query field broken', schema: errorSchema })
  @ApiUnauthorizedResponse({ description: 'no valid bearer access token', schema: errorSchema })
  @ApiForbiddenResponse({
    description: 'not staff of a local authority with a listing role',
    schema: errorSchema,
  })
  async list(@Req() request: FastifyRequest): Promise<NotificationListing> {
    // The lead's shared access guard replaces this check; until then the token is verified here.
    const principal = await this.verifier.verifyAuthorization(request.headers.authorization);
    let purpose: string | undefined;
    try {
      const localAuthority = listingAuthorityOf(principal);
      purpose = listingPurposeOf(request.headers);
      const query = listingQueryOf(request.query);
      return await this.inbox.list(localAuthority, query, { principal, purpose });
    } catch (error) {
      if (error instanceof ThroughlineError && (error.code === 'FORBIDDEN' || error.code === 'VALIDATION'))
        await this.inbox.recordRefusal({ principal, ...(purpose ? { purpose } : {}) }, error.code);
      throw error;
    }
  }
}

import { Body, Controller, Inject, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { EdgeRoute, RouteAccess } from '@throughline/platform';
import { AgencyGatewayService } from './agency-gateway.service';
import { batchBodySchema, errorSchema, eventEnvelopeSchema, publishResponseSchema } from './openapi';
import { httpStatusOf, MAX_BATCH_EVENTS, type Publisher, type PublishResponse } from './publication';
import { AuthenticatedPublisher, PublisherAuthGuard } from './publisher-auth.guard';

const publishResponses = [
  ApiResponse({
    status: 202,
    description: 'at least one event accepted; one result per event',
    schema: publishResponseSchema,
  }),
  ApiResponse({
    status: 400,
    description: 'no event accepted; one result per event',
    schema: publishResponseSchema,
  }),
  ApiResponse({
    status: 401,
    description: 'missing access token, or one that does not verify (the reason says what failed)',
    schema: errorSchema,
  }),
  ApiResponse({
    status: 403,
    description: "not an agency system of this service's agency (another agency's token, or a person's)",
    schema: errorSchema,
  }),
  ApiResponse({ status: 413, description: 'body over the endpoint limit', schema: errorSchema }),
  ApiResponse({
    status: 429,
    description: 'publisher over RATE_LIMIT_PUBLISH_PER_MINUTE; retry after Retry-After seconds',
    schema: errorSchema,
  }),
  ApiResponse({
    status: 503,
    description:
      'Kafka unavailable; nothing was acknowledged. Post the same events again after Retry-After seconds',
    schema: errorSchema,
  }),
];

function applyAll(decorators: readonly MethodDecorator[]): MethodDecorator {
  return (target, key, descriptor) => {
    for (const decorate of decorators) decorate(target, key, descriptor);
  };
}

@ApiTags('events')
@Controller()
export class AgencyGatewayController {
  constructor(@Inject(AgencyGatewayService) private readonly gateway: AgencyGatewayService) {}

  @Post('v1/events')
  @RouteAccess({ permission: 'publish', action: 'publish' })
  @EdgeRoute({ rateLimit: 'publish', bodyLimit: 'event' })
  @UseGuards(PublisherAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Publish one event',
    description: 'Validated against the contracts, then written to Kafka.',
  })
  @ApiBody({ schema: eventEnvelopeSchema })
  @applyAll(publishResponses)
  async publishOne(
    @AuthenticatedPublisher() publisher: Publisher,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PublishResponse> {
    const response = await this.gateway.publishOne(publisher, body);
    void reply.status(httpStatusOf(response));
    return response;
  }

  @Post('v1/events/batch')
  @RouteAccess({ permission: 'publish', action: 'publish-batch' })
  @EdgeRoute({ rateLimit: 'publish', bodyLimit: 'batch' })
  @UseGuards(PublisherAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: `Publish 1..${MAX_BATCH_EVENTS} events`,
    description:
      'Each event is validated on its own; the valid ones are written to Kafka in one send and answered once ' +
      `Kafka acknowledged them. More than ${MAX_BATCH_EVENTS} events is a 400 with rule "max-items".`,
  })
  @ApiBody({ schema: batchBodySchema })
  @applyAll(publishResponses)
  async publishBatch(
    @AuthenticatedPublisher() publisher: Publisher,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PublishResponse> {
    const response = await this.gateway.publishBatch(publisher, body);
    void reply.status(httpStatusOf(response));
    return response;
  }
}

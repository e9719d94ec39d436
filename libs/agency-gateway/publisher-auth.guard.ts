import {
  createParamDecorator,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { GatewaySettings } from './gateway-settings';
import type { Publisher } from './publication';

type AuthenticatedRequest = FastifyRequest & { publisher?: Publisher };

/**
 * `Authorization: Bearer <access token>` of an agency system of this agency (client credentials),
 * or in development a static publisher key; 401 when it does not verify, 403 when it is not this
 * agency's publisher.
 */
@Injectable()
export class PublisherAuthGuard implements CanActivate {
  constructor(@Inject(GatewaySettings) private readonly settings: GatewaySettings) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    request.publisher = await this.settings.authenticate(request.headers.authorization);
    return true;
  }
}

/** The publisher PublisherAuthGuard authenticated. */
export const AuthenticatedPublisher = createParamDecorator(
  (_: unknown, context: ExecutionContext): Publisher => {
    const publisher = context.switchToHttp().getRequest<AuthenticatedRequest>().publisher;
    if (!publisher) throw new Error('AuthenticatedPublisher used on a route without PublisherAuthGuard');
    return publisher;
  },
);

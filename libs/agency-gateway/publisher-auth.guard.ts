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

/** `Authorization: Bearer <key>` against this agency's publisher keys; 401 otherwise. */
@Injectable()
export class PublisherAuthGuard implements CanActivate {
  constructor(@Inject(GatewaySettings) private readonly settings: GatewaySettings) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    request.publisher = this.settings.keyring.authenticate(request.headers.authorization);
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

import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ROUTE_ACCESS, ThroughlineError, type RouteAccessSpec } from '@throughline/platform';
import type { Principal } from './principal';

/** Permissions an agency service's routes may declare, and who holds them there. */
const SERVICE_RULES: Readonly<Record<string, (principal: Principal) => boolean>> = {
  // Publishing is decided by the route's own PublisherAuthGuard (agency, systems, organisations).
  publish: () => true,
  // The social-care service's CP-IS notifications: its controller verifies the person, their
  // authority and listing role, and records every listing and refusal (libs/notifications).
  'access-notifications:read': () => true,
  // Monitoring (/metrics): a principal with the operator role.
  'operations:read': (principal) => principal.roles.includes('operator'),
};

/**
 * The agency services' guard. They hold no database, so no policy store: their few routes are
 * decided by fixed rules — liveness/readiness public, publishing by the publisher guard, metrics
 * for a verified operator. Every other route (or one declaring no rule) is refused.
 */
@Injectable()
export class ServiceAccessGuard implements CanActivate {
  private readonly reflector = new Reflector();

  constructor(
    private readonly verifier: { verifyAuthorization(authorization: string | undefined): Promise<Principal> },
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const spec = this.reflector.getAllAndOverride<RouteAccessSpec | undefined>(ROUTE_ACCESS, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (spec && 'public' in spec) return true;
    const rule = spec ? SERVICE_RULES[spec.permission] : undefined;
    if (!spec || !rule)
      throw new ThroughlineError('FORBIDDEN', 'this route declares no access rule this service knows');
    if (spec.permission === 'publish' || spec.permission === 'access-notifications:read') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const principal = await this.verifier.verifyAuthorization(request.headers.authorization);
    if (!rule(principal))
      throw new ThroughlineError('FORBIDDEN', `not allowed: ${spec.permission} needs the operator role`, {
        details: { rule: 'operator-role' },
      });
    return true;
  }
}

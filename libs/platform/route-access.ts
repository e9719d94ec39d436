import { SetMetadata } from '@nestjs/common';

/**
 * What a route needs, read by the app's access guard (libs/access). Every route says it: a
 * route without it is refused, so a new endpoint cannot be left open by forgetting.
 * - `public`: no token (liveness and readiness only; the page's shell and sign-in).
 * - otherwise a verified token whose roles grant `permission` for the stated purpose, and an
 *   access record named `action` written before the answer leaves.
 */
export type RouteAccessSpec =
  | { readonly public: true }
  | {
      readonly permission: string;
      /** Recorded as the access record's action, e.g. `timeline`, `dead-letter-payload`. */
      readonly action: string;
      /** Used when the request names no x-purpose (monitoring scrapers cannot set one). */
      readonly defaultPurpose?: string;
    };

export const ROUTE_ACCESS = 'throughline:route-access';

export const RouteAccess = (spec: RouteAccessSpec): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_ACCESS, spec);

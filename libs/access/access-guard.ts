import {
  applyDecorators,
  createParamDecorator,
  HttpException,
  Injectable,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiHeader,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { catchError, from, mergeMap, throwError, type Observable } from 'rxjs';
import {
  errorSchema,
  ROUTE_ACCESS,
  RouteAccess,
  ThroughlineError,
  ValidationError,
  type RouteAccessSpec,
} from '@throughline/platform';
import type { AccessLog, AccessNote } from './access-log';
import { decide, type PolicySnapshot } from './policy';
import type { Permission } from './policy-document';
import type { Principal } from './principal';

export const PURPOSE_HEADER = 'x-purpose';
const PURPOSE = /^[a-z][a-z0-9-]{1,63}$/;

/** Who is asking, why, and under which roles and policy version the access was granted. */
export interface Requester {
  readonly principal: Principal;
  readonly purpose: string;
  /** The caller's roles that grant the route's permission for the purpose. */
  readonly roles: readonly string[];
  readonly policy: PolicySnapshot;
  /** What the handler learned for the access record (the child, entries returned, what was withheld). */
  readonly note: AccessNote;
}

/** Adds what a handler learned to the request's access record. */
export function noteAccess(requester: Requester, note: AccessNote): void {
  Object.assign(requester.note, note);
}

/** Resolves the principal of a request that carries no bearer token (the page's session cookie). */
export interface SessionAuthenticator {
  principalOf(request: FastifyRequest): Promise<Principal | undefined>;
}

export interface AccessSettings {
  readonly verifier: { verifyAuthorization(authorization: string | undefined): Promise<Principal> };
  readonly policy: { current(): PolicySnapshot };
  readonly log: AccessLog;
  readonly sessions?: SessionAuthenticator;
}

type GuardedRequest = FastifyRequest & { requester?: Requester };
type GuardedSpec = Exclude<RouteAccessSpec, { public: true }>;

function specOf(reflector: Reflector, context: ExecutionContext): RouteAccessSpec | undefined {
  return reflector.getAllAndOverride<RouteAccessSpec | undefined>(ROUTE_ACCESS, [
    context.getHandler(),
    context.getClass(),
  ]);
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first?.trim() || undefined;
}

function purposeOf(request: FastifyRequest, spec: GuardedSpec): string {
  const purpose = header(request, PURPOSE_HEADER) ?? spec.defaultPurpose;
  if (purpose === undefined)
    throw new ValidationError(
      `header ${PURPOSE_HEADER} is required: say why you are looking (e.g. direct-care, safeguarding)`,
      [{ path: `headers.${PURPOSE_HEADER}`, rule: 'required', message: 'say why you are looking' }],
    );
  if (!PURPOSE.test(purpose))
    throw new ValidationError(
      `header ${PURPOSE_HEADER}: a lower-case slug such as direct-care or safeguarding`,
      [{ path: `headers.${PURPOSE_HEADER}`, rule: 'slug', message: 'a lower-case slug' }],
    );
  return purpose;
}

/** The child key a route names (`:childKey`), recorded as asked; only printable text reaches here. */
function requestedChildKey(request: FastifyRequest): string | undefined {
  const params = request.params as Record<string, unknown> | undefined;
  const key = params?.childKey;
  return typeof key === 'string' && key.length <= 200 ? key : undefined;
}

function outcomeOf(error: unknown): { outcome: string; refusal: string } {
  if (error instanceof ThroughlineError) return { outcome: error.code, refusal: error.message };
  if (error instanceof HttpException) return { outcome: `HTTP_${error.getStatus()}`, refusal: error.message };
  return { outcome: 'INTERNAL', refusal: 'internal error' };
}

/**
 * Every route: public ones pass; others need a verified principal (bearer access token, or the
 * page's session) whose roles grant the route's permission for the stated purpose under the
 * policy in force. A refusal is written to the access log before the 401/403/400 leaves. A route
 * that declares no @RouteAccess is refused: nothing is open by omission.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly settings: AccessSettings,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const spec = specOf(this.reflector, context);
    if (spec && 'public' in spec) return true;
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    if (!spec)
      throw new ThroughlineError('FORBIDDEN', 'this route declares no access rule, so nobody may call it');
    let principal: Principal | undefined;
    let purpose: string | undefined;
    const policy = this.settings.policy.current();
    try {
      const authorization = request.headers.authorization;
      principal =
        authorization === undefined
          ? await this.settings.sessions?.principalOf(request)
          : await this.settings.verifier.verifyAuthorization(authorization);
      principal ??= await this.settings.verifier.verifyAuthorization(undefined);
      purpose = purposeOf(request, spec);
      const decision = decide(policy, { principal, permission: spec.permission as Permission, purpose });
      if (!decision.allowed)
        throw new ThroughlineError('FORBIDDEN', `not allowed: ${decision.reason}`, {
          details: { rule: decision.rule },
        });
      request.requester = { principal, purpose, roles: decision.roles, policy, note: {} };
      return true;
    } catch (error) {
      await this.settings.log.record({
        action: spec.action,
        principal,
        purpose,
        policyVersion: policy.version,
        requestedChildKey: requestedChildKey(request),
        ...outcomeOf(error),
      });
      throw error;
    }
  }
}

/**
 * Writes the access record of every granted request before its answer leaves: `ok` with what
 * the handler noted, or the code of the error it ended with.
 */
@Injectable()
export class AccessRecordInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly log: AccessLog,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const spec = specOf(this.reflector, context);
    const requester = context.switchToHttp().getRequest<GuardedRequest>().requester;
    if (!spec || 'public' in spec || !requester) return next.handle();
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const record = (outcome: { outcome: string; refusal?: string }) =>
      this.log.record({
        action: spec.action,
        principal: requester.principal,
        purpose: requester.purpose,
        grantedRoles: requester.roles,
        policyVersion: requester.policy.version,
        requestedChildKey: requestedChildKey(request),
        ...requester.note,
        ...outcome,
      });
    return next.handle().pipe(
      mergeMap(async (value: unknown) => {
        await record({ outcome: 'ok' });
        return value;
      }),
      catchError((error: unknown) =>
        from(record(outcomeOf(error))).pipe(mergeMap(() => throwError(() => error))),
      ),
    );
  }
}

/** The guard and the interceptor for createHttpApp's `access` option. */
export function accessEnhancers(settings: AccessSettings): {
  guards: CanActivate[];
  interceptors: NestInterceptor[];
} {
  const reflector = new Reflector();
  return {
    guards: [new AccessGuard(reflector, settings)],
    interceptors: [new AccessRecordInterceptor(reflector, settings.log)],
  };
}

/**
 * A route that needs `permission` for the purpose the caller states in x-purpose; its calls are
 * recorded as `action`. Documents the token, the header and the refusals in /docs.
 */
export function Access(
  permission: Permission,
  action: string,
  options: { readonly defaultPurpose?: string } = {},
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    RouteAccess({ permission, action, ...options }),
    ApiBearerAuth(),
    ApiHeader({
      name: PURPOSE_HEADER,
      required: options.defaultPurpose === undefined,
      description: `why you are asking (a purpose of the access policy${options.defaultPurpose ? `; default ${options.defaultPurpose}` : ''}); recorded with the access`,
      schema: { type: 'string', pattern: PURPOSE.source },
    }),
    ApiUnauthorizedResponse({ description: 'no valid access token', schema: errorSchema }),
    ApiForbiddenResponse({
      description: `no role of the caller grants ${permission} for the purpose`,
      schema: errorSchema,
    }),
    ApiBadRequestResponse({ description: `${PURPOSE_HEADER} missing or malformed`, schema: errorSchema }),
  );
}

/** The Requester the access guard admitted (only on routes declared with @Access). */
export const CurrentRequester = createParamDecorator((_: unknown, context: ExecutionContext): Requester => {
  const requester = context.switchToHttp().getRequest<GuardedRequest>().requester;
  if (!requester) throw new ThroughlineError('FORBIDDEN', 'this route is not guarded by an access rule');
  return requester;
});

import type { Pool } from 'pg';
import type { CanActivate, NestInterceptor } from '@nestjs/common';
import type { Config, RefusalAudit } from '@throughline/platform';
import { accessEnhancers, type SessionAuthenticator } from './access-guard';
import { AccessLog } from './access-log';
import { BreakGlassGrants } from './break-glass';
import { edgeRefusalAudit } from './edge-refusal-audit';
import { AccessPolicyStore } from './policy-store';
import { TokenVerifier } from './token-verifier';

/** Everything an app needs to govern its routes (createHttpApp's `access` and `auditRefusal`). */
export interface GovernedAccess {
  readonly verifier: TokenVerifier;
  readonly policy: AccessPolicyStore;
  readonly log: AccessLog;
  readonly breakGlass: BreakGlassGrants;
  readonly enhancers: { guards: CanActivate[]; interceptors: NestInterceptor[] };
  readonly auditRefusal: RefusalAudit;
  close(): void;
}

/**
 * Opens the access policy (seeded from ACCESS_POLICY_FILE when the database holds none), the
 * access log and break-glass grants on the app's pool, and the token verifier for OIDC_ISSUER.
 * The access tables must be migrated first (migrateAccess, as the owner).
 */
export async function openGovernedAccess(
  pool: Pool,
  config: Config,
  options: { readonly sessions?: SessionAuthenticator; readonly verifier?: TokenVerifier } = {},
): Promise<GovernedAccess> {
  const verifier = options.verifier ?? TokenVerifier.fromConfig(config);
  const policy = await AccessPolicyStore.open(pool, {
    seedFile: config.ACCESS_POLICY_FILE || undefined,
    refreshMs: config.ACCESS_POLICY_REFRESH_MS,
  });
  const log = new AccessLog(pool);
  const settings = { verifier, policy, log, ...(options.sessions ? { sessions: options.sessions } : {}) };
  return {
    verifier,
    policy,
    log,
    breakGlass: new BreakGlassGrants(pool, config.BREAK_GLASS_MAX_MINUTES),
    enhancers: accessEnhancers(settings),
    auditRefusal: edgeRefusalAudit(settings),
    close: () => policy.close(),
  };
}

import type { EdgeRefusal, RefusalAudit } from '@throughline/platform';
import type { AccessSettings } from './access-guard';
import type { Principal } from './principal';

/** Routes that never touch child data: their edge refusals are not access records. */
const UNAUDITED = /^\/(health(\/|$)|metrics$|docs(\/|$))/;

/**
 * A request refused at the edge (invalid text, before any handler) is written to the access log
 * with outcome VALIDATION before the 400 leaves: who asked (when their token verifies), the
 * route, the child key it named, and the fields and rules it broke.
 */
export function edgeRefusalAudit(
  settings: Pick<AccessSettings, 'verifier' | 'log' | 'sessions'>,
): RefusalAudit {
  return async (refusal: EdgeRefusal) => {
    if (UNAUDITED.test(refusal.route)) return;
    let principal: Principal | undefined;
    try {
      principal =
        refusal.request.headers.authorization === undefined
          ? await settings.sessions?.principalOf(refusal.request)
          : await settings.verifier.verifyAuthorization(refusal.request.headers.authorization);
    } catch {
      principal = undefined; // recorded as unverified
    }
    const purpose = refusal.header('x-purpose')?.trim();
    await settings.log.record({
      action: 'edge-refusal',
      principal,
      ...(purpose && /^[a-z][a-z0-9-]{1,63}$/.test(purpose) ? { purpose } : {}),
      ...(refusal.params.childKey ? { requestedChildKey: refusal.params.childKey.slice(0, 200) } : {}),
      outcome: 'VALIDATION',
      refusal: refusal.issues.map((issue) => `${issue.path}: ${issue.rule}`).join('; '),
      extra: { method: refusal.method, route: refusal.route },
    });
  };
}

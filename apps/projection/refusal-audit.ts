import type { IdentityAuditAction, IdentityReview } from '@throughline/identity';
import type { EdgeRefusal, RefusalAudit } from '@throughline/platform';
import {
  ACCESS_HEADERS,
  type AccessAction,
  type AccessContext,
  type TimelineQueries,
} from '@throughline/timeline';

/** Routes that read or change a child's data, and the audit row a refusal of each becomes. */
type Audited = { log: 'access'; action: AccessAction } | { log: 'identity'; action: IdentityAuditAction };

const AUDITED_ROUTES: Readonly<Record<string, Audited>> = {
  'POST /v1/children/lookup': { log: 'access', action: 'lookup' },
  'GET /v1/children/:childKey/timeline': { log: 'access', action: 'timeline' },
  'GET /v1/identity/proposals': { log: 'identity', action: 'list-proposals' },
  'POST /v1/identity/proposals/:proposalId/confirm': { log: 'identity', action: 'confirm' },
  'POST /v1/identity/proposals/:proposalId/reject': { log: 'identity', action: 'reject' },
  'POST /v1/identity/unlink': { log: 'identity', action: 'unlink' },
  'POST /v1/identity/link': { log: 'identity', action: 'link' },
  'GET /v1/identity/conflicts': { log: 'identity', action: 'list-conflicts' },
};

/** Said by whoever asked, as far as it can be told from a refused request (printable text). */
function askerOf(refusal: EdgeRefusal): AccessContext {
  return {
    userId: refusal.header(ACCESS_HEADERS.userId)?.trim() || '(none)',
    role: refusal.header(ACCESS_HEADERS.role)?.trim() || undefined,
    purpose: refusal.header(ACCESS_HEADERS.purpose)?.trim() || '(none)',
  };
}

/**
 * A request refused at the edge (invalid text) on a route that touches child data is written to
 * that route's audit log, with outcome VALIDATION, before the 400 leaves.
 */
export function projectionRefusalAudit(queries: TimelineQueries, review: IdentityReview): RefusalAudit {
  return async (refusal) => {
    const audited = AUDITED_ROUTES[`${refusal.method} ${refusal.route}`];
    if (!audited) return;
    const asker = askerOf(refusal);
    if (audited.log === 'access')
      await queries.recordRefusal(asker, audited.action, refusal.params.childKey, 'VALIDATION');
    else await review.recordRefusal(asker, audited.action, 'VALIDATION');
  };
}

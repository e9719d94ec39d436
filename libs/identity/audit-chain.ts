import type { Pool } from 'pg';
import { verifyAuditChain, type AuditChain, type AuditChainReport } from '@throughline/platform';

/** identity_audit_log's chain: the canonical form of migration 002's identity_audit_log_row_hash. */
export const IDENTITY_AUDIT_LOG_CHAIN: AuditChain = {
  table: 'identity_audit_log',
  canonical: `jsonb_build_array(
    r.seq, r.id, extract(epoch FROM r.at), r.user_id, r.user_role, r.purpose, r.action, r.target,
    r.outcome)`,
};

/** Walks identity_audit_log's hash chain (see verifyAuditChain). */
export function verifyIdentityAuditChain(pool: Pool, batchSize?: number): Promise<AuditChainReport> {
  return verifyAuditChain(pool, IDENTITY_AUDIT_LOG_CHAIN, batchSize);
}

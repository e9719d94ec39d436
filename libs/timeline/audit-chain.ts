import type { Pool } from 'pg';
import { verifyAuditChain, type AuditChain, type AuditChainReport } from '@throughline/platform';

/** access_log's chain: the canonical form of migration 007's access_log_row_hash, column for column. */
export const ACCESS_LOG_CHAIN: AuditChain = {
  table: 'access_log',
  canonical: `(jsonb_build_array(
    r.seq, r.id, extract(epoch FROM r.accessed_at), r.user_id, r.user_role, r.purpose, r.action,
    r.requested_child_key, r.child_key, r.returned_entries, r.withheld, r.outcome)
    || CASE WHEN r.details IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(r.details) END)`,
};

/** Walks access_log's hash chain (see verifyAuditChain). */
export function verifyAccessLogChain(pool: Pool, batchSize?: number): Promise<AuditChainReport> {
  return verifyAuditChain(pool, ACCESS_LOG_CHAIN, batchSize);
}

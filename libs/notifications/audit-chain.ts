import type { Pool } from 'pg';
import { verifyAuditChain, type AuditChain, type AuditChainReport } from '@throughline/platform';

/** access_notification_reads' chain: the canonical form of its row-hash function (migration 001), column for column. */
export const ACCESS_NOTIFICATION_READS_CHAIN: AuditChain = {
  table: 'access_notification_reads',
  canonical: `jsonb_build_array(
    r.seq, r.id, extract(epoch FROM r.read_at), r.user_id, r.organisation_code, r.organisation_type,
    to_jsonb(r.roles), r.purpose, r.local_authority, extract(epoch FROM r.from_time),
    extract(epoch FROM r.to_time), r.returned, r.outcome)`,
};

/** Walks access_notification_reads' hash chain (see verifyAuditChain). */
export function verifyAccessNotificationReadsChain(
  pool: Pool,
  batchSize?: number,
): Promise<AuditChainReport> {
  return verifyAuditChain(pool, ACCESS_NOTIFICATION_READS_CHAIN, batchSize);
}

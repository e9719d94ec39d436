// `npm run audit:verify`: walks the hash chains of access_log, identity_audit_log and
// access_notification_reads in the database at DATABASE_URL (the config's, default the local demo
// database) and prints one line per table. Exit codes: 0 both intact, 1 a chain is broken (the first broken row is named by
// seq and id, nothing else of it) or a table cannot be read.
import {
  createPool,
  describeAuditChainReport,
  configSchema,
  type AuditChainReport,
} from '@throughline/platform';
import { verifyIdentityAuditChain } from '@throughline/identity';
import { verifyAccessNotificationReadsChain } from '@throughline/notifications';
import { verifyAccessLogChain } from '@throughline/timeline';
import type { Pool } from 'pg';

const CHAINS: ReadonlyArray<{
  table: string;
  verify: (pool: Pool) => Promise<AuditChainReport>;
  /** Made by one app only (the social-care service): absent until it has started once. */
  optional?: boolean;
}> = [
  { table: 'access_log', verify: verifyAccessLogChain },
  { table: 'identity_audit_log', verify: verifyIdentityAuditChain },
  { table: 'access_notification_reads', verify: verifyAccessNotificationReadsChain, optional: true },
];

async function main(): Promise<number> {
  // Only the database setting: the checks loadConfig makes for the apps (keys, salt) are not this tool's.
  const databaseUrl = configSchema.shape.DATABASE_URL.parse(process.env.DATABASE_URL || undefined);
  const pool = createPool(databaseUrl, { max: 1 });
  let code = 0;
  try {
    for (const chain of CHAINS) {
      try {
        const report = await chain.verify(pool);
        process.stdout.write(`${describeAuditChainReport(report)}\n`);
        if (!report.ok) code = 1;
      } catch (error) {
        const sqlState = (error as { code?: string }).code;
        if (chain.optional && sqlState === '42P01') {
          process.stdout.write(
            `${chain.table}: not in this database (the service that writes it has not started)\n`,
          );
          continue;
        }
        const reason =
          sqlState === '42P01' || sqlState === '42703'
            ? 'the table or its chain columns are missing: start the apps once to apply the migrations'
            : (sqlState ?? (error as Error).message);
        process.stdout.write(`${chain.table}: cannot verify (${reason})\n`);
        code = 1;
      }
    }
  } finally {
    await pool.end();
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`audit:verify failed: ${(error as Error).message}\n`);
    process.exit(1);
  },
);

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Pool, PoolClient } from 'pg';
import { toContractIssues } from '@throughline/contracts';
import {
  migrate,
  migrationsDirectory,
  readMigrations,
  ThroughlineError,
  ValidationError,
  withTransaction,
} from '@throughline/platform';
import { ACCESS_POLICY, type AccessPolicy } from './policy-document';
import type { PolicySnapshot } from './policy';

/**
 * The access context's tables (policy versions, break-glass grants), migrated on the owner's
 * pool. It names no grants: the apps' role keeps the baseline, SELECT and INSERT, so both
 * tables are append-only for the apps.
 */
export async function migrateAccess(pool: Pool, options: { appRole?: string } = {}): Promise<number[]> {
  return migrate(pool, 'access', readMigrations(migrationsDirectory('access')), options);
}

/** A policy document checked against the schema: a 400 naming every broken field and rule. */
export function parseAccessPolicy(document: unknown, where = 'policy'): AccessPolicy {
  const parsed = ACCESS_POLICY.safeParse(document);
  if (parsed.success) return parsed.data;
  const issues = toContractIssues(parsed.error.issues).map((issue) => ({
    ...issue,
    path: issue.path ? `${where}.${issue.path}` : where,
  }));
  throw new ValidationError(
    `the access policy is not valid: ${issues
      .slice(0, 5)
      .map((issue) => `${issue.path}: ${issue.message}`)
      .join('; ')}`,
    issues,
  );
}

/** The policy in force when none was ever loaded: nothing is granted. */
const EMPTY_POLICY: PolicySnapshot = {
  version: 0,
  document: {
    title: 'no policy loaded: nothing is granted',
    purposes: [{ id: 'none', label: 'no policy loaded', identifiable: false }],
    roles: [],
    eventCategories: {},
    agreements: [],
  },
};

export interface PolicyVersionView {
  readonly version: number;
  readonly sha256: string;
  readonly loadedAt: string;
  readonly loadedBy: string;
  readonly organisation?: string;
  readonly reason: string;
  readonly title: string;
  readonly agreements: number;
}

export interface AccessPolicyStoreOptions {
  /** Loaded as version 1 when the store holds no policy yet (ACCESS_POLICY_FILE). */
  readonly seedFile?: string;
  /** How often another instance's change is picked up (ms). */
  readonly refreshMs?: number;
}

/**
 * Serialises version numbering (and the first-start seed) across instances. An advisory lock, not
 * LOCK TABLE: the apps' role holds only SELECT and INSERT on the table, and PostgreSQL lets a role
 * take SHARE ROW EXCLUSIVE only with UPDATE, DELETE or TRUNCATE rights.
 */
const lockVersions = (client: PoolClient): Promise<unknown> =>
  client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['throughline.access_policy_versions']);

const sha256 = (document: unknown): string =>
  createHash('sha256').update(JSON.stringify(document)).digest('hex');

/**
 * The access policy's versions in PostgreSQL (access_policy_versions, append-only). The highest
 * version is in force; it is held in memory and refreshed every `refreshMs`, so a change made
 * through one instance reaches every instance without a deploy or a restart.
 */
export class AccessPolicyStore {
  private snapshot: PolicySnapshot = EMPTY_POLICY;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly pool: Pool,
    private readonly refreshMs: number,
  ) {}

  /** Seeds an empty store from `seedFile` and loads the version in force (migrateAccess first). */
  static async open(pool: Pool, options: AccessPolicyStoreOptions = {}): Promise<AccessPolicyStore> {
    const store = new AccessPolicyStore(pool, options.refreshMs ?? 10_000);
    if (options.seedFile) await store.seed(options.seedFile);
    await store.refresh();
    store.timer = setInterval(() => void store.refresh().catch(() => undefined), store.refreshMs);
    store.timer.unref();
    return store;
  }

  /** The policy in force now (version 0, granting nothing, until one is loaded). */
  current(): PolicySnapshot {
    return this.snapshot;
  }

  async refresh(): Promise<PolicySnapshot> {
    const result = await this.pool.query<{ version: string; document: unknown }>(
      'SELECT version, document FROM access_policy_versions WHERE version > $1 ORDER BY version DESC LIMIT 1',
      [this.snapshot.version],
    );
    const row = result.rows[0];
    if (row) this.snapshot = { version: Number(row.version), document: parseAccessPolicy(row.document) };
    return this.snapshot;
  }

  /**
   * Stores a new version (checked first: an invalid document changes nothing) and puts it in
   * force here at once. Versions are numbered under a lock, so two changes never share one.
   */
  async replace(
    document: unknown,
    by: { readonly userId: string; readonly organisation?: string; readonly reason: string },
  ): Promise<PolicyVersionView> {
    const policy = parseAccessPolicy(document);
    const view = await withTransaction(this.pool, async (client) => {
      await lockVersions(client);
      const result = await client.query<{ version: string; loaded_at: Date }>(
        `INSERT INTO access_policy_versions (version, document, sha256, loaded_by, organisation, reason)
         SELECT coalesce(max(version), 0) + 1, $1, $2, $3, $4, $5 FROM access_policy_versions
         RETURNING version, loaded_at`,
        [JSON.stringify(policy), sha256(policy), by.userId, by.organisation ?? null, by.reason],
      );
      const row = result.rows[0];
      return {
        version: Number(row.version),
        sha256: sha256(policy),
        loadedAt: row.loaded_at.toISOString(),
        loadedBy: by.userId,
        ...(by.organisation ? { organisation: by.organisation } : {}),
        reason: by.reason,
        title: policy.title,
        agreements: policy.agreements.length,
      };
    });
    if (view.version > this.snapshot.version) this.snapshot = { version: view.version, document: policy };
    return view;
  }

  async history(): Promise<PolicyVersionView[]> {
    const result = await this.pool.query<{
      version: string;
      sha256: string;
      loaded_at: Date;
      loaded_by: string;
      organisation: string | null;
      reason: string;
      title: string;
      agreements: number;
    }>(
      `SELECT version, sha256, loaded_at, loaded_by, organisation, reason, document->>'title' AS title,
              jsonb_array_length(document->'agreements') AS agreements
       FROM access_policy_versions ORDER BY version DESC`,
    );
    return result.rows.map((row) => ({
      version: Number(row.version),
      sha256: row.sha256,
      loadedAt: row.loaded_at.toISOString(),
      loadedBy: row.loaded_by,
      ...(row.organisation ? { organisation: row.organisation } : {}),
      reason: row.reason,
      title: row.title,
      agreements: row.agreements,
    }));
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Loads `file` as the first version when there is none (concurrent starts seed once). */
  private async seed(file: string): Promise<void> {
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ThroughlineError('CONFIGURATION', `ACCESS_POLICY_FILE: ${file} could not be read as JSON`, {
        cause: error,
      });
    }
    const policy = parseAccessPolicy(document, 'ACCESS_POLICY_FILE');
    await withTransaction(this.pool, async (client) => {
      await lockVersions(client);
      await client.query(
        `INSERT INTO access_policy_versions (version, document, sha256, loaded_by, reason)
         SELECT 1, $1, $2, $3, 'first start: seeded from ACCESS_POLICY_FILE'
         WHERE NOT EXISTS (SELECT 1 FROM access_policy_versions)`,
        [JSON.stringify(policy), sha256(policy), `seed:${file.split(/[\\/]/).pop()}`],
      );
    });
  }
}

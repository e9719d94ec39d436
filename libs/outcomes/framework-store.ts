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
import { FRAMEWORK_DOCUMENT, type FrameworkDocument } from './framework-document';

/** The outcomes context's one table (framework versions), append-only for the apps' role. */
export async function migrateOutcomes(pool: Pool, options: { appRole?: string } = {}): Promise<number[]> {
  return migrate(pool, 'outcomes', readMigrations(migrationsDirectory('outcomes')), options);
}

/** A framework document checked against the schema: a 400 naming every broken field and rule. */
export function parseFrameworkDocument(document: unknown, where = 'frameworks'): FrameworkDocument {
  const parsed = FRAMEWORK_DOCUMENT.safeParse(document);
  if (parsed.success) return parsed.data;
  const issues = toContractIssues(parsed.error.issues).map((issue) => ({
    ...issue,
    path: issue.path ? `${where}.${issue.path}` : where,
  }));
  throw new ValidationError(
    `the outcome frameworks are not valid: ${issues
      .slice(0, 5)
      .map((issue) => `${issue.path}: ${issue.message}`)
      .join('; ')}`,
    issues,
  );
}

export interface FrameworkSnapshot {
  readonly version: number;
  readonly document: FrameworkDocument;
}

/** In force before any document was loaded: one framework, nothing mapped. */
const EMPTY: FrameworkSnapshot = {
  version: 0,
  document: {
    title: 'no outcome frameworks loaded',
    frameworks: [
      {
        id: 'none',
        name: 'No framework loaded',
        source: 'none',
        domains: [{ id: 'none', label: 'No domain', alsoEvidenceFor: [] }],
        scales: [],
      },
    ],
    scales: [],
    mapping: {},
  },
};

export interface FrameworkVersionView {
  readonly version: number;
  readonly sha256: string;
  readonly loadedAt: string;
  readonly loadedBy: string;
  readonly organisation?: string;
  readonly reason: string;
  readonly title: string;
  readonly frameworks: readonly string[];
}

export interface FrameworkStoreOptions {
  /** Loaded as version 1 when the store holds none yet (OUTCOME_FRAMEWORKS_FILE). */
  readonly seedFile?: string;
  /** How often another instance's change is picked up (ms; OUTCOME_FRAMEWORKS_REFRESH_MS). */
  readonly refreshMs?: number;
}

/** Numbering (and the first-start seed) under an advisory lock: the apps' role may not LOCK the table. */
const lockVersions = (client: PoolClient): Promise<unknown> =>
  client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['throughline.outcome_framework_versions']);

const sha256 = (document: unknown): string =>
  createHash('sha256').update(JSON.stringify(document)).digest('hex');

/**
 * The outcome frameworks' versions (outcome_framework_versions, append-only), the highest in
 * force, held in memory and refreshed every `refreshMs` so a change made through one instance
 * reaches all of them without a deploy. The same pattern as the access policy's store.
 */
export class FrameworkStore {
  private snapshot: FrameworkSnapshot = EMPTY;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly pool: Pool,
    private readonly refreshMs: number,
  ) {}

  /** Seeds an empty store from `seedFile` and loads the version in force (migrateOutcomes first). */
  static async open(pool: Pool, options: FrameworkStoreOptions = {}): Promise<FrameworkStore> {
    const store = new FrameworkStore(pool, options.refreshMs ?? 10_000);
    if (options.seedFile) await store.seed(options.seedFile);
    await store.refresh();
    store.timer = setInterval(() => void store.refresh().catch(() => undefined), store.refreshMs);
    store.timer.unref();
    return store;
  }

  current(): FrameworkSnapshot {
    return this.snapshot;
  }

  async refresh(): Promise<FrameworkSnapshot> {
    const result = await this.pool.query<{ version: string; document: unknown }>(
      'SELECT version, document FROM outcome_framework_versions WHERE version > $1 ORDER BY version DESC LIMIT 1',
      [this.snapshot.version],
    );
    const row = result.rows[0];
    if (row) this.snapshot = { version: Number(row.version), document: parseFrameworkDocument(row.document) };
    return this.snapshot;
  }

  /** Stores version n+1 (checked first: an invalid document changes nothing) and puts it in force here. */
  async replace(
    document: unknown,
    by: { readonly userId: string; readonly organisation?: string; readonly reason: string },
  ): Promise<FrameworkVersionView> {
    const parsed = parseFrameworkDocument(document);
    const view = await withTransaction(this.pool, async (client) => {
      await lockVersions(client);
      const result = await client.query<{ version: string; loaded_at: Date }>(
        `INSERT INTO outcome_framework_versions (version, document, sha256, loaded_by, organisation, reason)
         SELECT coalesce(max(version), 0) + 1, $1, $2, $3, $4, $5 FROM outcome_framework_versions
         RETURNING version, loaded_at`,
        [JSON.stringify(parsed), sha256(parsed), by.userId, by.organisation ?? null, by.reason],
      );
      const row = result.rows[0];
      return {
        version: Number(row.version),
        sha256: sha256(parsed),
        loadedAt: row.loaded_at.toISOString(),
        loadedBy: by.userId,
        ...(by.organisation ? { organisation: by.organisation } : {}),
        reason: by.reason,
        title: parsed.title,
        frameworks: parsed.frameworks.map((f) => f.id),
      };
    });
    if (view.version > this.snapshot.version) this.snapshot = { version: view.version, document: parsed };
    return view;
  }

  async history(): Promise<FrameworkVersionView[]> {
    const result = await this.pool.query<{
      version: string;
      sha256: string;
      loaded_at: Date;
      loaded_by: string;
      organisation: string | null;
      reason: string;
      title: string;
      frameworks: string[];
    }>(
      `SELECT version, sha256, loaded_at, loaded_by, organisation, reason, document->>'title' AS title,
              ARRAY(SELECT f->>'id' FROM jsonb_array_elements(document->'frameworks') f) AS frameworks
       FROM outcome_framework_versions ORDER BY version DESC`,
    );
    return result.rows.map((row) => ({
      version: Number(row.version),
      sha256: row.sha256,
      loadedAt: row.loaded_at.toISOString(),
      loadedBy: row.loaded_by,
      ...(row.organisation ? { organisation: row.organisation } : {}),
      reason: row.reason,
      title: row.title,
      frameworks: row.frameworks,
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
      throw new ThroughlineError(
        'CONFIGURATION',
        `OUTCOME_FRAMEWORKS_FILE: ${file} could not be read as JSON`,
        { cause: error },
      );
    }
    const parsed = parseFrameworkDocument(document, 'OUTCOME_FRAMEWORKS_FILE');
    await withTransaction(this.pool, async (client) => {
      await lockVersions(client);
      await client.query(
        `INSERT INTO outcome_framework_versions (version, document, sha256, loaded_by, reason)
         SELECT 1, $1, $2, $3, 'first start: seeded from OUTCOME_FRAMEWORKS_FILE'
         WHERE NOT EXISTS (SELECT 1 FROM outcome_framework_versions)`,
        [JSON.stringify(parsed), sha256(parsed), `seed:${file.split(/[\\/]/).pop()}`],
      );
    });
  }
}

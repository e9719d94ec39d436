import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Pool, PoolClient } from 'pg';
import { ThroughlineError } from './errors';
import { withTransaction } from './postgres';

/**
 * A document held as versioned data (the access policy, the outcome frameworks): each change is
 * a new version in an append-only table, numbered under an advisory lock; the highest version is
 * in force, held in memory and refreshed every `refreshMs`, so a change made through one instance
 * reaches every instance without a deploy or a restart; an empty table is seeded from a file.
 *
 * The table has the columns (version bigint PK, document jsonb, sha256 text, loaded_at
 * timestamptz DEFAULT now(), loaded_by text, organisation text, reason text).
 */
export interface VersionedDocumentKind<T, S> {
  /** The table's name (a constant of the context that owns it). */
  readonly table: string;
  /** The setting that names the seed file, for messages (e.g. ACCESS_POLICY_FILE). */
  readonly seedSetting: string;
  /** Checks a document; a ValidationError (400) naming each broken field, prefixed with `where`. */
  parse(document: unknown, where?: string): T;
  /** In force until a version is loaded. */
  readonly empty: T;
  /** What a version's listing says of its document besides who, when and why (no child data). */
  summarise(document: T): S;
}

export interface DocumentVersion {
  readonly version: number;
  readonly sha256: string;
  readonly loadedAt: string;
  readonly loadedBy: string;
  readonly organisation?: string;
  readonly reason: string;
}

export interface VersionedDocumentOptions {
  /** Loaded as version 1 when the table holds none yet. */
  readonly seedFile?: string;
  /** How often another instance's change is picked up (ms). */
  readonly refreshMs?: number;
}

const TABLE = /^[a-z_][a-z0-9_]{0,62}$/;

const sha256 = (document: unknown): string =>
  createHash('sha256').update(JSON.stringify(document)).digest('hex');

export class VersionedDocuments<T, S> {
  private snapshot: { version: number; document: T };
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly pool: Pool,
    private readonly kind: VersionedDocumentKind<T, S>,
    private readonly refreshMs: number,
  ) {
    if (!TABLE.test(kind.table)) throw new Error(`not a table name: ${kind.table}`);
    this.snapshot = { version: 0, document: kind.empty };
  }

  /** Seeds an empty table from `seedFile`, loads the version in force and refreshes it on a timer. */
  static async open<T, S>(
    pool: Pool,
    kind: VersionedDocumentKind<T, S>,
    options: VersionedDocumentOptions = {},
  ): Promise<VersionedDocuments<T, S>> {
    const store = new VersionedDocuments(pool, kind, options.refreshMs ?? 10_000);
    if (options.seedFile) await store.seed(options.seedFile);
    await store.refresh();
    store.timer = setInterval(() => void store.refresh().catch(() => undefined), store.refreshMs);
    store.timer.unref();
    return store;
  }

  /** The version in force now (version 0, the kind's empty document, until one is loaded). */
  current(): { readonly version: number; readonly document: T } {
    return this.snapshot;
  }

  async refresh(): Promise<{ readonly version: number; readonly document: T }> {
    const result = await this.pool.query<{ version: string; document: unknown }>(
      `SELECT version, document FROM ${this.kind.table} WHERE version > $1 ORDER BY version DESC LIMIT 1`,
      [this.snapshot.version],
    );
    const row = result.rows[0];
    if (row) this.snapshot = { version: Number(row.version), document: this.kind.parse(row.document) };
    return this.snapshot;
  }

  /**
   * Stores a new version (checked first: an invalid document changes nothing) and puts it in
   * force here at once. Versions are numbered under a lock, so two changes never share one.
   */
  async replace(
    document: unknown,
    by: { readonly userId: string; readonly organisation?: string; readonly reason: string },
  ): Promise<DocumentVersion & S> {
    const parsed = this.kind.parse(document);
    const digest = sha256(parsed);
    const view = await withTransaction(this.pool, async (client) => {
      await this.lock(client);
      const result = await client.query<{ version: string; loaded_at: Date }>(
        `INSERT INTO ${this.kind.table} (version, document, sha256, loaded_by, organisation, reason)
         SELECT coalesce(max(version), 0) + 1, $1, $2, $3, $4, $5 FROM ${this.kind.table}
         RETURNING version, loaded_at`,
        [JSON.stringify(parsed), digest, by.userId, by.organisation ?? null, by.reason],
      );
      const row = result.rows[0];
      return {
        version: Number(row.version),
        sha256: digest,
        loadedAt: row.loaded_at.toISOString(),
        loadedBy: by.userId,
        ...(by.organisation ? { organisation: by.organisation } : {}),
        reason: by.reason,
        ...this.kind.summarise(parsed),
      };
    });
    if (view.version > this.snapshot.version) this.snapshot = { version: view.version, document: parsed };
    return view;
  }

  /** Every version, newest first. */
  async history(): Promise<(DocumentVersion & S)[]> {
    const result = await this.pool.query<{
      version: string;
      sha256: string;
      loaded_at: Date;
      loaded_by: string;
      organisation: string | null;
      reason: string;
      document: unknown;
    }>(
      `SELECT version, sha256, loaded_at, loaded_by, organisation, reason, document
       FROM ${this.kind.table} ORDER BY version DESC`,
    );
    return result.rows.map((row) => ({
      version: Number(row.version),
      sha256: row.sha256,
      loadedAt: row.loaded_at.toISOString(),
      loadedBy: row.loaded_by,
      ...(row.organisation ? { organisation: row.organisation } : {}),
      reason: row.reason,
      // Stored versions were checked when loaded; read as stored.
      ...this.kind.summarise(row.document as T),
    }));
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * An advisory lock, not LOCK TABLE: the apps' role holds only SELECT and INSERT on the table,
   * and PostgreSQL lets a role take SHARE ROW EXCLUSIVE only with UPDATE, DELETE or TRUNCATE rights.
   */
  private lock(client: PoolClient): Promise<unknown> {
    return client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`throughline.${this.kind.table}`]);
  }

  /** Loads `file` as the first version when there is none (concurrent starts seed once). */
  private async seed(file: string): Promise<void> {
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ThroughlineError(
        'CONFIGURATION',
        `${this.kind.seedSetting}: ${file} could not be read as JSON`,
        {
          cause: error,
        },
      );
    }
    const parsed = this.kind.parse(document, this.kind.seedSetting);
    await withTransaction(this.pool, async (client) => {
      await this.lock(client);
      await client.query(
        `INSERT INTO ${this.kind.table} (version, document, sha256, loaded_by, reason)
         SELECT 1, $1, $2, $3, $4
         WHERE NOT EXISTS (SELECT 1 FROM ${this.kind.table})`,
        [
          JSON.stringify(parsed),
          sha256(parsed),
          `seed:${file.split(/[\\/]/).pop()}`,
          `first start: seeded from ${this.kind.seedSetting}`,
        ],
      );
    });
  }
}

import type { Pool } from 'pg';
import {
  ValidationError,
  createPool,
  ensureDatabase,
  migrate,
  migrateAsOwner,
  migrationsDirectory,
  readMigrations,
  type MigrateOptions,
  type FieldIssue,
} from '@throughline/platform';
import type { ContractIssue } from '@throughline/contracts';
import type { DeadLetter, DeadLetterReason } from './batch-plan';
import {
  readableValue,
  type DeadLetterPayload,
  type DeadLetterRedrive,
  type DeadLetterView,
} from './dead-letter-message';

/** The folder holding this context's migrations, from source (jest) and from dist/ alike. */
export function recordingMigrationsDirectory(): string {
  return migrationsDirectory('recording');
}

/** Applies the recording migrations (as the owner) and, given the apps' role, its grants.sql. */
export async function migrateRecording(pool: Pool, options: MigrateOptions = {}): Promise<number[]> {
  return migrate(pool, 'recording', readMigrations(recordingMigrationsDirectory()), options);
}

/**
 * PostgreSQL text and jsonb cannot hold U+0000, which garbage bytes (and JSON parser
 * messages quoting them) often contain. It becomes U+FFFD there; the value column keeps
 * the original bytes untouched.
 */
export function withoutNul<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\uFFFD') as T;
  if (Array.isArray(value)) return value.map((item: unknown) => withoutNul(item)) as T;
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [withoutNul(k), withoutNul(v)])) as T;
  }
  return value;
}

export interface ListDeadLettersOptions {
  /** Most rows returned. Default 50, at most 500. */
  readonly limit?: number;
  /** Exclusive cursor: rows with id > after. Default 0. */
  readonly after?: string;
}

export interface DeadLetterPage {
  readonly deadLetters: readonly DeadLetterView[];
  /** Pass as `after` for the next page; null when this page is the last. */
  readonly next: string | null;
}

export const DEFAULT_DEAD_LETTER_LIMIT = 50;
export const MAX_DEAD_LETTER_LIMIT = 500;

interface DeadLetterRow {
  id: string;
  topic: string;
  partition: number;
  offset: string;
  message_key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  reason: DeadLetterReason;
  issues: DeadLetterView['issues'];
  dead_lettered_at: Date;
  redriven_at: Date | null;
  redriven_by: string | null;
  redrive_outcome: DeadLetterRedrive['outcome'] | null;
  redriven_event_id: string | null;
  redriven_stream: string | null;
  redriven_position: string | null;
}

const ROW_COLUMNS = `id, topic, partition, "offset", message_key, value, headers, reason, issues, dead_lettered_at,
  redriven_at, redriven_by, redrive_outcome, redriven_event_id, redriven_stream, redriven_position`;

/** A stored dead letter with its original bytes, as re-driving needs it. */
export interface StoredDeadLetter {
  readonly id: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly reason: DeadLetterReason;
  readonly issues: readonly ContractIssue[];
  readonly deadLetteredAt: Date;
  readonly redrive: DeadLetterRedrive | null;
}

/** Outcome of one re-drive request, kept for audit whatever it was. */
export type RedriveAttemptOutcome =
  DeadLetterRedrive['outcome'] | 'already-redriven' | 'still-invalid' | 'store-rejected';

export interface RedriveAttempt {
  readonly deadLetterId: string;
  readonly requestedBy: string;
  readonly requestedAt: Date;
  readonly outcome: RedriveAttemptOutcome;
  readonly issues: readonly ContractIssue[];
}

function redriveOf(row: DeadLetterRow): DeadLetterRedrive | null {
  if (row.redriven_at === null || row.redriven_by === null || row.redrive_outcome === null) return null;
  return {
    redrivenAt: row.redriven_at.toISOString(),
    redrivenBy: row.redriven_by,
    outcome: row.redrive_outcome,
    eventId: row.redriven_event_id,
    streamId: row.redriven_stream,
    position: row.redriven_position === null ? null : String(row.redriven_position),
  };
}

function storedOf(row: DeadLetterRow): StoredDeadLetter {
  return {
    id: String(row.id),
    topic: row.topic,
    partition: row.partition,
    offset: String(row.offset),
    key: row.message_key,
    value: row.value,
    headers: row.headers,
    reason: row.reason,
    issues: row.issues,
    deadLetteredAt: row.dead_lettered_at,
    redrive: redriveOf(row),
  };
}

function validateListOptions(options: ListDeadLettersOptions): { limit: number; after: string } {
  const limit = options.limit ?? DEFAULT_DEAD_LETTER_LIMIT;
  const after = options.after ?? '0';
  const issues: FieldIssue[] = [];
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_DEAD_LETTER_LIMIT) {
    issues.push({
      path: 'limit',
      rule: 'range',
      message: `must be an integer from 1 to ${MAX_DEAD_LETTER_LIMIT}`,
    });
  }
  if (!/^\d{1,18}$/.test(after)) {
    issues.push({
      path: 'after',
      rule: 'integer',
      message: 'must be a non-negative integer (a dead letter id)',
    });
  }
  if (issues.length > 0) throw new ValidationError('invalid dead-letter query', issues);
  return { limit, after };
}

/** The dead_letters table: idempotent inserts by Kafka coordinate, paged listing. */
export class PostgresDeadLetters {
  private constructor(
    private readonly pool: Pool,
    private readonly ownsPool: boolean,
  ) {}

  /**
   * Creates the database if missing and applies the recording migrations: as the owner role when
   * ownerConnectionString is given (and differs), granting connectionString's role what
   * grants.sql says (docs/decisions/011-database-roles.md).
   */
  static async create(options: {
    connectionString: string;
    ownerConnectionString?: string;
    pool?: Pool;
  }): Promise<PostgresDeadLetters> {
    const { connectionString, ownerConnectionString } = options;
    await ensureDatabase(ownerConnectionString ?? connectionString);
    const pool = options.pool ?? createPool(connectionString, { max: 4 });
    try {
      if (ownerConnectionString && ownerConnectionString !== connectionString)
        await migrateAsOwner({ app: connectionString, owner: ownerConnectionString }, migrateRecording);
      else await migrateRecording(pool);
    } catch (error) {
      if (!options.pool) await pool.end();
      throw error;
    }
    return new PostgresDeadLetters(pool, !options.pool);
  }

  /** Inserts every dead letter; ones already stored for the same coordinate are left as they were. */
  async record(deadLetters: readonly DeadLetter[]): Promise<number> {
    if (deadLetters.length === 0) return 0;
    const result = await this.pool.query(
      `INSERT INTO dead_letters
         (topic, partition, "offset", message_key, value, headers, reason, issues, dead_lettered_at)
       SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::bytea[], $6::jsonb[],
                            $7::text[], $8::jsonb[], $9::timestamptz[])
       ON CONFLICT (topic, partition, "offset") DO NOTHING`,
      [
        deadLetters.map((d) => d.topic),
        deadLetters.map((d) => d.partition),
        deadLetters.map((d) => d.offset),
        deadLetters.map((d) => withoutNul(d.key)),
        deadLetters.map((d) => d.value),
        deadLetters.map((d) => JSON.stringify(withoutNul(d.headers))),
        deadLetters.map((d) => d.reason),
        deadLetters.map((d) => JSON.stringify(withoutNul(d.issues))),
        deadLetters.map((d) => d.deadLetteredAt.toISOString()),
      ],
    );
    return result.rowCount ?? 0;
  }

  async list(options: ListDeadLettersOptions = {}): Promise<DeadLetterPage> {
    const { limit, after } = validateListOptions(options);
    const result = await this.pool.query<DeadLetterRow>(
      `SELECT ${ROW_COLUMNS} FROM dead_letters WHERE id > $1 ORDER BY id LIMIT $2`,
      [after, limit + 1],
    );
    const rows = result.rows.slice(0, limit);
    return {
      deadLetters: rows.map((row) => ({
        id: String(row.id),
        topic: row.topic,
        partition: row.partition,
        offset: String(row.offset),
        reason: row.reason,
        issues: row.issues,
        deadLetteredAt: row.dead_lettered_at.toISOString(),
        redrive: redriveOf(row),
      })),
      next: result.rows.length > limit ? String(rows[rows.length - 1].id) : null,
    };
  }

  /** One dead letter's key, headers and value (child data: the caller records the access). */
  async payload(id: string): Promise<DeadLetterPayload | undefined> {
    const found = await this.find(id);
    if (!found) return undefined;
    return { id: found.id, key: found.key, headers: found.headers, value: readableValue(found.value) };
  }

  /** One dead letter with its original bytes; undefined when no row has this id. */
  async find(id: string): Promise<StoredDeadLetter | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    const result = await this.pool.query<DeadLetterRow>(
      `SELECT ${ROW_COLUMNS} FROM dead_letters WHERE id = $1`,
      [id],
    );
    return result.rows.length === 0 ? undefined : storedOf(result.rows[0]);
  }

  /**
   * Records a successful re-drive on the row unless one is recorded already (the first one
   * stays); returns what the row holds afterwards.
   */
  async markRedriven(id: string, redrive: DeadLetterRedrive): Promise<DeadLetterRedrive> {
    await this.pool.query(
      `UPDATE dead_letters
       SET redriven_at = $2, redriven_by = $3, redrive_outcome = $4,
           redriven_event_id = $5, redriven_stream = $6, redriven_position = $7
       WHERE id = $1 AND redriven_at IS NULL`,
      [
        id,
        redrive.redrivenAt,
        withoutNul(redrive.redrivenBy),
        redrive.outcome,
        redrive.eventId,
        redrive.streamId,
        redrive.position,
      ],
    );
    const row = await this.find(id);
    if (row?.redrive == null) throw new Error(`dead letter ${id}: re-drive not recorded`);
    return row.redrive;
  }

  /** Keeps one re-drive request for audit, whatever came of it. */
  async recordAttempt(attempt: RedriveAttempt): Promise<void> {
    await this.pool.query(
      `INSERT INTO dead_letter_redrive_attempts (dead_letter_id, requested_by, requested_at, outcome, issues)
       VALUES ($1, $2, $3, $4, $5)`,
      [
        attempt.deadLetterId,
        withoutNul(attempt.requestedBy),
        attempt.requestedAt.toISOString(),
        attempt.outcome,
        JSON.stringify(withoutNul(attempt.issues)),
      ],
    );
  }

  /** Every re-drive request for one dead letter, oldest first. */
  async attempts(id: string): Promise<RedriveAttempt[]> {
    const result = await this.pool.query<{
      dead_letter_id: string;
      requested_by: string;
      requested_at: Date;
      outcome: RedriveAttemptOutcome;
      issues: ContractIssue[];
    }>(
      `SELECT dead_letter_id, requested_by, requested_at, outcome, issues
       FROM dead_letter_redrive_attempts WHERE dead_letter_id = $1 ORDER BY id`,
      [id],
    );
    return result.rows.map((row) => ({
      deadLetterId: String(row.dead_letter_id),
      requestedBy: row.requested_by,
      requestedAt: row.requested_at,
      outcome: row.outcome,
      issues: row.issues,
    }));
  }

  /** true when the database answers. */
  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}

import type { Pool } from 'pg';
import {
  ValidationError,
  createPool,
  ensureDatabase,
  migrate,
  migrationsDirectory,
  readMigrations,
  type FieldIssue,
} from '@throughline/platform';
import type { DeadLetter, DeadLetterReason } from './batch-plan';
import { readableValue, type DeadLetterView } from './dead-letter-message';

/** The folder holding this context's migrations, from source (jest) and from dist/ alike. */
export function recordingMigrationsDirectory(): string {
  return migrationsDirectory('recording');
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

  /** Creates the database if missing and applies the recording migrations. */
  static async create(options: { connectionString: string; pool?: Pool }): Promise<PostgresDeadLetters> {
    await ensureDatabase(options.connectionString);
    const pool = options.pool ?? createPool(options.connectionString, { max: 4 });
    try {
      await migrate(pool, 'recording', readMigrations(recordingMigrationsDirectory()));
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
      `SELECT id, topic, partition, "offset", message_key, value, headers, reason, issues, dead_lettered_at
       FROM dead_letters WHERE id > $1 ORDER BY id LIMIT $2`,
      [after, limit + 1],
    );
    const rows = result.rows.slice(0, limit);
    return {
      deadLetters: rows.map((row) => ({
        id: String(row.id),
        topic: row.topic,
        partition: row.partition,
        offset: String(row.offset),
        key: row.message_key,
        reason: row.reason,
        issues: row.issues,
        headers: row.headers,
        value: readableValue(row.value),
        deadLetteredAt: row.dead_lettered_at.toISOString(),
      })),
      next: result.rows.length > limit ? String(rows[rows.length - 1].id) : null,
    };
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

import { createHash } from 'node:crypto';
import type { QueryResult, QueryResultRow } from 'pg';

/** A pool (a connection per query) or a client held: both take a named query. */
export interface NamedQueryable {
  query<R extends QueryResultRow>(config: {
    name: string;
    text: string;
    values: unknown[];
  }): Promise<QueryResult<R>>;
}

/** SQLSTATE 0A000 with this message: a re-analysis gave the statement other result columns. */
const RESULT_TYPE_CHANGED = 'cached plan must not change result type';

/**
 * A statement of the hot paths, prepared once per connection: the first run on a connection
 * sends it to be parsed under its name, every later one only binds and executes it, so
 * PostgreSQL neither parses nor analyses it again and, once a generic plan costs no more than the
 * custom ones, does not plan it either. For fixed texts only (the name comes from the text).
 *
 * PostgreSQL re-analyses a prepared statement by itself when a table it uses changes or when the
 * search_path does (a read model's generation switch, decision 023). One case it refuses: the
 * re-analysed statement returns other columns ("cached plan must not change result type", a
 * live table altered under it). Then the statement takes a new name, so every connection parses
 * it afresh on its next run; the failed run's error still reaches the caller, whose retry works.
 */
export class PreparedStatement<R extends QueryResultRow = QueryResultRow> {
  private readonly base: string;
  private renamed = 0;

  constructor(
    label: string,
    readonly text: string,
  ) {
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(label))
      throw new Error(`statement label "${label}" must be a short plain word`);
    // The text's digest in the name: two statements given one label by mistake stay two statements.
    this.base = `${label}-${createHash('sha1').update(text).digest('hex').slice(0, 12)}`;
  }

  /** The name it is prepared under on every connection (changes only after a refused re-analysis). */
  get name(): string {
    return this.renamed === 0 ? this.base : `${this.base}-${this.renamed}`;
  }

  async run(db: NamedQueryable, values: unknown[]): Promise<QueryResult<R>> {
    const name = this.name;
    try {
      return await db.query<R>({ name, text: this.text, values });
    } catch (error) {
      // Once, however many connections hit it at the same time.
      if (isResultTypeChange(error) && name === this.name) this.renamed += 1;
      throw error;
    }
  }
}

function isResultTypeChange(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === '0A000' && typeof message === 'string' && message.includes(RESULT_TYPE_CHANGED);
}

import { join } from 'node:path';
import { Client, escapeIdentifier, type ClientBase, type Pool } from 'pg';
import {
  ThroughlineError,
  migrate,
  migrateAsOwner,
  migrationsDirectory,
  readGrants,
  readMigrations,
  sleep,
  withTransaction,
  type MigrateOptions,
} from '@throughline/platform';
import type { EventStore } from './port';
import type { CheckpointedSubscriptionRunner } from './subscription-runner';

/**
 * Blue-green read models (docs/decisions/023-blue-green-rebuild.md). Each generation of a
 * rebuildable read model is a PostgreSQL schema holding its tables and its checkpoint; `public`
 * is the first. `read_model_generations` says which one is live; the apps reach it through
 * `search_path` (live generations first, then public, where everything else stays), set as a
 * pool hands out a connection, and move when a switch is NOTIFYed on READ_MODEL_GENERATIONS_CHANNEL.
 */
export interface RebuildableReadModel {
  /** Names the generations row and the schemas, `rm_<name>_<n>`: a plain lower-case identifier. */
  readonly name: string;
  /** Every table a generation holds: the rebuildable ones and the checkpoint table. */
  readonly tables: readonly string[];
  /** The checkpoint table (one of `tables`) and the runner's row in it, for `status`. */
  readonly checkpoint: { readonly table: string; readonly row: string };
  /** The context's grants.sql: run for a new generation with that schema first on the search_path. */
  readonly grants?: string;
  /**
   * Tables whose indexes only the reads use: a new generation is filled without them and gets
   * them once it has caught up, before the switch (completeGeneration; decision 039). Unique
   * indexes, the indexes of constraints and those on the columns in `runnerUses` (the runner's own
   * lookups, each as `a, b`) stay throughout.
   */
  readonly indexesAfterCatchUp?: readonly IndexesAfterCatchUp[];
}

export interface IndexesAfterCatchUp {
  readonly table: string;
  /** Key columns of the indexes the runner's own statements need, e.g. `['record_ref']`. */
  readonly runnerUses: readonly string[];
}

export interface ReadModelGeneration {
  readonly name: string;
  readonly generation: number;
  readonly liveSchema: string;
  readonly buildingSchema: string | null;
  readonly retiredSchema: string | null;
  readonly switchedAt: Date | null;
}

/** NOTIFYed with the read model's name when its live generation changes. */
export const READ_MODEL_GENERATIONS_CHANNEL = 'read_model_generations';

const PUBLIC = 'public';
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const GENERATIONS_LOCK = 'throughline.read-model-generations';

type Queryable = Pick<Pool, 'query'>;

function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`read model: "${name}" is not a plain identifier`);
  return escapeIdentifier(name);
}

/** Creates read_model_generations (context `read-models`) and grants the apps' role SELECT on it. */
export async function migrateReadModelGenerations(
  owner: Pool,
  options: MigrateOptions = {},
): Promise<number[]> {
  const directory = join(migrationsDirectory('event-store'), 'read-models');
  return migrate(owner, 'read-models', readMigrations(directory), {
    ...options,
    grants: options.grants ?? readGrants(directory),
  });
}

/**
 * migrateAsOwner for every app that migrates a context with read-model tables: the contexts
 * migrate with public first and the live generations after it on the search_path, so a new table
 * lands in public while grants.sql and a change to a read model's table reach its live
 * generation (after the first rebuild its tables are no longer in public).
 */
export async function migrateAsOwnerBesideGenerations<T>(
  connections: { readonly app: string; readonly owner?: string },
  work: (owner: Pool, options: MigrateOptions) => Promise<T>,
): Promise<T> {
  const live = await migrateAsOwner(connections, async (owner, grants) => {
    await migrateReadModelGenerations(owner, grants);
    return liveSchemasOf(owner);
  });
  const path = searchPathOf(live, 'migrations');
  return migrateAsOwner(connections, work, { onCheckout: searchPathOnCheckout(() => path) });
}

interface GenerationRecord {
  name: string;
  generation: number;
  live_schema: string;
  building_schema: string | null;
  retired_schema: string | null;
  switched_at: Date | null;
}

const toGeneration = (row: GenerationRecord): ReadModelGeneration => ({
  name: row.name,
  generation: row.generation,
  liveSchema: row.live_schema,
  buildingSchema: row.building_schema,
  retiredSchema: row.retired_schema,
  switchedAt: row.switched_at,
});

const SELECT_GENERATIONS = `SELECT name, generation, live_schema, building_schema, retired_schema, switched_at
  FROM public.read_model_generations`;

/** Every read model's row; one without a row lives in public (generation 1). */
export async function readGenerations(db: Queryable): Promise<Map<string, ReadModelGeneration>> {
  const { rows } = await db.query<GenerationRecord>(SELECT_GENERATIONS);
  return new Map(rows.map((row) => [row.name, toGeneration(row)]));
}

/**
 * A search_path of the schemas given, in order, then public (or public first, for migrations:
 * new tables land in public, and a table found only in a live generation is changed there).
 */
export function searchPathOf(schemas: Iterable<string>, order: 'reads' | 'migrations' = 'reads'): string {
  const path = [...new Set([...schemas].filter((schema) => schema !== PUBLIC))];
  for (const schema of path) identifier(schema);
  return (order === 'reads' ? [...path, PUBLIC] : [PUBLIC, ...path]).join(', ');
}

/** Every live generation, sorted by name: the schemas before public on the apps' search_path. */
export async function liveSchemasOf(db: Queryable): Promise<string[]> {
  return liveSchemas(await readGenerations(db));
}

function liveSchemas(generations: ReadonlyMap<string, ReadModelGeneration>): string[] {
  return [...generations.values()].sort((a, b) => a.name.localeCompare(b.name)).map((row) => row.liveSchema);
}

/**
 * For createPool's onCheckout: every client the pool hands out runs with `path()` as its
 * search_path, SET before the caller's first query only when it changed for that client.
 */
export function searchPathOnCheckout(path: () => string): (client: ClientBase) => Promise<void> {
  const applied = new WeakMap<ClientBase, string>();
  return async (client) => {
    const wanted = path();
    if ((applied.get(client) ?? PUBLIC) === wanted) return;
    await client.query(`SET search_path = ${wanted}`);
    applied.set(client, wanted);
  };
}

/** Lock one read model's row (created at generation 1 when missing), inside the caller's transaction. */
async function lockGeneration(client: ClientBase, name: string): Promise<ReadModelGeneration> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [GENERATIONS_LOCK]);
  await client.query(
    'INSERT INTO public.read_model_generations (name) VALUES ($1) ON CONFLICT (name) DO NOTHING',
    [name],
  );
  const { rows } = await client.query<GenerationRecord>(`${SELECT_GENERATIONS} WHERE name = $1 FOR UPDATE`, [
    name,
  ]);
  return toGeneration(rows[0]);
}

/**
 * The generation a rebuild fills: the one being built (a build that stopped resumes into it), or
 * a new schema `rm_<name>_<n+1>` with empty copies of the live generation's tables (columns,
 * defaults, constraints, indexes, storage parameters), the apps' role granted what the context's
 * grants.sql says.
 * Run as the owner.
 */
export async function beginGeneration(
  owner: Pool,
  model: RebuildableReadModel,
  appRole?: string,
): Promise<ReadModelGeneration> {
  return withTransaction(owner, async (client) => {
    const current = await lockGeneration(client, model.name);
    if (current.buildingSchema) return current;
    if (current.retiredSchema)
      throw new ThroughlineError(
        'ILLEGAL_STATE',
        `read model ${model.name}: the retired generation ${current.retiredSchema} is still there; ` +
          `drop it first (npm run projection -- drop-old ${model.name})`,
      );
    const schema = `rm_${model.name}_${current.generation + 1}`;
    const [next, live] = [identifier(schema), identifier(current.liveSchema)];
    await client.query(`CREATE SCHEMA ${next}`);
    for (const table of model.tables) {
      const name = identifier(table);
      await client.query(`CREATE TABLE ${next}.${name} (LIKE ${live}.${name} INCLUDING ALL)`);
      // LIKE copies no storage parameters (a fillfactor, say: decision 041); the live table's are the model's.
      const options = await storageParameters(client, current.liveSchema, table);
      if (options.length > 0) await client.query(`ALTER TABLE ${next}.${name} SET (${options.join(', ')})`);
    }
    for (const deferred of model.indexesAfterCatchUp ?? []) {
      const names = (await indexesOf(client, schema, deferred.table))
        .filter((index) => index.queryOnly && !deferred.runnerUses.includes(index.columns))
        .map((index) => `${next}.${identifier(index.name)}`);
      if (names.length > 0) await client.query(`DROP INDEX ${names.join(', ')}`);
    }
    const { rows } = await client.query<{ me: string }>('SELECT current_user AS me');
    if (appRole && appRole !== rows[0].me) {
      const role = escapeIdentifier(appRole);
      await client.query(`GRANT USAGE ON SCHEMA ${next} TO ${role}`);
      if (model.grants) {
        // Unqualified names in grants.sql resolve to the new tables first, the others to public.
        await client.query(`SET LOCAL search_path = ${next}, public`);
        await client.query(model.grants.replaceAll(':"app_role"', role));
        await client.query('SET LOCAL search_path = public');
      }
    }
    await client.query(
      'UPDATE public.read_model_generations SET building_schema = $2, updated_at = now() WHERE name = $1',
      [model.name, schema],
    );
    return { ...current, buildingSchema: schema };
  });
}

interface TableIndex {
  readonly name: string;
  /** pg_get_indexdef from `USING` on: the same index on another schema's copy of the table reads alike. */
  readonly definition: string;
  /** Key columns, `a, b`. */
  readonly columns: string;
  /** Neither unique nor a constraint's. */
  readonly queryOnly: boolean;
}

async function indexesOf(db: Queryable, schema: string, table: string): Promise<TableIndex[]> {
  const { rows } = await db.query<TableIndex>(
    `SELECT c.relname AS name,
            substring(pg_get_indexdef(i.indexrelid) FROM ' USING .*$') AS definition,
            (SELECT string_agg(a.attname, ', ' ORDER BY k.n)
               FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              WHERE k.n <= i.indnkeyatts) AS columns,
            NOT i.indisunique AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid) AS "queryOnly"
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 AND t.relname = $2
      ORDER BY c.relname`,
    [schema, table],
  );
  return rows;
}

export interface IndexBuilt {
  readonly table: string;
  readonly definition: string;
  readonly ms: number;
}

/**
 * Gives the generation being built the indexes beginGeneration left out (indexesAfterCatchUp):
 * every index of the live generation's table that the building one lacks, by definition, then
 * ANALYZE. Run as the owner once the build has caught up, before switchGeneration; a build
 * stopped half way builds what is still missing next time. Resolves with what it built.
 */
export async function completeGeneration(
  owner: Pool,
  model: RebuildableReadModel,
  onIndex: (built: IndexBuilt) => void = () => undefined,
): Promise<IndexBuilt[]> {
  const current = (await readGenerations(owner)).get(model.name);
  if (!current?.buildingSchema)
    throw new ThroughlineError('ILLEGAL_STATE', `read model ${model.name}: no generation is being built`);
  const building = identifier(current.buildingSchema);
  const built: IndexBuilt[] = [];
  for (const { table } of model.indexesAfterCatchUp ?? []) {
    const missing = await missingIndexes(owner, current, current.buildingSchema, table);
    for (const { definition } of missing) {
      const since = process.hrtime.bigint();
      // A sort in memory rather than on disk: SET LOCAL, so the setting ends with the statement's transaction.
      await withTransaction(
        owner,
        (client) => client.query(`CREATE INDEX ON ${building}.${identifier(table)} ${definition}`),
        { maintenance_work_mem: INDEX_BUILD_MEMORY },
      );
      const index = { table, definition, ms: Number(process.hrtime.bigint() - since) / 1e6 };
      built.push(index);
      onIndex(index);
    }
    if (missing.length > 0) await owner.query(`ANALYZE ${building}.${identifier(table)}`);
  }
  return built;
}

/** The storage parameters of `schema`.`table` as pg_class keeps them (`fillfactor=70`, …); none is []. */
export async function storageParameters(db: Queryable, schema: string, table: string): Promise<string[]> {
  const { rows } = await db.query<{ options: string[] | null }>(
    `SELECT c.reloptions AS options FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [schema, table],
  );
  if (rows.length !== 1) throw new ThroughlineError('ILLEGAL_STATE', `no table ${schema}.${table}`);
  return rows[0].options ?? [];
}

/** maintenance_work_mem for an index built after catch-up (the server's default is 64 MB). */
const INDEX_BUILD_MEMORY = '256MB';

/** The indexes of the live generation's `table` that the one being built (`building`) lacks, by definition. */
async function missingIndexes(
  db: Queryable,
  { liveSchema }: ReadModelGeneration,
  building: string,
  table: string,
): Promise<TableIndex[]> {
  const held = new Set((await indexesOf(db, building, table)).map((index) => index.definition));
  return (await indexesOf(db, liveSchema, table)).filter((index) => !held.has(index.definition));
}

/**
 * Makes the generation being built the live one, in one transaction, and NOTIFYs the apps; the
 * one it replaces is retired, to be dropped after a grace period (dropRetiredGeneration). Refused
 * while the new generation lacks an index it was filled without (completeGeneration builds them):
 * the reads would otherwise scan whole tables from the switch on.
 */
export async function switchGeneration(
  owner: Pool,
  model: RebuildableReadModel,
): Promise<ReadModelGeneration> {
  const { name } = model;
  return withTransaction(owner, async (client) => {
    const current = await lockGeneration(client, name);
    if (!current.buildingSchema)
      throw new ThroughlineError('ILLEGAL_STATE', `read model ${name}: no generation is being built`);
    for (const { table } of model.indexesAfterCatchUp ?? []) {
      const missing = await missingIndexes(client, current, current.buildingSchema, table);
      if (missing.length > 0)
        throw new ThroughlineError(
          'ILLEGAL_STATE',
          `read model ${name}: ${current.buildingSchema}.${table} lacks ${missing.length} of the live generation's ` +
            `indexes (${missing.map((index) => index.name).join(', ')}); completeGeneration builds them before the switch`,
        );
    }
    const { rows } = await client.query<GenerationRecord>(
      `UPDATE public.read_model_generations
          SET generation = generation + 1, retired_schema = live_schema, live_schema = building_schema,
              building_schema = NULL, switched_at = now(), updated_at = now()
        WHERE name = $1
        RETURNING name, generation, live_schema, building_schema, retired_schema, switched_at`,
      [name],
    );
    await client.query('SELECT pg_notify($1, $2)', [READ_MODEL_GENERATIONS_CHANNEL, name]);
    return toGeneration(rows[0]);
  });
}

/**
 * Drops the retired generation: its schema, or, for the first generation, its tables in public
 * (nothing else in public is touched). Returns what was dropped, undefined when nothing was retired.
 */
export async function dropRetiredGeneration(
  owner: Pool,
  model: RebuildableReadModel,
): Promise<string | undefined> {
  return withTransaction(owner, async (client) => {
    const { retiredSchema } = await lockGeneration(client, model.name);
    if (!retiredSchema) return undefined;
    if (retiredSchema === PUBLIC) {
      const tables = model.tables.map((table) => `public.${identifier(table)}`);
      await client.query(`DROP TABLE IF EXISTS ${tables.join(', ')}`);
    } else {
      await client.query(`DROP SCHEMA IF EXISTS ${identifier(retiredSchema)} CASCADE`);
    }
    await client.query(
      'UPDATE public.read_model_generations SET retired_schema = NULL, updated_at = now() WHERE name = $1',
      [model.name],
    );
    return retiredSchema;
  });
}

/** The checkpoint of `model`'s runner in `schema`'s generation (0 before its first batch). */
export async function generationCheckpoint(
  db: Queryable,
  model: RebuildableReadModel,
  schema: string,
): Promise<bigint> {
  const { rows } = await db.query<{ position: string }>(
    `SELECT position FROM ${identifier(schema)}.${identifier(model.checkpoint.table)} WHERE name = $1`,
    [model.checkpoint.row],
  );
  return BigInt(rows[0]?.position ?? 0);
}

/**
 * What an app does to follow the live generations: its pools' connections get the live
 * search_path, and a LISTEN connection moves them when a rebuild switches (onSwitch is then told
 * which read models moved, e.g. to restart their live runners from the new checkpoints).
 */
export class LiveGenerations {
  private path = searchPathOf([]);
  private live = new Map<string, string>();
  private listener: Client | undefined;
  private closed = false;

  private constructor(
    private readonly connectionString: string,
    private readonly onSwitch: (names: readonly string[]) => Promise<void> | void,
  ) {}

  /** Reads the live generations and starts listening for switches. */
  static async follow(
    connectionString: string,
    onSwitch: (names: readonly string[]) => Promise<void> | void = () => undefined,
  ): Promise<LiveGenerations> {
    const generations = new LiveGenerations(connectionString, onSwitch);
    await generations.listen();
    await generations.refresh();
    return generations;
  }

  /** The live schema of each read model with a row. */
  liveSchemas(): ReadonlyMap<string, string> {
    return this.live;
  }

  /** createPool's onCheckout for the apps' pools: every client runs on the live generations. */
  readonly onCheckout = searchPathOnCheckout(() => this.path);

  /** Re-reads the live generations; tells onSwitch which moved. */
  async refresh(): Promise<readonly string[]> {
    const client = new Client({ connectionString: this.connectionString });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const generations = await readGenerations(client);
      const live = new Map([...generations.values()].map((row) => [row.name, row.liveSchema]));
      const moved = [...live].filter(([name, schema]) => (this.live.get(name) ?? PUBLIC) !== schema);
      this.live = live;
      this.path = searchPathOf(liveSchemas(generations));
      const names = moved.map(([name]) => name);
      if (names.length > 0) await this.onSwitch(names);
      return names;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }

  private async listen(): Promise<void> {
    const listener = new Client({ connectionString: this.connectionString });
    listener.on('notification', () => void this.refresh().catch(() => undefined));
    // A lost connection may have lost a notification: listen again, then read the pointer afresh.
    listener.on('error', () => void this.relisten(listener));
    try {
      await listener.connect();
      await listener.query(`LISTEN ${READ_MODEL_GENERATIONS_CHANNEL}`);
    } catch (error) {
      await listener.end().catch(() => undefined);
      throw error;
    }
    this.listener = listener;
  }

  private async relisten(lost: Client): Promise<void> {
    if (this.closed || this.listener !== lost) return;
    this.listener = undefined;
    await lost.end().catch(() => undefined);
    for (let attempt = 0; !this.closed; attempt++) {
      await sleep(Math.min(200 * 2 ** attempt, 5_000));
      try {
        await this.listen();
      } catch {
        continue; // the database is still away: the next attempt, after a longer pause
      }
      await this.refresh().catch(() => undefined);
      return;
    }
  }
}

export interface BuildProgress {
  readonly position: bigint;
  readonly head: bigint;
}

export interface BuildGenerationOptions {
  readonly store: EventStore;
  /** The read model's runner on a pool whose search_path puts the building generation first. */
  readonly runner: Pick<CheckpointedSubscriptionRunner<unknown>, 'start' | 'stop' | 'committedPosition'>;
  /** Caught up when the runner is no more than this many positions behind the head. Default 500. */
  readonly slack?: number;
  /** Milliseconds between progress reports. Default 250. */
  readonly intervalMs?: number;
  readonly onProgress?: (progress: BuildProgress) => void;
  /** Aborted: the runner stops after its batch in hand; the build resumes from its checkpoint next time. */
  readonly signal?: AbortSignal;
}

/**
 * Runs a read model's runner into the generation being built until it is within `slack` of the
 * store's head, then stops it. Resolves true when caught up, false when aborted.
 */
export async function buildGeneration(options: BuildGenerationOptions): Promise<boolean> {
  const { runner, store, signal } = options;
  const slack = BigInt(options.slack ?? 500);
  await runner.start();
  try {
    for (;;) {
      const head = await store.headPosition();
      const position = runner.committedPosition();
      options.onProgress?.({ position, head });
      if (head - position <= slack) return true;
      if (signal?.aborted) return false;
      await sleep(options.intervalMs ?? 250, signal);
    }
  } finally {
    await runner.stop();
  }
}

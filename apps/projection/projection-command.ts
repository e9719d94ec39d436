// `npm run projection -- <status | rebuild <name> | drop-old <name> | identity-keys>` (scripts/projection.ts):
// blue-green rebuilds of the read models (docs/decisions/023-blue-green-rebuild.md). A rebuild
// fills a new generation beside the live one while the apps keep reading and the live runner keeps
// writing the old; when it is within a batch of the head it builds the indexes only reads use
// (left out while it filled: decision 039), switches the apps over in one transaction, and drops
// the old generation after a grace period. Interrupted, it resumes.
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import type { Pool } from 'pg';
import {
  beginGeneration,
  buildGeneration,
  completeGeneration,
  createEventStore,
  dropRetiredGeneration,
  generationCheckpoint,
  readGenerations,
  searchPathOf,
  searchPathOnCheckout,
  switchGeneration,
  type BuildProgress,
  type EventStore,
  type RebuildableReadModel,
} from '@throughline/event-store';
import {
  ThroughlineError,
  createPool,
  loadToolConfig,
  prepareDatabase,
  sleep,
  type Config,
} from '@throughline/platform';
import { TimelineProjector, timelineReadModel } from '@throughline/timeline';
import { AnalysisProjector, ANALYSIS_PROJECTION, analysisReadModel } from '@throughline/analysis';
import { broadKeys, DEFAULT_CANDIDATE_LIMITS, type BroadKey } from '@throughline/identity';
import { migrateProjectionDatabase } from './app';

export class ProjectionUsageError extends Error {}

const USAGE = `usage: npm run projection -- <command>
  status                                each read model: live generation, checkpoint against the head, any generation being built
  rebuild <name> [--grace-seconds 30]   builds a new generation of <name> beside the live one, switches to it, drops the old
  drop-old <name>                       drops the generation the last switch retired
  identity-keys [--limit 50]            keys held by more records than the identity linker compares on (IDENTITY_MAX_BLOCK),
                                        most held first: placeholders and defaults that find no candidates (decision 026)
read models: timeline, analysis (the identity linker's links are events in the store: it is not rebuilt)`;

export interface ProjectionCommandIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream;
  /** Where progress goes: a bar when it is a terminal, a line every few seconds when not. */
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborted (Ctrl-C): a rebuild stops after its batch in hand, to resume next time. */
  readonly signal?: AbortSignal;
}

interface ManagedReadModel {
  readonly model: RebuildableReadModel;
  /** The read model's runner on `pool` (whose search_path puts the generation being built first). */
  readonly runner: (
    pool: Pool,
    store: EventStore,
  ) => TimelineProjector['runner'] | AnalysisProjector['runner'];
}

function readModels(config: Config): Readonly<Record<string, ManagedReadModel>> {
  return {
    timeline: {
      model: timelineReadModel(config.PROJECTION_NAME),
      runner: (pool, store) =>
        new TimelineProjector({
          pool,
          store,
          name: config.PROJECTION_NAME,
          childKeySalt: config.CHILD_KEY_SALT,
        }).runner,
    },
    analysis: {
      model: analysisReadModel(ANALYSIS_PROJECTION),
      runner: (pool, store) =>
        // The key as configured: the app refuses to start with a weak one, the tool only rebuilds what it wrote.
        new AnalysisProjector({ pool, store, pseudonymKey: config.ANALYSIS_PSEUDONYM_KEY }).runner,
    },
  };
}

function parsed(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'grace-seconds': { type: 'string', default: '30' },
        limit: { type: 'string', default: '50' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new ProjectionUsageError(`${(error as Error).message}\n${USAGE}`);
  }
}

/** Resolves with the exit code: 0 done, 1 failed or interrupted. Throws ProjectionUsageError for bad arguments. */
export async function projectionCommand(argv: string[], io: ProjectionCommandIo): Promise<number> {
  const { values, positionals } = parsed(argv);
  const [command, name] = positionals;
  const grace = Number(values['grace-seconds']);
  if (values.help || !Number.isInteger(grace) || grace < 0) throw new ProjectionUsageError(USAGE);
  const config = loadToolConfig(io.env);
  const managed = readModels(config);
  if (command === 'status' && positionals.length === 1) return status(config, managed, io);
  if (command === 'identity-keys' && positionals.length === 1) {
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new ProjectionUsageError(USAGE);
    return identityKeys(config, limit, io);
  }
  const readModel = name !== undefined && Object.hasOwn(managed, name) ? managed[name] : undefined;
  if (!readModel || positionals.length !== 2) throw new ProjectionUsageError(USAGE);
  if (command === 'rebuild') return rebuild(config, readModel, grace, io);
  if (command === 'drop-old') return dropOld(config, readModel.model, io);
  throw new ProjectionUsageError(USAGE);
}

/** The owner's pool, with every migration applied, and the apps' role to grant (none in a one-role setup). */
async function ownerOf(config: Config): Promise<{ owner: Pool; appRole: string | undefined }> {
  const connections = await prepareDatabase(config);
  const { appRole } = await migrateProjectionDatabase(connections);
  return { owner: createPool(connections.owner, { max: 1 }), appRole };
}

async function rebuild(
  config: Config,
  managed: ManagedReadModel,
  graceSeconds: number,
  io: ProjectionCommandIo,
): Promise<number> {
  const { owner, appRole } = await ownerOf(config);
  try {
    const generation = await beginGeneration(owner, managed.model, appRole);
    const otherLive = [...(await readGenerations(owner)).values()]
      .filter((row) => row.name !== managed.model.name)
      .map((row) => row.liveSchema);
    const path = searchPathOf([generation.buildingSchema!, ...otherLive]);
    io.stdout.write(
      `${managed.model.name}: building ${generation.buildingSchema} beside the live ${generation.liveSchema}\n`,
    );
    // The build writes as the apps' role, into the new generation first on its search_path.
    const pool = createPool(config.DATABASE_URL, { max: 2, onCheckout: searchPathOnCheckout(() => path) });
    const store = await createEventStore(config);
    try {
      const progress = progressReporter(io);
      const caughtUp = await buildGeneration({
        store,
        runner: managed.runner(pool, store),
        onProgress: progress.update,
        signal: io.signal,
      });
      progress.stop();
      if (!caughtUp) {
        io.stdout.write(
          `${managed.model.name}: stopped; ${generation.buildingSchema} keeps what it built, run rebuild again to resume\n`,
        );
        return 1;
      }
    } finally {
      await pool.end();
      await store.close();
    }
    // The indexes only the reads use, left out while it filled (decision 039).
    await completeGeneration(owner, managed.model, ({ table, definition, ms }) =>
      io.stdout.write(
        `${managed.model.name}: index on ${table} ${definition.trim()} built in ${(ms / 1000).toFixed(1)} s\n`,
      ),
    );
    return await switchAndDrop(owner, managed.model, graceSeconds, io);
  } finally {
    await owner.end();
  }
}

async function switchAndDrop(
  owner: Pool,
  model: RebuildableReadModel,
  graceSeconds: number,
  io: ProjectionCommandIo,
): Promise<number> {
  const switched = await switchGeneration(owner, model);
  io.stdout.write(
    `${model.name}: live is ${switched.liveSchema} (generation ${switched.generation}); ` +
      `the projection app's runner carries on from its checkpoint\n`,
  );
  if (graceSeconds > 0) {
    io.stdout.write(
      `${model.name}: dropping ${switched.retiredSchema} in ${graceSeconds} s (reads in flight finish)\n`,
    );
    if (!(await sleep(graceSeconds * 1000, io.signal))) {
      io.stdout.write(`${model.name}: not dropped; npm run projection -- drop-old ${model.name}\n`);
      return 0;
    }
  }
  const dropped = await dropRetiredGeneration(owner, model);
  io.stdout.write(`${model.name}: dropped ${dropped ?? 'nothing'}\n`);
  return 0;
}

async function dropOld(
  config: Config,
  model: RebuildableReadModel,
  io: ProjectionCommandIo,
): Promise<number> {
  const { owner } = await ownerOf(config);
  try {
    const dropped = await dropRetiredGeneration(owner, model);
    io.stdout.write(`${model.name}: ${dropped ? `dropped ${dropped}` : 'no retired generation'}\n`);
    return 0;
  } finally {
    await owner.end();
  }
}

/** A failed read's handler: a missing table (42P01, undefined_table) means the projection app never migrated this database. */
function whenNotMigrated(message: string): (error: { code?: string }) => never {
  return (error) => {
    if (error.code !== '42P01') throw error;
    throw new ThroughlineError('ILLEGAL_STATE', message);
  };
}

async function identityKeys(config: Config, limit: number, io: ProjectionCommandIo): Promise<number> {
  const block = config.IDENTITY_MAX_BLOCK ?? DEFAULT_CANDIDATE_LIMITS.block;
  const pool = createPool(config.DATABASE_URL, { max: 1 });
  try {
    const found = await broadKeys(pool, block, limit).catch(
      whenNotMigrated('no identity linker here yet: start the projection app (npm start) once'),
    );
    io.stdout.write(formatBroadKeys(found, block));
    return 0;
  } finally {
    await pool.end();
  }
}

/** The `identity-keys` report: one line per key, identifiers masked (`keyForReport`). */
export function formatBroadKeys(found: { total: number; keys: readonly BroadKey[] }, block: number): string {
  if (found.total === 0) return `no identity key is held by more than ${block} records\n`;
  const width = Math.max(...found.keys.map((key) => key.key.length));
  const lines = [
    `${found.total} identity key${found.total === 1 ? '' : 's'} held by more than ${block} records: ` +
      'too broad to find match candidates by (decision 026)' +
      (found.keys.length < found.total ? `; the ${found.keys.length} most held:` : ':'),
    ...found.keys.map((key) => `  ${key.key.padEnd(width)}  ${key.holders} records`),
  ];
  return `${lines.join('\n')}\n`;
}

async function status(
  config: Config,
  managed: Readonly<Record<string, ManagedReadModel>>,
  io: ProjectionCommandIo,
): Promise<number> {
  const pool = createPool(config.DATABASE_URL, { max: 1 });
  const store = await createEventStore(config);
  try {
    const [generations, head] = await Promise.all([
      readGenerations(pool).catch(
        whenNotMigrated(
          'no read models here yet: start the projection app (npm start) once, or run a rebuild',
        ),
      ),
      store.headPosition(),
    ]);
    const lines: string[] = [];
    for (const { model } of Object.values(managed)) {
      const row = generations.get(model.name);
      const live = row?.liveSchema ?? 'public';
      const checkpoint = await generationCheckpoint(pool, model, live);
      lines.push(
        `${model.name.padEnd(9)} live ${live} (generation ${row?.generation ?? 1}): ` +
          `checkpoint ${checkpoint} of head ${head}, ${head - checkpoint} behind`,
      );
      if (row?.buildingSchema) {
        const built = await generationCheckpoint(pool, model, row.buildingSchema);
        lines.push(
          `${''.padEnd(9)} building ${row.buildingSchema}: checkpoint ${built} of head ${head} (${percent(built, head)})`,
        );
      }
      if (row?.retiredSchema)
        lines.push(
          `${''.padEnd(9)} retired ${row.retiredSchema}: npm run projection -- drop-old ${model.name}`,
        );
    }
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await pool.end();
    await store.close();
  }
}

const percent = (position: bigint, head: bigint): string =>
  head === 0n ? '100%' : `${Math.floor(Number((position * 100n) / head))}%`;

/** How long until the head, at the rate since the build started (positions per second). */
function estimate(
  progress: BuildProgress,
  first: BuildProgress,
  startedAt: number,
): { rate: number; left: string } {
  const seconds = (performance.now() - startedAt) / 1000;
  const rate = seconds > 0 ? Number(progress.position - first.position) / seconds : 0;
  const remaining = Number(progress.head - progress.position);
  const left = rate > 0 ? `${Math.ceil(remaining / rate)} s` : '?';
  return { rate: Math.round(rate), left };
}

/** A bar on a terminal; otherwise a line every 2 s. Position, head, events/s and time left either way. */
function progressReporter(io: ProjectionCommandIo): {
  update: (progress: BuildProgress) => void;
  stop: () => void;
} {
  let first: BuildProgress | undefined;
  const startedAt = performance.now();
  let lastLine = 0;
  const bar = io.stderr.isTTY
    ? new SingleBar(
        {
          format: ' {bar} {value}/{total} | {rate} events/s | {left} left',
          stream: io.stderr as NodeJS.WriteStream,
        },
        Presets.shades_classic,
      )
    : undefined;
  return {
    update: (progress) => {
      first ??= progress;
      const { rate, left } = estimate(progress, first, startedAt);
      const [value, total] = [Number(progress.position), Math.max(Number(progress.head), 1)];
      if (bar) {
        if (progress === first) bar.start(total, value, { rate, left });
        bar.setTotal(total);
        bar.update(value, { rate, left });
      } else if (performance.now() - lastLine >= 2000 || progress.head - progress.position <= 0n) {
        lastLine = performance.now();
        io.stderr.write(
          `position ${value} of ${total} (${percent(progress.position, progress.head)}), ${rate} events/s, ${left} left\n`,
        );
      }
    },
    stop: () => bar?.stop(),
  };
}

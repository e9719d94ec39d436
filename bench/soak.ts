import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Pool } from 'pg';
import type { Agency } from '@throughline/contracts';
import { AGENCIES, createPool, topicNames } from '@throughline/platform';
import { DEMO_COHORT_OPTIONS, generateCohort } from '@throughline/synthetic';
import { projectRoot, type AppName, type AppProcess } from './app-process';
import { pollUntil } from './deadline';
import { benchAppUrl, createBenchDatabase, dropBenchDatabase } from './event-store-stages';
import type { AgencyEndpoint } from './gateway-intake';
import { benchStoreDatabaseUrl, benchTopicPrefix } from './options';
import { projectionCheckpoint, storeHeadPosition } from './progress';
import type { Figure } from './report';
import {
  consumerLag,
  databaseNameOf,
  startAgencies,
  startFleetApp,
  type FleetContext,
} from './scaleout-fleet';
import { percentile } from './stats';

/**
 * Sustained load (issue 16, item 7): BENCH_SOAK_SECONDS of events posted to the three agency
 * services at BENCH_SOAK_RATE events/s, with the recorder killed (SIGKILL) and started again at a
 * third of the time and the projection likewise at two thirds. Every second the stage samples
 * the recorder group's consumer lag (high watermarks − committed offsets, from the broker) and
 * the projection's checkpoint lag (store head − checkpoint: positions are gap-free, decision
 * 003, so the difference counts events). At the end, once both lags are back to zero, every
 * event an agency service accepted (202) must be in the store exactly once and in the timeline
 * read model exactly once; the run fails otherwise.
 */

/** Posts are made every tick, each agency's share of the tick as one batch. */
const TICK_MS = 250;
const SAMPLE_MS = 1000;
/**
 * A restarted recorder answers only once it has joined its group, and the group waits for the
 * killed member's session (30 s) to time out first; on a loaded machine that takes a while.
 */
const RESTART_TIMEOUT_MS = 180_000;
/** After the last post, both lags must reach zero within this. */
const DRAIN_TIMEOUT_MS = 180_000;
/** The soak's own cohort: not the bench's or the demo's seed, so no event id is shared. */
const SOAK_SEED = 16_000_007;
const EVENTS_PER_CHILD_ESTIMATE = 44;

interface SoakEvent {
  readonly agency: Agency;
  readonly eventId: string;
  readonly json: string;
}

interface Sample {
  /** Seconds since the load started. */
  readonly t: number;
  readonly accepted: number;
  readonly recorderLag: number;
  readonly projectionLag: number;
  readonly head: number;
}

interface Restart {
  readonly app: AppName;
  /** Seconds since the load started: the kill, the new process answering. */
  readonly killedAt: number;
  readonly readyAt: number;
}

/** Enough events for the whole soak, ordered by occurredAt (each record's events in order), kept as JSON only. */
function soakEvents(count: number): SoakEvent[] {
  for (let children = Math.ceil(count / EVENTS_PER_CHILD_ESTIMATE); ; children = Math.ceil(children * 1.25)) {
    const cohort = generateCohort({ ...DEMO_COHORT_OPTIONS, seed: SOAK_SEED, children });
    if (cohort.events.length >= count) {
      return cohort.events.slice(0, count).map((event) => ({
        agency: event.source.agency,
        eventId: event.eventId,
        json: JSON.stringify(event),
      }));
    }
  }
}

/**
 * A 503 means "nothing is confirmed, post them again" (decision 012's gateway contract): the
 * soak does what an agency system should, posts the same events (same ids) again after
 * Retry-After, up to this many times; only then is it a failure. Re-posting events that did
 * reach Kafka is what the store's idempotency by event id is for; the exactly-once check covers it.
 */
const POST_ATTEMPTS = 5;
let retriedPosts = 0;

async function postBatch(endpoint: AgencyEndpoint, events: readonly SoakEvent[]): Promise<number> {
  const body = `{"events":[${events.map((event) => event.json).join(',')}]}`;
  let response: Response;
  let text: string;
  for (let attempt = 1; ; attempt++) {
    response = await fetch(`${endpoint.url}/v1/events/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${endpoint.key}`, 'content-type': 'application/json' },
      body,
    });
    text = await response.text();
    if (response.status !== 503 || attempt === POST_ATTEMPTS) break;
    retriedPosts++;
    await delay(Number(response.headers.get('retry-after') ?? 1) * 1000);
  }
  if (response.status !== 202)
    throw new Error(`${endpoint.agency} answered ${response.status}: ${text.slice(0, 300)}`);
  const answer = JSON.parse(text) as { readonly results: readonly { readonly status: string }[] };
  let accepted = 0;
  answer.results.forEach((result, index) => {
    if (result.status === 'accepted') {
      acceptedIds.add(events[index].eventId);
      accepted++;
    }
  });
  return accepted;
}

// The ids of the events accepted in the current soak (one soak per process).
const acceptedIds = new Set<string>();

/**
 * Seconds from an app's kill to the first sample, taken once it answered again, whose lag is
 * zero; NaN when none was.
 */
function recovery(samples: readonly Sample[], lag: (sample: Sample) => number, restart: Restart): number {
  const zero = samples.find((sample) => sample.t >= restart.readyAt && lag(sample) === 0);
  return zero === undefined ? Number.NaN : zero.t - restart.killedAt;
}

function maxOf(samples: readonly Sample[], lag: (sample: Sample) => number): number {
  return samples.reduce((top, sample) => Math.max(top, lag(sample)), 0);
}

export async function measureSoak(context: FleetContext): Promise<Figure[]> {
  const { options, say, teardown, admin } = context;
  const { soakSeconds: seconds, soakRate: rate } = options;
  const total = seconds * rate;
  say(`soak: generating ${total} events (${rate} events/s for ${seconds} s)`);
  const events = soakEvents(total);
  acceptedIds.clear();
  retriedPosts = 0;

  const prefix = benchTopicPrefix(options, 'soak');
  const databaseUrl = benchStoreDatabaseUrl(options, 'soak');
  const env = context.appEnvironment(prefix, databaseUrl, `${prefix}recorder`);
  await createBenchDatabase(databaseUrl, benchAppUrl(databaseUrl, options.config.DATABASE_URL));
  teardown.add(`drop ${databaseNameOf(databaseUrl)}`, () => dropBenchDatabase(databaseUrl));
  context.grantAppAccess(env);
  const pool: Pool = createPool(databaseUrl, { max: 2 });
  teardown.add('close the soak pool', () => pool.end());
  const topics = Object.values(topicNames(prefix).agency);
  const groupId = env.RECORDER_GROUP_ID;
  const projectionName = env.PROJECTION_NAME;

  say('soak: starting the agency services, the recorder and the projection');
  const { endpoints } = await startAgencies(context, env, 'soak');
  let generation = 0;
  const start = async (name: AppName, timeoutMs?: number) =>
    startFleetApp(context, name, env, `soak-${name}-${++generation}`, timeoutMs);
  const running: Record<'recorder' | 'projection', AppProcess> = {
    recorder: await start('recorder'),
    projection: await start('projection'),
  };

  const samples: Sample[] = [];
  const restarts: Restart[] = [];
  const failures: string[] = [];
  let accepted = 0;
  let offered = 0;
  const began = performance.now();
  const now = () => (performance.now() - began) / 1000;

  // Sampling every second, from the first post to the end of the drain; a sample is started on
  // schedule even while an earlier one is still waiting for the broker (at most 3 at once), and
  // is dated when it started.
  let sampling = true;
  const sampleOnce = async (t: number, acceptedThen: number) => {
    try {
      const [recorderLag, head, checkpoint] = await Promise.all([
        consumerLag(admin, groupId, topics),
        storeHeadPosition(pool),
        projectionCheckpoint(pool, projectionName).catch(() => 0),
      ]);
      samples.push({
        t,
        accepted: acceptedThen,
        recorderLag,
        projectionLag: Math.max(0, head - checkpoint),
        head,
      });
    } catch (error) {
      failures.push(`sample at ${t.toFixed(0)} s: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const sampler = (async () => {
    const pending = new Set<Promise<void>>();
    let skipped = 0;
    for (let tick = 1; sampling; tick++) {
      const wait = began + tick * SAMPLE_MS - performance.now();
      if (wait > 0) await delay(wait);
      if (pending.size >= 3) {
        skipped++;
        continue;
      }
      const sample = sampleOnce(now(), accepted);
      pending.add(sample);
      void sample.finally(() => pending.delete(sample));
    }
    await Promise.all(pending);
    samples.sort((a, b) => a.t - b.t);
    if (skipped > 0) say(`soak: ${skipped} samples skipped (three still waiting)`);
  })();

  const logFile = join(projectRoot(), 'bench', 'results', 'logs', 'soak-lag.csv');
  const writeSamples = () => {
    mkdirSync(join(projectRoot(), 'bench', 'results', 'logs'), { recursive: true });
    writeFileSync(
      logFile,
      't_s,accepted,recorder_lag,projection_lag,head\n' +
        samples
          .map((s) => `${s.t.toFixed(1)},${s.accepted},${s.recorderLag},${s.projectionLag},${s.head}`)
          .join('\n') +
        '\n',
    );
  };

  const restart = async (name: 'recorder' | 'projection') => {
    const killedAt = now();
    process.kill(running[name].pid, 'SIGKILL');
    say(`soak ${killedAt.toFixed(0)} s: ${name} killed (SIGKILL); starting it again`);
    try {
      running[name] = await start(name, RESTART_TIMEOUT_MS);
      restarts.push({ app: name, killedAt, readyAt: now() });
      say(`soak ${now().toFixed(0)} s: ${name} answering again`);
    } catch (error) {
      failures.push(`restart of ${name}: ${error instanceof Error ? error.message : String(error)}`);
      restarts.push({ app: name, killedAt, readyAt: Number.NaN });
    }
  };

  // The load: each tick posts the next events, each agency's share as one batch (open loop).
  const perTick = (rate * TICK_MS) / 1000;
  const ticks = Math.round((seconds * 1000) / TICK_MS);
  const inFlight = new Set<Promise<void>>();
  const restartsDone: Promise<void>[] = [];
  for (let tick = 0; tick < ticks; tick++) {
    const wait = began + tick * TICK_MS - performance.now();
    if (wait > 0) await delay(wait);
    if (tick === Math.round(ticks / 3)) restartsDone.push(restart('recorder'));
    if (tick === Math.round((2 * ticks) / 3)) restartsDone.push(restart('projection'));
    const slice = events.slice(Math.round(tick * perTick), Math.round((tick + 1) * perTick));
    offered += slice.length;
    for (const agency of AGENCIES) {
      const batch = slice.filter((event) => event.agency === agency);
      if (batch.length === 0) continue;
      const endpoint = endpoints.find((candidate) => candidate.agency === agency)!;
      const post: Promise<void> = postBatch(endpoint, batch).then(
        (count) => {
          accepted += count;
        },
        (error: unknown) => {
          failures.push(
            `POST at ${now().toFixed(0)} s: ${error instanceof Error ? error.message : String(error)}`,
          );
        },
      );
      inFlight.add(post);
      void post.finally(() => inFlight.delete(post));
    }
  }
  await Promise.all(inFlight);
  await Promise.all(restartsDone);
  const loadEndedAt = now();
  if (failures.some((failure) => failure.startsWith('restart of'))) {
    sampling = false;
    await sampler;
    writeSamples();
    throw new Error(`soak failed:\n  ${failures.join('\n  ')}`);
  }
  say(
    `soak ${loadEndedAt.toFixed(0)} s: load done (${accepted} of ${offered} accepted); waiting for both lags to reach zero`,
  );

  // Drained: every accepted event stored and the projection at the head.
  await pollUntil(
    async () => {
      const last = samples.at(-1);
      return last !== undefined && last.t > loadEndedAt && last.recorderLag === 0 && last.projectionLag === 0;
    },
    { stage: 'soak drain', timeoutMs: DRAIN_TIMEOUT_MS, intervalMs: 200 },
  ).catch((error: unknown) => {
    sampling = false;
    writeSamples();
    throw error;
  });
  const drainedAt = now();
  sampling = false;
  await sampler;
  writeSamples();

  // Exactly once: every accepted id stored once and projected once.
  const ids = [...acceptedIds];
  const stored = await pool.query<{ rows: string; distinct: string }>(
    'SELECT count(*) AS rows, count(DISTINCT event_id) AS distinct FROM events WHERE event_id = ANY($1::uuid[])',
    [ids],
  );
  const projected = await pool.query<{ rows: string; distinct: string }>(
    'SELECT count(*) AS rows, count(DISTINCT event_id) AS distinct FROM timeline_entries WHERE event_id = ANY($1::text[])',
    [ids],
  );
  const agencyRows = await pool.query<{ rows: string }>(
    `SELECT count(*) AS rows FROM events WHERE metadata->>'topic' = ANY($1::text[])`,
    [topics],
  );
  const storedRows = Number(stored.rows[0].rows);
  const storedDistinct = Number(stored.rows[0].distinct);
  const projectedRows = Number(projected.rows[0].rows);
  const projectedDistinct = Number(projected.rows[0].distinct);
  const checks = [
    [
      storedRows === ids.length && storedDistinct === ids.length,
      `stored ${storedRows} rows (${storedDistinct} distinct) of ${ids.length} accepted`,
    ],
    [
      projectedRows === ids.length && projectedDistinct === ids.length,
      `projected ${projectedRows} entries (${projectedDistinct} distinct) of ${ids.length} accepted`,
    ],
    [accepted === ids.length, `${accepted} accepted counted, ${ids.length} distinct ids`],
  ] as const;

  const recorderRestart = restarts.find((entry) => entry.app === 'recorder')!;
  const projectionRestart = restarts.find((entry) => entry.app === 'projection')!;
  const recorderLag = (sample: Sample) => sample.recorderLag;
  const projectionLag = (sample: Sample) => sample.projectionLag;
  const quiet = samples.filter(
    (sample) =>
      sample.t < recorderRestart.killedAt - 1 ||
      (sample.t > recorderRestart.killedAt + 60 && sample.t < projectionRestart.killedAt - 1),
  );
  const recorderBack = recovery(samples, recorderLag, recorderRestart);
  const projectionBack = recovery(samples, projectionLag, projectionRestart);
  const recorderBackAfterRestart = recovery(samples, projectionLag, recorderRestart);
  say(
    `soak: recorder lag max ${maxOf(samples, recorderLag)} events, back to 0 ${recorderBack.toFixed(0)} s after its kill ` +
      `(ready again after ${(recorderRestart.readyAt - recorderRestart.killedAt).toFixed(1)} s); projection lag max ` +
      `${maxOf(samples, projectionLag)} events, back to 0 ${projectionBack.toFixed(0)} s after its kill (ready again after ` +
      `${(projectionRestart.readyAt - projectionRestart.killedAt).toFixed(1)} s); drained ${(drainedAt - loadEndedAt).toFixed(1)} s after the last post; ` +
      `${agencyRows.rows[0].rows} agency events stored in all; ${retriedPosts} POSTs retried after a 503; ${checks.map(([, text]) => text).join('; ')}; samples in ${logFile}`,
  );
  for (const [ok, text] of checks) if (!ok) failures.push(text);
  if (failures.length > 0) {
    throw new Error(
      `soak failed:\n  ${failures.slice(0, 20).join('\n  ')}${failures.length > 20 ? `\n  … ${failures.length - 20} more` : ''}`,
    );
  }

  const at = `${rate} events/s offered for ${seconds} s to the three agency services (a batch per agency every ${TICK_MS} ms), ${accepted} accepted`;
  const quietNote = (lag: (sample: Sample) => number) =>
    `p99 of the 1-s samples away from the restarts ${percentile(quiet.map(lag), 99)}, max ${maxOf(quiet, lag)}`;
  return [
    { name: 'soak.accepted_events_per_s', value: accepted / loadEndedAt, unit: 'events/s', note: at },
    {
      name: 'soak.posts_retried',
      value: retriedPosts,
      unit: 'requests',
      note: `POSTs answered 503 (Kafka did not acknowledge within the gateway's timeout) and posted again with the same events after Retry-After, up to ${POST_ATTEMPTS} attempts`,
    },
    {
      name: 'soak.recorder.lag_max_events',
      value: maxOf(samples, recorderLag),
      unit: 'events',
      note:
        `the recorder group's consumer lag (high watermarks − committed offsets over the agency topics), sampled every ` +
        `second over the whole soak; the recorder was killed (SIGKILL) at ${recorderRestart.killedAt.toFixed(0)} s and ` +
        `answered again ${(recorderRestart.readyAt - recorderRestart.killedAt).toFixed(1)} s later; ${quietNote(recorderLag)}`,
    },
    {
      name: 'soak.recorder.back_to_zero_s',
      value: recorderBack,
      unit: 's',
      note: `from the recorder's kill to the first sample with zero consumer lag (the projection's lag back to zero ${recorderBackAfterRestart.toFixed(0)} s after it)`,
    },
    {
      name: 'soak.projection.lag_max_events',
      value: maxOf(samples, projectionLag),
      unit: 'events',
      note:
        `store head − the projection's checkpoint, sampled every second; the projection was killed (SIGKILL) at ` +
        `${projectionRestart.killedAt.toFixed(0)} s and answered again ${(projectionRestart.readyAt - projectionRestart.killedAt).toFixed(1)} s later; ${quietNote(projectionLag)}`,
    },
    {
      name: 'soak.projection.back_to_zero_s',
      value: projectionBack,
      unit: 's',
      note: "from the projection's kill to the first sample with zero checkpoint lag",
    },
    {
      name: 'soak.exactly_once.events',
      value: ids.length,
      unit: 'events',
      note:
        `every accepted event id found once in the store and once in timeline_entries (checked at the end, the run fails ` +
        `otherwise); both lags were zero ${(drainedAt - loadEndedAt).toFixed(1)} s after the last post`,
    },
  ];
}

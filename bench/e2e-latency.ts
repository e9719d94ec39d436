import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Pool } from 'pg';
import type { AgencyEvent } from '@throughline/contracts';
import { PreparedStatement } from '@throughline/platform';
import { withDeadline } from './deadline';
import { publish, type AgencyEndpoint } from './gateway-intake';
import { httpRequest } from './http';
import { fireAtFixedRate } from './pacing';
import { toBenchEvent } from './payloads';
import { elapsedMs, summariseLatencies, type LatencySummary } from './stats';

/**
 * End-to-end latency as a practitioner would see it: from the agency service's 202 to a
 * GET /v1/children/:childKey/timeline response that lists the entry, with the recorder and
 * the projection running as their own processes.
 *
 * Polling the timeline itself every few milliseconds would load the projection process
 * (each read renders the whole chronology and writes an access-log row) and so inflate what
 * it measures. Instead one watcher asks the database every interval which pending events the
 * projection's committed checkpoint covers (the read models and the checkpoint commit in one
 * transaction, so those entries are readable from then on); then one timeline read per event
 * confirms it is listed, and that response's arrival is the event's "visible" time. If the
 * read does not list it, the timeline is read again until it does (counted as a miss).
 */

/**
 * Who the bench is when it reads timelines: a demo person's bearer token from the run's own
 * OpenID provider and a purpose (every read is checked by the access policy and recorded).
 */
export type ReaderHeaders = Readonly<Record<string, string>>;

export interface ProbeChild {
  readonly childKey: string;
  /** One of the child's recorded health events; probe events are copies with fresh ids. */
  readonly template: AgencyEvent;
}

export interface LatencyProbeOptions {
  readonly count: number;
  readonly ratePerSecond: number;
  readonly pollIntervalMs: number;
  readonly timeoutMs: number;
  /** The projection's checkpoint row (PROJECTION_NAME). */
  readonly projectionName: string;
  /** The reader's headers, fetched again when its token may have expired. */
  readonly reader: () => Promise<ReaderHeaders>;
}

export interface E2eLatency {
  /** 202 → a timeline response listing the entry. */
  readonly visible: LatencySummary;
  /** 202 → the projection's committed checkpoint covers the event. */
  readonly projected: LatencySummary;
  /** The gateway's leg: POST sent → 202 (the agency service's checks and Kafka's acknowledgement). */
  readonly published: LatencySummary;
  /** The query's leg: the confirming timeline GET, request sent → body parsed. */
  readonly queried: LatencySummary;
  readonly timelineReads: number;
  /** Confirming reads that did not list an event the checkpoint covered (should be 0). */
  readonly misses: number;
  /** Wall-clock time (epoch ms, sub-ms precision) of each probe event's 202, to split the latency afterwards. */
  readonly acceptedAtWallMs: ReadonlyMap<string, number>;
  /** Wall-clock time of each probe event's checkpoint seen covering it. */
  readonly projectedAtWallMs: ReadonlyMap<string, number>;
}

/** Wall-clock milliseconds (sub-ms precision), comparable with the database's timestamps on this machine. */
const wallMs = () => performance.timeOrigin + performance.now();

interface TimelineBody {
  readonly entries: readonly { readonly lineage: { readonly eventId: string } }[];
}

async function timelineEventIds(
  projectionUrl: string,
  childKey: string,
  reader: ReaderHeaders,
): Promise<Set<string>> {
  const response = await httpRequest(
    `${projectionUrl}/v1/children/${encodeURIComponent(childKey)}/timeline`,
    { headers: reader },
  );
  if (response.status !== 200)
    throw new Error(`timeline of ${childKey} answered ${response.status}: ${response.text.slice(0, 500)}`);
  const body = JSON.parse(response.text) as TimelineBody;
  return new Set(body.entries.map((entry) => entry.lineage.eventId));
}

/** The child key of an agency record, through the lookup endpoint (identifiers never go in URLs). */
export async function lookupChildKey(
  projectionUrl: string,
  event: AgencyEvent,
  reader: ReaderHeaders,
): Promise<string> {
  const response = await fetch(`${projectionUrl}/v1/children/lookup`, {
    method: 'POST',
    headers: { ...reader, 'content-type': 'application/json' },
    body: JSON.stringify({
      identifier: { type: 'record', agency: event.source.agency, value: event.subject.recordId },
    }),
  });
  if (!response.ok) throw new Error(`lookup of ${event.subject.recordId} answered ${response.status}`);
  return ((await response.json()) as { childKey: string }).childKey;
}

interface Waiter {
  readonly resolve: (at: bigint) => void;
  readonly reject: (error: unknown) => void;
}

/** Which pending events the projection's checkpoint covers (prepared: parsed once, run every few ms). */
const PROJECTED = new PreparedStatement<{ event_id: string }>(
  'bench-projected',
  `SELECT e.event_id FROM events e JOIN projection_checkpoints c ON c.name = $2
   WHERE e.event_id = ANY($1::uuid[]) AND e.position <= c.position`,
);

/** One query per interval, for every pending event at once, straight to the database: no load on the apps. */
class CheckpointWatcher {
  private readonly pending = new Map<string, Waiter>();
  private polling = false;

  constructor(
    private readonly pool: Pool,
    private readonly projectionName: string,
    private readonly intervalMs: number,
  ) {}

  waitUntilProjected(eventId: string): Promise<bigint> {
    return new Promise<bigint>((resolve, reject) => {
      this.pending.set(eventId, { resolve, reject });
      if (!this.polling) void this.poll();
    });
  }

  private async poll(): Promise<void> {
    this.polling = true;
    try {
      while (this.pending.size > 0) {
        const result = await PROJECTED.run(this.pool, [[...this.pending.keys()], this.projectionName]);
        const at = process.hrtime.bigint();
        for (const { event_id: eventId } of result.rows) {
          this.pending.get(eventId)?.resolve(at);
          this.pending.delete(eventId);
        }
        await delay(this.intervalMs);
      }
    } catch (error) {
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    } finally {
      this.polling = false;
    }
  }
}

/** Single events at a fixed rate, round-robin over the probe children, each timed to its timeline. */
export async function measureE2eLatency(
  health: AgencyEndpoint,
  projectionUrl: string,
  pool: Pool,
  children: readonly ProbeChild[],
  options: LatencyProbeOptions,
): Promise<E2eLatency> {
  if (children.length === 0) throw new Error('the latency probe needs at least one child');
  const checkpoints = new CheckpointWatcher(pool, options.projectionName, options.pollIntervalMs);
  const visible: number[] = [];
  const projected: number[] = [];
  const published: number[] = [];
  const queried: number[] = [];
  const acceptedAtWallMs = new Map<string, number>();
  const projectedAtWallMs = new Map<string, number>();
  let timelineReads = 0;
  let misses = 0;

  await withDeadline('e2e.latency', options.timeoutMs, (signal) =>
    fireAtFixedRate(
      options.count,
      options.ratePerSecond,
      async (index) => {
        const child = children[index % children.length];
        const event = toBenchEvent({ ...child.template, eventId: randomUUID() });
        const postedAt = process.hrtime.bigint();
        await publish(health, [event]);
        const acceptedAt = process.hrtime.bigint();
        acceptedAtWallMs.set(event.eventId, wallMs());
        published.push(elapsedMs(postedAt, acceptedAt));

        projected.push(elapsedMs(acceptedAt, await checkpoints.waitUntilProjected(event.eventId)));
        projectedAtWallMs.set(event.eventId, wallMs());
        while (!signal.aborted) {
          const reader = await options.reader();
          const askedAt = process.hrtime.bigint();
          const listed = await timelineEventIds(projectionUrl, child.childKey, reader);
          const arrivedAt = process.hrtime.bigint();
          queried.push(elapsedMs(askedAt, arrivedAt));
          timelineReads++;
          if (listed.has(event.eventId)) {
            visible.push(elapsedMs(acceptedAt, arrivedAt));
            return;
          }
          misses++;
          await delay(options.pollIntervalMs);
        }
      },
      signal,
    ),
  );
  return {
    visible: summariseLatencies(visible),
    projected: summariseLatencies(projected),
    published: summariseLatencies(published),
    queried: summariseLatencies(queried),
    timelineReads,
    misses,
    acceptedAtWallMs,
    projectedAtWallMs,
  };
}

/**
 * The middle legs of each probe event, read from the store after the probe so that measuring
 * them adds no load while it runs: the 202 to the start of the recorder's append transaction
 * (`recorded_at` is now() in that transaction: Kafka's delivery and the recorder's batch), and
 * from there to the projection's checkpoint seen covering the event (the append's commit, the
 * NOTIFY, the projection's batch and its commit, and up to one checkpoint poll).
 */
export async function measureMiddleLegs(
  pool: Pool,
  acceptedAtWallMs: ReadonlyMap<string, number>,
  projectedAtWallMs: ReadonlyMap<string, number>,
): Promise<{ recorded: LatencySummary; recordedToProjected: LatencySummary }> {
  const result = await pool.query<{ event_id: string; recorded_ms: string }>(
    'SELECT event_id, extract(epoch FROM recorded_at) * 1000 AS recorded_ms FROM events WHERE event_id = ANY($1::uuid[])',
    [[...acceptedAtWallMs.keys()]],
  );
  if (result.rows.length !== acceptedAtWallMs.size) {
    throw new Error(`the store holds ${result.rows.length} of ${acceptedAtWallMs.size} probe events`);
  }
  return {
    recorded: summariseLatencies(
      result.rows.map((row) => Number(row.recorded_ms) - acceptedAtWallMs.get(row.event_id)!),
    ),
    recordedToProjected: summariseLatencies(
      result.rows
        .filter((row) => projectedAtWallMs.has(row.event_id))
        .map((row) => projectedAtWallMs.get(row.event_id)! - Number(row.recorded_ms)),
    ),
  };
}

import { Logger } from '@nestjs/common';
import type { ClientBase, Pool } from 'pg';
import {
  EVENT_TYPES,
  parseAgencyEvent,
  streamIdOf,
  type AgencyEvent,
  type EventType,
} from '@throughline/contracts';
import type { EventStore, EventToAppend, RecordedEvent, Subscription } from '@throughline/event-store';
import {
  ConcurrencyError,
  ThroughlineError,
  UnavailableError,
  migrate,
  migrationsDirectory,
  readMigrations,
} from '@throughline/platform';
import { namespaceOf } from './deterministic';
import {
  identityStreamOf,
  isIdentityEventType,
  orderedPair,
  parseIdentityEvent,
  proposalStreamOf,
  uuidV5,
  type IdentityEvent,
} from './events';
import { decideLinks, type LinkOutcome, type PairState } from './link-decision';
import { DEFAULT_MATCH_MODEL, blockingKeys, type MatchModel } from './probabilistic';
import { evolveSubject, subjectOf, type SubjectSnapshot } from './subject';

export function identityMigrationsDirectory(): string {
  return migrationsDirectory('identity');
}

export async function migrateIdentity(pool: Pool): Promise<number[]> {
  return migrate(pool, 'identity', readMigrations(identityMigrationsDirectory()));
}

/** The linker's state tables (not the audit log): emptied to replay the linker from zero. */
export const LINKER_STATE_TABLES = [
  'identity_subjects',
  'identity_subject_keys',
  'identity_pairs',
  'identity_proposals',
  'identity_conflicts',
] as const;

export const DEFAULT_LINKER_NAME = 'identity-linker';
/**
 * Events per batch transaction, as the projector's. A batch costs a few round trips of its own
 * (checkpoint, the subjects it touches, the last-seen update, commit): 500 caught up a few per
 * cent faster than 200 on synthetic cohorts, 1,000 hardly more.
 */
export const DEFAULT_LINKER_BATCH_SIZE = 500;

/** Empties the linker's state and resets its checkpoint, so it replays the whole store. Not while running. */
export async function resetIdentityLinker(pool: Pool, name = DEFAULT_LINKER_NAME): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`TRUNCATE ${LINKER_STATE_TABLES.join(', ')}`);
    await client.query(
      `INSERT INTO identity_linker_checkpoints (name, position) VALUES ($1, 0)
       ON CONFLICT (name) DO UPDATE SET position = 0, updated_at = now()`,
      [name],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** An identity event to append, with the stream it goes to and its deterministic id. */
export interface PendingIdentityEvent {
  readonly streamId: string;
  readonly eventId: string;
  readonly event: IdentityEvent;
}

const AGENCY_TYPES = new Set<string>(EVENT_TYPES);
/** Most candidates scored per record and key set; blocking keys keep real sets far smaller. */
const MAX_CANDIDATES = 200;

/** Canonical JSON (sorted keys), so a snapshot read back from jsonb compares equal to a fresh one. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A snapshot without the bookkeeping of when it was last seen. */
function whoIs(snapshot: SubjectSnapshot): Omit<SubjectSnapshot, 'observedAt'> {
  const { observedAt: _observedAt, ...who } = snapshot;
  return who;
}

function keysOf(snapshot: SubjectSnapshot): string[] {
  const keys = new Set<string>();
  for (const period of snapshot.identifiers) keys.add(`id:${namespaceOf(period.kind)}:${period.value}`);
  for (const key of blockingKeys(snapshot)) keys.add(`block:${key}`);
  return [...keys].sort();
}

/** A subject as it stands in this batch, with who it is in canonical form (computed once). */
interface KnownSubject {
  readonly snapshot: SubjectSnapshot;
  /** canonical(whoIs(snapshot)): equal for two snapshots that differ at most in observedAt. */
  readonly identity: string;
}

function known(snapshot: SubjectSnapshot): KnownSubject {
  return { snapshot, identity: canonical(whoIs(snapshot)) };
}

/** The records around a subject whose identity changed, and the judgements among them. */
interface Neighbourhood {
  readonly candidates: readonly SubjectSnapshot[];
  /** Records linked to the subject already (a new link must not bridge them to a contradiction). */
  readonly partners: readonly SubjectSnapshot[];
  /** Judgements on every pair among the subject, its candidates and its partners, keyed `a|b` (a < b). */
  readonly states: ReadonlyMap<string, PairState>;
}

/**
 * The linker's reads and writes of its own state, inside the batch transaction. Subjects are
 * read once per batch and kept in memory; a subject whose only change is when it was last seen
 * is written with the others at the end of the batch (flushSeen), since nothing in the batch
 * reads that from the table: snapshots read back (candidates, partners) are replaced by the
 * batch's own, newer ones. A subject whose identity changed is written at once, keys and all,
 * so a later event of the same batch finds it as a candidate.
 */
class LinkerState {
  /** Every subject of the batch read or written so far; null when it has no row yet. */
  private readonly subjects = new Map<string, KnownSubject | null>();
  /** Subjects whose row is behind only in observedAt: the newest snapshot and the position that moved it. */
  private readonly seen = new Map<string, { snapshot: SubjectSnapshot; position: bigint }>();

  constructor(private readonly client: ClientBase) {}

  /** Reads the subjects of `streamIds` not read yet, in one query. */
  async load(streamIds: Iterable<string>): Promise<void> {
    const missing = [...new Set(streamIds)].filter((streamId) => !this.subjects.has(streamId));
    if (missing.length === 0) return;
    const result = await this.client.query<{ stream_id: string; snapshot: SubjectSnapshot }>(
      'SELECT stream_id, snapshot FROM identity_subjects WHERE stream_id = ANY($1::text[])',
      [missing],
    );
    for (const streamId of missing) this.subjects.set(streamId, null);
    for (const row of result.rows) this.subjects.set(row.stream_id, known(row.snapshot));
  }

  async subject(streamId: string): Promise<KnownSubject | undefined> {
    await this.load([streamId]);
    return this.subjects.get(streamId) ?? undefined;
  }

  /** The batch's own snapshot of a subject when it has one: the table may be behind in observedAt. */
  private latest(stored: SubjectSnapshot): SubjectSnapshot {
    return this.subjects.get(stored.streamId)?.snapshot ?? stored;
  }

  /** Who the subject is changed: its row and its keys are written now. */
  async saveSubject(subject: KnownSubject, keys: readonly string[], position: bigint): Promise<void> {
    const { snapshot } = subject;
    await this.client.query(
      `WITH saved AS (
         INSERT INTO identity_subjects (stream_id, snapshot, first_seen_position, last_changed_position)
         VALUES ($1, $2, $3, $3)
         ON CONFLICT (stream_id) DO UPDATE
           SET snapshot = excluded.snapshot, last_changed_position = excluded.last_changed_position),
       gone AS (DELETE FROM identity_subject_keys WHERE stream_id = $1 AND NOT (key = ANY($4::text[])))
       INSERT INTO identity_subject_keys (key, stream_id) SELECT unnest($4::text[]), $1 ON CONFLICT DO NOTHING`,
      [snapshot.streamId, JSON.stringify(snapshot), position.toString(), keys],
    );
    this.subjects.set(snapshot.streamId, subject);
    this.seen.delete(snapshot.streamId);
  }

  /** Only the time the subject was last seen moved: its row is brought up to date by flushSeen. */
  markSeen(subject: KnownSubject, position: bigint): void {
    this.subjects.set(subject.snapshot.streamId, subject);
    this.seen.set(subject.snapshot.streamId, { snapshot: subject.snapshot, position });
  }

  /** Writes every subject marked seen, in one statement. */
  async flushSeen(): Promise<void> {
    if (this.seen.size === 0) return;
    const rows = [...this.seen.values()];
    await this.client.query(
      `UPDATE identity_subjects AS s SET snapshot = seen.snapshot, last_changed_position = seen.position
       FROM unnest($1::text[], $2::jsonb[], $3::bigint[]) AS seen (stream_id, snapshot, position)
       WHERE s.stream_id = seen.stream_id`,
      [
        rows.map((row) => row.snapshot.streamId),
        rows.map((row) => JSON.stringify(row.snapshot)),
        rows.map((row) => row.position.toString()),
      ],
    );
    this.seen.clear();
  }

  /**
   * What a decision on `subject` needs, in one round trip: its candidates (other records
   * sharing any of `keys`, at most MAX_CANDIDATES), the records linked to it, and the
   * judgements on every pair among all of them, keyed `a|b` (a < b). Snapshots come back in
   * stream order, the batch's own where it has a newer one.
   */
  async neighbourhood(subject: SubjectSnapshot, keys: readonly string[]): Promise<Neighbourhood> {
    const result = await this.client.query<
      | { role: 'candidate' | 'partner'; stream_id: string; snapshot: SubjectSnapshot }
      | { role: 'pair'; stream_id: string; other: string; state: PairState }
    >(
      `WITH candidate AS (
         SELECT s.stream_id, s.snapshot FROM identity_subjects s
         WHERE s.stream_id IN (
           SELECT DISTINCT stream_id FROM identity_subject_keys WHERE key = ANY($2::text[]) AND stream_id <> $1
           ORDER BY stream_id LIMIT $3)),
       partner AS (
         SELECT s.stream_id, s.snapshot FROM identity_pairs p
         JOIN identity_subjects s ON s.stream_id = CASE WHEN p.subject_a = $1 THEN p.subject_b ELSE p.subject_a END
         WHERE (p.subject_a = $1 OR p.subject_b = $1) AND p.state = 'linked'),
       everyone AS (
         SELECT $1::text AS stream_id UNION SELECT stream_id FROM candidate UNION SELECT stream_id FROM partner)
       SELECT 'candidate' AS role, stream_id, snapshot, NULL AS other, NULL AS state FROM candidate
       UNION ALL
       SELECT 'partner', stream_id, snapshot, NULL, NULL FROM partner
       UNION ALL
       SELECT 'pair', subject_a, NULL, subject_b, state FROM identity_pairs
       WHERE subject_a IN (SELECT stream_id FROM everyone) AND subject_b IN (SELECT stream_id FROM everyone)
       ORDER BY 1, 2`,
      [subject.streamId, keys, MAX_CANDIDATES],
    );
    const candidates: SubjectSnapshot[] = [];
    const partners: SubjectSnapshot[] = [];
    const states = new Map<string, PairState>();
    for (const row of result.rows) {
      if (row.role === 'pair') states.set(`${row.stream_id}|${row.other}`, row.state);
      else (row.role === 'candidate' ? candidates : partners).push(this.latest(row.snapshot));
    }
    return { candidates, partners, states };
  }

  /**
   * Sets a pair's judgement. `when` says which current states it may replace: a person's
   * decision and a link replace anything; a proposal or a conflict only fills an empty or proposed pair.
   */
  async setPair(a: string, b: string, state: PairState, position: bigint): Promise<void> {
    if (a === b) return;
    const [first, second] = orderedPair(a, b);
    const overrides =
      state === 'proposed' ? 'false' : state === 'conflict' ? "identity_pairs.state = 'proposed'" : 'true';
    await this.client.query(
      `INSERT INTO identity_pairs (subject_a, subject_b, state, changed_at_position) VALUES ($1, $2, $3, $4)
       ON CONFLICT (subject_a, subject_b) DO UPDATE SET state = excluded.state, changed_at_position = excluded.changed_at_position
       WHERE ${overrides} AND identity_pairs.state <> excluded.state`,
      [first, second, state, position.toString()],
    );
  }

  /** Applies an identity event (the linker's own or a person's); applying it twice changes nothing. */
  async apply(event: IdentityEvent, position: bigint): Promise<void> {
    switch (event.type) {
      case 'identity.subject.linked': {
        const { subject, linkedTo } = event.data;
        await this.setPair(subject, linkedTo, 'linked', position);
        const [a, b] = orderedPair(subject, linkedTo);
        await this.client.query(
          `UPDATE identity_proposals SET status = 'superseded'
           WHERE status = 'open' AND least(subject, candidate) = $1 AND greatest(subject, candidate) = $2`,
          [a, b],
        );
        return;
      }
      case 'identity.subject.unlinked':
        for (const member of event.data.formerMembers)
          await this.setPair(event.data.subject, member, 'unlinked', position);
        return;
      case 'identity.conflict.flagged': {
        const { conflictId, subject, others, rule, shared, conflicts, at } = event.data;
        await this.client.query(
          `INSERT INTO identity_conflicts (conflict_id, subject, others, rule, detail, flagged_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
          [conflictId, subject, others, rule, JSON.stringify({ shared, conflicts }), at],
        );
        for (const other of others) await this.setPair(subject, other, 'conflict', position);
        return;
      }
      case 'identity.match.proposed': {
        const { proposalId, subject, candidate, score, threshold, evidence, at } = event.data;
        await this.client.query(
          `INSERT INTO identity_proposals (proposal_id, subject, candidate, score, threshold, evidence, status, proposed_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) ON CONFLICT DO NOTHING`,
          [proposalId, subject, candidate, score, threshold, JSON.stringify(evidence), at],
        );
        await this.setPair(subject, candidate, 'proposed', position);
        return;
      }
      case 'identity.match.confirmed':
      case 'identity.match.rejected': {
        const confirmed = event.type === 'identity.match.confirmed';
        const { proposalId, subject, candidate, by, at, reason } = event.data;
        await this.client.query(
          `UPDATE identity_proposals SET status = $2, decided_by = $3, decided_at = $4, reason = $5
           WHERE proposal_id = $1`,
          [proposalId, confirmed ? 'confirmed' : 'rejected', JSON.stringify(by), at, reason ?? null],
        );
        await this.setPair(subject, candidate, confirmed ? 'linked' : 'rejected', position);
        return;
      }
      default:
        return assertNever(event);
    }
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled identity event ${JSON.stringify(value)}`);
}

function eventsOf(
  outcomes: readonly LinkOutcome[],
  subject: string,
  trigger: RecordedEvent,
  model: MatchModel,
): PendingIdentityEvent[] {
  const at = trigger.recordedAt.toISOString();
  const by = { type: 'linker' as const };
  return outcomes.map((outcome): PendingIdentityEvent => {
    switch (outcome.kind) {
      case 'link':
        return {
          streamId: identityStreamOf(subject),
          eventId: uuidV5(`identity.subject.linked|${trigger.eventId}|${subject}|${outcome.with}`),
          event: {
            type: 'identity.subject.linked',
            data: {
              subject,
              linkedTo: outcome.with,
              method: outcome.method as 'shared-nhs-number',
              shared: outcome.shared.map(({ kind, value }) => ({ kind, value })),
              by,
              at,
            },
          },
        };
      case 'conflict': {
        const conflictId = uuidV5(`conflict|${trigger.eventId}|${subject}|${outcome.others.join(',')}`);
        return {
          streamId: identityStreamOf(subject),
          eventId: uuidV5(`identity.conflict.flagged|${conflictId}`),
          event: {
            type: 'identity.conflict.flagged',
            data: {
              conflictId,
              subject,
              others: [...outcome.others],
              rule: outcome.rule,
              shared: outcome.shared.map(({ kind, value, with: other }) => ({ kind, value, with: other })),
              conflicts: outcome.conflicts.map(({ kind, values, between }) => ({
                kind,
                ...(values ? { values: [values[0], values[1]] as [string, string] } : {}),
                between: [between[0], between[1]] as [string, string],
              })),
              by,
              at,
            },
          },
        };
      }
      case 'propose': {
        const [a, b] = orderedPair(subject, outcome.with);
        const proposalId = uuidV5(`proposal|${a}|${b}`);
        return {
          streamId: proposalStreamOf(proposalId),
          eventId: uuidV5(`identity.match.proposed|${proposalId}`),
          event: {
            type: 'identity.match.proposed',
            data: {
              proposalId,
              subject,
              candidate: outcome.with,
              score: outcome.score.score,
              threshold: model.proposeAt,
              evidence: outcome.score.evidence.map((item) => ({ ...item })),
              by,
              at,
            },
          },
        };
      }
      default:
        return assertNever(outcome);
    }
  });
}

/** Folds one agency event into its subject and decides the identity events it calls for. */
async function linkSubject(
  state: LinkerState,
  event: AgencyEvent,
  recorded: RecordedEvent,
  model: MatchModel,
): Promise<PendingIdentityEvent[]> {
  const facts = subjectOf(event);
  const previous = await state.subject(facts.streamId);
  const current = known(evolveSubject(previous?.snapshot, facts, event.occurredAt));
  if (previous && previous.identity === current.identity) {
    // Nothing new about who this is, nothing to decide; at most the time it was last seen moved.
    if (previous.snapshot.observedAt !== current.snapshot.observedAt)
      state.markSeen(current, recorded.position);
    return [];
  }
  const subject = current.snapshot;
  const keys = keysOf(subject);
  await state.saveSubject(current, keys, recorded.position);

  const { candidates, partners, states } = await state.neighbourhood(subject, keys);
  const stateBetween = (x: string, y: string) => states.get(orderedPair(x, y).join('|'));
  const outcomes = decideLinks({
    subject,
    candidates: candidates.map((snapshot) => ({
      snapshot,
      state: stateBetween(subject.streamId, snapshot.streamId),
    })),
    partners,
    stateBetween,
    model,
  });
  return eventsOf(outcomes, subject.streamId, recorded, model);
}

/** One event of a batch, parsed once: an agency event to link, an identity event to apply, or neither. */
type BatchStep =
  | { readonly kind: 'agency'; readonly recorded: RecordedEvent; readonly event: AgencyEvent }
  | { readonly kind: 'identity'; readonly recorded: RecordedEvent; readonly event: IdentityEvent }
  | { readonly kind: 'skipped' }
  | { readonly kind: 'other' };

function stepOf(recorded: RecordedEvent, logger?: Logger): BatchStep {
  if (AGENCY_TYPES.has(recorded.type)) {
    const parsed = parseAgencyEvent(recorded.data, { futureToleranceMs: Infinity });
    if (!parsed.ok || parsed.event.type !== (recorded.type as EventType)) return { kind: 'skipped' };
    return { kind: 'agency', recorded, event: parsed.event };
  }
  if (isIdentityEventType(recorded.type)) {
    try {
      return { kind: 'identity', recorded, event: parseIdentityEvent(recorded.type, recorded.data) };
    } catch (error) {
      if (!(error instanceof ThroughlineError)) throw error;
      logger?.warn(`skipped identity event ${recorded.eventId} at ${recorded.position}: ${error.message}`);
      return { kind: 'skipped' };
    }
  }
  return { kind: 'other' };
}

export interface LinkBatchResult {
  readonly lastPosition: bigint;
  /** The identity events this batch called for … */
  readonly decided: readonly PendingIdentityEvent[];
  /** … and how many of them were new to the store (the rest were there from an earlier attempt). */
  readonly appended: number;
  readonly skipped: number;
}

/**
 * Links one subscription batch inside the caller's transaction: decides, appends its
 * events to the store (idempotent by their deterministic ids), then moves the checkpoint.
 * If the transaction is lost after the append, the redo decides the same events again and
 * the store keeps the first copy.
 */
export async function linkBatch(
  client: ClientBase,
  store: EventStore,
  name: string,
  expectedCheckpoint: bigint,
  batch: readonly RecordedEvent[],
  model: MatchModel = DEFAULT_MATCH_MODEL,
  logger?: Logger,
): Promise<LinkBatchResult> {
  const row = await client.query<{ position: string }>(
    'SELECT position FROM identity_linker_checkpoints WHERE name = $1 FOR UPDATE',
    [name],
  );
  const actual = row.rows[0]?.position ?? 'missing';
  if (actual !== expectedCheckpoint.toString())
    throw new ConcurrencyError(`identity-linker:${name}`, expectedCheckpoint.toString(), actual);

  const steps = batch.map((recorded) => stepOf(recorded, logger));
  const state = new LinkerState(client);
  // Every subject the batch touches, read in one query.
  await state.load(steps.flatMap((step) => (step.kind === 'agency' ? [streamIdOf(step.event)] : [])));
  const pending: PendingIdentityEvent[] = [];
  for (const step of steps) {
    if (step.kind === 'agency') {
      const decided = await linkSubject(state, step.event, step.recorded, model);
      for (const item of decided) await state.apply(item.event, step.recorded.position);
      pending.push(...decided);
    } else if (step.kind === 'identity') {
      await state.apply(step.event, step.recorded.position);
    }
  }
  await state.flushSeen();
  const skipped = steps.filter((step) => step.kind === 'skipped').length;

  let newEvents = 0;
  if (pending.length > 0) {
    const byStream = new Map<string, EventToAppend[]>();
    for (const item of pending) {
      const events = byStream.get(item.streamId) ?? [];
      events.push({ eventId: item.eventId, type: item.event.type, data: item.event.data });
      byStream.set(item.streamId, events);
    }
    const results = await store.appendMany([...byStream].map(([streamId, events]) => ({ streamId, events })));
    newEvents = results.reduce((sum, r) => sum + r.positions.length - r.duplicateEventIds.length, 0);
  }
  const lastPosition = batch.length > 0 ? batch[batch.length - 1].position : expectedCheckpoint;
  await client.query(
    'UPDATE identity_linker_checkpoints SET position = $2, updated_at = now() WHERE name = $1',
    [name, lastPosition.toString()],
  );
  return { lastPosition, decided: pending, appended: newEvents, skipped };
}

export interface IdentityLinkerOptions {
  /** The database holding the linker's state (migrated already with migrateIdentity). */
  readonly pool: Pool;
  readonly store: EventStore;
  /** Names the checkpoint row. Default `identity-linker`: one linker per database. */
  readonly name?: string;
  /** Events per transaction. Default 500 (DEFAULT_LINKER_BATCH_SIZE). */
  readonly batchSize?: number;
  /** Milliseconds before the first retry after a failed batch; doubles up to 30 s. Default 200. */
  readonly retryBackoffMs?: number;
  readonly model?: MatchModel;
}

export interface LinkerStatus {
  readonly linker: string;
  readonly checkpoint: number;
  readonly head: number;
  readonly lag: number;
  readonly running: boolean;
  /** Identity events this linker appended since it started (re-appends after a failure not counted). */
  readonly appendedEvents: number;
  readonly lastError?: string;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * The identity linker: a catch-up subscription over the store from its own checkpoint,
 * each batch's state and checkpoint committed in one transaction (after its appends).
 */
export class IdentityLinker {
  private readonly logger = new Logger('IdentityLinker');
  private checkpoint = 0n;
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private running = false;
  private lastError: string | undefined;
  private appendedEvents = 0;
  private waiters: { position: bigint; resolve: () => void }[] = [];
  private wakeBackoff: (() => void) | undefined;

  constructor(private readonly options: IdentityLinkerOptions) {}

  get name(): string {
    return this.options.name ?? DEFAULT_LINKER_NAME;
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.stopping = false;
    let opened!: () => void;
    const firstAttempt = new Promise<void>((resolve) => (opened = resolve));
    this.loop = this.run(opened);
    await firstAttempt;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeBackoff?.();
    await this.subscription?.stop();
    await this.loop;
    this.loop = undefined;
  }

  isRunning(): boolean {
    return this.running;
  }

  committedPosition(): bigint {
    return this.checkpoint;
  }

  /** Resolves when every event up to `position` has been linked (and the linker's own events appended). */
  waitForPosition(position: bigint, timeoutMs = 30_000): Promise<void> {
    if (this.checkpoint >= position) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== entry);
        reject(
          new UnavailableError(
            `identity linker did not reach position ${position} within ${timeoutMs} ms (at ${this.checkpoint}${this.lastError ? `; last error: ${this.lastError}` : ''})`,
          ),
        );
      }, timeoutMs);
      const entry = {
        position,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(entry);
    });
  }

  async status(): Promise<LinkerStatus> {
    const [row, head] = await Promise.all([
      this.options.pool.query<{ position: string }>(
        'SELECT position FROM identity_linker_checkpoints WHERE name = $1',
        [this.name],
      ),
      this.options.store.headPosition(),
    ]);
    const checkpoint = BigInt(row.rows[0]?.position ?? 0);
    return {
      linker: this.name,
      checkpoint: Number(checkpoint),
      head: Number(head),
      lag: Number(head > checkpoint ? head - checkpoint : 0n),
      running: this.running,
      appendedEvents: this.appendedEvents,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  private async run(opened: () => void): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      try {
        this.checkpoint = await this.readCheckpoint();
        this.settleWaiters();
        const subscription = this.options.store.subscribeToAll((batch) => this.link(batch), {
          after: this.checkpoint,
          batchSize: this.options.batchSize ?? DEFAULT_LINKER_BATCH_SIZE,
        });
        this.subscription = subscription;
        if (this.stopping) await subscription.stop();
        this.running = !this.stopping;
        opened();
        await subscription.finished;
        attempt = 0;
      } catch (error) {
        this.lastError = error instanceof Error ? error.message : String(error);
        this.logger.error(
          `identity linker stopped at ${this.checkpoint}, will resubscribe: ${this.lastError}`,
        );
      } finally {
        this.running = false;
        this.subscription = undefined;
      }
      opened();
      if (this.stopping) break;
      await this.backoff(Math.min(MAX_BACKOFF_MS, (this.options.retryBackoffMs ?? 200) * 2 ** attempt++));
    }
  }

  private backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeBackoff = done;
    });
  }

  private async readCheckpoint(): Promise<bigint> {
    const result = await this.options.pool.query<{ position: string }>(
      `INSERT INTO identity_linker_checkpoints (name) VALUES ($1)
       ON CONFLICT (name) DO UPDATE SET name = excluded.name
       RETURNING position`,
      [this.name],
    );
    return BigInt(result.rows[0].position);
  }

  private async link(batch: readonly RecordedEvent[]): Promise<void> {
    const client = await this.options.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await linkBatch(
        client,
        this.options.store,
        this.name,
        this.checkpoint,
        batch,
        this.options.model ?? DEFAULT_MATCH_MODEL,
        this.logger,
      );
      await client.query('COMMIT');
      this.checkpoint = result.lastPosition;
      this.appendedEvents += result.appended;
      this.lastError = undefined;
      this.settleWaiters();
    } catch (error) {
      const broken = await client.query('ROLLBACK').then(
        () => undefined,
        (rollbackError: Error) => rollbackError,
      );
      client.release(broken);
      throw error;
    }
    client.release();
  }

  private settleWaiters(): void {
    const reached = this.waiters.filter((waiter) => waiter.position <= this.checkpoint);
    if (reached.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => waiter.position > this.checkpoint);
    for (const waiter of reached) waiter.resolve();
  }
}

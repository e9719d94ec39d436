import type { ClientBase } from 'pg';
import { namespaceOf } from './deterministic';
import { orderedPair, type IdentityEvent } from './events';
import type { PairState } from './link-decision';
import { blockingKeys } from './probabilistic';
import type { SubjectSnapshot } from './subject';

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

export function keysOf(snapshot: SubjectSnapshot): string[] {
  const keys = new Set<string>();
  for (const period of snapshot.identifiers) keys.add(`id:${namespaceOf(period.kind)}:${period.value}`);
  for (const key of blockingKeys(snapshot)) keys.add(`block:${key}`);
  return [...keys].sort();
}

/** A subject as it stands in this batch, with who it is in canonical form (computed once). */
export interface KnownSubject {
  readonly snapshot: SubjectSnapshot;
  /** canonical(whoIs(snapshot)): equal for two snapshots that differ at most in observedAt. */
  readonly identity: string;
}

export function known(snapshot: SubjectSnapshot): KnownSubject {
  return { snapshot, identity: canonical(whoIs(snapshot)) };
}

/** The records around a subject whose identity changed, and the judgements among them. */
export interface Neighbourhood {
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
export class LinkerState {
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

export function assertNever(value: never): never {
  throw new Error(`unhandled identity event ${JSON.stringify(value)}`);
}

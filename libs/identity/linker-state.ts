import { LRUCache } from 'lru-cache';
import type { ClientBase } from 'pg';
import { sexOf } from '@throughline/contracts';
import { PreparedStatement } from '@throughline/platform';
import { namespaceOf } from './deterministic';
import { orderedPair, type IdentityEvent } from './events';
import type { PairState } from './link-decision';
import { blockingKeys } from './probabilistic';
import type { SubjectSnapshot } from './subject';

/**
 * How far a record's candidates reach (decision 026): at most `candidates` records are scored
 * against it, those sharing the most of its keys; a key held by more than `block` records is
 * too broad to find candidates by (block purging), so what one key costs a batch is bounded.
 */
export interface CandidateLimits {
  readonly candidates: number;
  readonly block: number;
}

export const DEFAULT_CANDIDATE_LIMITS: CandidateLimits = { candidates: 200, block: 500 };

/** A shared identifier outranks any number of shared blocking keys. */
const IDENTIFIER_WEIGHT = 1_000;

/** Whether two JSON values are equal, whatever the order of their keys (a key holding undefined is absent). */
function equalJson(a: unknown, b: unknown, skip?: ReadonlySet<string>): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equalJson(a[i], b[i])) return false;
    return true;
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  let keys = 0;
  for (const key in left) {
    if (skip?.has(key) || left[key] === undefined) continue;
    if (!equalJson(left[key], right[key])) return false;
    keys++;
  }
  for (const key in right) if (!skip?.has(key) && right[key] !== undefined) keys--;
  return keys === 0;
}

/** What only a last-seen write changes (decision 043). */
const LAST_SEEN: ReadonlySet<string> = new Set(['observedAt']);

/** What `sameWho` compares other than member by member. */
const NOT_COMPARED_AS_WRITTEN: ReadonlySet<string> = new Set(['observedAt', 'sex']);

/**
 * Whether two snapshots say the same about who the record is (they may differ in when it was
 * last seen). Sex is compared by what it means (`sexOf`), as scoring reads it: 2 and F are one
 * sex in the code lists of two years, and the list changed on 1 April 2024 (1/2/0/9 to M/F/U).
 * Compared as written, every record's first event of 2024-25 changed who it was, and the
 * linker scored each against all its candidates again, the whole population at once
 * (decision 038). Codes of no sex (0, 9, U) are alike to scoring, so alike here.
 */
export function sameWho(a: SubjectSnapshot, b: SubjectSnapshot): boolean {
  return sexOf(a.sex) === sexOf(b.sex) && equalJson(a, b, NOT_COMPARED_AS_WRITTEN);
}

/**
 * The version of `keysOf`. Raise it with any change to the keys a snapshot gets: at start-up the
 * linker then adds the new keys of every record it knows (`rekeyIdentitySubjects`). 2: the
 * compound blocking keys (decision 027).
 */
export const KEY_SCHEME = 2;

export function keysOf(snapshot: SubjectSnapshot): string[] {
  const keys = new Set<string>();
  for (const period of snapshot.identifiers) keys.add(`id:${namespaceOf(period.kind)}:${period.value}`);
  for (const key of blockingKeys(snapshot)) keys.add(`block:${key}`);
  return [...keys].sort();
}

/** A subject as it stands in this batch. */
export interface KnownSubject {
  readonly snapshot: SubjectSnapshot;
}

export function known(snapshot: SubjectSnapshot): KnownSubject {
  return { snapshot };
}

/** The records around a subject whose identity changed, and the judgements among them. */
export interface Neighbourhood {
  readonly candidates: readonly SubjectSnapshot[];
  /** Records linked to the subject already (a new link must not bridge them to a contradiction). */
  readonly partners: readonly SubjectSnapshot[];
  /** The judgement on a pair of records (any two of the subject, its candidates and its partners). */
  readonly stateBetween: (a: string, b: string) => PairState | undefined;
}

/** Stream ids in the order the tables keep them (COLLATE "C", migration 003): by code unit. */
export function byStreamId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What the batch reads, known before its first event is linked. */
export interface BatchReads {
  /** The agency records of the batch whose identity changes in it (their keys and judgements change). */
  readonly changing: readonly string[];
  /** Every key those records hold at some point of the batch: the records holding them are read. */
  readonly keys: readonly string[];
  /** Records the identity events of the batch name: their rows and the judgements among them are read. */
  readonly named: readonly string[];
}

interface PairRow {
  readonly state: PairState;
  readonly position: string;
}

interface SubjectWrite {
  readonly snapshot: SubjectSnapshot;
  readonly firstSeen: string;
  readonly position: string;
  /**
   * Who the record is changed in the batch (or it is new): its whole row is written. Otherwise
   * only when it was last seen moved, and only that column and the position are (decision 043).
   */
  readonly who: boolean;
}

/** identity_proposals as read and written (timestamps and json as text, so they come back unchanged). */
interface ProposalRow {
  readonly proposal_id: string;
  readonly subject: string;
  readonly candidate: string;
  readonly score: number;
  readonly threshold: number;
  readonly evidence: string;
  readonly status: 'open' | 'confirmed' | 'rejected' | 'superseded';
  readonly proposed_at: string;
  readonly decided_by: string | null;
  readonly decided_at: string | null;
  readonly reason: string | null;
}

/** A change to identity_proposals, kept in batch order and applied at the end (nothing decides on them). */
type ProposalChange =
  | { readonly kind: 'open'; readonly row: ProposalRow }
  | { readonly kind: 'supersede'; readonly pair: string }
  | {
      readonly kind: 'decide';
      readonly proposalId: string;
      readonly status: 'confirmed' | 'rejected';
      readonly by: string;
      readonly at: string;
      readonly reason: string | null;
    };

interface ConflictRow {
  readonly conflict_id: string;
  readonly subject: string;
  readonly others: readonly string[];
  readonly rule: string;
  readonly detail: unknown;
  readonly flagged_at: string;
}

const pairKey = (a: string, b: string): string => orderedPair(a, b).join('|');

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

/**
 * Records' rows as a batch reads them: the position a row was last written at, and its snapshot
 * and when it was last seen unless the caller knows them at that position already ($2, $3:
 * streams and positions known). Once or twice a batch: prepared (planned once per connection).
 */
const SUBJECTS_OF = new PreparedStatement<{
  stream_id: string;
  position: string;
  snapshot: SubjectSnapshot | null;
  observed_at: string | null;
}>(
  'identity-subjects',
  `SELECT s.stream_id, s.last_changed_position::text AS position,
          CASE WHEN s.last_changed_position = k.position THEN NULL ELSE s.snapshot END AS snapshot,
          CASE WHEN s.last_changed_position = k.position THEN NULL ELSE s.observed_at END AS observed_at
   FROM identity_subjects AS s
   LEFT JOIN unnest($2::text[], $3::bigint[]) AS k (stream_id, position) ON k.stream_id = s.stream_id
   WHERE s.stream_id = ANY($1::text[])`,
);

/**
 * The snapshots the linker read or wrote lately, each with the position its row was written at.
 * A row is written again (with a later position) whenever its snapshot changes, and only the
 * linker writes it, so a snapshot known at the position the row holds is the row's snapshot:
 * a batch reads the positions of the rows it needs and the snapshots of those it does not know
 * at that position only. Parsing snapshots was most of the linker's reading (each changing
 * record's candidates are read, about 180 at 100,000 children), and most of them are the same
 * batch after batch. What a failed batch wrote is known at a position its row does not hold,
 * so it is read again. Bounded: the least recently used go first (`lru-cache`; a `Map` evicted
 * from its front slows to tens of microseconds a write once full, decision 037).
 */
export class SnapshotCache {
  private readonly known: LRUCache<string, { readonly position: string; readonly snapshot: SubjectSnapshot }>;

  constructor(size = 50_000) {
    this.known = new LRUCache({ max: size });
  }

  /** The snapshot of `stream` written at `position`, if known. */
  get(stream: string, position: string): SubjectSnapshot | undefined {
    const entry = this.known.get(stream);
    return entry?.position === position ? entry.snapshot : undefined;
  }

  /** The streams known, with their positions, among `streams` (SUBJECTS_OF's $2 and $3). */
  positionsOf(streams: Iterable<string>): [string[], string[]] {
    const known: string[] = [];
    const positions: string[] = [];
    for (const stream of streams) {
      const entry = this.known.peek(stream);
      if (entry) {
        known.push(stream);
        positions.push(entry.position);
      }
    }
    return [known, positions];
  }

  set(stream: string, position: string, snapshot: SubjectSnapshot): void {
    this.known.set(stream, { position, snapshot });
  }

  clear(): void {
    this.known.clear();
  }
}

/** Reads the rows of `streams` (SUBJECTS_OF), the snapshots `cache` knows at the rows' positions from it. */
async function readRows(
  client: ClientBase,
  streams: readonly string[],
  cache: SnapshotCache | undefined,
): Promise<Map<string, SubjectSnapshot>> {
  const rows = new Map<string, SubjectSnapshot>();
  if (streams.length === 0) return rows;
  const [known, positions] = cache ? cache.positionsOf(streams) : [[], []];
  const result = await SUBJECTS_OF.run(client, [streams, known, positions]);
  const read: { stream_id: string; position: string; snapshot: SubjectSnapshot }[] = [];
  for (const row of result.rows) {
    if (row.snapshot) {
      // Who the record is, and when it was last seen from its own column (decision 043; null in
      // rows written before, whose snapshot carries it).
      const snapshot =
        row.observed_at === null ? row.snapshot : { ...row.snapshot, observedAt: row.observed_at };
      read.push({ ...row, snapshot });
      rows.set(row.stream_id, snapshot);
      continue;
    }
    const snapshot = cache?.get(row.stream_id, row.position);
    if (!snapshot) throw new Error("a snapshot known at its row's position was not kept");
    rows.set(row.stream_id, snapshot);
  }
  // Kept only now: keeping one may push out another this read found known.
  for (const row of read) cache?.set(row.stream_id, row.position, row.snapshot);
  return rows;
}

/**
 * The linker's state for one batch, held in memory: read with one query per table before the
 * first event is linked (LinkerState.read), changed event by event without a round trip, and
 * written with one statement per table at the end (write), inside the batch transaction.
 *
 * What a decision reads is what the tables would hold at that point of the batch had every
 * change been written at once: the rows of the batch's records and every judgement among the
 * records a decision can see are read whole, and so are the records outside the batch holding
 * each key, unless more than `limits.block` do (the batch's own are known from their keys): a
 * key too broad outside the batch stays too broad whatever the batch does, and of the others
 * every holder is known. See libs/identity/README.md and decision 026.
 */
export class LinkerState {
  /** Every record read or written; null when it has no row. */
  private readonly subjects = new Map<string, KnownSubject | null>();
  /** The keys each record of the batch holds in the table before the batch. */
  private readonly storedKeys = new Map<string, ReadonlySet<string>>();
  /** The keys each record of the batch holds now, once its identity changed in the batch. */
  private readonly currentKeys = new Map<string, readonly string[]>();
  /**
   * For each key read: every record outside the batch holding it, or null when more than
   * `limits.block` do (too broad: it finds no candidates, whatever the batch does).
   */
  private readonly outsideHolders = new Map<string, readonly string[] | null>();
  /** For each key: the records of the batch holding it now. */
  private readonly batchHolders = new Map<string, Set<string>>();
  /** The records whose keys may change in the batch (BatchReads.changing). */
  private readonly changing: ReadonlySet<string>;

  /** Judgements read or made, keyed `a|b` (a < b); an absent pair has none. */
  private readonly pairs = new Map<string, PairRow>();
  /** For each record, the records linked to it. */
  private readonly linked = new Map<string, Set<string>>();

  private readonly subjectWrites = new Map<string, SubjectWrite>();
  private readonly pairWrites = new Set<string>();
  private readonly proposalChanges: ProposalChange[] = [];
  private readonly conflictWrites = new Map<string, ConflictRow>();

  private constructor(
    changing: Iterable<string>,
    private readonly limits: CandidateLimits,
    private readonly snapshots: SnapshotCache | undefined,
  ) {
    this.changing = new Set(changing);
  }

  /** Reads the subjects of `records` (the batch's agency records) in one query; null for a record without a row. */
  static async readSubjects(
    client: ClientBase,
    records: readonly string[],
    snapshots?: SnapshotCache,
  ): Promise<Map<string, KnownSubject | null>> {
    const rows = await readRows(client, records, snapshots);
    return new Map(records.map((record) => [record, LinkerState.knownOrNone(rows, record)]));
  }

  private static knownOrNone(
    rows: ReadonlyMap<string, SubjectSnapshot>,
    stream: string,
  ): KnownSubject | null {
    const snapshot = rows.get(stream);
    return snapshot ? known(snapshot) : null;
  }

  /**
   * Everything the batch's decisions can read, given `subjects` (readSubjects of the batch's
   * agency records): the keys of the changing records and the records holding `reads.keys`
   * (one query on the keys, the holders' rows joined), and every judgement among the records
   * read, the changing records' partners and the records the identity events name (one query
   * on the pairs, the rows of the partners and the named records joined).
   */
  static async read(
    client: ClientBase,
    subjects: ReadonlyMap<string, KnownSubject | null>,
    reads: BatchReads,
    limits: CandidateLimits = DEFAULT_CANDIDATE_LIMITS,
    snapshots?: SnapshotCache,
  ): Promise<LinkerState> {
    const state = new LinkerState(reads.changing, limits, snapshots);
    for (const [record, subject] of subjects) state.subjects.set(record, subject);
    // The records these find (the keys' holders, the partners, the named) are null until their
    // rows are read, once for all of them, at the end.
    const unread = new Set<string>();
    if (reads.changing.length > 0) await state.readKeys(client, reads, unread);
    if (reads.changing.length > 0 || reads.named.length > 0) await state.readPairs(client, reads, unread);
    const rows = await readRows(client, [...unread], snapshots);
    for (const stream of unread) state.subjects.set(stream, LinkerState.knownOrNone(rows, stream));
    return state;
  }

  private async readKeys(client: ClientBase, reads: BatchReads, unread: Set<string>): Promise<void> {
    // Up to block + 1 holders of each key: all of them, or enough to know it is too broad (its
    // holders are then not read).
    const result = await client.query<{
      role: 'holder' | 'broad' | 'own';
      key: string;
      stream_id: string;
    }>(
      `WITH held AS (
         SELECT wanted.key, held.stream_id, count(*) OVER (PARTITION BY wanted.key) AS holders
         FROM unnest($2::text[]) AS wanted (key)
         CROSS JOIN LATERAL (
           SELECT stream_id FROM identity_subject_keys
           WHERE key = wanted.key AND stream_id NOT IN (SELECT unnest($1::text[]))
           LIMIT $3 + 1) AS held),
       holder AS (SELECT key, stream_id FROM held WHERE holders <= $3)
       SELECT 'holder' AS role, key, stream_id FROM holder
       UNION ALL
       SELECT DISTINCT 'broad', key, NULL::text FROM held WHERE holders > $3
       UNION ALL
       SELECT 'own', key, stream_id FROM identity_subject_keys WHERE stream_id = ANY($1::text[])`,
      [reads.changing, reads.keys, this.limits.block],
    );
    const holders = new Map<string, string[]>();
    const broad = new Set<string>();
    const stored = new Map<string, Set<string>>();
    for (const row of result.rows) {
      if (row.role === 'broad') {
        broad.add(row.key);
      } else if (row.role === 'holder') {
        const list = holders.get(row.key);
        if (list) list.push(row.stream_id);
        else holders.set(row.key, [row.stream_id]);
      } else {
        addTo(stored, row.stream_id, row.key);
        addTo(this.batchHolders, row.key, row.stream_id);
      }
    }
    for (const key of reads.keys) {
      if (broad.has(key)) {
        this.outsideHolders.set(key, null);
        continue;
      }
      const list = holders.get(key) ?? [];
      this.outsideHolders.set(key, list);
      // The batch's own snapshot where it has one; a holder without a row is no candidate.
      for (const stream of list) this.toRead(stream, unread);
    }
    for (const [record, keys] of stored) this.storedKeys.set(record, keys);
  }

  private async readPairs(client: ClientBase, reads: BatchReads, unread: Set<string>): Promise<void> {
    const read = [...this.subjects.keys()];
    const everyone = [...new Set([...read, ...reads.named])];
    const result = await client.query<{ a: string; b: string; state: PairState; position: string }>(
      `WITH partner AS (
         SELECT subject_b AS stream_id FROM identity_pairs
         WHERE state = 'linked' AND subject_a = ANY($1::text[])
         UNION
         SELECT subject_a FROM identity_pairs
         WHERE state = 'linked' AND subject_b = ANY($1::text[])),
       everyone AS (SELECT unnest($2::text[]) AS stream_id UNION SELECT stream_id FROM partner)
       SELECT subject_a AS a, subject_b AS b, state, changed_at_position::text AS position
       FROM identity_pairs
       WHERE subject_a IN (SELECT stream_id FROM everyone) AND subject_b IN (SELECT stream_id FROM everyone)`,
      [reads.changing, everyone],
    );
    for (const row of result.rows) {
      this.pairs.set(`${row.a}|${row.b}`, { state: row.state, position: row.position });
      if (row.state === 'linked') {
        addTo(this.linked, row.a, row.b);
        addTo(this.linked, row.b, row.a);
      }
    }
    // The partners and the named records: their rows, or none (no partner then, as a join on identity_subjects).
    for (const stream of [...reads.named, ...[...this.linked.values()].flatMap((set) => [...set])])
      this.toRead(stream, unread);
  }

  /** A record found by a read whose row is read at the end of `read` (none until then), unless known already. */
  private toRead(stream: string, unread: Set<string>): void {
    if (this.subjects.has(stream)) return;
    this.subjects.set(stream, null);
    unread.add(stream);
  }

  subject(streamId: string): KnownSubject | undefined {
    return this.subjects.get(streamId) ?? undefined;
  }

  /** Who the subject is changed: its row and its keys are rewritten (at the end of the batch). */
  saveSubject(subject: KnownSubject, keys: readonly string[], position: bigint): void {
    const { streamId } = subject.snapshot;
    if (!this.changing.has(streamId)) throw new Error('a record changing in the batch was not read with it');
    const before = this.currentKeys.get(streamId) ?? [...(this.storedKeys.get(streamId) ?? [])];
    for (const key of before) this.batchHolders.get(key)?.delete(streamId);
    for (const key of keys) addTo(this.batchHolders, key, streamId);
    this.currentKeys.set(streamId, keys);
    this.setSubject(subject, position, true);
  }

  /**
   * Nothing about who the subject is changed (sameWho): the time it was last seen moved. Its row
   * is written whole all the same when anything else in the snapshot differs as written (sameWho
   * reads 2 and F as one sex), so the row always holds the snapshot the linker holds.
   */
  markSeen(subject: KnownSubject, position: bigint): void {
    const before = this.subjects.get(subject.snapshot.streamId)?.snapshot;
    const whole = before === undefined || !equalJson(before, subject.snapshot, LAST_SEEN);
    this.setSubject(subject, position, whole);
  }

  private setSubject(subject: KnownSubject, position: bigint, who: boolean): void {
    const { streamId } = subject.snapshot;
    this.subjects.set(streamId, subject);
    const before = this.subjectWrites.get(streamId);
    this.subjectWrites.set(streamId, {
      snapshot: subject.snapshot,
      firstSeen: before?.firstSeen ?? position.toString(),
      position: position.toString(),
      who: who || (before?.who ?? false),
    });
  }

  /**
   * What a decision on `subject` sees: its candidates, the records linked to it (in stream
   * order) and the judgements among them. The candidates are the other records holding any of
   * `keys` that is not too broad (held by at most `limits.block` records, the subject included,
   * as the tables stand at this point of the batch); when there are more than
   * `limits.candidates`, those sharing an identifier, then the most keys, then the first in
   * stream order. They are given in stream order, those with a row.
   */
  neighbourhood(subject: SubjectSnapshot, keys: readonly string[]): Neighbourhood {
    const shared = new Map<string, number>();
    for (const key of keys) {
      const outside = this.outsideHolders.get(key);
      if (outside === undefined) throw new Error('a key of the batch was not read with it');
      const inBatch = this.batchHolders.get(key);
      if (outside === null || outside.length + (inBatch?.size ?? 0) > this.limits.block) continue;
      const weight = key.startsWith('id:') ? IDENTIFIER_WEIGHT : 1;
      for (const stream of outside) shared.set(stream, (shared.get(stream) ?? 0) + weight);
      for (const stream of inBatch ?? []) shared.set(stream, (shared.get(stream) ?? 0) + weight);
    }
    shared.delete(subject.streamId);
    let holders = [...shared.keys()];
    if (holders.length > this.limits.candidates)
      holders = holders
        .sort((a, b) => shared.get(b)! - shared.get(a)! || byStreamId(a, b))
        .slice(0, this.limits.candidates);
    const candidates = holders.sort(byStreamId).flatMap((stream) => this.snapshotsOf(stream));
    const partners = [...(this.linked.get(subject.streamId) ?? [])]
      .sort(byStreamId)
      .flatMap((stream) => this.snapshotsOf(stream));
    return {
      candidates,
      partners,
      stateBetween: (a, b) => this.pairs.get(pairKey(a, b))?.state,
    };
  }

  private snapshotsOf(stream: string): SubjectSnapshot[] {
    const subject = this.subjects.get(stream);
    if (subject === undefined) throw new Error('a record of the batch was not read with it');
    return subject ? [subject.snapshot] : [];
  }

  /**
   * Sets a pair's judgement. A person's decision and a link replace anything; a proposal only
   * fills an empty pair; a conflict fills an empty or proposed pair.
   */
  setPair(a: string, b: string, state: PairState, position: bigint): void {
    if (a === b) return;
    const key = pairKey(a, b);
    const current = this.pairs.get(key);
    if (current) {
      const replaces =
        state === 'proposed' ? false : state === 'conflict' ? current.state === 'proposed' : true;
      if (!replaces || current.state === state) return;
      if (current.state === 'linked') {
        this.linked.get(a)?.delete(b);
        this.linked.get(b)?.delete(a);
      }
    }
    this.pairs.set(key, { state, position: position.toString() });
    this.pairWrites.add(key);
    if (state === 'linked') {
      addTo(this.linked, a, b);
      addTo(this.linked, b, a);
    }
  }

  /** Applies an identity event (the linker's own or a person's); applying it twice changes nothing. */
  apply(event: IdentityEvent, position: bigint): void {
    switch (event.type) {
      case 'identity.subject.linked': {
        const { subject, linkedTo } = event.data;
        this.setPair(subject, linkedTo, 'linked', position);
        this.proposalChanges.push({ kind: 'supersede', pair: pairKey(subject, linkedTo) });
        return;
      }
      case 'identity.subject.unlinked':
        for (const member of event.data.formerMembers)
          this.setPair(event.data.subject, member, 'unlinked', position);
        return;
      case 'identity.conflict.flagged': {
        const { conflictId, subject, others, rule, shared, conflicts, at } = event.data;
        if (!this.conflictWrites.has(conflictId))
          this.conflictWrites.set(conflictId, {
            conflict_id: conflictId,
            subject,
            others,
            rule,
            detail: { shared, conflicts },
            flagged_at: at,
          });
        for (const other of others) this.setPair(subject, other, 'conflict', position);
        return;
      }
      case 'identity.match.proposed': {
        const { proposalId, subject, candidate, score, threshold, evidence, at } = event.data;
        this.proposalChanges.push({
          kind: 'open',
          row: {
            proposal_id: proposalId,
            subject,
            candidate,
            score,
            threshold,
            evidence: JSON.stringify(evidence),
            status: 'open',
            proposed_at: at,
            decided_by: null,
            decided_at: null,
            reason: null,
          },
        });
        this.setPair(subject, candidate, 'proposed', position);
        return;
      }
      case 'identity.match.confirmed':
      case 'identity.match.rejected': {
        const confirmed = event.type === 'identity.match.confirmed';
        const { proposalId, subject, candidate, by, at, reason } = event.data;
        this.proposalChanges.push({
          kind: 'decide',
          proposalId,
          status: confirmed ? 'confirmed' : 'rejected',
          by: JSON.stringify(by),
          at,
          reason: reason ?? null,
        });
        this.setPair(subject, candidate, confirmed ? 'linked' : 'rejected', position);
        return;
      }
      default:
        return assertNever(event);
    }
  }

  /** Writes what the batch changed: one statement per table (two for the keys, one for the proposals' read). */
  async write(client: ClientBase): Promise<void> {
    await this.writeSubjects(client);
    await this.writeKeys(client);
    await this.writePairs(client);
    await this.writeProposals(client);
    await this.writeConflicts(client);
  }

  /**
   * The rows of the records the batch changed, in two statements (decision 043): those whose
   * identity changed (or that are new) whole, who they are as JSON and when they were last seen
   * beside it; those only seen again (most of them, about 93 % on the 100,000-child store), only
   * when and the position, with no JSON to make, send or parse.
   */
  private async writeSubjects(client: ClientBase): Promise<void> {
    if (this.subjectWrites.size === 0) return;
    const whole: {
      stream_id: string;
      snapshot: Omit<SubjectSnapshot, 'observedAt'>;
      observed_at: string | null;
      first_seen_position: string;
      last_changed_position: string;
    }[] = [];
    const seen = { streams: [] as string[], observedAt: [] as string[], positions: [] as string[] };
    for (const { snapshot, firstSeen, position, who } of this.subjectWrites.values()) {
      if (who || snapshot.observedAt === undefined) {
        const { observedAt, ...rest } = snapshot;
        whole.push({
          stream_id: snapshot.streamId,
          snapshot: rest,
          observed_at: observedAt ?? null,
          first_seen_position: firstSeen,
          last_changed_position: position,
        });
      } else {
        seen.streams.push(snapshot.streamId);
        seen.observedAt.push(snapshot.observedAt);
        seen.positions.push(position);
      }
    }
    if (whole.length > 0)
      await client.query(
        `INSERT INTO identity_subjects (stream_id, snapshot, observed_at, first_seen_position, last_changed_position)
         SELECT stream_id, snapshot, observed_at, first_seen_position, last_changed_position
         FROM jsonb_to_recordset($1::jsonb) AS s (stream_id text, snapshot jsonb, observed_at text,
           first_seen_position bigint, last_changed_position bigint)
         ON CONFLICT (stream_id) DO UPDATE
           SET snapshot = excluded.snapshot, observed_at = excluded.observed_at,
               last_changed_position = excluded.last_changed_position`,
        [JSON.stringify(whole)],
      );
    if (seen.streams.length > 0) {
      const updated = await client.query(
        `UPDATE identity_subjects AS s SET observed_at = u.observed_at, last_changed_position = u.position
         FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u (stream_id, observed_at, position)
         WHERE s.stream_id = u.stream_id`,
        [seen.streams, seen.observedAt, seen.positions],
      );
      // A record only seen again was read with its row in this batch: a missing row is a bug, not data.
      if (updated.rowCount !== seen.streams.length)
        throw new Error(
          `identity linker: ${seen.streams.length - (updated.rowCount ?? 0)} records seen again had no row to update`,
        );
    }
    for (const { snapshot, position } of this.subjectWrites.values())
      this.snapshots?.set(snapshot.streamId, position, snapshot);
  }

  private async writeKeys(client: ClientBase): Promise<void> {
    const gone: [string, string][] = [];
    const added: [string, string][] = [];
    for (const [record, keys] of this.currentKeys) {
      const stored = this.storedKeys.get(record) ?? new Set<string>();
      const now = new Set(keys);
      for (const key of stored) if (!now.has(key)) gone.push([key, record]);
      for (const key of keys) if (!stored.has(key)) added.push([key, record]);
    }
    if (gone.length > 0)
      await client.query(
        `DELETE FROM identity_subject_keys AS k USING unnest($1::text[], $2::text[]) AS gone (key, stream_id)
         WHERE k.key = gone.key AND k.stream_id = gone.stream_id`,
        [gone.map(([key]) => key), gone.map(([, record]) => record)],
      );
    if (added.length > 0)
      await client.query(
        `INSERT INTO identity_subject_keys (key, stream_id) SELECT * FROM unnest($1::text[], $2::text[])
         ON CONFLICT DO NOTHING`,
        [added.map(([key]) => key), added.map(([, record]) => record)],
      );
  }

  private async writePairs(client: ClientBase): Promise<void> {
    if (this.pairWrites.size === 0) return;
    const rows = [...this.pairWrites].map((key) => {
      const [a, b] = key.split('|');
      const { state, position } = this.pairs.get(key)!;
      return { subject_a: a, subject_b: b, state, changed_at_position: position };
    });
    await client.query(
      `INSERT INTO identity_pairs (subject_a, subject_b, state, changed_at_position)
       SELECT subject_a, subject_b, state, changed_at_position
       FROM jsonb_to_recordset($1::jsonb)
         AS p (subject_a text, subject_b text, state text, changed_at_position bigint)
       ON CONFLICT (subject_a, subject_b) DO UPDATE
         SET state = excluded.state, changed_at_position = excluded.changed_at_position`,
      [JSON.stringify(rows)],
    );
  }

  /**
   * The proposals the batch opens, supersedes or decides: the rows it touches are read (by id,
   * and the open ones by pair), changed in batch order as the statements one by one would, and
   * written back in one upsert.
   */
  private async writeProposals(client: ClientBase): Promise<void> {
    if (this.proposalChanges.length === 0) return;
    const ids = new Set<string>();
    const pairs = new Set<string>();
    for (const change of this.proposalChanges) {
      if (change.kind === 'open') ids.add(change.row.proposal_id);
      else if (change.kind === 'decide') ids.add(change.proposalId);
      else pairs.add(change.pair);
    }
    const pairList = [...pairs].map((pair) => pair.split('|'));
    const read = await client.query<ProposalRow>(
      `SELECT proposal_id, subject, candidate, score, threshold, evidence::text AS evidence, status,
              proposed_at::text AS proposed_at, decided_by::text AS decided_by, decided_at::text AS decided_at, reason
       FROM identity_proposals WHERE proposal_id = ANY($1::uuid[])
       UNION
       SELECT p.proposal_id, p.subject, p.candidate, p.score, p.threshold, p.evidence::text, p.status,
              p.proposed_at::text, p.decided_by::text, p.decided_at::text, p.reason
       FROM unnest($2::text[], $3::text[]) AS linked (a, b)
       JOIN identity_proposals AS p
         ON least(p.subject, p.candidate) = linked.a AND greatest(p.subject, p.candidate) = linked.b
       WHERE p.status = 'open'`,
      [[...ids], pairList.map(([a]) => a), pairList.map(([, b]) => b)],
    );
    const rows = new Map(read.rows.map((row) => [row.proposal_id, row]));
    const changed = new Set<string>();
    for (const change of this.proposalChanges) {
      if (change.kind === 'open') {
        if (rows.has(change.row.proposal_id)) continue;
        rows.set(change.row.proposal_id, change.row);
        changed.add(change.row.proposal_id);
      } else if (change.kind === 'supersede') {
        for (const row of rows.values()) {
          if (row.status !== 'open' || pairKey(row.subject, row.candidate) !== change.pair) continue;
          rows.set(row.proposal_id, { ...row, status: 'superseded' });
          changed.add(row.proposal_id);
        }
      } else {
        const row = rows.get(change.proposalId);
        if (!row) continue;
        rows.set(row.proposal_id, {
          ...row,
          status: change.status,
          decided_by: change.by,
          decided_at: change.at,
          reason: change.reason,
        });
        changed.add(row.proposal_id);
      }
    }
    if (changed.size === 0) return;
    await client.query(
      `INSERT INTO identity_proposals
         (proposal_id, subject, candidate, score, threshold, evidence, status, proposed_at, decided_by, decided_at, reason)
       SELECT proposal_id, subject, candidate, score, threshold, evidence::jsonb, status, proposed_at,
              decided_by::jsonb, decided_at, reason
       FROM jsonb_to_recordset($1::jsonb) AS p (proposal_id uuid, subject text, candidate text,
         score double precision, threshold double precision, evidence text, status text,
         proposed_at timestamptz, decided_by text, decided_at timestamptz, reason text)
       ON CONFLICT (proposal_id) DO UPDATE
         SET status = excluded.status, decided_by = excluded.decided_by, decided_at = excluded.decided_at,
             reason = excluded.reason`,
      [JSON.stringify([...changed].map((id) => rows.get(id)))],
    );
  }

  private async writeConflicts(client: ClientBase): Promise<void> {
    if (this.conflictWrites.size === 0) return;
    await client.query(
      `INSERT INTO identity_conflicts (conflict_id, subject, others, rule, detail, flagged_at)
       SELECT conflict_id, subject,
              ARRAY(SELECT other FROM jsonb_array_elements_text(others) WITH ORDINALITY AS o (other, n) ORDER BY n),
              rule, detail, flagged_at
       FROM jsonb_to_recordset($1::jsonb) AS c (conflict_id uuid, subject text, others jsonb, rule text,
         detail jsonb, flagged_at timestamptz)
       ON CONFLICT DO NOTHING`,
      [JSON.stringify([...this.conflictWrites.values()])],
    );
  }
}

export function assertNever(value: never): never {
  throw new Error(`unhandled identity event ${JSON.stringify(value)}`);
}

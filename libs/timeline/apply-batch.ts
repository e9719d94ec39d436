import type { ClientBase } from 'pg';
import type { RecordedEvent } from '@throughline/event-store';
import { orderedPair, subjectsOfIdentityEvent, type IdentityEvent } from '@throughline/identity';
import { copyIn, PreparedStatement } from '@throughline/platform';
import { assertNever } from './assert-never';
import { childKeyOf, componentsOf, type SubjectIdentifier } from './identity';
import { ENTRY_COLUMNS, type PreparedBatch, type RecordTrack, type SkippedEvent } from './prepare';

export interface BatchResult {
  readonly projected: number;
  readonly skipped: readonly SkippedEvent[];
}

const identifierTag = (identifier: SubjectIdentifier) => `${identifier.kind}:${identifier.value}`;

/** A record as the batch sees it: loaded once at the start, or founded by an event of the batch. */
interface RecordState {
  readonly streamId: string;
  childKey: string;
  readonly firstSeenPosition: bigint;
  /** Its identifiers (`kind:value`), known for the batch's agency records. */
  readonly identifiers: Set<string>;
  /** Founded by this batch: the row to insert. */
  readonly founded?: { readonly agency: string; readonly recordId: string; readonly at: Date };
  /** Its latest event in the batch and the dates of birth the batch's events gave. */
  seen?: { position: bigint; at: Date; born?: string; expected?: string };
  childChanged: boolean;
}

interface ChildState {
  readonly childKey: string;
  readonly foundedByStream: string;
  readonly foundedAtPosition: bigint;
  mergedInto: string | null;
  mergedAtPosition: bigint | null;
  readonly founded: boolean;
  changed: boolean;
}

interface LinkRow {
  readonly a: string;
  readonly b: string;
  readonly method: string;
  readonly position: bigint;
  /** Set for a link made by this batch: the row to insert. */
  readonly added?: {
    readonly evidence: string;
    readonly linkedBy: string;
    readonly linkedAt: string;
    readonly eventId: string;
  };
}

const pairKey = (a: string, b: string) => `${a}\u0000${b}`;

/** The statements every batch runs are prepared: parsed and planned once per connection (decision 028). */
const BATCH_RECORDS = new PreparedStatement<{
  stream_id: string;
  child_key: string;
  first_seen_position: string;
}>(
  'timeline-records',
  `SELECT stream_id, child_key, first_seen_position FROM subject_records
  WHERE stream_id = ANY($1::text[])
     OR child_key = ANY(ARRAY(SELECT child_key FROM subject_records WHERE stream_id = ANY($2::text[])))`,
);

const BATCH_IDENTIFIERS = new PreparedStatement<{ stream_id: string; tag: string }>(
  'timeline-identifiers',
  `SELECT stream_id, kind || ':' || value AS tag FROM subject_identifiers WHERE stream_id = ANY($1::text[])`,
);

const UPDATE_RECORDS = new PreparedStatement(
  'timeline-update-records',
  `UPDATE subject_records sr SET child_key = t.child_key,
    last_seen_position = COALESCE(t.position, sr.last_seen_position),
    last_seen_at = COALESCE(t.seen_at, sr.last_seen_at),
    date_of_birth = COALESCE(t.born, sr.date_of_birth),
    expected_date_of_birth = COALESCE(t.expected, sr.expected_date_of_birth)
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::date[], $6::date[])
    AS t(stream_id, child_key, position, seen_at, born, expected)
  WHERE sr.stream_id = t.stream_id`,
);

/**
 * The part of the identity read models one batch touches, read once at its start (one query per
 * table), changed in memory event by event in store order, and written back at its end with one
 * set-based statement per table and kind of change. Merges and splits give the same rows as
 * applying the events one at a time: a child's whole membership is loaded when an identity event
 * of the batch names one of its records.
 */
class BatchState {
  private readonly records = new Map<string, RecordState>();
  private readonly children = new Map<string, ChildState>();
  private readonly childrenByFounder = new Map<string, ChildState>();
  /** The identity links of every loaded record, as they stand now. */
  private readonly links = new Map<string, LinkRow>();
  /** The pairs loaded at the start (deleted at the end when gone or replaced). */
  private readonly linksBefore = new Set<string>();
  private readonly newIdentifiers: { streamId: string; kind: string; value: string; position: bigint }[] = [];
  private readonly history: {
    position: bigint;
    eventId: string;
    type: string;
    subjects: string[];
    data: unknown;
    recordedAt: Date;
  }[] = [];

  private constructor(private readonly salt: string) {}

  static async load(
    client: ClientBase,
    salt: string,
    agencyStreams: readonly string[],
    identitySubjects: readonly string[],
  ): Promise<BatchState> {
    const state = new BatchState(salt);
    const identity = identitySubjects.length > 0;
    if (agencyStreams.length === 0 && !identity) return state;
    // The batch's own records, and every record of a child an identity event names (a merge or a split moves them all).
    // `= ANY(ARRAY(…))`, not `IN (SELECT …)`: the OR of an index condition and a subplan is a
    // sequential scan of every record (0.1 s a batch at 246,000 records); two index conditions are a BitmapOr.
    const records = await BATCH_RECORDS.run(client, [agencyStreams, identitySubjects]);
    for (const row of records.rows) {
      state.records.set(row.stream_id, {
        streamId: row.stream_id,
        childKey: row.child_key,
        firstSeenPosition: BigInt(row.first_seen_position),
        identifiers: new Set(),
        childChanged: false,
      });
    }
    const knownAgencyStreams = agencyStreams.filter((streamId) => state.records.has(streamId));
    if (knownAgencyStreams.length > 0) {
      const identifiers = await BATCH_IDENTIFIERS.run(client, [knownAgencyStreams]);
      for (const row of identifiers.rows) state.records.get(row.stream_id)?.identifiers.add(row.tag);
    }
    if (!identity) return state;
    const loaded = [...state.records.values()];
    const children = await client.query<{
      child_key: string;
      founded_by_stream: string;
      founded_at_position: string;
      merged_into: string | null;
      merged_at_position: string | null;
    }>(
      `SELECT child_key, founded_by_stream, founded_at_position, merged_into, merged_at_position FROM children
       WHERE child_key = ANY($1::text[]) OR founded_by_stream = ANY($2::text[])`,
      [[...new Set(loaded.map((record) => record.childKey))], loaded.map((record) => record.streamId)],
    );
    for (const row of children.rows) {
      state.addChild({
        childKey: row.child_key,
        foundedByStream: row.founded_by_stream,
        foundedAtPosition: BigInt(row.founded_at_position),
        mergedInto: row.merged_into,
        mergedAtPosition: row.merged_at_position === null ? null : BigInt(row.merged_at_position),
        founded: false,
        changed: false,
      });
    }
    const links = await client.query<{
      subject_a: string;
      subject_b: string;
      method: string;
      position: string;
    }>(
      `SELECT subject_a, subject_b, method, position FROM identity_links
       WHERE subject_a = ANY($1::text[]) OR subject_b = ANY($1::text[])`,
      [[...new Set([...loaded.map((record) => record.streamId), ...identitySubjects])]],
    );
    for (const row of links.rows) {
      const key = pairKey(row.subject_a, row.subject_b);
      state.links.set(key, {
        a: row.subject_a,
        b: row.subject_b,
        method: row.method,
        position: BigInt(row.position),
      });
      state.linksBefore.add(key);
    }
    return state;
  }

  private addChild(child: ChildState): void {
    this.children.set(child.childKey, child);
    this.childrenByFounder.set(child.foundedByStream, child);
  }

  /**
   * Keeps the record and its identifiers (for lookups). A record seen for the first time
   * founds a child of its own; identity events link it to others.
   */
  trackRecord(track: RecordTrack, recorded: RecordedEvent): void {
    const { streamId, position, recordedAt } = recorded;
    let record = this.records.get(streamId);
    if (!record) {
      const childKey = childKeyOf(streamId, this.salt);
      record = {
        streamId,
        childKey,
        firstSeenPosition: position,
        identifiers: new Set(),
        founded: { agency: track.agency, recordId: track.recordId, at: recordedAt },
        childChanged: false,
      };
      this.records.set(streamId, record);
      this.addChild({
        childKey,
        foundedByStream: streamId,
        foundedAtPosition: position,
        mergedInto: null,
        mergedAtPosition: null,
        founded: true,
        changed: false,
      });
    }
    for (const identifier of track.identifiers) {
      const tag = identifierTag(identifier);
      if (record.identifiers.has(tag)) continue;
      record.identifiers.add(tag);
      this.newIdentifiers.push({ streamId, kind: identifier.kind, value: identifier.value, position });
    }
    record.seen = {
      position,
      at: recordedAt,
      born: track.born ?? record.seen?.born,
      expected: track.expected ?? record.seen?.expected,
    };
  }

  /** Merges on a link or a confirmed match, splits on an unlink; every identity event joins the history. */
  applyIdentityEvent(event: IdentityEvent, recorded: RecordedEvent): void {
    this.history.push({
      position: recorded.position,
      eventId: recorded.eventId,
      type: event.type,
      subjects: [...new Set(subjectsOfIdentityEvent(event))],
      data: event.data,
      recordedAt: recorded.recordedAt,
    });
    switch (event.type) {
      case 'identity.subject.linked': {
        const { subject, linkedTo, method, shared, childKey, reason, by, at } = event.data;
        const evidence = method === 'manual' ? { childKey, reason } : { shared };
        this.addLink({ subject, other: linkedTo, method, evidence, by, at }, recorded);
        return;
      }
      case 'identity.match.confirmed': {
        const { subject, candidate, proposalId, score, reason, by, at } = event.data;
        const evidence = { proposalId, score, ...(reason ? { reason } : {}) };
        this.addLink({ subject, other: candidate, method: 'confirmed-match', evidence, by, at }, recorded);
        return;
      }
      case 'identity.subject.unlinked':
        this.splitChildOf(event.data.subject, recorded.position);
        return;
      case 'identity.match.proposed':
      case 'identity.match.rejected':
      case 'identity.conflict.flagged':
        return;
      default:
        return assertNever(event);
    }
  }

  private addLink(
    link: { subject: string; other: string; method: string; evidence: unknown; by: unknown; at: string },
    recorded: RecordedEvent,
  ): void {
    const [a, b] = orderedPair(link.subject, link.other);
    const key = pairKey(a, b);
    if (!this.links.has(key)) {
      this.links.set(key, {
        a,
        b,
        method: link.method,
        position: recorded.position,
        added: {
          evidence: JSON.stringify(link.evidence),
          linkedBy: JSON.stringify(link.by),
          linkedAt: link.at,
          eventId: recorded.eventId,
        },
      });
    }
    this.mergeChildrenOf(a, b, recorded.position);
  }

  /** Two records are one child: the child founded later joins the one founded first. */
  private mergeChildrenOf(a: string, b: string, position: bigint): void {
    const recordA = this.records.get(a);
    const recordB = this.records.get(b);
    // A record the projection has not seen yet, or one child already.
    if (!recordA || !recordB || recordA.childKey === recordB.childKey) return;
    const [survivor, merged] = [this.childNamed(recordA.childKey), this.childNamed(recordB.childKey)].sort(
      (x, y) =>
        x.foundedAtPosition !== y.foundedAtPosition
          ? x.foundedAtPosition < y.foundedAtPosition
            ? -1
            : 1
          : x.childKey < y.childKey
            ? -1
            : 1,
    );
    for (const record of this.records.values()) {
      if (record.childKey !== merged.childKey) continue;
      record.childKey = survivor.childKey;
      record.childChanged = true;
    }
    for (const child of this.children.values()) {
      if (child.childKey !== merged.childKey && child.mergedInto !== merged.childKey) continue;
      child.mergedInto = survivor.childKey;
      child.mergedAtPosition = position;
      child.changed = true;
    }
  }

  /** The record leaves its child: its links go, and the child's other records regroup by the links left. */
  private splitChildOf(subject: string, position: bigint): void {
    for (const [key, link] of this.links)
      if (link.a === subject || link.b === subject) this.links.delete(key);
    const record = this.records.get(subject);
    if (!record) return;
    const members = [...this.records.values()].filter((other) => other.childKey === record.childKey);
    const memberIds = new Set(members.map((member) => member.streamId));
    const edges = [...this.links.values()]
      .filter((link) => memberIds.has(link.a))
      .map((link) => ({ a: link.a, b: link.b, position: link.position, method: link.method }));
    for (const component of componentsOf(members, edges)) {
      const target = this.childFoundedBy(component[0].streamId);
      for (const { streamId } of component) {
        const member = this.records.get(streamId) as RecordState;
        if (member.childKey === target.childKey) continue;
        member.childKey = target.childKey;
        member.childChanged = true;
      }
      if (target.mergedInto !== null) {
        target.mergedInto = null;
        target.mergedAtPosition = null;
        target.changed = true;
      }
      for (const { streamId } of component.slice(1)) {
        const founded = this.childrenByFounder.get(streamId);
        if (!founded || founded.mergedInto === target.childKey) continue;
        founded.mergedInto = target.childKey;
        founded.mergedAtPosition = position;
        founded.changed = true;
      }
    }
  }

  private childNamed(childKey: string): ChildState {
    const child = this.children.get(childKey);
    if (!child) throw new Error(`projection: child ${childKey} of a loaded record was not loaded`);
    return child;
  }

  private childFoundedBy(streamId: string): ChildState {
    const child = this.childrenByFounder.get(streamId);
    if (!child) throw new Error(`projection: the child founded by a loaded record was not loaded`);
    return child;
  }

  /** Writes what the batch changed: one statement per table and kind of change. */
  async write(client: ClientBase): Promise<void> {
    await this.writeChildren(client);
    await this.writeRecords(client);
    await this.writeIdentifiers(client);
    await this.writeLinks(client);
    await this.writeHistory(client);
  }

  private async writeChildren(client: ClientBase): Promise<void> {
    const children = [...this.children.values()];
    const founded = children.filter((child) => child.founded);
    const position = (value: bigint | null) => (value === null ? null : value.toString());
    if (founded.length > 0) {
      await client.query(
        `INSERT INTO children (child_key, founded_by_stream, founded_at_position, merged_into, merged_at_position)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[])`,
        [
          founded.map((child) => child.childKey),
          founded.map((child) => child.foundedByStream),
          founded.map((child) => child.foundedAtPosition.toString()),
          founded.map((child) => child.mergedInto),
          founded.map((child) => position(child.mergedAtPosition)),
        ],
      );
    }
    const changed = children.filter((child) => !child.founded && child.changed);
    if (changed.length > 0) {
      await client.query(
        `UPDATE children c SET merged_into = t.merged_into, merged_at_position = t.merged_at_position
         FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(child_key, merged_into, merged_at_position)
         WHERE c.child_key = t.child_key`,
        [
          changed.map((child) => child.childKey),
          changed.map((child) => child.mergedInto),
          changed.map((child) => position(child.mergedAtPosition)),
        ],
      );
    }
  }

  private async writeRecords(client: ClientBase): Promise<void> {
    const records = [...this.records.values()];
    const founded = records.filter((record) => record.founded);
    if (founded.length > 0) {
      await client.query(
        `INSERT INTO subject_records
           (stream_id, agency, record_id, child_key, first_seen_position, last_seen_position, first_seen_at,
            last_seen_at, date_of_birth, expected_date_of_birth)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],
                              $7::timestamptz[], $8::timestamptz[], $9::date[], $10::date[])`,
        [
          founded.map((record) => record.streamId),
          founded.map((record) => record.founded?.agency),
          founded.map((record) => record.founded?.recordId),
          founded.map((record) => record.childKey),
          founded.map((record) => record.firstSeenPosition.toString()),
          founded.map((record) => (record.seen?.position ?? record.firstSeenPosition).toString()),
          founded.map((record) => record.founded?.at),
          founded.map((record) => record.seen?.at ?? record.founded?.at),
          founded.map((record) => record.seen?.born ?? null),
          founded.map((record) => record.seen?.expected ?? null),
        ],
      );
    }
    // Records loaded from the read model: a new child, a later "last seen", the dates of birth the batch gave.
    const touched = records.filter((record) => !record.founded && (record.childChanged || record.seen));
    if (touched.length > 0) {
      await UPDATE_RECORDS.run(client, [
        touched.map((record) => record.streamId),
        touched.map((record) => record.childKey),
        touched.map((record) => record.seen?.position.toString() ?? null),
        touched.map((record) => record.seen?.at ?? null),
        touched.map((record) => record.seen?.born ?? null),
        touched.map((record) => record.seen?.expected ?? null),
      ]);
    }
  }

  private async writeIdentifiers(client: ClientBase): Promise<void> {
    const identifiers = this.newIdentifiers;
    if (identifiers.length === 0) return;
    await client.query(
      `INSERT INTO subject_identifiers (stream_id, kind, value, first_seen_position)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
       ON CONFLICT DO NOTHING`,
      [
        identifiers.map((identifier) => identifier.streamId),
        identifiers.map((identifier) => identifier.kind),
        identifiers.map((identifier) => identifier.value),
        identifiers.map((identifier) => identifier.position.toString()),
      ],
    );
  }

  /** Pairs gone (unlinked) or replaced (unlinked, then linked again) go; pairs linked by the batch come. */
  private async writeLinks(client: ClientBase): Promise<void> {
    const gone = [...this.linksBefore].filter(
      (key) => this.links.get(key)?.added !== undefined || !this.links.has(key),
    );
    if (gone.length > 0) {
      const pairs = gone.map((key) => key.split('\u0000'));
      await client.query(
        `DELETE FROM identity_links l USING unnest($1::text[], $2::text[]) AS t(subject_a, subject_b)
         WHERE l.subject_a = t.subject_a AND l.subject_b = t.subject_b`,
        [pairs.map(([a]) => a), pairs.map(([, b]) => b)],
      );
    }
    const added = [...this.links.values()].flatMap((link) =>
      link.added ? [{ ...link, ...link.added }] : [],
    );
    if (added.length === 0) return;
    await client.query(
      `INSERT INTO identity_links (subject_a, subject_b, method, evidence, linked_by, linked_at, position, event_id)
       SELECT a, b, method, evidence::jsonb, linked_by::jsonb, linked_at, position, event_id
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::bigint[], $8::text[])
         AS t(a, b, method, evidence, linked_by, linked_at, position, event_id)`,
      [
        added.map((link) => link.a),
        added.map((link) => link.b),
        added.map((link) => link.method),
        added.map((link) => link.evidence),
        added.map((link) => link.linkedBy),
        added.map((link) => link.linkedAt),
        added.map((link) => link.position.toString()),
        added.map((link) => link.eventId),
      ],
    );
  }

  private async writeHistory(client: ClientBase): Promise<void> {
    const history = this.history;
    if (history.length === 0) return;
    await client.query(
      `INSERT INTO identity_history (position, event_id, type, subjects, data, recorded_at)
       SELECT position, event_id, type, array(SELECT jsonb_array_elements_text(subjects::jsonb)), data::jsonb, recorded_at
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
         AS t(position, event_id, type, subjects, data, recorded_at)
       ON CONFLICT DO NOTHING`,
      [
        history.map((entry) => entry.position.toString()),
        history.map((entry) => entry.eventId),
        history.map((entry) => entry.type),
        history.map((entry) => JSON.stringify(entry.subjects)),
        history.map((entry) => JSON.stringify(entry.data)),
        history.map((entry) => entry.recordedAt),
      ],
    );
  }
}

/**
 * A batch's entries, copied in: one COPY of the text `prepare` made (off the event loop when the
 * batch is prepared in the projector's thread). PostgreSQL parses each column once, where
 * `jsonb_to_recordset` of one JSON parameter parsed the whole batch as JSON and then each row.
 */
const COPY_ENTRIES = `COPY timeline_entries (${ENTRY_COLUMNS.join(', ')}) FROM STDIN`;

async function recordSkipped(
  client: ClientBase,
  projection: string,
  skipped: readonly SkippedEvent[],
): Promise<void> {
  if (skipped.length === 0) return;
  await client.query(
    `INSERT INTO projection_skipped_events (projection, position, event_id, stream_id, type, issues)
     SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::jsonb[])`,
    [
      projection,
      skipped.map((s) => s.position.toString()),
      skipped.map((s) => s.eventId),
      skipped.map((s) => s.streamId),
      skipped.map((s) => s.type),
      skipped.map((s) => JSON.stringify(s.issues)),
    ],
  );
}

/**
 * Applies one prepared batch inside the caller's transaction (the runner's, which claims and
 * moves the checkpoint around it): all of it is kept, or none of it and the batch is redone.
 * The state the batch touches is read once, changed in memory in store order, and written with
 * set-based statements (decision 020): a handful of round trips per batch, none per event.
 */
export async function applyPrepared(
  client: ClientBase,
  projection: string,
  batch: readonly RecordedEvent[],
  prepared: PreparedBatch,
  salt: string,
): Promise<BatchResult> {
  const state = await BatchState.load(client, salt, prepared.agencyStreams, prepared.identitySubjects);
  for (const item of prepared.items) {
    const recorded = batch[item.index];
    if ('identity' in item) state.applyIdentityEvent(item.identity, recorded);
    else state.trackRecord(item.track, recorded);
  }
  await state.write(client);
  const entries = prepared.entryCopy;
  if (entries !== undefined) {
    // A thread's answer is a plain Uint8Array: seen as a Buffer over the same bytes.
    await copyIn(client, COPY_ENTRIES, [Buffer.from(entries.buffer, entries.byteOffset, entries.byteLength)]);
  }
  await recordSkipped(client, projection, prepared.skipped);
  return { projected: prepared.entries, skipped: prepared.skipped };
}

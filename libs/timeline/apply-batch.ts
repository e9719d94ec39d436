import type { ClientBase } from 'pg';
import {
  readStored,
  type AgencyEvent,
  type ContractIssue,
  type CurrentAgencyEvent,
} from '@throughline/contracts';
import { forEachInSlices, type RecordedEvent } from '@throughline/event-store';
import { timelineEntryOf, type TimelineEntryDraft } from './entry';
import {
  isIdentityEventType,
  orderedPair,
  parseIdentityEvent,
  subjectsOfIdentityEvent,
  type IdentityEvent,
} from '@throughline/identity';
import { PreparedStatement, ThroughlineError } from '@throughline/platform';
import { assertNever } from './assert-never';
import { childKeyOf, componentsOf, identifiersOf, type SubjectIdentifier } from './identity';

export interface SkippedEvent {
  readonly position: bigint;
  readonly eventId: string;
  readonly streamId: string;
  readonly type: string;
  readonly issues: readonly ContractIssue[];
}

export interface BatchResult {
  readonly projected: number;
  readonly skipped: readonly SkippedEvent[];
}

/**
 * Reads a stored event as a contract, in the current version of its type: the store keeps
 * what the agency sent (any accepted version) and the timeline is built from the upcast
 * event (contracts/src/upcast.ts). Time-dependent rules (not in the future) were the
 * recorder's to apply at intake; here they would make a rebuild depend on the clock.
 */
export function readStoredEvent(
  recorded: RecordedEvent,
): { ok: true; event: CurrentAgencyEvent; storedVersion: number } | SkippedEvent {
  const parsed = readStored(recorded.data);
  const skipped = (issues: ContractIssue[]): SkippedEvent => ({
    position: recorded.position,
    eventId: recorded.eventId,
    streamId: recorded.streamId,
    type: recorded.type,
    issues,
  });
  if (!parsed.ok) return skipped(parsed.issues);
  if (parsed.event.type !== recorded.type) {
    return skipped([{ path: 'type', rule: 'matches-stored-type', message: `stored as ${recorded.type}` }]);
  }
  return { ok: true, event: parsed.event, storedVersion: parsed.storedVersion };
}

function readIdentityEvent(recorded: RecordedEvent): IdentityEvent | SkippedEvent {
  try {
    return parseIdentityEvent(recorded.type, recorded.data);
  } catch (error) {
    if (!(error instanceof ThroughlineError)) throw error;
    const issues = (error.details.issues as ContractIssue[] | undefined) ?? [
      { path: 'type', rule: 'identity-event', message: error.message },
    ];
    return {
      position: recorded.position,
      eventId: recorded.eventId,
      streamId: recorded.streamId,
      type: recorded.type,
      issues,
    };
  }
}

/** The records whose children an identity event may merge or split (the others only join the history). */
function recordsMovedBy(event: IdentityEvent): string[] {
  switch (event.type) {
    case 'identity.subject.linked':
      return [event.data.subject, event.data.linkedTo];
    case 'identity.match.confirmed':
      return [event.data.subject, event.data.candidate];
    case 'identity.subject.unlinked':
      return [event.data.subject];
    default:
      return [];
  }
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
  trackRecord(event: AgencyEvent, recorded: RecordedEvent): void {
    const { streamId, position, recordedAt } = recorded;
    let record = this.records.get(streamId);
    if (!record) {
      const childKey = childKeyOf(streamId, this.salt);
      record = {
        streamId,
        childKey,
        firstSeenPosition: position,
        identifiers: new Set(),
        founded: { agency: event.source.agency, recordId: event.subject.recordId, at: recordedAt },
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
    for (const identifier of identifiersOf(event)) {
      const tag = identifierTag(identifier);
      if (record.identifiers.has(tag)) continue;
      record.identifiers.add(tag);
      this.newIdentifiers.push({ streamId, kind: identifier.kind, value: identifier.value, position });
    }
    record.seen = {
      position,
      at: recordedAt,
      born: event.subject.dateOfBirth ?? record.seen?.born,
      expected: event.subject.expectedDateOfBirth ?? record.seen?.expected,
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
 * A batch's entries in one parameter, a JSON array of rows: JSON.stringify writes it (their
 * details and lineage objects in place) instead of the driver escaping thirteen arrays of strings,
 * and PostgreSQL parses it once (details and lineage are kept as the JSON gives them).
 */
const INSERT_ENTRIES = new PreparedStatement(
  'timeline-insert-entries',
  `INSERT INTO timeline_entries
    (position, event_id, stream_id, agency, type, occurred_at, summary, outcome_framework, outcome_domain, details, lineage,
     special_categories, source_organisation)
  SELECT position, event_id, stream_id, agency, type, occurred_at, summary, framework, domain, details, lineage,
         categories, organisation
  FROM jsonb_to_recordset($1::jsonb)
    AS t(position bigint, event_id text, stream_id text, agency text, type text, occurred_at timestamptz, summary text,
         framework text, domain text, details jsonb, lineage jsonb, categories text[], organisation text)`,
);

/** The entries' rows as INSERT_ENTRIES's parameter (built before the batch's transaction, see `prepareBatch`). */
function entryRows(entries: readonly TimelineEntryDraft[]): unknown[] {
  const rows = entries.map((e) => ({
    position: e.position.toString(),
    event_id: e.eventId,
    stream_id: e.streamId,
    agency: e.agency,
    type: e.type,
    occurred_at: e.occurredAt,
    summary: e.summary,
    framework: e.outcomeDomain.framework,
    domain: e.outcomeDomain.domain,
    details: { ...e.details, occurredAt: e.occurredAt },
    lineage: e.lineage,
    categories: e.specialCategories,
    organisation: e.sourceOrganisation ?? null,
  }));
  return [JSON.stringify(rows)];
}

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

type ReadEvent =
  { recorded: RecordedEvent; identity: IdentityEvent } | { recorded: RecordedEvent; event: AgencyEvent };

/** A batch's events read as contracts and its timeline entries built: everything that needs no database. */
export interface PreparedBatch {
  readonly read: readonly ReadEvent[];
  readonly entries: number;
  /** INSERT_ENTRIES's parameters; undefined when the batch has no entry. */
  readonly entryRows: unknown[] | undefined;
  readonly skipped: readonly SkippedEvent[];
  readonly agencyStreams: readonly string[];
  readonly identitySubjects: readonly string[];
}

/**
 * Reads a batch's events as contracts (skipping the invalid), builds its timeline entries and
 * their rows: the work of a batch that depends on its events alone. The runner does it while the
 * batch before is applied when catching up (`CheckpointedHandler.prepare`), so it gives the event
 * loop a turn now and then (`forEachInSlices`): that batch's statements are sent as their answers come.
 */
export async function prepareBatch(batch: readonly RecordedEvent[]): Promise<PreparedBatch> {
  const entries: TimelineEntryDraft[] = [];
  const skipped: SkippedEvent[] = [];
  const read: ReadEvent[] = [];
  const agencyStreams = new Set<string>();
  const identitySubjects = new Set<string>();
  await forEachInSlices(batch, (recorded) => {
    if (isIdentityEventType(recorded.type)) {
      const identity = readIdentityEvent(recorded);
      if ('issues' in identity) {
        skipped.push(identity);
        return;
      }
      for (const subject of recordsMovedBy(identity)) identitySubjects.add(subject);
      read.push({ recorded, identity });
      return;
    }
    const agency = readStoredEvent(recorded);
    if (!('ok' in agency)) {
      skipped.push(agency);
      return;
    }
    agencyStreams.add(recorded.streamId);
    read.push({ recorded, event: agency.event });
    entries.push(timelineEntryOf(agency.event, recorded, agency.storedVersion));
  });
  return {
    read,
    entries: entries.length,
    entryRows: entries.length > 0 ? entryRows(entries) : undefined,
    skipped,
    agencyStreams: [...agencyStreams],
    identitySubjects: [...identitySubjects],
  };
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
  prepared: PreparedBatch,
  salt: string,
): Promise<BatchResult> {
  const state = await BatchState.load(client, salt, prepared.agencyStreams, prepared.identitySubjects);
  for (const item of prepared.read) {
    if ('identity' in item) state.applyIdentityEvent(item.identity, item.recorded);
    else state.trackRecord(item.event, item.recorded);
  }
  await state.write(client);
  if (prepared.entryRows) await INSERT_ENTRIES.run(client, prepared.entryRows);
  await recordSkipped(client, projection, prepared.skipped);
  return { projected: prepared.entries, skipped: prepared.skipped };
}

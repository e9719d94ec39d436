import type { ClientBase } from 'pg';
import { parseAgencyEvent, type AgencyEvent, type ContractIssue } from '@throughline/contracts';
import type { RecordedEvent } from '@throughline/event-store';
import { ConcurrencyError } from '@throughline/platform';
import { timelineEntryOf, type TimelineEntryDraft } from './entry';
import {
  decideIdentity,
  identifiersOf,
  matchNamespaceOf,
  type ChildRef,
  type IdentifierKind,
  type IdentityMatch,
  type SubjectIdentifier,
} from './identity';

export interface SkippedEvent {
  readonly position: bigint;
  readonly eventId: string;
  readonly streamId: string;
  readonly type: string;
  readonly issues: readonly ContractIssue[];
}

export interface BatchResult {
  readonly lastPosition: bigint;
  readonly projected: number;
  readonly skipped: readonly SkippedEvent[];
}

/**
 * Reads a stored event as a contract. Time-dependent rules (not in the future) were the
 * recorder's to apply at intake; here they would make a rebuild depend on the clock.
 */
export function readStoredEvent(recorded: RecordedEvent): { ok: true; event: AgencyEvent } | SkippedEvent {
  const parsed = parseAgencyEvent(recorded.data, { futureToleranceMs: Number.POSITIVE_INFINITY });
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
  return { ok: true, event: parsed.event };
}

/** Locks the checkpoint row and checks it: a second projector of the same name cannot double-apply. */
async function claimCheckpoint(client: ClientBase, projection: string, expected: bigint): Promise<void> {
  const row = await client.query<{ position: string }>(
    'SELECT position FROM projection_checkpoints WHERE name = $1 FOR UPDATE',
    [projection],
  );
  const actual = row.rows[0]?.position ?? 'missing';
  if (actual !== expected.toString())
    throw new ConcurrencyError(`projection:${projection}`, expected.toString(), actual);
}

interface KnownRecord {
  readonly child: ChildRef;
  readonly identifiers: readonly string[];
}

const identifierTag = (identifier: SubjectIdentifier) => `${identifier.kind}:${identifier.value}`;

/** A batch's view of who its records are: filled in one query, dropped where the batch changes it. */
type KnownRecords = Map<string, KnownRecord | null>;

/** The records among streamIds the read model already knows, their child and identifiers, in one query. */
async function knownRecords(client: ClientBase, streamIds: readonly string[]): Promise<KnownRecords> {
  const known: KnownRecords = new Map(streamIds.map((streamId) => [streamId, null]));
  if (streamIds.length === 0) return known;
  const result = await client.query<{
    stream_id: string;
    child_key: string;
    founded_at_position: string;
    identifiers: string[];
  }>(
    `SELECT sr.stream_id, sr.child_key, c.founded_at_position,
            array(SELECT si.kind || ':' || si.value FROM subject_identifiers si WHERE si.stream_id = sr.stream_id) AS identifiers
     FROM subject_records sr JOIN children c ON c.child_key = sr.child_key
     WHERE sr.stream_id = ANY($1::text[])`,
    [streamIds],
  );
  for (const row of result.rows) {
    known.set(row.stream_id, {
      child: { childKey: row.child_key, foundedAt: BigInt(row.founded_at_position) },
      identifiers: row.identifiers,
    });
  }
  return known;
}

async function knownRecord(
  client: ClientBase,
  streamId: string,
  batchView: KnownRecords,
): Promise<KnownRecord | undefined> {
  if (!batchView.has(streamId)) {
    const [fresh] = (await knownRecords(client, [streamId])).values();
    batchView.set(streamId, fresh);
  }
  return batchView.get(streamId) ?? undefined;
}

async function identityMatches(
  client: ClientBase,
  streamId: string,
  identifiers: readonly SubjectIdentifier[],
): Promise<IdentityMatch[]> {
  if (identifiers.length === 0) return [];
  const nhsNumbers = identifiers.filter((i) => matchNamespaceOf(i.kind) === 'nhs-number').map((i) => i.value);
  const upns = identifiers.filter((i) => matchNamespaceOf(i.kind) === 'upn').map((i) => i.value);
  const result = await client.query<{
    kind: IdentifierKind;
    value: string;
    child_key: string;
    founded_at_position: string;
  }>(
    `SELECT DISTINCT si.kind, si.value, sr.child_key, c.founded_at_position
     FROM subject_identifiers si
     JOIN subject_records sr ON sr.stream_id = si.stream_id
     JOIN children c ON c.child_key = sr.child_key
     WHERE si.stream_id <> $1
       AND ((si.kind = 'nhs-number' AND si.value = ANY($2::text[]))
         OR (si.kind IN ('upn', 'former-upn') AND si.value = ANY($3::text[])))`,
    [streamId, nhsNumbers, upns],
  );
  return result.rows.flatMap((row) => {
    const namespace = matchNamespaceOf(row.kind);
    const mine = identifiers.find((i) => matchNamespaceOf(i.kind) === namespace && i.value === row.value);
    return mine
      ? [{ identifier: mine, child: { childKey: row.child_key, foundedAt: BigInt(row.founded_at_position) } }]
      : [];
  });
}

/** Links the event's record to its child, merging children the event shows to be one. */
async function linkRecord(
  client: ClientBase,
  event: AgencyEvent,
  recorded: RecordedEvent,
  salt: string,
  batchView: KnownRecords,
): Promise<void> {
  const identifiers = identifiersOf(event);
  const position = recorded.position.toString();
  const known = await knownRecord(client, recorded.streamId, batchView);
  const newIdentifiers = identifiers.filter(
    (identifier) => !known?.identifiers.includes(identifierTag(identifier)),
  );
  if (known && newIdentifiers.length === 0) return; // the common case: nothing new about who this is
  // What follows rewrites who this record (and, on a merge, other records) belongs to.
  batchView.delete(recorded.streamId);

  const decision = decideIdentity({
    streamId: recorded.streamId,
    identifiers,
    current: known?.child,
    matches: await identityMatches(client, recorded.streamId, identifiers),
    salt,
  });

  if (decision.merges.length > 0) batchView.clear();
  for (const merge of decision.merges) {
    // Everything of the merged child moves; its founding record now joins through this event's evidence.
    await client.query(
      `WITH records AS (
         UPDATE subject_records SET child_key = $2 WHERE child_key = $1
       ), links AS (
         UPDATE identity_links SET child_key = $2 WHERE child_key = $1 AND stream_id <> (SELECT founded_by_stream FROM children WHERE child_key = $1)
       ), founding_link AS (
         UPDATE identity_links
         SET child_key = $2, method = $3, evidence_value = $4, linked_at_position = $5, merged_from = $1
         WHERE stream_id = (SELECT founded_by_stream FROM children WHERE child_key = $1)
       )
       UPDATE children SET merged_into = $2, merged_at_position = $5 WHERE child_key = $1 OR merged_into = $1`,
      [merge.from, merge.into, merge.method, merge.evidenceValue ?? null, position],
    );
  }

  const identifierColumns = [newIdentifiers.map((i) => i.kind), newIdentifiers.map((i) => i.value)];
  if (known) {
    await client.query(
      `INSERT INTO subject_identifiers (stream_id, kind, value, first_seen_position)
       SELECT $1, kind, value, $2 FROM unnest($3::text[], $4::text[]) AS t(kind, value)
       ON CONFLICT DO NOTHING`,
      [recorded.streamId, position, ...identifierColumns],
    );
    return;
  }
  const attach = decision.attach ?? { method: 'first-record' as const };
  await client.query(
    `WITH founded AS (
       INSERT INTO children (child_key, founded_by_stream, founded_at_position)
       SELECT $4, $1, $5 WHERE $9::boolean
     ), record AS (
       INSERT INTO subject_records
         (stream_id, agency, record_id, child_key, first_seen_position, last_seen_position, first_seen_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $5, $6, $6)
     ), link AS (
       INSERT INTO identity_links (stream_id, child_key, method, evidence_value, linked_at_position)
       VALUES ($1, $4, $7, $8, $5)
     )
     INSERT INTO subject_identifiers (stream_id, kind, value, first_seen_position)
     SELECT $1, kind, value, $5 FROM unnest($10::text[], $11::text[]) AS t(kind, value)
     ON CONFLICT DO NOTHING`,
    [
      recorded.streamId,
      event.source.agency,
      event.subject.recordId,
      decision.childKey,
      position,
      recorded.recordedAt,
      attach.method,
      attach.evidenceValue ?? null,
      decision.founded,
      ...identifierColumns,
    ],
  );
}

/** One statement per batch for "last seen": the latest event of each record in it. */
async function markLastSeen(client: ClientBase, batch: readonly RecordedEvent[]): Promise<void> {
  const latest = new Map<string, RecordedEvent>();
  for (const recorded of batch) latest.set(recorded.streamId, recorded);
  if (latest.size === 0) return;
  const events = [...latest.values()];
  await client.query(
    `UPDATE subject_records sr SET last_seen_position = t.position, last_seen_at = t.seen_at
     FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS t(stream_id, position, seen_at)
     WHERE sr.stream_id = t.stream_id`,
    [
      events.map((e) => e.streamId),
      events.map((e) => e.position.toString()),
      events.map((e) => e.recordedAt),
    ],
  );
}

async function insertEntries(client: ClientBase, entries: readonly TimelineEntryDraft[]): Promise<void> {
  if (entries.length === 0) return;
  await client.query(
    `INSERT INTO timeline_entries
       (position, event_id, stream_id, agency, type, occurred_at, summary, outcome_framework, outcome_domain, details, lineage)
     SELECT position, event_id, stream_id, agency, type, occurred_at, summary, framework, domain, details::jsonb, lineage::jsonb
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[],
                 $8::text[], $9::text[], $10::text[], $11::text[])
       AS t(position, event_id, stream_id, agency, type, occurred_at, summary, framework, domain, details, lineage)`,
    [
      entries.map((e) => e.position.toString()),
      entries.map((e) => e.eventId),
      entries.map((e) => e.streamId),
      entries.map((e) => e.agency),
      entries.map((e) => e.type),
      entries.map((e) => e.occurredAt),
      entries.map((e) => e.summary),
      entries.map((e) => e.outcomeDomain.framework),
      entries.map((e) => e.outcomeDomain.domain),
      entries.map((e) => JSON.stringify({ ...e.details, occurredAt: e.occurredAt })),
      entries.map((e) => JSON.stringify(e.lineage)),
    ],
  );
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

/**
 * Applies one subscription batch inside the caller's transaction, checkpoint included:
 * all of it is kept, or none of it and the batch is redone.
 */
export async function applyBatch(
  client: ClientBase,
  projection: string,
  expectedCheckpoint: bigint,
  batch: readonly RecordedEvent[],
  salt: string,
): Promise<BatchResult> {
  await claimCheckpoint(client, projection, expectedCheckpoint);
  const entries: TimelineEntryDraft[] = [];
  const skipped: SkippedEvent[] = [];
  const projectedEvents: RecordedEvent[] = [];
  const batchView = await knownRecords(client, [...new Set(batch.map((recorded) => recorded.streamId))]);
  for (const recorded of batch) {
    const read = readStoredEvent(recorded);
    if (!('ok' in read)) {
      skipped.push(read);
      continue;
    }
    await linkRecord(client, read.event, recorded, salt, batchView);
    projectedEvents.push(recorded);
    entries.push(timelineEntryOf(read.event, recorded));
  }
  await markLastSeen(client, projectedEvents);
  await insertEntries(client, entries);
  await recordSkipped(client, projection, skipped);
  const lastPosition = batch.length > 0 ? batch[batch.length - 1].position : expectedCheckpoint;
  await client.query(
    `UPDATE projection_checkpoints SET position = $2, skipped_events = skipped_events + $3, updated_at = now()
     WHERE name = $1`,
    [projection, lastPosition.toString(), skipped.length],
  );
  return { lastPosition, projected: entries.length, skipped };
}

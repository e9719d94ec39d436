import type { ClientBase } from 'pg';
import {
  readAsCurrent,
  type AgencyEvent,
  type ContractIssue,
  type CurrentAgencyEvent,
} from '@throughline/contracts';
import type { RecordedEvent } from '@throughline/event-store';
import { timelineEntryOf, type TimelineEntryDraft } from './entry';
import {
  isIdentityEventType,
  orderedPair,
  parseIdentityEvent,
  subjectsOfIdentityEvent,
  type IdentityEvent,
} from '@throughline/identity';
import { ThroughlineError } from '@throughline/platform';
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
  const parsed = readAsCurrent(recorded.data, { futureToleranceMs: Infinity });
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

const identifierTag = (identifier: SubjectIdentifier) => `${identifier.kind}:${identifier.value}`;

/** A batch's view of the records it touches: their identifiers, or null when not seen yet. */
type KnownRecords = Map<string, Set<string> | null>;

async function knownRecords(client: ClientBase, streamIds: readonly string[]): Promise<KnownRecords> {
  const known: KnownRecords = new Map(streamIds.map((streamId) => [streamId, null]));
  if (streamIds.length === 0) return known;
  const result = await client.query<{ stream_id: string; identifiers: string[] }>(
    `SELECT sr.stream_id,
            array(SELECT si.kind || ':' || si.value FROM subject_identifiers si WHERE si.stream_id = sr.stream_id) AS identifiers
     FROM subject_records sr WHERE sr.stream_id = ANY($1::text[])`,
    [streamIds],
  );
  for (const row of result.rows) known.set(row.stream_id, new Set(row.identifiers));
  return known;
}

/**
 * Keeps the record and its identifiers (for lookups). A record seen for the first time
 * founds a child of its own; identity events link it to others.
 */
async function trackRecord(
  client: ClientBase,
  event: AgencyEvent,
  recorded: RecordedEvent,
  salt: string,
  batchView: KnownRecords,
): Promise<void> {
  const identifiers = identifiersOf(event);
  const position = recorded.position.toString();
  const known = batchView.get(recorded.streamId) ?? null;
  const newIdentifiers = identifiers.filter((identifier) => !known?.has(identifierTag(identifier)));
  if (known && newIdentifiers.length === 0) return; // the common case: nothing new about who this is
  batchView.set(recorded.streamId, new Set([...(known ?? []), ...identifiers.map(identifierTag)]));
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
  await client.query(
    `WITH founded AS (
       INSERT INTO children (child_key, founded_by_stream, founded_at_position) VALUES ($4, $1, $5)
     ), record AS (
       INSERT INTO subject_records
         (stream_id, agency, record_id, child_key, first_seen_position, last_seen_position, first_seen_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $5, $6, $6)
     )
     INSERT INTO subject_identifiers (stream_id, kind, value, first_seen_position)
     SELECT $1, kind, value, $5 FROM unnest($7::text[], $8::text[]) AS t(kind, value)
     ON CONFLICT DO NOTHING`,
    [
      recorded.streamId,
      event.source.agency,
      event.subject.recordId,
      childKeyOf(recorded.streamId, salt),
      position,
      recorded.recordedAt,
      ...identifierColumns,
    ],
  );
}

/** Two records are one child: the child founded later joins the one founded first. */
async function mergeChildrenOf(client: ClientBase, a: string, b: string, position: string): Promise<void> {
  const result = await client.query<{ child_key: string; founded_at_position: string }>(
    `SELECT DISTINCT sr.child_key, c.founded_at_position
     FROM subject_records sr JOIN children c ON c.child_key = sr.child_key
     WHERE sr.stream_id = ANY($1::text[])`,
    [[a, b]],
  );
  if (result.rows.length !== 2) return; // one child already, or a record the projection has not seen
  const [survivor, merged] = result.rows
    .map((row) => ({ key: row.child_key, foundedAt: BigInt(row.founded_at_position) }))
    .sort((x, y) =>
      x.foundedAt !== y.foundedAt ? (x.foundedAt < y.foundedAt ? -1 : 1) : x.key < y.key ? -1 : 1,
    );
  await client.query(
    `WITH records AS (UPDATE subject_records SET child_key = $2 WHERE child_key = $1)
     UPDATE children SET merged_into = $2, merged_at_position = $3 WHERE child_key = $1 OR merged_into = $1`,
    [merged.key, survivor.key, position],
  );
}

/** The record leaves its child: its links go, and the child's other records regroup by the links left. */
async function splitChildOf(client: ClientBase, subject: string, position: string): Promise<void> {
  await client.query('DELETE FROM identity_links WHERE subject_a = $1 OR subject_b = $1', [subject]);
  const members = await client.query<{ stream_id: string; first_seen_position: string }>(
    `SELECT stream_id, first_seen_position FROM subject_records
     WHERE child_key = (SELECT child_key FROM subject_records WHERE stream_id = $1)`,
    [subject],
  );
  if (members.rows.length === 0) return;
  const streamIds = members.rows.map((row) => row.stream_id);
  const edges = await client.query<{
    subject_a: string;
    subject_b: string;
    position: string;
    method: string;
  }>('SELECT subject_a, subject_b, position, method FROM identity_links WHERE subject_a = ANY($1::text[])', [
    streamIds,
  ]);
  const components = componentsOf(
    members.rows.map((row) => ({
      streamId: row.stream_id,
      firstSeenPosition: BigInt(row.first_seen_position),
    })),
    edges.rows.map((row) => ({
      a: row.subject_a,
      b: row.subject_b,
      position: BigInt(row.position),
      method: row.method,
    })),
  );
  for (const component of components) {
    const records = component.map((record) => record.streamId);
    await client.query(
      `WITH target AS (SELECT child_key FROM children WHERE founded_by_stream = $1),
       records AS (
         UPDATE subject_records SET child_key = (SELECT child_key FROM target)
         WHERE stream_id = ANY($2::text[]) AND child_key <> (SELECT child_key FROM target)
       ), revived AS (
         UPDATE children SET merged_into = NULL, merged_at_position = NULL
         WHERE child_key = (SELECT child_key FROM target) AND merged_into IS NOT NULL
       )
       UPDATE children SET merged_into = (SELECT child_key FROM target), merged_at_position = $3
       WHERE founded_by_stream = ANY($2::text[]) AND founded_by_stream <> $1
         AND merged_into IS DISTINCT FROM (SELECT child_key FROM target)`,
      [records[0], records, position],
    );
  }
}

async function addLink(
  client: ClientBase,
  link: { subject: string; other: string; method: string; evidence: unknown; by: unknown; at: string },
  recorded: RecordedEvent,
): Promise<void> {
  const [a, b] = orderedPair(link.subject, link.other);
  const position = recorded.position.toString();
  await client.query(
    `INSERT INTO identity_links (subject_a, subject_b, method, evidence, linked_by, linked_at, position, event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
    [
      a,
      b,
      link.method,
      JSON.stringify(link.evidence),
      JSON.stringify(link.by),
      link.at,
      position,
      recorded.eventId,
    ],
  );
  await mergeChildrenOf(client, a, b, position);
}

/** Merges on a link or a confirmed match, splits on an unlink; every identity event joins the history. */
async function applyIdentityEvent(
  client: ClientBase,
  event: IdentityEvent,
  recorded: RecordedEvent,
): Promise<void> {
  await client.query(
    `INSERT INTO identity_history (position, event_id, type, subjects, data, recorded_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [
      recorded.position.toString(),
      recorded.eventId,
      event.type,
      [...new Set(subjectsOfIdentityEvent(event))],
      JSON.stringify(event.data),
      recorded.recordedAt,
    ],
  );
  switch (event.type) {
    case 'identity.subject.linked': {
      const { subject, linkedTo, method, shared, childKey, reason, by, at } = event.data;
      const evidence = method === 'manual' ? { childKey, reason } : { shared };
      await addLink(client, { subject, other: linkedTo, method, evidence, by, at }, recorded);
      return;
    }
    case 'identity.match.confirmed': {
      const { subject, candidate, proposalId, score, reason, by, at } = event.data;
      const evidence = { proposalId, score, ...(reason ? { reason } : {}) };
      await addLink(
        client,
        { subject, other: candidate, method: 'confirmed-match', evidence, by, at },
        recorded,
      );
      return;
    }
    case 'identity.subject.unlinked':
      await splitChildOf(client, event.data.subject, recorded.position.toString());
      return;
    case 'identity.match.proposed':
    case 'identity.match.rejected':
    case 'identity.conflict.flagged':
      return;
    default:
      return assertNever(event);
  }
}

/**
 * One statement per batch for "last seen" and the dates of birth: per record, its latest event
 * in the batch, and the latest date of birth and expected date of birth an event of the batch
 * gave (a record keeps what it had when the batch gives none).
 */
async function markLastSeen(
  client: ClientBase,
  batch: readonly { recorded: RecordedEvent; event: AgencyEvent }[],
): Promise<void> {
  const latest = new Map<string, { recorded: RecordedEvent; born?: string; expected?: string }>();
  for (const { recorded, event } of batch) {
    const seen = latest.get(recorded.streamId);
    latest.set(recorded.streamId, {
      recorded,
      born: event.subject.dateOfBirth ?? seen?.born,
      expected: event.subject.expectedDateOfBirth ?? seen?.expected,
    });
  }
  if (latest.size === 0) return;
  const records = [...latest.values()];
  await client.query(
    `UPDATE subject_records sr SET last_seen_position = t.position, last_seen_at = t.seen_at,
       date_of_birth = COALESCE(t.born, sr.date_of_birth),
       expected_date_of_birth = COALESCE(t.expected, sr.expected_date_of_birth)
     FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::date[], $5::date[])
       AS t(stream_id, position, seen_at, born, expected)
     WHERE sr.stream_id = t.stream_id`,
    [
      records.map((r) => r.recorded.streamId),
      records.map((r) => r.recorded.position.toString()),
      records.map((r) => r.recorded.recordedAt),
      records.map((r) => r.born ?? null),
      records.map((r) => r.expected ?? null),
    ],
  );
}

async function insertEntries(client: ClientBase, entries: readonly TimelineEntryDraft[]): Promise<void> {
  if (entries.length === 0) return;
  await client.query(
    `INSERT INTO timeline_entries
       (position, event_id, stream_id, agency, type, occurred_at, summary, outcome_framework, outcome_domain, details, lineage,
        special_categories, source_organisation)
     SELECT position, event_id, stream_id, agency, type, occurred_at, summary, framework, domain, details::jsonb, lineage::jsonb,
            array(SELECT jsonb_array_elements_text(categories::jsonb)), organisation
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[],
                 $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
       AS t(position, event_id, stream_id, agency, type, occurred_at, summary, framework, domain, details, lineage,
            categories, organisation)`,
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
      entries.map((e) => JSON.stringify(e.specialCategories)),
      entries.map((e) => e.sourceOrganisation ?? null),
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
 * Applies one subscription batch inside the caller's transaction (the runner's, which claims
 * and moves the checkpoint around it): all of it is kept, or none of it and the batch is redone.
 */
export async function applyBatch(
  client: ClientBase,
  projection: string,
  batch: readonly RecordedEvent[],
  salt: string,
): Promise<BatchResult> {
  const entries: TimelineEntryDraft[] = [];
  const skipped: SkippedEvent[] = [];
  const projectedEvents: { recorded: RecordedEvent; event: AgencyEvent }[] = [];
  const agencyStreams = batch
    .filter((recorded) => !isIdentityEventType(recorded.type))
    .map((r) => r.streamId);
  const batchView = await knownRecords(client, [...new Set(agencyStreams)]);
  for (const recorded of batch) {
    if (isIdentityEventType(recorded.type)) {
      const identity = readIdentityEvent(recorded);
      if ('issues' in identity) skipped.push(identity);
      else await applyIdentityEvent(client, identity, recorded);
      continue;
    }
    const read = readStoredEvent(recorded);
    if (!('ok' in read)) {
      skipped.push(read);
      continue;
    }
    await trackRecord(client, read.event, recorded, salt, batchView);
    projectedEvents.push({ recorded, event: read.event });
    entries.push(timelineEntryOf(read.event, recorded, read.storedVersion));
  }
  await markLastSeen(client, projectedEvents);
  await insertEntries(client, entries);
  await recordSkipped(client, projection, skipped);
  return { projected: entries.length, skipped };
}

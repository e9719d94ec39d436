import {
  kafkaKeyOf,
  parseAgencyEvent,
  toContractIssues,
  type Agency,
  type AgencyEvent,
  type ContractIssue,
} from '@throughline/contracts';
import type { Principal } from '@throughline/access';
import { ThroughlineError, ValidationError, type PublisherCredential } from '@throughline/platform';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Partitioners, type IHeaders, type PartitionMetadata, type RecordMetadata } from 'kafkajs';
import { z } from 'zod';

/**
 * The pure centre of the agency gateway: authenticate, validate, shape Kafka messages,
 * read offsets back and build the answer. No I/O here.
 */

export const MAX_BATCH_EVENTS = 1000;

/** The authenticated caller; its id is recorded on every message it publishes. */
export interface Publisher {
  readonly agency: Agency;
  readonly publisherId: string;
  /**
   * The source systems and organisation codes it may publish for (from its client-credentials
   * token). Undefined: not restricted (a static development key).
   */
  readonly sourceSystems?: readonly string[];
  readonly organisationCodes?: readonly string[];
}

/** Rule of an event its publisher may not publish (another system's or organisation's). */
export const NOT_AUTHORISED_FOR_PUBLISHER = 'not-authorised-for-publisher';

/**
 * What in a valid event its publisher is not authorised for: a source system or an
 * organisation outside its token's lists (an organisation-scoped publisher must name one).
 */
export function publisherAuthorisationIssues(event: AgencyEvent, publisher: Publisher): ContractIssue[] {
  const issues: ContractIssue[] = [];
  const { system, organisation } = event.source;
  if (publisher.sourceSystems && !publisher.sourceSystems.includes(system)) {
    issues.push({
      path: 'source.system',
      rule: NOT_AUTHORISED_FOR_PUBLISHER,
      message: `publisher ${publisher.publisherId} may not publish for source system "${system}"`,
    });
  }
  if (publisher.organisationCodes && !(organisation && publisher.organisationCodes.includes(organisation))) {
    issues.push({
      path: 'source.organisation',
      rule: NOT_AUTHORISED_FOR_PUBLISHER,
      message:
        organisation === undefined
          ? `publisher ${publisher.publisherId} publishes only for named organisations: source.organisation is required`
          : `publisher ${publisher.publisherId} may not publish for organisation "${organisation}"`,
    });
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------
// Authentication

function digestOf(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The publishers of one agency, matched by bearer key (compared as digests, in constant time). */
export class PublisherKeyring {
  private readonly entries: readonly { digest: Buffer; publisher: Publisher }[];

  constructor(credentials: readonly PublisherCredential[], agency: Agency) {
    this.entries = credentials
      .filter((credential) => credential.agency === agency)
      .map((credential) => ({
        digest: digestOf(credential.key),
        publisher: { agency, publisherId: credential.publisherId },
      }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** `Authorization: Bearer <key>` to its publisher, or UNAUTHENTICATED. */
  authenticate(authorization: string | undefined): Publisher {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new ThroughlineError('UNAUTHENTICATED', 'missing "Authorization: Bearer <key>" header');
    const presented = digestOf(match[1]);
    // Every entry is compared so that the time taken says nothing about which key matched.
    let found: Publisher | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, presented)) found ??= entry.publisher;
    }
    if (!found) throw new ThroughlineError('UNAUTHENTICATED', 'unknown publisher key for this agency');
    return found;
  }
}

/**
 * The publisher a verified access token names, on the service of `agency`: only an agency
 * system's client-credentials token of this very agency, with a publisher id (403 otherwise).
 * A token without source-system or organisation lists may publish for none.
 */
export function publisherOfPrincipal(principal: Principal, agency: Agency): Publisher {
  if (principal.kind !== 'system')
    throw new ThroughlineError('FORBIDDEN', "only agency systems publish events; this is a person's token");
  if (!principal.agency || !principal.publisherId)
    throw new ThroughlineError(
      'FORBIDDEN',
      `client ${principal.userId} is not registered as a publisher (no agency or publisher_id claim)`,
    );
  if (principal.agency !== agency)
    throw new ThroughlineError(
      'FORBIDDEN',
      `client ${principal.userId} publishes for ${principal.agency}, not to the ${agency} service`,
    );
  return {
    agency,
    publisherId: principal.publisherId,
    sourceSystems: principal.sourceSystems ?? [],
    organisationCodes: principal.organisationCodes ?? [],
  };
}

/** A JWT (three base64url parts), as opposed to a static development key. */
export function looksLikeJwt(bearer: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(bearer);
}

// ---------------------------------------------------------------------------------------------
// Request bodies

const batchBody = z.strictObject({
  events: z.array(z.unknown()).min(1).max(MAX_BATCH_EVENTS),
});

/** `{ "events": [...] }` with 1..1000 items, or a ValidationError naming the rule (`max-items`, …). */
export function eventsOfBatchBody(body: unknown): unknown[] {
  const parsed = batchBody.safeParse(body);
  if (!parsed.success) {
    throw new ValidationError(
      `batch body must be { "events": [...] } with 1..${MAX_BATCH_EVENTS} events`,
      toContractIssues(parsed.error.issues),
    );
  }
  return parsed.data.events;
}

// ---------------------------------------------------------------------------------------------
// Validation

export interface ValidEvent {
  readonly index: number;
  readonly event: AgencyEvent;
}

export interface RejectedResult {
  readonly index: number;
  readonly eventId?: string;
  readonly status: 'rejected';
  readonly issues: readonly ContractIssue[];
}

export interface AcceptedResult {
  readonly index: number;
  readonly eventId: string;
  readonly status: 'accepted';
  readonly topic: string;
  readonly partition: number;
  /** Kafka offsets are 64-bit, so they travel as decimal strings. */
  readonly offset: string;
}

export type EventResult = AcceptedResult | RejectedResult;

export interface PublishResponse {
  readonly accepted: number;
  readonly rejected: number;
  readonly results: readonly EventResult[];
}

/** The eventId of an input, when it has a readable one, so a rejection can still name its event. */
export function readableEventId(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const eventId = (input as { eventId?: unknown }).eventId;
  return typeof eventId === 'string' && eventId.length > 0 && eventId.length <= 100 ? eventId : undefined;
}

/** Each input against the contracts and, when a publisher is given, against what it may publish for. */
export function validateEvents(
  inputs: readonly unknown[],
  agency: Agency,
  publisher?: Publisher,
): { valid: ValidEvent[]; rejected: RejectedResult[] } {
  const valid: ValidEvent[] = [];
  const rejected: RejectedResult[] = [];
  inputs.forEach((input, index) => {
    const parsed = parseAgencyEvent(input, { publishingAgency: agency });
    const issues = parsed.ok
      ? publisher
        ? publisherAuthorisationIssues(parsed.event, publisher)
        : []
      : parsed.issues;
    if (parsed.ok && issues.length === 0) {
      valid.push({ index, event: parsed.event });
      return;
    }
    const eventId = readableEventId(input);
    rejected.push({
      index,
      ...(eventId === undefined ? {} : { eventId }),
      status: 'rejected',
      issues,
    });
  });
  return { valid, rejected };
}

// ---------------------------------------------------------------------------------------------
// Kafka messages

export interface OutgoingMessage {
  readonly key: string;
  readonly value: string;
  readonly partition: number;
  readonly headers: IHeaders;
}

type HeaderValue = IHeaders[string];

function headerValueBytes(value: HeaderValue): number {
  if (value === undefined) return 0;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (Buffer.isBuffer(value)) return value.length;
  let bytes = 0;
  for (const part of value) bytes += headerValueBytes(part);
  return bytes;
}

/** The bytes a message puts in its partition's record batch, less Kafka's framing: key, value, headers. */
export function messageBytes(message: OutgoingMessage): number {
  let bytes = Buffer.byteLength(message.key) + Buffer.byteLength(message.value);
  for (const name in message.headers)
    bytes += Buffer.byteLength(name) + headerValueBytes(message.headers[name]);
  return bytes;
}

/**
 * Splits messages, in order, into consecutive sends in which no partition gets more than
 * maxPartitionBytes (`messageBytes`): the broker's limit (message.max.bytes) is on each
 * partition's record batch, not on the request, so a batch spread over several partitions
 * usually goes in one send. A message larger than the limit goes alone in its partition's batch.
 * Consecutive sends keep each partition's messages in order.
 */
export function sendChunks(
  messages: readonly OutgoingMessage[],
  maxPartitionBytes: number,
): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let bytesByPartition = new Map<number, number>();
  for (const message of messages) {
    const size = messageBytes(message);
    const filled = bytesByPartition.get(message.partition);
    if (filled !== undefined && filled + size > maxPartitionBytes) {
      chunks.push(current);
      current = [];
      bytesByPartition = new Map();
    }
    current.push(message);
    bytesByPartition.set(message.partition, (bytesByPartition.get(message.partition) ?? 0) + size);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** `trace`: the W3C trace context headers (traceparent, tracestate) of the publishing span. */
export function headersOf(
  event: AgencyEvent,
  publisher: Publisher,
  trace: Readonly<Record<string, string>> = {},
): IHeaders {
  const headers: IHeaders = {
    ...trace,
    'event-id': event.eventId,
    'event-type': event.type,
    'schema-version': String(event.schemaVersion),
    publisher: publisher.publisherId,
    'source-system': event.source.system,
    'content-type': 'application/json',
  };
  if (event.correlationId) headers['correlation-id'] = event.correlationId;
  return headers;
}

const choosePartition = Partitioners.DefaultPartitioner();

/**
 * The partition kafkajs's default (Java-compatible murmur2) partitioner picks for a key.
 * The gateway chooses it itself so that it knows which partition, and so which offset,
 * each message got.
 */
export function partitionForKey(
  topic: string,
  key: string,
  partitions: readonly PartitionMetadata[],
): number {
  if (partitions.length === 0) throw new Error(`topic ${topic} has no partitions in its metadata`);
  return choosePartition({ topic, partitionMetadata: [...partitions], message: { key, value: null } });
}

/** The message exactly as validated: key = the subject's agency record id, value = the event's JSON. */
export function toOutgoingMessage(
  event: AgencyEvent,
  publisher: Publisher,
  topic: string,
  partitions: readonly PartitionMetadata[],
  trace: Readonly<Record<string, string>> = {},
): OutgoingMessage {
  const key = kafkaKeyOf(event);
  return {
    key,
    value: JSON.stringify(event),
    partition: partitionForKey(topic, key, partitions),
    headers: headersOf(event, publisher, trace),
  };
}

/**
 * Offsets of the messages of one send, in send order. Kafka answers with the base offset per
 * partition; the messages of one send to one partition are appended in order, so each one's
 * offset is the base plus its position among that partition's messages.
 */
export function offsetsOfSend(
  topic: string,
  messagePartitions: readonly number[],
  metadata: readonly RecordMetadata[],
): string[] {
  const baseOffsets = new Map<number, bigint>();
  for (const record of metadata) {
    if (record.topicName !== topic) continue;
    const base = record.baseOffset ?? record.offset;
    if (base === undefined) throw new Error(`no base offset for ${topic}/${record.partition}`);
    baseOffsets.set(record.partition, BigInt(base));
  }
  const seen = new Map<number, bigint>();
  return messagePartitions.map((partition) => {
    const base = baseOffsets.get(partition);
    if (base === undefined) throw new Error(`Kafka did not acknowledge ${topic}/${partition}`);
    const position = seen.get(partition) ?? 0n;
    seen.set(partition, position + 1n);
    return String(base + position);
  });
}

// ---------------------------------------------------------------------------------------------
// The answer

export interface Placement {
  readonly partition: number;
  readonly offset: string;
}

/** Results in input order; `placements[i]` belongs to `valid[i]`. */
export function buildPublishResponse(
  topic: string,
  valid: readonly ValidEvent[],
  placements: readonly Placement[],
  rejected: readonly RejectedResult[],
): PublishResponse {
  if (valid.length !== placements.length) throw new Error('every valid event needs its placement');
  const accepted: AcceptedResult[] = valid.map(({ index, event }, i) => ({
    index,
    eventId: event.eventId,
    status: 'accepted',
    topic,
    partition: placements[i].partition,
    offset: placements[i].offset,
  }));
  const results = [...accepted, ...rejected].sort((a, b) => a.index - b.index);
  return { accepted: accepted.length, rejected: rejected.length, results };
}

/** 202 when anything was accepted (a batch may be partly accepted), 400 when nothing was. */
export function httpStatusOf(response: PublishResponse): 202 | 400 {
  return response.accepted > 0 ? 202 : 400;
}

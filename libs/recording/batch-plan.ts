import {
  parseAgencyEventBytes,
  streamIdOf,
  type AgencyEvent,
  type ContractIssue,
} from '@throughline/contracts';
import { RECORDED_BY_RECORDER, type EventToAppend, type StreamAppend } from '@throughline/event-store';
import {
  AGENCY_KAFKA_PRINCIPALS,
  TRACEPARENT_HEADER,
  ThroughlineError,
  ValidationError,
  classifyFailure,
  validTraceparent,
  type AgencyName,
} from '@throughline/platform';

/**
 * The pure centre of the recorder: one Kafka batch (one topic-partition) in, what to
 * dead-letter, what to append and which checkpoint to write out. The loop in recorder.ts
 * does the I/O around it.
 */

/**
 * The Kafka header an agency service sets to name the publisher it authenticated. Only that
 * agency's service may write the topic (broker ACLs), so the header is the gateway's own claim,
 * never one a producer of its choosing made.
 */
export const PUBLISHER_HEADER = 'publisher';

/** Who wrote an event into the store; lineage metadata carries it (readers trust it: event-store's `validatedAtIntake`). */
export const RECORDED_BY = RECORDED_BY_RECORDER;

/** A consumed Kafka message with its headers already decoded to text. */
export interface IncomingMessage {
  /** Kafka offset, a decimal string. */
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Kafka timestamp in epoch milliseconds, a decimal string. */
  readonly timestamp: string;
}

export interface IncomingBatch {
  /**
   * The Kafka cluster the batch came from. Offsets mean something only inside one cluster:
   * a broker formatted afresh starts every partition at 0 again, and a checkpoint from the
   * old cluster must not make the recorder skip the new one's events.
   */
  readonly clusterId: string;
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  /** The agency that owns the topic: events on it must come from that agency. */
  readonly agency: AgencyName;
  readonly messages: readonly IncomingMessage[];
  /** The next offset to consume as stored with the events (undefined: nothing stored yet). */
  readonly storedCheckpoint?: string;
  /** The clock, for the "not in the future" rule. */
  readonly now: Date;
}

/** Where an event came from, written as its metadata. */
export interface Lineage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  /** The publisher the agency service authenticated (its header). */
  readonly publisher: string | null;
  /** The Kafka principal that wrote the message, derived from the topic, which only it may write. */
  readonly kafkaPrincipal: string;
  readonly sourceSystem: string;
  /** ISO-8601, from the Kafka message timestamp. */
  readonly kafkaTimestamp: string | null;
  readonly recordedBy: typeof RECORDED_BY;
  /** The W3C trace context of the publishing request, when the message carried a valid one. */
  readonly traceparent?: string;
}

export type DeadLetterReason = 'unparseable' | 'contract-violation' | 'store-rejected';

export interface DeadLetter {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  /** The original bytes, untouched. */
  readonly value: Buffer | null;
  /** The original message's headers. */
  readonly headers: Readonly<Record<string, string>>;
  readonly reason: DeadLetterReason;
  readonly issues: readonly ContractIssue[];
  readonly deadLetteredAt: Date;
}

/** A message that passed the contracts, ready to append on its own (the fallback path). */
export interface AcceptedMessage {
  readonly offset: string;
  /** The message as consumed, to dead-letter it if the store refuses the event. */
  readonly message: IncomingMessage;
  readonly streamId: string;
  readonly event: EventToAppend;
}

export interface BatchPlan {
  /** The checkpoint row for this group, topic and partition. */
  readonly checkpointName: string;
  /** Offsets at or past the stored checkpoint, in offset order. */
  readonly accepted: readonly AcceptedMessage[];
  /** `accepted` grouped per stream, order kept within each stream; streams by first appearance. */
  readonly appends: readonly StreamAppend[];
  readonly deadLetters: readonly DeadLetter[];
  /** Offsets already covered by the stored checkpoint (redelivered after a crash). */
  readonly alreadyRecorded: readonly string[];
  /**
   * Checkpoints to write with the events: this partition's next offset to consume. Empty
   * when the whole batch was already recorded (nothing to move).
   */
  readonly checkpoints: Readonly<Record<string, string>>;
  /** The offset to commit to Kafka: one past the last message of the batch. */
  readonly nextOffset: string;
}

/** The store's checkpoint row for one consumer group on one partition of one Kafka cluster. */
export function checkpointNameOf(
  clusterId: string,
  groupId: string,
  topic: string,
  partition: number,
): string {
  return `kafka:${clusterId}:${groupId}:${topic}:${partition}`;
}

/** The dead-letter reason for contract issues: JSON and empty values cannot be read at all. */
export function reasonOf(issues: readonly ContractIssue[]): DeadLetterReason {
  const unreadable = issues.some(
    (issue) => issue.path === '' && (issue.rule === 'json' || issue.rule === 'required'),
  );
  return unreadable ? 'unparseable' : 'contract-violation';
}

function keyText(key: Buffer | null): string | null {
  return key === null ? null : key.toString('utf8');
}

function isoTimestamp(epochMs: string): string | null {
  const ms = Number(epochMs);
  return Number.isFinite(ms) && ms >= 0 ? new Date(ms).toISOString() : null;
}

export function lineageOf(
  batch: Pick<IncomingBatch, 'topic' | 'partition' | 'agency'>,
  message: IncomingMessage,
  event: AgencyEvent,
): Lineage {
  const traceparent = validTraceparent(message.headers[TRACEPARENT_HEADER]);
  return {
    topic: batch.topic,
    partition: batch.partition,
    offset: message.offset,
    key: keyText(message.key),
    publisher: message.headers[PUBLISHER_HEADER] ?? null,
    kafkaPrincipal: AGENCY_KAFKA_PRINCIPALS[batch.agency],
    sourceSystem: event.source.system,
    kafkaTimestamp: isoTimestamp(message.timestamp),
    recordedBy: RECORDED_BY,
    // Never a malformed header: it would be stored for good.
    ...(traceparent === undefined ? {} : { traceparent }),
  };
}

export function deadLetterOf(
  batch: Pick<IncomingBatch, 'topic' | 'partition'>,
  message: IncomingMessage,
  reason: DeadLetterReason,
  issues: readonly ContractIssue[],
  deadLetteredAt: Date,
): DeadLetter {
  return {
    topic: batch.topic,
    partition: batch.partition,
    offset: message.offset,
    key: keyText(message.key),
    value: message.value,
    headers: message.headers,
    reason,
    issues,
    deadLetteredAt,
  };
}

/**
 * true when the store refused the input itself, so retrying cannot help and the culprit is
 * to be isolated and dead-lettered: the retry rule's `dead-letter` (classifyFailure), e.g. a
 * validation, an event id used on another stream, a PostgreSQL data exception (class 22, a NUL
 * in text) or integrity violation. Anything else, known or not, is retried: never dead-letter
 * a good event because a connection failed in an unfamiliar way.
 */
export function isRefusedByStore(error: unknown): boolean {
  return classifyFailure(error).action === 'dead-letter';
}

/** Why the store refused an event, as issues for its dead letter. */
export function storeRejectionIssues(error: unknown): ContractIssue[] {
  if (error instanceof ValidationError) return [...error.issues];
  if (error instanceof ThroughlineError) return [{ path: '', rule: error.code, message: error.message }];
  return [{ path: '', rule: 'store', message: error instanceof Error ? error.message : String(error) }];
}

/** Groups events per stream, keeping their order within each stream. */
export function groupByStream(accepted: readonly AcceptedMessage[]): StreamAppend[] {
  const byStream = new Map<string, EventToAppend[]>();
  for (const { streamId, event } of accepted) {
    const events = byStream.get(streamId) ?? [];
    events.push(event);
    byStream.set(streamId, events);
  }
  return [...byStream].map(([streamId, events]) => ({ streamId, events, expectedRevision: 'any' }));
}

/**
 * Validates every message again (a topic can be written by anything), turns the valid ones
 * into appends with their lineage and the rest into dead letters, and skips offsets the
 * stored checkpoint already covers.
 */
export function planBatch(batch: IncomingBatch): BatchPlan {
  const checkpointName = checkpointNameOf(batch.clusterId, batch.groupId, batch.topic, batch.partition);
  const stored = batch.storedCheckpoint === undefined ? -1n : BigInt(batch.storedCheckpoint);
  const accepted: AcceptedMessage[] = [];
  const deadLetters: DeadLetter[] = [];
  const alreadyRecorded: string[] = [];
  let last = -1n;

  for (const message of batch.messages) {
    const offset = BigInt(message.offset);
    if (offset > last) last = offset;
    if (offset < stored) {
      alreadyRecorded.push(message.offset);
      continue;
    }
    const parsed = parseAgencyEventBytes(message.value, { now: batch.now, publishingAgency: batch.agency });
    if (!parsed.ok) {
      deadLetters.push(deadLetterOf(batch, message, reasonOf(parsed.issues), parsed.issues, batch.now));
      continue;
    }
    const { event } = parsed;
    accepted.push({
      offset: message.offset,
      message,
      streamId: streamIdOf(event),
      event: {
        eventId: event.eventId,
        type: event.type,
        data: event,
        metadata: { ...lineageOf(batch, message, event) },
      },
    });
  }

  const afterBatch = last + 1n;
  const moves = batch.messages.length > 0 && afterBatch > stored;
  return {
    checkpointName,
    accepted,
    appends: groupByStream(accepted),
    deadLetters,
    alreadyRecorded,
    checkpoints: moves ? { [checkpointName]: afterBatch.toString() } : {},
    nextOffset: (afterBatch > stored ? afterBatch : stored).toString(),
  };
}

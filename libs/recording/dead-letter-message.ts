import type { ContractIssue } from '@throughline/contracts';
import type { DeadLetter, DeadLetterReason } from './batch-plan';

/** Header names on the dead-letter topic. */
export const DEAD_LETTER_HEADERS = {
  originalTopic: 'original-topic',
  originalPartition: 'original-partition',
  originalOffset: 'original-offset',
  originalKey: 'original-key',
  originalHeaders: 'original-headers',
  reason: 'dead-letter-reason',
  issues: 'dead-letter-issues',
  deadLetteredAt: 'dead-lettered-at',
} as const;

export interface DeadLetterKafkaMessage {
  /** The original coordinates: a redelivered poison message carries the same key, so readers can drop the repeat. */
  readonly key: string;
  /** The original bytes. */
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
}

export function deadLetterKafkaMessage(deadLetter: DeadLetter): DeadLetterKafkaMessage {
  const headers: Record<string, string> = {
    [DEAD_LETTER_HEADERS.originalTopic]: deadLetter.topic,
    [DEAD_LETTER_HEADERS.originalPartition]: String(deadLetter.partition),
    [DEAD_LETTER_HEADERS.originalOffset]: deadLetter.offset,
    [DEAD_LETTER_HEADERS.originalHeaders]: JSON.stringify(deadLetter.headers),
    [DEAD_LETTER_HEADERS.reason]: deadLetter.reason,
    [DEAD_LETTER_HEADERS.issues]: JSON.stringify(deadLetter.issues),
    [DEAD_LETTER_HEADERS.deadLetteredAt]: deadLetter.deadLetteredAt.toISOString(),
  };
  if (deadLetter.key !== null) headers[DEAD_LETTER_HEADERS.originalKey] = deadLetter.key;
  return {
    key: `${deadLetter.topic}:${deadLetter.partition}:${deadLetter.offset}`,
    value: deadLetter.value,
    headers,
  };
}

/** A message value for people to read: UTF-8 text when it decodes cleanly, base64 otherwise. */
export type ReadableValue =
  | { readonly encoding: 'utf8'; readonly text: string }
  | { readonly encoding: 'base64'; readonly text: string }
  | { readonly encoding: 'none'; readonly text: null };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function readableValue(value: Buffer | null): ReadableValue {
  if (value === null) return { encoding: 'none', text: null };
  try {
    return { encoding: 'utf8', text: strictUtf8.decode(value) };
  } catch {
    return { encoding: 'base64', text: value.toString('base64') };
  }
}

/** The first successful re-drive of a dead letter. */
export interface DeadLetterRedrive {
  readonly redrivenAt: string;
  /** Who asked: the verified user of the request. */
  readonly redrivenBy: string;
  /** stored: appended now; already-stored: the event was in the store already (nothing written). */
  readonly outcome: 'stored' | 'already-stored';
  readonly eventId: string | null;
  readonly streamId: string | null;
  /** The event's global position in the store, a decimal string. */
  readonly position: string | null;
}

/**
 * A stored dead letter as listed over HTTP: where it came from, why it was refused, and its
 * re-drive. No message key, headers or payload: those hold child data and are read one dead
 * letter at a time, with a purpose (DeadLetterPayload).
 */
export interface DeadLetterView {
  readonly id: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly reason: DeadLetterReason;
  readonly issues: readonly ContractIssue[];
  readonly deadLetteredAt: string;
  /** null until re-driven successfully. */
  readonly redrive: DeadLetterRedrive | null;
}

/** What a dead letter carried: its message key, headers and value as readable text. */
export interface DeadLetterPayload {
  readonly id: string;
  readonly key: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly value: ReadableValue;
}

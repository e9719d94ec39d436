import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { EVENT_TYPES, type Agency } from '@throughline/contracts';
import { createKafka, gatewayRejectionsTopic, type GatewayRejectionNote } from '@throughline/platform';
import type { Producer } from 'kafkajs';
import { Counter, Registry } from 'prom-client';
import { GatewaySettings } from './gateway-settings';
import type { Publisher, RejectedResult } from './publication';

/**
 * Every event the gateway rejects is noted, without its payload, on the gateway-rejections topic
 * for the recorder to keep (docs/decisions/012-gateway-rejections.md). A note holds names only —
 * publisher, source system, organisation, event type, rules and field paths — and each of them
 * only when it cannot be a child's identifier: identifiers (NHS number, UPN, ULN, LA child id)
 * all hold a run of digits, a field path can hold a key the publisher made up, so such values are
 * dropped or masked rather than kept.
 */

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);
const RULE = /^[A-Za-z0-9_.:-]{1,64}$/;
/** A run of digits as long as the shortest identifier's (a school URN is an organisation, 6 digits). */
const DIGIT_RUN = /\d{7,}/;
const SYSTEM_NAME = /^[A-Za-z][A-Za-z0-9 ._:/-]{0,99}$/;
const ORGANISATION_CODE = /^[A-Za-z0-9][A-Za-z0-9-]{0,19}$/;
const PATH_KEY = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const PATH_INDEX = /^\d{1,4}$/;
const MAX_ISSUES = 50;

function field(input: unknown, ...path: string[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** A name the publisher wrote, kept only when it looks like a name and cannot be an identifier. */
function nameOf(value: unknown, pattern: RegExp): string | null {
  return typeof value === 'string' && pattern.test(value) && !DIGIT_RUN.test(value) ? value : null;
}

/** A field path with every segment that is neither a plain key nor an array index masked as `*`. */
export function maskedPath(path: string): string {
  if (path === '') return '';
  return path
    .split('.')
    .map((segment) =>
      PATH_INDEX.test(segment) || (PATH_KEY.test(segment) && !DIGIT_RUN.test(segment)) ? segment : '*',
    )
    .join('.')
    .slice(0, 300);
}

/** The notes of one request's rejected events (pure: the clock and ids are the caller's). */
export function rejectionNotesOf(
  agency: Agency,
  publisher: Publisher,
  inputs: readonly unknown[],
  rejected: readonly RejectedResult[],
  now: Date,
  newId: () => string = randomUUID,
): GatewayRejectionNote[] {
  return rejected.map((result) => {
    const input = inputs[result.index];
    const type = field(input, 'type');
    const version = field(input, 'schemaVersion');
    const issues = result.issues.slice(0, MAX_ISSUES).map((issue) => ({
      path: maskedPath(issue.path),
      rule: RULE.test(issue.rule) ? issue.rule : 'other',
    }));
    return {
      noteId: newId(),
      agency,
      publisher: publisher.publisherId,
      sourceSystem: nameOf(field(input, 'source', 'system'), SYSTEM_NAME),
      sourceOrganisation: nameOf(field(input, 'source', 'organisation'), ORGANISATION_CODE),
      eventType: typeof type === 'string' && KNOWN_TYPES.has(type) ? type : 'unknown',
      schemaVersion:
        typeof version === 'number' && Number.isInteger(version) && version >= 1 && version <= 1000
          ? version
          : null,
      issues: issues.length > 0 ? issues : [{ path: '', rule: 'other' }],
      rejectedAt: now.toISOString(),
    };
  });
}

/** What sends the notes (a kafkajs producer in the app; a stand-in in unit tests). */
export interface NoteSender {
  connect(): Promise<void>;
  send(notes: readonly GatewayRejectionNote[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface RejectionNoteOptions {
  /** Notes waiting to be sent at most; past it the oldest are dropped (and counted). Default 10000. */
  readonly maxQueued?: number;
  /** Notes per send. Default 500. */
  readonly batchSize?: number;
  /** A send that takes longer is given up (its notes dropped, counted). Default 5000 ms. */
  readonly sendTimeoutMs?: number;
  /** Pause after a failed send before the next attempt. Default 1000 ms. */
  readonly retryPauseMs?: number;
  /** Attempts per batch before its notes are dropped (counted). Default 3. */
  readonly attempts?: number;
}

const DEFAULTS: Required<RejectionNoteOptions> = {
  maxQueued: 10_000,
  batchSize: 500,
  sendTimeoutMs: 5_000,
  retryPauseMs: 1_000,
  attempts: 3,
};

async function bounded<T>(work: Promise<T>, ms: number): Promise<T> {
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no acknowledgement within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Queues notes and sends them in the background: `note()` returns at once and never throws, so
 * a publish is never slowed or failed by the rejection store. When Kafka is down or slow the
 * notes wait in a bounded queue, then are dropped and counted
 * (throughline_gateway_rejection_notes_dropped_total), never retried without end.
 */
export class RejectionNoteQueue {
  private readonly queue: GatewayRejectionNote[] = [];
  private readonly options: Required<RejectionNoteOptions>;
  private draining: Promise<void> | undefined;
  private connected: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly sender: NoteSender,
    private readonly counters: { sent(count: number): void; dropped(count: number, why: string): void },
    private readonly logger: Pick<Logger, 'warn'>,
    options: RejectionNoteOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  note(notes: readonly GatewayRejectionNote[]): void {
    if (notes.length === 0) return;
    if (this.closed) {
      this.counters.dropped(notes.length, 'shutting down');
      return;
    }
    this.queue.push(...notes);
    const over = this.queue.length - this.options.maxQueued;
    if (over > 0) {
      this.queue.splice(0, over);
      this.counters.dropped(over, 'queue full');
    }
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  /** Resolves when the queue is empty (tests), or after its current send when closed. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Sends what is queued within the send timeout, then disconnects; later notes are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle().catch(() => undefined);
    if (this.queue.length > 0) this.counters.dropped(this.queue.splice(0).length, 'shutting down');
    await this.sender.disconnect().catch(() => undefined);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.batchSize);
      let lastError: unknown;
      for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
        try {
          this.connected ??= bounded(this.sender.connect(), this.options.sendTimeoutMs).catch((error) => {
            this.connected = undefined;
            throw error;
          });
          await this.connected;
          await bounded(this.sender.send(batch), this.options.sendTimeoutMs);
          this.counters.sent(batch.length);
          lastError = undefined;
          break;
        } catch (error) {
          lastError = error;
          if (this.closed || attempt === this.options.attempts) break;
          await new Promise((resolve) => setTimeout(resolve, this.options.retryPauseMs));
        }
      }
      if (lastError !== undefined) {
        this.counters.dropped(batch.length, 'not acknowledged');
        this.logger.warn(
          `${batch.length} gateway rejection note(s) dropped: ${
            lastError instanceof Error ? lastError.message : String(lastError)
          }`,
        );
      }
    }
  }
}

/** A kafkajs producer of the agency's own principal for the notes (not the events' producer). */
function kafkaNoteSender(settings: GatewaySettings): NoteSender {
  const topic = gatewayRejectionsTopic(settings.config.KAFKA_TOPIC_PREFIX);
  const kafka = createKafka(settings.config, settings.agency, {
    clientSuffix: `${settings.agency}-gateway-rejections`,
    retry: { retries: 2, initialRetryTime: 100 },
  });
  // Not idempotent: a note sent twice is kept once (its noteId), and the events' producer keeps
  // its one request in flight to itself.
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 2 } });
  return {
    connect: () => producer.connect(),
    send: async (notes) => {
      await producer.send({
        topic,
        acks: -1,
        messages: notes.map((note) => ({
          key: note.agency,
          value: JSON.stringify(note),
          headers: { 'content-type': 'application/json' },
        })),
      });
    },
    disconnect: () => producer.disconnect(),
  };
}

/**
 * The agency service's rejection notes: queued per request, sent in the background. The first
 * note connects its producer (a service that rejects nothing never opens one).
 */
@Injectable()
export class GatewayRejectionNotes implements OnApplicationShutdown {
  private readonly logger = new Logger(GatewayRejectionNotes.name);
  private readonly queue: RejectionNoteQueue;

  constructor(
    @Inject(GatewaySettings) private readonly settings: GatewaySettings,
    @Inject(Registry) registry: Registry,
  ) {
    const sent = new Counter({
      name: 'throughline_gateway_rejection_notes_sent_total',
      help: 'Rejection notes acknowledged by Kafka (gateway-rejections topic)',
      registers: [registry],
    });
    const dropped = new Counter<'reason'>({
      name: 'throughline_gateway_rejection_notes_dropped_total',
      help: 'Rejection notes given up (Kafka down or slow, queue full, shutting down): those rejections are counted only here and in throughline_gateway_events_rejected_total',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.queue = new RejectionNoteQueue(
      kafkaNoteSender(settings),
      {
        sent: (count) => sent.inc(count),
        dropped: (count, reason) => dropped.inc({ reason }, count),
      },
      this.logger,
    );
  }

  /** Notes the rejected events of one request; returns at once, never throws. */
  note(publisher: Publisher, inputs: readonly unknown[], rejected: readonly RejectedResult[]): void {
    if (rejected.length === 0) return;
    try {
      this.queue.note(rejectionNotesOf(this.settings.agency, publisher, inputs, rejected, new Date()));
    } catch (error) {
      this.logger.warn(
        `could not note rejections: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** Resolves when every note so far is sent or dropped (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}

import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { backoffDelay, GATEWAY_REJECTION_NOTE, type GatewayRejectionNote } from '@throughline/platform';
import type { RecorderLogger } from './recorder';

/**
 * The events the agency services rejected, as the recorder keeps them (table gateway_rejections,
 * append-only): one row per rejected event, from the notes the gateways put on the
 * gateway-rejections topic (docs/decisions/012-gateway-rejections.md). No payload ever reaches
 * here: a note holds names, rules and masked field paths only.
 */

/** A note and where on Kafka it was read. */
export interface ConsumedRejectionNote {
  readonly note: GatewayRejectionNote;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** A kept rejection, as governance reads it. */
export interface GatewayRejection extends GatewayRejectionNote {
  readonly recordedAt: string;
}

interface RejectionRow {
  note_id: string;
  agency: GatewayRejectionNote['agency'];
  publisher: string;
  source_system: string | null;
  source_organisation: string | null;
  event_type: string;
  schema_version: number | null;
  issues: GatewayRejectionNote['issues'];
  rejected_at: Date;
  recorded_at: Date;
}

/** The gateway_rejections table (created by the recording migrations, 004). */
export class GatewayRejections {
  constructor(private readonly pool: Pool) {}

  /** Inserts the notes; one already kept (same noteId: a redelivery) is left as it was. */
  async record(consumed: readonly ConsumedRejectionNote[]): Promise<number> {
    if (consumed.length === 0) return 0;
    const notes = consumed.map((item) => item.note);
    const result = await this.pool.query(
      `INSERT INTO gateway_rejections
         (note_id, agency, publisher, source_system, source_organisation, event_type, schema_version,
          rules, issues, rejected_at, topic, partition, "offset")
       SELECT n.note_id, n.agency, n.publisher, n.source_system, n.source_organisation, n.event_type,
              n.schema_version,
              ARRAY(SELECT DISTINCT i->>'rule' FROM jsonb_array_elements(n.issues) AS i ORDER BY 1),
              n.issues, n.rejected_at, n.topic, n.partition, n."offset"
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
                   $8::jsonb[], $9::timestamptz[], $10::text[], $11::int[], $12::bigint[])
            AS n(note_id, agency, publisher, source_system, source_organisation, event_type, schema_version,
                 issues, rejected_at, topic, partition, "offset")
       ON CONFLICT (note_id) DO NOTHING`,
      [
        notes.map((note) => note.noteId),
        notes.map((note) => note.agency),
        notes.map((note) => note.publisher),
        notes.map((note) => note.sourceSystem),
        notes.map((note) => note.sourceOrganisation),
        notes.map((note) => note.eventType),
        notes.map((note) => note.schemaVersion),
        notes.map((note) => JSON.stringify(note.issues)),
        notes.map((note) => note.rejectedAt),
        consumed.map((item) => item.topic),
        consumed.map((item) => item.partition),
        consumed.map((item) => item.offset),
      ],
    );
    return result.rowCount ?? 0;
  }

  /** The rejections in [from, to), oldest first, at most `limit`. */
  async list(from: Date, to: Date, limit = 1000): Promise<GatewayRejection[]> {
    const result = await this.pool.query<RejectionRow>(
      `SELECT note_id, agency, publisher, source_system, source_organisation, event_type, schema_version,
              issues, rejected_at, recorded_at
       FROM gateway_rejections WHERE rejected_at >= $1 AND rejected_at < $2
       ORDER BY rejected_at, id LIMIT $3`,
      [from, to, limit],
    );
    return result.rows.map((row) => ({
      noteId: row.note_id,
      agency: row.agency,
      publisher: row.publisher,
      sourceSystem: row.source_system,
      sourceOrganisation: row.source_organisation,
      eventType: row.event_type,
      schemaVersion: row.schema_version,
      issues: row.issues,
      rejectedAt: row.rejected_at.toISOString(),
      recordedAt: row.recorded_at.toISOString(),
    }));
  }
}

/** A message of the topic as a note, or why it is not one (nothing but the gateways may write it). */
export function rejectionNoteOf(value: Buffer | null): GatewayRejectionNote | string {
  if (value === null) return 'no value';
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  const note = GATEWAY_REJECTION_NOTE.safeParse(parsed);
  return note.success
    ? note.data
    : note.error.issues.map((issue) => `${issue.path.join('.') || '(note)'}: ${issue.message}`).join('; ');
}

export interface GatewayRejectionRecorderOptions {
  /** A client of the recorder's principal (createKafka(config, 'recorder')). */
  readonly kafka: Kafka;
  readonly rejections: GatewayRejections;
  /** gatewayRejectionsTopic(KAFKA_TOPIC_PREFIX). */
  readonly topic: string;
  /** gatewayRejectionsGroup(RECORDER_GROUP_ID): the group the broker lets the recorder use for it. */
  readonly groupId: string;
  readonly logger?: RecorderLogger;
  /** Longest pause between attempts to (re)start the consumer, in ms. Default 30000. */
  readonly maxRestartDelayMs?: number;
}

const silent: RecorderLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Consumes the gateway-rejections topic into gateway_rejections: a batch is inserted, then its
 * offsets are committed (a crash in between delivers it again; the noteId keeps it once). It runs
 * beside the recorder and never holds it up: when the topic or its ACLs are missing (a broker
 * started before them) or Kafka is down, it says so and tries again in the background.
 */
export class GatewayRejectionRecorder {
  private readonly logger: RecorderLogger;
  private consumer: Consumer | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private stopped = false;
  private running: Promise<void> | undefined;
  private recorded = 0;

  constructor(private readonly options: GatewayRejectionRecorderOptions) {
    this.logger = options.logger ?? silent;
  }

  /** Starts consuming in the background; resolves at once (failures are retried, and logged). */
  start(): void {
    this.stopped = false;
    this.running ??= this.run().finally(() => (this.running = undefined));
  }

  /** Notes kept since start (new rows; redeliveries not counted). */
  get keptSinceStart(): number {
    return this.recorded;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.running?.catch(() => undefined);
    await this.disconnect();
  }

  private async run(): Promise<void> {
    const { kafka, topic, groupId } = this.options;
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return; // kafkajs restarts it itself
      this.logger.warn(`gateway rejections consumer stopped: ${payload.error.message}; starting it again`);
      this.scheduleRestart();
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ eachBatch: (payload) => this.keep(payload) });
      this.attempts = 0;
      this.logger.log(`keeping gateway rejections from ${topic} as group ${groupId}`);
    } catch (error) {
      this.logger.warn(
        `gateway rejections not consumed yet (${(error as Error).message}); trying again in the background`,
      );
      this.scheduleRestart();
    }
  }

  private scheduleRestart(): void {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempts++, {
      initialMs: 1_000,
      maxMs: this.options.maxRestartDelayMs ?? 30_000,
    });
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      void this.disconnect().then(() => {
        if (!this.stopped) this.start();
      });
    }, delay);
    this.restartTimer.unref();
  }

  private async disconnect(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect().catch(() => undefined);
  }

  private async keep({ batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> {
    const consumed: ConsumedRejectionNote[] = [];
    for (const message of batch.messages) {
      const note = rejectionNoteOf(message.value);
      if (typeof note === 'string') {
        // Only the agency services may write the topic; a bad note is a bug of one of them.
        this.logger.warn(
          `not a gateway rejection note at ${batch.topic}/${batch.partition}/${message.offset}: ${note}`,
        );
        continue;
      }
      consumed.push({ note, topic: batch.topic, partition: batch.partition, offset: message.offset });
    }
    // Thrown: kafkajs retries the batch, then restarts the consumer from the committed offset.
    this.recorded += await this.options.rejections.record(consumed);
    const last = batch.messages[batch.messages.length - 1];
    if (last) resolveOffset(last.offset);
    await heartbeat();
  }
}

import type { Message, Producer } from 'kafkajs';
import { streamIdOf, type AgencyEvent } from '@throughline/contracts';
import type { EventStore, RecordedEvent } from '@throughline/event-store';
import { AGENCIES, type AgencyName, type TopicNames } from '@throughline/platform';
import { PUBLISHER_HEADER } from '@throughline/recording';
import {
  buildAttendanceSummarised,
  buildImmunisationGiven,
  buildReferralReceived,
  freshRecordId,
} from './events';

/**
 * Events for exactly-once tests: a fixed set of subjects on the three agency topics, one event
 * per subject per round, produced in order. A round is re-sent with the same event ids until
 * Kafka acknowledges it (a broker going away mid-send may or may not have written it), so the
 * number of distinct events in is exact while Kafka may hold duplicates, which the store must
 * absorb. Per subject, the list of event ids is the order the store must keep.
 */
export interface SubjectFlowOptions {
  readonly producer: Producer;
  readonly topics: TopicNames;
  readonly subjectsPerAgency: number;
  /** Longest time one round is re-sent before the flow gives up. Default 120000 ms. */
  readonly maxRoundRetryMs?: number;
  /** Pause between two attempts at a round. Default 500 ms. */
  readonly retryPauseMs?: number;
}

export interface StoreComparison {
  /** Events in the store (all of readAll). */
  readonly stored: number;
  /** Distinct event ids in the store. */
  readonly distinct: number;
  /** Produced event ids the store lacks. */
  readonly missing: readonly string[];
  /** Stored event ids that were never produced. */
  readonly unexpected: readonly string[];
  /** Streams whose stored event ids differ from the produced order. */
  readonly outOfOrder: readonly string[];
}

const builders: Record<AgencyName, (recordId: string) => AgencyEvent> = {
  health: (recordId) => buildImmunisationGiven({ subject: { recordId } }),
  education: (recordId) => buildAttendanceSummarised({ subject: { recordId } }),
  'social-care': (recordId) => buildReferralReceived({ subject: { recordId } }),
};

export class SubjectFlow {
  /** streamId → produced event ids, in production order. */
  readonly streams = new Map<string, string[]>();
  /** Distinct events Kafka acknowledged. */
  eventsIn = 0;
  /**
   * Events sent again: whole rounds after a failed attempt (which may or may not have reached
   * the log) and deliberate re-sends. The topics hold at most this many duplicates.
   */
  eventsResent = 0;
  /** Send attempts that failed (and were retried). */
  failedSends = 0;
  private readonly subjects: { agency: AgencyName; template: AgencyEvent }[] = [];
  private readonly rounds: { topic: string; messages: Message[] }[][] = [];

  constructor(private readonly options: SubjectFlowOptions) {
    for (const agency of AGENCIES) {
      for (let i = 0; i < options.subjectsPerAgency; i += 1) {
        const template = builders[agency](freshRecordId(`flow-${agency}`));
        this.subjects.push({ agency, template });
        this.streams.set(streamIdOf(template), []);
      }
    }
  }

  get roundsProduced(): number {
    return this.rounds.length;
  }

  /** One new event per subject, sent until acknowledged (acks=-1). */
  async produceRound(): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    const events: AgencyEvent[] = [];
    for (const { agency, template } of this.subjects) {
      // The same subject (identifiers, date of birth) every time; a fresh event id.
      const event = { ...builders[agency](template.subject.recordId), subject: template.subject };
      events.push(event);
      const topic = this.options.topics.agency[agency];
      const messages = byTopic.get(topic) ?? [];
      messages.push({
        key: event.subject.recordId,
        value: JSON.stringify(event),
        headers: { [PUBLISHER_HEADER]: event.source.system },
      });
      byTopic.set(topic, messages);
    }
    const round = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    await this.send(round, events.length);
    this.rounds.push(round);
    for (const event of events) this.streams.get(streamIdOf(event))?.push(event.eventId);
    this.eventsIn += events.length;
  }

  /** Sends an acknowledged round again, as a publisher unsure of its last send would. */
  async resendRound(index: number): Promise<void> {
    const round = this.rounds.at(index);
    if (!round) throw new Error(`no round ${index}; ${this.rounds.length} produced`);
    await this.send(round, 0);
    this.eventsResent += round.reduce((sum, { messages }) => sum + messages.length, 0);
  }

  private async send(round: { topic: string; messages: Message[] }[], size: number): Promise<void> {
    const maxRetryMs = this.options.maxRoundRetryMs ?? 120_000;
    const started = Date.now();
    for (;;) {
      try {
        await this.options.producer.sendBatch({ acks: -1, topicMessages: round });
        return;
      } catch (error) {
        this.failedSends += 1;
        // Whatever part of the round reached the log is there twice after the next attempt.
        this.eventsResent += size;
        if (Date.now() - started > maxRetryMs) {
          throw new Error(`a round could not be produced for ${maxRetryMs} ms`, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, this.options.retryPauseMs ?? 500));
      }
    }
  }

  /** What the store holds against what was produced: count, identity, per-stream order. */
  async compareWithStore(store: EventStore): Promise<StoreComparison> {
    const all: RecordedEvent[] = [];
    for (;;) {
      const page = await store.readAll({ after: all.at(-1)?.position ?? 0n, maxCount: 1000 });
      all.push(...page);
      if (page.length < 1000) break;
    }
    const produced = new Set([...this.streams.values()].flat());
    const storedIds = new Set(all.map((event) => event.eventId));
    const outOfOrder: string[] = [];
    for (const [streamId, eventIds] of this.streams) {
      const stored = (await store.readStream(streamId)).map((event) => event.eventId);
      if (stored.length !== eventIds.length || stored.some((id, i) => id !== eventIds[i])) {
        outOfOrder.push(streamId);
      }
    }
    return {
      stored: all.length,
      distinct: storedIds.size,
      missing: [...produced].filter((id) => !storedIds.has(id)),
      unexpected: [...storedIds].filter((id) => !produced.has(id)),
      outOfOrder,
    };
  }
}

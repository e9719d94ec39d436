import { parseAgencyEventBytes, streamIdOf, type ContractIssue } from '@throughline/contracts';
import type { EventStore } from '@throughline/event-store';
import { AGENCIES, NotFoundError, type AgencyName, type TopicNames } from '@throughline/platform';
import { isRefusedByStore, lineageOf, storeRejectionIssues } from './batch-plan';
import type { DeadLetterRedrive } from './dead-letter-message';
import type { PostgresDeadLetters, RedriveAttemptOutcome } from './postgres-dead-letters';

/** Metadata key naming the dead letter an event was re-driven from. */
export const REDRIVEN_FROM = 'redrivenFrom';

export interface RedriveResult {
  readonly deadLetterId: string;
  /**
   * stored: appended now; already-stored: the store held the event already (nothing written);
   * already-redriven: an earlier re-drive stored it (nothing done); still-invalid: the current
   * contracts still refuse the bytes; store-rejected: valid, but the store refused the event.
   * The last two leave the dead letter unchanged.
   */
  readonly status: RedriveAttemptOutcome;
  /** What the dead letter row records (null while it has not been re-driven). */
  readonly redrive: DeadLetterRedrive | null;
  /** Why it is still refused (empty otherwise). */
  readonly issues: readonly ContractIssue[];
}

export interface DeadLetterRedriverOptions {
  readonly deadLetters: PostgresDeadLetters;
  readonly store: EventStore;
  /** The deployment's topics: a dead letter's topic names the agency that must have published it. */
  readonly topics: TopicNames;
  readonly clock?: () => Date;
}

/**
 * Re-drives a dead letter after a fix: its original bytes are validated again with the
 * contracts of this build and, if valid, appended to the store with their lineage (plus
 * who re-drove it). Idempotent: a dead letter re-driven once is not appended again, and the
 * append is by event id, so an event the store already holds is not stored twice. Every
 * request is kept for audit (dead_letter_redrive_attempts).
 */
export class DeadLetterRedriver {
  private readonly clock: () => Date;
  private readonly agencyOfTopic: ReadonlyMap<string, AgencyName>;

  constructor(private readonly options: DeadLetterRedriverOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.agencyOfTopic = new Map(AGENCIES.map((agency) => [options.topics.agency[agency], agency]));
  }

  /** @throws NotFoundError when no dead letter has this id. */
  async redrive(id: string, requestedBy: string): Promise<RedriveResult> {
    const { deadLetters } = this.options;
    const deadLetter = await deadLetters.find(id);
    if (deadLetter === undefined) throw new NotFoundError(`no dead letter with id ${id}`);
    const requestedAt = this.clock();
    const result = await this.attempt(deadLetter.id, requestedBy, requestedAt);
    await deadLetters.recordAttempt({
      deadLetterId: deadLetter.id,
      requestedBy,
      requestedAt,
      outcome: result.status,
      issues: result.issues,
    });
    return result;
  }

  private async attempt(id: string, requestedBy: string, now: Date): Promise<RedriveResult> {
    const { deadLetters, store } = this.options;
    const deadLetter = await deadLetters.find(id);
    if (deadLetter === undefined) throw new NotFoundError(`no dead letter with id ${id}`);
    if (deadLetter.redrive !== null) {
      return { deadLetterId: id, status: 'already-redriven', redrive: deadLetter.redrive, issues: [] };
    }
    const agency = this.agencyOfTopic.get(deadLetter.topic);
    if (agency === undefined) {
      return {
        deadLetterId: id,
        status: 'still-invalid',
        redrive: null,
        issues: [
          {
            path: '',
            rule: 'topic',
            message: `${deadLetter.topic} is not an agency topic of this deployment`,
          },
        ],
      };
    }
    const parsed = parseAgencyEventBytes(deadLetter.value, { now, publishingAgency: agency });
    if (!parsed.ok)
      return { deadLetterId: id, status: 'still-invalid', redrive: null, issues: parsed.issues };

    const { event } = parsed;
    const streamId = streamIdOf(event);
    const lineage = lineageOf(
      { topic: deadLetter.topic, partition: deadLetter.partition, agency },
      {
        offset: deadLetter.offset,
        key: deadLetter.key === null ? null : Buffer.from(deadLetter.key, 'utf8'),
        value: deadLetter.value,
        headers: deadLetter.headers,
        // The Kafka timestamp is not kept with dead letters: the lineage says null.
        timestamp: '-1',
      },
      event,
    );
    let positions: readonly bigint[];
    let duplicates: readonly string[];
    try {
      [{ positions, duplicateEventIds: duplicates }] = await store.appendMany([
        {
          streamId,
          expectedRevision: 'any',
          events: [
            {
              eventId: event.eventId,
              type: event.type,
              data: event,
              metadata: { ...lineage, [REDRIVEN_FROM]: id, redrivenBy: requestedBy },
            },
          ],
        },
      ]);
    } catch (error) {
      if (!isRefusedByStore(error)) throw error;
      return {
        deadLetterId: id,
        status: 'store-rejected',
        redrive: null,
        issues: storeRejectionIssues(error),
      };
    }
    const outcome = duplicates.includes(event.eventId) ? 'already-stored' : 'stored';
    const redrive = await deadLetters.markRedriven(id, {
      redrivenAt: now.toISOString(),
      redrivenBy: requestedBy,
      outcome,
      eventId: event.eventId,
      streamId,
      position: positions[0].toString(),
    });
    // A concurrent re-drive of the same dead letter may have recorded itself first.
    const status =
      redrive.redrivenAt === now.toISOString() && redrive.redrivenBy === requestedBy
        ? outcome
        : 'already-redriven';
    return { deadLetterId: id, status, redrive, issues: [] };
  }
}

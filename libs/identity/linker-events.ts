import type { Logger } from '@nestjs/common';
import { EVENT_TYPES, useStored, type AgencyEvent, type EventType } from '@throughline/contracts';
import { validatedAtIntake, type RecordedEvent } from '@throughline/event-store';
import { ThroughlineError } from '@throughline/platform';
import {
  identityStreamOf,
  isIdentityEventType,
  orderedPair,
  parseIdentityEvent,
  proposalStreamOf,
  uuidV5,
  type IdentityEvent,
} from './events';
import { decideLinks, type LinkOutcome } from './link-decision';
import { assertNever, keysOf, known, sameWho, type KnownSubject, type LinkerState } from './linker-state';
import type { MatchModel } from './probabilistic';
import { evolveSubject, subjectOf } from './subject';

/**
 * The linker's event mapping: a stored event to a step of the batch, an agency event to the
 * identity events it calls for.
 */

/** An identity event to append, with the stream it goes to and its deterministic id. */
export interface PendingIdentityEvent {
  readonly streamId: string;
  readonly eventId: string;
  readonly event: IdentityEvent;
}

const AGENCY_TYPES = new Set<string>(EVENT_TYPES);

export function eventsOf(
  outcomes: readonly LinkOutcome[],
  subject: string,
  trigger: RecordedEvent,
  model: MatchModel,
): PendingIdentityEvent[] {
  const at = trigger.recordedAt.toISOString();
  const by = { type: 'linker' as const };
  return outcomes.map((outcome): PendingIdentityEvent => {
    switch (outcome.kind) {
      case 'link':
        return {
          streamId: identityStreamOf(subject),
          eventId: uuidV5(`identity.subject.linked|${trigger.eventId}|${subject}|${outcome.with}`),
          event: {
            type: 'identity.subject.linked',
            data: {
              subject,
              linkedTo: outcome.with,
              method: outcome.method as 'shared-nhs-number',
              shared: outcome.shared.map(({ kind, value }) => ({ kind, value })),
              by,
              at,
            },
          },
        };
      case 'conflict': {
        const conflictId = uuidV5(`conflict|${trigger.eventId}|${subject}|${outcome.others.join(',')}`);
        return {
          streamId: identityStreamOf(subject),
          eventId: uuidV5(`identity.conflict.flagged|${conflictId}`),
          event: {
            type: 'identity.conflict.flagged',
            data: {
              conflictId,
              subject,
              others: [...outcome.others],
              rule: outcome.rule,
              shared: outcome.shared.map(({ kind, value, with: other }) => ({ kind, value, with: other })),
              conflicts: outcome.conflicts.map(({ kind, values, between }) => ({
                kind,
                ...(values ? { values: [values[0], values[1]] as [string, string] } : {}),
                between: [between[0], between[1]] as [string, string],
              })),
              by,
              at,
            },
          },
        };
      }
      case 'propose': {
        const [a, b] = orderedPair(subject, outcome.with);
        const proposalId = uuidV5(`proposal|${a}|${b}`);
        return {
          streamId: proposalStreamOf(proposalId),
          eventId: uuidV5(`identity.match.proposed|${proposalId}`),
          event: {
            type: 'identity.match.proposed',
            data: {
              proposalId,
              subject,
              candidate: outcome.with,
              score: outcome.score.score,
              threshold: model.proposeAt,
              evidence: outcome.score.evidence.map((item) => ({ ...item })),
              by,
              at,
            },
          },
        };
      }
      default:
        return assertNever(outcome);
    }
  });
}

/** What one agency event does to its subject, worked out before the batch's state is read. */
export interface SubjectChange {
  /** The subject after the event (the one before when nothing about it changed). */
  readonly subject: KnownSubject;
  /** `identity`: who it is changed (its keys below, a decision follows); `seen`: only when it was last seen. */
  readonly change: 'identity' | 'seen' | 'none';
  readonly keys: readonly string[];
}

/** Folds one agency event into its subject (`previous`, undefined for a record not seen before). */
export function changeOf(previous: KnownSubject | undefined, event: AgencyEvent): SubjectChange {
  const current = known(evolveSubject(previous?.snapshot, subjectOf(event), event.occurredAt));
  if (previous && sameWho(previous.snapshot, current.snapshot)) {
    // Nothing new about who this is, nothing to decide; at most the time it was last seen moved.
    return previous.snapshot.observedAt !== current.snapshot.observedAt
      ? { subject: current, change: 'seen', keys: [] }
      : { subject: previous, change: 'none', keys: [] };
  }
  return { subject: current, change: 'identity', keys: keysOf(current.snapshot) };
}

/** Applies an agency event's change to its subject and decides the identity events it calls for. */
export function linkSubject(
  state: LinkerState,
  { subject: current, change, keys }: SubjectChange,
  recorded: RecordedEvent,
  model: MatchModel,
): PendingIdentityEvent[] {
  if (change === 'none') return [];
  if (change === 'seen') {
    state.markSeen(current, recorded.position);
    return [];
  }
  const subject = current.snapshot;
  state.saveSubject(current, keys, recorded.position);
  const { candidates, partners, stateBetween } = state.neighbourhood(subject, keys);
  const outcomes = decideLinks({
    subject,
    candidates: candidates.map((snapshot) => ({
      snapshot,
      state: stateBetween(subject.streamId, snapshot.streamId),
    })),
    partners,
    stateBetween,
    model,
  });
  return eventsOf(outcomes, subject.streamId, recorded, model);
}

/** The records an identity event names (whose judgements it sets). */
export function recordsNamedBy(event: IdentityEvent): string[] {
  switch (event.type) {
    case 'identity.subject.linked':
      return [event.data.subject, event.data.linkedTo];
    case 'identity.subject.unlinked':
      return [event.data.subject, ...event.data.formerMembers];
    case 'identity.conflict.flagged':
      return [event.data.subject, ...event.data.others];
    case 'identity.match.proposed':
    case 'identity.match.confirmed':
    case 'identity.match.rejected':
      return [event.data.subject, event.data.candidate];
    default:
      return assertNever(event);
  }
}

/** One event of a batch, parsed once: an agency event to link, an identity event to apply, or neither. */
export type BatchStep =
  | { readonly kind: 'agency'; readonly recorded: RecordedEvent; readonly event: AgencyEvent }
  | { readonly kind: 'identity'; readonly recorded: RecordedEvent; readonly event: IdentityEvent }
  | { readonly kind: 'skipped' }
  | { readonly kind: 'other' };

export function stepOf(recorded: RecordedEvent, logger?: Logger): BatchStep {
  if (AGENCY_TYPES.has(recorded.type)) {
    // Parsed once for every read model of the process (readStored, decision 025); as written.
    // One the recorder appended is taken as validated at intake (decision 034), and validated
    // only if what the linker reads of it fails (useStored).
    const used = useStored(recorded.data, { validatedAtIntake: validatedAtIntake(recorded) }, ({ stored }) =>
      subjectOf(stored),
    );
    if (!used.ok || used.read.stored.type !== (recorded.type as EventType)) {
      const why = used.ok
        ? `stored as ${recorded.type}`
        : used.issues.map((i) => `${i.path} ${i.rule}`).join(', ');
      logger?.warn(
        `skipped agency event ${recorded.eventId} at ${recorded.position}: not a valid contract (${why})`,
      );
      return { kind: 'skipped' };
    }
    return { kind: 'agency', recorded, event: used.read.stored };
  }
  if (isIdentityEventType(recorded.type)) {
    try {
      return { kind: 'identity', recorded, event: parseIdentityEvent(recorded.type, recorded.data) };
    } catch (error) {
      if (!(error instanceof ThroughlineError)) throw error;
      logger?.warn(`skipped identity event ${recorded.eventId} at ${recorded.position}: ${error.message}`);
      return { kind: 'skipped' };
    }
  }
  return { kind: 'other' };
}

import type { Logger } from '@nestjs/common';
import type { ClientBase } from 'pg';
import { streamIdOf } from '@throughline/contracts';
import {
  forEachInSlices,
  type EventStore,
  type EventToAppend,
  type RecordedEvent,
} from '@throughline/event-store';
import {
  changeOf,
  linkSubject,
  recordsNamedBy,
  stepOf,
  type BatchStep,
  type PendingIdentityEvent,
  type SubjectChange,
} from './linker-events';
import {
  DEFAULT_CANDIDATE_LIMITS,
  LinkerState,
  type CandidateLimits,
  type SnapshotCache,
} from './linker-state';
import { DEFAULT_MATCH_MODEL, type MatchModel } from './probabilistic';

export interface LinkBatchResult {
  /** The identity events this batch called for … */
  readonly decided: readonly PendingIdentityEvent[];
  /** … and how many of them were new to the store (the rest were there from an earlier attempt). */
  readonly appended: number;
  readonly skipped: number;
}

/**
 * The batch's events parsed, each once: what the linker does before its transaction (the
 * runner's `prepare`; while catching up, during the batch before), giving the event loop a turn
 * now and then (`forEachInSlices`), so the batch being applied goes on meanwhile.
 */
export async function stepsOf(batch: readonly RecordedEvent[], logger?: Logger): Promise<BatchStep[]> {
  const steps: BatchStep[] = [];
  await forEachInSlices(batch, (recorded) => steps.push(stepOf(recorded, logger)));
  return steps;
}

/**
 * Links one subscription batch inside the caller's transaction (the runner's, which claims the
 * checkpoint before and moves it after): decides, then appends its events to the store
 * (idempotent by their deterministic ids). If the transaction is lost after the append, the
 * redo decides the same events again and the store keeps the first copy. `prepared` is
 * `stepsOf(batch)` when already made.
 */
export async function linkBatch(
  client: ClientBase,
  store: EventStore,
  batch: readonly RecordedEvent[],
  model: MatchModel = DEFAULT_MATCH_MODEL,
  logger?: Logger,
  limits: CandidateLimits = DEFAULT_CANDIDATE_LIMITS,
  prepared?: readonly BatchStep[],
  /** Snapshots known from earlier batches (the linker's own; see SnapshotCache). */
  snapshots?: SnapshotCache,
): Promise<LinkBatchResult> {
  const steps = prepared ?? (await stepsOf(batch, logger));
  // The batch's records as they stand, in one query; then what each agency event does to its
  // subject (that depends on nothing else), so everything a decision can read is known and read
  // at once. Then the batch is linked in memory and its state written at the end.
  const records = [
    ...new Set(steps.flatMap((step) => (step.kind === 'agency' ? [streamIdOf(step.event)] : []))),
  ];
  const stored = await LinkerState.readSubjects(client, records, snapshots);
  const subjects = new Map(stored);
  const changes = new Map<BatchStep, SubjectChange>();
  const changing = new Set<string>();
  const keys = new Set<string>();
  const named = new Set<string>();
  for (const step of steps) {
    if (step.kind === 'agency') {
      const streamId = streamIdOf(step.event);
      const change = changeOf(subjects.get(streamId) ?? undefined, step.event);
      changes.set(step, change);
      subjects.set(streamId, change.subject);
      if (change.change === 'identity') {
        changing.add(streamId);
        for (const key of change.keys) keys.add(key);
      }
    } else if (step.kind === 'identity') {
      for (const record of recordsNamedBy(step.event)) named.add(record);
    }
  }
  const state = await LinkerState.read(
    client,
    stored,
    {
      changing: [...changing],
      keys: [...keys],
      named: [...named],
    },
    limits,
    snapshots,
  );

  const pending: PendingIdentityEvent[] = [];
  for (const step of steps) {
    if (step.kind === 'agency') {
      const decided = linkSubject(state, changes.get(step)!, step.recorded, model);
      for (const item of decided) state.apply(item.event, step.recorded.position);
      pending.push(...decided);
    } else if (step.kind === 'identity') {
      state.apply(step.event, step.recorded.position);
    }
  }
  await state.write(client);
  const skipped = steps.filter((step) => step.kind === 'skipped').length;

  let newEvents = 0;
  if (pending.length > 0) {
    const byStream = new Map<string, EventToAppend[]>();
    for (const item of pending) {
      const events = byStream.get(item.streamId) ?? [];
      events.push({ eventId: item.eventId, type: item.event.type, data: item.event.data });
      byStream.set(item.streamId, events);
    }
    const results = await store.appendMany([...byStream].map(([streamId, events]) => ({ streamId, events })));
    newEvents = results.reduce((sum, r) => sum + r.positions.length - r.duplicateEventIds.length, 0);
  }
  return { decided: pending, appended: newEvents, skipped };
}

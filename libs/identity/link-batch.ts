import type { Logger } from '@nestjs/common';
import type { ClientBase } from 'pg';
import { streamIdOf } from '@throughline/contracts';
import type { EventStore, EventToAppend, RecordedEvent } from '@throughline/event-store';
import { linkSubject, stepOf, type PendingIdentityEvent } from './linker-events';
import { LinkerState } from './linker-state';
import { DEFAULT_MATCH_MODEL, type MatchModel } from './probabilistic';

export interface LinkBatchResult {
  /** The identity events this batch called for … */
  readonly decided: readonly PendingIdentityEvent[];
  /** … and how many of them were new to the store (the rest were there from an earlier attempt). */
  readonly appended: number;
  readonly skipped: number;
}

/**
 * Links one subscription batch inside the caller's transaction (the runner's, which claims the
 * checkpoint before and moves it after): decides, then appends its events to the store
 * (idempotent by their deterministic ids). If the transaction is lost after the append, the
 * redo decides the same events again and the store keeps the first copy.
 */
export async function linkBatch(
  client: ClientBase,
  store: EventStore,
  batch: readonly RecordedEvent[],
  model: MatchModel = DEFAULT_MATCH_MODEL,
  logger?: Logger,
): Promise<LinkBatchResult> {
  const steps = batch.map((recorded) => stepOf(recorded, logger));
  const state = new LinkerState(client);
  // Every subject the batch touches, read in one query.
  await state.load(steps.flatMap((step) => (step.kind === 'agency' ? [streamIdOf(step.event)] : [])));
  const pending: PendingIdentityEvent[] = [];
  for (const step of steps) {
    if (step.kind === 'agency') {
      const decided = await linkSubject(state, step.event, step.recorded, model);
      for (const item of decided) await state.apply(item.event, step.recorded.position);
      pending.push(...decided);
    } else if (step.kind === 'identity') {
      await state.apply(step.event, step.recorded.position);
    }
  }
  await state.flushSeen();
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

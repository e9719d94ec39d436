import type { Agency, AgencyEvent } from '@throughline/contracts';

export interface AgencyBatch {
  /** The agency service to post to: the event's source.agency (outcome observations included). */
  readonly agency: Agency;
  readonly events: readonly AgencyEvent[];
}

/** The agency services accept at most this many events per batch request. */
export const MAX_BATCH_SIZE = 1000;

/**
 * Splits events into per-agency batches of at most `maxBatchSize`, keeping each agency's
 * events in their original order (so one subject's events arrive in order).
 */
export function toAgencyBatches(
  events: readonly AgencyEvent[],
  maxBatchSize = MAX_BATCH_SIZE,
): AgencyBatch[] {
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1 || maxBatchSize > MAX_BATCH_SIZE) {
    throw new Error(`maxBatchSize must be 1..${MAX_BATCH_SIZE}`);
  }
  const byAgency = new Map<Agency, AgencyEvent[]>();
  for (const event of events) {
    const list = byAgency.get(event.source.agency) ?? [];
    list.push(event);
    byAgency.set(event.source.agency, list);
  }
  const batches: AgencyBatch[] = [];
  for (const [agency, list] of byAgency) {
    for (let start = 0; start < list.length; start += maxBatchSize) {
      batches.push({ agency, events: list.slice(start, start + maxBatchSize) });
    }
  }
  return batches;
}

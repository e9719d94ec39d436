import { kafkaKeyOf, streamIdOf, type Agency, type AgencyEvent } from '@throughline/contracts';
import { AGENCIES } from '@throughline/platform';
import { DEMO_COHORT_OPTIONS, generateCohort, type SyntheticChild } from '@throughline/synthetic';

/**
 * The one set of synthetic events every throughput stage pushes, serialised once, so each
 * stage moves the same bytes.
 */
export interface BenchEvent {
  readonly agency: Agency;
  readonly eventId: string;
  readonly type: string;
  readonly streamId: string;
  /** The Kafka key the agency service uses (the subject's record id). */
  readonly key: string;
  readonly sourceSystem: string;
  /** The event as an agency system posts it. */
  readonly json: string;
  readonly event: AgencyEvent;
}

export function toBenchEvent(event: AgencyEvent): BenchEvent {
  return {
    agency: event.source.agency,
    eventId: event.eventId,
    type: event.type,
    streamId: streamIdOf(event),
    key: kafkaKeyOf(event),
    sourceSystem: event.source.system,
    json: JSON.stringify(event),
    event,
  };
}

/** Mean UTF-8 size of the events' JSON, in bytes. */
export function meanJsonBytes(events: readonly BenchEvent[]): number {
  if (events.length === 0) return 0;
  return events.reduce((sum, event) => sum + Buffer.byteLength(event.json), 0) / events.length;
}

export function splitByAgency(events: readonly BenchEvent[]): Record<Agency, BenchEvent[]> {
  const split = Object.fromEntries(AGENCIES.map((agency) => [agency, [] as BenchEvent[]])) as Record<
    Agency,
    BenchEvent[]
  >;
  for (const event of events) split[event.agency].push(event);
  return split;
}

/** The headers an agency service puts on each message, so the raw Kafka ceiling carries the same bytes. */
export function gatewayLikeHeaders(event: BenchEvent, publisherId: string): Record<string, string> {
  return {
    'event-id': event.eventId,
    'event-type': event.type,
    'schema-version': String(event.event.schemaVersion),
    publisher: publisherId,
    'source-system': event.sourceSystem,
    'content-type': 'application/json',
  };
}

/** Not the demo's seed, so no event id is shared with the demo's cohort. */
const BENCH_SEED = 7_202_611;
/** The generator makes about 48 events per child; ask for a little more and cut to size. */
const EVENTS_PER_CHILD_ESTIMATE = 44;

export interface BenchCohort {
  readonly events: readonly BenchEvent[];
  readonly children: readonly SyntheticChild[];
}

/**
 * Exactly `count` synthetic events: the earliest of a seeded cohort (events come ordered by
 * occurredAt), so every subject's events stay in order. Same count, same events.
 */
export function generateBenchCohort(count: number): BenchCohort {
  for (let children = Math.ceil(count / EVENTS_PER_CHILD_ESTIMATE); ; children = Math.ceil(children * 1.25)) {
    const cohort = generateCohort({ ...DEMO_COHORT_OPTIONS, seed: BENCH_SEED, children });
    if (cohort.events.length >= count) {
      return { events: cohort.events.slice(0, count).map(toBenchEvent), children: cohort.children };
    }
  }
}

import { streamIdOf, type AgencyEvent } from '@throughline/contracts';
import type { EventStore, RecordedEvent, StreamAppend } from '@throughline/event-store';
import { PUBLISHER_HEADER, lineageOf, type IncomingBatch } from '@throughline/recording';
import { buildReferralReceived, freshNhsNumber, freshRecordId } from './events';

let nextOffset = 0;

/**
 * The store append the recorder would make for an event consumed from Kafka, its lineage
 * included, for tests of what reads the store (the projection) without a broker.
 */
export function recordedAppend(event: AgencyEvent): StreamAppend {
  const message = {
    offset: String(nextOffset++),
    key: Buffer.from(event.subject.recordId),
    value: Buffer.from(JSON.stringify(event)),
    headers: { [PUBLISHER_HEADER]: event.source.system },
    timestamp: String(Date.now()),
  };
  const batch: IncomingBatch = {
    clusterId: 'test-cluster',
    groupId: 'test-recorder',
    topic: `${event.source.agency}.events.v1`,
    partition: 0,
    agency: event.source.agency,
    messages: [message],
    now: new Date(),
  };
  return {
    streamId: streamIdOf(event),
    events: [
      {
        eventId: event.eventId,
        type: event.type,
        data: event,
        metadata: { ...lineageOf(batch, message, event) },
      },
    ],
  };
}

/**
 * An event as a read of the store hands it back, without a store: with the lineage the recorder
 * writes (`recordedAppend`), or with none, as another writer might have left it. For tests of
 * readers that take the recorder's events as validated at intake (decision 034); the event may
 * be one no contract accepts.
 */
export function storedEvent(
  event: AgencyEvent,
  { byRecorder, position = 1n }: { readonly byRecorder: boolean; readonly position?: bigint },
): RecordedEvent {
  const [append] = recordedAppend(event).events;
  return {
    eventId: event.eventId,
    streamId: streamIdOf(event),
    revision: 0n,
    position,
    type: event.type,
    data: event,
    metadata: byRecorder ? { ...append.metadata } : {},
    recordedAt: new Date('2024-03-01T10:00:00Z'),
  };
}

/** Appends each event as the recorder would, one transaction each, in order; returns the last position. */
export async function recordAsTheRecorderWould(store: EventStore, ...events: AgencyEvent[]): Promise<bigint> {
  let last = 0n;
  for (const event of events) [last] = (await store.appendMany([recordedAppend(event)]))[0].positions;
  return last;
}

/**
 * One referral for each of `count` new children, each child its own record (no identifier in
 * common), stored as the recorder would; resolves with their streams in store order.
 */
export async function recordReferralsOfNewChildren(
  store: EventStore,
  count: number,
  source: { readonly organisation?: string } = {},
): Promise<string[]> {
  const streams: string[] = [];
  for (let i = 0; i < count; i++) {
    const recordId = freshRecordId('case');
    streams.push(`social-care-${recordId}`);
    await recordAsTheRecorderWould(
      store,
      buildReferralReceived({
        occurredAt: '2024-02-01T14:30:00+00:00',
        source,
        subject: { recordId, nhsNumber: freshNhsNumber(), dateOfBirth: '2016-05-01' },
        data: { referralDate: '2024-02-01', referralSource: '2A', primaryNeed: 'N1', noFurtherAction: false },
      }),
    );
  }
  return streams;
}

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { parseAgencyEvent, type Agency } from '@throughline/contracts';
import type { EventStore, RecordedEvent } from '@throughline/event-store';
import { comparableEventData } from '@throughline/recording';
import type { EventSink, ImportFile, SinkResult } from '@throughline/returns';
import { recordedAppend } from './recorded';

/** A file of an import held in memory (small test files), with its real SHA-256. */
export function importFileOf(name: string, content: string | Buffer): ImportFile {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return {
    name,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    open: () => Readable.from([bytes]),
  };
}

/**
 * The gateway's check and the recorder's append, in process: each event against the contracts
 * (as the agency service publishing it), then into the store as the recorder appends it
 * (an import's provenance and reported subject not compared, so a re-import is a duplicate).
 */
export function storeSink(store: EventStore, publishingAgency?: Agency): EventSink {
  return {
    async publish(events) {
      const results: SinkResult[] = [];
      for (const [index, event] of events.entries()) {
        const parsed = parseAgencyEvent(event, publishingAgency ? { publishingAgency } : {});
        if (!parsed.ok) {
          results.push({ index, status: 'rejected', issues: parsed.issues });
          continue;
        }
        await store.appendMany([recordedAppend(parsed.event)], { comparableData: comparableEventData });
        results.push({ index, status: 'accepted', eventId: parsed.event.eventId });
      }
      return { results };
    },
  };
}

/** Every event in the store, in global order, of the streams starting with `streamPrefix` (all when absent). */
export async function everyRecorded(store: EventStore, streamPrefix = ''): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (let after = 0n; ;) {
    const page = await store.readAll({ after, maxCount: 1000 });
    if (!page.length) return all;
    all.push(...page.filter((recorded) => recorded.streamId.startsWith(streamPrefix)));
    after = page[page.length - 1].position;
  }
}

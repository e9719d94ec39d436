import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { runImport, type EventSink, type ImportItem, type ReturnImporter, type SinkResult } from './importer';

/** An importer over a fixed list of items, reading its one file so progress can be counted. */
function importerOf(items: ImportItem[]): ReturnImporter {
  return {
    format: 'cin-census',
    async *read(files) {
      for await (const chunk of files[0].open()) void chunk;
      yield* items;
    },
  };
}

const file = {
  name: 'cin.xml',
  sha256: 'b'.repeat(64),
  open: () => Readable.from([Buffer.from('<Message/>')]),
};

function event(n: number, quarantined = false) {
  return {
    n,
    subject: quarantined ? { quarantinedIdentifiers: [{ field: 'upn', rule: 'upn-check-letter' }] } : {},
  };
}

/** A sink that refuses events whose n is a multiple of 7, and records the batches it got. */
function recordingSink(): EventSink & { batches: unknown[][] } {
  const batches: unknown[][] = [];
  return {
    batches,
    async publish(events) {
      batches.push([...events]);
      await new Promise((resolve) => setTimeout(resolve, 1));
      const results: SinkResult[] = events.map((value, index) => {
        const n = (value as { n: number }).n;
        return n % 7 === 0
          ? {
              index,
              status: 'rejected',
              issues: [{ path: 'data.startDate', rule: 'format:date', message: 'bad date' }],
            }
          : { index, status: 'accepted', eventId: `e${n}` };
      });
      return { results };
    },
  };
}

describe('runImport', () => {
  it('publishes in order and in batches, and sums children, events, quarantine and problems by location', async () => {
    const items: ImportItem[] = [
      { kind: 'child', childId: 'C1' },
      ...Array.from({ length: 25 }, (_, i): ImportItem => ({
        kind: 'event',
        event: event(i + 1, i < 3),
        location: `Child[1]/e${i + 1}`,
      })),
      {
        kind: 'refused',
        location: 'Child[2]/CINdetails[1]',
        rule: 'format:date',
        reason: 'CINreferralDate is not a date',
      },
      { kind: 'child', childId: 'C2' },
    ];
    const sink = recordingSink();
    const progress: number[] = [];
    const summary = await runImport(importerOf(items), [file], { system: 'cin-census' }, sink, {
      batchSize: 10,
      onProgress: (s) => progress.push(s.eventsPublished),
    });
    expect(sink.batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(sink.batches.flat().map((e) => (e as { n: number }).n)).toEqual(
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
    expect(summary).toMatchObject({
      state: 'completed',
      children: 2,
      records: 26,
      eventsPublished: 22,
      eventsRejected: 3,
      quarantined: { 'upn-check-letter': 3 },
      refusedByRule: { 'format:date': 4 },
      bytesRead: 10,
    });
    expect(summary.problems[0]).toEqual({
      location: 'Child[1]/e7',
      rule: 'format:date',
      reason: 'data.startDate: bad date (format:date)',
    });
    expect(summary.problems).toContainEqual(expect.objectContaining({ location: 'Child[2]/CINdetails[1]' }));
    expect(progress.at(-1)).toBe(22);
  });

  it('ends failed with the error when the sink fails, never completed', async () => {
    const failing: EventSink = { publish: () => Promise.reject(new Error('broker unavailable')) };
    const summary = await runImport(
      importerOf([{ kind: 'event', event: event(1), location: 'x' }]),
      [file],
      { system: 's' },
      failing,
    );
    expect(summary.state).toBe('failed');
    expect(summary.error).toBe('broker unavailable');
  });
});

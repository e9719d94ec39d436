import { appendBatchesOf, storeInputsOf, type StoreInput } from './event-store-stages';
import { loadBenchOptions } from './options';
import { generateBenchCohort } from './payloads';
import { copyLine, dealStreamsToWriters, rawRowsOf, type RawRow } from './postgres-raw';

const cohort = generateBenchCohort(1000);
const rows = rawRowsOf(cohort.events, (event) => `${event.agency}.events.v1`);
const inputs = storeInputsOf(cohort.events, rows);

describe('dealStreamsToWriters', () => {
  it('deals every row once, never one stream to two writers, each stream in input order', () => {
    const lanes = dealStreamsToWriters(rows, 8);
    expect(lanes).toHaveLength(8);
    expect(lanes.flat()).toHaveLength(rows.length);
    expect(new Set(lanes.flat().map((row) => row.eventId)).size).toBe(rows.length);

    const writerOfStream = new Map<string, number>();
    lanes.forEach((lane, writer) => {
      for (const row of lane) {
        expect(writerOfStream.get(row.streamId) ?? writer).toBe(writer);
        writerOfStream.set(row.streamId, writer);
      }
      // rawRowsOf numbers each stream's revisions from 0 in input order
      const lastRevision = new Map<string, number>();
      for (const row of lane) {
        expect(row.revision).toBe((lastRevision.get(row.streamId) ?? -1) + 1);
        lastRevision.set(row.streamId, row.revision);
      }
    });
    expect(lanes.every((lane) => lane.length > 0)).toBe(true);
  });

  it('refuses a writer count that is not a positive integer', () => {
    expect(() => dealStreamsToWriters(rows, 0)).toThrow('writers 0 must be a positive integer');
  });
});

describe('appendBatchesOf', () => {
  const flatten = (batches: ReturnType<typeof appendBatchesOf>): StoreInput[] =>
    batches.flatMap((batch) =>
      batch.flatMap((append) => append.events.map((event) => ({ streamId: append.streamId, event }))),
    );

  it('cuts the inputs into batches of the size, one StreamAppend per stream, nothing lost or moved across batches', () => {
    const batches = appendBatchesOf(inputs, 300);
    expect(batches).toHaveLength(4);
    batches.forEach((batch, index) => {
      const slice = inputs.slice(index * 300, index * 300 + 300);
      expect(batch.reduce((sum, append) => sum + append.events.length, 0)).toBe(slice.length);
      expect(new Set(batch.map((append) => append.streamId)).size).toBe(batch.length);
      expect(batch.every((append) => append.expectedRevision === 'any')).toBe(true);
      // Within a stream the events keep their input order.
      for (const append of batch) {
        const expected = slice
          .filter((input) => input.streamId === append.streamId)
          .map((input) => input.event);
        expect(append.events).toEqual(expected);
      }
    });
    expect(new Set(flatten(batches).map((input) => input.event.eventId)).size).toBe(inputs.length);
  });

  it('carries the same payload as the raw rows: data is the event, metadata the lineage', () => {
    inputs.forEach((input, index) => {
      expect(JSON.stringify(input.event.data)).toBe(rows[index].data);
      expect(JSON.stringify(input.event.metadata)).toBe(rows[index].metadata);
    });
  });
});

describe('copyLine', () => {
  it('escapes what COPY text format treats as special and leaves the rest alone', () => {
    const row: RawRow = {
      eventId: '00000000-0000-4000-8000-000000000001',
      streamId: 'health-A\tB',
      revision: 3,
      type: 'health.thing',
      data: '{"note":"line\\nbreak \\\\ and \\"quotes\\""}',
      metadata: '{"raw":"a\nb\rc\\d"}',
    };
    expect(copyLine(row)).toBe(
      '00000000-0000-4000-8000-000000000001\thealth-A\\tB\t3\thealth.thing\t' +
        '{"note":"line\\\\nbreak \\\\\\\\ and \\\\"quotes\\\\""}\t{"raw":"a\\nb\\rc\\\\d"}\n',
    );
  });
});

describe('BENCH_STAGES', () => {
  it('runs everything by default and picks groups by name, in run order', () => {
    expect(loadBenchOptions({}).stages).toEqual(['store', 'apps']);
    expect(loadBenchOptions({ BENCH_STAGES: 'all' }).stages).toEqual(['store', 'apps']);
    expect(loadBenchOptions({ BENCH_STAGES: 'store' }).stages).toEqual(['store']);
    expect(loadBenchOptions({ BENCH_STAGES: ' apps , store ' }).stages).toEqual(['store', 'apps']);
  });

  it('runs scaleout and soak only when named, after the others', () => {
    expect(loadBenchOptions({ BENCH_STAGES: 'soak,scaleout' }).stages).toEqual(['scaleout', 'soak']);
    expect(loadBenchOptions({ BENCH_STAGES: 'soak,store' }).stages).toEqual(['store', 'soak']);
  });

  it('reads the soak length and rate, and refuses a soak shorter than 30 s by name', () => {
    const options = loadBenchOptions({ BENCH_SOAK_SECONDS: '120', BENCH_SOAK_RATE: '50' });
    expect([options.soakSeconds, options.soakRate]).toEqual([120, 50]);
    expect(loadBenchOptions({}).soakSeconds).toBe(600);
    expect(() => loadBenchOptions({ BENCH_SOAK_SECONDS: '5' })).toThrow(/BENCH_SOAK_SECONDS/);
  });

  it('names the variable and the groups it accepts when a group is unknown', () => {
    expect(() => loadBenchOptions({ BENCH_STAGES: 'store,kafka' })).toThrow(
      /BENCH_STAGES: unknown stage group kafka: must be all or a comma-separated list of store, apps/,
    );
  });
});

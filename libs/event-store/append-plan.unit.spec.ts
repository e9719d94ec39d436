import { ConcurrencyError, ThroughlineError, ValidationError } from '@throughline/platform';
import {
  expectationHolds,
  planAppends,
  resolveResults,
  validateAppends,
  type StoredEventRef,
} from './append-plan';

const id = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const event = (n: number) => ({ eventId: id(n), type: 'ThingHappened', data: { n } });
const none = new Map<string, StoredEventRef>();

describe('expectationHolds', () => {
  it.each([
    ['any', -1n, true],
    ['any', 3n, true],
    ['no_stream', -1n, true],
    ['no_stream', 0n, false],
    ['stream_exists', -1n, false],
    ['stream_exists', 0n, true],
    [2n, 2n, true],
    [2n, 1n, false],
    [-1n, -1n, true],
  ] as const)('%s against current %s: %s', (expected, current, holds) => {
    expect(expectationHolds(expected, current)).toBe(holds);
  });
});

describe('planAppends', () => {
  it('numbers new events after the current revision, across repeated streams, in input order', () => {
    const plan = planAppends(
      [
        { streamId: 's-1', events: [event(1), event(2)], expectedRevision: 4n },
        { streamId: 's-2', events: [event(3)], expectedRevision: 'no_stream' },
        { streamId: 's-1', events: [event(4)], expectedRevision: 6n },
      ],
      { checkpoints: { offsets: 'a:0:1' } },
      none,
      new Map([['s-1', 4n]]),
    );
    expect(plan.rows.map((row) => [row.streamId, row.revision, row.eventId])).toEqual([
      ['s-1', 5n, id(1)],
      ['s-1', 6n, id(2)],
      ['s-2', 0n, id(3)],
      ['s-1', 7n, id(4)],
    ]);
    expect([...plan.streamRevisions]).toEqual([
      ['s-1', 7n],
      ['s-2', 0n],
    ]);
    expect(plan.checkpoints).toEqual([['offsets', 'a:0:1']]);
    const results = resolveResults(plan, [10n, 11n, 12n, 13n]);
    expect(results.map((r) => [r.nextExpectedRevision, r.positions])).toEqual([
      [6n, [10n, 11n]],
      [0n, [12n]],
      [7n, [13n]],
    ]);
  });

  it('returns stored positions for re-appended ids and skips the expectation for a pure re-append', () => {
    const stored = new Map([[id(1), { streamId: 's-1', position: 40n }]]);
    const plan = planAppends(
      [{ streamId: 's-1', events: [event(1)], expectedRevision: 'no_stream' }],
      {},
      stored,
      new Map([['s-1', 0n]]),
    );
    expect(plan.rows).toEqual([]);
    expect(resolveResults(plan, [])).toEqual([
      { streamId: 's-1', nextExpectedRevision: 0n, positions: [40n], duplicateEventIds: [id(1)] },
    ]);
  });

  it('matches stored ids case-insensitively', () => {
    const stored = new Map([[id(1), { streamId: 's-1', position: 40n }]]);
    const upper = { ...event(1), eventId: id(1).toUpperCase() };
    const plan = planAppends([{ streamId: 's-1', events: [upper] }], {}, stored, new Map([['s-1', 0n]]));
    expect(plan.rows).toEqual([]);
  });

  it('checks the expectation when only some events are re-appended', () => {
    const stored = new Map([[id(1), { streamId: 's-1', position: 40n }]]);
    expect(() =>
      planAppends(
        [{ streamId: 's-1', events: [event(1), event(2)], expectedRevision: 'no_stream' }],
        {},
        stored,
        new Map([['s-1', 0n]]),
      ),
    ).toThrow(new ConcurrencyError('s-1', 'no_stream', '0'));
  });

  it('refuses an id that belongs to another stream, stored or earlier in the same call', () => {
    const stored = new Map([[id(1), { streamId: 's-1', position: 40n }]]);
    const illegal = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return (
          error instanceof ThroughlineError && error.code === 'ILLEGAL_STATE' && error.message.includes(id(1))
        );
      }
      return false;
    };
    expect(illegal(() => planAppends([{ streamId: 's-2', events: [event(1)] }], {}, stored, new Map()))).toBe(
      true,
    );
    expect(
      illegal(() =>
        planAppends(
          [
            { streamId: 's-3', events: [event(1)] },
            { streamId: 's-4', events: [event(1)] },
          ],
          {},
          none,
          new Map(),
        ),
      ),
    ).toBe(true);
  });

  it('names data that is not JSON', () => {
    const run = () =>
      planAppends([{ streamId: 's-1', events: [{ ...event(1), data: { big: 1n } }] }], {}, none, new Map());
    expect(run).toThrow(ValidationError);
    try {
      run();
    } catch (error) {
      expect((error as ValidationError).issues).toEqual([
        { path: 'appends.0.events.0.data', rule: 'json', message: 'must be JSON-serialisable' },
      ]);
    }
  });
});

describe('validateAppends', () => {
  it('lists every bad field', () => {
    const run = () =>
      validateAppends([
        {
          streamId: '',
          expectedRevision: -2n,
          events: [
            { eventId: 'x', type: '', data: null, metadata: [] as unknown as Record<string, unknown> },
          ],
        },
      ]);
    expect(run).toThrow(ValidationError);
    try {
      run();
    } catch (error) {
      expect((error as ValidationError).issues.map((issue) => [issue.path, issue.rule])).toEqual([
        ['appends.0.streamId', 'required'],
        ['appends.0.expectedRevision', 'expected_revision'],
        ['appends.0.events.0.eventId', 'uuid'],
        ['appends.0.events.0.type', 'required'],
        ['appends.0.events.0.metadata', 'object'],
      ]);
    }
  });
});

import { ConcurrencyError, ThroughlineError, ValidationError } from '@throughline/platform';
import { EventIdConflictError, type EventToAppend } from './port';
import {
  canonicalJson,
  expectationCode,
  expectationHolds,
  planAppends,
  planFreshAppend,
  serialiseEvents,
  resolveResults,
  validateAppends,
  validateExpectedRevision,
  validateStreamMetadata,
  type StoredEventRef,
} from './append-plan';

const id = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const event = (n: number) => ({ eventId: id(n), type: 'ThingHappened', data: { n } });
const none = new Map<string, StoredEventRef>();
/** What the store holds for event(n) in a stream, as read back (metadata defaults to {}). */
const storedAs = (streamId: string, position: bigint, n: number): StoredEventRef => ({
  streamId,
  position,
  type: 'ThingHappened',
  data: { n },
  metadata: {},
});

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
    const stored = new Map([[id(1), storedAs('s-1', 40n, 1)]]);
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
    const stored = new Map([[id(1), storedAs('s-1', 40n, 1)]]);
    const upper = { ...event(1), eventId: id(1).toUpperCase() };
    const plan = planAppends([{ streamId: 's-1', events: [upper] }], {}, stored, new Map([['s-1', 0n]]));
    expect(plan.rows).toEqual([]);
  });

  it('checks the expectation when only some events are re-appended', () => {
    const stored = new Map([[id(1), storedAs('s-1', 40n, 1)]]);
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
    const stored = new Map([[id(1), storedAs('s-1', 40n, 1)]]);
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

  it('refuses a stored id re-appended with a different type or data (metadata when asked), naming what differs', () => {
    const stored = new Map([[id(1), storedAs('s-1', 40n, 1)]]);
    const conflict = (changed: Partial<EventToAppend>, compareMetadata?: boolean) => {
      try {
        planAppends(
          [{ streamId: 's-1', events: [{ ...event(1), ...changed }] }],
          { compareMetadata },
          stored,
          new Map([['s-1', 0n]]),
        );
      } catch (error) {
        return error instanceof EventIdConflictError
          ? [error.code, error.eventId, error.differingFields]
          : error;
      }
      return 'no error';
    };
    expect(conflict({ type: 'OtherThing' })).toEqual(['ILLEGAL_STATE', id(1), ['type']]);
    expect(conflict({ data: { n: 2 } })).toEqual(['ILLEGAL_STATE', id(1), ['data']]);
    expect(conflict({ metadata: { source: 'elsewhere' } })).toBe('no error');
    expect(conflict({ metadata: { source: 'elsewhere' } }, true)).toEqual([
      'ILLEGAL_STATE',
      id(1),
      ['metadata'],
    ]);
    expect(conflict({ type: 'OtherThing', data: null, metadata: { a: 1 } }, true)).toEqual([
      'ILLEGAL_STATE',
      id(1),
      ['type', 'data', 'metadata'],
    ]);
    expect(conflict({ metadata: {} }, true)).toBe('no error');
    // Same JSON value, keys in another order (jsonb does not keep key order): a duplicate.
    const reordered = new Map([[id(2), { ...storedAs('s-1', 41n, 2), data: { a: 1, b: [1, 2] } }]]);
    const again = planAppends(
      [{ streamId: 's-1', events: [{ ...event(2), data: { b: [1, 2], a: 1 } }] }],
      {},
      reordered,
      new Map([['s-1', 1n]]),
    );
    expect(resolveResults(again, [])[0].positions).toEqual([41n]);
  });

  it('takes a re-appended id that differs only in what comparableData leaves out (an import provenance) as a duplicate', () => {
    const stored = new Map([[id(1), storedAs('s-1', 40n, 1)]]);
    const reimported = {
      ...event(1),
      data: { ...(event(1).data as object), provenance: { collectionYear: '2025-26' } },
    };
    const withoutProvenance = (data: unknown) => {
      const { provenance: _provenance, ...rest } = data as Record<string, unknown>;
      return rest;
    };
    const plan = (comparableData?: (data: unknown) => unknown) =>
      planAppends(
        [{ streamId: 's-1', events: [reimported] }],
        { comparableData },
        stored,
        new Map([['s-1', 0n]]),
      );
    expect(() => plan()).toThrow(EventIdConflictError);
    expect(plan(withoutProvenance).results[0].duplicateEventIds).toEqual([id(1)]);
    // Any other difference is still a conflict.
    const changed = { ...reimported, data: { ...(reimported.data as object), n: 99 } };
    expect(() =>
      planAppends(
        [{ streamId: 's-1', events: [changed] }],
        { comparableData: withoutProvenance },
        stored,
        new Map([['s-1', 0n]]),
      ),
    ).toThrow(EventIdConflictError);
  });

  it('refuses an id repeated in one call with a different payload', () => {
    expect(() =>
      planAppends(
        [{ streamId: 's-1', events: [event(1), { ...event(1), data: { n: 9 } }] }],
        {},
        none,
        new Map(),
      ),
    ).toThrow(EventIdConflictError);
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

describe('canonicalJson', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });
});

describe('validateStreamMetadata', () => {
  const issues = (metadata: unknown) => {
    try {
      validateStreamMetadata(metadata as never);
    } catch (error) {
      return (error as ValidationError).issues.map((issue) => [issue.path, issue.rule]);
    }
    return [];
  };

  it('accepts the known keys', () => {
    expect(issues({ maxAge: 60, maxCount: 10, truncateBefore: 0n, custom: { owner: 'team' } })).toEqual([]);
    expect(issues({})).toEqual([]);
  });

  it('names each bad field and rule, and refuses the reserved and unknown keys', () => {
    expect(
      issues({
        maxAge: 0,
        maxCount: 1.5,
        truncateBefore: -1n,
        custom: [],
        encryption: { keyId: 'k', algorithm: 'aes-256-gcm' },
        acl: {},
      }),
    ).toEqual([
      ['metadata.encryption', 'reserved'],
      ['metadata.acl', 'unknown_key'],
      ['metadata.maxAge', 'positive_integer'],
      ['metadata.maxCount', 'positive_integer'],
      ['metadata.truncateBefore', 'revision'],
      ['metadata.custom', 'object'],
    ]);
    expect(issues({ truncateBefore: 3 })).toEqual([['metadata.truncateBefore', 'revision']]);
    expect(issues(null)).toEqual([['metadata', 'object']]);
  });
});

describe('validateExpectedRevision', () => {
  it('accepts the expectations and names the field otherwise', () => {
    for (const ok of ['any', 'no_stream', 'stream_exists', -1n, 7n] as const) {
      expect(() => validateExpectedRevision(ok)).not.toThrow();
    }
    expect(() => validateExpectedRevision(-2n)).toThrow(
      expect.objectContaining({
        issues: [expect.objectContaining({ path: 'expectedRevision', rule: 'expected_revision' })],
      }) as Error,
    );
    expect(() => validateExpectedRevision('latest' as never)).toThrow(ValidationError);
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

describe('planFreshAppend (the one-round-trip append of new events)', () => {
  it('lays the appends out per stream and per row, in input order, with JSON text', () => {
    const fresh = planFreshAppend([
      { streamId: 'a-1', events: [event(1), { ...event(2), metadata: { by: 'x' } }] },
      { streamId: 'b-1', events: [event(3)], expectedRevision: 4n },
    ]);
    expect(fresh).toEqual({
      streamIds: ['a-1', 'b-1'],
      expected: ['-2', '4'],
      rowStreams: [1, 1, 2],
      eventIds: [id(1), id(2), id(3)],
      types: ['ThingHappened', 'ThingHappened', 'ThingHappened'],
      data: ['{"n":1}', '{"n":2}', '{"n":3}'],
      metadata: ['{}', '{"by":"x"}', '{}'],
      eventCounts: [2, 1],
    });
  });

  it.each([
    ['an append without events', [{ streamId: 'a-1', events: [] }]],
    [
      'a stream named twice',
      [
        { streamId: 'a-1', events: [event(1)] },
        { streamId: 'a-1', events: [event(2)] },
      ],
    ],
    [
      'an event id given twice (case aside)',
      [{ streamId: 'a-1', events: [event(1), { ...event(1), eventId: id(1).toUpperCase() }] }],
    ],
    ['a payload that is not JSON', [{ streamId: 'a-1', events: [{ ...event(1), data: { big: 1n } }] }]],
  ])('leaves %s to the full path', (_name, appends) => {
    expect(planFreshAppend(appends)).toBeUndefined();
  });

  it.each([
    ['any', '-2'],
    ['no_stream', '-1'],
    ['stream_exists', '-3'],
    [-1n, '-1'],
    [0n, '0'],
    [41n, '41'],
  ] as const)('codes the expectation %p as %s', (expected, code) => {
    expect(expectationCode(expected)).toBe(code);
  });
});

describe('serialiseEvents + planAppends', () => {
  it('plans from text serialised beforehand exactly as from the events', () => {
    const appends = [
      { streamId: 'a-1', events: [event(1), { ...event(2), metadata: { k: 'v' } }] },
      { streamId: 'b-1', events: [event(3)] },
    ];
    expect(planAppends(appends, {}, none, new Map(), serialiseEvents(appends))).toEqual(
      planAppends(appends, {}, none, new Map()),
    );
  });

  it('still reports a payload that is not JSON, naming the field', () => {
    const appends = [{ streamId: 'a-1', events: [{ ...event(1), data: { big: 1n } }] }];
    expect(() => planAppends(appends, {}, none, new Map(), serialiseEvents(appends))).toThrow(
      expect.objectContaining({
        issues: [expect.objectContaining({ path: 'appends.0.events.0.data', rule: 'json' })],
      }),
    );
  });
});

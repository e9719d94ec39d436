import { StreamEntryCache, type CachedEntry } from './entry-cache';

interface Entry extends CachedEntry {
  readonly stream: string;
}

const entry = (stream: string, position: number, at: number): Entry => ({ stream, position, at });
const byStream = (...entries: Entry[]): Map<string, Entry[]> => {
  const map = new Map<string, Entry[]>();
  for (const e of entries) map.set(e.stream, [...(map.get(e.stream) ?? []), e]);
  return map;
};
const positions = (entries: readonly Entry[]): number[] => entries.map((e) => e.position);

describe('StreamEntryCache', () => {
  it('asks for everything the first time, then only above what it holds, and merges records by time', () => {
    const cache = new StreamEntryCache<Entry>(100);
    const first = cache.held(['a', 'b']);
    expect(first.streamIds).toEqual([]);
    const read = cache.merge(
      ['a', 'b'],
      first,
      byStream(entry('a', 1, 10), entry('a', 4, 40), entry('b', 2, 20), entry('b', 3, 50)),
    );
    expect(positions(read)).toEqual([1, 2, 4, 3]);
    const second = cache.held(['a', 'b']);
    expect(second.streamIds).toEqual(['a', 'b']);
    expect(second.after).toEqual([4, 3]);
    // A late-reported event: a higher position that occurred earlier lands inside the list.
    expect(positions(cache.merge(['a', 'b'], second, byStream(entry('a', 7, 15))))).toEqual([1, 7, 2, 4, 3]);
    expect(cache.size).toBe(5);
  });

  it('answers only the records the child has now (an unlinked record is not in it)', () => {
    const cache = new StreamEntryCache<Entry>(100);
    cache.merge(['a', 'b'], cache.held([]), byStream(entry('a', 1, 10), entry('b', 2, 20)));
    expect(positions(cache.merge(['a'], cache.held(['a', 'b']), new Map()))).toEqual([1]);
  });

  it('never doubles an entry a concurrent read has added meanwhile, and keeps the later of two reads', () => {
    const cache = new StreamEntryCache<Entry>(100);
    cache.merge(['a'], cache.held([]), byStream(entry('a', 1, 10)));
    const slow = cache.held(['a']);
    const fast = cache.held(['a']);
    cache.merge(['a'], fast, byStream(entry('a', 2, 20), entry('a', 3, 30)));
    // The slow read's snapshot was older: it saw only position 2 above 1.
    expect(positions(cache.merge(['a'], slow, byStream(entry('a', 2, 20))))).toEqual([1, 2]);
    expect(cache.held(['a']).after).toEqual([3]);
    expect(positions(cache.merge(['a'], cache.held(['a']), new Map()))).toEqual([1, 2, 3]);
  });

  it('forgets everything on clear(), and keeps nothing a read begun before it brings back (a switch, decision 023)', () => {
    const cache = new StreamEntryCache<Entry>(100);
    cache.merge(['a'], cache.held([]), byStream(entry('a', 1, 10)));
    const before = cache.held(['a']);
    cache.clear();
    expect(cache.size).toBe(0);
    // The read still answers whole; what it read (from the old generation) is not kept.
    expect(positions(cache.merge(['a'], before, byStream(entry('a', 2, 20))))).toEqual([1, 2]);
    expect(cache.held(['a']).streamIds).toEqual([]);
    cache.merge(['a'], cache.held(['a']), byStream(entry('a', 1, 10)));
    expect(cache.held(['a']).after).toEqual([1]);
  });

  it('answers whole even when what it held was evicted during the read', () => {
    const cache = new StreamEntryCache<Entry>(3);
    cache.merge(['a'], cache.held([]), byStream(entry('a', 1, 10), entry('a', 2, 20)));
    const held = cache.held(['a']);
    cache.merge(['b'], cache.held([]), byStream(entry('b', 3, 30), entry('b', 4, 40))); // evicts a
    expect(cache.held(['a']).streamIds).toEqual([]);
    expect(positions(cache.merge(['a'], held, byStream(entry('a', 5, 50))))).toEqual([1, 2, 5]);
  });

  it('holds at most its capacity, least recently read first out, and nothing larger than itself', () => {
    const cache = new StreamEntryCache<Entry>(4);
    cache.merge(['a'], cache.held([]), byStream(entry('a', 1, 1), entry('a', 2, 2)));
    cache.merge(['b'], cache.held([]), byStream(entry('b', 3, 3), entry('b', 4, 4)));
    cache.merge(['a'], cache.held(['a']), new Map()); // a read again: b is now the oldest
    cache.merge(['c'], cache.held([]), byStream(entry('c', 5, 5)));
    expect(cache.held(['a', 'b', 'c']).streamIds).toEqual(['a', 'c']);
    expect(cache.size).toBe(3);
    const big = cache.merge(
      ['d'],
      cache.held([]),
      byStream(...[6, 7, 8, 9, 10].map((p) => entry('d', p, p))),
    );
    expect(big).toHaveLength(5);
    expect(cache.held(['d']).streamIds).toEqual([]);
    expect(
      new StreamEntryCache<Entry>(0).merge(
        ['a'],
        { streamIds: [], after: [], slots: new Map(), epoch: 0 },
        byStream(entry('a', 1, 1)),
      ),
    ).toHaveLength(1);
  });
});

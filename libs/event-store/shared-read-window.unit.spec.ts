import type { RecordedEvent } from './port';
import { MAX_PACING_PAUSE_MS, SharedReadWindow } from './shared-read-window';

/** A store of `count` events at the given positions (gaps allowed, as rolled-back appends leave). */
function storeOf(positions: readonly number[]) {
  const events = positions.map((position): RecordedEvent => ({
    eventId: `e-${position}`,
    streamId: `s-${position % 7}`,
    revision: 0n,
    position: BigInt(position),
    type: 'test.happened',
    data: { position, nested: { list: [position] } },
    metadata: { trace: { id: `t-${position}` } },
    recordedAt: new Date(0),
  }));
  const reads: { after: bigint; maxCount: number }[] = [];
  let head = events.length;
  const readAfter = async (after: bigint, maxCount: number): Promise<RecordedEvent[]> => {
    reads.push({ after, maxCount });
    const committed = head; // the read's snapshot is taken when it is issued
    await Promise.resolve();
    // A fresh object per read, as the database gives: sharing comes from the window alone.
    return events
      .slice(0, committed)
      .filter((event) => event.position > after)
      .slice(0, maxCount)
      .map((event) => ({ ...event, data: structuredClone(event.data), metadata: { ...event.metadata } }));
  };
  return {
    reads,
    readAfter,
    /** Only the first n events are committed so far. */
    commitUpTo(n: number) {
      head = n;
    },
  };
}

const positionsOf = (events: readonly RecordedEvent[]) => events.map((event) => Number(event.position));

describe('SharedReadWindow', () => {
  it('hands the same event objects to a second reader of the same page without reading again', async () => {
    const store = storeOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const window = new SharedReadWindow(100, store.readAfter);
    const first = await window.read(0n, 4);
    const second = await window.read(0n, 4);
    expect(positionsOf(first)).toEqual([1, 2, 3, 4]);
    expect(second).toHaveLength(4);
    second.forEach((event, index) => expect(event).toBe(first[index]));
    expect(store.reads).toHaveLength(1);
    expect(window.stats()).toEqual({ hits: 4, misses: 4, held: 4, pauses: 0 });
  });

  it('reads once for readers that ask for the same page at the same time', async () => {
    const store = storeOf([1, 2, 3, 4, 5, 6]);
    const window = new SharedReadWindow(100, store.readAfter);
    const pages = await Promise.all([window.read(0n, 3), window.read(0n, 3), window.read(0n, 3)]);
    expect(pages.map(positionsOf)).toEqual([
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expect(store.reads).toHaveLength(1);
  });

  it('follows positions with gaps, and reads only what it does not hold', async () => {
    const store = storeOf([2, 3, 7, 8, 9, 15, 16, 20]);
    const window = new SharedReadWindow(100, store.readAfter);
    expect(positionsOf(await window.read(0n, 3))).toEqual([2, 3, 7]);
    // A reader with another page size: three from the window, the rest read after 7.
    expect(positionsOf(await window.read(0n, 5))).toEqual([2, 3, 7, 8, 9]);
    expect(store.reads.at(-1)).toEqual({ after: 7n, maxCount: 2 });
    // Starting inside what is held (after 3, a position that is an event's).
    expect(positionsOf(await window.read(3n, 4))).toEqual([7, 8, 9, 15]);
    expect(store.reads.at(-1)).toEqual({ after: 9n, maxCount: 1 });
    // After a position no event has (a gap): nothing is known to follow it, so it is read.
    expect(positionsOf(await window.read(10n, 2))).toEqual([15, 16]);
    expect(store.reads.at(-1)).toEqual({ after: 10n, maxCount: 2 });
  });

  it('never answers "nothing more" from what it holds: at the head the reader reads for itself', async () => {
    const store = storeOf([1, 2, 3, 4, 5]);
    store.commitUpTo(3);
    const window = new SharedReadWindow(100, store.readAfter);
    expect(positionsOf(await window.read(0n, 10))).toEqual([1, 2, 3]);
    store.commitUpTo(5);
    // Held up to 3, then read: the events committed since are found.
    expect(positionsOf(await window.read(0n, 10))).toEqual([1, 2, 3, 4, 5]);
    expect(store.reads.at(-1)).toEqual({ after: 3n, maxCount: 7 });
    expect(positionsOf(await window.read(5n, 10))).toEqual([]);
    expect(store.reads.at(-1)).toEqual({ after: 5n, maxCount: 10 });
  });

  it('after waiting on a read that found nothing, reads again itself (a commit may have come since)', async () => {
    const store = storeOf([1, 2]);
    store.commitUpTo(0);
    const window = new SharedReadWindow(100, store.readAfter);
    const first = window.read(0n, 10);
    const second = window.read(0n, 10);
    store.commitUpTo(2); // after the first read was issued, before the second reader gave up
    expect(positionsOf(await first)).toEqual([]);
    expect(positionsOf(await second)).toEqual([1, 2]);
    expect(store.reads).toHaveLength(2);
  });

  describe('readPage: whether a short page reached the head (a subscription then waits for NOTIFY)', () => {
    it('is at the head when its own read came back short, and not when the page is full', async () => {
      const store = storeOf([1, 2, 3]);
      const reader = new SharedReadWindow(100, store.readAfter).openReader();
      expect(await reader.readPage(0n, 2)).toMatchObject({ atHead: false });
      const short = await reader.readPage(2n, 2);
      expect(positionsOf(short.events)).toEqual([3]);
      expect(short.atHead).toBe(true);
    });

    it('is not at the head when it took a short page from a read issued before it began', async () => {
      const store = storeOf([1, 2, 3]);
      store.commitUpTo(2);
      const window = new SharedReadWindow(100, store.readAfter);
      const [early, late] = [window.openReader(), window.openReader()];
      const first = early.readPage(0n, 10);
      store.commitUpTo(3); // committed after the first read's snapshot: its NOTIFY may be gone
      const second = late.readPage(0n, 10);
      expect(await first).toMatchObject({ atHead: true });
      const taken = await second;
      expect(positionsOf(taken.events)).toEqual([1, 2]);
      expect(taken.atHead).toBe(false); // so the subscription reads again and finds 3
      expect(store.reads).toHaveLength(1);
    });

    it('is not at the head when the read it waited for was full for a smaller page', async () => {
      const store = storeOf([1, 2, 3, 4, 5]);
      const window = new SharedReadWindow(100, store.readAfter);
      const [small, large] = [window.openReader(), window.openReader()];
      store.commitUpTo(5);
      const first = small.readPage(0n, 2);
      const second = large.readPage(0n, 10);
      expect(await first).toMatchObject({ atHead: false });
      const taken = await second;
      expect(positionsOf(taken.events)).toEqual([1, 2]);
      expect(taken.atHead).toBe(false);
    });

    it('without a window, a short direct read is at the head', async () => {
      const store = storeOf([1, 2]);
      const reader = new SharedReadWindow(0, store.readAfter).openReader();
      expect(await reader.readPage(0n, 5)).toMatchObject({ atHead: true });
      expect(await reader.readPage(0n, 2)).toMatchObject({ atHead: false });
    });
  });

  it('keeps at most its capacity, dropping what it added first', async () => {
    const store = storeOf(Array.from({ length: 20 }, (_, index) => index + 1));
    const window = new SharedReadWindow(5, store.readAfter);
    await window.read(0n, 4);
    await window.read(4n, 4);
    expect(window.stats().held).toBe(5);
    // 4..8 are still held; 1..3 were dropped and are read again.
    const reads = store.reads.length;
    expect(positionsOf(await window.read(5n, 3))).toEqual([6, 7, 8]);
    expect(store.reads).toHaveLength(reads);
    expect(positionsOf(await window.read(0n, 3))).toEqual([1, 2, 3]);
    expect(store.reads.at(-1)).toEqual({ after: 0n, maxCount: 3 });
  });

  it('freezes what it shares, so a handler that changed an event would fail, not change it for the others', async () => {
    const store = storeOf([1, 2]);
    const window = new SharedReadWindow(100, store.readAfter);
    const [event] = await window.read(0n, 1);
    expect(Object.isFrozen(event)).toBe(true);
    expect(() => {
      (event.data as { nested: { list: number[] } }).nested.list.push(9);
    }).toThrow(/not extensible|read only|read-only/);
    expect(() => {
      (event.metadata as { trace: { id: string } }).trace.id = 'changed';
    }).toThrow(/not extensible|read only|read-only/);
  });

  it('with capacity 0 is the plain read', async () => {
    const store = storeOf([1, 2, 3]);
    const window = new SharedReadWindow(0, store.readAfter);
    const first = await window.read(0n, 2);
    const second = await window.read(0n, 2);
    expect(second[0]).not.toBe(first[0]);
    expect(Object.isFrozen(first[0])).toBe(false);
    expect(store.reads).toHaveLength(2);
  });

  describe('pacing', () => {
    const many = () => storeOf(Array.from({ length: 100 }, (_, index) => index + 1));

    it('holds a reader that is catching up more than half the capacity ahead until the slowest comes nearer', async () => {
      const store = many();
      const window = new SharedReadWindow(10, store.readAfter);
      const fast = window.openReader();
      const slow = window.openReader();
      expect(positionsOf(await slow.read(0n, 4))).toEqual([1, 2, 3, 4]); // slow is catching up, at 0
      await fast.read(0n, 4);
      await fast.read(4n, 4); // 4 ahead of slow: not held
      let done = false;
      const held = fast.read(8n, 4).then((events) => {
        done = true;
        return events;
      });
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(done).toBe(false); // 8 ahead of slow (more than 5)
      await slow.read(4n, 4); // slow moves to 4: fast is 4 ahead, and goes on
      expect(positionsOf(await held)).toEqual([9, 10, 11, 12]);
      expect(window.stats().pauses).toBe(1);
      fast.close();
      slow.close();
    });

    it('waits at most MAX_PACING_PAUSE_MS for a reader that does not move', async () => {
      const store = many();
      const window = new SharedReadWindow(10, store.readAfter);
      const fast = window.openReader();
      const stuck = window.openReader();
      await stuck.read(0n, 4);
      await fast.read(0n, 4);
      const started = performance.now();
      await fast.read(20n, 4);
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(MAX_PACING_PAUSE_MS - 5);
      expect(waited).toBeLessThan(MAX_PACING_PAUSE_MS + 500);
      // Once the stuck reader leaves (its subscription ended), nobody waits for it.
      stuck.close();
      const again = performance.now();
      await fast.read(40n, 4);
      expect(performance.now() - again).toBeLessThan(MAX_PACING_PAUSE_MS / 2);
    });

    it('never holds a reader back for one at the head, nor a reader catching up alone', async () => {
      const store = many();
      const window = new SharedReadWindow(10, store.readAfter);
      const live = window.openReader();
      const rebuilding = window.openReader();
      // The live reader's last read was short: it is at the head, not catching up.
      expect(await live.read(100n, 4)).toEqual([]);
      const started = performance.now();
      for (let after = 0n; after < 40n; after += 4n) await rebuilding.read(after, 4);
      expect(performance.now() - started).toBeLessThan(MAX_PACING_PAUSE_MS / 2);
      expect(window.stats().pauses).toBe(0);
    });
  });
});

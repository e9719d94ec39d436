/**
 * Parsed timeline entries kept per record (stream) between reads, so that a long chronology read
 * again (the timeline, then its outcomes and decisions, by one practitioner or the next) fetches
 * and parses only the entries projected since.
 *
 * Why this is safe: timeline_entries is append-only in store order. The projector inserts the
 * entries of one batch in one transaction, batches commit in position order, and no entry is
 * ever updated or deleted (a rebuild truncates and inserts the same rows again, since an entry is
 * a function of its stored event; a blue-green rebuild, which may work entries out anew, clears
 * the cache when it switches, decision 023). So every entry committed after a read that saw a record's
 * entries up to position P has a position above P, and "entries of this record above P" is
 * exactly what the cache lacks. Which records make up a child, and what a reader may see, are
 * decided on every read; the cache holds only what each record's events say.
 */
export interface CachedEntry {
  readonly position: number;
  /** When it occurred, in epoch milliseconds: the chronology's order is (occurredAt, position). */
  readonly at: number;
}

interface Slot<E extends CachedEntry> {
  /** The record's entries in chronological order (never changed in place: a read may hold it). */
  readonly entries: readonly E[];
  /** The highest position read for the record (-1: none). */
  readonly after: number;
}

/** What the cache held for some records when a read began: it asks for what lies above `after`. */
export interface Held<E extends CachedEntry> {
  readonly streamIds: string[];
  readonly after: number[];
  readonly slots: ReadonlyMap<string, Slot<E>>;
  /** The cache's epoch when the read began: a read begun before a clear() keeps nothing. */
  readonly epoch: number;
}

export const byTimeThenPosition = (a: CachedEntry, b: CachedEntry): number =>
  a.at - b.at || a.position - b.position;

export class StreamEntryCache<E extends CachedEntry> {
  /** Least recently used first (a Map keeps insertion order). */
  private readonly slots = new Map<string, Slot<E>>();
  private count = 0;
  private epoch = 0;

  /** @param capacity entries kept in all (TIMELINE_ENTRY_CACHE); 0 keeps nothing. */
  constructor(private readonly capacity: number) {}

  /** What is held for each of these records (those held at all), for a read to ask only for the rest. */
  held(streamIds: readonly string[]): Held<E> {
    const slots = new Map<string, Slot<E>>();
    const held = { streamIds: [] as string[], after: [] as number[], slots, epoch: this.epoch };
    for (const streamId of streamIds) {
      const slot = this.slots.get(streamId);
      if (!slot) continue;
      slots.set(streamId, slot);
      held.streamIds.push(streamId);
      held.after.push(slot.after);
    }
    return held;
  }

  /**
   * The records' entries in chronological order: what was `held` when the read began plus the
   * entries it read above each (`fresh`, any order). `streamIds` are all the records read (a
   * record with no entries yet is remembered as such). The result is kept unless a concurrent
   * read has kept a later one meanwhile.
   */
  merge(streamIds: readonly string[], held: Held<E>, fresh: ReadonlyMap<string, readonly E[]>): E[] {
    const merged: E[] = [];
    let contributing = 0;
    for (const streamId of streamIds) {
      const base = held.slots.get(streamId) ?? { entries: [], after: -1 };
      const added = (fresh.get(streamId) ?? []).filter((entry) => entry.position > base.after);
      const slot: Slot<E> =
        added.length === 0
          ? base
          : {
              // A late-reported event (earlier occurredAt, higher position) lands inside the list.
              entries: [...base.entries, ...added].sort(byTimeThenPosition),
              after: added.reduce((max, entry) => Math.max(max, entry.position), base.after),
            };
      const current = this.slots.get(streamId);
      if (held.epoch === this.epoch && (!current || current.after <= slot.after)) this.keep(streamId, slot);
      if (slot.entries.length > 0) contributing++;
      for (const entry of slot.entries) merged.push(entry);
    }
    // One record's entries are in order already; several are interleaved by time.
    return contributing > 1 ? merged.sort(byTimeThenPosition) : merged;
  }

  /** Forgets every entry, and what reads begun before now would keep: the read model was switched to another generation. */
  clear(): void {
    this.slots.clear();
    this.count = 0;
    this.epoch++;
  }

  /** Entries held in all. */
  get size(): number {
    return this.count;
  }

  private keep(streamId: string, slot: Slot<E>): void {
    const previous = this.slots.get(streamId);
    if (previous) {
      this.count -= previous.entries.length;
      this.slots.delete(streamId);
    }
    if (slot.entries.length > this.capacity) return;
    this.slots.set(streamId, slot);
    this.count += slot.entries.length;
    for (const [oldest, evicted] of this.slots) {
      if (this.count <= this.capacity) break;
      this.slots.delete(oldest);
      this.count -= evicted.entries.length;
    }
  }
}

import type { RecordedEvent } from './port';
import type { ReadPage } from './postgres-subscription';

/** Events a store's subscriptions share by default (about 1.5 KB of JSON each on disk). */
export const DEFAULT_SHARED_READ_EVENTS = 20_000;

/** The longest a reader ahead of the others waits for them before one read. */
export const MAX_PACING_PAUSE_MS = 250;

/** One subscription's use of the window; close it when the subscription ends. */
export interface SharedReader {
  read(after: bigint, maxCount: number): Promise<RecordedEvent[]>;
  /** As `read`, and whether the page reached the head by a read this call issued (`ReadPage`). */
  readPage(after: bigint, maxCount: number): Promise<ReadPage>;
  close(): void;
}

/** Counts since the start: events handed from the window, read from the store, held; reads paused. */
export interface SharedReadStats {
  readonly hits: number;
  readonly misses: number;
  readonly held: number;
  readonly pauses: number;
}

interface ReaderState {
  /** The position its last read was after. */
  at: bigint;
  /** Its last read came back full: it is catching up, not at the head. */
  catchingUp: boolean;
}

/**
 * The events a store's unfiltered subscriptions read lately, kept so that the other
 * subscriptions of the same process are handed the same objects instead of reading, decoding
 * and parsing them again (decision 025). A process that rebuilds three read models from one
 * store reads each page of the store once, not three times, and readers keyed on the event
 * objects (the contracts' `readStored`) parse each event once.
 *
 * What it holds is a set of facts that never change: "the first event after position p is e".
 * Once e is visible every position below it is committed or will never exist (decision 003),
 * so no event can later appear between p and e. A short read at the head records nothing
 * about what follows its last event, so the window never answers "nothing more" for anyone:
 * a reader it cannot serve in full reads the rest itself, as fresh as without the window.
 *
 * Bounded: at most `capacity` events, the oldest entries dropped first. The events are frozen,
 * with their data and metadata: several handlers get the same objects, and one that
 * changed them would change them for the others, so it fails instead.
 *
 * Paced: readers that are catching up (their last page came back full) stay within half the
 * capacity of each other. One further ahead waits before its read, up to MAX_PACING_PAUSE_MS,
 * for the slowest to come nearer; otherwise the slowest read model of a rebuild would fall out of
 * the window and read everything again. A reader at the head is never held back, nor is one
 * catching up alone (a read model rebuilt beside live ones, decision 023).
 */
export class SharedReadWindow {
  /** Position p → the first event after p, in the order the entries were added. */
  private readonly successors = new Map<bigint, RecordedEvent>();
  /** Reads in flight, by the position they read after. */
  private readonly reading = new Map<bigint, Promise<unknown>>();
  private readonly readers = new Set<ReaderState>();
  /** Readers waiting for the slowest to move; woken whenever a reader moves or leaves. */
  private moved = new Set<() => void>();
  private hits = 0;
  private misses = 0;
  private pauses = 0;

  constructor(
    private readonly capacity: number,
    private readonly readAfter: (after: bigint, maxCount: number) => Promise<RecordedEvent[]>,
  ) {}

  /** A reader for one subscription: paced with the others (see above). */
  openReader(): SharedReader {
    const state: ReaderState = { at: -1n, catchingUp: false };
    this.readers.add(state);
    const readPage = async (after: bigint, maxCount: number): Promise<ReadPage> => {
      state.at = after;
      this.wakeWaiting();
      if (state.catchingUp && this.capacity > 0) await this.pace(state);
      const page = await this.readPage(after, maxCount);
      state.catchingUp = page.events.length >= maxCount;
      return page;
    };
    return {
      read: async (after, maxCount) => (await readPage(after, maxCount)).events,
      readPage,
      close: () => {
        this.readers.delete(state);
        this.wakeWaiting();
      },
    };
  }

  /** Up to maxCount events after `after`, in position order; fewer only at the head (or once, see below). */
  async read(after: bigint, maxCount: number): Promise<RecordedEvent[]> {
    return (await this.readPage(after, maxCount)).events;
  }

  /** `read`, telling whether the page reached the head by a read of its own (see `ReadPage`). */
  private async readPage(after: bigint, maxCount: number): Promise<ReadPage> {
    if (this.capacity <= 0) {
      const events = await this.readAfter(after, maxCount);
      return { events, atHead: events.length < maxCount };
    }
    const events: RecordedEvent[] = [];
    let from = this.take(after, maxCount, events);
    if (events.length >= maxCount) return { events: this.served(events), atHead: false };
    const pending = this.reading.get(from);
    if (pending) {
      // Another subscription is reading exactly these; wait for it rather than read them twice.
      // Whatever it found is taken, even a short page, but not as the head: unless the
      // subscription knows from its NOTIFYs that nothing more was committed, it reads again at
      // once after a non-empty batch, and then reads the head itself.
      await pending.catch(() => undefined);
      from = this.take(from, maxCount, events);
      if (events.length > 0) return { events: this.served(events), atHead: false };
    }
    const asked = maxCount - events.length;
    const read = this.readAfter(from, asked);
    this.reading.set(from, read);
    try {
      const fresh = await read;
      this.add(from, fresh);
      this.misses += fresh.length;
      this.hits += events.length;
      return { events: events.length === 0 ? fresh : events.concat(fresh), atHead: fresh.length < asked };
    } finally {
      if (this.reading.get(from) === read) this.reading.delete(from);
    }
  }

  /**
   * Events served from the window and read by the store, events held, and the reads a reader
   * paused for the others, since the start (for logs and tests).
   */
  stats(): SharedReadStats {
    return { hits: this.hits, misses: this.misses, held: this.successors.size, pauses: this.pauses };
  }

  private async pace(state: ReaderState): Promise<void> {
    const lead = BigInt(Math.floor(this.capacity / 2));
    const deadline = performance.now() + MAX_PACING_PAUSE_MS;
    let paused = false;
    for (;;) {
      let slowest: bigint | undefined;
      for (const other of this.readers) {
        if (other !== state && other.catchingUp && (slowest === undefined || other.at < slowest))
          slowest = other.at;
      }
      const left = deadline - performance.now();
      if (slowest === undefined || state.at - slowest <= lead || left <= 0) break;
      if (!paused) this.pauses++;
      paused = true;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.moved.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.moved.add(done);
      });
    }
  }

  private wakeWaiting(): void {
    if (this.moved.size === 0) return;
    const waiting = this.moved;
    this.moved = new Set();
    for (const wake of waiting) wake();
  }

  private served(events: RecordedEvent[]): RecordedEvent[] {
    this.hits += events.length;
    return events;
  }

  /** Appends to `events` what the window holds after `after`; returns the position reached. */
  private take(after: bigint, maxCount: number, events: RecordedEvent[]): bigint {
    let from = after;
    while (events.length < maxCount) {
      const next = this.successors.get(from);
      if (next === undefined) break;
      events.push(next);
      from = next.position;
    }
    return from;
  }

  private add(after: bigint, events: readonly RecordedEvent[]): void {
    let previous = after;
    for (const event of events) {
      deepFreeze(event.data);
      deepFreeze(event.metadata);
      this.successors.set(previous, Object.freeze(event));
      previous = event.position;
    }
    let excess = this.successors.size - this.capacity;
    if (excess <= 0) return;
    for (const key of this.successors.keys()) {
      this.successors.delete(key);
      if (--excess <= 0) break;
    }
  }
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
}

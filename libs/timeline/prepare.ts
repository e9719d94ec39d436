import { useStored, type ContractIssue, type CurrentAgencyEvent } from '@throughline/contracts';
import { forEachInSlices, validatedAtIntake, type RecordedEvent } from '@throughline/event-store';
import {
  isIdentityEventType,
  parseIdentityEvent,
  recordsMovedBy,
  type IdentityEvent,
} from '@throughline/identity';
import { COPY_NULL, copyJson, copyText, copyTextArray, ThroughlineError } from '@throughline/platform';
import { timelineEntryOf, type TimelineEntryDraft } from './entry';
import { identifiersOf, type SubjectIdentifier } from './identity';

export interface SkippedEvent {
  readonly position: bigint;
  readonly eventId: string;
  readonly streamId: string;
  readonly type: string;
  readonly issues: readonly ContractIssue[];
}

const skippedEvent = (recorded: RecordedEvent, issues: readonly ContractIssue[]): SkippedEvent => ({
  position: recorded.position,
  eventId: recorded.eventId,
  streamId: recorded.streamId,
  type: recorded.type,
  issues,
});

/**
 * What a reader makes of a stored agency event (`read`, given it as a contract in the current
 * version of its type), or the event skipped. The store keeps what the agency sent (any
 * accepted version) and readers see the upcast event (contracts/src/upcast.ts). Time-dependent
 * rules (not in the future) were the recorder's to apply at intake; here they would make a
 * rebuild depend on the clock. An event the recorder appended was validated then, and is taken
 * as written (`validatedAtIntake`, decision 034); one that `read` fails on is validated now
 * (`useStored`): skipped if it is not a valid contract, the reader's error thrown if it is.
 */
export function readAgencyEvent<T>(
  recorded: RecordedEvent,
  read: (event: CurrentAgencyEvent, storedVersion: number) => T,
): { ok: true; value: T; event: CurrentAgencyEvent } | SkippedEvent {
  const used = useStored(
    recorded.data,
    { validatedAtIntake: validatedAtIntake(recorded) },
    ({ event, storedVersion }) =>
      event.type === recorded.type ? { made: read(event, storedVersion) } : undefined,
  );
  if (!used.ok) return skippedEvent(recorded, used.issues);
  if (used.value === undefined) {
    return skippedEvent(recorded, [
      { path: 'type', rule: 'matches-stored-type', message: `stored as ${recorded.type}` },
    ]);
  }
  return { ok: true, value: used.value.made, event: used.read.event };
}

/** A stored agency event as a contract in the current version of its type (`readAgencyEvent`). */
export function readStoredEvent(
  recorded: RecordedEvent,
): { ok: true; event: CurrentAgencyEvent; storedVersion: number } | SkippedEvent {
  const read = readAgencyEvent(recorded, (_, storedVersion) => storedVersion);
  return 'ok' in read ? { ok: true, event: read.event, storedVersion: read.value } : read;
}

function readIdentityEvent(recorded: RecordedEvent): IdentityEvent | SkippedEvent {
  try {
    return parseIdentityEvent(recorded.type, recorded.data);
  } catch (error) {
    if (!(error instanceof ThroughlineError)) throw error;
    const issues = (error.details.issues as ContractIssue[] | undefined) ?? [
      { path: 'type', rule: 'identity-event', message: error.message },
    ];
    return skippedEvent(recorded, issues);
  }
}

/** What applying an agency event needs of its contract: the record it founds or was last seen in. */
export interface RecordTrack {
  readonly agency: string;
  readonly recordId: string;
  readonly identifiers: readonly SubjectIdentifier[];
  readonly born?: string;
  readonly expected?: string;
}

/**
 * One event of the batch that the read models take, by its index in the batch: an agency event
 * (its record's part) or an identity event (read as its contract).
 */
export type PreparedItem =
  | { readonly index: number; readonly track: RecordTrack }
  | { readonly index: number; readonly identity: IdentityEvent };

/** The columns of `timeline_entries` that a batch's entries are copied into, in their COPY text's order. */
export const ENTRY_COLUMNS = [
  'position',
  'event_id',
  'stream_id',
  'agency',
  'type',
  'occurred_at',
  'summary',
  'outcome_framework',
  'outcome_domain',
  'details',
  'lineage',
  'special_categories',
  'source_organisation',
] as const;

/**
 * A batch's events read as contracts and its timeline entries built: everything that needs no
 * database. Plain data only (strings, numbers, bigints, arrays, objects), so that it can be made
 * in a worker thread and handed back by a structured clone (`PrepareThread`).
 */
export interface PreparedBatch {
  readonly items: readonly PreparedItem[];
  readonly entries: number;
  /**
   * The entries' rows as COPY text (ENTRY_COLUMNS), UTF-8: bytes, so that a thread's answer is
   * copied to the event loop as they are and written to the connection without encoding again.
   * Undefined when the batch has no entry.
   */
  readonly entryCopy: Uint8Array | undefined;
  readonly skipped: readonly SkippedEvent[];
  readonly agencyStreams: readonly string[];
  readonly identitySubjects: readonly string[];
}

/** What applying the event needs of its record. */
function trackOf(event: CurrentAgencyEvent): RecordTrack {
  return {
    agency: event.source.agency,
    recordId: event.subject.recordId,
    identifiers: identifiersOf(event),
    ...(event.subject.dateOfBirth !== undefined && { born: event.subject.dateOfBirth }),
    ...(event.subject.expectedDateOfBirth !== undefined && { expected: event.subject.expectedDateOfBirth }),
  };
}

/** One entry as a line of COPY text, in ENTRY_COLUMNS's order. */
function entryLine(e: TimelineEntryDraft): string {
  const details = JSON.stringify({ ...e.details, occurredAt: e.occurredAt });
  return (
    `${e.position}\t${copyText(e.eventId)}\t${copyText(e.streamId)}\t${copyText(e.agency)}\t${copyText(e.type)}\t` +
    `${copyText(e.occurredAt)}\t${copyText(e.summary)}\t${copyText(e.outcomeDomain.framework)}\t` +
    `${copyText(e.outcomeDomain.domain)}\t${copyJson(details)}\t${copyJson(JSON.stringify(e.lineage))}\t` +
    `${copyTextArray(e.specialCategories)}\t${e.sourceOrganisation === undefined ? COPY_NULL : copyText(e.sourceOrganisation)}\n`
  );
}

/** Takes a batch's events one by one, in store order, and gives the prepared batch. */
class Preparation {
  private entryText = '';
  private entries = 0;
  private readonly skipped: SkippedEvent[] = [];
  private readonly items: PreparedItem[] = [];
  private readonly agencyStreams = new Set<string>();
  private readonly identitySubjects = new Set<string>();
  private index = 0;

  add(recorded: RecordedEvent): void {
    const index = this.index++;
    if (isIdentityEventType(recorded.type)) {
      const identity = readIdentityEvent(recorded);
      if ('issues' in identity) {
        this.skipped.push(identity);
        return;
      }
      for (const subject of recordsMovedBy(identity)) this.identitySubjects.add(subject);
      this.items.push({ index, identity });
      return;
    }
    const read = readAgencyEvent(recorded, (event, storedVersion) => ({
      track: trackOf(event),
      line: entryLine(timelineEntryOf(event, recorded, storedVersion)),
    }));
    if (!('ok' in read)) {
      this.skipped.push(read);
      return;
    }
    this.agencyStreams.add(recorded.streamId);
    this.items.push({ index, track: read.value.track });
    this.entryText += read.value.line;
    this.entries++;
  }

  result(): PreparedBatch {
    return {
      items: this.items,
      entries: this.entries,
      entryCopy: this.entries > 0 ? Buffer.from(this.entryText, 'utf8') : undefined,
      skipped: this.skipped,
      agencyStreams: [...this.agencyStreams],
      identitySubjects: [...this.identitySubjects],
    };
  }
}

/**
 * Reads a batch's events as contracts (skipping the invalid), builds its timeline entries and
 * their rows: the work of a batch that depends on its events alone, in one go. What a
 * `PrepareThread` runs (see `prepare-thread.ts`), where nothing else waits on the event loop.
 */
export function prepareEvents(batch: readonly RecordedEvent[]): PreparedBatch {
  const preparation = new Preparation();
  for (const recorded of batch) preparation.add(recorded);
  return preparation.result();
}

/**
 * `prepareEvents` on the caller's thread. The runner calls it while the batch before is applied
 * (`CheckpointedHandler.prepare`), so it gives the event loop a turn now and then
 * (`forEachInSlices`): that batch's statements are sent as their answers come.
 */
export async function prepareBatch(batch: readonly RecordedEvent[]): Promise<PreparedBatch> {
  const preparation = new Preparation();
  await forEachInSlices(batch, (recorded) => preparation.add(recorded));
  return preparation.result();
}

import type { AgencyEvent, EventType } from './catalogue';
import { isoDate, isoDateTime } from './common';
import { CONTRACT_VERSIONS, CURRENT_VERSION } from './versions';
import { parseAgencyEvent, type ContractIssue, type ParseOptions } from './validate';

/** Versions readers no longer see: `readAsCurrent` upcasts them. */
type SupersededEvent = Extract<AgencyEvent, { type: 'education.attendance.summarised'; schemaVersion: 1 }>;

/** An event in the current version of its type. */
export type CurrentAgencyEvent = Exclude<AgencyEvent, SupersededEvent>;

type Upcaster = (event: AgencyEvent) => AgencyEvent;

/**
 * One step per superseded version, `<type>@<version>` to version + 1. A step never invents
 * a fact: it only moves or derives what the older version already said.
 */
export const UPCASTERS: Readonly<Partial<Record<`${EventType}@${number}`, Upcaster>>> = {
  'education.attendance.summarised@1': (event) => {
    const v1 = event as SupersededEvent;
    const { sessionsPossible, authorisedAbsence, unauthorisedAbsence } = v1.data;
    return {
      ...v1,
      schemaVersion: 2,
      data: {
        ...v1.data,
        sessionsAttended: sessionsPossible - authorisedAbsence - unauthorisedAbsence,
      },
    };
  },
};

/** Brings a valid event of any accepted version to the current version of its type. */
export function upcast(event: AgencyEvent): CurrentAgencyEvent {
  let current: AgencyEvent = event;
  while (current.schemaVersion < CURRENT_VERSION[current.type]) {
    const step = UPCASTERS[`${current.type}@${current.schemaVersion}`];
    if (!step) throw new Error(`no upcaster from ${current.type} v${current.schemaVersion}`);
    current = step(current);
  }
  return current as CurrentAgencyEvent;
}

export type ReadResult =
  { ok: true; event: CurrentAgencyEvent; storedVersion: number } | { ok: false; issues: ContractIssue[] };

/**
 * For readers of stored events: validates the event as it was written (any accepted version)
 * and returns it in the current version. Intake and the recorder keep using
 * `parseAgencyEvent`, so the store holds every event exactly as the agency sent it.
 */
export function readAsCurrent(input: unknown, options: ParseOptions = {}): ReadResult {
  const parsed = parseAgencyEvent(input, { ...options, readingStored: true });
  if (!parsed.ok) return parsed;
  return { ok: true, event: upcast(parsed.event), storedVersion: parsed.event.schemaVersion };
}

/** A stored event read once: as written (`stored`) and in the current version (`event`). */
export type StoredRead =
  | { ok: true; stored: AgencyEvent; event: CurrentAgencyEvent; storedVersion: number }
  | { ok: false; issues: ContractIssue[] };

export interface ReadStoredOptions {
  /**
   * The event was validated against its contract when it came in, and stored as the contract
   * read it (the recorder's lineage says so; event-store's `validatedAtIntake`). It is then taken
   * as written, after a check of its envelope, instead of being validated a second time
   * (decision 034): a version's contract never refuses what it once accepted, so the second
   * validation could only repeat the first. An event whose envelope does not hold is validated.
   */
  readonly validatedAtIntake?: boolean;
}

/** Each remembered answer, by input object: validated and taken as validated at intake apart. */
const storedReads = new WeakMap<object, StoredRead>();
const intakeReads = new WeakMap<object, StoredRead>();

/** `<type>@<version>` of every version accepted at intake. */
const ACCEPTED_VERSIONS = new Set(CONTRACT_VERSIONS.map(({ type, version }) => `${type}@${version}`));

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * An event validated at intake, taken as written: what every reader of the store relies on
 * before it opens `data` (a type and version the contracts accept, the source's agency, the
 * subject's record, when it happened and the subject's dates of birth, as the contract has
 * them). Undefined when any of it does not hold.
 */
function takenAsValidated(input: unknown): StoredRead | undefined {
  if (!isRecord(input) || !isRecord(input.source) || !isRecord(input.subject) || !isRecord(input.data)) {
    return undefined;
  }
  const { type, schemaVersion } = input;
  if (
    typeof type !== 'string' ||
    typeof schemaVersion !== 'number' ||
    !ACCEPTED_VERSIONS.has(`${type}@${schemaVersion}`)
  ) {
    return undefined;
  }
  const { dateOfBirth, expectedDateOfBirth } = input.subject;
  if (
    typeof input.eventId !== 'string' ||
    typeof input.source.agency !== 'string' ||
    typeof input.subject.recordId !== 'string' ||
    // Written to typed columns by the read models: a value the database would refuse is found here.
    !isoDateTime.safeParse(input.occurredAt).success ||
    (dateOfBirth !== undefined && !isoDate.safeParse(dateOfBirth).success) ||
    (expectedDateOfBirth !== undefined && !isoDate.safeParse(expectedDateOfBirth).success)
  ) {
    return undefined;
  }
  const stored = input as unknown as AgencyEvent;
  return { ok: true, stored, event: upcast(stored), storedVersion: schemaVersion };
}

/** The contract's validation of a stored event, never remembered: the answer `readStored` falls back to. */
export function validateStored(input: unknown): StoredRead {
  const parsed = parseAgencyEvent(input, { futureToleranceMs: Infinity, readingStored: true });
  return parsed.ok
    ? {
        ok: true,
        stored: parsed.event,
        event: upcast(parsed.event),
        storedVersion: parsed.event.schemaVersion,
      }
    : parsed;
}

/** A stored event read as a valid contract. */
export type StoredEvent = Extract<StoredRead, { ok: true }>;

/**
 * `readStored`, then what the reader makes of the event (`use`). When `use` fails on an event
 * taken as validated at intake, the event is validated now: if it is not a valid contract after
 * all, that refusal is the answer (the reader skips it like any other); if it is, the failure is
 * the reader's own and is thrown.
 */
export function useStored<T>(
  input: unknown,
  options: ReadStoredOptions,
  use: (read: StoredEvent) => T,
): { ok: true; read: StoredEvent; value: T } | { ok: false; issues: ContractIssue[] } {
  const read = readStored(input, options);
  if (!read.ok) return read;
  try {
    return { ok: true, read, value: use(read) };
  } catch (error) {
    if (!options.validatedAtIntake) throw error;
    const validated = validateStored(input);
    if (!validated.ok) return validated;
    throw error;
  }
}

/**
 * `readAsCurrent` for an event read from the store, without the clock's rules (a rebuild must
 * not depend on when it runs), remembered per input object. The subscriptions of one process
 * are handed the same event objects (event-store's shared read window, decision 025), so the
 * read models of the projection app parse each stored event once between them. Only frozen
 * inputs (as the window hands out) are remembered, and their answers are frozen too: they are
 * shared, and a reader that changed one would change it for the others.
 *
 * With `validatedAtIntake`, an event whose envelope holds is taken as written (see
 * `ReadStoredOptions`); `useStored` validates one that the reader's own code then fails on.
 */
export function readStored(input: unknown, options: ReadStoredOptions = {}): StoredRead {
  // Only a frozen input can be remembered: one that may still change could answer differently.
  const key = input !== null && typeof input === 'object' && Object.isFrozen(input) ? input : undefined;
  const reads = options.validatedAtIntake ? intakeReads : storedReads;
  const known = key && reads.get(key);
  if (known) return known;
  const read = (options.validatedAtIntake && takenAsValidated(input)) || validateStored(input);
  if (key) reads.set(key, deepFrozen(read));
  return read;
}

function deepFrozen<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key in value) deepFrozen((value as Record<string, unknown>)[key]);
  return value;
}

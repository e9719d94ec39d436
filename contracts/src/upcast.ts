import type { AgencyEvent, EventType } from './catalogue';
import { CURRENT_VERSION } from './versions';
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

import { v5 as uuidv5 } from 'uuid';
import type { ImportFormat } from '@throughline/contracts';

/** The UUID v5 namespace of imported events (fixed: changing it would re-import everything). */
export const IMPORTED_EVENT_NAMESPACE = '8f2c6b1e-5d0a-4c39-9b47-1e6a2f3d7c58';

/**
 * The id of an event imported from a return or record: a UUID v5 of the format, the
 * organisation (LA code, or the issuer of the record's ids), the child's id in that source and
 * the record's natural key (module and the dates that identify it). It holds neither the file
 * nor the collection year, so the same referral in next year's return has the same id and
 * importing it again adds nothing.
 */
export function importedEventId(
  format: ImportFormat,
  organisation: string,
  childId: string,
  ...naturalKey: readonly (string | number | undefined)[]
): string {
  const parts = [
    format,
    organisation,
    childId,
    ...naturalKey.map((part) => (part === undefined ? '' : String(part))),
  ];
  // The separator cannot appear inside a part unescaped, so different keys never collide.
  const name = parts.map((part) => part.replace(/\\/g, '\\\\').replace(/\|/g, '\\|')).join('|');
  return uuidv5(name, IMPORTED_EVENT_NAMESPACE);
}

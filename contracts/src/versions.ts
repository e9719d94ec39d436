import { z } from 'zod';
import { agencyEvent, EVENT_TYPES, type EventType } from './catalogue';

/** One published version of one event type, with the zod schema that defines it. */
export interface ContractVersion {
  readonly type: EventType;
  readonly version: number;
  readonly schema: z.ZodObject;
}

function versionsOf(member: z.ZodType): ContractVersion[] {
  if (member instanceof z.ZodDiscriminatedUnion) {
    return (member.options as readonly z.ZodType[]).flatMap(versionsOf);
  }
  if (!(member instanceof z.ZodObject)) throw new Error('a contract version must be an object schema');
  const { type, schemaVersion } = member.shape as { type: z.ZodLiteral; schemaVersion: z.ZodLiteral };
  return [{ type: type.value as EventType, version: schemaVersion.value as number, schema: member }];
}

/** Every version of every event type accepted at intake, in catalogue order, oldest version first. */
export const CONTRACT_VERSIONS: readonly ContractVersion[] = (agencyEvent.options as readonly z.ZodType[])
  .flatMap(versionsOf)
  .sort((a, b) => EVENT_TYPES.indexOf(a.type) - EVENT_TYPES.indexOf(b.type) || a.version - b.version);

/** The version readers get from `readAsCurrent`: the highest version of each type. */
export const CURRENT_VERSION: Readonly<Record<EventType, number>> = Object.fromEntries(
  EVENT_TYPES.map((type) => [
    type,
    Math.max(...CONTRACT_VERSIONS.filter((entry) => entry.type === type).map((entry) => entry.version)),
  ]),
) as Record<EventType, number>;

export function contractVersion(type: EventType, version: number): ContractVersion | undefined {
  return CONTRACT_VERSIONS.find((entry) => entry.type === type && entry.version === version);
}

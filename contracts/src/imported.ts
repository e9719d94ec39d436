import { agencyEvent, type EventType } from './catalogue';
import { importOptionalOf } from './common';

let byType: ReadonlyMap<string, readonly string[]> | undefined;

/**
 * The data fields of an event type that the returns and records it is imported from do not
 * hold (its envelope's `importOptional`): readers show them as "not in the return" on an
 * imported event that leaves them out.
 */
export function importOptionalFieldsOf(type: EventType | string): readonly string[] {
  byType ??= new Map(
    agencyEvent.options.flatMap((schema) => {
      // The discriminator's values, as the union itself finds them (also for refined or piped options).
      const types = (schema as unknown as { _zod: { propValues?: { type?: Set<unknown> } } })._zod.propValues
        ?.type;
      return [...(types ?? [])].map((value) => [String(value), importOptionalOf(schema)] as const);
    }),
  );
  return byType.get(type) ?? [];
}

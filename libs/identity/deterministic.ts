import type { IdentifierKind, IdentifierPeriod, SubjectSnapshot } from './subject';

/**
 * Deterministic comparison of two agency records: which identifiers they share (at any
 * time in their history) and where they contradict each other. Linking on a shared
 * identifier is automatic; a conflict is flagged for a person and never merged.
 */
export type SharedKind = 'nhs-number' | 'upn' | 'uln' | 'la-child-id';
export type ConflictKind = 'nhs-number' | 'upn' | 'date-of-birth';

export interface DeterministicComparison {
  readonly shared: readonly { readonly kind: SharedKind; readonly value: string }[];
  readonly conflicts: readonly { readonly kind: ConflictKind; readonly values: readonly [string, string] }[];
}

/** A former UPN is a UPN the pupil held before, so it matches current UPNs too. */
export function namespaceOf(kind: IdentifierKind): SharedKind {
  return kind === 'former-upn' ? 'upn' : kind;
}

/** Precedence of evidence: an NHS number is the strongest identifier, an LA case id the weakest. */
const SHARED_ORDER: readonly SharedKind[] = ['nhs-number', 'upn', 'uln', 'la-child-id'];

/** Whether the record ever held `value` in `namespace` (a former UPN counts as a UPN). */
function holds(periods: readonly IdentifierPeriod[], namespace: SharedKind, value: string): boolean {
  for (const period of periods)
    if (period.value === value && namespaceOf(period.kind) === namespace) return true;
  return false;
}

function currentValue(periods: readonly IdentifierPeriod[], kind: 'nhs-number' | 'upn'): string | undefined {
  return periods.find((p) => p.kind === kind && p.validTo === undefined)?.value;
}

/** The identifiers two different values of which, both current, contradict. */
const CONTRADICTING: readonly ('nhs-number' | 'upn')[] = ['nhs-number', 'upn'];

/**
 * The linker compares a changing record with each of its candidates (about 180 each at 100,000
 * children), so this builds no set and sorts nothing for the usual pair, which shares no
 * identifier: identifier histories are a few entries long and are searched in place.
 */
export function compareDeterministic(a: SubjectSnapshot, b: SubjectSnapshot): DeterministicComparison {
  const shared: { kind: SharedKind; value: string }[] = [];
  for (const kind of SHARED_ORDER) {
    let values: string[] | undefined;
    for (const period of a.identifiers) {
      if (namespaceOf(period.kind) !== kind || values?.includes(period.value)) continue;
      if (holds(b.identifiers, kind, period.value)) (values ??= []).push(period.value);
    }
    if (values) for (const value of values.sort()) shared.push({ kind, value });
  }

  const conflicts: { kind: ConflictKind; values: [string, string] }[] = [];
  for (const kind of CONTRADICTING) {
    const valueA = currentValue(a.identifiers, kind);
    const valueB = currentValue(b.identifiers, kind);
    if (!valueA || !valueB || valueA === valueB) continue;
    // Not a conflict when one record still holds what the other held before (a temporary
    // UPN replaced by a permanent one, a school that has not caught up yet).
    const heldByB = holds(b.identifiers, kind, valueA);
    const heldByA = holds(a.identifiers, kind, valueB);
    if (!heldByA && !heldByB) conflicts.push({ kind, values: [valueA, valueB] });
  }
  if (a.dateOfBirth && b.dateOfBirth && a.dateOfBirth !== b.dateOfBirth)
    conflicts.push({ kind: 'date-of-birth', values: [a.dateOfBirth, b.dateOfBirth] });

  return { shared, conflicts };
}

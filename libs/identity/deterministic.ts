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

function valuesIn(periods: readonly IdentifierPeriod[], namespace: SharedKind): Set<string> {
  return new Set(periods.filter((p) => namespaceOf(p.kind) === namespace).map((p) => p.value));
}

function currentValue(periods: readonly IdentifierPeriod[], kind: 'nhs-number' | 'upn'): string | undefined {
  return periods.find((p) => p.kind === kind && p.validTo === undefined)?.value;
}

export function compareDeterministic(a: SubjectSnapshot, b: SubjectSnapshot): DeterministicComparison {
  const shared: { kind: SharedKind; value: string }[] = [];
  for (const kind of SHARED_ORDER) {
    const ofB = valuesIn(b.identifiers, kind);
    for (const value of [...valuesIn(a.identifiers, kind)].sort())
      if (ofB.has(value)) shared.push({ kind, value });
  }

  const conflicts: { kind: ConflictKind; values: [string, string] }[] = [];
  for (const kind of ['nhs-number', 'upn'] as const) {
    const valueA = currentValue(a.identifiers, kind);
    const valueB = currentValue(b.identifiers, kind);
    if (!valueA || !valueB || valueA === valueB) continue;
    // Not a conflict when one record still holds what the other held before (a temporary
    // UPN replaced by a permanent one, a school that has not caught up yet).
    const heldByB = valuesIn(b.identifiers, kind).has(valueA);
    const heldByA = valuesIn(a.identifiers, kind).has(valueB);
    if (!heldByA && !heldByB) conflicts.push({ kind, values: [valueA, valueB] });
  }
  if (a.dateOfBirth && b.dateOfBirth && a.dateOfBirth !== b.dateOfBirth)
    conflicts.push({ kind: 'date-of-birth', values: [a.dateOfBirth, b.dateOfBirth] });

  return { shared, conflicts };
}

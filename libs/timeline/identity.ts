import { createHash } from 'node:crypto';
import { isValidNhsNumber, isValidUpn, type AgencyEvent } from '@throughline/contracts';

/**
 * Deterministic record linkage: agency records that share a valid NHS number or UPN are the
 * same child. Every decision here depends only on the events in store order, so a rebuild
 * from the store reaches the same children with the same keys.
 */
export type IdentifierKind = 'nhs-number' | 'upn' | 'former-upn';
export type LinkMethod = 'first-record' | 'shared-nhs-number' | 'shared-upn';

export interface SubjectIdentifier {
  readonly kind: IdentifierKind;
  readonly value: string;
}

/** The valid identifiers of the event's subject (contracts already reject invalid ones; this is belt and braces). */
export function identifiersOf(event: Pick<AgencyEvent, 'subject'>): SubjectIdentifier[] {
  const { nhsNumber, upn, formerUpn } = event.subject;
  const identifiers: SubjectIdentifier[] = [];
  if (nhsNumber && isValidNhsNumber(nhsNumber)) identifiers.push({ kind: 'nhs-number', value: nhsNumber });
  if (upn && isValidUpn(upn)) identifiers.push({ kind: 'upn', value: upn });
  if (formerUpn && formerUpn !== upn && isValidUpn(formerUpn))
    identifiers.push({ kind: 'former-upn', value: formerUpn });
  return identifiers;
}

/** A former UPN is a UPN the pupil held before, so it matches current UPNs too. */
export type MatchNamespace = 'nhs-number' | 'upn';

export function matchNamespaceOf(kind: IdentifierKind): MatchNamespace {
  return kind === 'nhs-number' ? 'nhs-number' : 'upn';
}

export function linkMethodOf(kind: IdentifierKind): LinkMethod {
  return matchNamespaceOf(kind) === 'nhs-number' ? 'shared-nhs-number' : 'shared-upn';
}

/** Pseudonymous and deterministic: the founding record's stream id, hashed with an optional deployment salt. */
export function childKeyOf(foundingStreamId: string, salt = ''): string {
  return `ch_${createHash('sha256').update(`${salt}\u0000${foundingStreamId}`).digest('hex').slice(0, 20)}`;
}

export interface ChildRef {
  readonly childKey: string;
  /** Store position of the event that founded the child; the lowest survives a merge. */
  readonly foundedAt: bigint;
}

/** Another record of `child` holds an identifier equal to `identifier` (one of this event's). */
export interface IdentityMatch {
  readonly identifier: SubjectIdentifier;
  readonly child: ChildRef;
}

export interface IdentityFacts {
  readonly streamId: string;
  readonly identifiers: readonly SubjectIdentifier[];
  /** The child this record already belongs to, if it was seen before. */
  readonly current?: ChildRef;
  readonly matches: readonly IdentityMatch[];
  readonly salt?: string;
}

export interface Link {
  readonly method: LinkMethod;
  readonly evidenceValue?: string;
}

export interface Merge extends Link {
  readonly from: string;
  readonly into: string;
}

export interface IdentityDecision {
  /** The child the record belongs to once this event is applied. */
  readonly childKey: string;
  /** This record founds a new child. */
  readonly founded: boolean;
  /** How a record seen for the first time joins its child. */
  readonly attach?: Link;
  /** Children found to be the same child, merged into the survivor. */
  readonly merges: readonly Merge[];
}

const NAMESPACE_PREFERENCE: readonly MatchNamespace[] = ['nhs-number', 'upn'];

function strongestMatch(matches: readonly IdentityMatch[], childKey: string): IdentityMatch | undefined {
  const forChild = matches.filter((match) => match.child.childKey === childKey);
  for (const namespace of NAMESPACE_PREFERENCE) {
    const found = forChild.find((match) => matchNamespaceOf(match.identifier.kind) === namespace);
    if (found) return found;
  }
  return undefined;
}

function linkOf(match: IdentityMatch): Link {
  return { method: linkMethodOf(match.identifier.kind), evidenceValue: match.identifier.value };
}

function earlier(a: ChildRef, b: ChildRef): ChildRef {
  if (a.foundedAt !== b.foundedAt) return a.foundedAt < b.foundedAt ? a : b;
  return a.childKey <= b.childKey ? a : b;
}

/** Decides which child the record belongs to, and which children this event shows to be one. */
export function decideIdentity(facts: IdentityFacts): IdentityDecision {
  const candidates = new Map<string, ChildRef>();
  if (facts.current) candidates.set(facts.current.childKey, facts.current);
  for (const match of facts.matches) candidates.set(match.child.childKey, match.child);

  if (candidates.size === 0) {
    return {
      childKey: childKeyOf(facts.streamId, facts.salt),
      founded: true,
      attach: { method: 'first-record' },
      merges: [],
    };
  }

  const survivor = [...candidates.values()].reduce(earlier);
  const bridgeToSurvivor = strongestMatch(facts.matches, survivor.childKey);
  const merges = [...candidates.values()]
    .filter((child) => child.childKey !== survivor.childKey)
    .map((child): Merge => {
      // The record's own former child joins through the record's link to the survivor;
      // any other child joins through the identifier it shares with this record.
      const evidence =
        child.childKey === facts.current?.childKey
          ? bridgeToSurvivor
          : strongestMatch(facts.matches, child.childKey);
      if (!evidence) throw new Error(`no evidence links ${child.childKey} to ${survivor.childKey}`);
      return { from: child.childKey, into: survivor.childKey, ...linkOf(evidence) };
    })
    .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));

  let attach: Link | undefined;
  if (!facts.current) {
    if (!bridgeToSurvivor) throw new Error(`no evidence links ${facts.streamId} to ${survivor.childKey}`);
    attach = linkOf(bridgeToSurvivor);
  }
  return { childKey: survivor.childKey, founded: false, attach, merges };
}

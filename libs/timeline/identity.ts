import { createHash } from 'node:crypto';
import { isValidNhsNumber, isValidUpn, type AgencyEvent } from '@throughline/contracts';
import type { LinkMethod as IdentityLinkMethod } from '@throughline/identity';

/**
 * Who the projection's records are and which child they form. Linking is decided by the
 * identity linker and arrives as identity events (docs/decisions/005); here a child is a
 * connected component of those links, keyed by its earliest record, so a rebuild from the
 * store reaches the same children with the same keys.
 */
export type IdentifierKind = 'nhs-number' | 'upn' | 'former-upn';
/** How a record joined its child: it founded it, or a link (see @throughline/identity LINK_METHODS). */
export type LinkMethod = 'first-record' | IdentityLinkMethod;

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

/** Pseudonymous and deterministic: the founding record's stream id, hashed with an optional deployment salt. */
export function childKeyOf(foundingStreamId: string, salt = ''): string {
  return `ch_${createHash('sha256').update(`${salt}\u0000${foundingStreamId}`).digest('hex').slice(0, 20)}`;
}

/** A link between two records, as the projection keeps it (from identity events). */
export interface RecordEdge {
  readonly a: string;
  readonly b: string;
  /** Store position of the event that made the link: the earliest link explains how a record joined. */
  readonly position: bigint;
  readonly method: string;
}

export interface RecordRef {
  readonly streamId: string;
  readonly firstSeenPosition: bigint;
}

const byFirstSeen = (x: RecordRef, y: RecordRef) =>
  x.firstSeenPosition !== y.firstSeenPosition
    ? x.firstSeenPosition < y.firstSeenPosition
      ? -1
      : 1
    : x.streamId < y.streamId
      ? -1
      : x.streamId > y.streamId
        ? 1
        : 0;

/**
 * The children the records form: connected components of the link graph, each listed
 * earliest-seen record first (the founder, whose key the child carries). Edges to records
 * outside `records` are ignored.
 */
export function componentsOf(records: readonly RecordRef[], edges: readonly RecordEdge[]): RecordRef[][] {
  const byStream = new Map(records.map((record) => [record.streamId, record]));
  const neighbours = new Map<string, string[]>(records.map((record) => [record.streamId, []]));
  for (const edge of edges) {
    if (!byStream.has(edge.a) || !byStream.has(edge.b)) continue;
    neighbours.get(edge.a)?.push(edge.b);
    neighbours.get(edge.b)?.push(edge.a);
  }
  const seen = new Set<string>();
  const components: RecordRef[][] = [];
  for (const record of [...records].sort(byFirstSeen)) {
    if (seen.has(record.streamId)) continue;
    const component: RecordRef[] = [];
    const queue = [record.streamId];
    seen.add(record.streamId);
    while (queue.length > 0) {
      const streamId = queue.shift() as string;
      component.push(byStream.get(streamId) as RecordRef);
      for (const next of neighbours.get(streamId) ?? []) {
        if (seen.has(next)) continue;
        seen.add(next);
        queue.push(next);
      }
    }
    components.push(component.sort(byFirstSeen));
  }
  return components;
}

/**
 * How each record of one child joined it: the founder is the first record, every other
 * record joined through the earliest link that reached it from the records before it.
 */
export function joinedBy(
  records: readonly RecordRef[],
  edges: readonly RecordEdge[],
): Map<string, { method: LinkMethod | 'first-record'; via?: string }> {
  const joined = new Map<string, { method: LinkMethod | 'first-record'; via?: string }>();
  const [founder] = [...records].sort(byFirstSeen);
  if (!founder) return joined;
  joined.set(founder.streamId, { method: 'first-record' });
  const members = new Set(records.map((record) => record.streamId));
  const ordered = edges
    .filter((edge) => members.has(edge.a) && members.has(edge.b))
    .sort((x, y) => (x.position < y.position ? -1 : x.position > y.position ? 1 : 0));
  for (let grew = true; grew;) {
    grew = false;
    for (const edge of ordered) {
      const [inside, outside] = joined.has(edge.a) ? [edge.a, edge.b] : [edge.b, edge.a];
      if (!joined.has(inside) || joined.has(outside)) continue;
      joined.set(outside, { method: edge.method as LinkMethod, via: inside });
      grew = true;
      break; // the earliest edge first, every time the reached set grows
    }
  }
  return joined;
}

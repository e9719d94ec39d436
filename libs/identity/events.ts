import { createHash } from 'node:crypto';
import { z } from 'zod';
import { toContractIssues } from '@throughline/contracts';
import { ValidationError } from '@throughline/platform';

/**
 * Identity judgements as events (see docs/decisions/005). Internal to Throughline, written
 * by the linker and by people through the review API; not agency contracts.
 *
 * Streams: `identity-<record stream>` holds what was decided for that record (linked,
 * unlinked, conflict flagged); `identitymatch-<proposal id>` holds one proposal and the
 * decision on it.
 */

/** A record's stream id: `<agency>-<recordId>`. */
export const recordStream = z.string().regex(/^(health|education|social-care)-[A-Za-z0-9._-]{1,64}$/, {
  message: 'a record stream id such as health-chs-1',
});

/** Who decided: the linker itself, or a person (their user id as the caller asserted it). */
export const actor = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('linker') }),
  z.strictObject({
    type: z.literal('user'),
    userId: z.string().min(1).max(200),
    role: z.string().optional(),
  }),
]);
export type Actor = z.infer<typeof actor>;

const sharedIdentifier = z.strictObject({
  kind: z.enum(['nhs-number', 'upn', 'uln', 'la-child-id']),
  value: z.string().min(1),
});

export const LINK_METHODS = [
  'shared-nhs-number',
  'shared-upn',
  'shared-uln',
  'shared-la-child-id',
  'manual',
  'confirmed-match',
] as const;
export type LinkMethod = (typeof LINK_METHODS)[number];

const at = z.iso.datetime({ offset: true });
const reason = z.string().trim().min(1).max(1000);

const fieldEvidence = z.strictObject({
  field: z.string(),
  outcome: z.enum(['agree', 'partial', 'disagree', 'missing']),
  weight: z.number(),
  detail: z.string().optional(),
});

export const subjectLinked = z.strictObject({
  subject: recordStream,
  linkedTo: recordStream,
  method: z.enum(['shared-nhs-number', 'shared-upn', 'shared-uln', 'shared-la-child-id', 'manual']),
  /** Deterministic links: the identifiers the two records share. */
  shared: z.array(sharedIdentifier).optional(),
  /** Manual links: the child the person linked the record to, and why. */
  childKey: z.string().optional(),
  reason: reason.optional(),
  by: actor,
  at,
});

export const subjectUnlinked = z.strictObject({
  subject: recordStream,
  formerChildKey: z.string(),
  /** The other records of the child at the time: none of them is linked to this one again automatically. */
  formerMembers: z.array(recordStream),
  reason,
  by: actor,
  at,
});

export const conflictFlagged = z.strictObject({
  conflictId: z.uuid(),
  subject: recordStream,
  others: z.array(recordStream).min(1),
  rule: z.enum(['contradicting-identifiers', 'bridges-contradicting-records', 'bridges-separated-records']),
  shared: z.array(sharedIdentifier.extend({ with: recordStream })),
  conflicts: z.array(
    z.strictObject({
      kind: z.string(),
      values: z.tuple([z.string(), z.string()]).optional(),
      between: z.tuple([recordStream, recordStream]),
    }),
  ),
  by: actor,
  at,
});

export const matchProposed = z.strictObject({
  proposalId: z.uuid(),
  subject: recordStream,
  candidate: recordStream,
  score: z.number(),
  threshold: z.number(),
  evidence: z.array(fieldEvidence),
  by: actor,
  at,
});

const matchDecision = {
  proposalId: z.uuid(),
  subject: recordStream,
  candidate: recordStream,
  score: z.number(),
  by: actor,
  at,
};
export const matchConfirmed = z.strictObject({ ...matchDecision, reason: reason.optional() });
export const matchRejected = z.strictObject({ ...matchDecision, reason });

export const IDENTITY_EVENT_SCHEMAS = {
  'identity.subject.linked': subjectLinked,
  'identity.subject.unlinked': subjectUnlinked,
  'identity.conflict.flagged': conflictFlagged,
  'identity.match.proposed': matchProposed,
  'identity.match.confirmed': matchConfirmed,
  'identity.match.rejected': matchRejected,
} as const;

export type IdentityEventType = keyof typeof IDENTITY_EVENT_SCHEMAS;
export type IdentityEventData<T extends IdentityEventType> = z.infer<(typeof IDENTITY_EVENT_SCHEMAS)[T]>;
export type IdentityEvent = {
  [T in IdentityEventType]: { readonly type: T; readonly data: IdentityEventData<T> };
}[IdentityEventType];

export const IDENTITY_EVENT_TYPES = Object.keys(IDENTITY_EVENT_SCHEMAS) as IdentityEventType[];

export function isIdentityEventType(type: string): type is IdentityEventType {
  return Object.prototype.hasOwnProperty.call(IDENTITY_EVENT_SCHEMAS, type);
}

/** Reads a stored identity event; an unknown type or bad data is a ValidationError naming the field. */
export function parseIdentityEvent(type: string, data: unknown): IdentityEvent {
  if (!isIdentityEventType(type)) {
    throw new ValidationError(`unknown identity event type ${type}`, [
      { path: 'type', rule: 'identity-event-type', message: `not one of ${IDENTITY_EVENT_TYPES.join(', ')}` },
    ]);
  }
  const parsed = IDENTITY_EVENT_SCHEMAS[type].safeParse(data);
  if (!parsed.success) {
    const issues = toContractIssues(parsed.error.issues).map((issue) => ({
      ...issue,
      path: `data.${issue.path}`,
    }));
    throw new ValidationError(
      `invalid ${type}: ${issues.map((issue) => `${issue.path} ${issue.message}`).join('; ')}`,
      issues,
    );
  }
  return { type, data: parsed.data } as IdentityEvent;
}

/** The records an identity event is about (for a child's link history). */
export function subjectsOfIdentityEvent(event: IdentityEvent): string[] {
  switch (event.type) {
    case 'identity.subject.linked':
      return [event.data.subject, event.data.linkedTo];
    case 'identity.subject.unlinked':
      return [event.data.subject, ...event.data.formerMembers];
    case 'identity.conflict.flagged':
      return [event.data.subject, ...event.data.others];
    case 'identity.match.proposed':
    case 'identity.match.confirmed':
    case 'identity.match.rejected':
      return [event.data.subject, event.data.candidate];
    default:
      return assertNever(event);
  }
}

/**
 * The records whose children an identity event may merge (a link, a confirmed match) or split
 * (an unlink), for the read models that group records into children; the others change no child.
 */
export function recordsMovedBy(event: IdentityEvent): string[] {
  switch (event.type) {
    case 'identity.subject.linked':
      return [event.data.subject, event.data.linkedTo];
    case 'identity.match.confirmed':
      return [event.data.subject, event.data.candidate];
    case 'identity.subject.unlinked':
      return [event.data.subject];
    default:
      return [];
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled identity event ${JSON.stringify(value)}`);
}

export const IDENTITY_STREAM_CATEGORY = 'identity';
export const PROPOSAL_STREAM_CATEGORY = 'identitymatch';

export function identityStreamOf(recordStreamId: string): string {
  return `${IDENTITY_STREAM_CATEGORY}-${recordStreamId}`;
}

export function proposalStreamOf(proposalId: string): string {
  return `${PROPOSAL_STREAM_CATEGORY}-${proposalId}`;
}

/** Namespace of Throughline's name-based (v5) identity UUIDs. */
const IDENTITY_NAMESPACE = 'a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f601';

/** RFC 9562 UUID version 5 (SHA-1, name-based): the same name always gives the same id. */
export function uuidV5(name: string, namespace = IDENTITY_NAMESPACE): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A pair of records in a fixed order, so (a, b) and (b, a) are one pair. */
export function orderedPair(a: string, b: string): [string, string] {
  return a < b ? [a, b] : [b, a];
}

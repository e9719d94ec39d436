import { z } from 'zod';

/**
 * A CP-IS-style access notification (shared/domain/GOVERNANCE.md §1): someone outside the
 * responsible local authority read the chronology of a child on a child protection plan or
 * looked after (now or in the last 12 months). It tells that authority who read it, from which
 * organisation, in which roles, when, why and whether it was break-glass, and how to find the
 * child in its own system. Nothing else about the child travels: no names, no identifiers but
 * the authority's own record ids, no chronology.
 */

export const ACCESS_NOTIFICATION_SCHEMA_VERSION = 1;

const text = z.string().min(1).max(200);
const code = z.string().trim().min(1).max(20);
/** ISO 8601 date-time with an offset (as every Throughline time on the wire). */
const dateTime = z.iso.datetime({ offset: true });

export const PROTECTION_KINDS = ['child-protection-plan', 'looked-after'] as const;

export const accessNotificationSchema = z.strictObject({
  schemaVersion: z.literal(ACCESS_NOTIFICATION_SCHEMA_VERSION),
  /** Unique per access; consumers store each once by it (delivery is at least once). */
  notificationId: z.uuid(),
  /** When the chronology was read. */
  occurredAt: dateTime,
  /** The child's pseudonymous key in Throughline. */
  childKey: z.string().regex(/^ch_[0-9a-f]{20}$/),
  /** The child's social-care record ids that the responsible authority published: its own ids. */
  recordIds: z.array(z.string().min(1).max(64)).max(50),
  responsibleLocalAuthority: z.strictObject({ code }),
  status: z.strictObject({
    kind: z.enum(PROTECTION_KINDS),
    /** Start of the plan or period of care; absent when the chronology holds no start. */
    since: dateTime.optional(),
    /** Its end, when it ended (within the last 12 months, or there would be no notification). */
    endedAt: dateTime.optional(),
  }),
  accessor: z.strictObject({
    userId: text,
    name: text.optional(),
    /** Absent only for an agency system whose token names no organisation. */
    organisation: z.strictObject({ code: text, type: text.optional(), name: text.optional() }).optional(),
    roles: z.array(text).max(200),
  }),
  /** The purpose the reader stated (x-purpose). */
  purpose: z.string().regex(/^[a-z][a-z0-9-]{1,63}$/),
  /** Read under a break-glass override. */
  breakGlass: z.boolean(),
});

export type AccessNotification = z.infer<typeof accessNotificationSchema>;

/** The topic notifications travel on, under a deployment's topic prefix (infra/kafka.mjs makes it and its ACLs). */
export function accessNotificationsTopic(prefix = ''): string {
  return `${prefix}throughline.access-notifications.v1`;
}

/**
 * The consumer group of the social-care service, before Nest's Kafka transport appends its
 * `-server` postfix; the consumer principal's ACL allows groups with this prefix.
 */
export function accessNotificationsGroupId(prefix = ''): string {
  return `${prefix}throughline-access-notifications`;
}

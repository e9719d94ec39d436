import { randomUUID } from 'node:crypto';
import type { ClientBase, Pool } from 'pg';
import { toContractIssues } from '@throughline/contracts';
import type { Principal } from '@throughline/access';
import { ValidationError } from '@throughline/platform';
import { protectionStatusOf, type ProtectionStatus } from '@throughline/timeline';
import {
  ACCESS_NOTIFICATION_SCHEMA_VERSION,
  accessNotificationSchema,
  type AccessNotification,
} from './notification';

/** One read of a child's chronology, as the read path knows it. */
export interface ChronologyAccess {
  /** The live child key (a merged key resolved to the child it became). */
  readonly childKey: string;
  /** The verified reader. */
  readonly requester: Principal;
  /** The purpose they stated (x-purpose), already checked by the caller. */
  readonly purpose: string;
  readonly breakGlass: boolean;
  /** When the read happened. Default: now. */
  readonly at?: Date;
  /**
   * Reads by the same person of the same child for the same purpose (and break-glass or not)
   * within this many minutes of a notification are that notification's episode: not told again.
   * 0 or absent: every read is notified.
   */
  readonly coalesceMinutes?: number;
  /**
   * The child's status when the caller has already worked it out from the chronology it read
   * (TimelineQueries does); absent: read from the timeline here.
   */
  readonly status?: ProtectionStatus | null;
}

export type NotifyOutcome =
  | { readonly notified: true; readonly notificationId: string; readonly localAuthority: string }
  | {
      readonly notified: false;
      /** `not-in-scope`: no plan or care now or in the last 12 months; `responsible-authority`: its own reader. */
      readonly reason: 'not-in-scope' | 'responsible-authority';
    }
  | {
      readonly notified: false;
      /** The same person read the same child for the same purpose within the window: told already. */
      readonly reason: 'same-episode';
      readonly notificationId: string;
      readonly localAuthority: string;
    };

/**
 * Whether the reader belongs to the authority responsible for the child: a local-authority
 * organisation with that LA code. Anyone else (health, a school, another authority, a system
 * naming no organisation) is outside it, and their reads are notified.
 */
export function withinResponsibleAuthority(requester: Principal, localAuthority: string): boolean {
  return requester.organisation?.type === 'local-authority' && requester.organisation.code === localAuthority;
}

/** The notification of one access to a child in scope; refuses (400) what the schema would not carry. */
export function accessNotificationOf(
  status: ProtectionStatus,
  access: ChronologyAccess,
  notificationId: string = randomUUID(),
): AccessNotification {
  const { requester } = access;
  const notification = {
    schemaVersion: ACCESS_NOTIFICATION_SCHEMA_VERSION,
    notificationId,
    occurredAt: (access.at ?? new Date()).toISOString(),
    childKey: access.childKey,
    recordIds: [...status.recordIds],
    responsibleLocalAuthority: { code: status.responsibleLocalAuthority },
    status: {
      kind: status.kind,
      ...(status.since ? { since: status.since } : {}),
      ...(status.endedAt ? { endedAt: status.endedAt } : {}),
    },
    accessor: {
      userId: requester.userId,
      ...(requester.name ? { name: requester.name } : {}),
      ...(requester.organisation ? { organisation: { ...requester.organisation } } : {}),
      roles: [...requester.roles],
    },
    purpose: access.purpose,
    breakGlass: access.breakGlass,
  };
  const parsed = accessNotificationSchema.safeParse(notification);
  if (!parsed.success) {
    const issues = toContractIssues(parsed.error.issues);
    throw new ValidationError(
      `the access cannot be notified: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
      issues,
    );
  }
  return parsed.data;
}

/**
 * Call on every read of a child's chronology, before the answer leaves, with the client of the
 * transaction that records the access: when the child is on a child protection plan or looked
 * after (now or ended within 12 months) and the reader is outside the responsible local
 * authority, the notification is written to the outbox in that transaction, so it commits
 * with the access record or not at all; AccessNotificationRelay publishes it to Kafka.
 */
export async function notifyIfNeeded(
  db: Pool | ClientBase,
  access: ChronologyAccess,
): Promise<NotifyOutcome> {
  const at = access.at ?? new Date();
  const status =
    access.status !== undefined
      ? (access.status ?? undefined)
      : await protectionStatusOf(db, access.childKey, at);
  if (!status) return { notified: false, reason: 'not-in-scope' };
  if (withinResponsibleAuthority(access.requester, status.responsibleLocalAuthority))
    return { notified: false, reason: 'responsible-authority' };
  const window = access.coalesceMinutes ?? 0;
  const notification = accessNotificationOf(status, { ...access, at });
  // One statement: the episode's notification if this read belongs to one, else a new one.
  const written = await db.query<{ told: string | null; inserted: string | null }>(
    `WITH told AS (
       SELECT notification_id FROM access_notification_outbox
        WHERE $7::int > 0 AND payload->>'childKey' = $1 AND payload->'accessor'->>'userId' = $2
          AND payload->>'purpose' = $3 AND payload->>'breakGlass' = $4
          AND created_at > $5::timestamptz - make_interval(mins => $7::int)
        ORDER BY created_at DESC LIMIT 1
     ), inserted AS (
       INSERT INTO access_notification_outbox (notification_id, local_authority, payload)
       SELECT $6, $8, $9::jsonb WHERE NOT EXISTS (SELECT 1 FROM told)
       RETURNING notification_id
     )
     SELECT (SELECT notification_id FROM told) AS told, (SELECT notification_id FROM inserted) AS inserted`,
    [
      access.childKey,
      access.requester.userId,
      access.purpose,
      String(access.breakGlass),
      at,
      notification.notificationId,
      window,
      status.responsibleLocalAuthority,
      JSON.stringify(notification),
    ],
  );
  const told = written.rows[0]?.told;
  if (told)
    return {
      notified: false,
      reason: 'same-episode',
      notificationId: told,
      localAuthority: status.responsibleLocalAuthority,
    };
  return {
    notified: true,
    notificationId: notification.notificationId,
    localAuthority: status.responsibleLocalAuthority,
  };
}

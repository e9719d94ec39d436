import type { Pool } from 'pg';
import { z } from 'zod';
import { toContractIssues } from '@throughline/contracts';
import type { Principal } from '@throughline/access';
import { ThroughlineError, ValidationError, withTransaction } from '@throughline/platform';
import { accessNotificationSchema, type AccessNotification } from './notification';

/** The roles of a local authority's staff who may list its access notifications. */
export const LISTING_ROLES = ['social-worker', 'supervisor', 'ig-officer'] as const;

/** Most notifications one listing returns, and the default. */
export const MAX_LISTING = 500;
export const DEFAULT_LISTING = 100;

/** Where a received notification came from on Kafka. */
export interface KafkaPlace {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface ListingQuery {
  /** Inclusive lower bound on occurredAt. */
  readonly from?: Date;
  /** Exclusive upper bound on occurredAt. */
  readonly to?: Date;
  readonly limit: number;
}

export interface ReceivedNotification extends AccessNotification {
  readonly receivedAt: string;
}

export interface NotificationListing {
  readonly localAuthority: string;
  readonly count: number;
  /** Newest first. */
  readonly notifications: readonly ReceivedNotification[];
}

/** Who asked, as the listing's record keeps it. */
export interface ListingReader {
  readonly principal: Principal;
  /** Absent when the request was refused before its purpose was read. */
  readonly purpose?: string;
}

const forbidden = (message: string) => new ThroughlineError('FORBIDDEN', message);

/**
 * The authority whose notifications this principal may list: a person (not a system) of a
 * local authority (organisation type `local-authority`) holding one of LISTING_ROLES, for
 * their own authority only. Anyone else is refused (403), saying why.
 */
export function listingAuthorityOf(principal: Principal): string {
  if (principal.kind !== 'person') throw forbidden('access notifications are listed by people, not systems');
  const organisation = principal.organisation;
  if (organisation?.type !== 'local-authority')
    throw forbidden('access notifications are listed only by staff of the responsible local authority');
  if (!principal.roles.some((role) => (LISTING_ROLES as readonly string[]).includes(role)))
    throw forbidden(`listing access notifications needs one of the roles ${LISTING_ROLES.join(', ')}`);
  return organisation.code;
}

const PURPOSE = z
  .string({ message: 'header x-purpose is required: say why you are looking (e.g. safeguarding)' })
  .regex(/^[a-z][a-z0-9-]{1,63}$/, {
    message: 'a lower-case slug such as safeguarding or information-governance',
  });

/** The stated purpose (x-purpose): required, a lower-case slug; a 400 naming the header otherwise. */
export function listingPurposeOf(headers: Readonly<Record<string, string | string[] | undefined>>): string {
  const raw = headers['x-purpose'];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim() || undefined;
  const parsed = PURPOSE.safeParse(value);
  if (!parsed.success) throw validation(parsed.error.issues, 'headers.x-purpose', value === undefined);
  return parsed.data;
}

const LISTING_QUERY = z
  .strictObject({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_LISTING).default(DEFAULT_LISTING),
  })
  .refine((query) => !query.from || !query.to || Date.parse(query.from) <= Date.parse(query.to), {
    path: ['to'],
    message: 'to cannot precede from',
    params: { rule: 'not-before-from' },
  });

/** The query string of a listing: from/to ISO date-times with offset, limit 1..500; a 400 naming the field otherwise. */
export function listingQueryOf(query: unknown): ListingQuery {
  const parsed = LISTING_QUERY.safeParse(query ?? {});
  if (!parsed.success) throw validation(parsed.error.issues, 'query');
  const { from, to, limit } = parsed.data;
  return { ...(from ? { from: new Date(from) } : {}), ...(to ? { to: new Date(to) } : {}), limit };
}

function validation(issues: readonly z.core.$ZodIssue[], prefix: string, missing = false): ValidationError {
  const named = toContractIssues(issues).map((issue) => ({
    ...issue,
    ...(missing ? { rule: 'required' } : {}),
    path: issue.path ? `${prefix}.${issue.path}` : prefix,
  }));
  return new ValidationError(named.map((issue) => `${issue.path}: ${issue.message}`).join('; '), named);
}

/**
 * The social-care service's store of the notifications it received: each once (by its id,
 * whatever Kafka redelivers), listed per authority, every listing recorded before it is answered.
 */
export class AccessNotificationInbox {
  constructor(private readonly pool: Pool) {}

  /** Stores a notification unless it is already stored; true when it was new. */
  async receive(notification: AccessNotification, place: KafkaPlace): Promise<boolean> {
    const result = await this.pool.query(
      `INSERT INTO access_notifications
         (notification_id, local_authority, occurred_at, payload, topic, kafka_partition, kafka_offset)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)
       ON CONFLICT (notification_id) DO NOTHING`,
      [
        notification.notificationId,
        notification.responsibleLocalAuthority.code,
        notification.occurredAt,
        JSON.stringify(notification),
        place.topic,
        place.partition,
        place.offset,
      ],
    );
    return result.rowCount === 1;
  }

  /**
   * The authority's notifications, newest first, and the record of this listing (who, their
   * organisation and roles, why, how many), in one transaction: no answer leaves unrecorded.
   */
  async list(
    localAuthority: string,
    query: ListingQuery,
    reader: ListingReader,
  ): Promise<NotificationListing> {
    return withTransaction(this.pool, async (client) => {
      const result = await client.query<{ payload: AccessNotification; received_at: Date }>(
        `SELECT payload, received_at FROM access_notifications
          WHERE local_authority = $1
            AND ($2::timestamptz IS NULL OR occurred_at >= $2)
            AND ($3::timestamptz IS NULL OR occurred_at < $3)
          ORDER BY occurred_at DESC, notification_id
          LIMIT $4`,
        [localAuthority, query.from ?? null, query.to ?? null, query.limit],
      );
      await this.insertRead(client, reader, {
        localAuthority,
        query,
        returned: result.rows.length,
        outcome: 'ok',
      });
      const notifications = result.rows.map((row) => ({
        ...accessNotificationSchema.parse(row.payload),
        receivedAt: row.received_at.toISOString(),
      }));
      return { localAuthority, count: notifications.length, notifications };
    });
  }

  /** Records a refused listing (its error code as the outcome); nothing was returned. */
  async recordRefusal(reader: ListingReader, outcome: string): Promise<void> {
    await this.insertRead(this.pool, reader, { returned: 0, outcome });
  }

  private async insertRead(
    db: Pick<Pool, 'query'>,
    reader: ListingReader,
    read: { localAuthority?: string; query?: ListingQuery; returned: number; outcome: string },
  ): Promise<void> {
    const { principal } = reader;
    await db.query(
      `INSERT INTO access_notification_reads
         (user_id, organisation_code, organisation_type, roles, purpose, local_authority, from_time, to_time,
          returned, outcome)
       VALUES ($1, $2, $3, $4::text[], $5, $6, $7, $8, $9, $10)`,
      [
        principal.userId,
        principal.organisation?.code ?? null,
        principal.organisation?.type ?? null,
        [...principal.roles],
        reader.purpose ?? null,
        read.localAuthority ?? null,
        read.query?.from ?? null,
        read.query?.to ?? null,
        read.returned,
        read.outcome,
      ],
    );
  }
}

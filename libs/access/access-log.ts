import type { Pool } from 'pg';
import { PreparedStatement } from '@throughline/platform';
import type { Withheld } from './policy';
import type { Principal } from './principal';

/** What a handler learned while answering, for its access record. */
export interface AccessNote {
  /** The child key the caller asked for (as sent). */
  requestedChildKey?: string;
  /** The child whose data was read or changed (null when a lookup found none). */
  childKey?: string;
  /** Further children touched (an identity command joins or splits two). */
  childKeys?: string[];
  /** Entries, rows or items returned. */
  returned?: number;
  withheld?: Withheld[];
  /** Agreements the answer was shared under (`id@version`). */
  agreements?: string[];
  breakGlass?: { readonly id: string; readonly reason: string; readonly expiresAt: string };
  /** Anything else a reviewer needs (a query's filters, a dead letter's coordinates); no child data. */
  extra?: Record<string, unknown>;
}

export interface AccessRecord extends AccessNote {
  readonly action: string;
  /** Absent when the token did not verify. */
  readonly principal?: Principal;
  readonly purpose?: string;
  /** The caller's roles that granted the access. */
  readonly grantedRoles?: readonly string[];
  readonly policyVersion?: number;
  /** `ok`, or the error code the request was refused with (UNAUTHENTICATED, FORBIDDEN, VALIDATION…). */
  readonly outcome: string;
  /** Why it was refused, in the words the caller got. */
  readonly refusal?: string;
}

const UNVERIFIED = '(unverified)';

/** One record's row, in INSERT_ACCESS's parameter order. */
type AccessRow = readonly [
  userId: string,
  userRole: string | null,
  purpose: string,
  action: string,
  requestedChildKey: string | null,
  childKey: string | null,
  returned: number,
  withheld: string,
  outcome: string,
  details: string,
];

/** access_log's columns as AccessRow orders them: what both inserts write. */
const ACCESS_COLUMNS = `user_id, user_role, purpose, action, requested_child_key, child_key,
  returned_entries, withheld, outcome, details`;

/** One record alone (no other waiting): prepared (decision 028). */
const INSERT_ACCESS = new PreparedStatement(
  'access-log-insert',
  `INSERT INTO access_log (${ACCESS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
);

/**
 * Records that waited for the write before them, in one statement and one transaction: the
 * chain's trigger runs for each row in the arrays' order, under one lock, and one commit makes
 * them all durable (decision 045).
 */
const INSERT_ACCESS_GROUP = new PreparedStatement(
  'access-log-insert-group',
  `INSERT INTO access_log (${ACCESS_COLUMNS})
  SELECT ${ACCESS_COLUMNS}
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
              $8::jsonb[], $9::text[], $10::jsonb[]) WITH ORDINALITY AS t(${ACCESS_COLUMNS}, n)
  ORDER BY n`,
);

/** Most records one statement writes; more wait for the next. */
const MAX_GROUP = 500;

interface Waiting {
  readonly row: AccessRow;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

function rowOf(record: AccessRecord): AccessRow {
  const { principal } = record;
  const details = {
    principal: principal
      ? {
          kind: principal.kind,
          ...(principal.name ? { name: principal.name } : {}),
          ...(principal.organisation ? { organisation: principal.organisation } : {}),
          roles: principal.roles,
          ...(principal.clientId ? { clientId: principal.clientId } : {}),
        }
      : null,
    ...(record.grantedRoles ? { grantedRoles: record.grantedRoles } : {}),
    ...(record.policyVersion !== undefined ? { policyVersion: record.policyVersion } : {}),
    ...(record.agreements?.length ? { agreements: [...new Set(record.agreements)].sort() } : {}),
    ...(record.childKeys?.length ? { childKeys: record.childKeys } : {}),
    ...(record.breakGlass ? { breakGlass: record.breakGlass } : {}),
    ...(record.refusal ? { refusal: record.refusal } : {}),
    ...(record.extra ? { extra: record.extra } : {}),
  };
  return [
    principal?.userId ?? UNVERIFIED,
    record.grantedRoles?.join(' ') || null,
    record.purpose ?? '(none)',
    record.action,
    record.requestedChildKey ?? null,
    record.childKey ?? null,
    record.returned ?? 0,
    JSON.stringify(record.withheld ?? []),
    record.outcome,
    JSON.stringify(details),
  ];
}

/**
 * The access log (table access_log, append-only, hash-chained; created by the timeline's
 * migrations): one row per request for child data or a command, written before the answer
 * leaves, refusals included. It names the verified principal and what the policy decided by.
 *
 * Writes are grouped (decision 045): one statement at a time from this process; records that
 * arrive while it runs wait, and go together in the next one, in the order they came. The chain
 * puts every access_log insert of every process in one order behind one lock held to its commit,
 * so one row a transaction made each read wait for all the commits before it. `record` still
 * resolves only once its own row is committed. A group that fails is written again one record
 * at a time, so only a record that cannot be written fails its request.
 */
export class AccessLog {
  private readonly waiting: Waiting[] = [];
  private writing = false;

  constructor(private readonly pool: Pool) {}

  async record(record: AccessRecord): Promise<void> {
    const row = rowOf(record);
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ row, resolve, reject });
      if (!this.writing) void this.writeWaiting();
    });
  }

  private async writeWaiting(): Promise<void> {
    this.writing = true;
    try {
      while (this.waiting.length > 0) await this.writeGroup(this.waiting.splice(0, MAX_GROUP));
    } finally {
      this.writing = false;
    }
  }

  private async writeGroup(group: readonly Waiting[]): Promise<void> {
    if (group.length > 1) {
      try {
        // Each column as one array parameter, an element a record.
        const columns = group[0].row.map((_, column) => group.map(({ row }) => row[column]));
        await INSERT_ACCESS_GROUP.run(this.pool, columns);
        for (const waiting of group) waiting.resolve();
        return;
      } catch {
        // Written again one at a time below: each record gets its own answer.
      }
    }
    for (const waiting of group) {
      try {
        await INSERT_ACCESS.run(this.pool, [...waiting.row]);
        waiting.resolve();
      } catch (error) {
        waiting.reject(error);
      }
    }
  }
}

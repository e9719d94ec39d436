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

/** Once for every request for a child's data: prepared (decision 028). */
const INSERT_ACCESS = new PreparedStatement(
  'access-log-insert',
  `INSERT INTO access_log (user_id, user_role, purpose, action, requested_child_key, child_key,
                          returned_entries, withheld, outcome, details)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
);

/**
 * The access log (table access_log, append-only, hash-chained; created by the timeline's
 * migrations): one row per request for child data or a command, written before the answer
 * leaves, refusals included. It names the verified principal and what the policy decided by.
 */
export class AccessLog {
  constructor(private readonly pool: Pool) {}

  async record(record: AccessRecord): Promise<void> {
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
    await INSERT_ACCESS.run(this.pool, [
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
    ]);
  }
}

import { join } from 'node:path';
import type { Pool } from 'pg';
import { projectRoot } from '@throughline/platform';
import { parseAccessPolicy, type Principal, type Requester, type Withheld } from '@throughline/access';
import { startLocalOidcProvider, type LocalOidcProvider } from './local-oidc-provider';

/** The demo access policy (npm start and the tests load it as version 1). */
export const DEMO_POLICY_FILE = join(projectRoot(), 'infra', 'access-policy.demo.json');

/**
 * A real local OpenID provider and the settings that make an app trust it and load the demo
 * policy; `headers(user, purpose)` gives a demo user's request headers with a token got by a
 * real grant (cached per user: each grant runs scripts/token.mjs).
 */
export interface TestAccess {
  readonly oidc: LocalOidcProvider;
  /** OIDC_ISSUER, OIDC_AUDIENCE, ACCESS_POLICY_FILE: spread into loadConfig(). */
  readonly env: Readonly<Record<string, string>>;
  token(user: string): Promise<string>;
  headers(user: string, purpose?: string, extra?: Record<string, string>): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

export async function startTestAccess(): Promise<TestAccess> {
  const oidc = await startLocalOidcProvider();
  const tokens = new Map<string, Promise<string>>();
  const token = (user: string): Promise<string> => {
    let pending = tokens.get(user);
    if (!pending) {
      pending = oidc.token(user);
      tokens.set(user, pending);
      pending.catch(() => tokens.delete(user));
    }
    return pending;
  };
  return {
    oidc,
    env: { ...oidc.env, ACCESS_POLICY_FILE: DEMO_POLICY_FILE },
    token,
    async headers(user, purpose, extra = {}) {
      return {
        authorization: `Bearer ${await token(user)}`,
        ...(purpose ? { 'x-purpose': purpose } : {}),
        ...extra,
      };
    },
    stop: () => oidc.stop(),
  };
}

/**
 * A requester that sees every entry (for read-model tests that are not about access): a
 * `tester` role in an organisation of type `test`, under a policy whose one agreement per agency
 * shares every event type and every special category with it.
 */
export function allSeeingRequester(overrides: { userId?: string; purpose?: string } = {}): Requester {
  const purpose = overrides.purpose ?? 'direct-care';
  const agencies = ['health', 'education', 'social-care'] as const;
  const document = parseAccessPolicy({
    title: 'test: everything shared with testers',
    purposes: [{ id: purpose, label: 'test purpose', identifiable: true }],
    roles: [
      { id: 'tester', label: 'tester', grants: [{ permission: 'timeline:read', purposes: [purpose] }] },
    ],
    eventCategories: { everything: ['*'] },
    agreements: agencies.map((agency) => ({
      id: `test-${agency}`,
      version: 1,
      title: `test: all of ${agency}`,
      providingAgency: agency,
      recipients: { organisationTypes: ['test'], roles: ['tester'] },
      eventCategories: ['everything'],
      specialCategories: [
        'sexual-health',
        'reproductive-health',
        'mental-health',
        'substance-misuse',
        'gender-identity',
        'hiv-sti',
        'criminal-offence',
        'ethnicity',
        'religion',
        'genetic',
      ],
      purposes: [purpose],
      legalBasis: { article6: 'test', article9: 'test' },
      validFrom: '2000-01-01',
      signedOffBy: ['test'],
    })),
  });
  const principal: Principal = {
    kind: 'person',
    userId: overrides.userId ?? 'int-test',
    organisation: { code: 'TEST', type: 'test' },
    roles: ['tester'],
  };
  return { principal, purpose, roles: ['tester'], policy: { version: 1, document }, note: {} };
}

/** One access_log row, as a test checks it: who, why, what, the outcome, what was touched and withheld. */
export interface AccessLogEntry {
  readonly user: string;
  /** The principal's organisation code (absent when the token did not verify). */
  readonly organisation: string | null;
  /** The roles the policy granted the access under (space-separated), null on a refusal. */
  readonly grantedRoles: string | null;
  readonly purpose: string;
  readonly action: string;
  readonly outcome: string;
  readonly requestedChildKey: string | null;
  readonly childKey: string | null;
  readonly childKeys: readonly string[] | null;
  readonly returned: number;
  readonly withheld: readonly Withheld[];
  readonly policyVersion: number | null;
  readonly agreements: readonly string[] | null;
  readonly breakGlass: { readonly id: string; readonly reason: string; readonly expiresAt: string } | null;
  readonly refusal: string | null;
  readonly extra: Record<string, unknown> | null;
}

/**
 * Reads the access log back after each call (records are written before the answer leaves, so
 * they are there when the response is): `next()` is the one record the last call wrote.
 */
export class AccessLogReader {
  /** The hash chain's gap-free order. */
  private lastSeq = '0';

  constructor(private readonly pool: Pool) {}

  /** The records written since the last read (every one, the first time), oldest first. */
  async sinceLastRead(): Promise<AccessLogEntry[]> {
    const result = await this.pool.query<{ seq: string } & AccessLogEntry>(
      `SELECT seq, user_id AS "user", details->'principal'->'organisation'->>'code' AS organisation,
              user_role AS "grantedRoles", purpose, action, outcome,
              requested_child_key AS "requestedChildKey", child_key AS "childKey",
              details->'childKeys' AS "childKeys", returned_entries AS returned, withheld,
              (details->>'policyVersion')::int AS "policyVersion", details->'agreements' AS agreements,
              details->'breakGlass' AS "breakGlass", details->>'refusal' AS refusal, details->'extra' AS extra
       FROM access_log WHERE seq > $1 ORDER BY seq`,
      [this.lastSeq],
    );
    const rows = result.rows;
    if (rows.length > 0) this.lastSeq = rows[rows.length - 1].seq;
    return rows.map(({ seq: _seq, ...entry }) => entry);
  }

  /** The one record written since the last read; throws, listing them, when there is not exactly one. */
  async next(): Promise<AccessLogEntry> {
    const rows = await this.sinceLastRead();
    if (rows.length !== 1)
      throw new Error(
        `expected one access record since the last read, found ${rows.length}: ${JSON.stringify(
          rows.map((row) => [row.user, row.action, row.outcome]),
        )}`,
      );
    return rows[0];
  }

  /** Skips what is there now (records of set-up calls a test does not check). */
  async skip(): Promise<void> {
    await this.sinceLastRead();
  }
}

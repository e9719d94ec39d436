import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { z } from 'zod';
import { toContractIssues } from '@throughline/contracts';
import { PreparedStatement, ThroughlineError, ValidationError } from '@throughline/platform';
import type { Principal } from './principal';

/** The body of a break-glass request. */
export const BREAK_GLASS_REQUEST = z.strictObject({
  reason: z
    .string()
    .trim()
    .min(20, {
      message: 'say why, in at least 20 characters: the reason is reviewed by information governance',
    })
    .max(2000),
  minutes: z
    .number()
    .int()
    .min(5)
    .max(24 * 60)
    .default(60),
});

export interface BreakGlassGrant {
  readonly id: string;
  readonly userId: string;
  readonly organisation: string;
  readonly roles: readonly string[];
  readonly purpose: string;
  readonly childKey: string;
  readonly reason: string;
  readonly grantedAt: string;
  readonly expiresAt: string;
}

interface GrantRow {
  id: string;
  user_id: string;
  organisation: string;
  roles: string[];
  purpose: string;
  child_key: string;
  reason: string;
  granted_at: Date;
  expires_at: Date;
}

const grantOf = (row: GrantRow): BreakGlassGrant => ({
  id: row.id,
  userId: row.user_id,
  organisation: row.organisation,
  roles: row.roles,
  purpose: row.purpose,
  childKey: row.child_key,
  reason: row.reason,
  grantedAt: row.granted_at.toISOString(),
  expiresAt: row.expires_at.toISOString(),
});

/** Looked up on every read of a child's timeline: prepared (decision 028). */
export const ACTIVE_GRANT = new PreparedStatement<GrantRow>(
  'break-glass-active',
  `SELECT * FROM break_glass_grants
  WHERE user_id = $1 AND child_key = $2 AND expires_at > now() AND granted_at <= now()
  ORDER BY expires_at DESC LIMIT 1`,
);

/**
 * Break-glass: in a safeguarding emergency a user whose role allows it may see all of one
 * child's chronology, whatever the agreements say, for a limited time and with a reason. Each
 * grant is kept (break_glass_grants, append-only), every read under it says so in the access
 * log, and information governance lists them (GET /v1/governance/break-glass).
 */
export class BreakGlassGrants {
  constructor(
    private readonly pool: Pool,
    private readonly maxMinutes: number,
  ) {}

  parse(body: unknown): z.output<typeof BREAK_GLASS_REQUEST> {
    const parsed = BREAK_GLASS_REQUEST.safeParse(body ?? {});
    if (!parsed.success) {
      const issues = toContractIssues(parsed.error.issues).map((issue) => ({
        ...issue,
        path: `body.${issue.path}`,
      }));
      throw new ValidationError(issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), issues);
    }
    if (parsed.data.minutes > this.maxMinutes)
      throw new ValidationError(`body.minutes: at most ${this.maxMinutes} (BREAK_GLASS_MAX_MINUTES)`, [
        { path: 'body.minutes', rule: 'max', message: `at most ${this.maxMinutes}` },
      ]);
    return parsed.data;
  }

  async grant(
    principal: Principal,
    purpose: string,
    childKey: string,
    request: z.output<typeof BREAK_GLASS_REQUEST>,
  ): Promise<BreakGlassGrant> {
    if (!principal.organisation)
      throw new ThroughlineError('FORBIDDEN', 'break-glass needs a person with an organisation');
    const result = await this.pool.query<GrantRow>(
      `INSERT INTO break_glass_grants (id, user_id, user_name, organisation, roles, purpose, child_key, reason, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(mins => $9))
       RETURNING *`,
      [
        randomUUID(),
        principal.userId,
        principal.name ?? null,
        principal.organisation.code,
        principal.roles,
        purpose,
        childKey,
        request.reason,
        request.minutes,
      ],
    );
    return grantOf(result.rows[0]);
  }

  /** The user's grant for this child that is in force now, if any (the latest). */
  async active(userId: string, childKey: string): Promise<BreakGlassGrant | undefined> {
    const result = await ACTIVE_GRANT.run(this.pool, [userId, childKey]);
    return result.rows[0] ? grantOf(result.rows[0]) : undefined;
  }

  /** Grants made in [from, to), newest first (for information governance). */
  async list(from: Date, to: Date, limit = 1000): Promise<BreakGlassGrant[]> {
    const result = await this.pool.query<GrantRow>(
      `SELECT * FROM break_glass_grants WHERE granted_at >= $1 AND granted_at < $2
       ORDER BY granted_at DESC LIMIT $3`,
      [from, to, limit],
    );
    return result.rows.map(grantOf);
  }
}

import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { z } from 'zod';
import { AGENCY_NAMES, toContractIssues } from '@throughline/contracts';
import type { EventStore, ExpectedRevision } from '@throughline/event-store';
import { NotFoundError, ThroughlineError, ValidationError } from '@throughline/platform';
import {
  identityStreamOf,
  parseIdentityEvent,
  proposalStreamOf,
  type Actor,
  type IdentityEvent,
} from './events';

/**
 * The review API's commands and lists: a person confirms or rejects a proposal, unlinks a
 * record from its child or links it to one. Each command appends one identity event with
 * an expected revision (a concurrent change is a 409) and every call is audited.
 */

/** Who is asking (the access context of the timeline API). */
export interface Reviewer {
  readonly userId: string;
  readonly role?: string;
  readonly purpose: string;
}

/** The projection's view of children, which the commands need to check and describe what they change. */
export interface ChildDirectory {
  /** The child the record belongs to now and all its records (earliest first); undefined if unknown. */
  childOfRecord(streamId: string): Promise<{ childKey: string; members: string[] } | undefined>;
  /** The live child with this key (a merged key resolves to its survivor); undefined if unknown. */
  child(childKey: string): Promise<{ childKey: string; members: string[] } | undefined>;
}

export interface ProposalView {
  readonly proposalId: string;
  readonly subject: string;
  readonly candidate: string;
  readonly score: number;
  readonly threshold: number;
  readonly evidence: readonly unknown[];
  readonly status: 'open' | 'confirmed' | 'rejected' | 'superseded';
  readonly proposedAt: string;
  readonly decidedBy?: Actor;
  readonly decidedAt?: string;
  readonly reason?: string;
}

export interface ConflictView {
  readonly conflictId: string;
  readonly subject: string;
  readonly others: readonly string[];
  readonly rule: string;
  readonly shared: readonly unknown[];
  readonly conflicts: readonly unknown[];
  readonly flaggedAt: string;
}

export interface CommandResult {
  readonly streamId: string;
  readonly eventId: string;
  readonly type: IdentityEvent['type'];
  readonly position: number;
}

export type IdentityAuditAction =
  'list-proposals' | 'confirm' | 'reject' | 'unlink' | 'link' | 'list-conflicts';
type AuditAction = IdentityAuditAction;

const reasonField = z.string().trim().min(1, { message: 'give a reason' }).max(1000);
const recordId = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'record id must be 1-64 of A-Z a-z 0-9 . _ -' });
const agency = z.enum(AGENCY_NAMES);

/** The review API's requests: the projection documents them in /docs from these. */
export const IDENTITY_REVIEW_REQUESTS = {
  proposalStatus: z.strictObject({
    status: z.enum(['open', 'confirmed', 'rejected', 'superseded']).optional(),
  }),
  proposalId: z.uuid({ message: 'proposal id must be a UUID' }),
  confirm: z.strictObject({ reason: reasonField.optional() }),
  reject: z.strictObject({ reason: reasonField }),
  unlink: z.strictObject({ agency, recordId, reason: reasonField }),
  link: z.strictObject({
    agency,
    recordId,
    childKey: z
      .string()
      .regex(/^ch_[0-9a-f]{20}$/, { message: 'a child key such as ch_0123456789abcdef0123' }),
    reason: reasonField,
  }),
};

function parse<S extends z.ZodType>(schema: S, input: unknown, what: string, prefix = ''): z.infer<S> {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issues = toContractIssues(parsed.error.issues).map((issue) => ({
    ...issue,
    path: prefix ? (issue.path ? `${prefix}.${issue.path}` : prefix) : issue.path,
  }));
  throw new ValidationError(
    `invalid ${what}: ${issues.map((issue) => `${issue.path} ${issue.message}`).join('; ')}`,
    issues,
  );
}

export class IdentityReview {
  constructor(
    private readonly pool: Pool,
    private readonly store: EventStore,
    private readonly children: ChildDirectory,
  ) {}

  async proposals(query: unknown, reviewer: Reviewer): Promise<{ proposals: ProposalView[] }> {
    return this.audited(reviewer, 'list-proposals', {}, async () => {
      const { status } = parse(IDENTITY_REVIEW_REQUESTS.proposalStatus, query, 'query', 'query');
      const result = await this.pool.query<{
        proposal_id: string;
        subject: string;
        candidate: string;
        score: number;
        threshold: number;
        evidence: unknown[];
        status: ProposalView['status'];
        proposed_at: Date;
        decided_by: Actor | null;
        decided_at: Date | null;
        reason: string | null;
      }>(
        `SELECT * FROM identity_proposals WHERE ($1::text IS NULL OR status = $1)
         ORDER BY proposed_at, proposal_id LIMIT 500`,
        [status ?? null],
      );
      return {
        proposals: result.rows.map((row) => ({
          proposalId: row.proposal_id,
          subject: row.subject,
          candidate: row.candidate,
          score: row.score,
          threshold: row.threshold,
          evidence: row.evidence,
          status: row.status,
          proposedAt: row.proposed_at.toISOString(),
          ...(row.decided_by ? { decidedBy: row.decided_by } : {}),
          ...(row.decided_at ? { decidedAt: row.decided_at.toISOString() } : {}),
          ...(row.reason ? { reason: row.reason } : {}),
        })),
      };
    });
  }

  async conflicts(reviewer: Reviewer): Promise<{ conflicts: ConflictView[] }> {
    return this.audited(reviewer, 'list-conflicts', {}, async () => {
      const result = await this.pool.query<{
        conflict_id: string;
        subject: string;
        others: string[];
        rule: string;
        detail: { shared: unknown[]; conflicts: unknown[] };
        flagged_at: Date;
      }>('SELECT * FROM identity_conflicts ORDER BY flagged_at, conflict_id LIMIT 500');
      return {
        conflicts: result.rows.map((row) => ({
          conflictId: row.conflict_id,
          subject: row.subject,
          others: row.others,
          rule: row.rule,
          shared: row.detail.shared,
          conflicts: row.detail.conflicts,
          flaggedAt: row.flagged_at.toISOString(),
        })),
      };
    });
  }

  confirm(proposalId: string, body: unknown, reviewer: Reviewer): Promise<CommandResult> {
    return this.decide('confirm', proposalId, body, reviewer);
  }

  reject(proposalId: string, body: unknown, reviewer: Reviewer): Promise<CommandResult> {
    return this.decide('reject', proposalId, body, reviewer);
  }

  async unlink(body: unknown, reviewer: Reviewer): Promise<CommandResult> {
    return this.audited(reviewer, 'unlink', targetOf(body), async () => {
      const command = parse(IDENTITY_REVIEW_REQUESTS.unlink, body, 'unlink');
      const subject = `${command.agency}-${command.recordId}`;
      const child = await this.children.childOfRecord(subject);
      if (!child) throw new NotFoundError('no record is known by that agency and record id');
      const others = child.members.filter((member) => member !== subject);
      if (others.length === 0)
        throw new ThroughlineError('ILLEGAL_STATE', 'the record is not linked to any other record');
      return this.append(identityStreamOf(subject), {
        type: 'identity.subject.unlinked',
        data: {
          subject,
          formerChildKey: child.childKey,
          formerMembers: others,
          reason: command.reason,
          by: actorOf(reviewer),
          at: new Date().toISOString(),
        },
      });
    });
  }

  async link(body: unknown, reviewer: Reviewer): Promise<CommandResult> {
    return this.audited(reviewer, 'link', targetOf(body), async () => {
      const command = parse(IDENTITY_REVIEW_REQUESTS.link, body, 'link');
      const subject = `${command.agency}-${command.recordId}`;
      const [current, target] = await Promise.all([
        this.children.childOfRecord(subject),
        this.children.child(command.childKey),
      ]);
      if (!current) throw new NotFoundError('no record is known by that agency and record id');
      if (!target) throw new NotFoundError(`no child ${command.childKey}`);
      if (current.childKey === target.childKey)
        throw new ThroughlineError('ILLEGAL_STATE', `the record already belongs to child ${target.childKey}`);
      return this.append(identityStreamOf(subject), {
        type: 'identity.subject.linked',
        data: {
          subject,
          linkedTo: target.members[0],
          method: 'manual',
          childKey: target.childKey,
          reason: command.reason,
          by: actorOf(reviewer),
          at: new Date().toISOString(),
        },
      });
    });
  }

  private async decide(
    decision: 'confirm' | 'reject',
    proposalIdInput: string,
    body: unknown,
    reviewer: Reviewer,
  ): Promise<CommandResult> {
    return this.audited(reviewer, decision, { proposalId: proposalIdInput }, async () => {
      const proposalId = parse(
        IDENTITY_REVIEW_REQUESTS.proposalId,
        proposalIdInput,
        'proposal id',
        'params.proposalId',
      );
      const command =
        decision === 'confirm'
          ? parse(IDENTITY_REVIEW_REQUESTS.confirm, body, 'confirmation')
          : parse(IDENTITY_REVIEW_REQUESTS.reject, body, 'rejection');
      const streamId = proposalStreamOf(proposalId);
      const events = await this.store.readStream(streamId, { maxCount: 100 });
      if (events.length === 0) throw new NotFoundError(`no proposal ${proposalId}`);
      const proposed = parseIdentityEvent(events[0].type, events[0].data);
      const last = events[events.length - 1];
      if (proposed.type !== 'identity.match.proposed' || events.length > 1) {
        throw new ThroughlineError(
          'ILLEGAL_STATE',
          `proposal ${proposalId} is already decided (${last.type.replace('identity.match.', '')})`,
        );
      }
      const { subject, candidate, score } = proposed.data;
      const by = actorOf(reviewer);
      const at = new Date().toISOString();
      const event: IdentityEvent =
        decision === 'confirm'
          ? {
              type: 'identity.match.confirmed',
              data: {
                proposalId,
                subject,
                candidate,
                score,
                by,
                at,
                ...(command.reason ? { reason: command.reason } : {}),
              },
            }
          : {
              type: 'identity.match.rejected',
              data: { proposalId, subject, candidate, score, by, at, reason: command.reason as string },
            };
      return this.append(streamId, event, last.revision);
    });
  }

  /** Appends with the stream's current revision as expectation: a change in between is a 409. */
  private async append(
    streamId: string,
    event: IdentityEvent,
    expected?: ExpectedRevision,
  ): Promise<CommandResult> {
    let expectedRevision = expected;
    if (expectedRevision === undefined) {
      const [last] = await this.store.readStream(streamId, { direction: 'backwards', maxCount: 1 });
      expectedRevision = last ? last.revision : 'no_stream';
    }
    parseIdentityEvent(event.type, event.data); // never append what the readers would refuse
    const eventId = randomUUID();
    const result = await this.store.append(
      streamId,
      [{ eventId, type: event.type, data: event.data }],
      expectedRevision,
    );
    return { streamId, eventId, type: event.type, position: Number(result.positions[0]) };
  }

  /** A call refused before it was parsed (invalid text at the edge), with its outcome (the error code). */
  async recordRefusal(reviewer: Reviewer, action: IdentityAuditAction, outcome: string): Promise<void> {
    await this.writeAudit(reviewer, action, {}, outcome);
  }

  private async writeAudit(
    reviewer: Reviewer,
    action: AuditAction,
    target: Record<string, unknown>,
    outcome: string,
  ): Promise<void> {
    await this.pool.query(
      `INSERT INTO identity_audit_log (user_id, user_role, purpose, action, target, outcome)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [reviewer.userId, reviewer.role ?? null, reviewer.purpose, action, JSON.stringify(target), outcome],
    );
  }

  private async audited<T>(
    reviewer: Reviewer,
    action: AuditAction,
    target: Record<string, unknown>,
    work: () => Promise<T>,
  ): Promise<T> {
    let outcome = 'ok';
    try {
      return await work();
    } catch (error) {
      outcome = error instanceof ThroughlineError ? error.code : 'ERROR';
      throw error;
    } finally {
      await this.writeAudit(reviewer, action, target, outcome);
    }
  }
}

function actorOf(reviewer: Reviewer): Actor {
  return { type: 'user', userId: reviewer.userId, ...(reviewer.role ? { role: reviewer.role } : {}) };
}

/** What the audit records of a command's target: the record and child, never free text. */
function targetOf(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object') return {};
  const { agency: a, recordId: r, childKey: c } = body as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries({ agency: a, recordId: r, childKey: c }).filter(([, v]) => typeof v === 'string'),
  );
}

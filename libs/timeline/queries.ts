import type { Pool } from 'pg';
import {
  entryDecider,
  noteAccess,
  summariseWithheld,
  type EntryDecision,
  type Requester,
  type SharingBasis,
  type Withheld,
} from '@throughline/access';
import { NotFoundError } from '@throughline/platform';
import type { ChildIdentifierQuery } from './access';
import type { Confidence, EntryKind, Indicator, Lineage, Perspective } from './entry';
import { joinedBy, type IdentifierKind, type LinkMethod } from './identity';
import { outcomeDomainLabel } from './outcome-domains';

export interface SubjectView {
  readonly streamId: string;
  readonly agency: string;
  readonly recordId: string;
  readonly identifiers: readonly { readonly kind: IdentifierKind; readonly value: string }[];
  readonly linkedBy: LinkMethod;
  readonly firstSeenPosition: number;
  readonly lastSeenPosition: number;
}

/** A link in force between two records of the child. */
export interface LinkView {
  readonly streamId: string;
  readonly linkedTo: string;
  readonly method: Exclude<LinkMethod, 'first-record'>;
  /** Shared identifiers (deterministic), the proposal and score (confirmed match), or the reason (manual). */
  readonly evidence: Readonly<Record<string, unknown>>;
  readonly by: Readonly<Record<string, unknown>>;
  readonly at: string;
  readonly linkedAtPosition: number;
}

/** One identity event about a record of the child: links, unlinks, proposals, decisions, conflicts. */
export interface LinkHistoryEntry {
  readonly position: number;
  readonly type: string;
  readonly subjects: readonly string[];
  readonly at: string;
  readonly by: Readonly<Record<string, unknown>>;
  readonly method?: string;
  readonly reason?: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface TimelineEntryView {
  readonly position: number;
  readonly occurredAt: string;
  readonly agency: string;
  readonly type: string;
  readonly summary: string;
  readonly outcomeDomain: { readonly framework: string; readonly domain: string; readonly label?: string };
  readonly kind: EntryKind;
  readonly indicator?: Indicator;
  readonly narrative?: string;
  readonly perspective?: Perspective;
  readonly observerRole?: string;
  readonly confidence?: Confidence;
  readonly reviewDate?: string;
  /** Special categories of data the entry touches (UK GDPR art. 9 and sensitive health areas). */
  readonly specialCategories?: readonly string[];
  /** Why this reader may see it: their own organisation's record, an agreement, or break-glass. */
  readonly sharedUnder: SharingBasis;
  readonly lineage: Lineage;
}

export interface ChildTimeline {
  readonly childKey: string;
  /** Keys of children found to be this one and merged into it. */
  readonly mergedChildKeys: readonly string[];
  readonly subjects: readonly SubjectView[];
  readonly links: readonly LinkView[];
  readonly linkHistory: readonly LinkHistoryEntry[];
  readonly entries: readonly TimelineEntryView[];
  /** What this reader may not see, grouped by reason (the policy's words). */
  readonly withheld: readonly Withheld[];
  /** The terms of this answer: purpose, roles, policy version, and break-glass if it was used. */
  readonly access: {
    readonly purpose: string;
    readonly roles: readonly string[];
    readonly policyVersion: number;
    readonly breakGlass?: { readonly id: string; readonly reason: string; readonly expiresAt: string };
  };
}

/** The break-glass grants a timeline read consults (libs/access BreakGlassGrants). */
export interface ActiveBreakGlass {
  active(
    userId: string,
    childKey: string,
  ): Promise<{ readonly id: string; readonly reason: string; readonly expiresAt: string } | undefined>;
}

/**
 * Told of every chronology read (CP-IS-style notifications: libs/notifications notifyIfNeeded
 * decides whether the child's responsible local authority must hear of it). What it returns
 * goes into the access record.
 */
export interface ChronologyReadNotifier {
  notifyRead(read: {
    readonly childKey: string;
    readonly requester: Requester;
    readonly breakGlass: boolean;
  }): Promise<{
    readonly notified: boolean;
    readonly notificationId?: string;
    readonly localAuthority?: string;
  }>;
}

interface EntryRow {
  readonly view: Omit<TimelineEntryView, 'sharedUnder'>;
  readonly streamId: string;
  readonly sourceOrganisation?: string;
}

const CHILD_KEY = /^ch_[0-9a-f]{20}$/;

/**
 * The read side of the timeline. Each answer is decided by the access policy the requester was
 * admitted under (entry by entry, with what was withheld and why) and noted for the access record
 * the access guard writes before the answer leaves.
 */
export class TimelineQueries {
  constructor(
    private readonly pool: Pool,
    private readonly breakGlass?: ActiveBreakGlass,
    private readonly notifier?: ChronologyReadNotifier,
  ) {}

  /** The read-model database answers. */
  async ping(): Promise<boolean> {
    return this.pool.query('SELECT 1').then(
      () => true,
      () => false,
    );
  }

  async lookupChild(query: ChildIdentifierQuery, requester: Requester): Promise<{ childKey: string }> {
    const childKey = await this.findChild(query);
    noteAccess(requester, { ...(childKey ? { childKey } : {}), returned: childKey ? 1 : 0 });
    if (!childKey) throw new NotFoundError('no child is known by that identifier');
    return { childKey };
  }

  async timelineOf(requestedChildKey: string, requester: Requester): Promise<ChildTimeline> {
    const childKey = CHILD_KEY.test(requestedChildKey)
      ? await this.resolveChild(requestedChildKey)
      : undefined;
    if (!childKey) throw new NotFoundError(`no child ${requestedChildKey}`);
    const links = await this.linksOf(childKey);
    const [subjects, linkHistory, rows, merged, breakGlass] = await Promise.all([
      this.subjectsOf(childKey, links),
      this.linkHistoryOf(childKey),
      this.entriesOf(childKey),
      this.pool.query<{ child_key: string }>(
        'SELECT child_key FROM children WHERE merged_into = $1 ORDER BY founded_at_position',
        [childKey],
      ),
      this.breakGlass?.active(requester.principal.userId, childKey),
    ]);
    const decide = entryDecider(
      requester.policy,
      { principal: requester.principal, purpose: requester.purpose, roles: requester.roles, breakGlass },
      new Date(),
    );
    const decisions = rows.map((row): EntryDecision =>
      decide({
        agency: row.view.agency,
        type: row.view.type,
        specialCategories: row.view.specialCategories ?? [],
        sourceOrganisation: row.sourceOrganisation,
      }),
    );
    const entries: TimelineEntryView[] = [];
    const seenStreams = new Set<string>();
    const agreements = new Set<string>();
    rows.forEach((row, index) => {
      const decision = decisions[index];
      if (!decision.visible) return;
      seenStreams.add(row.streamId);
      if (decision.sharedUnder.basis === 'agreement') agreements.add(decision.sharedUnder.agreement);
      entries.push({ ...row.view, sharedUnder: decision.sharedUnder });
    });
    // A record none of whose entries this reader may see is not shown either: its identifiers
    // and agency would tell what the withheld entries are about.
    const withheldStreams = new Set(rows.map((row) => row.streamId).filter((id) => !seenStreams.has(id)));
    const shownSubjects = subjects.filter((subject) => !withheldStreams.has(subject.streamId));
    const withheld = summariseWithheld(decisions);
    if (withheldStreams.size > 0)
      withheld.push({
        count: withheldStreams.size,
        reason: 'linked records: every entry of each of them is withheld, so the records are not shown',
      });
    const grant = breakGlass
      ? { id: breakGlass.id, reason: breakGlass.reason, expiresAt: breakGlass.expiresAt }
      : undefined;
    // Before the answer leaves: a read the child's local authority must hear of is in the outbox.
    const notified = await this.notifier?.notifyRead({
      childKey,
      requester,
      breakGlass: grant !== undefined,
    });
    noteAccess(requester, {
      childKey,
      returned: entries.length,
      withheld,
      agreements: [...agreements],
      ...(grant ? { breakGlass: grant } : {}),
      // The notification this read was told in: its own, or its episode's (an earlier read's).
      ...(notified?.notificationId
        ? {
            extra: {
              notified: {
                id: notified.notificationId,
                localAuthority: notified.localAuthority,
                ...(notified.notified ? {} : { sameEpisode: true }),
              },
            },
          }
        : {}),
    });
    return {
      childKey,
      mergedChildKeys: merged.rows.map((row) => row.child_key),
      subjects: shownSubjects,
      links: links.filter(
        (link) => !withheldStreams.has(link.streamId) && !withheldStreams.has(link.linkedTo),
      ),
      linkHistory: linkHistory.filter(
        (entry) => !entry.subjects.some((subject) => withheldStreams.has(subject)),
      ),
      entries,
      withheld,
      access: {
        purpose: requester.purpose,
        roles: requester.roles,
        policyVersion: requester.policy.version,
        ...(grant ? { breakGlass: grant } : {}),
      },
    };
  }

  /** The child the record belongs to now, and all its records, earliest first (the identity review's view). */
  async childOfRecord(streamId: string): Promise<{ childKey: string; members: string[] } | undefined> {
    const result = await this.pool.query<{ child_key: string }>(
      'SELECT child_key FROM subject_records WHERE stream_id = $1',
      [streamId],
    );
    const childKey = result.rows[0]?.child_key;
    return childKey ? { childKey, members: await this.membersOf(childKey) } : undefined;
  }

  /** The live child with this key (a merged key resolves to the child it became). */
  async child(childKey: string): Promise<{ childKey: string; members: string[] } | undefined> {
    const live = CHILD_KEY.test(childKey) ? await this.resolveChild(childKey) : undefined;
    if (!live) return undefined;
    const members = await this.membersOf(live);
    return members.length > 0 ? { childKey: live, members } : undefined;
  }

  private async membersOf(childKey: string): Promise<string[]> {
    const result = await this.pool.query<{ stream_id: string }>(
      'SELECT stream_id FROM subject_records WHERE child_key = $1 ORDER BY first_seen_position, stream_id',
      [childKey],
    );
    return result.rows.map((row) => row.stream_id);
  }

  private async findChild(query: ChildIdentifierQuery): Promise<string | undefined> {
    if (query.type === 'record') {
      const result = await this.pool.query<{ child_key: string }>(
        'SELECT child_key FROM subject_records WHERE stream_id = $1',
        [`${query.agency}-${query.value}`],
      );
      return result.rows[0]?.child_key;
    }
    const kinds = query.type === 'nhs-number' ? ['nhs-number'] : ['upn', 'former-upn'];
    // Linkage makes every record holding one identifier the same child; current UPNs win over former ones.
    const result = await this.pool.query<{ child_key: string }>(
      `SELECT sr.child_key FROM subject_identifiers si JOIN subject_records sr ON sr.stream_id = si.stream_id
       WHERE si.kind = ANY($1::text[]) AND si.value = $2
       ORDER BY si.kind = 'former-upn', sr.first_seen_position LIMIT 1`,
      [kinds, query.value],
    );
    return result.rows[0]?.child_key;
  }

  /** A merged child's key still finds the child it became. */
  private async resolveChild(childKey: string): Promise<string | undefined> {
    const result = await this.pool.query<{ child_key: string }>(
      'SELECT coalesce(merged_into, child_key) AS child_key FROM children WHERE child_key = $1',
      [childKey],
    );
    return result.rows[0]?.child_key;
  }

  private async subjectsOf(childKey: string, links: readonly LinkView[]): Promise<SubjectView[]> {
    const result = await this.pool.query<{
      stream_id: string;
      agency: string;
      record_id: string;
      first_seen_position: string;
      last_seen_position: string;
      identifiers: { kind: IdentifierKind; value: string }[];
    }>(
      `SELECT sr.stream_id, sr.agency, sr.record_id, sr.first_seen_position, sr.last_seen_position,
              coalesce((SELECT json_agg(json_build_object('kind', si.kind, 'value', si.value) ORDER BY si.first_seen_position, si.kind)
                        FROM subject_identifiers si WHERE si.stream_id = sr.stream_id), '[]'::json) AS identifiers
       FROM subject_records sr
       WHERE sr.child_key = $1
       ORDER BY sr.first_seen_position, sr.stream_id`,
      [childKey],
    );
    const joined = joinedBy(
      result.rows.map((row) => ({
        streamId: row.stream_id,
        firstSeenPosition: BigInt(row.first_seen_position),
      })),
      links.map((link) => ({
        a: link.streamId,
        b: link.linkedTo,
        position: BigInt(link.linkedAtPosition),
        method: link.method,
      })),
    );
    return result.rows.map((row) => ({
      streamId: row.stream_id,
      agency: row.agency,
      recordId: row.record_id,
      identifiers: row.identifiers,
      linkedBy: joined.get(row.stream_id)?.method ?? 'first-record',
      firstSeenPosition: Number(row.first_seen_position),
      lastSeenPosition: Number(row.last_seen_position),
    }));
  }

  private async linksOf(childKey: string): Promise<LinkView[]> {
    const result = await this.pool.query<{
      subject_a: string;
      subject_b: string;
      method: Exclude<LinkMethod, 'first-record'>;
      evidence: Record<string, unknown>;
      linked_by: Record<string, unknown>;
      linked_at: Date;
      position: string;
      subject: string;
    }>(
      `SELECT il.*, h.data->>'subject' AS subject
       FROM identity_links il
       JOIN subject_records sr ON sr.stream_id = il.subject_a
       LEFT JOIN identity_history h ON h.position = il.position
       WHERE sr.child_key = $1 ORDER BY il.position, il.subject_a`,
      [childKey],
    );
    return result.rows.map((row) => {
      // Said the way it was decided: the record the event was about, linked to the other.
      const streamId = row.subject ?? row.subject_a;
      return {
        streamId,
        linkedTo: streamId === row.subject_a ? row.subject_b : row.subject_a,
        method: row.method,
        evidence: row.evidence,
        by: row.linked_by,
        at: row.linked_at.toISOString(),
        linkedAtPosition: Number(row.position),
      };
    });
  }

  /** Every identity event about any record that is part of the child now. */
  private async linkHistoryOf(childKey: string): Promise<LinkHistoryEntry[]> {
    const result = await this.pool.query<{
      position: string;
      type: string;
      subjects: string[];
      data: Record<string, unknown> & { by: Record<string, unknown>; at: string };
    }>(
      `SELECT position, type, subjects, data FROM identity_history
       WHERE subjects && array(SELECT stream_id FROM subject_records WHERE child_key = $1)
       ORDER BY position`,
      [childKey],
    );
    return result.rows.map((row) => {
      const { by, at, method, reason, ...details } = row.data;
      return {
        position: Number(row.position),
        type: row.type,
        subjects: row.subjects,
        at,
        by,
        ...(typeof method === 'string' ? { method } : {}),
        ...(typeof reason === 'string' ? { reason } : {}),
        details,
      };
    });
  }

  private async entriesOf(childKey: string): Promise<EntryRow[]> {
    const result = await this.pool.query<{
      position: string;
      stream_id: string;
      agency: string;
      type: string;
      summary: string;
      outcome_framework: string;
      outcome_domain: string;
      details: Record<string, unknown> & { occurredAt: string; kind: EntryKind };
      lineage: Lineage;
      special_categories: string[];
      source_organisation: string | null;
    }>(
      `SELECT te.position, te.stream_id, te.agency, te.type, te.summary, te.outcome_framework, te.outcome_domain,
              te.details, te.lineage, te.special_categories, te.source_organisation
       FROM timeline_entries te JOIN subject_records sr ON sr.stream_id = te.stream_id
       WHERE sr.child_key = $1
       ORDER BY te.occurred_at, te.position`,
      [childKey],
    );
    return result.rows.map((row) => {
      const { occurredAt, ...details } = row.details;
      const ref = { framework: row.outcome_framework, domain: row.outcome_domain };
      const label = outcomeDomainLabel(ref);
      return {
        streamId: row.stream_id,
        ...(row.source_organisation ? { sourceOrganisation: row.source_organisation } : {}),
        view: {
          position: Number(row.position),
          occurredAt,
          agency: row.agency,
          type: row.type,
          summary: row.summary,
          outcomeDomain: label ? { ...ref, label } : ref,
          ...(details as Omit<
            TimelineEntryView,
            | 'position'
            | 'occurredAt'
            | 'agency'
            | 'type'
            | 'summary'
            | 'outcomeDomain'
            | 'lineage'
            | 'sharedUnder'
            | 'specialCategories'
          >),
          ...(row.special_categories.length > 0 ? { specialCategories: row.special_categories } : {}),
          lineage: row.lineage,
        },
      };
    });
  }
}

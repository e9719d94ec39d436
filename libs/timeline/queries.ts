import type { Pool } from 'pg';
import { NotFoundError } from '@throughline/platform';
import type { AccessContext, ChildIdentifierQuery } from './access';
import type { Confidence, EntryKind, Indicator, Lineage, Perspective } from './entry';
import type { IdentifierKind, LinkMethod } from './identity';
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

export interface LinkView {
  readonly streamId: string;
  readonly method: LinkMethod;
  readonly evidenceValue?: string;
  readonly linkedAtPosition: number;
  /** Set when the record came in with a child that this one absorbed. */
  readonly mergedFrom?: string;
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
  readonly lineage: Lineage;
}

export interface ChildTimeline {
  readonly childKey: string;
  /** Keys of children found to be this one and merged into it. */
  readonly mergedChildKeys: readonly string[];
  readonly subjects: readonly SubjectView[];
  readonly links: readonly LinkView[];
  readonly entries: readonly TimelineEntryView[];
}

type AccessAction = 'lookup' | 'timeline';

interface AccessRecord {
  readonly action: AccessAction;
  readonly requestedChildKey?: string;
  readonly childKey?: string;
  readonly returnedEntries: number;
  readonly withheld: readonly string[];
}

const CHILD_KEY = /^ch_[0-9a-f]{20}$/;

/** The read side of the timeline: every query of a child's data is written to the access log. */
export class TimelineQueries {
  constructor(private readonly pool: Pool) {}

  /** The read-model database answers. */
  async ping(): Promise<boolean> {
    return this.pool.query('SELECT 1').then(
      () => true,
      () => false,
    );
  }

  async lookupChild(query: ChildIdentifierQuery, access: AccessContext): Promise<{ childKey: string }> {
    const childKey = await this.findChild(query);
    await this.recordAccess(access, { action: 'lookup', childKey, returnedEntries: 0, withheld: [] });
    if (!childKey) throw new NotFoundError('no child is known by that identifier');
    return { childKey };
  }

  async timelineOf(requestedChildKey: string, access: AccessContext): Promise<ChildTimeline> {
    const childKey = CHILD_KEY.test(requestedChildKey)
      ? await this.resolveChild(requestedChildKey)
      : undefined;
    if (!childKey) {
      await this.recordAccess(access, {
        action: 'timeline',
        requestedChildKey,
        returnedEntries: 0,
        withheld: [],
      });
      throw new NotFoundError(`no child ${requestedChildKey}`);
    }
    const [subjects, links, entries, merged] = await Promise.all([
      this.subjectsOf(childKey),
      this.linksOf(childKey),
      this.entriesOf(childKey),
      this.pool.query<{ child_key: string }>(
        'SELECT child_key FROM children WHERE merged_into = $1 ORDER BY founded_at_position',
        [childKey],
      ),
    ]);
    await this.recordAccess(access, {
      action: 'timeline',
      requestedChildKey,
      childKey,
      returnedEntries: entries.length,
      withheld: [],
    });
    return { childKey, mergedChildKeys: merged.rows.map((row) => row.child_key), subjects, links, entries };
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

  private async subjectsOf(childKey: string): Promise<SubjectView[]> {
    const result = await this.pool.query<{
      stream_id: string;
      agency: string;
      record_id: string;
      method: LinkMethod;
      first_seen_position: string;
      last_seen_position: string;
      identifiers: { kind: IdentifierKind; value: string }[];
    }>(
      `SELECT sr.stream_id, sr.agency, sr.record_id, il.method, sr.first_seen_position, sr.last_seen_position,
              coalesce((SELECT json_agg(json_build_object('kind', si.kind, 'value', si.value) ORDER BY si.first_seen_position, si.kind)
                        FROM subject_identifiers si WHERE si.stream_id = sr.stream_id), '[]'::json) AS identifiers
       FROM subject_records sr JOIN identity_links il ON il.stream_id = sr.stream_id
       WHERE sr.child_key = $1
       ORDER BY sr.first_seen_position`,
      [childKey],
    );
    return result.rows.map((row) => ({
      streamId: row.stream_id,
      agency: row.agency,
      recordId: row.record_id,
      identifiers: row.identifiers,
      linkedBy: row.method,
      firstSeenPosition: Number(row.first_seen_position),
      lastSeenPosition: Number(row.last_seen_position),
    }));
  }

  private async linksOf(childKey: string): Promise<LinkView[]> {
    const result = await this.pool.query<{
      stream_id: string;
      method: LinkMethod;
      evidence_value: string | null;
      linked_at_position: string;
      merged_from: string | null;
    }>(
      `SELECT stream_id, method, evidence_value, linked_at_position, merged_from
       FROM identity_links WHERE child_key = $1 ORDER BY linked_at_position, stream_id`,
      [childKey],
    );
    return result.rows.map((row) => ({
      streamId: row.stream_id,
      method: row.method,
      ...(row.evidence_value === null ? {} : { evidenceValue: row.evidence_value }),
      linkedAtPosition: Number(row.linked_at_position),
      ...(row.merged_from === null ? {} : { mergedFrom: row.merged_from }),
    }));
  }

  private async entriesOf(childKey: string): Promise<TimelineEntryView[]> {
    const result = await this.pool.query<{
      position: string;
      agency: string;
      type: string;
      summary: string;
      outcome_framework: string;
      outcome_domain: string;
      details: Record<string, unknown> & { occurredAt: string; kind: EntryKind };
      lineage: Lineage;
    }>(
      `SELECT te.position, te.agency, te.type, te.summary, te.outcome_framework, te.outcome_domain, te.details, te.lineage
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
        position: Number(row.position),
        occurredAt,
        agency: row.agency,
        type: row.type,
        summary: row.summary,
        outcomeDomain: label ? { ...ref, label } : ref,
        ...(details as Omit<
          TimelineEntryView,
          'position' | 'occurredAt' | 'agency' | 'type' | 'summary' | 'outcomeDomain' | 'lineage'
        >),
        lineage: row.lineage,
      };
    });
  }

  private async recordAccess(access: AccessContext, record: AccessRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO access_log (user_id, user_role, purpose, action, requested_child_key, child_key, returned_entries, withheld)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        access.userId,
        access.role ?? null,
        access.purpose,
        record.action,
        record.requestedChildKey ?? null,
        record.childKey ?? null,
        record.returnedEntries,
        JSON.stringify(record.withheld),
      ],
    );
  }
}

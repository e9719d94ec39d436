import type { Pool } from 'pg';
import { LRUCache } from 'lru-cache';
import {
  entryDecider,
  noteAccess,
  summariseWithheld,
  type EntryDecision,
  type Requester,
  type SharingBasis,
  type Withheld,
} from '@throughline/access';
import { NotFoundError, PreparedStatement } from '@throughline/platform';
import type { ChildIdentifierQuery } from './access';
import type { EntryDetails, EntryKind, Lineage } from './entry';
import { joinedBy, type IdentifierKind, type LinkMethod } from './identity';
import { outcomeDomainLabel } from './outcome-domains';
import { protectionStatusFrom, type ProtectionStatus } from './protection-status';
import { StreamEntryCache, type CachedEntry } from './entry-cache';
import { answerJson } from './entry-json';

export interface SubjectView {
  readonly streamId: string;
  readonly agency: string;
  readonly recordId: string;
  readonly identifiers: readonly { readonly kind: IdentifierKind; readonly value: string }[];
  readonly linkedBy: LinkMethod;
  readonly firstSeenPosition: number;
  readonly lastSeenPosition: number;
  /** The date of birth (or, before birth, the expected date) this record's latest event giving one gave. */
  readonly dateOfBirth?: string;
  readonly expectedDateOfBirth?: string;
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

/** An entry as a reader gets it: where it sits, what it says, and everything the event recorded (EntryDetails). */
export interface TimelineEntryView extends EntryDetails {
  readonly position: number;
  readonly occurredAt: string;
  readonly agency: string;
  readonly type: string;
  readonly summary: string;
  readonly outcomeDomain: { readonly framework: string; readonly domain: string; readonly label?: string };
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
  /**
   * The child's date of birth as the most recently updated of the records shown gives it (ages in
   * outcomes and on the page); absent when none does. `expectedDateOfBirth` likewise, before birth.
   */
  readonly dateOfBirth?: string;
  readonly expectedDateOfBirth?: string;
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
    /** The child's CP-IS status, worked out from the chronology just read (undefined: not in scope). */
    readonly status: ProtectionStatus | undefined;
  }): Promise<{
    readonly notified: boolean;
    readonly notificationId?: string;
    readonly localAuthority?: string;
  }>;
}

/** An entry as recorded, before a reader's basis for seeing it is added. */
export type EntryView = Omit<TimelineEntryView, 'sharedUnder'>;

interface EntryRow extends CachedEntry {
  readonly view: EntryView;
  readonly streamId: string;
  readonly sourceOrganisation?: string;
}

/** Entries kept parsed between reads by default (TIMELINE_ENTRY_CACHE): a few hundred long chronologies. */
export const DEFAULT_ENTRY_CACHE = 50_000;
/** Children whose records were read last, to ask the cache about before the read names them (the least recently read go first). */
const RECORD_HINTS = 10_000;

const CHILD_KEY = /^ch_[0-9a-f]{20}$/;

/**
 * A child's chronology in one statement. Prepared: planned once per connection, not on every read
 * (planning cost as much as running it).
 */
const CHRONOLOGY = new PreparedStatement<ChronologyPart>(
  'timeline-chronology',
  `WITH child AS (
     SELECT coalesce(merged_into, child_key) AS child_key FROM children WHERE child_key = $1
   ), records AS (
     SELECT sr.* FROM subject_records sr JOIN child ON sr.child_key = child.child_key
   )
   SELECT 0 AS part, NULL::float8 AS occurred_at, NULL::bigint AS position, NULL::text AS stream_id,
     NULL::text AS agency, NULL::text AS type, NULL::text AS summary, NULL::text AS outcome_framework,
     NULL::text AS outcome_domain, NULL::json AS details, NULL::json AS lineage,
     NULL::text[] AS special_categories, NULL::text AS source_organisation,
     child.child_key,
     (SELECT coalesce(json_agg(json_build_object(
               'stream_id', r.stream_id, 'agency', r.agency, 'record_id', r.record_id,
               'first_seen_position', r.first_seen_position, 'last_seen_position', r.last_seen_position,
               'date_of_birth', r.date_of_birth, 'expected_date_of_birth', r.expected_date_of_birth,
               'identifiers', coalesce((SELECT json_agg(json_build_object('kind', si.kind, 'value', si.value)
                                                        ORDER BY si.first_seen_position, si.kind)
                                        FROM subject_identifiers si WHERE si.stream_id = r.stream_id), '[]'::json))
             ORDER BY r.first_seen_position, r.stream_id), '[]'::json)
        FROM records r) AS subjects,
     (SELECT coalesce(json_agg(json_build_object(
               'subject_a', il.subject_a, 'subject_b', il.subject_b, 'method', il.method,
               'evidence', il.evidence, 'linked_by', il.linked_by, 'linked_at', il.linked_at,
               'position', il.position, 'subject', h.data->>'subject')
             ORDER BY il.position, il.subject_a), '[]'::json)
        FROM identity_links il JOIN records r ON r.stream_id = il.subject_a
        LEFT JOIN identity_history h ON h.position = il.position) AS links,
     (SELECT coalesce(json_agg(json_build_object(
               'position', ih.position, 'type', ih.type, 'subjects', ih.subjects, 'data', ih.data)
             ORDER BY ih.position), '[]'::json)
        FROM identity_history ih WHERE ih.subjects && array(SELECT stream_id FROM records)) AS history,
     (SELECT coalesce(json_agg(c.child_key ORDER BY c.founded_at_position), '[]'::json)
        FROM children c WHERE c.merged_into = child.child_key) AS merged
   FROM child
   UNION ALL
   SELECT 1, extract(epoch FROM te.occurred_at)::float8 * 1000, te.position, te.stream_id, te.agency, te.type, te.summary, te.outcome_framework,
     te.outcome_domain, te.details, te.lineage, te.special_categories, te.source_organisation,
     NULL, NULL, NULL, NULL, NULL
   FROM records r
   LEFT JOIN unnest($2::text[], $3::bigint[]) AS held(stream_id, after) ON held.stream_id = r.stream_id
   JOIN timeline_entries te ON te.stream_id = r.stream_id AND te.position > coalesce(held.after, -1)
   ORDER BY part, occurred_at, position`,
);

/**
 * Every statement the read side runs, by what it is for (read-plans.int.spec.ts checks that each
 * reaches its rows through an index, so a read costs the same on a store of any size).
 */
export const READS = {
  chronology: CHRONOLOGY.text,
  /** The child a record belongs to now. */
  recordChild: 'SELECT child_key FROM subject_records WHERE stream_id = $1',
  /** The child holding an NHS number or UPN; current UPNs win over former ones. */
  identifierChild: `SELECT sr.child_key FROM subject_identifiers si JOIN subject_records sr ON sr.stream_id = si.stream_id
    WHERE si.kind = ANY($1::text[]) AND si.value = $2
    ORDER BY si.kind = 'former-upn', sr.first_seen_position LIMIT 1`,
  /** A merged key resolves to the child it became. */
  liveChild: 'SELECT coalesce(merged_into, child_key) AS child_key FROM children WHERE child_key = $1',
  /** A child's records, earliest first. */
  members:
    'SELECT stream_id FROM subject_records WHERE child_key = $1 ORDER BY first_seen_position, stream_id',
} as const;

/**
 * The read side of the timeline. Each answer is decided by the access policy the requester was
 * admitted under (entry by entry, with what was withheld and why) and noted for the access record
 * the access guard writes before the answer leaves.
 */
export class TimelineQueries {
  private readonly entries: StreamEntryCache<EntryRow>;
  /** Child key asked for -> the records it had at the last read (a hint: the read says which it has now). */
  private readonly recordHints = new LRUCache<string, readonly string[]>({ max: RECORD_HINTS });

  constructor(
    private readonly pool: Pool,
    private readonly breakGlass?: ActiveBreakGlass,
    private readonly notifier?: ChronologyReadNotifier,
    options: { readonly entryCache?: number } = {},
  ) {
    this.entries = new StreamEntryCache(options.entryCache ?? DEFAULT_ENTRY_CACHE);
  }

  /** Forgets the entries kept between reads: the read model now lives in another generation (decision 023). */
  forgetEntries(): void {
    this.entries.clear();
  }

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
    const { visible, ...read } = await this.readFor(requestedChildKey, requester);
    return {
      ...read,
      entries: visible.map(({ row, sharedUnder }) => ({ ...row.view, sharedUnder })),
    };
  }

  /**
   * timelineOf's answer as UTF-8 JSON, byte for byte, from each entry's JSON made once while the
   * entry is held (entry-json.ts): what the API sends.
   */
  async timelineJsonOf(requestedChildKey: string, requester: Requester): Promise<Buffer> {
    const { visible, ...read } = await this.readFor(requestedChildKey, requester);
    return answerJson(
      read,
      visible.map(({ row, sharedUnder }) => ({ view: row.view, sharedUnder })),
    );
  }

  /**
   * The chronology as timelineOf answers it, decided and recorded the same way, with each entry
   * as it is held between reads (no `sharedUnder`): for answers derived from the entries
   * (outcomes, decisions) that need not copy a thousand entries to drop what they add. The
   * entries are shared: never change them.
   */
  async entriesOf(
    requestedChildKey: string,
    requester: Requester,
  ): Promise<Omit<ChildTimeline, 'entries'> & { readonly entries: readonly EntryView[] }> {
    const { visible, ...read } = await this.readFor(requestedChildKey, requester);
    return { ...read, entries: visible.map(({ row }) => row.view) };
  }

  private async readFor(
    requestedChildKey: string,
    requester: Requester,
  ): Promise<
    Omit<ChildTimeline, 'entries'> & {
      readonly visible: readonly { readonly row: EntryRow; readonly sharedUnder: SharingBasis }[];
    }
  > {
    // One round trip for the chronology (break-glass alongside it); the CP-IS status is worked out
    // from the rows already here, so a read is at most three statements: this, the notification
    // (only for a protected child read from outside its authority) and the access record.
    const [chronology, requestedGrant] = await Promise.all([
      CHILD_KEY.test(requestedChildKey) ? this.chronologyOf(requestedChildKey) : undefined,
      CHILD_KEY.test(requestedChildKey)
        ? this.breakGlass?.active(requester.principal.userId, requestedChildKey)
        : undefined,
    ]);
    if (!chronology) throw new NotFoundError(`no child ${requestedChildKey}`);
    const { childKey, links, subjects, linkHistory, rows, merged } = chronology;
    // A merged key's grant is for the key asked about; the live child's own grant is looked up.
    const breakGlass =
      childKey === requestedChildKey
        ? requestedGrant
        : await this.breakGlass?.active(requester.principal.userId, childKey);
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
    const visible: { row: EntryRow; sharedUnder: SharingBasis }[] = [];
    const seenStreams = new Set<string>();
    const agreements = new Set<string>();
    rows.forEach((row, index) => {
      const decision = decisions[index];
      if (!decision.visible) return;
      seenStreams.add(row.streamId);
      if (decision.sharedUnder.basis === 'agreement') agreements.add(decision.sharedUnder.agreement);
      visible.push({ row, sharedUnder: decision.sharedUnder });
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
      status: protectionStatusFrom(
        rows.map((row) => ({
          streamId: row.streamId,
          agency: row.view.agency,
          type: row.view.type,
          occurredAt: row.view.occurredAt,
          ...(row.sourceOrganisation ? { sourceOrganisation: row.sourceOrganisation } : {}),
        })),
        subjects,
      ),
    });
    noteAccess(requester, {
      childKey,
      returned: visible.length,
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
      mergedChildKeys: merged,
      ...birthOf(shownSubjects),
      subjects: shownSubjects,
      links: links.filter(
        (link) => !withheldStreams.has(link.streamId) && !withheldStreams.has(link.linkedTo),
      ),
      linkHistory: linkHistory.filter(
        (entry) => !entry.subjects.some((subject) => withheldStreams.has(subject)),
      ),
      visible,
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
    const result = await this.pool.query<{ child_key: string }>(READS.recordChild, [streamId]);
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
    const result = await this.pool.query<{ stream_id: string }>(READS.members, [childKey]);
    return result.rows.map((row) => row.stream_id);
  }

  private async findChild(query: ChildIdentifierQuery): Promise<string | undefined> {
    if (query.type === 'record') {
      const result = await this.pool.query<{ child_key: string }>(READS.recordChild, [
        `${query.agency}-${query.value}`,
      ]);
      return result.rows[0]?.child_key;
    }
    const kinds = query.type === 'nhs-number' ? ['nhs-number'] : ['upn', 'former-upn'];
    // Linkage makes every record holding one identifier the same child; current UPNs win over former ones.
    const result = await this.pool.query<{ child_key: string }>(READS.identifierChild, [kinds, query.value]);
    return result.rows[0]?.child_key;
  }

  /** A merged child's key still finds the child it became. */
  private async resolveChild(childKey: string): Promise<string | undefined> {
    const result = await this.pool.query<{ child_key: string }>(READS.liveChild, [childKey]);
    return result.rows[0]?.child_key;
  }

  private hint(childKey: string, streamIds: readonly string[]): void {
    this.recordHints.set(childKey, streamIds);
  }

  /**
   * The whole chronology of the child the key names (a merged key resolves to the child it became),
   * in one statement: its records with their identifiers, the links in force, every identity event
   * about its records, its entries in order, and the keys merged into it. Undefined: no such child.
   */
  private async chronologyOf(requestedChildKey: string): Promise<Chronology | undefined> {
    // The first row (part 0) carries the child and its records, links, identity history and merged
    // keys as JSON; then one row per entry not held already (StreamEntryCache: only those above the
    // position held for each record). Entries stay rows: building them into one JSON value in
    // PostgreSQL and parsing it here costs twice the time for a long chronology.
    const held = this.entries.held(this.recordHints.get(requestedChildKey) ?? []);
    const result = await CHRONOLOGY.run(this.pool, [requestedChildKey, held.streamIds, held.after]);
    const [head, ...entries] = result.rows;
    if (!head || head.part !== 0) return undefined;
    const links = head.links.map(linkViewOf);
    const streamIds = head.subjects.map((subject) => subject.stream_id);
    const fresh = new Map<string, EntryRow[]>();
    for (const entry of entries) {
      const row = entryRowOf(entry);
      const list = fresh.get(row.streamId);
      if (list) list.push(row);
      else fresh.set(row.streamId, [row]);
    }
    this.hint(requestedChildKey, streamIds);
    return {
      childKey: head.child_key,
      links,
      subjects: subjectViewsOf(head.subjects, links),
      linkHistory: head.history.map(linkHistoryEntryOf),
      rows: this.entries.merge(streamIds, held, fresh),
      merged: head.merged,
    };
  }
}

interface SubjectRow {
  readonly stream_id: string;
  readonly agency: string;
  readonly record_id: string;
  readonly first_seen_position: number;
  readonly last_seen_position: number;
  readonly date_of_birth: string | null;
  readonly expected_date_of_birth: string | null;
  readonly identifiers: { kind: IdentifierKind; value: string }[];
}

interface LinkRow {
  readonly subject_a: string;
  readonly subject_b: string;
  readonly method: Exclude<LinkMethod, 'first-record'>;
  readonly evidence: Record<string, unknown>;
  readonly linked_by: Record<string, unknown>;
  readonly linked_at: string;
  readonly position: number;
  readonly subject: string | null;
}

interface HistoryRow {
  readonly position: number;
  readonly type: string;
  readonly subjects: string[];
  readonly data: Record<string, unknown> & { by: Record<string, unknown>; at: string };
}

interface EntryRecord {
  /** Epoch milliseconds. */
  readonly occurred_at: number;
  /** bigint: a string from pg. */
  readonly position: string;
  readonly stream_id: string;
  readonly agency: string;
  readonly type: string;
  readonly summary: string;
  readonly outcome_framework: string;
  readonly outcome_domain: string;
  readonly details: Record<string, unknown> & { occurredAt: string; kind: EntryKind };
  readonly lineage: Lineage;
  readonly special_categories: string[];
  readonly source_organisation: string | null;
}

/** One row of the chronology statement: the head (part 0) or an entry (part 1). */
type ChronologyPart = EntryRecord & {
  readonly part: 0 | 1;
  readonly child_key: string;
  readonly subjects: SubjectRow[];
  readonly links: LinkRow[];
  readonly history: HistoryRow[];
  readonly merged: string[];
};

interface Chronology {
  readonly childKey: string;
  readonly links: LinkView[];
  readonly subjects: SubjectView[];
  readonly linkHistory: LinkHistoryEntry[];
  readonly rows: EntryRow[];
  readonly merged: string[];
}

function linkViewOf(row: LinkRow): LinkView {
  // Said the way it was decided: the record the event was about, linked to the other.
  const streamId = row.subject ?? row.subject_a;
  return {
    streamId,
    linkedTo: streamId === row.subject_a ? row.subject_b : row.subject_a,
    method: row.method,
    evidence: row.evidence,
    by: row.linked_by,
    at: new Date(row.linked_at).toISOString(),
    linkedAtPosition: Number(row.position),
  };
}

function subjectViewsOf(rows: readonly SubjectRow[], links: readonly LinkView[]): SubjectView[] {
  const joined = joinedBy(
    rows.map((row) => ({ streamId: row.stream_id, firstSeenPosition: BigInt(row.first_seen_position) })),
    links.map((link) => ({
      a: link.streamId,
      b: link.linkedTo,
      position: BigInt(link.linkedAtPosition),
      method: link.method,
    })),
  );
  return rows.map((row) => ({
    streamId: row.stream_id,
    agency: row.agency,
    recordId: row.record_id,
    identifiers: row.identifiers,
    linkedBy: joined.get(row.stream_id)?.method ?? 'first-record',
    firstSeenPosition: Number(row.first_seen_position),
    lastSeenPosition: Number(row.last_seen_position),
    ...(row.date_of_birth ? { dateOfBirth: row.date_of_birth } : {}),
    ...(row.expected_date_of_birth ? { expectedDateOfBirth: row.expected_date_of_birth } : {}),
  }));
}

/** The birth dates the most recently updated record shown gives (one that gives any). */
function birthOf(subjects: readonly SubjectView[]): { dateOfBirth?: string; expectedDateOfBirth?: string } {
  const latest = (field: 'dateOfBirth' | 'expectedDateOfBirth') =>
    subjects
      .filter((subject) => subject[field] !== undefined)
      .reduce<SubjectView | undefined>(
        (best, subject) => (!best || subject.lastSeenPosition > best.lastSeenPosition ? subject : best),
        undefined,
      )?.[field];
  const dateOfBirth = latest('dateOfBirth');
  const expectedDateOfBirth = dateOfBirth ? undefined : latest('expectedDateOfBirth');
  return {
    ...(dateOfBirth ? { dateOfBirth } : {}),
    ...(expectedDateOfBirth ? { expectedDateOfBirth } : {}),
  };
}

function linkHistoryEntryOf(row: HistoryRow): LinkHistoryEntry {
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
}

function entryRowOf(row: EntryRecord): EntryRow {
  const { occurredAt, ...details } = row.details;
  const ref = { framework: row.outcome_framework, domain: row.outcome_domain };
  const label = outcomeDomainLabel(ref);
  return {
    position: Number(row.position),
    at: row.occurred_at,
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
}

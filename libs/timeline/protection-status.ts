import type { ClientBase, Pool } from 'pg';

/**
 * Whether a child is in CP-IS scope: on a child protection plan or looked after, now or in the
 * last 12 months (shared/domain/GOVERNANCE.md §1), and which local authority is responsible.
 * Read from the timeline read models (the social-care entries of the child's records), so the
 * answer follows identity links and merges exactly as the chronology does.
 */
export type ProtectionKind = 'child-protection-plan' | 'looked-after';

export interface ProtectionStatus {
  readonly kind: ProtectionKind;
  /** When the plan or the period of care started; absent when the chronology holds no start. */
  readonly since?: string;
  /** When it ended; absent while it lasts. */
  readonly endedAt?: string;
  /** LA code of the authority holding the plan or the care (the organisation of its latest entry). */
  readonly responsibleLocalAuthority: string;
  /** The child's social-care record ids that authority published, so it finds the child in its own system. */
  readonly recordIds: readonly string[];
}

/** How long after its end a plan or a period of care still puts the child in scope. */
export const PROTECTION_SCOPE_MONTHS = 12;

/** The social-care event types that open, continue and close a protection episode. */
const EPISODE_EVENTS: Readonly<Record<string, { kind: ProtectionKind; step: 'start' | 'continue' | 'end' }>> =
  {
    'social-care.child-protection-plan.started': { kind: 'child-protection-plan', step: 'start' },
    'social-care.child-protection-plan.reviewed': { kind: 'child-protection-plan', step: 'continue' },
    'social-care.child-protection-plan.ended': { kind: 'child-protection-plan', step: 'end' },
    'social-care.looked-after-episode.started': { kind: 'looked-after', step: 'start' },
    'social-care.looked-after-episode.changed': { kind: 'looked-after', step: 'continue' },
    'social-care.looked-after-review.held': { kind: 'looked-after', step: 'continue' },
    'social-care.looked-after-episode.ended': { kind: 'looked-after', step: 'end' },
  };

/** One social-care entry of the child that opens, continues or closes an episode, in time order. */
export interface EpisodeEntry {
  readonly type: string;
  readonly occurredAt: Date;
  /** LA code; entries without one cannot name a responsible authority and are left out. */
  readonly organisation: string;
}

export interface ProtectionEpisode {
  readonly kind: ProtectionKind;
  readonly since?: Date;
  readonly endedAt?: Date;
  readonly organisation: string;
}

/**
 * The episodes a child's entries describe, per kind: a start opens one, an end closes the open
 * one (or one whose start the chronology lacks), a review or change keeps one open. A review or
 * change before any start or end of its kind opens one without a known start (the plan began
 * before the LA published here); after an end it opens nothing, so a late review cannot keep a
 * closed episode in scope for ever. The authority is that of the latest entry folded in.
 */
export function episodesOf(entries: readonly EpisodeEntry[]): ProtectionEpisode[] {
  const episodes: ProtectionEpisode[] = [];
  const open = new Map<ProtectionKind, { since?: Date; organisation: string }>();
  const seen = new Set<ProtectionKind>();
  for (const entry of entries) {
    const meaning = EPISODE_EVENTS[entry.type];
    if (!meaning) continue;
    const current = open.get(meaning.kind);
    const first = !seen.has(meaning.kind);
    seen.add(meaning.kind);
    switch (meaning.step) {
      case 'start':
        if (current) episodes.push({ kind: meaning.kind, ...current, endedAt: entry.occurredAt });
        open.set(meaning.kind, { since: entry.occurredAt, organisation: entry.organisation });
        break;
      case 'continue':
        if (current || first)
          open.set(meaning.kind, { ...(current ?? {}), organisation: entry.organisation });
        break;
      case 'end':
        episodes.push({
          kind: meaning.kind,
          ...(current?.since ? { since: current.since } : {}),
          endedAt: entry.occurredAt,
          organisation: entry.organisation,
        });
        open.delete(meaning.kind);
        break;
    }
  }
  for (const [kind, episode] of open) episodes.push({ kind, ...episode });
  return episodes;
}

/** `now` minus PROTECTION_SCOPE_MONTHS calendar months. */
export function scopeStart(now: Date): Date {
  const start = new Date(now.getTime());
  start.setUTCMonth(start.getUTCMonth() - PROTECTION_SCOPE_MONTHS);
  return start;
}

/**
 * The episode that decides the status: one still open wins over one ended (the latest start
 * first), else the one ended last, if that was within the scope window. None: out of scope.
 */
export function decidingEpisode(
  episodes: readonly ProtectionEpisode[],
  now: Date,
): ProtectionEpisode | undefined {
  const time = (date: Date | undefined) => date?.getTime() ?? Number.NEGATIVE_INFINITY;
  const current = episodes
    .filter((episode) => episode.endedAt === undefined)
    .sort((a, b) => time(b.since) - time(a.since));
  if (current.length > 0) return current[0];
  const from = scopeStart(now).getTime();
  return episodes
    .filter((episode) => episode.endedAt !== undefined && episode.endedAt.getTime() >= from)
    .sort((a, b) => time(b.endedAt) - time(a.endedAt))[0];
}

/** One entry of the chronology, as the read path already holds it. */
export interface ChronologyEntry {
  readonly streamId: string;
  readonly agency: string;
  readonly type: string;
  /** ISO date-time as reported. */
  readonly occurredAt: string;
  readonly sourceOrganisation?: string;
}

/**
 * The same answer as protectionStatusOf, from the child's entries (in chronological order) and
 * records the timeline read has already fetched: no further query on the read path.
 */
export function protectionStatusFrom(
  entries: readonly ChronologyEntry[],
  records: readonly { readonly streamId: string; readonly agency: string; readonly recordId: string }[],
  now: Date = new Date(),
): ProtectionStatus | undefined {
  const relevant = entries.filter(
    (entry) =>
      entry.agency === 'social-care' &&
      EPISODE_EVENTS[entry.type] !== undefined &&
      entry.sourceOrganisation !== undefined &&
      new Date(entry.occurredAt).getTime() <= now.getTime(),
  );
  const episode = decidingEpisode(
    episodesOf(
      relevant.map((entry) => ({
        type: entry.type,
        occurredAt: new Date(entry.occurredAt),
        organisation: entry.sourceOrganisation as string,
      })),
    ),
    now,
  );
  if (!episode) return undefined;
  const streams = new Set(
    entries
      .filter((entry) => entry.sourceOrganisation === episode.organisation)
      .map((entry) => entry.streamId),
  );
  const recordIds = [
    ...new Set(
      records
        .filter((record) => record.agency === 'social-care' && streams.has(record.streamId))
        .map((record) => record.recordId),
    ),
  ].sort();
  return {
    kind: episode.kind,
    ...(episode.since ? { since: episode.since.toISOString() } : {}),
    ...(episode.endedAt ? { endedAt: episode.endedAt.toISOString() } : {}),
    responsibleLocalAuthority: episode.organisation,
    recordIds,
  };
}

/**
 * The child's CP-IS status at `now`, or undefined when the child is in no plan or care now and
 * was in none in the last 12 months. Entries dated after `now` do not count yet.
 */
export async function protectionStatusOf(
  db: Pool | ClientBase,
  childKey: string,
  now: Date = new Date(),
): Promise<ProtectionStatus | undefined> {
  const entries = await db.query<{ type: string; occurred_at: Date; source_organisation: string }>(
    `SELECT te.type, te.occurred_at, te.source_organisation
       FROM timeline_entries te JOIN subject_records sr ON sr.stream_id = te.stream_id
      WHERE sr.child_key = $1 AND te.agency = 'social-care' AND te.type = ANY($2::text[])
        AND te.source_organisation IS NOT NULL AND te.occurred_at <= $3
      ORDER BY te.occurred_at, te.position`,
    [childKey, Object.keys(EPISODE_EVENTS), now],
  );
  const episode = decidingEpisode(
    episodesOf(
      entries.rows.map((row) => ({
        type: row.type,
        occurredAt: row.occurred_at,
        organisation: row.source_organisation,
      })),
    ),
    now,
  );
  if (!episode) return undefined;
  const records = await db.query<{ record_id: string }>(
    `SELECT DISTINCT sr.record_id
       FROM subject_records sr JOIN timeline_entries te ON te.stream_id = sr.stream_id
      WHERE sr.child_key = $1 AND sr.agency = 'social-care' AND te.source_organisation = $2
      ORDER BY sr.record_id`,
    [childKey, episode.organisation],
  );
  return {
    kind: episode.kind,
    ...(episode.since ? { since: episode.since.toISOString() } : {}),
    ...(episode.endedAt ? { endedAt: episode.endedAt.toISOString() } : {}),
    responsibleLocalAuthority: episode.organisation,
    recordIds: records.rows.map((row) => row.record_id),
  };
}

import type { ClientBase } from 'pg';
import { forEachInSlices, type RecordedEvent } from '@throughline/event-store';
import {
  isIdentityEventType,
  orderedPair,
  parseIdentityEvent,
  recordsMovedBy,
  type IdentityEvent,
} from '@throughline/identity';
import { PreparedStatement, ThroughlineError } from '@throughline/platform';
import { componentsOf, readAgencyEvent } from '@throughline/timeline';
import type { Pseudonymiser } from './cut';
import {
  characteristicsOf,
  checkColumnValues,
  factOf,
  type CharacteristicsDraft,
  type FactDraft,
} from './facts';

export interface AnalysisBatchResult {
  readonly facts: number;
  /** Events that are not a valid contract (kept by position and type only). */
  readonly skipped: number;
}

interface PendingFact {
  readonly position: bigint;
  readonly recordRef: string;
  readonly agency: string;
  readonly type: string;
  readonly fact: FactDraft;
}

interface PendingCharacteristics {
  readonly recordRef: string;
  readonly position: bigint;
  readonly draft: CharacteristicsDraft;
}

type ReadEvent =
  | { readonly recorded: RecordedEvent; readonly identity: IdentityEvent }
  | { readonly recorded: RecordedEvent; readonly recordRef: string; readonly agency: string };

/** A batch's events read as contracts, pseudonymised and turned into facts: everything that needs no database. */
export interface PreparedAnalysisBatch {
  readonly events: number;
  readonly read: readonly ReadEvent[];
  readonly facts: readonly PendingFact[];
  readonly characteristics: readonly PendingCharacteristics[];
  readonly skipped: readonly { position: bigint; type: string; rules: string[] }[];
  readonly identityRefs: readonly string[];
}

/**
 * Reads a batch's events as contracts (the invalid kept by position and type only), keys their
 * records and builds their facts and characteristics: the part of a batch that depends on its
 * events alone, which the runner does while the batch before is applied when catching up.
 */
export async function prepareAnalysisBatch(
  batch: readonly RecordedEvent[],
  pseudonymiser: Pseudonymiser,
): Promise<PreparedAnalysisBatch> {
  const facts: PendingFact[] = [];
  const characteristics: PendingCharacteristics[] = [];
  const skipped: { position: bigint; type: string; rules: string[] }[] = [];
  const read: ReadEvent[] = [];
  const identityRefs = new Set<string>();
  await forEachInSlices(batch, (recorded) => {
    if (isIdentityEventType(recorded.type)) {
      const identity = readIdentityEvent(recorded);
      if (!identity) {
        skipped.push({ position: recorded.position, type: recorded.type, rules: ['identity-event'] });
        return;
      }
      for (const subject of recordsMovedBy(identity)) identityRefs.add(pseudonymiser.recordRef(subject));
      read.push({ recorded, identity });
      return;
    }
    const agencyEvent = readAgencyEvent(recorded, (event) => {
      const fact = factOf(event);
      const eventCharacteristics = characteristicsOf(event);
      // A value the typed columns would refuse fails here, so the event alone is validated and skipped (decision 034).
      checkColumnValues(fact, eventCharacteristics);
      return { fact, characteristics: eventCharacteristics };
    });
    if (!('ok' in agencyEvent)) {
      skipped.push({
        position: recorded.position,
        type: recorded.type,
        rules: [...new Set(agencyEvent.issues.map((issue) => `${issue.path} ${issue.rule}`))],
      });
      return;
    }
    const { event, value } = agencyEvent;
    const recordRef = pseudonymiser.recordRef(recorded.streamId);
    read.push({ recorded, recordRef, agency: event.source.agency });
    facts.push({
      position: recorded.position,
      recordRef,
      agency: event.source.agency,
      type: event.type,
      fact: value.fact,
    });
    characteristics.push({ recordRef, position: recorded.position, draft: value.characteristics });
  });
  return { events: batch.length, read, facts, characteristics, skipped, identityRefs: [...identityRefs] };
}

/**
 * Applies one prepared batch to the analysis model inside the runner's transaction. Children are
 * the connected components of the identity links, as in the timeline (decision 005), but every
 * record is held under its keyed reference and every child under its founder's pseudonym.
 * The records and links the batch touches are read once, changed in memory in store order and
 * written with set-based statements (decision 020): no round trip per event.
 */
export async function applyPreparedAnalysis(
  client: ClientBase,
  prepared: PreparedAnalysisBatch,
  pseudonymiser: Pseudonymiser,
): Promise<AnalysisBatchResult> {
  const { read, facts, characteristics, skipped } = prepared;
  const records = [...new Set(characteristics.map((c) => c.recordRef))];
  const state = await AnalysisBatchState.load(client, records, prepared.identityRefs);
  for (const item of read) {
    if ('identity' in item) state.applyIdentityEvent(item.identity, item.recorded, pseudonymiser);
    else state.track(item.recordRef, item.recorded, item.agency, pseudonymiser);
  }
  await state.write(client);
  // Each fact under its record's child as the batch leaves it (a merge or a split moves a record's facts with it).
  await flushFacts(client, facts, state);
  await updateCharacteristics(client, characteristics);
  await refreshChildren(client, state, characteristics);
  if (skipped.length > 0) {
    await client.query(
      `INSERT INTO analysis_skipped_events (position, type, rules)
       SELECT position, type, array(SELECT jsonb_array_elements_text(rules)) FROM unnest($1::bigint[], $2::text[], $3::jsonb[])
         AS t(position, type, rules)
       ON CONFLICT DO NOTHING`,
      [
        skipped.map((s) => s.position.toString()),
        skipped.map((s) => s.type),
        skipped.map((s) => JSON.stringify(s.rules)),
      ],
    );
  }
  return { facts: prepared.events - skipped.length, skipped: skipped.length };
}

interface RecordState {
  readonly ref: string;
  readonly own: string;
  pseudonym: string;
  readonly firstSeenPosition: bigint;
  /** Seen first by this batch: the row to insert (its agency). */
  readonly founded?: string;
  changed: boolean;
}

interface LinkState {
  readonly a: string;
  readonly b: string;
  readonly position: bigint;
  readonly added: boolean;
}

const pairKey = (a: string, b: string) => `${a}\u0000${b}`;

/** The statements every batch runs are prepared: parsed and planned once per connection (decision 028). */
const BATCH_RECORDS = new PreparedStatement<{
  record_ref: string;
  own_pseudonym: string;
  pseudonym: string;
  first_seen_position: string;
}>(
  'analysis-records',
  `SELECT record_ref, own_pseudonym, pseudonym, first_seen_position FROM analysis_records
  WHERE record_ref = ANY($1::text[])
     OR pseudonym = ANY(ARRAY(SELECT pseudonym FROM analysis_records WHERE record_ref = ANY($2::text[])))`,
);

/**
 * The records and links one batch touches: every record of the batch, and every record of a
 * child an identity event of the batch names (a merge or a split moves them all), with their links.
 */
class AnalysisBatchState {
  private readonly records = new Map<string, RecordState>();
  private readonly links = new Map<string, LinkState>();
  private readonly linksBefore = new Set<string>();
  private readonly touched = new Set<string>();

  static async load(
    client: ClientBase,
    refs: readonly string[],
    identityRefs: readonly string[],
  ): Promise<AnalysisBatchState> {
    const state = new AnalysisBatchState();
    if (refs.length === 0 && identityRefs.length === 0) return state;
    // `= ANY(ARRAY(…))` rather than `IN (SELECT …)`: two index conditions (a BitmapOr), not a sequential scan.
    const records = await BATCH_RECORDS.run(client, [refs, identityRefs]);
    for (const row of records.rows) {
      state.records.set(row.record_ref, {
        ref: row.record_ref,
        own: row.own_pseudonym,
        pseudonym: row.pseudonym,
        firstSeenPosition: BigInt(row.first_seen_position),
        changed: false,
      });
    }
    if (identityRefs.length === 0) return state;
    const links = await client.query<{ record_a: string; record_b: string; position: string }>(
      `SELECT record_a, record_b, position FROM analysis_links
       WHERE record_a = ANY($1::text[]) OR record_b = ANY($1::text[])`,
      [[...new Set([...state.records.keys(), ...identityRefs])]],
    );
    for (const row of links.rows) {
      const key = pairKey(row.record_a, row.record_b);
      state.links.set(key, {
        a: row.record_a,
        b: row.record_b,
        position: BigInt(row.position),
        added: false,
      });
      state.linksBefore.add(key);
    }
    return state;
  }

  track(recordRef: string, recorded: RecordedEvent, agency: string, pseudonymiser: Pseudonymiser): void {
    if (this.records.has(recordRef)) return;
    const own = pseudonymiser.pseudonymOf(recorded.streamId);
    this.records.set(recordRef, {
      ref: recordRef,
      own,
      pseudonym: own,
      firstSeenPosition: recorded.position,
      founded: agency,
      changed: false,
    });
  }

  /**
   * The children whose records changed in this batch: merged, split, or founded by it (a new
   * record is a new child until an identity event links it).
   */
  regrouped(): Set<string> {
    const pseudonyms = new Set(this.touched);
    for (const record of this.records.values())
      if (record.founded !== undefined) pseudonyms.add(record.pseudonym);
    return pseudonyms;
  }

  /** The child a record of the batch belongs to as the batch leaves it. */
  pseudonymOf(recordRef: string): string {
    const record = this.records.get(recordRef);
    if (!record) throw new Error('analysis model: a record of the batch was not loaded');
    return record.pseudonym;
  }

  /** Merges on a link or a confirmed match, splits on an unlink. */
  applyIdentityEvent(event: IdentityEvent, recorded: RecordedEvent, pseudonymiser: Pseudonymiser): void {
    const changed = ((): string[] => {
      switch (event.type) {
        case 'identity.subject.linked':
          return this.link(event.data.subject, event.data.linkedTo, recorded.position, pseudonymiser);
        case 'identity.match.confirmed':
          return this.link(event.data.subject, event.data.candidate, recorded.position, pseudonymiser);
        case 'identity.subject.unlinked':
          return this.split(pseudonymiser.recordRef(event.data.subject));
        case 'identity.match.proposed':
        case 'identity.match.rejected':
        case 'identity.conflict.flagged':
          return [];
        default:
          return assertNever(event);
      }
    })();
    for (const pseudonym of changed) this.touched.add(pseudonym);
  }

  private membersOf(pseudonym: string): RecordState[] {
    return [...this.records.values()].filter((record) => record.pseudonym === pseudonym);
  }

  /** Two records are one child: the child founded later joins the one founded first, facts and all. */
  private link(subject: string, other: string, position: bigint, pseudonymiser: Pseudonymiser): string[] {
    const [a, b] = orderedPair(pseudonymiser.recordRef(subject), pseudonymiser.recordRef(other));
    const key = pairKey(a, b);
    if (!this.links.has(key)) this.links.set(key, { a, b, position, added: true });
    const recordA = this.records.get(a);
    const recordB = this.records.get(b);
    // A record not seen, or one child already.
    if (!recordA || !recordB || recordA.pseudonym === recordB.pseudonym) return [];
    const founded = (pseudonym: string) =>
      this.membersOf(pseudonym)
        .map((record) => record.firstSeenPosition)
        .reduce((min, position) => (position < min ? position : min));
    const [survivor, merged] = [recordA.pseudonym, recordB.pseudonym].sort((x, y) =>
      founded(x) < founded(y) ? -1 : 1,
    );
    for (const record of this.membersOf(merged)) {
      record.pseudonym = survivor;
      record.changed = true;
    }
    return [survivor, merged];
  }

  /** The record leaves its child: its links go, and the child's records regroup by the links left, each part under its founder's pseudonym. */
  private split(recordRef: string): string[] {
    for (const [key, link] of this.links)
      if (link.a === recordRef || link.b === recordRef) this.links.delete(key);
    const record = this.records.get(recordRef);
    if (!record) return [];
    const members = this.membersOf(record.pseudonym);
    const memberRefs = new Set(members.map((member) => member.ref));
    const edges = [...this.links.values()]
      .filter((link) => memberRefs.has(link.a))
      .map((link) => ({ a: link.a, b: link.b, position: link.position, method: 'link' }));
    const components = componentsOf(
      members.map((member) => ({ streamId: member.ref, firstSeenPosition: member.firstSeenPosition })),
      edges,
    );
    const assigned: string[] = [];
    for (const component of components) {
      const pseudonym = (this.records.get(component[0].streamId) as RecordState).own;
      assigned.push(pseudonym);
      for (const { streamId } of component) {
        const member = this.records.get(streamId) as RecordState;
        if (member.pseudonym === pseudonym) continue;
        member.pseudonym = pseudonym;
        member.changed = true;
      }
    }
    return [...new Set([...members.map((member) => member.own), ...assigned])];
  }

  /** New records, moved records (their facts and ratings with them) and links: one statement per table and change. */
  async write(client: ClientBase): Promise<void> {
    const records = [...this.records.values()];
    const founded = records.filter((record) => record.founded !== undefined);
    if (founded.length > 0) {
      await client.query(
        `INSERT INTO analysis_records (record_ref, own_pseudonym, pseudonym, agency, first_seen_position)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
         ON CONFLICT DO NOTHING`,
        [
          founded.map((record) => record.ref),
          founded.map((record) => record.own),
          founded.map((record) => record.pseudonym),
          founded.map((record) => record.founded),
          founded.map((record) => record.firstSeenPosition.toString()),
        ],
      );
    }
    const moved = records.filter((record) => record.founded === undefined && record.changed);
    if (moved.length > 0) {
      await client.query(
        `WITH moved AS (
           UPDATE analysis_records r SET pseudonym = t.pseudonym
           FROM unnest($1::text[], $2::text[]) AS t(record_ref, pseudonym)
           WHERE r.record_ref = t.record_ref AND r.pseudonym <> t.pseudonym
         ), facts AS (
           UPDATE analysis_facts f SET pseudonym = t.pseudonym
           FROM unnest($1::text[], $2::text[]) AS t(record_ref, pseudonym)
           WHERE f.record_ref = t.record_ref AND f.pseudonym <> t.pseudonym
           RETURNING f.position, f.pseudonym
         )
         UPDATE analysis_ratings x SET child_number = o.first_seen_position
         FROM facts f JOIN analysis_records o ON o.own_pseudonym = f.pseudonym
         WHERE x.position = f.position`,
        [moved.map((record) => record.ref), moved.map((record) => record.pseudonym)],
      );
    }
    const gone = [...this.linksBefore].filter((key) => this.links.get(key)?.added !== false);
    if (gone.length > 0) {
      const pairs = gone.map((key) => key.split('\u0000'));
      await client.query(
        `DELETE FROM analysis_links l USING unnest($1::text[], $2::text[]) AS t(record_a, record_b)
         WHERE l.record_a = t.record_a AND l.record_b = t.record_b`,
        [pairs.map(([a]) => a), pairs.map(([, b]) => b)],
      );
    }
    const added = [...this.links.values()].filter((link) => link.added);
    if (added.length > 0) {
      await client.query(
        `INSERT INTO analysis_links (record_a, record_b, position)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])`,
        [
          added.map((link) => link.a),
          added.map((link) => link.b),
          added.map((link) => link.position.toString()),
        ],
      );
    }
  }
}

function readIdentityEvent(recorded: RecordedEvent): IdentityEvent | undefined {
  try {
    return parseIdentityEvent(recorded.type, recorded.data);
  } catch (error) {
    if (error instanceof ThroughlineError) return undefined;
    throw error;
  }
}

const INSERT_FACTS = new PreparedStatement(
  'analysis-insert-facts',
  `WITH written AS (
  INSERT INTO analysis_facts
    (position, record_ref, pseudonym, agency, event_type, on_day, start_day, end_day, code, framework, domain,
     scale, rating, scale_min, scale_max, academic_year, term, sessions_possible, sessions_missed, quantity,
     age_months, local_authority)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::date[],
                       $8::date[], $9::text[], $10::text[], $11::text[], $12::text[], $13::numeric[], $14::numeric[],
                       $15::numeric[], $16::text[], $17::text[], $18::int[], $19::int[], $20::int[], $21::int[],
                       $22::text[])
  ON CONFLICT (position) DO NOTHING
  RETURNING position, pseudonym, agency, event_type, on_day, code, rating, scale_min, scale_max
  )
  INSERT INTO analysis_ratings (position, child_number, on_day, agency, perspective, value)
  SELECT w.position, o.first_seen_position, w.on_day, w.agency, w.code,
         ((w.rating - w.scale_min) / (w.scale_max - w.scale_min) * 100)::float8
  FROM written w JOIN analysis_records o ON o.own_pseudonym = w.pseudonym
  WHERE w.event_type = 'outcome.observation.recorded' AND w.rating IS NOT NULL AND w.scale_max > w.scale_min`,
);

/**
 * The batch's facts, each under its record's child as the batch leaves it, and the
 * ratings among them in `analysis_ratings` on 0–100 (migration 006) under their child's number
 * (migration 007: the position its founding record was first seen at): one statement. A fact
 * already held (a duplicate) is not returned by the insert, so its rating is not written twice.
 */
async function flushFacts(
  client: ClientBase,
  facts: readonly PendingFact[],
  state: AnalysisBatchState,
): Promise<void> {
  if (facts.length === 0) return;
  const column = <T>(pick: (fact: PendingFact) => T | undefined): (T | null)[] =>
    facts.map((fact) => pick(fact) ?? null);
  await INSERT_FACTS.run(client, [
    column((f) => f.position.toString()),
    column((f) => f.recordRef),
    column((f) => state.pseudonymOf(f.recordRef)),
    column((f) => f.agency),
    column((f) => f.type),
    column((f) => f.fact.onDay),
    column((f) => f.fact.startDay),
    column((f) => f.fact.endDay),
    column((f) => f.fact.code),
    column((f) => f.fact.framework),
    column((f) => f.fact.domain),
    column((f) => f.fact.scale),
    column((f) => f.fact.rating),
    column((f) => f.fact.scaleMin),
    column((f) => f.fact.scaleMax),
    column((f) => f.fact.academicYear),
    column((f) => f.fact.term),
    column((f) => f.fact.sessionsPossible),
    column((f) => f.fact.sessionsMissed),
    column((f) => f.fact.quantity),
    column((f) => f.fact.ageMonths),
    column((f) => f.fact.localAuthority),
  ]);
}

const UPDATE_RECORDS = new PreparedStatement(
  'analysis-update-records',
  `UPDATE analysis_records r SET
    birth_month = COALESCE(t.birth_month, r.birth_month), unborn = COALESCE(t.unborn, r.unborn),
    birth_position = COALESCE(t.birth_position, r.birth_position),
    sex = COALESCE(t.sex, r.sex), sex_position = COALESCE(t.sex_position, r.sex_position),
    ethnicity_group = COALESCE(t.ethnicity_group, r.ethnicity_group),
    ethnicity_position = COALESCE(t.ethnicity_position, r.ethnicity_position),
    sen_status = CASE WHEN t.sen_status IS NOT NULL AND (r.sen_day IS NULL OR t.sen_day >= r.sen_day)
                      THEN t.sen_status ELSE r.sen_status END,
    sen_position = CASE WHEN t.sen_status IS NOT NULL AND (r.sen_day IS NULL OR t.sen_day >= r.sen_day)
                        THEN t.sen_position ELSE r.sen_position END,
    sen_day = CASE WHEN t.sen_status IS NOT NULL AND (r.sen_day IS NULL OR t.sen_day >= r.sen_day)
                   THEN t.sen_day ELSE r.sen_day END,
    local_authority = COALESCE(t.local_authority, r.local_authority),
    la_position = COALESCE(t.la_position, r.la_position),
    postcode_district = COALESCE(t.postcode_district, r.postcode_district),
    postcode_position = COALESCE(t.postcode_position, r.postcode_position)
  FROM unnest($1::text[], $2::date[], $3::boolean[], $4::bigint[], $5::text[], $6::bigint[], $7::text[], $8::bigint[],
              $9::text[], $10::date[], $11::bigint[], $12::text[], $13::bigint[], $14::text[], $15::bigint[])
    AS t(record_ref, birth_month, unborn, birth_position, sex, sex_position, ethnicity_group, ethnicity_position,
         sen_status, sen_day, sen_position, local_authority, la_position, postcode_district, postcode_position)
  WHERE r.record_ref = t.record_ref`,
);

/**
 * Each record keeps the latest of each characteristic its events gave (by store position; SEN
 * status by the day it held from), one statement per batch.
 */
async function updateCharacteristics(
  client: ClientBase,
  items: readonly PendingCharacteristics[],
): Promise<void> {
  const latest = new Map<
    string,
    { position: bigint; draft: Record<string, unknown>; positions: Record<string, bigint> }
  >();
  for (const { recordRef, position, draft } of items) {
    const seen = latest.get(recordRef) ?? { position, draft: {}, positions: {} };
    for (const [field, value] of Object.entries(draft)) {
      if (value === undefined) continue;
      if (field === 'senDay' || field === 'senStatus') continue;
      seen.draft[field] = value;
      seen.positions[field] = position;
    }
    const heldFrom = seen.draft.senDay as string | undefined;
    if (draft.senStatus && draft.senDay && (!heldFrom || draft.senDay >= heldFrom)) {
      seen.draft.senStatus = draft.senStatus;
      seen.draft.senDay = draft.senDay;
      seen.positions.senStatus = position;
    }
    latest.set(recordRef, seen);
  }
  if (latest.size === 0) return;
  const rows = [...latest.entries()];
  const value = (field: string) =>
    rows.map(([, row]) => (row.draft[field] as string | boolean | undefined) ?? null);
  const at = (field: string) => rows.map(([, row]) => row.positions[field]?.toString() ?? null);
  await UPDATE_RECORDS.run(client, [
    rows.map(([ref]) => ref),
    value('birthMonth'),
    value('unborn'),
    at('birthMonth'),
    value('sex'),
    at('sex'),
    value('ethnicityGroup'),
    at('ethnicityGroup'),
    value('senStatus'),
    value('senDay'),
    at('senStatus'),
    value('localAuthority'),
    at('localAuthority'),
    value('postcodeDistrict'),
    at('postcodeDistrict'),
  ]);
}

/**
 * Recomputes the children named by a CTE `targets`: each characteristic from the record that gave
 * it last (SEN status: the latest by the day it held from); a child left without records (merged
 * into another) goes. Each child is aggregated by an index probe on its pseudonym (the lateral
 * join): grouped as a join, the planner merged the batch's few hundred children with a full scan
 * of `analysis_records` in pseudonym order, which made every batch cost in proportion to the model
 * (0.4 s a batch at 160,000 records) and a rebuild quadratic.
 */
const RECOMPUTE_TARGETS = `gone AS (
    DELETE FROM analysis_children c USING targets t
    WHERE c.pseudonym = t.pseudonym
      AND NOT EXISTS (SELECT 1 FROM analysis_records r WHERE r.pseudonym = t.pseudonym)
  )
  INSERT INTO analysis_children
    (pseudonym, child_number, birth_month, sex, ethnicity_group, sen_status, local_authority, postcode_district,
     agencies)
  SELECT t.pseudonym, o.first_seen_position, c.*
  FROM targets t
  JOIN analysis_records o ON o.own_pseudonym = t.pseudonym
  CROSS JOIN LATERAL (
    SELECT (array_agg(r.birth_month ORDER BY r.birth_position DESC) FILTER (WHERE r.birth_month IS NOT NULL))[1],
           (array_agg(r.sex ORDER BY r.sex_position DESC) FILTER (WHERE r.sex IS NOT NULL))[1],
           (array_agg(r.ethnicity_group ORDER BY r.ethnicity_position DESC) FILTER (WHERE r.ethnicity_group IS NOT NULL))[1],
           (array_agg(r.sen_status ORDER BY r.sen_day DESC, r.sen_position DESC) FILTER (WHERE r.sen_status IS NOT NULL))[1],
           (array_agg(r.local_authority ORDER BY r.la_position DESC) FILTER (WHERE r.local_authority IS NOT NULL))[1],
           (array_agg(r.postcode_district ORDER BY r.postcode_position DESC) FILTER (WHERE r.postcode_district IS NOT NULL))[1],
           array_agg(DISTINCT r.agency ORDER BY r.agency)
    FROM analysis_records r WHERE r.pseudonym = t.pseudonym
    HAVING count(*) > 0
  ) c
  ON CONFLICT (pseudonym) DO UPDATE SET
    birth_month = excluded.birth_month, sex = excluded.sex, ethnicity_group = excluded.ethnicity_group,
    sen_status = excluded.sen_status, local_authority = excluded.local_authority,
    postcode_district = excluded.postcode_district, agencies = excluded.agencies`;

/** The given children recomputed from their records. */
const RECOMPUTE_CHILDREN = new PreparedStatement(
  'analysis-recompute-children',
  `WITH targets AS (SELECT DISTINCT unnest($1::text[]) AS pseudonym), ${RECOMPUTE_TARGETS}`,
);

/**
 * A batch's children in one statement. Those of `carried` ($1–$6) whose records stayed as they
 * were: each characteristic the batch gave becomes the child's, and a row this leaves as it was is
 * not written. Those of $7 are recomputed from their records, and so is a carried child without a
 * row (none, while every child with records has one). The two sets are disjoint, so no row is
 * changed twice.
 */
const REFRESH_CHILDREN = new PreparedStatement(
  'analysis-refresh-children',
  `WITH carry AS (
    SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::text[], $6::text[])
      AS t(pseudonym, birth_month, sex, ethnicity_group, local_authority, postcode_district)
  ), carried AS (
    UPDATE analysis_children c SET
      birth_month = COALESCE(t.birth_month, c.birth_month), sex = COALESCE(t.sex, c.sex),
      ethnicity_group = COALESCE(t.ethnicity_group, c.ethnicity_group),
      local_authority = COALESCE(t.local_authority, c.local_authority),
      postcode_district = COALESCE(t.postcode_district, c.postcode_district)
    FROM carry t
    WHERE c.pseudonym = t.pseudonym
      AND (c.birth_month, c.sex, c.ethnicity_group, c.local_authority, c.postcode_district) IS DISTINCT FROM
          (COALESCE(t.birth_month, c.birth_month), COALESCE(t.sex, c.sex), COALESCE(t.ethnicity_group, c.ethnicity_group),
           COALESCE(t.local_authority, c.local_authority), COALESCE(t.postcode_district, c.postcode_district))
  ), targets AS (
    SELECT unnest($7::text[]) AS pseudonym
    UNION
    SELECT t.pseudonym FROM carry t WHERE NOT EXISTS (SELECT 1 FROM analysis_children c WHERE c.pseudonym = t.pseudonym)
  ), ${RECOMPUTE_TARGETS}`,
);

/** The characteristics a child row holds that a record's latest event decides (SEN status is decided by day). */
const CARRIED = ['birthMonth', 'sex', 'ethnicityGroup', 'localAuthority', 'postcodeDistrict'] as const;

/**
 * Brings the children the batch touched up to date, in one statement (decision 032). A child whose
 * records changed (merged, split, founded) is recomputed from its records, as is one given an SEN
 * status (the latest by day, not by event). Any other child only takes the characteristics its
 * records' events gave: events are applied in store order, so a characteristic given by this
 * batch is the latest any record of the child gave — the value a recompute would pick — and the
 * others stay.
 */
async function refreshChildren(
  client: ClientBase,
  state: AnalysisBatchState,
  characteristics: readonly PendingCharacteristics[],
): Promise<void> {
  const recompute = state.regrouped();
  const carried = new Map<string, Partial<Record<(typeof CARRIED)[number], string>>>();
  for (const { recordRef, draft } of characteristics) {
    const pseudonym = state.pseudonymOf(recordRef);
    if (draft.senStatus !== undefined) recompute.add(pseudonym);
    if (recompute.has(pseudonym)) continue;
    const child = carried.get(pseudonym) ?? {};
    for (const field of CARRIED) if (draft[field] !== undefined) child[field] = draft[field];
    carried.set(pseudonym, child);
  }
  for (const pseudonym of recompute) carried.delete(pseudonym);
  if (carried.size === 0 && recompute.size === 0) return;
  const rows = [...carried];
  const column = (field: (typeof CARRIED)[number]) => rows.map(([, child]) => child[field] ?? null);
  await REFRESH_CHILDREN.run(client, [
    rows.map(([pseudonym]) => pseudonym),
    ...CARRIED.map(column),
    [...recompute],
  ]);
}

/** Recomputes the given children from their records; a child without records goes. */
export async function recomputeChildren(client: ClientBase, pseudonyms: readonly string[]): Promise<void> {
  if (pseudonyms.length > 0) await RECOMPUTE_CHILDREN.run(client, [pseudonyms]);
}

function assertNever(value: never): never {
  throw new Error(`unhandled identity event ${JSON.stringify(value)}`);
}

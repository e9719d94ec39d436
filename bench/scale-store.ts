import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { streamIdOf } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import { DEMO_COHORT_OPTIONS, generateCohort } from '@throughline/synthetic';
import { recordedAppend } from '@throughline/testing';
import { TemplateCopier } from './scale-copies';
import { elapsedMs, perSecond } from './stats';

/**
 * The scale stage's store (issue 16 item 5): a template cohort from the synthetic generator,
 * copied with fresh identifiers (./scale-copies.ts) and written by COPY straight into the event
 * store's own tables (`events`, `streams`) of a database of the stage's own, as the recorder's
 * appends would have left them: positions in order, each stream's revisions from 0, lineage
 * metadata beside each event. Copies are interleaved event by event (the template's i-th event
 * of every copy, then the (i+1)-th), so the store runs forward in time as a real one does.
 */

/** Not the demo's nor the other stages' seed. */
export const SCALE_SEED = 16_050_001;
/** Children per template copy: well under the generator's 999 UPNs per school and entry year. */
export const TEMPLATE_CHILDREN = 2_000;
const ROWS_PER_CHUNK = 2_000;

export interface ScaleStore {
  readonly children: number;
  readonly copies: number;
  readonly templateChildren: number;
  readonly templateEvents: number;
  readonly events: number;
  readonly streams: number;
  readonly generateMs: number;
  /** The COPY of events and streams, the sequence moved on and the tables analysed. */
  readonly copyMs: number;
  readonly copyEventsPerSecond: number;
  readonly meanDataBytes: number;
}

interface TemplateRow {
  readonly streamId: string;
  readonly revision: number;
  readonly eventId: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

/** COPY text format: backslash, newline, carriage return and tab escaped. */
function copyField(value: string): string {
  return value.replace(/[\\\n\r\t]/g, (character) =>
    character === '\\' ? '\\\\' : character === '\n' ? '\\n' : character === '\r' ? '\\r' : '\\t',
  );
}

function templateRows(children: number): TemplateRow[] {
  const cohort = generateCohort({ ...DEMO_COHORT_OPTIONS, seed: SCALE_SEED, children });
  const revisions = new Map<string, number>();
  return cohort.events.map((event) => {
    const streamId = streamIdOf(event);
    const revision = revisions.get(streamId) ?? 0;
    revisions.set(streamId, revision + 1);
    const append = recordedAppend(event).events[0];
    return {
      streamId,
      revision,
      eventId: event.eventId,
      type: event.type,
      data: JSON.stringify(event),
      metadata: JSON.stringify(append.metadata),
    };
  });
}

/**
 * Builds the store into `ownerUrl`'s database (created and migrated by the event store's own
 * code first): at least `children` children, as whole copies of the template.
 */
export async function buildScaleStore(
  ownerUrl: string,
  pool: Pool,
  children: number,
  say: (message: string) => void,
): Promise<ScaleStore> {
  // The store's own schema, exactly as the apps migrate it.
  await (await PostgresEventStore.create({ connectionString: ownerUrl })).close();
  const templateChildren = Math.min(TEMPLATE_CHILDREN, children);
  const copies = Math.ceil(children / templateChildren);
  const generating = process.hrtime.bigint();
  const template = templateRows(templateChildren);
  const generateMs = elapsedMs(generating);
  const copier = new TemplateCopier(
    template.flatMap((row) => [row.data, row.metadata]),
    templateChildren,
    copies,
  );
  const total = template.length * copies;
  say(
    `  template: ${templateChildren} children, ${template.length} events (generated in ${(generateMs / 1000).toFixed(1)} s); ` +
      `${copies} copies: ${total} events`,
  );

  let dataBytes = 0;
  function* eventChunks(): Generator<string> {
    let lines: string[] = [];
    let position = 0;
    let nextReport = 500_000;
    for (const row of template) {
      for (let copy = 0; copy < copies; copy++) {
        position++;
        const data = copier.copy(row.data, copy);
        dataBytes += Buffer.byteLength(data);
        const eventId = copier.copy(row.eventId, copy);
        lines.push(
          `${position}\t${copyField(copier.copy(row.streamId, copy))}\t${row.revision}\t${eventId}\t` +
            `${copyField(row.type)}\t${copyField(data)}\t${copyField(copier.copy(row.metadata, copy))}\n`,
        );
        if (lines.length >= ROWS_PER_CHUNK) {
          yield lines.join('');
          lines = [];
        }
        if (position >= nextReport) {
          say(`  … ${position} of ${total} events copied`);
          nextReport += 500_000;
        }
      }
    }
    if (lines.length > 0) yield lines.join('');
  }
  function* streamChunks(): Generator<string> {
    const last = new Map<string, number>();
    for (const row of template) last.set(row.streamId, row.revision);
    let lines: string[] = [];
    for (const [streamId, revision] of last) {
      for (let copy = 0; copy < copies; copy++) {
        lines.push(`${copyField(copier.copy(streamId, copy))}\t${revision}\n`);
        if (lines.length >= ROWS_PER_CHUNK) {
          yield lines.join('');
          lines = [];
        }
      }
    }
    if (lines.length > 0) yield lines.join('');
  }

  const copying = process.hrtime.bigint();
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    await pipeline(
      Readable.from(eventChunks()),
      client.query(
        copyFrom('COPY events (position, stream_id, revision, event_id, type, data, metadata) FROM STDIN'),
      ),
    );
    await pipeline(
      Readable.from(streamChunks()),
      client.query(copyFrom('COPY streams (stream_id, revision) FROM STDIN')),
    );
    await client.query("SELECT setval('events_position_seq', $1)", [total]);
    await client.query('COMMIT');
  } catch (error) {
    broken = true; // a COPY cut short leaves the connection mid-protocol
    throw error;
  } finally {
    client.release(broken);
  }
  await pool.query('ANALYZE events, streams');
  const copyMs = elapsedMs(copying);
  const counted = await pool.query<{ events: string; streams: string }>(
    'SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM streams) AS streams',
  );
  const events = Number(counted.rows[0].events);
  if (events !== total) throw new Error(`the scale store holds ${events} events, not the ${total} copied`);
  return {
    children: templateChildren * copies,
    copies,
    templateChildren,
    templateEvents: template.length,
    events,
    streams: Number(counted.rows[0].streams),
    generateMs,
    copyMs,
    copyEventsPerSecond: perSecond(events, copyMs),
    meanDataBytes: dataBytes / total,
  };
}

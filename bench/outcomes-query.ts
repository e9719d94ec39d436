import type { Pool } from 'pg';
import type { AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import { buildEvent, freshNhsNumber, freshRecordId, freshUpn, recordedAppend } from '@throughline/testing';
import { lookupChildKey, type ReaderHeaders } from './e2e-latency';
import { waitForReadModelsAtHead } from './progress';
import { readInOwnProcess } from './read-client';
import { elapsedMs, percentile } from './stats';

/**
 * Outcomes and decisions are derived per request from the entries the reader may see (decision
 * 015): this measures that derivation end to end over HTTP for one child with a long history
 * (1,000 entries: ratings from three perspectives, decisions with expected outcomes and their
 * reviews, practitioners' accounts), beside the plain timeline read of the same child.
 */

export const BUSY_CHILD_ENTRIES = 1_000;

const CARE_SOURCE = { agency: 'social-care' as const, system: 'bench-case-system', organisation: '991' };

const dateOn = (start: string, days: number): string => {
  const at = new Date(`${start}T00:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().slice(0, 10);
};

/**
 * One child known to children's services (so the bench's reader, the demo social worker, sees
 * every entry as its own organisation's) with `count` entries over about eight years.
 */
export function busyChildEvents(count = BUSY_CHILD_ENTRIES): AgencyEvent[] {
  const subject = {
    recordId: freshRecordId('bench-case'),
    nhsNumber: freshNhsNumber(),
    upn: freshUpn(),
    dateOfBirth: '2012-03-14',
  };
  const events: AgencyEvent[] = [];
  const decisions: { eventId: string; decidedOn: string }[] = [];
  for (let index = 0; events.length < count; index++) {
    const on = dateOn('2017-09-01', Math.floor(index * 2.9));
    const at = `${on}T10:00:00Z`;
    const kind = index % 10;
    if (kind === 0) {
      const reviewDate = dateOn(on, 90);
      const decision = buildEvent('practice.decision.recorded', {
        occurredAt: at,
        source: CARE_SOURCE,
        subject,
        data: {
          decidedOn: on,
          reviewDate,
          team: `Assessment team ${(index % 3) + 1}`,
          expectedOutcomes: [
            {
              framework: 'signs-of-safety',
              domain: 'safety',
              lookFor: 'Bench: everyone scales at 6 or above.',
            },
            {
              framework: 'ecm',
              domain: 'enjoy-and-achieve',
              lookFor: 'Bench: attending and settled in class.',
            },
          ],
        },
      });
      decisions.push({ eventId: decision.eventId, decidedOn: on });
      events.push(decision);
    } else if (kind === 5 && decisions.length > 0) {
      const reviewed = decisions[decisions.length - 1];
      events.push(
        buildEvent('practice.decision.reviewed', {
          occurredAt: at,
          source: CARE_SOURCE,
          subject,
          data: { decisionId: reviewed.eventId, reviewedOn: on, nextReviewDate: dateOn(on, 90) },
        }),
      );
    } else {
      const perspective = (['professional', 'family', 'child'] as const)[index % 3];
      const rated = kind !== 9;
      events.push(
        buildEvent('outcome.observation.recorded', {
          occurredAt: at,
          source: CARE_SOURCE,
          subject,
          data: {
            framework: kind % 2 === 0 ? 'signs-of-safety' : 'ecm',
            domain: kind % 2 === 0 ? 'safety' : 'enjoy-and-achieve',
            perspective,
            observerRole:
              perspective === 'professional'
                ? 'social worker'
                : perspective === 'family'
                  ? 'mother'
                  : 'child',
            ...(perspective === 'professional' ? { observerAgency: 'social-care' as const } : {}),
            observedOn: on,
            narrative: `Bench: ${perspective} account ${index}.`,
            ...(rated
              ? {
                  rating:
                    kind % 2 === 0
                      ? { scale: 'sos-safety', value: index % 11, min: 0, max: 10 }
                      : { scale: 'journey-of-change', value: (index % 10) + 1, min: 1, max: 10 },
                }
              : { rating: undefined }),
            confidence: 'medium',
          },
        }),
      );
    }
  }
  return events;
}

export interface QueryLatencies {
  /**
   * The first read of the child after the projection took it in (outcomes): its chronology is
   * read and parsed from the read model; the reads after it find the child's entries held between
   * reads (libs/timeline entry cache) and fetch only what is new, as a page's second and third
   * calls and the next reader's do.
   */
  readonly outcomesFirstRead: number;
  readonly outcomesP99: number;
  readonly decisionsP99: number;
  readonly timelineP99: number;
  readonly outcomesP50: number;
  readonly decisionsP50: number;
  readonly timelineP50: number;
  readonly reads: number;
  readonly entries: number;
}

/**
 * Appends the busy child's events to the store (as the recorder would), waits until the
 * projection has them, then reads its timeline, outcomes and decisions `reads` times each in
 * turn (after a warm-up), one request at a time.
 */
export async function measureOutcomeQueries(
  databaseUrl: string,
  pool: Pool,
  projectionUrl: string,
  options: {
    readonly projectionName: string;
    readonly reader: () => Promise<ReaderHeaders>;
    readonly reads: number;
    readonly timeoutMs: number;
  },
): Promise<QueryLatencies> {
  const events = busyChildEvents();
  const store = await PostgresEventStore.create({ connectionString: databaseUrl });
  try {
    for (let start = 0; start < events.length; start += 100)
      await store.appendMany(events.slice(start, start + 100).map((event) => recordedAppend(event)));
  } finally {
    await store.close();
  }
  // Every read model has taken the child in (its records linked, its facts in the analysis
  // model) before a read is timed: the figure is the read's, not the read's beside the intake.
  await waitForReadModelsAtHead(pool, options.projectionName, {
    timeoutMs: options.timeoutMs,
    intervalMs: 100,
    stage: 'outcomes.query (the read models taking in the busy child)',
  });
  const reader = await options.reader();
  const childKey = await lookupChildKey(projectionUrl, events[0], reader);
  const read = async (path: string): Promise<number> => {
    const since = process.hrtime.bigint();
    const response = await fetch(`${projectionUrl}/v1/children/${childKey}/${path}`, { headers: reader });
    const body = await response.text();
    const took = elapsedMs(since);
    if (!response.ok)
      throw new Error(`${path} of the busy child answered ${response.status}: ${body.slice(0, 300)}`);
    return took;
  };
  const outcomesFirstRead = await read('outcomes?framework=ecm');
  const answer = await fetch(`${projectionUrl}/v1/children/${childKey}/timeline`, { headers: reader });
  const entries = ((await answer.json()) as { entries?: unknown[] }).entries?.length ?? 0;
  if (entries < BUSY_CHILD_ENTRIES)
    throw new Error(`the busy child's timeline lists ${entries} entries, not ${BUSY_CHILD_ENTRIES}`);
  // Timed from a process of its own (bench/read-client.ts): not beside the bench's own heap.
  const paths = ['timeline', 'outcomes?framework=ecm', 'decisions'].map(
    (path) => `/v1/children/${childKey}/${path}`,
  );
  const {
    samples: [timeline, outcomes, decisions],
  } = await readInOwnProcess(
    { base: projectionUrl, headers: reader, paths, warmups: 10, rounds: options.reads },
    options.timeoutMs,
  );
  const samples = { timeline, outcomes, decisions };
  return {
    outcomesFirstRead,
    outcomesP99: percentile(samples.outcomes, 99),
    decisionsP99: percentile(samples.decisions, 99),
    timelineP99: percentile(samples.timeline, 99),
    outcomesP50: percentile(samples.outcomes, 50),
    decisionsP50: percentile(samples.decisions, 50),
    timelineP50: percentile(samples.timeline, 50),
    reads: options.reads,
    entries,
  };
}

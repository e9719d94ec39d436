import type { Pool } from 'pg';
import {
  AnalysisProjector,
  AnalysisQueries,
  controlResult,
  DisclosureRefusedError,
  MARGIN_TOTAL,
  migrateAnalysis,
  MEASURES,
  type AnalysisQuery,
  type MeasureDefinition,
} from '@throughline/analysis';
import { PostgresEventStore } from '@throughline/event-store';
import { IdentityLinker, migrateIdentity } from '@throughline/identity';
import { createPool } from '@throughline/platform';
import { createTestDatabase, recordedAppend, type TestDatabase } from '@throughline/testing';
import { ANALYST_EXAMPLE_CHILDREN, DEMO_COHORT_OPTIONS, generateCohort } from '@throughline/synthetic';

/**
 * Issue 15 item 7: the synthetic cohort supports the analysts' measures. The cohort of the
 * README's analyst example (DEMO_CHILDREN=ANALYST_EXAMPLE_CHILDREN, the demo's seed and `now`)
 * goes through the store, the identity linker and the analysis model as `npm start` feeds it;
 * each measure of the catalogue is then asked its headline question (by financial year, or by
 * term around the aligning event) and put through disclosure control with the default rules.
 * Most measures must show most of their cells of the recent years.
 *
 * Opt-in, as the bench is: thousands of children through the linker and the analysis model take
 * minutes (5,000 children, 340,783 events: 521 s on two cores beside a benchmark).
 * ANALYSIS_SUPPORT_CHILDREN=5000 (or any size) runs it.
 */

const ASKED = process.env.ANALYSIS_SUPPORT_CHILDREN;
const CHILDREN = Number(ASKED || ANALYST_EXAMPLE_CHILDREN);
const KEY = 'synthetic-analysis-support-key-0123';
const APPEND_CHUNK = 2_000;
const SETTLE_MS = 3_300_000;

let database: TestDatabase;
let store: PostgresEventStore;
let pool: Pool;
let linker: IdentityLinker;
let projector: AnalysisProjector;
let queries: AnalysisQueries;
const timings: string[] = [];

const describeWhenAsked = ASKED ? describe : describe.skip;

describeWhenAsked(
  `a synthetic cohort of ${CHILDREN} children, through the analysis model and disclosure control`,
  () => {
    beforeAll(async () => {
      database = await createTestDatabase('tl_synthetic_analysis');
      store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
      pool = createPool(database.url);
      await migrateIdentity(pool);
      await migrateAnalysis(pool);
      let started = Date.now();
      const lap = (what: string) => {
        timings.push(`${what} ${Math.round((Date.now() - started) / 1000)} s`);
        started = Date.now();
      };
      const { events } = generateCohort({ ...DEMO_COHORT_OPTIONS, children: CHILDREN });
      lap(`${events.length} events generated`);
      for (let from = 0; from < events.length; from += APPEND_CHUNK)
        await store.appendMany(events.slice(from, from + APPEND_CHUNK).map(recordedAppend));
      lap('stored');
      linker = new IdentityLinker({ pool, store });
      await linker.start();
      projector = new AnalysisProjector({ pool, store, pseudonymKey: KEY, batchSize: 2_000 });
      await projector.start();
      // Until the linker adds nothing more and the analysis model has applied everything.
      for (let head = await store.headPosition(); ;) {
        await linker.waitForPosition(head, SETTLE_MS);
        await projector.waitForPosition(head, SETTLE_MS);
        const now = await store.headPosition();
        if (now === head) break;
        head = now;
      }
      lap('linked and modelled');
      queries = new AnalysisQueries(pool);
    }, 3_600_000);

    afterAll(async () => {
      await projector?.stop();
      await linker?.stop();
      await store?.close();
      await pool?.end();
      await database?.drop();
    });

    /** A measure's headline question: by financial year where it offers it, else by relative term. */
    function headline(measure: MeasureDefinition): AnalysisQuery {
      const byYear = measure.periods.includes('financial-year');
      return {
        measure: measure.id,
        cohort: {},
        groupBy: byYear ? ['period'] : [],
        period: byYear ? 'financial-year' : measure.periods[0],
      };
    }

    /**
     * The five complete financial years before the demo's `now` (1 November 2026): the window a
     * local authority's published time series shows (LAIT's five years), and the years a cohort
     * born from 2011 has grown into. Earlier years hold the cohort as infants and are thin.
     */
    const RECENT_YEARS = ['2021-22', '2022-23', '2023-24', '2024-25', '2025-26'];

    interface Tally {
      readonly measure: string;
      readonly cells: number;
      readonly suppressed: number;
      /** The cells of the recent five financial years (all cells for a measure by relative term). */
      readonly recent: number;
      readonly recentSuppressed: number;
      /** The rule disclosure control refused the whole answer by, if it did. */
      readonly refused?: string;
    }

    async function tally(measure: MeasureDefinition): Promise<Tally> {
      const raw = await queries.run(headline(measure));
      const isRecent = (key: Readonly<Record<string, string>>) =>
        key.period === undefined || RECENT_YEARS.includes(key.period);
      let controlled: ReturnType<typeof controlResult>;
      try {
        controlled = controlResult(raw);
      } catch (error) {
        if (!(error instanceof DisclosureRefusedError)) throw error;
        const recent = raw.cells.filter((cell) => isRecent(cell.key)).length;
        return {
          measure: measure.id,
          cells: raw.cells.length,
          suppressed: raw.cells.length,
          recent,
          recentSuppressed: recent,
          refused: error.rule,
        };
      }
      // The cells of the table, not its margin.
      const cells = controlled.cells.filter((cell) => !Object.values(cell.key).includes(MARGIN_TOTAL));
      const recent = cells.filter((cell) => isRecent(cell.key));
      return {
        measure: measure.id,
        cells: cells.length,
        suppressed: cells.filter((cell) => cell.suppressed).length,
        recent: recent.length,
        recentSuppressed: recent.filter((cell) => cell.suppressed).length,
      };
    }

    /** Most of a measure's cells of the recent years shown. */
    const mostlyShown = (t: Tally) => !t.refused && t.recent > 0 && t.recentSuppressed * 2 < t.recent;

    describe('its measures', () => {
      let tallies: Tally[];

      beforeAll(async () => {
        tallies = [];
        for (const measure of MEASURES) tallies.push(await tally(measure));
        const row = (t: Tally) =>
          `  ${t.measure.padEnd(32)} ${String(t.cells).padStart(5)} ${String(t.suppressed).padStart(5)}` +
          `   ${String(t.recent).padStart(5)} ${String(t.recentSuppressed).padStart(5)}${t.refused ? `  refused: ${t.refused}` : ''}`;
        process.stdout.write(
          `\n${CHILDREN} children (${timings.join(', ')}): measure, cells, suppressed; cells of ${RECENT_YEARS[0]}…${RECENT_YEARS.at(-1)}, suppressed\n` +
            `${tallies.map(row).join('\n')}\n`,
        );
      }, 600_000);

      it('gives every measure cells to show', () => {
        expect(tallies.filter((t) => t.cells === 0).map((t) => t.measure)).toEqual([]);
      });

      it('shows most cells of the recent years for most measures', () => {
        const shown = tallies.filter(mostlyShown);
        expect(shown.length * 3).toBeGreaterThanOrEqual(tallies.length * 2);
      });
    });
  },
);

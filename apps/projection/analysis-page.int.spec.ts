import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Download, Page } from 'playwright-core';
import type { AgencyEvent } from '@throughline/contracts';
import type { PostgresEventStore } from '@throughline/event-store';

import {
  axeViolations,
  buildAssessmentCompleted,
  buildReferralReceived,
  freshRecordId,
  recordAsTheRecorderWould,
  type LocalOidcProvider,
  type TestDatabase,
} from '@throughline/testing';
import type { ProjectionApp } from './app';
import { startPageStack, stopPageStack } from './projection.test-helper';

/**
 * The analyst's page in a real Chromium over the real projection (its analysis model, the
 * analysis API with disclosure control, the exports), signing in through the real local OpenID
 * provider's own pages, as the demo analyst.
 */

/** Screenshots of the main views (gitignored), beside the timeline page's. */
const SCREENSHOTS = join(__dirname, '..', '..', '.test-results', 'screenshots');
const PAGE_SOURCES = join(__dirname, 'page');
const REFERRAL = 'social-care.referral.received';
const ASSESSMENT = 'social-care.assessment.completed';

let oidc: LocalOidcProvider;
let database: TestDatabase;
let store: PostgresEventStore;
let projection: ProjectionApp;
let browser: Browser;
let passwords: Record<string, string>;

beforeAll(async () => {
  ({ oidc, database, store, projection, browser, passwords } = await startPageStack({
    name: 'analysis-page',
  }));
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(() => stopPageStack({ browser, projection, store, database, oidc }));

/**
 * A synthetic cohort in LA 991 (the demo analyst's own), all referred and assessed in the
 * financial year 2023-24: 40 children aged 5-9, 25 aged 10-15 and 4 under 1 — so the under-1s
 * are a cell below the threshold, and a cohort of them alone is below the minimum.
 */
const BANDS = [
  { band: '5-9', born: '2016-01-15', children: 40 },
  { band: '10-15', born: '2011-01-15', children: 25 },
  { band: 'under-1', born: '2023-01-15', children: 4 },
] as const;
const CHILDREN = BANDS.reduce((sum, { children }) => sum + children, 0);

async function recordCohort(): Promise<void> {
  const la = { agency: 'social-care' as const, system: 'demo-case-system', organisation: '991' };
  const events: AgencyEvent[] = [];
  let index = 0;
  for (const { born, children } of BANDS)
    for (let child = 0; child < children; child += 1, index += 1) {
      const subject = {
        recordId: freshRecordId('case'),
        laChildId: `C${String(900000 + index)}`,
        laCode: '991',
        dateOfBirth: born,
      };
      // June to September 2023; assessed 20 to 59 days later, in the same financial year.
      const referred = new Date(Date.UTC(2023, 5 + (index % 4), 1 + (index % 25)));
      const assessed = new Date(referred.getTime() + (20 + (index % 40)) * 86_400_000);
      const day = (date: Date) => date.toISOString().slice(0, 10);
      events.push(
        buildReferralReceived({
          occurredAt: `${day(referred)}T10:00:00Z`,
          source: la,
          subject,
          data: { referralDate: day(referred) },
        }),
        buildAssessmentCompleted({
          occurredAt: `${day(assessed)}T10:00:00Z`,
          source: la,
          subject,
          data: { startDate: day(referred), authorisationDate: day(assessed) },
        }),
      );
    }
  await recordAsTheRecorderWould(store, ...events);
  await projection.caughtUp();
}

interface CatalogueMeasure {
  id: string;
  title: string;
  definition: string;
  eventTypes: string[];
  groupBy: string[];
  periods: string[];
}

/**
 * The measure the page is tried on, from the analysis API's own catalogue: one over referrals
 * and assessments that can be grouped by age band (days from referral to assessment where the
 * catalogue has it).
 */
async function measureToTry(): Promise<CatalogueMeasure> {
  const response = await fetch(`${projection.url}/v1/analysis/measures`, {
    headers: { authorization: `Bearer ${await oidc.token('demo-analyst')}`, 'x-purpose': 'analysis' },
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as CatalogueMeasure[] | { measures: CatalogueMeasure[] };
  const measures = Array.isArray(body) ? body : body.measures;
  const byAgeBand = measures.filter(
    (measure) => measure.groupBy.includes('age-band') && measure.eventTypes.includes(REFERRAL),
  );
  const found =
    byAgeBand.find((measure) =>
      measure.eventTypes.every((type) => type === REFERRAL || type === ASSESSMENT),
    ) ?? byAgeBand[0];
  if (!found) throw new Error('the catalogue has no measure over referrals grouped by age band');
  return found;
}

/** Console errors and uncaught exceptions of a page (a CSP or Trusted Types refusal is both). */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    // The browser's own line for a refusal the page asked for and shows (a 400 or 403 answer).
    if (/Failed to load resource: the server responded with a status of 40[03]/.test(message.text())) return;
    problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return problems;
}

/** Signs in through the provider's own pages, as a person would; back on the analysis page, signed in. */
async function signIn(context: BrowserContext, user: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${projection.url}/analysis`);
  await page.waitForSelector('#sign-in:not([hidden])');
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.waitForURL(`${oidc.issuer}/interaction/**`);
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Password').fill(passwords[user]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The provider asks once per person and client for the scopes the page wants.
  const allow = page.getByRole('button', { name: 'Allow' });
  await Promise.race([allow.waitFor().then(() => allow.click()), page.waitForURL(`${projection.url}/`)]);
  // The sign-in ends on the timeline page; the analyst comes back to this one.
  await page.waitForURL(`${projection.url}/`);
  await page.goto(`${projection.url}/analysis`);
  await page.waitForSelector('#account:not([hidden])');
  return page;
}

const text = async (page: Page, selector: string): Promise<string> =>
  ((await page.textContent(selector)) ?? '').replace(/\s+/g, ' ').trim();

/** Runs the query; done when the button is back and an answer or a message shows (Playwright's selectors: the CSP refuses eval). */
async function run(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Run the query' }).click();
  await page.locator('#run:not([disabled])').waitFor();
  await page.locator('#answer:not([hidden]), #error:not([hidden])').first().waitFor();
}

async function saved(download: Download): Promise<Buffer> {
  const path = await download.path();
  return readFileSync(path);
}

describe("the analyst's page", () => {
  it('is served as HTML under a nonce-based CSP, with labelled fields and no data in the shell', async () => {
    const response = await fetch(`${projection.url}/analysis`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]{20,})'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    const html = await response.text();
    for (const tag of html.match(/<(script|style)\b[^>]*>/g) ?? []) expect(tag).toContain(`nonce="${nonce}"`);
    expect(html).not.toContain('__CSP_NONCE__');
    expect(html).not.toMatch(/\bsrc="(?!data:)/i);
    // Data is written as text only: the page's own code has no HTML sink (the bundled d3 has one,
    // selection.html(), which the page never calls; Trusted Types would refuse it anyway).
    for (const file of readdirSync(PAGE_SOURCES).filter((name) => name.startsWith('analysis')))
      expect([file, readFileSync(join(PAGE_SOURCES, file), 'utf8')]).not.toEqual([
        file,
        expect.stringMatching(
          /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|localStorage|sessionStorage/,
        ),
      ]);
    expect(html).not.toMatch(
      /outerHTML|insertAdjacentHTML|document\.write|\beval\(|localStorage|sessionStorage/,
    );
    for (const id of [
      'measure',
      'entry-from',
      'entry-to',
      'sex',
      'local-authorities',
      'group-by-1',
      'group-by-2',
      'period',
    ])
      expect(html).toContain(`<label for="${id}">`);
    // Each call is a new nonce.
    const again = await fetch(`${projection.url}/analysis`);
    expect(again.headers.get('content-security-policy')).not.toContain(nonce);
  });

  it('lets the demo analyst pick a measure and a cohort, shows chart and table with suppressed cells marked, downloads CSV and Parquet, and says why a query is refused; accessible, printable, within the CSP', async () => {
    await recordCohort();
    const measure = await measureToTry();
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    try {
      const page = await signIn(context, 'demo-analyst');
      const problems = watchProblems(page);
      // Every CSP (and Trusted Types) refusal fires this event; registered through DevTools, not the page.
      await page.evaluate(
        `window.violations = []; document.addEventListener('securitypolicyviolation', (event) => window.violations.push(event.violatedDirective + ' ' + event.blockedURI + ' ' + (event.sample || '')))`,
      );
      expect(await text(page, '#account')).toContain('Mia Laine (demo analyst)');

      // The measure, with its definition from the catalogue.
      await page.getByLabel('Measure', { exact: true }).selectOption(measure.id);
      await page.locator('#measure-details:not([hidden])').waitFor();
      expect(await text(page, '#measure-details')).toContain(measure.definition.replace(/\s+/g, ' ').trim());
      await page.screenshot({ path: join(SCREENSHOTS, 'analysis-form.png'), fullPage: true });

      // A mistake is named at its field before any query is spent on it.
      await page.getByLabel('Local authorities').fill('99X');
      await run(page);
      expect(await text(page, '#error')).toContain('“99X”: a local authority is its three-digit code');
      expect(await page.getByLabel('Local authorities').getAttribute('aria-invalid')).toBe('true');
      await page.getByRole('link', { name: /99X/ }).click();
      await expect(page.evaluate('document.activeElement.id')).resolves.toBe('local-authorities');
      await page.getByLabel('Local authorities').fill('');

      // Every child, by age band, from the keyboard.
      await page.getByLabel('Group by').selectOption('age-band');
      await page.getByLabel('Period').selectOption(measure.periods[0]);
      await page.getByRole('button', { name: 'Run the query' }).focus();
      await page.keyboard.press('Enter');
      await page.locator('#answer:not([hidden])').waitFor();
      expect(await text(page, '#asked')).toContain(measure.title);

      // The table: the under-1s (4 children) suppressed as c, with the reason in words; the others shown.
      const rowOf = (label: string) =>
        page.locator('#answer-table tbody tr', {
          has: page.locator('th', { hasText: new RegExp(`^${label}$`) }),
        });
      const under1 = await text(page, '#answer-table tbody tr:has(th:text-is("Under 1"))');
      expect(under1).toContain('c');
      expect(under1).toContain('Suppressed: fewer than 10');
      expect(await rowOf('Under 1').locator('td.suppressed').count()).toBeGreaterThan(0);
      // "c" is also said in words to a screen reader.
      expect(await rowOf('Under 1').locator('td.suppressed .visually-hidden').first().textContent()).toBe(
        'suppressed',
      );
      const fiveToNine = await rowOf('5 to 9').locator('td.num').first().textContent();
      expect(fiveToNine).toMatch(/^\d+$/);
      expect(await text(page, '#answer-table caption')).toContain('c = suppressed');
      // The rules applied and the model's freshness are said beside the answer.
      expect(await text(page, '#rules')).toContain('Counts below 10 are suppressed');
      expect(await text(page, '#freshness')).toMatch(/event store up to position [\d,]+/);
      expect(await text(page, '#cohort-size')).toMatch(/about \d+ children/);

      // The chart: Observable Plot's SVG, one image with a name, the suppressed cell a marked gap.
      const chart = page.locator('#chart svg.analysis-plot');
      expect(await chart.getAttribute('role')).toBe('img');
      expect(await chart.getAttribute('aria-label')).toMatch(/suppressed \(marked c, no bar\)/);
      expect(await page.locator('#chart .suppressed-gap').count()).toBeGreaterThanOrEqual(1);
      expect(await chart.locator('css=text').allTextContents()).toEqual(
        expect.arrayContaining(['c', 'suppressed']),
      );
      await page.locator('#answer').screenshot({ path: join(SCREENSHOTS, 'analysis-answer.png') });

      // WCAG 2.0, 2.1 and 2.2 A and AA as axe-core checks them: nothing serious or critical.
      const violations = await axeViolations(page);
      expect(
        violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical'),
      ).toEqual([]);

      // Downloads of the same answer, under the same rules.
      const [csv] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download CSV' }).click(),
      ]);
      expect(csv.suggestedFilename()).toMatch(/\.csv$/);
      expect((await saved(csv)).toString('utf8')).toMatch(/(^|,)"?c"?(,|\r?$)/m);
      const [parquet] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download Parquet' }).click(),
      ]);
      expect(parquet.suggestedFilename()).toMatch(/\.parquet$/);
      expect((await saved(parquet)).subarray(0, 4).toString('latin1')).toBe('PAR1');
      expect(await text(page, '#status')).toMatch(/^Downloaded .*\.parquet/);

      // A cohort below the minimum is refused in words, and the answer to the other question goes.
      await page.getByRole('checkbox', { name: 'Under 1' }).check();
      await run(page);
      expect(await text(page, '#error h2')).toBe('The cohort is too small to answer');
      expect(await page.isHidden('#answer')).toBe(true);
      await page.screenshot({
        path: join(SCREENSHOTS, 'analysis-refused-minimum-cohort.png'),
        fullPage: true,
      });

      // A cohort a few children away from the one already answered is refused (differencing).
      await page.getByRole('checkbox', { name: 'Under 1' }).uncheck();
      await page.getByRole('checkbox', { name: '5 to 9' }).check();
      await page.getByRole('checkbox', { name: '10 to 15' }).check();
      await run(page);
      expect(await text(page, '#error h2')).toBe('Too close to an earlier query');
      expect(CHILDREN - BANDS[2].children).toBeGreaterThanOrEqual(20);

      // Printing: what was asked, the chart and the table; no form, no buttons.
      await page.getByRole('checkbox', { name: '5 to 9' }).uncheck();
      await page.getByRole('checkbox', { name: '10 to 15' }).uncheck();
      await run(page);
      await page.locator('#answer:not([hidden])').waitFor();
      await page.emulateMedia({ media: 'print' });
      expect(await page.locator('#query').isVisible()).toBe(false);
      expect(await page.getByRole('button', { name: 'Download CSV' }).isVisible()).toBe(false);
      expect(await page.locator('#answer-table').isVisible()).toBe(true);
      expect(await page.locator('#asked').isVisible()).toBe(true);
      await page.pdf({ path: join(SCREENSHOTS, 'analysis-print.pdf') });
      await page.emulateMedia({ media: 'screen' });

      // Nothing the CSP or Trusted Types refused, no script error.
      expect(await page.evaluate('window.violations')).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('tells someone whose roles allow no analysis so, without asking for data', async () => {
    const context = await browser.newContext();
    try {
      const page = await signIn(context, 'demo-social-worker');
      await page.locator('#not-analyst:not([hidden])').waitFor();
      expect(await page.isHidden('#query')).toBe(true);
    } finally {
      await context.close();
    }
  });
});

import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import type { AgencyEvent } from '@throughline/contracts';
import type { PostgresEventStore } from '@throughline/event-store';
import { createPool } from '@throughline/platform';
import {
  axeViolations,
  buildEvent,
  buildAttendanceSummarised,
  buildChildProtectionPlanStarted,
  buildImmunisationGiven,
  buildOutcomeObservationRecorded,
  buildReferralReceived,
  freshNhsNumber,
  freshRecordId,
  freshUpn,
  recordAsTheRecorderWould,
  type LocalOidcProvider,
  type TestDatabase,
} from '@throughline/testing';
import type { ProjectionApp } from './app';
import { startPageStack, stopPageStack } from './projection.test-helper';

/**
 * The practitioners' page in a real Chromium, signing in through the real local OpenID provider's
 * own login and consent pages (authorization code + PKCE, by the projection's server side).
 */

const BORN = '2015-03-01';
const PAGE_SOURCES = join(__dirname, 'page');
/** Screenshots of the main views (gitignored); one is copied by hand to docs/screenshots/. */
const SCREENSHOTS = join(__dirname, '..', '..', '.test-results', 'screenshots');
const SIGN_IN_PER_MINUTE = 30;
const SESSION_COOKIE = 'throughline-session';
/** A JWT (any token the provider issues): none may ever reach the page. */
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/;

let oidc: LocalOidcProvider;
let database: TestDatabase;
let store: PostgresEventStore;
let projection: ProjectionApp;
let browser: Browser;
let passwords: Record<string, string>;

beforeAll(async () => {
  ({ oidc, database, store, projection, browser, passwords } = await startPageStack({
    name: 'timeline-page',
    env: { RATE_LIMIT_SIGN_IN_PER_MINUTE: String(SIGN_IN_PER_MINUTE) },
  }));
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(() => stopPageStack({ browser, projection, store, database, oidc }));

const record = (...events: AgencyEvent[]): Promise<bigint> => recordAsTheRecorderWould(store, ...events);

function attributeOf(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
}

/** The page's DOM-free logic block, run on its own, as the browser runs it before the UI script. */
function pageLogic(html: string): {
  byAcademicYear(entries: unknown[]): { year: string; entries: { position: number }[] }[];
  filterEntries(entries: unknown[], filter: Record<string, string>): { position: number }[];
  openEpisodes(entries: unknown[]): { label: string }[];
  displayDate(iso: string): string;
} {
  const source = /<script[^>]*id="timeline-logic"[^>]*>([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (!source) throw new Error('the page has no timeline-logic script');
  const context: Record<string, unknown> = {};
  runInNewContext(source, context);
  return context.TimelineLogic as ReturnType<typeof pageLogic>;
}

async function accessLog(where: string, ...params: unknown[]): Promise<Record<string, unknown>[]> {
  const pool = createPool(database.url);
  try {
    const result = await pool.query(
      `SELECT user_id, purpose, action, child_key, returned_entries, withheld, outcome
       FROM access_log WHERE ${where} ORDER BY id`,
      params,
    );
    return result.rows;
  } finally {
    await pool.end();
  }
}

/** One child known to social care (LA 991), child health and the mental health trust (CAMHS). */
async function recordChild(): Promise<{ nhsNumber: string }> {
  const nhsNumber = freshNhsNumber();
  const la = { agency: 'social-care' as const, system: 'demo-case-system', organisation: '991' };
  await record(
    buildReferralReceived({
      occurredAt: '2024-01-10T10:00:00Z',
      source: la,
      subject: { recordId: freshRecordId('case'), nhsNumber, dateOfBirth: BORN },
    }),
    buildImmunisationGiven({
      occurredAt: '2024-02-05T09:00:00Z',
      subject: { recordId: freshRecordId('chs'), nhsNumber, dateOfBirth: BORN },
    }),
    buildEvent('health.camhs.referred', {
      occurredAt: '2024-03-01T11:00:00Z',
      source: { agency: 'health', system: 'demo-mental-health-system', organisation: 'DEMO-MHT' },
      subject: { recordId: freshRecordId('mh'), nhsNumber, dateOfBirth: BORN },
    }),
  );
  await projection.caughtUp();
  return { nhsNumber };
}

/** Bodies of the page's own answers (the shell, its API calls), to look for tokens in. */
function watchResponses(page: Page): string[] {
  const bodies: string[] = [];
  page.on('response', (response: Response) => {
    if (!response.url().startsWith(projection.url)) return;
    if (response.status() >= 300 && response.status() < 400) return;
    void response.text().then(
      (text) => bodies.push(text),
      () => undefined,
    );
  });
  return bodies;
}

/** Signs in through the provider's own pages, as a person would; ends back on the page, signed in. */
async function signIn(context: BrowserContext, user: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${projection.url}/`);
  await page.waitForSelector('#sign-in:not([hidden])');
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.waitForURL(`${oidc.issuer}/interaction/**`);
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Password').fill(passwords[user]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The provider asks once per person and client for the scopes the page wants.
  const allow = page.getByRole('button', { name: 'Allow' });
  await Promise.race([allow.waitFor().then(() => allow.click()), page.waitForURL(`${projection.url}/`)]);
  await page.waitForURL(`${projection.url}/`);
  await page.waitForSelector('#account:not([hidden])');
  return page;
}

async function lookUp(page: Page, purposeId: string, nhsNumber: string): Promise<void> {
  await page.getByLabel('Purpose').selectOption(purposeId);
  await page.getByLabel('Identifier type').selectOption('nhs-number');
  await page.getByLabel('Identifier', { exact: true }).fill(nhsNumber);
  await page.getByRole('button', { name: 'Show timeline' }).click();
  await page.waitForSelector('#results:not([hidden])');
}

const daysFromNow = (days: number): string =>
  new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const ago = (days: number): string => daysFromNow(-days);

/** "Autumn 2024/25" for a date (the page's and the outcomes API's terms: Sep-Dec, Jan-Mar, Apr-Aug). */
function termOf(date: string): string {
  const [year, month] = date.split('-').map(Number);
  const start = month >= 9 ? year : year - 1;
  const term = month >= 9 ? 'Autumn' : month <= 3 ? 'Spring' : 'Summer';
  return `${term} ${start}/${String((start + 1) % 100).padStart(2, '0')}`;
}

/**
 * A child a social worker (LA 991) would prepare a conference about, dated back from today: a
 * child protection plan, the child, the family, the social worker and the class teacher rating
 * safety over a year (the child and the social worker far apart on the same day), a recorded
 * difference of view, attendance for a term, three decisions (one overdue for review, one due
 * soon, one reviewed and ended), and years of contacts, so the chronology runs to two pages.
 */
async function recordConferenceChild(): Promise<{
  nhsNumber: string;
  entries: number;
  childViews: number;
  attendanceTerm: string;
}> {
  const nhsNumber = freshNhsNumber();
  const upn = freshUpn();
  const socialCare = { agency: 'social-care' as const, system: 'demo-case-system', organisation: '991' };
  const school = { agency: 'education' as const, system: 'demo-school-mis', organisation: '100001' };
  // Recorded the same way by the LA and the school, so a health record with no identifier but the
  // same name, sex, postcode and date of birth is proposed as a probable match, for a person to review.
  const demographics = {
    name: { given: 'Ottilie', family: 'Conferencename' },
    sex: '2' as const,
    postcode: 'ZZ99 7CF',
    dateOfBirth: BORN,
  };
  const caseRecord = {
    recordId: freshRecordId('case'),
    nhsNumber,
    upn,
    laChildId: 'C991001',
    laCode: '991',
    ...demographics,
  };
  const pupil = { recordId: freshRecordId('pupil'), upn, ...demographics };
  const rating = (value: number) => ({ scale: 'ten-point', value, min: 1, max: 10 });
  const staySafe = (
    on: string,
    perspective: 'child' | 'family' | 'professional',
    observerRole: string,
    value: number,
    narrative: string,
    observerAgency?: 'social-care' | 'education',
  ) =>
    buildOutcomeObservationRecorded({
      occurredAt: `${on}T15:00:00Z`,
      source: observerAgency === 'education' ? school : socialCare,
      subject: observerAgency === 'education' ? pupil : caseRecord,
      data: {
        framework: 'ecm',
        domain: 'stay-safe',
        perspective,
        observerRole,
        ...(observerAgency ? { observerAgency } : {}),
        observedOn: on,
        narrative,
        rating: rating(value),
        confidence: 'medium',
      },
    });
  const history = Array.from({ length: 96 }, (_, index) =>
    buildEvent('social-care.contact.received', {
      occurredAt: `${ago(3400 - index * 30)}T10:00:00Z`,
      source: socialCare,
      subject: caseRecord,
    }),
  );
  const plan = buildChildProtectionPlanStarted({
    occurredAt: `${ago(400)}T10:00:00Z`,
    source: socialCare,
    subject: caseRecord,
    data: { startDate: ago(400), reviewDate: ago(310) },
  });
  const overdueDecision = buildEvent('practice.decision.recorded', {
    occurredAt: `${ago(370)}T12:00:00Z`,
    source: socialCare,
    subject: caseRecord,
    data: { decidedOn: ago(370), reviewDate: ago(320), team: 'Assessment team 2' },
  });
  const socialWorkerWorried = staySafe(
    ago(366),
    'professional',
    'social worker',
    3,
    'Synthetic: home conditions poor, unexplained bruise seen last week.',
    'social-care',
  );
  const childFeelsSafe = staySafe(
    ago(366),
    'child',
    'child',
    8,
    'Synthetic: "I feel safe at home, Mum makes tea."',
  );
  const voice = buildEvent('practice.voice-of-child.recorded', {
    occurredAt: `${ago(366)}T16:00:00Z`,
    source: socialCare,
    subject: caseRecord,
    data: {
      capturedOn: ago(366),
      whatTheChildSaid: 'Synthetic: "I want to stay with Mum and see Nan on Sundays."',
      capturedBy: { role: 'social worker', agency: 'social-care' },
      context: 'home visit, in the garden',
      interpretation: 'Synthetic: the child worries about being moved; wants Nan involved.',
    },
  });
  const endedDecision = buildEvent('practice.decision.recorded', {
    occurredAt: `${ago(350)}T12:00:00Z`,
    source: socialCare,
    subject: caseRecord,
    data: {
      decidedOn: ago(350),
      decision: 'Synthetic: daily check-in with the learning mentor.',
      reviewDate: ago(290),
    },
  });
  const attendanceDay = ago(300);
  const [term, academicYear] = termOf(attendanceDay).split(' ');
  const attendance = buildAttendanceSummarised({
    occurredAt: `${attendanceDay}T16:00:00Z`,
    source: school,
    subject: pupil,
    data: {
      academicYear,
      term: term.toLowerCase() as 'autumn' | 'spring' | 'summer',
      sessionsPossible: 140,
      authorisedAbsence: 10,
      unauthorisedAbsence: 12,
    },
  });
  const overdueReview = buildEvent('practice.decision.reviewed', {
    occurredAt: `${ago(318)}T12:00:00Z`,
    source: socialCare,
    subject: caseRecord,
    data: {
      decisionId: overdueDecision.eventId,
      reviewedOn: ago(318),
      outcome: 'continued',
      nextReviewDate: ago(200),
    },
  });
  const endedReview = buildEvent('practice.decision.reviewed', {
    occurredAt: `${ago(290)}T12:00:00Z`,
    source: socialCare,
    subject: caseRecord,
    data: {
      decisionId: endedDecision.eventId,
      reviewedOn: ago(290),
      outcome: 'ended',
      nextReviewDate: undefined,
      whatHappened: 'Synthetic: settled mornings for five weeks; check-ins no longer needed.',
    },
  });
  const familyView = staySafe(
    ago(120),
    'family',
    'mother',
    7,
    'Synthetic: things are calmer since the move.',
  );
  const differ = buildEvent('practice.views.differ', {
    occurredAt: `${ago(119)}T12:00:00Z`,
    source: socialCare,
    subject: caseRecord,
    data: { recordedOn: ago(119), about: [familyView.eventId, socialWorkerWorried.eventId] },
  });
  const teacherView = staySafe(
    ago(60),
    'professional',
    'class teacher',
    5,
    'Synthetic: arrives hungry on Mondays, settles by lunch.',
    'education',
  );
  const socialWorkerLater = staySafe(
    ago(30),
    'professional',
    'social worker',
    6,
    'Synthetic: home conditions improved; bruising not seen since.',
    'social-care',
  );
  const dueDecision = buildEvent('practice.decision.recorded', {
    occurredAt: `${ago(20)}T12:00:00Z`,
    source: socialCare,
    subject: caseRecord,
    data: {
      decidedOn: ago(20),
      decision: 'Synthetic: ask the school nurse to see the child weekly for six weeks.',
      reviewDate: daysFromNow(7),
      expectedOutcomes: [
        { framework: 'ecm', domain: 'be-healthy', lookFor: 'Synthetic: weight back on its centile.' },
      ],
    },
  });
  const events = [
    ...history,
    plan,
    overdueDecision,
    socialWorkerWorried,
    childFeelsSafe,
    voice,
    endedDecision,
    attendance,
    overdueReview,
    endedReview,
    familyView,
    differ,
    teacherView,
    socialWorkerLater,
    dueDecision,
  ];
  await record(...events);
  await projection.caughtUp();
  // A walk-in centre's record of (perhaps) the same child: no NHS number traced yet.
  await record(
    buildImmunisationGiven({
      occurredAt: `${ago(10)}T10:00:00Z`,
      subject: { recordId: freshRecordId('chs'), nhsNumber: undefined, ...demographics },
    }),
  );
  await projection.caughtUp();
  return { nhsNumber, entries: events.length, childViews: 2, attendanceTerm: termOf(attendanceDay) };
}

/** Console errors and uncaught exceptions of a page (a CSP or Trusted Types refusal is both). */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return problems;
}

const text = async (page: Page, selector: string): Promise<string> =>
  ((await page.textContent(selector)) ?? '').replace(/\s+/g, ' ').trim();

describe('timeline page', () => {
  it('is served as HTML under a nonce-based CSP, with the sign-in link, the lookup form and nothing from other hosts', async () => {
    const response = await fetch(`${projection.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await response.text();

    const csp = response.headers.get('content-security-policy') ?? '';
    const directives = new Map(
      csp.split(';').map((directive) => {
        const [name, ...values] = directive.trim().split(/\s+/);
        return [name, values] as const;
      }),
    );
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('require-trusted-types-for')).toEqual(["'script'"]);
    const [scriptSource] = directives.get('script-src') ?? [];
    expect(scriptSource).toMatch(/^'nonce-[A-Za-z0-9+/=]{20,}'$/);
    expect(directives.get('style-src')).toEqual([scriptSource]);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    const nonce = scriptSource.slice("'nonce-".length, -1);

    // Every inline block carries this request's nonce; nothing is loaded from anywhere.
    const blocks = html.match(/<(script|style)\b[^>]*>/g) ?? [];
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const tag of blocks) {
      expect(attributeOf(tag, 'nonce')).toBe(nonce);
      expect(attributeOf(tag, 'src')).toBeUndefined();
    }
    expect(html).not.toContain('__CSP_NONCE__');
    // Nothing from another host: no src, href or url() naming one (the chart library's bundle
    // carries XML namespace URIs such as http://www.w3.org/2000/svg, which load nothing).
    expect(html).not.toMatch(/\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?(?:https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b[^>]*rel="stylesheet"/i);
    expect(html).not.toMatch(/\bsrc="(?!data:)/i);
    // Data is written as text only: the page's own code has no HTML sink (the bundled d3 has one,
    // selection.html(), which the page never calls; Trusted Types would refuse it, and the browser
    // test below checks that no CSP or Trusted Types violation happens).
    for (const file of readdirSync(PAGE_SOURCES).filter((name) => /\.(ts|html)$/.test(name))) {
      expect([file, readFileSync(join(PAGE_SOURCES, file), 'utf8')]).not.toEqual([
        file,
        expect.stringMatching(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(/),
      ]);
    }
    expect(html).not.toMatch(/outerHTML|insertAdjacentHTML|document\.write|\beval\(/);
    // Who is asking is the signed-in person, never a field or a header the page fills in.
    expect(html).not.toMatch(/x-user-id|x-user-role|id="user-id"|localStorage|sessionStorage/);
    expect(html).toContain('href="auth/login"');

    // The form: labelled fields, and a POST so identifiers never land in a URL even without script.
    const form = /<form\b[^>]*id="lookup"[^>]*>/.exec(html)?.[0] ?? '';
    expect(attributeOf(form, 'method')).toBe('post');
    for (const id of ['purpose', 'identifier-type', 'agency', 'identifier-value']) {
      expect(html).toContain(`<label for="${id}">`);
      expect(html).toMatch(new RegExp(`<(input|select)[^>]*\\sid="${id}"`));
    }
    for (const type of ['nhs-number', 'upn', 'record']) {
      expect(html).toContain(`<option value="${type}">`);
    }

    const again = await fetch(`${projection.url}/`);
    expect(again.headers.get('content-security-policy')).not.toContain(nonce);
  });

  it("groups the API's own entries by school year, filters them and finds the open plans, in the page's logic block", async () => {
    const nhsNumber = freshNhsNumber();
    const caseRecord = { recordId: freshRecordId('case'), nhsNumber, dateOfBirth: BORN };
    const socialCare = { agency: 'social-care' as const, system: 'demo-case-system', organisation: '991' };
    const referral = buildReferralReceived({
      occurredAt: '2023-08-31T22:30:00+01:00',
      source: socialCare,
      subject: caseRecord,
    });
    const plan = buildChildProtectionPlanStarted({
      occurredAt: '2023-09-01T10:00:00Z',
      source: socialCare,
      subject: caseRecord,
    });
    const childView = buildOutcomeObservationRecorded({
      occurredAt: '2024-05-01T15:00:00Z',
      source: socialCare,
      subject: caseRecord,
      data: {
        framework: 'ecm',
        domain: 'stay-safe',
        perspective: 'child',
        observerRole: 'child',
        observedOn: '2024-05-01',
      },
    });
    await record(referral, plan, childView);
    await projection.caughtUp();

    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${await oidc.token('demo-social-worker')}`,
      'x-purpose': 'direct-care',
    };
    const lookup = await fetch(`${projection.url}/v1/children/lookup`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ identifier: { type: 'nhs-number', value: nhsNumber } }),
    });
    expect(lookup.status).toBe(200);
    const { childKey } = (await lookup.json()) as { childKey: string };
    const timeline = (await (
      await fetch(`${projection.url}/v1/children/${childKey}/timeline`, { headers })
    ).json()) as { entries: { position: number; lineage: { eventId: string } }[] };
    const positionOf = (event: AgencyEvent): number => {
      const entry = timeline.entries.find((candidate) => candidate.lineage.eventId === event.eventId);
      if (!entry) throw new Error(`no entry for ${event.type}`);
      return entry.position;
    };

    const logic = pageLogic(await (await fetch(`${projection.url}/`)).text());
    // 31 August late in the evening is the old school year, as the agency reported it.
    expect(
      logic
        .byAcademicYear(timeline.entries)
        .map(({ year, entries }) => [year, entries.map((entry) => entry.position)]),
    ).toEqual([
      ['2022/23', [positionOf(referral)]],
      ['2023/24', [positionOf(plan), positionOf(childView)]],
    ]);
    expect(
      logic.filterEntries(timeline.entries, { perspective: 'child' }).map((entry) => entry.position),
    ).toEqual([positionOf(childView)]);
    expect(
      logic
        .filterEntries(timeline.entries, { from: '2023-09-01', to: '2023-09-30' })
        .map((entry) => entry.position),
    ).toEqual([positionOf(plan)]);
    expect(logic.openEpisodes(timeline.entries).map((episode) => episode.label)).toEqual([
      'Child protection plan',
    ]);
    expect(logic.displayDate('2024-03-05T09:00:00+00:00')).toBe('5 Mar 2024, 09:00');
  });

  it('signs a social worker in through the provider, shows the timeline with what was withheld and why, and holds no token where script could read it', async () => {
    const { nhsNumber } = await recordChild();
    const context = await browser.newContext();
    try {
      const page = await signIn(context, 'demo-social-worker');
      const bodies = watchResponses(page);
      expect(await text(page, '#account')).toContain('Sam Adeyemi (demo social worker)');
      expect(await text(page, '#account')).toContain('social-worker');
      // The purposes offered are those the person's roles allow a look-up for.
      const offered = await page.$$eval('#purpose option', (options) =>
        options.map((option) => option.getAttribute('value') ?? '').filter(Boolean),
      );
      expect(offered.sort()).toEqual(['direct-care', 'safeguarding']);

      await lookUp(page, 'direct-care', nhsNumber);
      const entries = await page.$$eval('#chronology article.entry', (nodes) => nodes.length);
      expect(entries).toBe(2);
      expect(await text(page, '#withheld')).toContain(
        '1 entry withheld: health mental-health-services (mental-health): no agreement shares it with role social-worker, purpose direct-care',
      );
      expect(await text(page, '#access-terms')).toMatch(/purpose direct-care under your role social-worker/);
      const shared = await page.$$eval('#chronology .shared-under', (nodes) =>
        nodes.map((node) => node.textContent),
      );
      expect(shared.sort()).toEqual(
        [
          "Shared with you: your organisation's own record",
          'Shared with you under agreement vale-health-to-childrens-services@1',
        ].sort(),
      );
      // Break-glass is offered only for a purpose that allows it (safeguarding, not direct care).
      expect(await page.isHidden('#break-glass')).toBe(true);

      // Safeguarding: the CAMHS safeguarding agreement now covers the referral.
      await lookUp(page, 'safeguarding', nhsNumber);
      await page.waitForFunction(`document.querySelectorAll('#chronology article.entry').length === 3`);
      expect(await page.isHidden('#withheld')).toBe(true);

      // The session is an HttpOnly, SameSite=Strict cookie, ended when the browser closes.
      const cookies = await context.cookies(projection.url);
      const session = cookies.find((cookie) => cookie.name === SESSION_COOKIE);
      expect(session).toMatchObject({
        httpOnly: true,
        sameSite: 'Strict',
        path: '/',
        secure: false,
        expires: -1,
      });
      expect(session?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // What any script on the page (an injected one too) could read.
      const seenByScript = await page.evaluate<{
        cookie: string;
        local: number;
        session: number;
        html: string;
      }>(
        '({ cookie: document.cookie, local: localStorage.length, session: sessionStorage.length, html: document.documentElement.outerHTML })',
      );
      expect(seenByScript.cookie).not.toContain(SESSION_COOKIE);
      expect(seenByScript.cookie).not.toMatch(JWT);
      expect(seenByScript.local).toBe(0);
      expect(seenByScript.session).toBe(0);
      expect(seenByScript.html).not.toMatch(JWT);
      expect(bodies.length).toBeGreaterThanOrEqual(4);
      for (const body of bodies) expect(body).not.toMatch(JWT);

      // The reads were recorded as the signed-in person, as a bearer token's would be.
      const reads = await accessLog(
        "user_id = 'demo-social-worker' AND action IN ('sign-in', 'lookup', 'timeline')",
      );
      expect(reads.map((row) => [row.action, row.purpose, row.outcome])).toEqual(
        expect.arrayContaining([
          ['sign-in', '(none)', 'ok'],
          ['lookup', 'direct-care', 'ok'],
          ['timeline', 'direct-care', 'ok'],
          ['timeline', 'safeguarding', 'ok'],
        ]),
      );

      // The session cookie works only from the page's own origin.
      const cookie = `${SESSION_COOKIE}=${session?.value}`;
      const me = await fetch(`${projection.url}/auth/me`, { headers: { cookie } });
      expect(me.status).toBe(200);
      const crossOrigin = await fetch(`${projection.url}/auth/me`, {
        headers: { cookie, origin: 'http://127.0.0.1:1' },
      });
      expect(crossOrigin.status).toBe(401);
      const crossSite = await fetch(`${projection.url}/auth/me`, {
        headers: { cookie, 'sec-fetch-site': 'cross-site' },
      });
      expect(crossSite.status).toBe(401);

      // The page is accessible as a signed-in person sees it (axe-core, WCAG 2.1 A and AA).
      expect(await axeViolations(page)).toEqual([]);

      // Sign-out ends the session here, then at the provider (RP-initiated logout).
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${oidc.issuer}/session/end**`);
      await page.getByRole('button', { name: 'Yes, sign me out' }).click();
      await page.waitForURL(`${projection.url}/`);
      await page.waitForSelector('#sign-in:not([hidden])');
      expect(await page.isHidden('#lookup')).toBe(true);

      const afterMe = await fetch(`${projection.url}/auth/me`, { headers: { cookie } });
      expect(afterMe.status).toBe(401);
      const afterRead = await fetch(`${projection.url}/v1/children/lookup`, {
        method: 'POST',
        headers: { cookie, 'x-purpose': 'direct-care', 'content-type': 'application/json' },
        body: JSON.stringify({ identifier: { type: 'nhs-number', value: nhsNumber } }),
      });
      expect(afterRead.status).toBe(401);
      expect((await accessLog("user_id = 'demo-social-worker' AND action = 'sign-out'")).length).toBe(1);
    } finally {
      await context.close();
    }
  });

  it("shows a school's safeguarding lead that the CAMHS referral is withheld, and lets them break glass with a reason", async () => {
    const { nhsNumber } = await recordChild();
    const context = await browser.newContext();
    try {
      const page = await signIn(context, 'demo-school-dsl');
      expect(await text(page, '#account')).toContain('Owen Price (demo designated safeguarding lead)');
      await lookUp(page, 'safeguarding', nhsNumber);
      const withheld = await text(page, '#withheld');
      expect(withheld).toContain('2 entries withheld from you');
      // The child health and CAMHS records show nothing to this reader, so they are not listed either.
      expect(withheld).toContain('2 linked records not shown: every entry of each of them is withheld');
      expect(withheld).toContain(
        '1 entry withheld: health mental-health-services (mental-health): no agreement shares it with role school-dsl, purpose safeguarding',
      );
      expect(withheld).toContain(
        '1 entry withheld: health immunisation: no agreement shares it with role school-dsl, purpose safeguarding',
      );
      expect(await page.$$eval('#chronology article.entry', (nodes) => nodes.length)).toBe(1);

      // Break-glass: a reasoned, time-limited override, recorded; the page then says it is in use.
      await page.getByText('Break glass: see everything for this child in an emergency').click();
      await page
        .getByLabel('Reason (at least 20 characters)')
        .fill('Synthetic: disclosure at school today, need the health picture before the strategy call.');
      await page.getByRole('button', { name: 'Break glass' }).click();
      await page.waitForSelector('#break-glass-in-use:not([hidden])');
      await page.waitForFunction(`document.querySelectorAll('#chronology article.entry').length === 3`);
      expect(await text(page, '#break-glass-in-use')).toContain('Break-glass in use until');
      expect(await page.isHidden('#withheld')).toBe(true);
      const shown = await page.$$eval('#chronology .shared-under', (nodes) =>
        nodes.map((node) => node.textContent),
      );
      expect(shown).toEqual([
        'Shown under break-glass',
        'Shown under break-glass',
        'Shown under break-glass',
      ]);
      expect(
        (await accessLog("user_id = 'demo-school-dsl' AND action = 'break-glass' AND outcome = 'ok'")).length,
      ).toBe(1);
      // Accessible with the withheld notice gone and the break-glass banner up, as before it.
      expect(await axeViolations(page)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows a social worker the child before a conference: overview, a lane per domain with a line per perspective, decisions and what followed, a filtered and paged chronology; accessible and within the CSP', async () => {
    const child = await recordConferenceChild();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await signIn(context, 'demo-social-worker');
      const problems = watchProblems(page);
      // Every CSP (and Trusted Types) refusal fires this event; registered through DevTools, not the page.
      await page.evaluate(
        `window.violations = []; document.addEventListener('securitypolicyviolation', (event) => window.violations.push(event.violatedDirective + ' ' + event.blockedURI + ' ' + (event.sample || '')))`,
      );
      await lookUp(page, 'direct-care', child.nhsNumber);

      // The overview first: age now, the open plan, who is involved, as text.
      const overview = await text(page, '#overview');
      // Age now, from the date of birth the linked records give (in whole years and months).
      const [year, month] = ago(0).split('-').map(Number);
      const months = (year - 2015) * 12 + (month - 3);
      const age =
        `${Math.floor(months / 12)} years` +
        (months % 12 ? ` ${months % 12} month${months % 12 === 1 ? '' : 's'}` : '');
      expect(overview).toContain(`Age now${age}Date of birth1 Mar 2015`);
      expect(overview).toMatch(/Child protection plan — open since \d+ \w{3} \d{4}/);
      expect(overview).toMatch(/Who is involved now.*Social care.*social worker/);
      // The probable match waiting for review is a caveat, as a banner, before anything else.
      expect(await text(page, '#identity-caveats')).toMatch(
        /⚠ Who these records are is not settled.*A possible match waits for a person to review it.*score \d+/,
      );

      // The stay-safe lane: a chart by Observable Plot with one line per perspective, never blended.
      await page.waitForSelector('#lanes section.lane, #lanes .notice-box, #lanes > p:not(.muted)');
      // Read from the real endpoint: a refusal or failure shows in #lanes and would fail here, with its words.
      expect(await page.locator('#lanes .notice-box').allTextContents()).toEqual([]);
      await page.waitForSelector('#lanes section.lane svg.lane-plot');
      await page.locator('#status', { hasText: 'Outcomes and decisions read.' }).waitFor();
      const lane = page.locator('#lanes section.lane', { has: page.locator('h4', { hasText: 'Stay safe' }) });
      await expect(lane.count()).resolves.toBe(1);
      const legend = (await lane.locator('ul.series-legend li').allTextContents()).map((item) =>
        item.split(' — ')[0].trim(),
      );
      expect(legend.map((item) => item.replace(/^\S+\s/, '')).sort()).toEqual(
        ['Child', 'Class teacher (education)', 'Family', 'Social worker (social care)'].sort(),
      );
      expect(await lane.locator('svg.lane-plot g.series-line path').count()).toBe(4);
      // Disagreement in text and in shape: the heading says so, the chart rings the points.
      expect(await lane.locator('h4').textContent()).toMatch(/⚠ Views differ at \d+ points?/);
      expect(await lane.locator('svg.lane-plot g.views-differ circle').count()).toBeGreaterThanOrEqual(2);
      // Plot's own <style> is not in the page (the CSP would refuse it); the page's stylesheet has its rules.
      expect(await page.locator('#lanes style').count()).toBe(0);
      // The main view, as a practitioner first sees it (docs/screenshots/timeline.png is a copy).
      const top = await page.evaluate<number>(
        `document.querySelector('#results').getBoundingClientRect().top + scrollY`,
      );
      await page.screenshot({
        path: join(SCREENSHOTS, 'timeline-main.png'),
        fullPage: true,
        clip: { x: 0, y: Math.max(0, top - 10), width: 1280, height: 1750 },
      });
      // The text alternative: every point, with its account one click away.
      await lane.getByRole('button', { name: 'Ratings as a table' }).click();
      const rows = lane.locator('table.lane-table tbody tr');
      await expect(rows.count()).resolves.toBe(5);
      expect(await lane.locator('table.lane-table').textContent()).toContain('⚠ Views differ from');
      await lane.locator('table.lane-table details summary').first().click();
      expect(await lane.locator('table.lane-table details[open] p').first().textContent()).toMatch(
        /^Synthetic/,
      );
      // The attendance indicator by term, saying whose account goes with it.
      const indicators = await page.locator('#lanes table.lane-indicators').allTextContents();
      expect(indicators.join(' ')).toContain(child.attendanceTerm);
      expect(indicators.join(' ')).toMatch(/No account recorded|Accounts in the same period/);
      await page.screenshot({ path: join(SCREENSHOTS, 'timeline-overview-lanes.png'), fullPage: true });
      // Indicators by school year instead of term: read again from the endpoint.
      const [, academicYear] = child.attendanceTerm.split(' ');
      await page.getByLabel('Indicators by').selectOption('year');
      await page.getByRole('button', { name: 'Show outcomes' }).click();
      await page.getByRole('cell', { name: academicYear, exact: true }).first().waitFor();
      expect(await page.getByRole('cell', { name: child.attendanceTerm, exact: true }).count()).toBe(0);
      // Another framework, read again from the endpoint: its own domains as lanes.
      await page.getByLabel('Framework').selectOption('throughline-vale');
      await page.getByRole('button', { name: 'Show outcomes' }).click();
      await page.locator('#outcomes-caption', { hasText: 'Throughline Vale partnership outcomes' }).waitFor();
      const headings = await page.locator('#lanes section.lane h4').allTextContents();
      expect(headings.some((heading) => heading.startsWith('Safe and secure'))).toBe(true);
      expect(headings.some((heading) => heading.startsWith('Stay safe'))).toBe(false);
      await page.getByLabel('Framework').selectOption('ecm');
      // Back to terms (disagreement is judged within a period, so the period changes what is marked).
      await page.getByLabel('Indicators by').selectOption('term');
      await page.getByRole('button', { name: 'Show outcomes' }).click();
      await page.getByRole('cell', { name: child.attendanceTerm, exact: true }).first().waitFor();

      // Decision cards: status in words and symbol, and what followed, opened from the card.
      const cards = page.locator('#decisions article.decision');
      await expect(cards.count()).resolves.toBe(3);
      const statuses = (await page.locator('#decisions .badge.status').allTextContents()).sort();
      expect(statuses).toEqual(['⚠ Review overdue', '◔ Review due', '✓ Reviewed and ended'].sort());
      const overdue = cards.filter({ has: page.locator('.badge.status', { hasText: 'Review overdue' }) });
      expect(await overdue.textContent()).toContain('What is uncertain');
      expect(await overdue.textContent()).toContain('Expected outcomes');
      expect(await overdue.textContent()).toContain('Reviews (1)');
      const followUp = overdue.getByRole('button', { name: 'Since this decision' });
      // From the keyboard, as a button should be.
      await followUp.focus();
      await page.keyboard.press('Enter');
      await expect(followUp.getAttribute('aria-expanded')).resolves.toBe('true');
      const since = await overdue.locator('.follow-up').textContent();
      expect(since).toContain('Since this decision');
      expect(since).toMatch(/Child \(\d+\)/);
      expect(since).toMatch(/Social worker \(social care\) \(\d+\)/);
      await overdue.screenshot({ path: join(SCREENSHOTS, 'timeline-decision-follow-up.png') });

      // The chronology: a hundred entries a page, school years as headings, age at each entry.
      expect(await text(page, '#chronology-count')).toBe(`Showing entries 1–100 of ${child.entries}.`);
      expect(await page.locator('#chronology article.entry').count()).toBe(100);
      expect(await page.locator('#chronology h4.year').first().textContent()).toMatch(
        /^School year \d{4}\/\d{2}$/,
      );
      // Age at each entry: the first contacts were when the child was about two.
      expect(await page.locator('#chronology .age').first().textContent()).toMatch(
        /^age (1|2) years?( \d+ months?)?$/,
      );
      await page
        .getByRole('button', { name: /Next 100/ })
        .first()
        .click();
      expect(await text(page, '#chronology-count')).toBe(
        `Showing entries 101–${child.entries} of ${child.entries}.`,
      );
      // The recorded difference of view is marked in words (page 2), as are the two ratings the
      // server found far apart (the last two entries of page 1, checked below after the filter).
      const marked = page.locator('#chronology article.entry', { has: page.locator('.badge.differ') });
      expect(await marked.count()).toBe(1);
      // A decision keeps its options, uncertainty and expected outcomes; the child's words stay apart
      // from the practitioner's interpretation.
      const chronologyText = await text(page, '#chronology');
      expect(chronologyText).toContain('What is uncertain');
      expect(chronologyText).toContain('why not: Two agencies hold concerns');
      expect(chronologyText).toContain('The practitioner’s interpretation');
      await page
        .locator('#chronology-section')
        .screenshot({ path: join(SCREENSHOTS, 'timeline-chronology-page-2.png') });
      // Filtered to the child's own perspective, from the keyboard.
      await page.getByLabel('Perspective', { exact: true }).selectOption('child');
      await page.getByRole('button', { name: 'Apply filters' }).press('Enter');
      // (Waits through Playwright's own selectors: a waitForFunction string would be eval, which the CSP refuses.)
      await page.locator('#chronology-count', { hasText: 'filtered' }).waitFor();
      expect(await page.locator('#chronology article.entry').count()).toBe(child.childViews);
      // The child's rating far from the social worker's on the same day carries the mark.
      expect(await marked.count()).toBe(1);
      expect(await text(page, '#chronology-count')).toBe(
        `Showing entries 1–${child.childViews} of ${child.childViews} (filtered from ${child.entries}).`,
      );
      await page.screenshot({ path: join(SCREENSHOTS, 'timeline-chronology-filtered.png'), fullPage: true });

      // WCAG 2.0, 2.1 and 2.2 A and AA as axe-core checks them: nothing serious or critical.
      const violations = await axeViolations(page);
      expect(
        violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical'),
      ).toEqual([]);
      // Printing: every entry of the chronology, the lanes' tables and each decision's follow-up, open;
      // no buttons, forms or charts (their tables carry the same points).
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await page
        .locator('#chronology-count', { hasText: `Showing entries 1–100 of ${child.entries}.` })
        .waitFor();
      await page.evaluate(`window.dispatchEvent(new Event('beforeprint'))`);
      await page.emulateMedia({ media: 'print' });
      expect(await page.locator('#chronology article.entry').count()).toBe(child.entries);
      expect(
        await page
          .locator('#decisions .follow-up')
          .evaluateAll((nodes) => nodes.map((node) => node.checkVisibility())),
      ).toEqual([true, true, true]);
      expect(await page.locator('#lanes table.lane-table').first().isVisible()).toBe(true);
      expect(await page.getByRole('button', { name: 'Apply filters' }).isVisible()).toBe(false);
      expect(await page.locator('#lanes svg.lane-plot').first().isVisible()).toBe(false);
      await page.screenshot({ path: join(SCREENSHOTS, 'timeline-print-view.png'), fullPage: true });
      await page.pdf({ path: join(SCREENSHOTS, 'timeline-print.pdf') });
      await page.emulateMedia({ media: 'screen' });
      await page.evaluate(`window.dispatchEvent(new Event('afterprint'))`);
      expect(await page.locator('#chronology article.entry').count()).toBe(100);

      // Nothing the CSP or Trusted Types refused, no script error, nothing logged as an error.
      expect(await page.evaluate('window.violations')).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('refuses a sign-in return this browser did not start, a forged session, and too many sign-ins', async () => {
    const forged = await fetch(`${projection.url}/auth/me`, {
      headers: { cookie: `${SESSION_COOKIE}=${'A'.repeat(43)}` },
    });
    expect(forged.status).toBe(401);

    const unsolicited = await fetch(`${projection.url}/auth/callback?code=abc&state=def`, {
      redirect: 'manual',
    });
    expect(unsolicited.status).toBe(400);
    const body = (await unsolicited.json()) as { issues: { path: string; rule: string }[] };
    expect(body.issues).toEqual([
      expect.objectContaining({ path: 'cookies.throughline-sign-in', rule: 'sign-in-started' }),
    ]);

    // Starting a sign-in sets only a short-lived, callback-scoped cookie, and sends the browser to the provider.
    const start = await fetch(`${projection.url}/auth/login`, { redirect: 'manual' });
    expect(start.status).toBe(303);
    const location = new URL(start.headers.get('location') ?? '');
    expect(location.origin).toBe(oidc.issuer);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('redirect_uri')).toBe(`${projection.url}/auth/callback`);
    expect(start.headers.get('set-cookie')).toMatch(
      /^throughline-sign-in=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/auth\/callback; HttpOnly; SameSite=Lax$/,
    );

    let limited: globalThis.Response | undefined;
    for (let i = 0; i < SIGN_IN_PER_MINUTE + 1 && !limited; i += 1) {
      const response = await fetch(`${projection.url}/auth/login`, { redirect: 'manual' });
      if (response.status === 429) limited = response;
      else expect(response.status).toBe(303);
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited?.json()) as { error: string }).error).toBe('RATE_LIMITED');
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import type { AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import { createPool, loadConfig } from '@throughline/platform';
import {
  axeViolations,
  buildEvent,
  buildImmunisationGiven,
  buildOutcomeObservationRecorded,
  buildReferralReceived,
  createTestDatabase,
  DEMO_POLICY_FILE,
  freeLoopbackPort,
  freshNhsNumber,
  freshRecordId,
  launchChromium,
  recordAsTheRecorderWould,
  startLocalOidcProvider,
  type LocalOidcProvider,
  type TestDatabase,
} from '@throughline/testing';
import { createProjectionApp, type ProjectionApp } from './app';

/**
 * The practitioners' page in a real Chromium, signing in through the real local OpenID provider's
 * own login and consent pages (authorization code + PKCE, by the projection's server side).
 */

const BORN = '2015-03-01';
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
  // The page's redirect URI names the projection's port, so the provider must know it first.
  const port = await freeLoopbackPort();
  oidc = await startLocalOidcProvider({ env: { PROJECTION_PORT: String(port) } });
  const state = JSON.parse(readFileSync(join(oidc.cacheDir, 'oidc', 'local-provider.json'), 'utf8')) as {
    passwords: Record<string, string>;
    clientSecrets: Record<string, string>;
  };
  passwords = state.passwords;
  database = await createTestDatabase('tl_projection_page');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  projection = await createProjectionApp(
    loadConfig({
      THROUGHLINE_MODE: 'development',
      DATABASE_URL: database.url,
      PROJECTION_PORT: String(port),
      PROJECTION_NAME: 'timeline-page',
      LOG_LEVEL: 'error',
      ...oidc.env,
      ACCESS_POLICY_FILE: DEMO_POLICY_FILE,
      OIDC_PAGE_CLIENT_SECRET: state.clientSecrets['throughline-page'],
      RATE_LIMIT_SIGN_IN_PER_MINUTE: String(SIGN_IN_PER_MINUTE),
    }),
    { store },
  );
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await projection?.close();
  await store?.close();
  await database?.drop();
  await oidc?.stop();
});

const record = (...events: AgencyEvent[]): Promise<bigint> => recordAsTheRecorderWould(store, ...events);

function attributeOf(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
}

/** The page's DOM-free logic block, run on its own, as the browser runs it before the UI script. */
function pageLogic(html: string): {
  perspectivesDiffering(entries: unknown[]): Map<number, { position: number }[]>;
  byYear(entries: unknown[]): { year: string; entries: { position: number }[] }[];
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
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<link\b[^>]*rel="stylesheet"/i);
    expect(html).not.toMatch(/\bsrc="(?!data:)/i);
    // Data is written as text only.
    expect(html).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(/);
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

  it("flags perspectives that differ, from the API's own entries, and groups the chronology by year", async () => {
    const nhsNumber = freshNhsNumber();
    const caseRecord = { recordId: freshRecordId('case'), nhsNumber, dateOfBirth: BORN };
    const healthRecord = { recordId: freshRecordId('chs'), nhsNumber, dateOfBirth: BORN };
    // The social worker's own local authority recorded these: theirs to see.
    const socialCare = { agency: 'social-care' as const, system: 'demo-case-system', organisation: '991' };
    const staySafe = (
      occurredAt: string,
      perspective: 'child' | 'family' | 'professional',
      observerRole: string,
      rating: { scale: string; value: number; min: number; max: number },
    ) =>
      buildOutcomeObservationRecorded({
        occurredAt,
        source: socialCare,
        subject: caseRecord,
        data: {
          framework: 'ecm',
          domain: 'stay-safe',
          perspective,
          observerRole,
          observedOn: occurredAt.slice(0, 10),
          narrative: `Synthetic ${observerRole} view of safety at home.`,
          rating,
          confidence: 'medium',
        },
      });
    const tenPoint = (value: number) => ({ scale: 'ten-point', value, min: 1, max: 10 });

    const referral = buildReferralReceived({
      occurredAt: '2023-11-20T10:00:00Z',
      source: socialCare,
      subject: caseRecord,
      data: { referralDate: '2023-11-20', referralSource: '2A', primaryNeed: 'N1', noFurtherAction: false },
    });
    const immunisation = buildImmunisationGiven({
      occurredAt: '2024-03-05T09:00:00Z',
      subject: healthRecord,
      data: { vaccine: 'MMR', dose: 2, givenDate: '2024-03-05' },
    });
    const socialWorkerWorried = staySafe(
      '2024-04-10T15:00:00Z',
      'professional',
      'social worker',
      tenPoint(3),
    );
    const childFeelsSafe = staySafe('2024-05-01T15:00:00Z', 'child', 'child', tenPoint(8));
    // The same viewpoint changing its rating is change over time, not disagreement.
    const socialWorkerLater = staySafe('2024-05-20T15:00:00Z', 'professional', 'social worker', tenPoint(7));
    // Ratings on another scale are not compared.
    const familyFivePoint = staySafe('2024-04-20T15:00:00Z', 'family', 'mother', {
      scale: 'five-point',
      value: 1,
      min: 1,
      max: 5,
    });
    // 5 apart from the child's 8, but more than 90 days later.
    const familyMuchLater = staySafe('2024-09-01T15:00:00Z', 'family', 'mother', tenPoint(3));

    await record(
      referral,
      immunisation,
      socialWorkerWorried,
      childFeelsSafe,
      socialWorkerLater,
      familyFivePoint,
      familyMuchLater,
    );
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
    const differing = logic.perspectivesDiffering(timeline.entries);
    const flagged = Object.fromEntries(
      [...differing.entries()].map(([position, others]) => [position, others.map((other) => other.position)]),
    );
    expect(flagged).toEqual({
      [positionOf(socialWorkerWorried)]: [positionOf(childFeelsSafe)],
      [positionOf(childFeelsSafe)]: [positionOf(socialWorkerWorried)],
    });

    expect(
      logic
        .byYear(timeline.entries)
        .map(({ year, entries }) => [year, entries.map((entry) => entry.position)]),
    ).toEqual([
      ['2023', [positionOf(referral)]],
      [
        '2024',
        [
          immunisation,
          socialWorkerWorried,
          familyFivePoint,
          childFeelsSafe,
          socialWorkerLater,
          familyMuchLater,
        ].map(positionOf),
      ],
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

import { runInNewContext } from 'node:vm';
import type { AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import { loadConfig } from '@throughline/platform';
import {
  buildImmunisationGiven,
  buildOutcomeObservationRecorded,
  buildReferralReceived,
  createTestDatabase,
  freshNhsNumber,
  freshRecordId,
  recordAsTheRecorderWould,
  type TestDatabase,
} from '@throughline/testing';
import { createProjectionApp, type ProjectionApp } from './app';

const BORN = '2015-03-01';

let database: TestDatabase;
let store: PostgresEventStore;
let projection: ProjectionApp;

beforeAll(async () => {
  database = await createTestDatabase('tl_projection_page');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  projection = await createProjectionApp(
    loadConfig({
      THROUGHLINE_MODE: 'development',
      DATABASE_URL: database.url,
      PROJECTION_PORT: '0',
      PROJECTION_NAME: 'timeline-page',
      LOG_LEVEL: 'error',
    }),
    { store },
  );
});

afterAll(async () => {
  await projection?.close();
  await store?.close();
  await database?.drop();
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

describe('timeline page', () => {
  it('is served as HTML under a nonce-based CSP, with the lookup form and nothing from other hosts', async () => {
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

    // The form: labelled fields, and a POST so identifiers never land in a URL even without script.
    const form = /<form\b[^>]*>/.exec(html)?.[0] ?? '';
    expect(attributeOf(form, 'method')).toBe('post');
    for (const id of ['user-id', 'purpose', 'identifier-type', 'agency', 'identifier-value']) {
      expect(html).toContain(`<label for="${id}">`);
      expect(html).toMatch(new RegExp(`<(input|select)[^>]*\\sid="${id}"`));
    }
    for (const purpose of ['direct-care', 'safeguarding', 'analysis', 'audit']) {
      expect(html).toContain(`<option value="${purpose}">`);
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
    const socialCare = { agency: 'social-care' as const, system: 'demo-case-system', organisation: '926' };
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
      'x-user-id': 'hv-0007',
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
});

import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { AccessLog } from '@throughline/access';
import { PostgresEventStore } from '@throughline/event-store';
import { createPool, loadConfig, topicNames } from '@throughline/platform';
import { DeadLetterRedriver, GatewayRejections, PostgresDeadLetters } from '@throughline/recording';
import {
  AccessLogReader,
  buildAttendanceSummarised,
  buildEvent,
  buildImmunisationGiven,
  createTestDatabase,
  recordAsTheRecorderWould,
  startTestAccess,
  type TestAccess,
  type TestDatabase,
} from '@throughline/testing';
import { createProjectionApp, type ProjectionApp } from './app';
import type { AccessReport, FlowReport, FlowRow } from './governance-reports';

/**
 * GET /v1/governance/flows and /v1/governance/access on a real PostgreSQL (store, dead letters,
 * gateway rejections, access log), the real broker (the app's notification relay) and a real
 * OpenID provider: counts per agreement and day, filters, CSV, refusals, and each call audited.
 */

const DAY_MS = 86_400_000;
const today = new Date();
const yesterday = new Date(today.getTime() - DAY_MS);
const dayOf = (date: Date) => date.toISOString().slice(0, 10);
const CHILD = 'ch_0123456789abcdef0123';
const OTHER_CHILD = 'ch_fedcba9876543210fedc';
const PUBLISHER = 'child-health-system'; // recordAsTheRecorderWould names the source system as publisher

let access: TestAccess;
let database: TestDatabase;
let store: PostgresEventStore;
let pool: Pool;
let deadLetters: PostgresDeadLetters;
let projection: ProjectionApp;
let log: AccessLogReader;
let ig: Record<string, string>;

const HEALTH = { agency: 'health' as const, system: PUBLISHER, organisation: 'DEMO-CHS' };

function note(eventType: string, rules: string[], organisation: string | null = 'DEMO-CHS') {
  return {
    note: {
      noteId: randomUUID(),
      agency: 'health' as const,
      publisher: PUBLISHER,
      sourceSystem: PUBLISHER,
      sourceOrganisation: organisation,
      eventType,
      schemaVersion: 1,
      issues: rules.map((rule, i) => ({ path: `data.field${i}`, rule })),
      rejectedAt: today.toISOString(),
    },
    topic: 'it.throughline.gateway-rejections.v1',
    partition: 0,
    offset: String(Math.floor(Math.random() * 1e9)),
  };
}

function deadLetter(offset: number, at: Date) {
  const event = buildImmunisationGiven({ source: HEALTH });
  return {
    topic: topicNames('').agency.health,
    partition: 0,
    offset: String(offset),
    key: event.subject.recordId,
    value: Buffer.from(JSON.stringify(event)),
    headers: { publisher: PUBLISHER, 'event-type': event.type, 'source-system': PUBLISHER },
    reason: 'store-rejected' as const,
    issues: [{ path: '', rule: 'store', message: 'refused for the test' }],
    deadLetteredAt: at,
  };
}

async function get(path: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${projection.url}${path}`, { headers });
}

const period = `from=${encodeURIComponent(new Date(yesterday.getTime() - DAY_MS).toISOString())}&to=${encodeURIComponent(
  new Date(today.getTime() + DAY_MS).toISOString(),
)}`;

beforeAll(async () => {
  access = await startTestAccess();
  database = await createTestDatabase('tl_governance_flows');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  deadLetters = await PostgresDeadLetters.create({ connectionString: database.url });
  pool = createPool(database.url);

  // Accepted: two immunisations and a CAMHS referral from the mental health trust, one attendance.
  await recordAsTheRecorderWould(
    store,
    buildImmunisationGiven({ source: HEALTH }),
    buildImmunisationGiven({ source: HEALTH }),
    buildEvent('health.camhs.referred', { source: { ...HEALTH, organisation: 'DEMO-MHT' } }),
    buildAttendanceSummarised(),
  );
  // Dead-lettered: one today (then re-driven into the store), one yesterday.
  await deadLetters.record([deadLetter(1, today), deadLetter(2, yesterday)]);
  const [redriveMe] = (await deadLetters.list()).deadLetters.filter((d) => d.offset === '1');
  const redriven = await new DeadLetterRedriver({ deadLetters, store, topics: topicNames('') }).redrive(
    redriveMe.id,
    'demo-ig-officer',
  );
  expect(redriven.status).toBe('stored');

  projection = await createProjectionApp(
    loadConfig({
      ...access.env,
      THROUGHLINE_MODE: 'development',
      DATABASE_URL: database.url,
      PROJECTION_PORT: '0',
      PROJECTION_NAME: 'governance-flows',
      LOG_LEVEL: 'error',
    }),
    { store },
  );
  // Rejected at the gateway (the recording migrations ran with the app): two rules on one event.
  await new GatewayRejections(pool).record([
    note('health.immunisation.given', ['required', 'pattern']),
    note('health.immunisation.given', ['required']),
    note('unknown', ['known-event-type'], null),
  ]);
  // Access records to report on, one of them with text a spreadsheet would run as a formula.
  const accessLog = new AccessLog(pool);
  await accessLog.record({
    action: 'timeline',
    principal: { kind: 'person', userId: '=HYPERLINK("http://evil")', roles: ['social-worker'] },
    purpose: 'safeguarding',
    grantedRoles: ['social-worker'],
    policyVersion: 1,
    childKey: CHILD,
    returned: 3,
    withheld: [{ count: 2, reason: '-mental-health: no agreement covers it' }],
    agreements: ['vale-health-to-childrens-services@1'],
    outcome: 'ok',
  });
  await accessLog.record({
    action: 'timeline',
    principal: { kind: 'person', userId: 'demo-health-visitor', roles: ['health-visitor'] },
    purpose: 'direct-care',
    childKey: OTHER_CHILD,
    outcome: 'ok',
  });
  log = new AccessLogReader(pool);
  await log.skip();
  ig = await access.headers('demo-ig-officer', 'information-governance');
}, 120_000);

afterAll(async () => {
  await projection?.close();
  await pool?.end();
  await deadLetters?.close();
  await store?.close();
  await database?.drop();
  await access?.stop();
});

const row = (flows: readonly FlowRow[], match: Partial<FlowRow>): FlowRow | undefined =>
  flows.find((flow) => Object.entries(match).every(([key, value]) => flow[key as keyof FlowRow] === value));

describe('GET /v1/governance/flows', () => {
  it('counts accepted, rejected (by rule), dead-lettered and re-driven events per agreement and day', async () => {
    const response = await get(`/v1/governance/flows?${period}`, ig);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const report = (await response.json()) as FlowReport;
    const immunisation = {
      providingAgency: 'health',
      publisher: PUBLISHER,
      eventType: 'health.immunisation.given',
    };
    for (const agreement of ['vale-health-to-childrens-services@1', 'vale-health-within-health@1']) {
      expect(row(report.flows, { ...immunisation, agreement, day: dayOf(today) })).toMatchObject({
        sourceOrganisation: 'DEMO-CHS',
        agreementTitle: expect.any(String),
        accepted: 2, // the re-driven event is counted as re-driven, not accepted again
        rejected: 2,
        rejectedByRule: { required: 2, pattern: 1 },
        deadLettered: 1,
        redriven: 1,
      });
      expect(row(report.flows, { ...immunisation, agreement, day: dayOf(yesterday) })).toMatchObject({
        accepted: 0,
        deadLettered: 1,
        redriven: 0,
      });
    }
    // Shared only with the local authority, and only from the mental health trust.
    expect(
      report.flows.filter((flow) => flow.eventType === 'health.camhs.referred').map((flow) => flow.agreement),
    ).toEqual(['vale-camhs-safeguarding@1']);
    expect(row(report.flows, { eventType: 'unknown' })).toMatchObject({
      agreement: null,
      rejected: 1,
      rejectedByRule: { 'known-event-type': 1 },
    });
    expect(row(report.flows, { eventType: 'education.attendance.summarised' })).toMatchObject({
      agreement: 'vale-education-to-partners@1',
      accepted: 1,
    });
    // Each event once in the totals, however many agreements share it; the linker's own events are not flows.
    expect(report.totals).toEqual({ accepted: 4, rejected: 3, deadLettered: 2, redriven: 1 });
    expect(report.timeBasis.accepted).toMatch(/recorded/);

    expect(await log.next()).toMatchObject({
      user: 'demo-ig-officer',
      action: 'governance-flows',
      purpose: 'information-governance',
      grantedRoles: 'ig-officer',
      outcome: 'ok',
      returned: report.flows.length,
      extra: { from: report.period.from, to: report.period.to, format: 'json' },
    });
  });

  it('answers CSV for ?format=csv and for Accept: text/csv', async () => {
    for (const [query, headers] of [
      [`?${period}&format=csv`, ig],
      [`?${period}`, { ...ig, accept: 'text/csv' }],
    ] as const) {
      const response = await get(`/v1/governance/flows${query}`, headers);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(response.headers.get('content-disposition')).toMatch(
        /^attachment; filename="throughline-flows-/,
      );
      const lines = (await response.text()).replace(/^\uFEFF/, '').split('\r\n');
      expect(lines[0]).toBe(
        'day,agreement,agreement_title,providing_agency,source_organisation,publisher,event_type,accepted,' +
          'rejected,rejected_by_rule,dead_lettered,redriven',
      );
      expect(lines).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/,health\.immunisation\.given,2,2,pattern=1; required=2,1,1$/),
        ]),
      );
      expect(await log.next()).toMatchObject({ action: 'governance-flows', extra: { format: 'csv' } });
    }
  });
});

describe('GET /v1/governance/access', () => {
  it('lists who read what, why, under which agreement and what was withheld, filtered by child or user', async () => {
    const response = await get(`/v1/governance/access?${period}&child=${CHILD}`, ig);
    expect(response.status).toBe(200);
    const report = (await response.json()) as AccessReport;
    expect(report.truncated).toBe(false);
    expect(report.records).toEqual([
      expect.objectContaining({
        user: '=HYPERLINK("http://evil")',
        purpose: 'safeguarding',
        action: 'timeline',
        childKey: CHILD,
        grantedRoles: 'social-worker',
        returned: 3,
        withheld: [{ count: 2, reason: '-mental-health: no agreement covers it' }],
        agreements: ['vale-health-to-childrens-services@1'],
        outcome: 'ok',
      }),
    ]);
    // Reading a child's access history is itself an access about that child.
    expect(await log.next()).toMatchObject({
      action: 'governance-access',
      childKey: CHILD,
      requestedChildKey: CHILD,
      returned: 1,
      extra: expect.objectContaining({ child: CHILD, truncated: false, format: 'json' }),
    });

    const byUser = (await (
      await get(`/v1/governance/access?${period}&user=demo-health-visitor`, ig)
    ).json()) as AccessReport;
    expect(byUser.records.map((record) => [record.user, record.childKey])).toEqual([
      ['demo-health-visitor', OTHER_CHILD],
    ]);
    await log.skip();

    // Everything in the period, newest first: the governance reads above are in it too.
    const all = (await (await get(`/v1/governance/access?${period}&limit=2`, ig)).json()) as AccessReport;
    expect(all.records).toHaveLength(2);
    expect(all.truncated).toBe(true);
    expect(all.records[0].action).toBe('governance-access');
    await log.skip();
  });

  it('exports CSV that a spreadsheet cannot run as formulas', async () => {
    const response = await get(`/v1/governance/access?${period}&child=${CHILD}&format=csv`, ig);
    expect(response.status).toBe(200);
    await log.skip();
    const [header, ...lines] = (await response.text()).replace(/^\uFEFF/, '').split('\r\n');
    expect(header.split(',').slice(0, 4)).toEqual(['accessed_at', 'user', 'user_name', 'organisation']);
    // The child's records: the social worker's read, and the governance read of its history above.
    expect(lines.filter(Boolean)).toHaveLength(2);
    const first = lines.find((line) => line.includes('HYPERLINK')) ?? '';
    expect(first).toContain(`,"'=HYPERLINK(""http://evil"")",`);
    expect(first).toContain(`,2 × -mental-health: no agreement covers it,`); // starts with a digit: left as is
    expect(first).toContain(`,${CHILD},`);
  });

  it('refuses a bad query with 400 naming the field and rule, and records the refusal', async () => {
    const cases: [string, string, string][] = [
      ['child=9434765919', 'query.child', 'pattern'],
      ['from=2020-01-01T00:00:00Z&to=2022-01-01T00:00:00Z', 'query.from', 'max-period'],
      ['from=yesterday', 'query.from', 'format:datetime'],
      ['limit=0', 'query.limit', 'min'],
      ['nhsNumber=9434765919', 'query.nhsNumber', 'unknown-field'],
      ['format=xml', 'query.format', 'one-of'],
    ];
    for (const [query, path, rule] of cases) {
      const response = await get(`/v1/governance/access?${query}`, ig);
      expect([query, response.status]).toEqual([query, 400]);
      expect(await response.json()).toMatchObject({
        error: 'VALIDATION',
        issues: [expect.objectContaining({ path, rule })],
      });
      expect(await log.next()).toMatchObject({ action: 'governance-access', outcome: 'VALIDATION' });
    }
  });
});

describe('who may read the governance reports', () => {
  it('refuses a social worker and an analyst (403), and anyone without a token (401), recording each', async () => {
    const refusals: [string | null, string, number][] = [
      ['demo-social-worker', 'safeguarding', 403],
      ['demo-social-worker', 'information-governance', 403],
      ['demo-analyst', 'analysis', 403],
      ['demo-analyst', 'information-governance', 403],
      [null, 'information-governance', 401],
    ];
    for (const path of ['/v1/governance/flows', '/v1/governance/access']) {
      for (const [user, purpose, status] of refusals) {
        const headers = user ? await access.headers(user, purpose) : { 'x-purpose': purpose };
        const response = await get(`${path}?${period}`, headers);
        expect([path, user, purpose, response.status]).toEqual([path, user, purpose, status]);
        expect(await log.next()).toMatchObject({
          user: user ?? '(unverified)',
          outcome: status === 403 ? 'FORBIDDEN' : 'UNAUTHENTICATED',
        });
      }
    }
  });

  it('serves the governance page shell publicly, under the page CSP', async () => {
    const response = await fetch(`${projection.url}/governance`);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(csp).toContain("require-trusted-types-for 'script'");
    const html = await response.text();
    expect(html).toContain(`nonce="${nonce}"`);
    expect(html).not.toContain('__CSP_NONCE__');
    expect(html).toContain('Information governance');
    expect(await log.sinceLastRead()).toEqual([]);
  });
});

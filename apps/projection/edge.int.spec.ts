import { connect } from 'node:net';
import type { Pool } from 'pg';
import { PostgresEventStore } from '@throughline/event-store';
import { API_CSP, createPool, DOCS_CSP, loadConfig } from '@throughline/platform';
import {
  AccessLogReader,
  createTestDatabase,
  startTestAccess,
  type AccessLogEntry,
  type TestAccess,
  type TestDatabase,
} from '@throughline/testing';
import { createProjectionApp, type ProjectionApp } from './app';

/**
 * The edge as an outside client meets it on the projection: security headers, no caching of child
 * data, body limits, invalid text refused (and audited, as `edge-refusal` in the access log, with
 * the verified caller when the token verifies) before any handler, lookup rate-limited. Every
 * caller here holds a real token from the local OpenID provider.
 */

const LOOKUP_LIMIT = 60;
const JSON_BODY = { 'content-type': 'application/json' };

let access: TestAccess;
let database: TestDatabase;
let store: PostgresEventStore;
let projection: ProjectionApp;
let pool: Pool;
let log: AccessLogReader;
/** The demo social worker, asking for direct care. */
let HEADERS: Record<string, string>;

beforeAll(async () => {
  access = await startTestAccess();
  database = await createTestDatabase('tl_projection_edge');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  projection = await createProjectionApp(
    loadConfig({
      ...access.env,
      THROUGHLINE_MODE: 'development',
      DATABASE_URL: database.appUrl,
      PROJECTION_PORT: '0',
      PROJECTION_NAME: 'edge',
      RATE_LIMIT_LOOKUP_PER_MINUTE: String(LOOKUP_LIMIT),
      LOG_LEVEL: 'error',
    }),
    { store },
  );
  pool = createPool(database.url);
  log = new AccessLogReader(pool);
  HEADERS = await access.headers('demo-social-worker', 'direct-care', JSON_BODY);
});

afterEach(async () => {
  // Each test reads back what it wrote; nothing may be left unchecked.
  if (log) expect(await log.sinceLastRead()).toEqual([]);
});

afterAll(async () => {
  await pool?.end();
  await projection?.close();
  await store?.close();
  await database?.drop();
  await access?.stop();
});

/** What the demo social worker's refused requests are recorded as (before the route's own rule runs). */
const socialWorker = (entry: Partial<AccessLogEntry>): Partial<AccessLogEntry> => ({
  user: 'demo-social-worker',
  organisation: '991',
  grantedRoles: null,
  purpose: 'direct-care',
  childKey: null,
  returned: 0,
  withheld: [],
  ...entry,
});

function post(path: string, body: string, headers: Record<string, string> = HEADERS): Promise<Response> {
  return fetch(`${projection.url}${path}`, { method: 'POST', headers, body });
}

async function refusal(response: Response): Promise<{ status: number; body: Record<string, unknown> }> {
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Sends bytes fetch would refuse to send (a NUL in a header) and reads the whole answer. */
function rawRequest(request: string): Promise<string> {
  const { hostname, port } = new URL(projection.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () =>
      socket.write(Buffer.from(request, 'latin1')),
    );
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('the edge of the projection', () => {
  it('sends security headers, API_CSP and no-store on API answers, errors included', async () => {
    const response = await fetch(`${projection.url}/v1/children/ch_00000000000000000000/timeline`, {
      headers: HEADERS,
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toBe(API_CSP);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(await log.next()).toMatchObject(
      socialWorker({
        action: 'timeline',
        outcome: 'NOT_FOUND',
        grantedRoles: 'social-worker',
        policyVersion: 1,
        requestedChildKey: 'ch_00000000000000000000',
      }),
    );
  });

  it('answers 401 without a token and records the refusal, unverified', async () => {
    const { authorization: _token, ...anonymous } = HEADERS;
    const response = await fetch(`${projection.url}/v1/children/ch_00000000000000000000/timeline`, {
      headers: anonymous,
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await log.next()).toMatchObject({
      user: '(unverified)',
      organisation: null,
      purpose: '(none)',
      action: 'timeline',
      outcome: 'UNAUTHENTICATED',
      requestedChildKey: 'ch_00000000000000000000',
      childKey: null,
    });
  });

  it("keeps the page's own nonce and Trusted Types CSP, not the API's", async () => {
    const response = await fetch(`${projection.url}/`);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'nonce-[^']+'/);
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(csp).not.toContain("default-src 'none'");
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('serves the OpenAPI UI at /docs under a CSP that lets its own scripts and styles load', async () => {
    const page = await fetch(`${projection.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(DOCS_CSP);
    const html = await page.text();
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((match) => match[1]);
    expect(scripts.length).toBeGreaterThan(0);
    // No inline script: DOCS_CSP has no 'unsafe-inline' for scripts.
    expect(html).not.toMatch(/<script>(?!\s*<\/script>)[^<]*\S/);
    for (const script of scripts) {
      const asset = await fetch(new URL(script, `${projection.url}/docs`));
      expect([script, asset.status]).toEqual([script, 200]);
    }
  });

  it('refuses a body over 64 KiB with 413 naming the limit', async () => {
    const response = await post('/v1/children/lookup', JSON.stringify({ padding: 'x'.repeat(70 * 1024) }));
    expect(await refusal(response)).toEqual({
      status: 413,
      body: { error: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('65536 bytes (64 KiB)') },
    });
    // Refused by the body parser, before the text checks and the access guard: not recorded.
  });

  it('refuses a NUL in a child key with 400 naming params.childKey and no-nul, and audits it', async () => {
    const response = await fetch(`${projection.url}/v1/children/ch_%00abc/timeline`, { headers: HEADERS });
    expect(await refusal(response)).toMatchObject({
      status: 400,
      body: { error: 'VALIDATION', issues: [{ path: 'params.childKey', rule: 'no-nul' }] },
    });
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await log.next()).toEqual(
      socialWorker({
        action: 'edge-refusal',
        outcome: 'VALIDATION',
        requestedChildKey: 'ch_\\u0000abc',
        childKeys: null,
        policyVersion: null,
        agreements: null,
        breakGlass: null,
        refusal: 'params.childKey: no-nul',
        extra: { method: 'GET', route: '/v1/children/:childKey/timeline' },
      }),
    );
  });

  it('records a refusal at the edge as unverified when the token does not verify', async () => {
    const response = await fetch(`${projection.url}/v1/children/ch_%00abc/timeline`, {
      headers: { ...HEADERS, authorization: 'Bearer not.a.token' },
    });
    expect(response.status).toBe(400);
    expect(await log.next()).toMatchObject({
      user: '(unverified)',
      organisation: null,
      purpose: 'direct-care',
      action: 'edge-refusal',
      outcome: 'VALIDATION',
      refusal: 'params.childKey: no-nul',
    });
  });

  it('refuses a NUL in a lookup body with 400 naming body.identifier.value, and audits it', async () => {
    const response = await post(
      '/v1/children/lookup',
      JSON.stringify({ identifier: { type: 'record', agency: 'health', value: 'chs-1\u0000' } }),
    );
    expect(await refusal(response)).toMatchObject({
      status: 400,
      body: { issues: [{ path: 'body.identifier.value', rule: 'no-nul' }] },
    });
    expect(await log.next()).toMatchObject(
      socialWorker({
        action: 'edge-refusal',
        outcome: 'VALIDATION',
        requestedChildKey: null,
        refusal: 'body.identifier.value: no-nul',
        extra: { method: 'POST', route: '/v1/children/lookup' },
      }),
    );
  });

  it('refuses a NUL in an identity review body with 400 naming body.reason, and audits it in the access log', async () => {
    const response = await post(
      '/v1/identity/unlink',
      JSON.stringify({ agency: 'health', recordId: 'chs-000123', reason: 'wrong child\u0000' }),
      await access.headers('demo-supervisor', 'identity-review', JSON_BODY),
    );
    expect(await refusal(response)).toMatchObject({
      status: 400,
      body: { issues: [{ path: 'body.reason', rule: 'no-nul' }] },
    });
    expect(await log.next()).toMatchObject({
      user: 'demo-supervisor',
      organisation: '991',
      purpose: 'identity-review',
      action: 'edge-refusal',
      outcome: 'VALIDATION',
      refusal: 'body.reason: no-nul',
      extra: { method: 'POST', route: '/v1/identity/unlink' },
    });
    // No handler ran: the identity review's own audit has nothing to say.
    const audit = await pool.query('SELECT count(*)::int AS n FROM identity_audit_log');
    expect(audit.rows).toEqual([{ n: 0 }]);
  });

  it('refuses other control characters in a query as valid-text, and audits it', async () => {
    const response = await fetch(`${projection.url}/v1/identity/proposals?status=open%01`, {
      headers: await access.headers('demo-supervisor', 'identity-review'),
    });
    expect(await refusal(response)).toMatchObject({
      status: 400,
      body: { issues: [{ path: 'query.status', rule: 'valid-text' }] },
    });
    expect(await log.next()).toMatchObject({
      user: 'demo-supervisor',
      purpose: 'identity-review',
      action: 'edge-refusal',
      outcome: 'VALIDATION',
      refusal: 'query.status: valid-text',
      extra: { method: 'GET', route: '/v1/identity/proposals' },
    });
  });

  it('refuses a NUL in x-purpose with 400 naming the header and rule (the HTTP parser refuses it)', async () => {
    const answer = await rawRequest(
      'GET /v1/children/ch_00000000000000000000/timeline HTTP/1.1\r\nHost: localhost\r\n' +
        `authorization: ${HEADERS.authorization}\r\nx-purpose: direct\u0000care\r\nConnection: close\r\n\r\n`,
    );
    const [head, body] = answer.split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(JSON.parse(body)).toMatchObject({
      error: 'VALIDATION',
      issues: [{ path: 'headers.x-purpose', rule: 'no-nul' }],
    });
    // Node's HTTP parser refused it: no route ran, so there is nothing to record (and no token was read).
  });

  // Last: it spends this address's lookup budget for the minute.
  it('stops an enumeration: 300 lookups from one caller get 429 with Retry-After past the limit', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 300; i += 1) {
      const response = await post(
        '/v1/children/lookup',
        JSON.stringify({ identifier: { type: 'record', agency: 'health', value: `chs-${i}` } }),
      );
      statuses.push(response.status);
      if (response.status === 429) limited ??= response;
      else await response.body?.cancel();
    }
    const answered = statuses.filter((status) => status !== 429).length;
    // Earlier tests in this file spent some of the budget (refusals count too).
    expect(answered).toBeLessThanOrEqual(LOOKUP_LIMIT);
    expect(statuses.slice(LOOKUP_LIMIT)).toEqual(Array(300 - LOOKUP_LIMIT).fill(429));
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited?.headers.get('cache-control')).toBe('no-store');
    expect(await limited?.json()).toEqual({ error: 'RATE_LIMITED', message: expect.stringContaining('60') });
    // Every lookup that got through is recorded (a miss is NOT_FOUND); the ones refused by the limit
    // never reached the guard: they read nothing.
    const records = await log.sinceLastRead();
    expect(records).toHaveLength(answered);
    for (const record of records)
      expect(record).toMatchObject(
        socialWorker({ action: 'lookup', outcome: 'NOT_FOUND', grantedRoles: 'social-worker', returned: 0 }),
      );
  });
});

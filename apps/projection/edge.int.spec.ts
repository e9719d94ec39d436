import { connect } from 'node:net';
import type { Pool } from 'pg';
import { PostgresEventStore } from '@throughline/event-store';
import { API_CSP, createPool, DOCS_CSP, loadConfig } from '@throughline/platform';
import { createTestDatabase, type TestDatabase } from '@throughline/testing';
import { createProjectionApp, type ProjectionApp } from './app';

/**
 * The edge as an outside client meets it on the projection: security headers, no caching of child
 * data, body limits, invalid text refused (and audited) before any handler, lookup rate-limited.
 */

const LOOKUP_LIMIT = 60;
const HEADERS = {
  'content-type': 'application/json',
  'x-user-id': 'sw-0042',
  'x-user-role': 'social worker',
  'x-purpose': 'direct-care',
};

let database: TestDatabase;
let store: PostgresEventStore;
let projection: ProjectionApp;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase('tl_projection_edge');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  projection = await createProjectionApp(
    loadConfig({
      THROUGHLINE_MODE: 'development',
      DATABASE_URL: database.url,
      PROJECTION_PORT: '0',
      PROJECTION_NAME: 'edge',
      RATE_LIMIT_LOOKUP_PER_MINUTE: String(LOOKUP_LIMIT),
      LOG_LEVEL: 'error',
    }),
    { store },
  );
  pool = createPool(database.url);
});

afterAll(async () => {
  await pool?.end();
  await projection?.close();
  await store?.close();
  await database?.drop();
});

function post(path: string, body: string, headers: Record<string, string> = HEADERS): Promise<Response> {
  return fetch(`${projection.url}${path}`, { method: 'POST', headers, body });
}

async function refusal(response: Response): Promise<{ status: number; body: Record<string, unknown> }> {
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Rows of the access log with outcome VALIDATION (the refusals). */
async function accessRefusals(): Promise<Record<string, unknown>[]> {
  const result = await pool.query(
    `SELECT user_id, purpose, action, requested_child_key, child_key, returned_entries, outcome
     FROM access_log WHERE outcome <> 'ok' ORDER BY id`,
  );
  return result.rows;
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
  });

  it('refuses a NUL in a child key with 400 naming params.childKey and no-nul, and audits it', async () => {
    const response = await fetch(`${projection.url}/v1/children/ch_%00abc/timeline`, { headers: HEADERS });
    expect(await refusal(response)).toMatchObject({
      status: 400,
      body: { error: 'VALIDATION', issues: [{ path: 'params.childKey', rule: 'no-nul' }] },
    });
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await accessRefusals()).toContainEqual({
      user_id: 'sw-0042',
      purpose: 'direct-care',
      action: 'timeline',
      requested_child_key: 'ch_\\u0000abc',
      child_key: null,
      returned_entries: 0,
      outcome: 'VALIDATION',
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
    expect(await accessRefusals()).toContainEqual(
      expect.objectContaining({ action: 'lookup', requested_child_key: null, outcome: 'VALIDATION' }),
    );
  });

  it('refuses a NUL in an identity review body with 400 naming body.reason, and audits it', async () => {
    const response = await post(
      '/v1/identity/unlink',
      JSON.stringify({ agency: 'health', recordId: 'chs-000123', reason: 'wrong child\u0000' }),
      { ...HEADERS, 'x-purpose': 'identity-review' },
    );
    expect(await refusal(response)).toMatchObject({
      status: 400,
      body: { issues: [{ path: 'body.reason', rule: 'no-nul' }] },
    });
    const audit = await pool.query(
      "SELECT user_id, purpose, action, target, outcome FROM identity_audit_log WHERE outcome = 'VALIDATION'",
    );
    expect(audit.rows).toEqual([
      { user_id: 'sw-0042', purpose: 'identity-review', action: 'unlink', target: {}, outcome: 'VALIDATION' },
    ]);
  });

  it('refuses other control characters in a query as valid-text', async () => {
    const response = await fetch(`${projection.url}/v1/identity/proposals?status=open%01`, {
      headers: { ...HEADERS, 'x-purpose': 'identity-review' },
    });
    expect(await refusal(response)).toMatchObject({
      status: 400,
      body: { issues: [{ path: 'query.status', rule: 'valid-text' }] },
    });
  });

  it('refuses a NUL in x-purpose with 400 naming the header and rule (the HTTP parser refuses it)', async () => {
    const answer = await rawRequest(
      'GET /v1/children/ch_00000000000000000000/timeline HTTP/1.1\r\nHost: localhost\r\n' +
        'x-user-id: sw-0042\r\nx-purpose: direct\u0000care\r\nConnection: close\r\n\r\n',
    );
    const [head, body] = answer.split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(JSON.parse(body)).toMatchObject({
      error: 'VALIDATION',
      issues: [{ path: 'headers.x-purpose', rule: 'no-nul' }],
    });
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
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BATCH_BODY_LIMIT_BYTES, EVENT_BODY_LIMIT_BYTES, loadConfig } from '@throughline/platform';
import { buildImmunisationGiven } from '@throughline/testing';
import { createAgencyApp, type RunningAgencyApp } from './index';

/**
 * The edge of an agency service: body limits per route and the publish rate limit, refused before
 * the publisher is even authenticated (so no broker is needed: nothing listens on port 1).
 */

const PUBLISH_LIMIT = 5;
let running: RunningAgencyApp;

beforeAll(async () => {
  running = await createAgencyApp(
    'health',
    loadConfig({
      THROUGHLINE_MODE: 'development',
      KAFKA_BROKERS: '127.0.0.1:1',
      HEALTH_PORT: '0',
      RATE_LIMIT_PUBLISH_PER_MINUTE: String(PUBLISH_LIMIT),
      LOG_LEVEL: 'error',
    }),
  );
});

afterAll(async () => {
  await running?.close();
});

function post(path: string, body: string): Promise<Response> {
  return fetch(`${running.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
}

describe('the edge of an agency service', () => {
  it('refuses one event over its limit, and a batch over the batch limit, with 413 naming the limit', async () => {
    const event = buildImmunisationGiven();
    const oversizedEvent = JSON.stringify({ ...event, padding: 'x'.repeat(EVENT_BODY_LIMIT_BYTES) });
    const single = await post('/v1/events', oversizedEvent);
    expect([single.status, await single.json()]).toEqual([
      413,
      {
        error: 'PAYLOAD_TOO_LARGE',
        message: expect.stringContaining(`${EVENT_BODY_LIMIT_BYTES} bytes (256 KiB)`),
      },
    ]);
    const batch = await post(
      '/v1/events/batch',
      JSON.stringify({ padding: 'x'.repeat(BATCH_BODY_LIMIT_BYTES) }),
    );
    expect([batch.status, await batch.json()]).toEqual([
      413,
      { error: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('(8 MiB)') },
    ]);
  });

  // Last: it spends this address's publish budget for the minute.
  it('limits publishing per caller over both routes: 429 with Retry-After past the limit', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < PUBLISH_LIMIT * 2; i += 1) {
      const response = await post(i % 2 ? '/v1/events' : '/v1/events/batch', '{}');
      statuses.push(response.status);
      if (response.status === 429) limited ??= response;
      else await response.body?.cancel();
    }
    // The 413s above counted too; every answer past the budget is a 429.
    expect(statuses.filter((status) => status !== 429).length).toBeLessThanOrEqual(PUBLISH_LIMIT);
    expect(statuses.slice(PUBLISH_LIMIT)).toEqual(Array(PUBLISH_LIMIT).fill(429));
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited?.json()).toEqual({ error: 'RATE_LIMITED', message: expect.any(String) });
  });
});

describe('an app with TLS_CERT_FILE and TLS_KEY_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'throughline-tls-'));
  const [certFile, keyFile] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  let secure: RunningAgencyApp | undefined;

  afterAll(async () => {
    await secure?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS only, with that certificate', async () => {
    // A throwaway self-signed certificate for 127.0.0.1.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    secure = await createAgencyApp(
      'health',
      loadConfig({
        THROUGHLINE_MODE: 'development',
        KAFKA_BROKERS: '127.0.0.1:1',
        HEALTH_PORT: '0',
        TLS_CERT_FILE: certFile,
        TLS_KEY_FILE: keyFile,
        LOG_LEVEL: 'error',
      }),
    );
    expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      get(`${secure!.url}/health/live`, { ca: readFileSync(certFile) }, (response) => {
        response.resume();
        resolve(response.statusCode);
      }).on('error', reject);
    });
    expect(status).toBe(200);
    // Plain HTTP on the same port gets no answer.
    await expect(fetch(`${secure.url.replace('https', 'http')}/health/live`)).rejects.toThrow();
  });
});

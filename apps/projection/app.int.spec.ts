import type { AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import { createPool, loadConfig } from '@throughline/platform';
import {
  buildAttendanceSummarised,
  buildImmunisationGiven,
  buildReferralReceived,
  createTestDatabase,
  freshNhsNumber,
  freshRecordId,
  freshUpn,
  metricValue,
  recordAsTheRecorderWould,
  scrapeMetrics,
  startTestAccess,
  type TestAccess,
  type TestDatabase,
} from '@throughline/testing';
import { childKeyOf } from '@throughline/timeline';
import { createProjectionApp } from './app';

const PROJECTION = 'timeline-http';
const BORN = '2015-03-01';

let database: TestDatabase;
let store: PostgresEventStore;
let access: TestAccess;

beforeAll(async () => {
  access = await startTestAccess();
  database = await createTestDatabase('tl_projection_app');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
});

afterAll(async () => {
  await store?.close();
  await database?.drop();
  await access?.stop();
});

async function accessLogOf(userId: string): Promise<Record<string, unknown>[]> {
  const pool = createPool(database.url);
  try {
    const result = await pool.query(
      `SELECT user_id, user_role, purpose, action, child_key, returned_entries, withheld, outcome,
              details->'principal'->'organisation'->>'code' AS organisation, details->'agreements' AS agreements
       FROM access_log WHERE user_id = $1 ORDER BY id`,
      [userId],
    );
    return result.rows;
  } finally {
    await pool.end();
  }
}

const record = (...events: AgencyEvent[]): Promise<bigint> => recordAsTheRecorderWould(store, ...events);

function oneChild() {
  const nhsNumber = freshNhsNumber();
  const upn = freshUpn();
  const health = freshRecordId('chs');
  return {
    upn,
    healthStream: `health-${health}`,
    events: [
      buildImmunisationGiven({
        occurredAt: '2024-03-05T09:00:00Z',
        subject: { recordId: health, nhsNumber, dateOfBirth: BORN },
        data: { vaccine: 'MMR', dose: 2, givenDate: '2024-03-05' },
      }),
      buildReferralReceived({
        occurredAt: '2024-02-01T14:30:00+00:00',
        // Recorded by the demo social worker's own local authority.
        source: { organisation: '991' },
        subject: { recordId: freshRecordId('case'), nhsNumber, upn, dateOfBirth: BORN },
        data: { referralDate: '2024-02-01', referralSource: '2A', primaryNeed: 'N1', noFurtherAction: false },
      }),
      buildAttendanceSummarised({
        occurredAt: '2024-03-05T09:00:00Z',
        subject: { recordId: freshRecordId('pupil'), upn, dateOfBirth: BORN },
        data: {
          academicYear: '2023/24',
          term: 'autumn',
          sessionsPossible: 114,
          authorisedAbsence: 6,
          unauthorisedAbsence: 4,
        },
      }),
    ],
  };
}

describe('projection app over HTTP', () => {
  it('serves lookup and timeline to a verified user, writing who looked, why and what they got to the access log', async () => {
    const child = oneChild();
    const last = await record(...child.events);
    const config = loadConfig({
      ...access.env,
      THROUGHLINE_MODE: 'development',
      DATABASE_URL: database.url,
      PROJECTION_PORT: '0',
      PROJECTION_NAME: PROJECTION,
      LOG_LEVEL: 'error',
    });
    const projection = await createProjectionApp(config, { store });
    try {
      await projection.caughtUp();
      const headers = await access.headers('demo-social-worker', 'safeguarding', {
        'content-type': 'application/json',
      });

      const lookup = await fetch(`${projection.url}/v1/children/lookup`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ identifier: { type: 'upn', value: child.upn } }),
      });
      expect(lookup.status).toBe(200);
      const { childKey } = (await lookup.json()) as { childKey: string };
      expect(childKey).toBe(childKeyOf(child.healthStream));

      const timeline = await fetch(`${projection.url}/v1/children/${childKey}/timeline`, { headers });
      expect(timeline.status).toBe(200);
      const body = (await timeline.json()) as {
        childKey: string;
        dateOfBirth?: string;
        subjects: { dateOfBirth?: string }[];
        entries: { summary: string }[];
      };
      expect(body.childKey).toBe(childKey);
      expect(body.subjects).toHaveLength(3);
      // Ages are counted from the date of birth the records give (migration 008 keeps it per record).
      expect(body.dateOfBirth).toBe(BORN);
      expect(body.subjects.map((subject) => subject.dateOfBirth)).toEqual([BORN, BORN, BORN]);
      expect(body.entries.map((entry) => entry.summary)).toEqual([
        'Referral received from SCHOOLS — primary need: Abuse or neglect',
        'Immunisation given: Measles, mumps and rubella, dose 2',
        'Attendance autumn 2023/24: 91.2% (104 attended, 6 authorised, 4 unauthorised of 114 sessions)',
      ]);

      const asked = {
        user_id: 'demo-social-worker',
        user_role: 'social-worker',
        purpose: 'safeguarding',
        organisation: '991',
        outcome: 'ok',
        withheld: [],
      };
      expect(await accessLogOf('demo-social-worker')).toEqual([
        { ...asked, action: 'lookup', child_key: childKey, returned_entries: 1, agreements: null },
        {
          ...asked,
          action: 'timeline',
          child_key: childKey,
          returned_entries: 3,
          agreements: ['vale-education-to-partners@1', 'vale-health-to-childrens-services@1'],
        },
      ]);

      const { 'x-purpose': _purpose, ...withoutPurpose } = headers;
      const noPurpose = await fetch(`${projection.url}/v1/children/${childKey}/timeline`, {
        headers: withoutPurpose,
      });
      expect(noPurpose.status).toBe(400);
      expect(await noPurpose.json()).toMatchObject({
        error: 'VALIDATION',
        issues: [expect.objectContaining({ path: 'headers.x-purpose', rule: 'required' })],
      });

      const { authorization: _token, ...anonymous } = headers;
      const noUser = await fetch(`${projection.url}/v1/children/${childKey}/timeline`, {
        headers: { ...anonymous, 'x-user-id': 'sw-0042' },
      });
      expect(noUser.status).toBe(401);
      expect(await noUser.json()).toMatchObject({ error: 'UNAUTHENTICATED' });

      const unknown = await fetch(`${projection.url}/v1/children/ch_00000000000000000000/timeline`, {
        headers,
      });
      expect(unknown.status).toBe(404);
      const notFound = await fetch(`${projection.url}/v1/children/lookup`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ identifier: { type: 'record', agency: 'health', value: 'nobody-here' } }),
      });
      expect(notFound.status).toBe(404);

      const operator = await access.headers('demo-monitoring');
      const status = await fetch(`${projection.url}/v1/projection/status`, { headers: operator });
      expect(await status.json()).toMatchObject({ projection: PROJECTION, lag: 0, running: true });
      for (const path of ['/health', '/health/ready']) {
        const ready = await fetch(`${projection.url}${path}`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toMatchObject({
          status: 'ok',
          details: {
            database: { status: 'up' },
            projection: { status: 'up', running: true, lag: 0 },
            identityLinker: { status: 'up', running: true, lag: 0 },
          },
        });
      }
      expect((await fetch(`${projection.url}/health/live`)).status).toBe(200);
      const linker = await fetch(`${projection.url}/v1/identity/linker/status`, { headers: operator });
      expect(await linker.json()).toMatchObject({ linker: 'identity-linker', lag: 0, running: true });

      // Prometheus: both subscriptions' position and lag, batch durations, requests by route pattern.
      expect((await fetch(`${projection.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${projection.url}/metrics`, { headers: anonymous })).status).toBe(401);
      const text = await scrapeMetrics(projection.url, operator);
      const app = { app: 'projection' };
      for (const subscription of [PROJECTION, 'identity-linker']) {
        const labels = { ...app, subscription };
        expect(metricValue(text, 'throughline_subscription_position', labels)).toBeGreaterThanOrEqual(
          Number(last),
        );
        expect(metricValue(text, 'throughline_subscription_lag_events', labels)).toBe(0);
        expect(metricValue(text, 'throughline_subscription_lag_seconds', labels)).toBe(0);
        expect(
          metricValue(text, 'throughline_subscription_batch_duration_seconds_count', labels),
        ).toBeGreaterThanOrEqual(1);
      }
      expect(
        metricValue(text, 'throughline_http_request_duration_seconds_count', {
          ...app,
          method: 'GET',
          route: '/v1/children/:childKey/timeline',
          status_code: '200',
        }),
      ).toBeGreaterThanOrEqual(1);
      expect(text).not.toContain(childKey);

      // A subscription that stopped makes the app not ready (and says which).
      await projection.projector.stop();
      const notReady = await fetch(`${projection.url}/health/ready`);
      expect(notReady.status).toBe(503);
      expect(notReady.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await notReady.json()).toMatchObject({
        status: 'error',
        error: { projection: { status: 'down' } },
      });
      expect((await fetch(`${projection.url}/health/live`)).status).toBe(200);
    } finally {
      await projection.close();
    }
    // The caller's store stays open.
    expect(await store.headPosition()).toBeGreaterThanOrEqual(last); // and the linker's events after it
  });

  it('fails to start, retriably, when the configured EventStoreDB does not answer', async () => {
    const config = loadConfig({
      THROUGHLINE_MODE: 'development',
      DATABASE_URL: database.url,
      EVENT_STORE: 'eventstoredb',
      EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:1?tls=false',
      PROJECTION_PORT: '0',
    });
    await expect(createProjectionApp(config)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});

import { randomUUID } from 'node:crypto';
import { logLevel, type Kafka, type Producer } from 'kafkajs';
import type { Pool } from 'pg';
import { TokenVerifier } from '@throughline/access';
import type { AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import { IdentityLinker, migrateIdentity } from '@throughline/identity';
import {
  accessNotificationOf,
  accessNotificationsTopic,
  AccessNotificationRelay,
  migrateNotifications,
  notifyIfNeeded,
  verifyAccessNotificationReadsChain,
  type ReceivedNotification,
} from '@throughline/notifications';
import { createKafka, createPool, loadConfig, type Config } from '@throughline/platform';
import {
  buildEvent,
  createTestDatabase,
  freshNhsNumber,
  freshRecordId,
  grantKafkaAccess,
  recordAsTheRecorderWould,
  startLocalOidcProvider,
  waitFor,
  type LocalOidcProvider,
  type TestDatabase,
} from '@throughline/testing';
import { TimelineProjector, childKeyOf, migrateTimeline } from '@throughline/timeline';
import type { RunningAgencyApp } from '@throughline/agency-gateway';
import { createSocialCareApp } from './app';

/**
 * CP-IS-style notifications end to end on real infrastructure: a health visitor reads the
 * chronology of a child on a plan of LA 991 → the outbox → the relay (producer principal) →
 * Kafka → the social-care service's consumer (consumer principal, Nest's Kafka transport) →
 * GET /v1/access-notifications for LA 991's social worker, with tokens of the local OpenID provider.
 */

const DAY_MS = 24 * 60 * 60 * 1000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS);
const dateOf = (days: number) => daysAgo(days).toISOString().slice(0, 10);

let provider: LocalOidcProvider;
let database: TestDatabase;
let config: Config;
let socialCare: RunningAgencyApp;
let store: PostgresEventStore;
let pool: Pool;
let projector: TimelineProjector;
let linker: IdentityLinker;
let relay: AccessNotificationRelay;
let testKafka: Kafka;
let producer: Producer;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  provider = await startLocalOidcProvider();
  database = await createTestDatabase('tl_social_care_notify');
  config = loadConfig({
    THROUGHLINE_MODE: 'development',
    ...provider.env,
    DATABASE_URL: database.url,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    KAFKA_TOPIC_PREFIX: `it-sc-notify-${randomUUID().slice(0, 8)}.`,
    KAFKA_PARTITIONS: '1',
    SOCIAL_CARE_PORT: '0',
    SUBSCRIPTION_IDLE_POLL_MS: '200',
    LOG_LEVEL: 'error',
  });
  await grantKafkaAccess(config); // topics and the apps' principals' ACLs under this prefix
  socialCare = await createSocialCareApp(config);
  // The projection's side, on the same database: read models and the outbox relay.
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  pool = createPool(database.url);
  await migrateTimeline(pool);
  await migrateIdentity(pool);
  await migrateNotifications(pool);
  linker = new IdentityLinker({ pool, store });
  await linker.start();
  projector = new TimelineProjector({ pool, store, name: 'sc-notify-int' });
  await projector.start();
  relay = new AccessNotificationRelay({ pool, config, idlePollMs: 200 });
  await relay.start();
  testKafka = createKafka(config, 'test', { clientSuffix: 'sc-notify-test' });
  testKafka.logger().setLogLevel(logLevel.NOTHING);
  producer = testKafka.producer();
  await producer.connect();
  for (const name of ['demo-social-worker', 'demo-health-visitor', 'demo-analyst', 'demo-ig-officer'])
    tokens[name] = await provider.token(name);
}, 240_000);

afterAll(async () => {
  await producer?.disconnect();
  await relay?.stop();
  await projector?.stop();
  await linker?.stop();
  await socialCare?.close();
  await store?.close();
  await pool?.end();
  await database?.drop();
  await provider?.stop();
});

/** A child of LA 991 on a child protection plan for two months; returns its key and LA record id. */
async function childOnPlan(): Promise<{ childKey: string; recordId: string }> {
  const recordId = freshRecordId('LA991');
  const event = buildEvent('social-care.child-protection-plan.started', {
    occurredAt: daysAgo(60).toISOString(),
    source: { agency: 'social-care', system: 'demo-case-system', organisation: '991' },
    subject: { recordId, nhsNumber: freshNhsNumber(), laCode: '991', dateOfBirth: dateOf(7 * 365) },
    data: { startDate: dateOf(60) },
  }) as AgencyEvent;
  const position = await recordAsTheRecorderWould(store, event);
  await linker.waitForPosition(position);
  await projector.waitForPosition(await store.headPosition());
  return { childKey: childKeyOf(`social-care-${recordId}`), recordId };
}

async function list(
  token: string | undefined,
  headers: Record<string, string> = { 'x-purpose': 'safeguarding' },
  query = '',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${socialCare.url}/v1/access-notifications${query}`, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const notificationsOf = (body: Record<string, unknown>) => body.notifications as ReceivedNotification[];

async function storedCount(notificationId: string): Promise<number> {
  const result = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM access_notifications WHERE notification_id = $1',
    [notificationId],
  );
  return result.rows[0].n;
}

describe('access notifications at the social-care service', () => {
  it("tells LA 991 that a health visitor read its child's chronology, and only LA 991's staff may list it", async () => {
    const child = await childOnPlan();
    const healthVisitor = await TokenVerifier.fromConfig(config).verify(tokens['demo-health-visitor']);
    const outcome = await notifyIfNeeded(pool, {
      childKey: child.childKey,
      requester: healthVisitor,
      purpose: 'safeguarding',
      breakGlass: false,
    });
    if (!outcome.notified) throw new Error(`not notified: ${outcome.reason}`);

    let listed: ReceivedNotification | undefined;
    await waitFor(
      async () => {
        const { status, body } = await list(tokens['demo-social-worker']);
        listed =
          status === 200
            ? notificationsOf(body).find((n) => n.notificationId === outcome.notificationId)
            : undefined;
        return listed !== undefined;
      },
      { message: 'the notification listed for LA 991', timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(listed).toMatchObject({
      childKey: child.childKey,
      recordIds: [child.recordId],
      responsibleLocalAuthority: { code: '991' },
      status: { kind: 'child-protection-plan', since: expect.stringMatching(new RegExp(`^${dateOf(60)}`)) },
      accessor: {
        userId: healthVisitor.userId,
        name: 'Priya Shah (demo health visitor)',
        organisation: { code: 'DEMO-CHS', type: 'health' },
        roles: ['health-visitor'],
      },
      purpose: 'safeguarding',
      breakGlass: false,
      receivedAt: expect.any(String),
    });

    // The health visitor, the authority's analyst: 403. No token: 401. No purpose: 400 naming the header.
    expect((await list(tokens['demo-health-visitor'])).status).toBe(403);
    expect((await list(tokens['demo-analyst'])).status).toBe(403);
    expect((await list(undefined)).status).toBe(401);
    const noPurpose = await list(tokens['demo-social-worker'], {});
    expect(noPurpose.status).toBe(400);
    expect(noPurpose.body.issues).toEqual([
      expect.objectContaining({ path: 'headers.x-purpose', rule: 'required' }),
    ]);
    const badQuery = await list(
      tokens['demo-ig-officer'],
      { 'x-purpose': 'information-governance' },
      '?limit=0',
    );
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.issues).toEqual([expect.objectContaining({ path: 'query.limit' })]);

    // A window that excludes it, and the IG officer's listing.
    const before = await list(
      tokens['demo-ig-officer'],
      { 'x-purpose': 'information-governance' },
      `?to=${encodeURIComponent(daysAgo(1).toISOString())}`,
    );
    expect(before.status).toBe(200);
    expect(notificationsOf(before.body).some((n) => n.notificationId === outcome.notificationId)).toBe(false);

    // Every listing and every refusal of one is recorded (not the unauthenticated one: nobody to record).
    const reads = await pool.query(
      `SELECT user_id, organisation_code, roles, purpose, local_authority, returned, outcome
         FROM access_notification_reads ORDER BY seq`,
    );
    expect(reads.rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          user_id: expect.any(String),
          organisation_code: '991',
          roles: ['social-worker'],
          purpose: 'safeguarding',
          local_authority: '991',
          returned: 1,
          outcome: 'ok',
        }),
        expect.objectContaining({ organisation_code: 'DEMO-CHS', outcome: 'FORBIDDEN', returned: 0 }),
        expect.objectContaining({ roles: ['analyst'], outcome: 'FORBIDDEN' }),
        expect.objectContaining({ roles: ['social-worker'], purpose: null, outcome: 'VALIDATION' }),
        expect.objectContaining({ roles: ['ig-officer'], outcome: 'VALIDATION' }),
        expect.objectContaining({
          roles: ['ig-officer'],
          purpose: 'information-governance',
          outcome: 'ok',
          returned: 0,
        }),
      ]),
    );
    expect(await verifyAccessNotificationReadsChain(pool)).toMatchObject({ ok: true });
  });

  it('stores a notification delivered twice once, and passes over a message that is no notification', async () => {
    const topic = accessNotificationsTopic(config.KAFKA_TOPIC_PREFIX);
    const twice = accessNotificationOf(
      { kind: 'looked-after', responsibleLocalAuthority: '991', recordIds: ['LA991-000007'] },
      {
        childKey: 'ch_00000000000000000007',
        requester: {
          kind: 'person',
          userId: 'school-dsl',
          organisation: { code: '990201', type: 'school' },
          roles: [],
        },
        purpose: 'safeguarding',
        breakGlass: true,
      },
    );
    const after = { ...twice, notificationId: randomUUID() };
    // One partition, one key: consumed in this order, so `after` stored means the rest was handled.
    await producer.send({
      topic,
      messages: [
        { key: '991', value: JSON.stringify(twice) },
        { key: '991', value: 'not json at all' },
        { key: '991', value: JSON.stringify({ ...twice, childName: 'should never travel' }) },
        { key: '991', value: JSON.stringify(twice) },
        { key: '991', value: JSON.stringify(after) },
      ],
    });
    await waitFor(async () => (await storedCount(after.notificationId)) === 1, {
      message: 'the last message stored',
      timeoutMs: 30_000,
    });
    expect(await storedCount(twice.notificationId)).toBe(1);
    const listing = await list(tokens['demo-social-worker']);
    const ids = notificationsOf(listing.body).map((n) => n.notificationId);
    expect(ids.filter((id) => id === twice.notificationId)).toHaveLength(1);
    expect(JSON.stringify(listing.body)).not.toContain('should never travel');
  });

  it('is ready only with its database and its consumer in the group', async () => {
    const response = await fetch(`${socialCare.url}/health/ready`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { info: Record<string, { status: string }> };
    expect(body.info['access-notifications-consumer']).toMatchObject({ status: 'up' });
    expect(body.info.kafka).toMatchObject({ status: 'up' });
    expect(body.info.database).toMatchObject({ status: 'up' });
  });
});

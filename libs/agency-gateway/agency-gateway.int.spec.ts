import { createKafka, kafkaBrokers, loadConfig, topicNames } from '@throughline/platform';
import {
  createPrivateKafka,
  grantKafkaAccess,
  metricValue,
  type PrivateKafka,
  buildEvent,
  buildImmunisationGiven,
  buildOutcomeObservationRecorded,
  buildReferralReceived,
  startLocalOidcProvider,
  type LocalOidcProvider,
} from '@throughline/testing';
import type { Consumer, KafkaMessage } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server } from 'node:net';
import { createAgencyApp, MAX_BATCH_EVENTS, type PublishResponse, type RunningAgencyApp } from './index';
import { KafkaEventPublisher } from './kafka-event-publisher';
import { partitionForKey } from './publication';

/**
 * The health agency service against the real broker at 127.0.0.1:9092
 * (start it with `node infra/kafka.mjs start`). Topics and consumer group are this file's own.
 */

const PREFIX = `it-gateway-${randomUUID().slice(0, 8)}.`;
const HEALTH_KEY = 'health-test-key-0001';
const PUBLISHER_KEYS = `health:test-child-health-system:${HEALTH_KEY},education:test-school-mis:education-test-key-0001`;
const config = loadConfig({
  THROUGHLINE_MODE: 'development',
  KAFKA_TOPIC_PREFIX: PREFIX,
  KAFKA_PARTITIONS: '3',
  HEALTH_PORT: '0',
  PUBLISHER_KEYS,
  LOG_LEVEL: 'warn',
});
const TOPIC = topicNames(PREFIX).agency.health;

interface ConsumedMessage {
  readonly partition: number;
  readonly message: KafkaMessage;
}

/** Every message on the topic, by event-id header, with waiters for the ones not yet seen. */
class TopicReader {
  private readonly byEventId = new Map<string, ConsumedMessage>();
  private readonly waiters = new Map<string, (consumed: ConsumedMessage) => void>();

  constructor(private readonly consumer: Consumer) {}

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ partition, message }) => {
        const eventId = message.headers?.['event-id']?.toString() ?? '';
        const consumed = { partition, message };
        this.byEventId.set(eventId, consumed);
        this.waiters.get(eventId)?.(consumed);
      },
    });
  }

  /** Resolves when the message arrives; fails the test after `timeoutMs`. */
  waitFor(eventId: string, timeoutMs = 20_000): Promise<ConsumedMessage> {
    const seen = this.byEventId.get(eventId);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`event ${eventId} not on ${TOPIC} after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.set(eventId, (consumed) => {
        clearTimeout(timer);
        resolve(consumed);
      });
    });
  }
}

function headerText(message: KafkaMessage, name: string): string | undefined {
  return message.headers?.[name]?.toString();
}

/** `key: null` sends no Authorization header. */
async function post(url: string, body: unknown, key: string | null = HEALTH_KEY): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
    },
    body: JSON.stringify(body),
  });
}

describe('agency gateway (health) on a real Kafka broker', () => {
  let running: RunningAgencyApp;
  let consumer: Consumer;
  let reader: TopicReader;
  /** A real OpenID provider: /metrics is for a verified operator. */
  let oidc: LocalOidcProvider;

  beforeAll(async () => {
    oidc = await startLocalOidcProvider();
    await grantKafkaAccess(config); // the health service's own principal on this file's topics
    running = await createAgencyApp('health', { ...config, ...oidc.env });
    consumer = createKafka(config, 'test', { clientSuffix: 'gateway-int-reader' }).consumer({
      groupId: `${PREFIX}reader-${randomUUID()}`,
    });
    reader = new TopicReader(consumer);
    await reader.start();
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await running?.close();
    await oidc?.stop();
  });

  it('refuses a request without a key, with an unknown key, or with another agency’s key', async () => {
    const event = buildImmunisationGiven();
    for (const key of [null, 'not-a-known-key', 'education-test-key-0001']) {
      const response = await post(`${running.url}/v1/events`, event, key);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: 'UNAUTHENTICATED' });
    }
  });

  it('publishes one valid event keyed by record id, with its lineage headers, at the offset it answers', async () => {
    const correlationId = randomUUID();
    const event = buildImmunisationGiven({ correlationId });

    const response = await post(`${running.url}/v1/events`, event);

    expect(response.status).toBe(202);
    const body = (await response.json()) as PublishResponse;
    expect(body).toEqual({
      accepted: 1,
      rejected: 0,
      results: [
        {
          index: 0,
          eventId: event.eventId,
          status: 'accepted',
          topic: TOPIC,
          partition: expect.any(Number),
          offset: expect.stringMatching(/^\d+$/),
        },
      ],
    });
    const consumed = await reader.waitFor(event.eventId);
    const result = body.results[0];
    if (result.status !== 'accepted') throw new Error('expected an accepted result');
    expect(consumed.partition).toBe(result.partition);
    expect(consumed.message.offset).toBe(result.offset);
    expect(consumed.message.key?.toString()).toBe(event.subject.recordId);
    expect(JSON.parse(consumed.message.value?.toString() ?? 'null')).toEqual(event);
    expect({
      eventId: headerText(consumed.message, 'event-id'),
      type: headerText(consumed.message, 'event-type'),
      version: headerText(consumed.message, 'schema-version'),
      publisher: headerText(consumed.message, 'publisher'),
      system: headerText(consumed.message, 'source-system'),
      contentType: headerText(consumed.message, 'content-type'),
      correlationId: headerText(consumed.message, 'correlation-id'),
    }).toEqual({
      eventId: event.eventId,
      type: 'health.immunisation.given',
      version: '1',
      publisher: 'test-child-health-system',
      system: event.source.system,
      contentType: 'application/json',
      correlationId,
    });
  });

  it('accepts the valid events of a batch, in one send, and names path and rule of the bad one', async () => {
    const recordId = `chs-${randomUUID()}`;
    const sameChild = [1, 2, 3].map((dose) =>
      buildImmunisationGiven({ subject: { recordId }, data: { dose } }),
    );
    const other = buildEvent('health.safeguarding-concern.raised');
    const bad = buildImmunisationGiven({ subject: { nhsNumber: '9990000001' } });
    const events = [sameChild[0], bad, sameChild[1], other, sameChild[2]];

    const response = await post(`${running.url}/v1/events/batch`, { events });

    expect(response.status).toBe(202);
    const body = (await response.json()) as PublishResponse;
    expect(body.accepted).toBe(4);
    expect(body.rejected).toBe(1);
    expect(body.results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
    expect(body.results[1]).toEqual({
      index: 1,
      eventId: bad.eventId,
      status: 'rejected',
      issues: [{ path: 'subject.nhsNumber', rule: 'nhs-number-check-digit', message: expect.any(String) }],
    });
    // Per partition, the events of one send sit at consecutive offsets in posted order; one child's share a partition.
    const accepted = body.results.flatMap((r) => (r.status === 'accepted' ? [r] : []));
    expect(new Set([0, 2, 4].map((i) => accepted.find((r) => r.index === i)?.partition)).size).toBe(1);
    for (const partition of new Set(accepted.map((r) => r.partition))) {
      const offsets = accepted.filter((r) => r.partition === partition).map((r) => BigInt(r.offset));
      expect(offsets.map((offset) => offset - offsets[0])).toEqual(offsets.map((_, i) => BigInt(i)));
    }

    for (const result of body.results) {
      if (result.status !== 'accepted') continue;
      const consumed = await reader.waitFor(result.eventId);
      expect([consumed.partition, consumed.message.offset]).toEqual([result.partition, result.offset]);
      expect(JSON.parse(consumed.message.value?.toString() ?? 'null')).toEqual(events[result.index]);
    }
  });

  it('publishes a batch far above the broker’s 1 MiB message limit, every event at the offset it answers', async () => {
    const recordId = `chs-${randomUUID()}`;
    // 300 observations with 12,000-character narratives: about 3.6 MB in one post.
    const events = Array.from({ length: 300 }, (_, i) =>
      buildOutcomeObservationRecorded({
        source: { agency: 'health', system: 'test-child-health-system' },
        subject: { recordId },
        data: {
          narrative: `Observation ${i}: ${'settling well at nursery and eating better. '.repeat(270)}`,
        },
      }),
    );

    const response = await post(`${running.url}/v1/events/batch`, { events });

    expect(response.status).toBe(202);
    const body = (await response.json()) as PublishResponse;
    expect(body.accepted).toBe(300);
    const accepted = body.results.flatMap((r) => (r.status === 'accepted' ? [r] : []));
    const offsets = accepted.map((r) => BigInt(r.offset));
    expect(new Set(accepted.map((r) => r.partition)).size).toBe(1); // one child, one partition
    expect(offsets.map((offset) => offset - offsets[0])).toEqual(offsets.map((_, i) => BigInt(i)));
    const last = accepted[accepted.length - 1];
    const consumed = await reader.waitFor(last.eventId);
    expect(consumed.message.offset).toBe(last.offset);
  });

  it('sends a batch over 1 MiB in all but under the limit on each partition in one request the broker takes', async () => {
    // The broker's limit is on each partition's record batch: three children on three
    // partitions, about 390 KB each, 1.2 MB in all, go in one produce request.
    const partitions = [0, 1, 2].map((partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 1,
      replicas: [1],
      isr: [1],
    }));
    const recordIds = new Map<number, string>();
    while (recordIds.size < 3) {
      const recordId = `chs-${randomUUID()}`;
      recordIds.set(partitionForKey(TOPIC, recordId, partitions), recordId);
    }
    const events = [...recordIds.values()].flatMap((recordId) =>
      Array.from({ length: 35 }, (_, i) =>
        buildOutcomeObservationRecorded({
          source: { agency: 'health', system: 'test-child-health-system' },
          subject: { recordId },
          data: { narrative: `Observation ${i}: ${'walking further each week. '.repeat(400)}` },
        }),
      ),
    );
    const partitionBytes = Buffer.byteLength(JSON.stringify(events.slice(0, 35)));
    expect(partitionBytes).toBeGreaterThan(350_000);
    expect(partitionBytes).toBeLessThan(512 * 1024);

    // The real producer, watched: every send still goes to the broker.
    const sends = jest.spyOn(running.app.get(KafkaEventPublisher)['producer'], 'send');
    const response = await post(`${running.url}/v1/events/batch`, { events });
    const sendsMade = sends.mock.calls.length;
    sends.mockRestore();

    expect(response.status).toBe(202);
    expect(sendsMade).toBe(1);
    const body = (await response.json()) as PublishResponse;
    expect(body.accepted).toBe(105);
    const accepted = body.results.flatMap((r) => (r.status === 'accepted' ? [r] : []));
    expect(new Set(accepted.map((r) => r.partition))).toEqual(new Set([0, 1, 2]));
    for (const partition of [0, 1, 2]) {
      const offsets = accepted.filter((r) => r.partition === partition).map((r) => BigInt(r.offset));
      expect(offsets.map((offset) => offset - offsets[0])).toEqual(offsets.map((_, i) => BigInt(i)));
      const last = accepted.filter((r) => r.partition === partition).at(-1);
      const consumed = await reader.waitFor(last?.eventId ?? '');
      expect([consumed.partition, consumed.message.offset]).toEqual([partition, last?.offset]);
    }
  });

  it('rejects another agency’s event type with rule publisher-agency, 400 when nothing was accepted', async () => {
    const event = buildReferralReceived();

    const response = await post(`${running.url}/v1/events`, event);

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      accepted: 0,
      rejected: 1,
      results: [
        {
          index: 0,
          eventId: event.eventId,
          status: 'rejected',
          issues: [{ path: 'type', rule: 'publisher-agency', message: expect.any(String) }],
        },
      ],
    });
  });

  it('takes a decision review and differing views from health, and names field and rule of a bad review (issue 13)', async () => {
    const source = buildImmunisationGiven().source;
    const subject = buildImmunisationGiven().subject;
    const review = buildEvent('practice.decision.reviewed', { source, subject });
    const differ = buildEvent('practice.views.differ', { source, subject });
    const ok = await post(`${running.url}/v1/events/batch`, { events: [review, differ] });
    expect(ok.status).toBe(202);
    expect(((await ok.json()) as PublishResponse).accepted).toBe(2);

    const bad = buildEvent('practice.decision.reviewed', { source, subject, data: { outcome: 'revised' } });
    const response = await post(`${running.url}/v1/events`, bad);
    expect(response.status).toBe(400);
    expect(((await response.json()) as PublishResponse).results[0]).toEqual({
      index: 0,
      eventId: bad.eventId,
      status: 'rejected',
      issues: [{ path: 'data.revisedDecision', rule: 'required-when-revised', message: expect.any(String) }],
    });
  });

  it('refuses a batch of more than 1000 events naming max-items', async () => {
    const event = buildImmunisationGiven();
    const events = Array.from({ length: MAX_BATCH_EVENTS + 1 }, () => event);

    const response = await post(`${running.url}/v1/events/batch`, { events });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: 'VALIDATION',
      issues: [{ path: 'events', rule: 'max-items' }],
    });
  });

  it('publishes an event posted again (the recorder drops the repeat by event id)', async () => {
    const event = buildImmunisationGiven();
    const first = (await (await post(`${running.url}/v1/events`, event)).json()) as PublishResponse;
    const again = await post(`${running.url}/v1/events`, event);
    expect(again.status).toBe(202);
    const second = (await again.json()) as PublishResponse;
    expect([first.results[0].status, second.results[0].status]).toEqual(['accepted', 'accepted']);
    expect(second.results[0]).not.toEqual(first.results[0]); // a new offset: republished, not deduplicated here
  });

  it('reports ready after a real round trip to the broker, and live', async () => {
    for (const path of ['/health', '/health/ready']) {
      const response = await fetch(`${running.url}${path}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        status: 'ok',
        details: { kafka: { status: 'up', topic: TOPIC, partitions: 3 } },
      });
    }
    const live = await fetch(`${running.url}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'ok', details: { process: { status: 'up' } } });
  });

  it('serves Prometheus metrics: accepted and rejected per agency, type and rule, publish and HTTP durations', async () => {
    const accepted = buildImmunisationGiven();
    expect((await post(`${running.url}/v1/events`, accepted)).status).toBe(202);
    expect((await post(`${running.url}/v1/events`, buildReferralReceived())).status).toBe(400);

    expect((await fetch(`${running.url}/metrics`)).status).toBe(401);
    const publisher = { authorization: `Bearer ${await oidc.token('demo-child-health-system')}` };
    expect((await fetch(`${running.url}/metrics`, { headers: publisher })).status).toBe(403);
    const operator = { authorization: `Bearer ${await oidc.token('demo-monitoring')}` };
    const response = await fetch(`${running.url}/metrics`, { headers: operator });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    const app = { app: 'health' };
    expect(
      metricValue(text, 'throughline_gateway_events_accepted_total', {
        ...app,
        agency: 'health',
        type: 'health.immunisation.given',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricValue(text, 'throughline_gateway_events_rejected_total', {
        ...app,
        agency: 'health',
        type: 'social-care.referral.received',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricValue(text, 'throughline_gateway_publish_duration_seconds_count', {
        ...app,
        agency: 'health',
        outcome: 'ok',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricValue(text, 'throughline_http_request_duration_seconds_count', {
        ...app,
        method: 'POST',
        route: '/v1/events',
        status_code: '202',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'process_cpu_seconds_total', app)).toBeGreaterThan(0);
    expect(text).not.toContain(accepted.subject.recordId);
  });

  it('answers with the request id it was given, or a new one', async () => {
    const given = await fetch(`${running.url}/health/live`, { headers: { 'x-request-id': 'probe-42' } });
    expect(given.headers.get('x-request-id')).toBe('probe-42');
    const fresh = await fetch(`${running.url}/health/live`, { headers: { 'x-request-id': 'not sane!' } });
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves its OpenAPI description at /docs', async () => {
    const page = await fetch(`${running.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const document = (await (await fetch(`${running.url}/docs-json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(document.paths).sort()).toEqual([
      '/health',
      '/health/live',
      '/health/ready',
      '/metrics',
      '/v1/events',
      '/v1/events/batch',
      '/v1/imports',
      '/v1/imports/{id}',
    ]);
  });
});

describe('agency gateway with Kafka down', () => {
  const UNAVAILABLE_WITHIN_MS = 20_000;
  let running: RunningAgencyApp;

  beforeAll(async () => {
    // Nothing listens on port 1: the service must start anyway and say it is unhealthy.
    running = await createAgencyApp('health', { ...config, KAFKA_BROKERS: '127.0.0.1:1' });
  });

  afterAll(async () => {
    await running?.close();
  });

  it('answers a post with 503 and Retry-After, within a bounded time', async () => {
    const started = Date.now();
    const response = await post(`${running.url}/v1/events`, buildImmunisationGiven());
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await response.json()).toMatchObject({ error: 'UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(UNAVAILABLE_WITHIN_MS);
  });

  it('reports unhealthy with 503, within a bounded time', async () => {
    const started = Date.now();
    const response = await fetch(`${running.url}/health`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(Date.now() - started).toBeLessThan(UNAVAILABLE_WITHIN_MS);
  });

  it('still validates and authenticates without Kafka', async () => {
    expect((await post(`${running.url}/v1/events`, buildImmunisationGiven(), null)).status).toBe(401);
    expect((await post(`${running.url}/v1/events`, buildReferralReceived())).status).toBe(400);
  });
});

describe('agency gateway when Kafka stops acknowledging after it was connected', () => {
  // A broker of this test's own, killed under the connected gateway: the produce is never
  // acknowledged. That is a 503 with Retry-After (the caller posts again), never a 500.
  let broker: PrivateKafka | undefined;
  let running: RunningAgencyApp | undefined;

  beforeAll(async () => {
    broker = await createPrivateKafka();
    await broker.start();
    const noAckConfig = loadConfig({
      THROUGHLINE_MODE: 'development',
      KAFKA_BROKERS: broker.brokers,
      KAFKA_TOPIC_PREFIX: `it-gateway-noack-${randomUUID().slice(0, 8)}.`,
      KAFKA_PARTITIONS: '1',
      HEALTH_PORT: '0',
      PUBLISHER_KEYS,
      LOG_LEVEL: 'error',
    });
    await grantKafkaAccess(noAckConfig);
    running = await createAgencyApp('health', noAckConfig);
  });

  afterAll(async () => {
    await running?.close();
    await broker?.remove();
  });

  it('answers 503 with Retry-After, within a bounded time', async () => {
    expect((await post(`${running!.url}/v1/events`, buildImmunisationGiven())).status).toBe(202);
    await broker!.kill();
    const started = Date.now();
    const response = await post(`${running!.url}/v1/events`, buildImmunisationGiven());
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await response.json()).toMatchObject({ error: 'UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

/** A TCP relay to the real broker, started late: the seed address the app was given starts answering. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function relayToBroker(listenPort: number): Promise<Server> {
  const relay = createServer((client) => {
    const [host, port] = kafkaBrokers(config)[0].split(':');
    const upstream = connect(Number(port), host);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(listenPort, '127.0.0.1', resolve));
  return relay;
}

describe('agency gateway started before Kafka', () => {
  let running: RunningAgencyApp;
  let relay: Server | undefined;
  let seedPort: number;

  beforeAll(async () => {
    seedPort = await freePort();
    await grantKafkaAccess(config);
    running = await createAgencyApp('health', { ...config, KAFKA_BROKERS: `127.0.0.1:${seedPort}` });
  });

  afterAll(async () => {
    await running?.close();
    await new Promise<void>((resolve) => (relay ? relay.close(() => resolve()) : resolve()));
  });

  it('is unhealthy without Kafka, then connects on a later request once Kafka answers', async () => {
    expect((await fetch(`${running.url}/health`)).status).toBe(503);

    relay = await relayToBroker(seedPort);
    const deadline = Date.now() + 30_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      status = (await fetch(`${running.url}/health`)).status;
    }
    expect(status).toBe(200);
    const response = await post(`${running.url}/v1/events`, buildImmunisationGiven());
    expect(response.status).toBe(202);
  });
});

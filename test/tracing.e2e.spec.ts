import { randomBytes } from 'node:crypto';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { createPool, parseTraceparent, startTracing } from '@throughline/platform';
import { buildImmunisationGiven, waitFor } from '@throughline/testing';
import type { Pool } from 'pg';
import { postJson, startSystem, type RunningSystem } from './harness';

/**
 * One trace id followed from the HTTP request, through Kafka and the recorder, to the stored
 * event and the projection's batch. The apps run in this process, so an in-memory exporter
 * registered first sees every span they make.
 */
describe('tracing, end to end', () => {
  const spans = new InMemorySpanExporter();
  let system: RunningSystem;
  let pool: Pool;
  /** The child health system's client-credentials token (a fresh one when the last is near expiry). */
  let auth: Record<string, string>;

  /** A valid immunisation of a fresh synthetic child, from a source the child health system may publish for. */
  const event = () =>
    buildImmunisationGiven({
      source: { agency: 'health', system: 'child-health-system', organisation: 'DEMO-CHS' },
    });

  /** The stored event's traceparent, once the recorder has stored it. */
  async function storedTraceparent(eventId: string): Promise<unknown> {
    let metadata: Record<string, unknown> | undefined;
    await waitFor(
      async () => {
        const result = await pool.query<{ metadata: Record<string, unknown> }>(
          'SELECT metadata FROM events WHERE event_id = $1',
          [eventId],
        );
        metadata = result.rows[0]?.metadata;
        return metadata !== undefined;
      },
      { message: `event ${eventId} stored`, timeoutMs: 60_000 },
    );
    return metadata?.traceparent;
  }

  async function finishedSpan(what: string, matches: (span: ReadableSpan) => boolean): Promise<ReadableSpan> {
    let found: ReadableSpan | undefined;
    await waitFor(
      () => {
        found = spans.getFinishedSpans().find(matches);
        return found !== undefined;
      },
      { message: what, timeoutMs: 60_000 },
    );
    return found as ReadableSpan;
  }

  beforeAll(async () => {
    startTracing({ serviceName: 'throughline-e2e', spanProcessors: [new SimpleSpanProcessor(spans)] });
    system = await startSystem();
    pool = createPool(system.config.DATABASE_URL, { max: 2 });
  });

  beforeEach(async () => {
    auth = await system.headers('demo-child-health-system');
  });

  afterAll(async () => {
    await pool?.end();
    await system?.stop();
  });

  it('carries the caller’s trace id from POST /v1/events to the stored event and the projection', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const immunisation = event();

    const answer = await postJson(`${system.urls.health}/v1/events`, immunisation, {
      ...auth,
      traceparent: `00-${traceId}-${callerSpanId}-01`,
      tracestate: 'caller=e2e',
    });
    expect(answer.status).toBe(202);

    // Same trace, a span of the gateway's own (not the caller's).
    const stored = parseTraceparent(await storedTraceparent(immunisation.eventId));
    expect(stored).toBeDefined();
    expect(stored?.traceId).toBe(traceId);
    expect(stored?.spanId).not.toBe(callerSpanId);

    const request = await finishedSpan(
      'the gateway request span',
      (span) => span.name === 'POST /v1/events' && span.spanContext().traceId === traceId,
    );
    expect(request.parentSpanContext?.spanId).toBe(callerSpanId);
    expect(request.attributes['http.response.status_code']).toBe(202);
    expect(request.spanContext().traceState?.get('caller')).toBe('e2e');

    const linksTo = (span: ReadableSpan) =>
      span.links.some((link) => link.context.traceId === traceId && link.context.spanId === stored?.spanId);
    const recorded = await finishedSpan(
      'the recorder batch span',
      (span) => span.name.startsWith('process ') && linksTo(span),
    );
    expect(recorded.spanContext().traceId).toBe(traceId); // a batch of one trace continues it
    await finishedSpan(
      'the projection batch span',
      (span) => span.name === 'apply timeline' && linksTo(span),
    );
  });

  it('gives an event posted without (or with a malformed) traceparent a trace of its own', async () => {
    const plain = event();
    const malformed = event();
    expect((await postJson(`${system.urls.health}/v1/events`, plain, auth)).status).toBe(202);
    expect(
      (
        await postJson(`${system.urls.health}/v1/events`, malformed, {
          ...auth,
          traceparent: '00-not-a-trace-01',
        })
      ).status,
    ).toBe(202);

    const [first, second] = [
      parseTraceparent(await storedTraceparent(plain.eventId)),
      parseTraceparent(await storedTraceparent(malformed.eventId)),
    ];
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(first?.traceId).not.toBe(second?.traceId);
  });
});

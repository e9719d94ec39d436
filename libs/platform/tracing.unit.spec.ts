import { ROOT_CONTEXT, context, isSpanContextValid, trace } from '@opentelemetry/api';
import {
  MAX_SPAN_LINKS,
  TRACEPARENT_HEADER,
  contextFromHeaders,
  injectTraceHeaders,
  linksOf,
  parseTraceparent,
  startTracing,
  traceHeaders,
  validTraceparent,
  withBatchSpan,
  withLinkedSpan,
  withSpan,
} from './tracing';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

const traceIdOf = (traceparent: string | undefined) => traceparent?.split('-')[1];
const spanIdOf = (traceparent: string | undefined) => traceparent?.split('-')[2];

describe('without a registered tracer provider', () => {
  // Why startTracing always registers one: the API alone would propagate nothing.
  it('the API hands out invalid, all-zero contexts and injects no traceparent', () => {
    const span = trace.getTracer('test').startSpan('orphan');
    expect(isSpanContextValid(span.spanContext())).toBe(false);
    expect(traceHeaders(trace.setSpan(ROOT_CONTEXT, span))).toEqual({});
    span.end();
  });
});

describe('traceparent validation', () => {
  it('accepts a W3C traceparent', () => {
    expect(parseTraceparent(VALID)).toEqual({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: 1,
      isRemote: true,
    });
    expect(validTraceparent(VALID)).toBe(VALID);
    expect(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-00`)?.traceFlags).toBe(0);
  });

  it.each([
    ['not a string', 42],
    ['empty', ''],
    ['upper case hex', VALID.toUpperCase()],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN_ID}-01`],
    ['an all-zero span id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['the forbidden version ff', `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ['a short trace id', `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`],
    ['trailing text', `${VALID}-extra`],
    ['surrounding space', ` ${VALID}`],
    ['a second value', `${VALID},${VALID}`],
    ['non-hex', `00-${TRACE_ID.slice(0, 31)}g-${SPAN_ID}-01`],
  ])('refuses %s (never stored)', (_, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
    expect(validTraceparent(value)).toBeUndefined();
  });
});

describe('trace headers, with the tracer provider registered', () => {
  beforeAll(() => startTracing({ serviceName: 'throughline-unit' }));

  it('startTracing is idempotent', () => {
    expect(() => startTracing({ serviceName: 'another' })).not.toThrow();
  });

  it('a span without a parent gets a real trace id, injected as traceparent', async () => {
    const headers = await withSpan('request', {}, () => Promise.resolve(traceHeaders()));
    expect(validTraceparent(headers[TRACEPARENT_HEADER])).toBeDefined();
    expect(traceHeaders()).toEqual({}); // nothing active outside the span
  });

  it('continues an incoming traceparent: same trace id, a new span id, tracestate kept', async () => {
    const parent = contextFromHeaders({ traceparent: VALID, tracestate: 'vendor=abc' });
    const headers = await withSpan('child', { parent }, () =>
      Promise.resolve(injectTraceHeaders({ 'event-id': 'e1' })),
    );
    expect(headers['event-id']).toBe('e1');
    expect(traceIdOf(headers.traceparent as string)).toBe(TRACE_ID);
    expect(spanIdOf(headers.traceparent as string)).not.toBe(SPAN_ID);
    expect(headers.tracestate).toBe('vendor=abc');
  });

  it('reads kafkajs Buffer headers and repeated HTTP headers', () => {
    const fromKafka = trace.getSpanContext(contextFromHeaders({ traceparent: Buffer.from(VALID) }));
    expect(fromKafka?.traceId).toBe(TRACE_ID);
    const repeated = trace.getSpanContext(contextFromHeaders({ traceparent: [VALID, 'junk'] }));
    expect(repeated?.spanId).toBe(SPAN_ID);
  });

  it('a malformed traceparent starts no trace of its own', () => {
    expect(contextFromHeaders({ traceparent: 'junk', tracestate: 'vendor=abc' })).toBe(ROOT_CONTEXT);
    expect(contextFromHeaders({})).toBe(ROOT_CONTEXT);
  });

  it('links at most MAX_SPAN_LINKS traceparents of a batch, skipping invalid ones', () => {
    const many = Array.from(
      { length: 300 },
      (_, i) => `00-${TRACE_ID}-${(i + 1).toString(16).padStart(16, '0')}-01`,
    );
    const { links, oneTrace, unlinked } = linksOf(['junk', undefined, ...many]);
    expect(links).toHaveLength(MAX_SPAN_LINKS);
    expect(unlinked).toBe(300 - MAX_SPAN_LINKS);
    expect(oneTrace?.traceId).toBe(TRACE_ID);
    expect(linksOf([VALID, `00-${'1'.repeat(32)}-${SPAN_ID}-01`]).oneTrace).toBeUndefined();
    expect(linksOf([]).links).toEqual([]);
  });

  it('a batch of one trace continues it; a batch of several traces starts its own', async () => {
    const other = `00-${'a'.repeat(32)}-${SPAN_ID}-01`;
    const continued = await withBatchSpan('apply test', [{ metadata: { traceparent: VALID } }, {}], (span) =>
      Promise.resolve(span.spanContext().traceId),
    );
    expect(continued).toBe(TRACE_ID);
    const own = await withLinkedSpan('process test', [VALID, other], {}, (span) =>
      Promise.resolve(span.spanContext().traceId),
    );
    expect([TRACE_ID, 'a'.repeat(32)]).not.toContain(own);
  });

  it('ends the span and rethrows when the work fails', async () => {
    let active: string | undefined;
    await expect(
      withSpan('failing', {}, () => {
        active = trace.getSpan(context.active())?.spanContext().spanId;
        return Promise.reject(new Error('boom'));
      }),
    ).rejects.toThrow('boom');
    expect(active).toBeDefined();
  });
});

import {
  HttpException,
  type CallHandler,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
} from '@nestjs/common';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  context,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IHeaders } from 'kafkajs';
import { tap, type Observable } from 'rxjs';

/**
 * Tracing with the OpenTelemetry API and W3C trace context. A tracer provider is always
 * registered, so spans get real ids and `traceparent` propagates (the API alone hands out
 * all-zero, invalid contexts and injects nothing); spans are exported over OTLP/HTTP only when
 * an endpoint is configured.
 */

export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';
/** Links per batch span: the SDK's default link limit, and enough to find a batch's traces. */
export const MAX_SPAN_LINKS = 128;

const TRACER_NAME = 'throughline';
const propagator = new W3CTraceContextPropagator();
let provider: NodeTracerProvider | undefined;

export interface TracingOptions {
  /** `service.name` of the spans, e.g. `throughline-recorder`. The first start in a process names it. */
  readonly serviceName: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT, e.g. `http://127.0.0.1:4318`; spans go to `<endpoint>/v1/traces`. */
  readonly otlpEndpoint?: string;
  /** More processors, e.g. an in-memory exporter in tests. */
  readonly spanProcessors?: readonly SpanProcessor[];
}

/** Registers the tracer provider once per process (later calls do nothing). */
export function startTracing(options: TracingOptions): void {
  if (provider) return;
  const endpoint = options.otlpEndpoint?.replace(/\/+$/, '');
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [
      ...(endpoint ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }))] : []),
      ...(options.spanProcessors ?? []),
    ],
  });
  provider.register({ propagator });
}

/** Sends the spans still buffered (a no-op without an exporter); called when an app closes. */
export async function flushTracing(): Promise<void> {
  await provider?.forceFlush();
}

function tracer() {
  return trace.getTracer(TRACER_NAME);
}

// ---------------------------------------------------------------------------------------------
// traceparent

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** The span context of a W3C `traceparent` value, or undefined when it is not a valid one. */
export function parseTraceparent(value: unknown): SpanContext | undefined {
  if (typeof value !== 'string') return undefined;
  const match = TRACEPARENT.exec(value);
  if (!match) return undefined;
  const [, version, traceId, spanId, flags] = match;
  if (version === 'ff' || traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & TraceFlags.SAMPLED, isRemote: true };
}

/** `value` when it is a valid W3C traceparent (so it may be stored), else undefined. */
export function validTraceparent(value: unknown): string | undefined {
  return parseTraceparent(value) ? (value as string) : undefined;
}

type HeaderValue = string | Buffer | readonly (string | Buffer)[] | undefined;

/** The first value of a header as text (kafkajs gives Buffers, HTTP may repeat a header). */
function firstText(value: unknown): string | undefined {
  const first: unknown = Array.isArray(value) ? value[0] : value;
  if (Buffer.isBuffer(first)) return first.toString('utf8');
  return typeof first === 'string' ? first : undefined;
}

/**
 * The trace context carried by headers (HTTP or Kafka, lower-case names), or ROOT_CONTEXT
 * when they carry none or a malformed one.
 */
export function contextFromHeaders(headers: Readonly<Record<string, HeaderValue>>): Context {
  const carrier: Record<string, string> = {};
  for (const name of [TRACEPARENT_HEADER, TRACESTATE_HEADER]) {
    const text = firstText(headers[name]);
    if (text !== undefined) carrier[name] = text;
  }
  if (!parseTraceparent(carrier[TRACEPARENT_HEADER])) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, carrier, {
    get: (c, key) => c[key],
    keys: (c) => Object.keys(c),
  });
}

/** `traceparent` (and `tracestate` if any) of the active span, to add to outgoing Kafka messages. */
export function traceHeaders(active: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {};
  propagator.inject(active, headers, {
    set: (carrier, key, value) => {
      carrier[key] = value;
    },
  });
  return headers;
}

/** Adds the active span's trace headers to kafkajs headers (in place) and returns them. */
export function injectTraceHeaders(headers: IHeaders, active: Context = context.active()): IHeaders {
  return Object.assign(headers, traceHeaders(active));
}

/** The `traceparent` of the active span, for stored metadata; undefined when there is no valid span. */
export function activeTraceparent(active: Context = context.active()): string | undefined {
  return traceHeaders(active)[TRACEPARENT_HEADER];
}

// ---------------------------------------------------------------------------------------------
// Spans

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs `fn` in a new active span, which records a thrown error and always ends. */
export async function withSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; links?: Link[]; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        span.recordException(error instanceof Error ? error : describeError(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: describeError(error) });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * Links to the contexts of up to `max` valid traceparents (text, a Buffer or a header's
 * values; the rest are counted, not linked),
 * and the context to continue when all of them belong to one trace (a batch from one request).
 */
export function linksOf(
  traceparents: Iterable<unknown>,
  max = MAX_SPAN_LINKS,
): { links: Link[]; oneTrace: SpanContext | undefined; unlinked: number } {
  const links: Link[] = [];
  let first: SpanContext | undefined;
  let oneTrace = true;
  let unlinked = 0;
  for (const value of traceparents) {
    const linked = parseTraceparent(firstText(value));
    if (!linked) continue;
    first ??= linked;
    if (linked.traceId !== first.traceId) oneTrace = false;
    if (links.length < max) links.push({ context: linked });
    else unlinked += 1;
  }
  return { links, oneTrace: oneTrace ? first : undefined, unlinked };
}

/**
 * One span for a batch of messages or events, linked to each one's traceparent (capped at
 * MAX_SPAN_LINKS); when they all come from one trace, the span continues it as a child.
 */
export async function withLinkedSpan<T>(
  name: string,
  traceparents: Iterable<unknown>,
  options: { kind?: SpanKind; attributes?: Attributes },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const { links, oneTrace, unlinked } = linksOf(traceparents);
  return withSpan(
    name,
    {
      kind: options.kind,
      links,
      parent: oneTrace ? trace.setSpanContext(ROOT_CONTEXT, oneTrace) : ROOT_CONTEXT,
      attributes: { ...options.attributes, 'throughline.links_dropped': unlinked },
    },
    fn,
  );
}

/** A batch of stored events: what the runner applies, each with its metadata. */
export interface TracedEvent {
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** The span of one batch a read model applies, linked to each event's stored traceparent. */
export function withBatchSpan<T>(
  name: string,
  batch: readonly TracedEvent[],
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return withLinkedSpan(
    name,
    batch.map((event) => event.metadata?.[TRACEPARENT_HEADER]),
    { attributes: { 'throughline.batch.events': batch.length } },
    fn,
  );
}

// ---------------------------------------------------------------------------------------------
// HTTP

/** Probes and scrapes: frequent, and nothing to follow. */
const UNTRACED_ROUTE = /^\/(health|metrics)(\/|$)/;

function statusOfError(error: unknown): number {
  if (error instanceof HttpException) return error.getStatus();
  const status = (error as { httpStatus?: unknown } | null)?.httpStatus;
  return typeof status === 'number' ? status : 500;
}

/**
 * A server span per HTTP request, the child of an incoming `traceparent`, active while the
 * handler runs (Nest binds the handler to the async context `next.handle()` is called in).
 * It ends when the response is written, with its status.
 */
export class RequestSpanInterceptor implements NestInterceptor {
  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (execution.getType() !== 'http') return next.handle();
    const http = execution.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    // The route pattern, never the raw URL (it may hold a child key).
    const route = request.routeOptions?.url ?? 'unknown';
    if (UNTRACED_ROUTE.test(route)) return next.handle();
    const span = tracer().startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'http.route': route },
      },
      contextFromHeaders(request.headers),
    );
    reply.raw.once('close', () => {
      const status = reply.raw.statusCode;
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    return context
      .with(trace.setSpan(context.active(), span), () => next.handle())
      .pipe(
        tap({
          error: (error: unknown) => {
            if (statusOfError(error) >= 500)
              span.recordException(error instanceof Error ? error : describeError(error));
          },
        }),
      );
  }
}

/** Request spans for every route of the app, and buffered spans sent when it closes. */
export function traceHttpApp(app: INestApplication): void {
  app.useGlobalInterceptors(new RequestSpanInterceptor());
  const fastify = app.getHttpAdapter().getInstance() as {
    addHook(name: 'onClose', hook: () => Promise<void>): unknown;
  };
  fastify.addHook('onClose', flushTracing);
}

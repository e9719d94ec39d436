import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import helmet from '@fastify/helmet';
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import { HttpException } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { LRUCache } from 'lru-cache';
import { tlsFiles, type Config } from './config';
import { ThroughlineError, ValidationError, type FieldIssue } from './errors';

/**
 * The edge every app shares (createHttpApp installs it): security headers, per-route body
 * limits, rate limits, refusal of invalid text before any handler or database sees it, and
 * no caching of API answers. Limits are named on the route (@EdgeRoute) and valued by config.
 */

/** Largest request body, in bytes, of every route but those marked otherwise. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;
/**
 * POST /v1/events: one event. The contracts allow free text of up to 20,000 characters (up to 3
 * bytes each in UTF-8, 6 when JSON-escaped control characters) beside the envelope.
 */
export const EVENT_BODY_LIMIT_BYTES = 256 * 1024;
/**
 * POST /v1/events/batch: up to 1,000 events. The 1,000 largest events of the synthetic demo cohort
 * take well under 1 MiB (libs/agency-gateway/batch-body-limit.unit.spec.ts) and a batch of 300
 * observations with 12,000-character narratives 3.6 MB; 8 MiB leaves room for longer text. A
 * publisher of many long narratives sends smaller batches (the 413 names the limit).
 */
export const BATCH_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

/** Rate limits a route can name; their values come from config (RATE_LIMIT_*_PER_MINUTE). */
export type RateLimitName = 'lookup' | 'publish' | 'sign-in';
export type BodyLimitName = 'default' | 'event' | 'batch';

export interface EdgeRouteOptions {
  /** Routes naming the same limit share one budget per caller. */
  readonly rateLimit?: RateLimitName;
  readonly bodyLimit?: BodyLimitName;
}

export interface RateLimitSetting {
  /** Requests per caller per window. */
  readonly max: number;
  readonly windowMs: number;
}

export interface EdgeSettings {
  readonly rateLimits: Readonly<Record<RateLimitName, RateLimitSetting>>;
  readonly bodyLimits: Readonly<Record<BodyLimitName, number>>;
  /** PEM certificate and key: the app serves HTTPS only. */
  readonly https?: { readonly cert: Buffer; readonly key: Buffer };
}

const MINUTE_MS = 60_000;

/** The edge's settings from config; the TLS files are read now, so a bad path fails the start. */
export function edgeSettingsOf(config: Config): EdgeSettings {
  const files = tlsFiles(config);
  let https: EdgeSettings['https'];
  if (files) {
    try {
      https = { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
    } catch (error) {
      throw new ThroughlineError(
        'CONFIGURATION',
        `TLS_CERT_FILE, TLS_KEY_FILE: cannot read ${files.certFile} or ${files.keyFile}`,
        { cause: error },
      );
    }
  }
  return {
    rateLimits: {
      lookup: { max: config.RATE_LIMIT_LOOKUP_PER_MINUTE, windowMs: MINUTE_MS },
      publish: { max: config.RATE_LIMIT_PUBLISH_PER_MINUTE, windowMs: MINUTE_MS },
      'sign-in': { max: config.RATE_LIMIT_SIGN_IN_PER_MINUTE, windowMs: MINUTE_MS },
    },
    bodyLimits: {
      default: DEFAULT_BODY_LIMIT_BYTES,
      event: EVENT_BODY_LIMIT_BYTES,
      batch: BATCH_BODY_LIMIT_BYTES,
    },
    ...(https ? { https } : {}),
  };
}

/** Where @EdgeRoute keeps its options in the Fastify route's config. */
const EDGE_CONFIG_KEY = 'throughlineEdge';

/** Names a route's rate limit and body limit; createHttpApp gives them their configured values. */
export function EdgeRoute(options: EdgeRouteOptions): MethodDecorator {
  return RouteConfig({ [EDGE_CONFIG_KEY]: options });
}

// ---------------------------------------------------------------------------------------------
// Who a rate limit counts

type CallerCarrier = FastifyRequest & { verifiedCaller?: string };

/**
 * THE rate-limit key: the verified caller when a hook before the limit attached one
 * (`request.verifiedCaller`, a token's subject), else the client's address (an IPv6 address by
 * its /64, which one client holds whole). A header the client chooses (x-user-id) is never the
 * key: rotating it would reset the budget. The limit's name is appended (`|lookup`).
 */
export function rateLimitKeyOf(request: FastifyRequest): string {
  const caller = (request as CallerCarrier).verifiedCaller;
  return caller ? `caller:${caller}|` : `ip:${normalizeIP(request.ip)}|`;
}

/**
 * Keys a store keeps at most (the least recently used go first, `lru-cache`): memory stays bounded
 * under a flood, and so does the time of a request (a `Map` evicted from its front took about
 * 30 µs a key at this size once full, decision 037).
 */
const RATE_LIMIT_KEYS = 100_000;

/**
 * Fixed-window counters in memory, one store for every route of the app, so that routes naming
 * the same limit (/v1/events and /v1/events/batch) share one budget per caller. (The plugin's
 * own store gives each route a store of its own.) Per app instance: behind a load balancer, a
 * caller gets the limit once per instance.
 */
class SharedWindowStore {
  private readonly windows = new LRUCache<string, { current: number; startMs: number }>({
    max: RATE_LIMIT_KEYS,
  });

  incr(
    key: string,
    done: (error: Error | null, result: { current: number; ttl: number }) => void,
    timeWindowMs: number,
  ): void {
    const now = Date.now();
    const found = this.windows.get(key);
    const window = found && found.startMs + timeWindowMs > now ? found : { current: 0, startMs: now };
    window.current += 1;
    this.windows.set(key, window);
    done(null, { current: window.current, ttl: window.startMs + timeWindowMs - now });
  }

  child(): SharedWindowStore {
    return this;
  }
}

/** 429: the caller spent its budget for the window; Retry-After says when to come back. */
export class RateLimitedError extends ThroughlineError {
  /** Fastify's name for the status, should the error ever reach a handler other than ours. */
  readonly statusCode = 429;

  constructor(message: string) {
    super('RATE_LIMITED', message);
  }
}

export class PayloadTooLargeError extends ThroughlineError {
  constructor(readonly limitBytes: number) {
    super(
      'PAYLOAD_TOO_LARGE',
      `the request body is larger than the ${limitBytes} bytes (${describeBytes(limitBytes)}) this endpoint takes`,
    );
  }
}

function describeBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

// ---------------------------------------------------------------------------------------------
// Text

/**
 * Text we refuse anywhere in a request: U+0000 (`no-nul`: PostgreSQL cannot store it in text or
 * jsonb) and, as `valid-text`, the other C0 controls but tab, line feed and carriage return, and
 * unpaired surrogates (they cannot be encoded as UTF-8, so they would be stored altered).
 */
// eslint-disable-next-line no-control-regex -- control characters are what these look for
const NUL = /\u0000/;
const INVALID_TEXT =
  // eslint-disable-next-line no-control-regex -- control characters are what these look for
  /[\u0001-\u0008\u000b\u000c\u000e-\u001f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const INVALID_TEXT_GLOBAL = new RegExp(`\\u0000|${INVALID_TEXT.source}`, 'g');
const MAX_ISSUES = 20;
const MAX_DEPTH = 64;

/** Any refused character: one test per string on the fast path; the rule is told apart only on a hit. */
const REFUSED = new RegExp(`\\u0000|${INVALID_TEXT.source}`);

/** The rule `text` breaks, if any. */
export function textRuleBroken(text: string): 'no-nul' | 'valid-text' | undefined {
  if (!REFUSED.test(text)) return undefined;
  return NUL.test(text) ? 'no-nul' : 'valid-text';
}

/** `text` with every refused character written as a \uXXXX escape: safe to store and log. */
export function printable(text: string): string {
  return text.replace(
    INVALID_TEXT_GLOBAL,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const RULE_MESSAGES = {
  'no-nul': 'must not contain U+0000 (NUL)',
  'valid-text':
    'must be valid text: no control characters except tab, line feed and carriage return, no unpaired surrogates',
} as const;

/** Every invalid string (and object key) in `value`, by dotted path (`body.events.3.reason`). */
export function invalidTextIssues(value: unknown, path: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  // The path is kept as segments and joined only for an issue: a valid 1,000-event batch
  // builds no strings at all.
  const segments: string[] = [path];
  const pathHere = () => segments.join('.');
  const visit = (node: unknown, depth: number): void => {
    if (issues.length >= MAX_ISSUES) return;
    if (typeof node === 'string') {
      const rule = textRuleBroken(node);
      if (rule) issues.push({ path: pathHere(), rule, message: RULE_MESSAGES[rule] });
      return;
    }
    if (node === null || typeof node !== 'object' || depth > MAX_DEPTH) return;
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index += 1) {
        segments.push(String(index));
        visit(node[index], depth + 1);
        segments.pop();
      }
      return;
    }
    for (const key in node) {
      if (!Object.prototype.hasOwnProperty.call(node, key)) continue;
      const keyRule = textRuleBroken(key);
      segments.push(keyRule ? printable(key) : key);
      if (keyRule)
        issues.push({ path: pathHere(), rule: keyRule, message: `field name ${RULE_MESSAGES[keyRule]}` });
      visit((node as Record<string, unknown>)[key], depth + 1);
      segments.pop();
    }
  };
  visit(value, 0);
  return issues.slice(0, MAX_ISSUES);
}

function requestTextIssues(request: FastifyRequest): FieldIssue[] {
  return [
    ...invalidTextIssues(request.params, 'params'),
    ...invalidTextIssues(request.query, 'query'),
    ...invalidTextIssues(request.headers, 'headers'),
    ...invalidTextIssues(request.body, 'body'),
  ].slice(0, MAX_ISSUES);
}

/** A request refused at the edge, as an app's audit records it (all text printable). */
export interface EdgeRefusal {
  readonly method: string;
  /** The route's pattern, e.g. `/v1/children/:childKey/timeline`. */
  readonly route: string;
  readonly params: Readonly<Record<string, string>>;
  /** A header's first value, printable; undefined when absent. */
  header(name: string): string | undefined;
  readonly issues: readonly FieldIssue[];
  /** The request, for an audit that verifies who asked. */
  readonly request: FastifyRequest;
}

export type RefusalAudit = (refusal: EdgeRefusal) => Promise<void>;

function refusalOf(request: FastifyRequest, issues: readonly FieldIssue[]): EdgeRefusal {
  const params = Object.fromEntries(
    Object.entries((request.params ?? {}) as Record<string, unknown>).map(([key, value]) => [
      printable(key),
      printable(String(value)),
    ]),
  );
  return {
    method: request.method,
    route: request.routeOptions.url ?? request.url,
    params,
    header: (name) => {
      const value = request.headers[name];
      const first = Array.isArray(value) ? value[0] : value;
      return first === undefined ? undefined : printable(first);
    },
    issues,
    request,
  };
}

// ---------------------------------------------------------------------------------------------
// The HTTP parser's own refusals

/** Lines of a request the HTTP parser refused: find the first that holds a refused byte. */
function parserIssue(rawPacket: Buffer | undefined): FieldIssue {
  const fallback: FieldIssue = {
    path: 'request',
    rule: 'http',
    message: 'the request is not well-formed HTTP/1.1',
  };
  if (!rawPacket) return fallback;
  const lines = rawPacket.toString('latin1').split('\r\n');
  for (const [index, line] of lines.entries()) {
    const rule = textRuleBroken(line) ?? (/[\u007f]/.test(line) ? 'valid-text' : undefined);
    if (!rule) continue;
    if (line === '' || index === 0) return { path: 'url', rule, message: RULE_MESSAGES[rule] };
    const name = line
      .slice(0, Math.max(0, line.indexOf(':')))
      .trim()
      .toLowerCase();
    return {
      path: /^[a-z0-9-]{1,64}$/.test(name) ? `headers.${name}` : 'headers',
      rule,
      message: RULE_MESSAGES[rule],
    };
  }
  return fallback;
}

/**
 * What Fastify answers when Node's HTTP parser refuses a request (a NUL or other control
 * character in a header or the request line never reaches a route): a 400 naming the header and
 * rule, as any other refusal. No route ran, so nothing is audited; the connection closes.
 */
export function answerClientError(
  error: Error & { code?: string; rawPacket?: unknown },
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
  const rawPacket = Buffer.isBuffer(error.rawPacket) ? error.rawPacket : undefined;
  const issue = parserIssue(rawPacket);
  const [status, body] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ['408 Request Timeout', { error: 'TIMEOUT', message: 'the request took too long to arrive' }]
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [
            '431 Request Header Fields Too Large',
            { error: 'HEADERS_TOO_LARGE', message: 'request headers too large' },
          ]
        : [
            '400 Bad Request',
            {
              error: 'VALIDATION',
              message: `invalid request: ${issue.path} ${issue.message}`,
              issues: [issue],
            },
          ];
  const payload = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(payload)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${payload}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Errors Fastify raises before a handler

/**
 * Fastify's own refusals as our errors; anything else unchanged. Nest hands them on as an
 * HttpException of the same status; broken JSON is its BadRequestException, already a 400.
 */
export function edgeErrorOf(error: unknown, request: FastifyRequest | undefined): unknown {
  if (error instanceof ThroughlineError || error === null || typeof error !== 'object') return error;
  const { code, statusCode } =
    error instanceof HttpException
      ? { code: undefined, statusCode: error.getStatus() }
      : (error as { code?: unknown; statusCode?: unknown });
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || statusCode === 413)
    return new PayloadTooLargeError(request?.routeOptions.bodyLimit ?? DEFAULT_BODY_LIMIT_BYTES);
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || statusCode === 415)
    return new ValidationError('invalid request: send the body as application/json', [
      { path: 'headers.content-type', rule: 'media-type', message: 'must be application/json' },
    ]);
  return error;
}

// ---------------------------------------------------------------------------------------------
// Headers

/** API answers (JSON, errors): nothing to load, nothing to frame. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** Swagger UI at /docs: its own scripts and styles (inline styles are its markup's), nothing else. */
export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const DOCS_PATH = /^\/docs(\/|$|\?|-json|-yaml)/;
const API_PATH = /^\/v\d+\//;

// ---------------------------------------------------------------------------------------------
// Installing it

export interface EdgeOptions {
  readonly settings: EdgeSettings;
  /** Records a refusal of invalid text on the routes that audit; before the 400 leaves. */
  readonly auditRefusal?: RefusalAudit;
}

/**
 * The edge on one app, before its routes are registered: hooks, then the plugins (their onRoute
 * hooks must see the limits this one sets).
 */
export async function installEdge(app: NestFastifyApplication, options: EdgeOptions): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  const { settings } = options;

  fastify.addHook('onRoute', (route: RouteOptions) => {
    const edge = (route.config as Record<string, unknown> | undefined)?.[EDGE_CONFIG_KEY] as
      EdgeRouteOptions | undefined;
    route.bodyLimit ??= settings.bodyLimits[edge?.bodyLimit ?? 'default'];
    if (edge?.rateLimit) {
      const limit = settings.rateLimits[edge.rateLimit];
      route.config = {
        ...route.config,
        rateLimit: { max: limit.max, timeWindow: limit.windowMs, groupId: edge.rateLimit },
      } as typeof route.config;
    }
  });

  fastify.addHook('preValidation', async (request) => {
    const issues = requestTextIssues(request);
    if (issues.length === 0) return;
    if (options.auditRefusal) await options.auditRefusal(refusalOf(request, issues));
    throw new ValidationError(
      `invalid request: ${issues.map((issue) => `${issue.path} ${issue.message}`).join('; ')}`,
      issues,
    );
  });

  // The CSP is ours, per kind of answer: a page that set its own (the timeline page: nonce,
  // Trusted Types) keeps it, /docs gets DOCS_CSP, everything else API_CSP.
  fastify.addHook('onSend', async (request, reply, payload) => {
    const path = request.url;
    if (DOCS_PATH.test(path)) void reply.header('content-security-policy', DOCS_CSP);
    else if (!reply.hasHeader('content-security-policy'))
      void reply.header('content-security-policy', API_CSP);
    if (API_PATH.test(path)) void reply.header('cache-control', 'no-store');
    return payload;
  });

  // helmet's other headers (HSTS, nosniff, frame, referrer and cross-origin policies) everywhere.
  // Nothing of ours is ever framed (frame-ancestors 'none' too).
  await app.register(helmet, { contentSecurityPolicy: false, frameguard: { action: 'deny' } });
  await app.register(rateLimit, {
    global: false,
    keyGenerator: rateLimitKeyOf,
    store: SharedWindowStore as never,
    errorResponseBuilder: (_request, context) =>
      new RateLimitedError(`too many requests: at most ${context.max} a minute; retry in ${context.after}`),
  });
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Logger as NestLogger, RequestMethod } from '@nestjs/common';
import { Logger as NestPinoLogger, PinoLogger, type Params } from 'nestjs-pino';
import { pino, stdSerializers, type DestinationStream, type Level, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from './config';

/**
 * Structured logs with pino: one JSON object a line (readable lines on a terminal), one line
 * per HTTP request, and no identifier of a child in any line. Identifiers are removed twice:
 * by field name (pino's redact, wherever the field sits) and by shape in free text (messages,
 * error messages and stacks: stream ids, child keys, NHS numbers, ULNs, UPNs, postcodes).
 * Request bodies, URLs with their parameters and headers are never logged.
 */

export type LoggingConfig = Pick<Config, 'LOG_LEVEL' | 'LOG_FORMAT'>;

export const REDACTED = '[redacted]';

/** LOG_LEVEL uses Nest's level names. */
const PINO_LEVELS: Readonly<Record<Config['LOG_LEVEL'], Level>> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** Fields that name or identify a child or an agency record, redacted at any depth up to 4. */
const IDENTIFIER_FIELDS = [
  'nhsNumber',
  'upn',
  'formerUpn',
  'uln',
  'laChildId',
  // A person's name is { given, family }; `name` alone names errors and much else.
  'given',
  'family',
  'dateOfBirth',
  'expectedDateOfBirth',
  'postcode',
  'recordId',
  'subject',
  'linkedTo',
  'childKey',
  'streamId',
];
const SECRET_HEADERS = ['authorization', 'cookie', 'set-cookie', 'x-api-key'];

export const REDACT_PATHS: readonly string[] = [
  ...IDENTIFIER_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`, `*.*.*.${field}`]),
  ...SECRET_HEADERS.flatMap((header) => [`req.headers["${header}"]`, `headers["${header}"]`]),
];

/** Identifiers recognised by their shape in free text. */
const IDENTIFIER_PATTERNS: readonly RegExp[] = [
  // Stream ids: <agency>-<record id>, identity-<record stream>, identitymatch-<proposal id>.
  /\b(?:identity-)?(?:health|education|social-care)-(?!gateway\b)[A-Za-z0-9._-]+/g,
  /\bidentitymatch-[A-Za-z0-9._-]+/g,
  // Pseudonymous child keys are still keys to one child's chronology.
  /\bch_[0-9a-f]{20}\b/g,
  // NHS numbers (also written 3-3-4) and ULNs: ten digits.
  /\b\d{3}[ -]?\d{3}[ -]?\d{4}\b/g,
  // UPNs: a letter, eleven digits, a digit or letter.
  /\b[A-Z]\d{11}[0-9A-Z]\b/g,
  // UK postcodes, display form.
  /\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b/g,
];

/** `text` with every identifier-shaped token replaced by [redacted]. */
export function scrubText(text: string): string {
  let scrubbed = text;
  for (const pattern of IDENTIFIER_PATTERNS) scrubbed = scrubbed.replace(pattern, REDACTED);
  return scrubbed;
}

/**
 * Every string in plain objects and arrays scrubbed, a few levels deep; errors serialized and
 * scrubbed; other objects (a request, a response) left to their serializers.
 */
function scrubDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return scrubDeep({ ...stdSerializers.err(value) }, depth);
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, depth + 1));
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrubDeep(item, depth + 1)]));
}

/** pino's error serializer, then its message, stack and causes scrubbed (store errors name streams). */
export function serializeError(error: unknown): unknown {
  return scrubDeep(error);
}

function prettyStream(): DestinationStream {
  return pretty({
    // npm start pipes the apps' output and sets FORCE_COLOR when its own is a terminal.
    colorize: !process.env.NO_COLOR && (process.stdout.isTTY === true || Boolean(process.env.FORCE_COLOR)),
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,context,req,res,route,responseTime',
    singleLine: true,
    sync: true,
    messageFormat: (log, messageKey) => {
      const context = typeof log.context === 'string' ? `[${log.context}] ` : '';
      const message = typeof log[messageKey] === 'string' ? (log[messageKey] as string) : '';
      if (typeof log.responseTime !== 'number') return `${context}${message}`;
      const req = (log.req ?? {}) as { id?: string; method?: string };
      const res = (log.res ?? {}) as { statusCode?: number };
      return `${req.method ?? ''} ${String(log.route)} ${res.statusCode ?? ''} ${log.responseTime} ms (${req.id ?? ''})`;
    },
  });
}

/** A logger of its own (tests pass a destination to read what it wrote). */
export function createLogger(config: LoggingConfig, destination?: DestinationStream): Logger {
  const usePretty =
    config.LOG_FORMAT === 'pretty' || (config.LOG_FORMAT === 'auto' && process.stdout.isTTY === true);
  return pino(
    {
      level: PINO_LEVELS[config.LOG_LEVEL],
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      serializers: { err: serializeError, error: serializeError },
      formatters: {
        // Free-text fields besides the message (kafkajs' `error`, a `reason`).
        log: (object) => scrubDeep(object) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          // logger.error(error) would take error.message as the message, unscrubbed.
          const [first, ...rest] = args as unknown[];
          const normalised =
            first instanceof Error && typeof rest[0] !== 'string' ? [{ err: first }, first.message] : args;
          const scrubbed = normalised.map((arg) => (typeof arg === 'string' ? scrubText(arg) : arg));
          return method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    destination ?? (usePretty ? prettyStream() : undefined),
  );
}

/** Nest's start-up chatter (modules loaded, routes mapped) is debug, not the first screen. */
const NEST_BOOT_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/** nestjs-pino's LoggerService (request-bound inside a request), with Nest's boot lines at debug. */
export class ThroughlineNestLogger extends NestPinoLogger {
  constructor(logger: Logger) {
    const params: Params = { pinoHttp: { logger } };
    super(new PinoLogger(params), params);
  }

  override log(message: unknown, ...optionalParams: unknown[]): void {
    const context = optionalParams[optionalParams.length - 1];
    if (typeof context === 'string' && NEST_BOOT_CONTEXTS.has(context)) {
      this.debug(message, ...optionalParams);
      return;
    }
    super.log(message, ...optionalParams);
  }
}

let processLogger: Logger | undefined;

/**
 * The process's logger, made on the first call (later calls get the same one), and made the
 * logger behind every `new Logger(context)` of Nest from then on, so libraries that log
 * before an app exists (the recorder starting, the projection catching up) log through it too.
 */
export function appLogger(config: LoggingConfig): Logger {
  if (!processLogger) {
    processLogger = createLogger(config);
    NestLogger.overrideLogger(new ThroughlineNestLogger(processLogger));
  }
  return processLogger;
}

/** log/warn/error/debug with a context, as the recorder's and other libraries' logger options want. */
export interface ContextLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

export function contextLogger(logger: Logger, context: string): ContextLogger {
  const child = logger.child({ context });
  return {
    log: (message) => child.info(message),
    warn: (message) => child.warn(message),
    error: (message) => child.error(message),
    debug: (message) => child.debug(message),
  };
}

// ---------------------------------------------------------------------------------------------
// Requests

export const REQUEST_ID_HEADER = 'x-request-id';
/** An incoming request id is kept only when it is a plain token that carries no identifier. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ROUTE = Symbol('throughline.route');

type RoutedRequest = IncomingMessage & { [ROUTE]?: string };

/** Records the matched route pattern (`/v1/children/:childKey/timeline`) on the raw request. */
export function markRoute(request: IncomingMessage, pattern: string | undefined): void {
  (request as RoutedRequest)[ROUTE] = pattern;
}

/** The route pattern of a request, `(unmatched)` when no route matched (a 404). */
export function routeOf(request: IncomingMessage): string {
  return (request as RoutedRequest)[ROUTE] ?? '(unmatched)';
}

/** Fastify's genReqId: the incoming x-request-id when sane, else a new uuid (echoed by createHttpApp). */
export function requestIdOf(request: IncomingMessage): string {
  const header = request.headers[REQUEST_ID_HEADER];
  const incoming = Array.isArray(header) ? header[0] : header;
  return incoming && SANE_REQUEST_ID.test(incoming) && scrubText(incoming) === incoming
    ? incoming
    : randomUUID();
}

/** Probes and scrapes are polled every few seconds: their lines are debug unless they fail. */
const POLLED_ROUTES = /^\/(health|metrics)(\/|$)/;

/** nestjs-pino's LoggerModule parameters: one line per request with its id, route, status and duration. */
export function requestLoggingParams(logger: Logger): Params {
  return {
    pinoHttp: {
      logger,
      // Fastify has given the request its id (requestIdOf); pino-http keeps it.
      customProps: (request) => ({ route: routeOf(request) }),
      serializers: {
        req: (request: { id: unknown; method: unknown }) => ({ id: request.id, method: request.method }),
        res: (response: { statusCode: unknown }) => ({ statusCode: response.statusCode }),
      },
      customLogLevel: (request, response, error) => {
        const status = response.statusCode;
        if (status === 503) return 'warn';
        if (error || status >= 500) return 'error';
        return POLLED_ROUTES.test(routeOf(request)) ? 'debug' : 'info';
      },
      // The cause of a 5xx is logged where it is handled; pino-http's own stand-in adds nothing.
      customErrorObject: (_request, _response, _error, line: Record<string, unknown>) => {
        const { err: _err, ...rest } = line;
        return rest;
      },
      customSuccessMessage: () => 'request completed',
      customErrorMessage: () => 'request failed',
    },
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
  };
}

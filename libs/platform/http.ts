import { Server as TlsServer } from 'node:tls';
import {
  Catch,
  HttpException,
  Logger,
  Module,
  type ArgumentsHost,
  type CanActivate,
  type ExceptionFilter,
  type NestInterceptor,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { TerminusModule } from '@nestjs/terminus';
import type { Server as HttpsServer } from 'node:https';
import type { FastifyHttpsOptions, FastifyReply, FastifyRequest } from 'fastify';
import { LoggerModule } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import type { Registry } from 'prom-client';
import {
  answerClientError,
  DEFAULT_BODY_LIMIT_BYTES,
  edgeErrorOf,
  edgeSettingsOf,
  installEdge,
  type EdgeSettings,
  type RefusalAudit,
} from './edge';
import { configSchema } from './config';
import { ThroughlineError, ValidationError, classifyFailure } from './errors';
import { HealthController, ReadinessLogger } from './health';
import {
  markRoute,
  REQUEST_ID_HEADER,
  requestIdOf,
  requestLoggingParams,
  ThroughlineNestLogger,
} from './logging';
import { MetricsModule, observeHttpRequests } from './metrics';
import { traceHttpApp } from './tracing';

/**
 * Maps any failure to HTTP at the edge through the one table (FAILURE_RULES, classifyFailure):
 * a 503 carries Retry-After. Failures not of ours answer without their own words (those go to
 * the log): a dependency down is 503, anything unknown 500; nothing is swallowed.
 */
@Catch()
export class ThroughlineExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(thrown: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const error = edgeErrorOf(thrown, host.switchToHttp().getRequest<FastifyRequest | undefined>());
    if (error instanceof HttpException) {
      const response = error.getResponse();
      void reply
        .status(error.getStatus())
        .send(typeof response === 'string' ? { error: 'HTTP', message: response } : response);
      return;
    }
    const { httpStatus, retryAfterSeconds, reason } = classifyFailure(error);
    if (httpStatus === 503 && retryAfterSeconds !== undefined)
      void reply.header('Retry-After', String(retryAfterSeconds));
    if (error instanceof ThroughlineError) {
      const body: Record<string, unknown> = { error: error.code, message: error.message };
      if (error instanceof ValidationError) body.issues = error.issues;
      void reply.status(httpStatus).send(body);
      return;
    }
    this.logger.error(
      `${reason}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    const body =
      httpStatus === 503
        ? { error: 'UNAVAILABLE', message: 'a service this depends on is unavailable; retry later' }
        : httpStatus >= 500
          ? { error: 'INTERNAL', message: 'internal error' }
          : { error: 'REFUSED', message: `the request was refused (${reason})` };
    void reply.status(httpStatus).send(body);
  }
}

export interface HttpAppOptions {
  readonly title: string;
  readonly description: string;
  /**
   * Body and rate limits, TLS (edgeSettingsOf(config)). Default: the config defaults, plain HTTP;
   * bodies 64 KiB but where a route says otherwise (@EdgeRoute).
   */
  readonly edge?: EdgeSettings;
  /** Records a request refused at the edge for invalid text, on the routes that audit. */
  readonly auditRefusal?: RefusalAudit;
  /** The process's logger (appLogger(config)): Nest's logs and one line per request go to it. */
  readonly logger: PinoLogger;
  /** The app's registry (createMetricsRegistry): served at /metrics, HTTP durations recorded in it. */
  readonly metrics: Registry;
  /**
   * Who may call what: the access guard and the access-record interceptor (libs/access
   * accessEnhancers), applied to every route. Every route declares its @RouteAccess.
   */
  readonly access?: { readonly guards: CanActivate[]; readonly interceptors: NestInterceptor[] };
  /** Serve the OpenAPI page at /docs (it carries no data; off outside development by default). */
  readonly docs?: boolean;
}

/**
 * A Nest app on Fastify with the edge (edge.ts: security headers, body and rate limits, text
 * checks, no-store), the error filter, request logs, /metrics, /health (live, ready: the module
 * provides ReadinessChecks), OpenAPI at /docs and shutdown hooks. Not yet listening.
 */
export async function createHttpApp(
  module: Type<unknown>,
  options: HttpAppOptions,
): Promise<NestFastifyApplication> {
  @Module({
    imports: [
      LoggerModule.forRoot(requestLoggingParams(options.logger)),
      TerminusModule.forRoot({ logger: ReadinessLogger }),
      MetricsModule.forRegistry(options.metrics),
      module,
    ],
    controllers: [HealthController],
  })
  class HttpAppModule {}

  const edge = options.edge ?? edgeSettingsOf(configSchema.parse({}));
  const serverOptions = {
    // The parsers' limit; each route's own (edge.ts) wins.
    bodyLimit: DEFAULT_BODY_LIMIT_BYTES,
    requestIdHeader: false,
    genReqId: requestIdOf,
    clientErrorHandler: answerClientError,
  } as const;
  const adapter = new FastifyAdapter(
    edge.https
      ? ({
          ...serverOptions,
          https: { cert: edge.https.cert, key: edge.https.key },
        } as FastifyHttpsOptions<HttpsServer>)
      : serverOptions,
  );
  const fastify = adapter.getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    markRoute(request.raw, request.routeOptions.url);
    done();
  });
  observeHttpRequests(fastify, options.metrics);
  const app = await NestFactory.create<NestFastifyApplication>(HttpAppModule, adapter, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(new ThroughlineNestLogger(options.logger));
  await installEdge(app, { settings: edge, auditRefusal: options.auditRefusal });
  app.useGlobalFilters(new ThroughlineExceptionFilter());
  if (options.access) {
    app.useGlobalGuards(...options.access.guards);
    app.useGlobalInterceptors(...options.access.interceptors);
  }
  traceHttpApp(app);
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(options.title)
      .setDescription(options.description)
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  if (options.docs ?? true) SwaggerModule.setup('docs', app, document);
  return app;
}

export async function listen(app: INestApplication, port: number, host: string): Promise<string> {
  await app.listen(port, host);
  const address = app.getHttpServer().address() as { port: number } | string | null;
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const protocol = app.getHttpServer() instanceof TlsServer ? 'https' : 'http';
  return `${protocol}://${host}:${actualPort}`;
}

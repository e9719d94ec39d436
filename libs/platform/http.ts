import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ThroughlineError, UnavailableError, ValidationError } from './errors';

/**
 * Maps the error hierarchy to HTTP at the edge: one place, one table (ERROR_POLICIES).
 * Unknown errors are 500 and logged; nothing is swallowed.
 */
@Catch()
export class ThroughlineExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (error instanceof ThroughlineError) {
      if (error instanceof UnavailableError)
        void reply.header('Retry-After', String(error.retryAfterSeconds));
      const body: Record<string, unknown> = { error: error.code, message: error.message };
      if (error instanceof ValidationError) body.issues = error.issues;
      void reply.status(error.httpStatus).send(body);
      return;
    }
    if (error instanceof HttpException) {
      const response = error.getResponse();
      void reply
        .status(error.getStatus())
        .send(typeof response === 'string' ? { error: 'HTTP', message: response } : response);
      return;
    }
    this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    void reply.status(500).send({ error: 'INTERNAL', message: 'internal error' });
  }
}

export interface HttpAppOptions {
  readonly title: string;
  readonly description: string;
  /** Largest request body in bytes. Default 16 MiB (a batch of 1,000 events). */
  readonly bodyLimit?: number;
  readonly logLevels?: ('error' | 'warn' | 'log' | 'debug' | 'verbose')[];
}

/** A Nest app on Fastify with the error filter, OpenAPI at /docs and shutdown hooks. Not yet listening. */
export async function createHttpApp(
  module: Type<unknown>,
  options: HttpAppOptions,
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    module,
    new FastifyAdapter({ bodyLimit: options.bodyLimit ?? 16 * 1024 * 1024 }),
    { logger: options.logLevels ?? ['error', 'warn', 'log'], abortOnError: false },
  );
  app.useGlobalFilters(new ThroughlineExceptionFilter());
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
  SwaggerModule.setup('docs', app, document);
  return app;
}

export async function listen(app: INestApplication, port: number, host: string): Promise<string> {
  await app.listen(port, host);
  const address = app.getHttpServer().address() as { port: number } | string | null;
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return `http://${host}:${actualPort}`;
}

import {
  Controller,
  Get,
  Logger,
  Res,
  ServiceUnavailableException,
  type LoggerService,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { ThroughlineError, UnavailableError } from './errors';
import { RouteAccess } from './route-access';

/**
 * Health through @nestjs/terminus: GET /health/live answers while the process serves HTTP;
 * GET /health/ready (and GET /health, the same answer) checks what the app needs to do its
 * work, given by the app as ReadinessChecks. A 503 carries Retry-After.
 */

/** One thing /health/ready checks: resolves with details when ready; throws, saying why, when not. */
export interface ReadinessCheck {
  readonly name: string;
  probe(): Promise<Record<string, unknown>>;
}

/** What /health/ready checks in one app: each app's module provides it. */
export class ReadinessChecks {
  constructor(readonly checks: readonly ReadinessCheck[]) {}
}

/** One probe's bound, in milliseconds, so that a hanging dependency answers 503, not a timeout. */
export const PROBE_TIMEOUT_MS = 3_000;
const RETRY_AFTER_SECONDS = 5;

async function bounded<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new UnavailableError(`${what}: no answer within ${PROBE_TIMEOUT_MS} ms`)),
      PROBE_TIMEOUT_MS,
    );
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A failing readiness probe is a state (starting, catching up, a dependency down), logged as a warning. */
export class ReadinessLogger implements LoggerService {
  private readonly logger = new Logger('health');

  log(message: unknown): void {
    this.logger.log(message);
  }

  warn(message: unknown): void {
    this.logger.warn(message);
  }

  error(message: unknown): void {
    this.logger.warn(message);
  }
}

@ApiTags('operations')
@Controller('health')
export class HealthController {
  private readiness: ReadinessChecks | undefined;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
  ) {}

  @Get('live')
  @RouteAccess({ public: true })
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process is up and serves HTTP (no dependency is checked)' })
  live(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.indicators.check('process').up({ uptimeSeconds: Math.round(process.uptime()) }),
    ]);
  }

  @Get(['', 'ready'])
  @RouteAccess({ public: true })
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: every dependency this app needs answers (503 with Retry-After otherwise)',
  })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    // Every module's checks: a hybrid app (an HTTP door and a Kafka consumer) has one set per module.
    const readiness = (this.readiness ??= new ReadinessChecks(
      this.moduleRef
        .get(ReadinessChecks, { strict: false, each: true })
        .flatMap((provided) => provided.checks),
    ));
    if (readiness.checks.length === 0)
      throw new ThroughlineError('CONFIGURATION', 'the app provides no ReadinessChecks');
    try {
      return await this.health.check(readiness.checks.map((check) => () => this.run(check)));
    } catch (error) {
      if (error instanceof ServiceUnavailableException)
        void reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
      throw error;
    }
  }

  private async run(check: ReadinessCheck): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(check.name);
    try {
      return indicator.up(await bounded(check.probe(), check.name));
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}

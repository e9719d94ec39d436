import fastifyMultipart from '@fastify/multipart';
import { Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Agency } from '@throughline/contracts';
import {
  appLogger,
  createHttpApp,
  createMetricsRegistry,
  edgeSettingsOf,
  listen,
  startTracing,
  type Config,
} from '@throughline/platform';
import { ServiceAccessGuard, TokenVerifier } from '@throughline/access';
import { AgencyGatewayModule } from './agency-gateway.module';
import { IMPORT_MAX_FILE_BYTES, IMPORT_MAX_FILES } from './imports.controller';

export interface RunningAgencyApp {
  readonly app: NestFastifyApplication;
  readonly url: string;
  /** Stops listening and disconnects the Kafka producer. */
  close(): Promise<void>;
}

export function agencyPort(agency: Agency, config: Config): number {
  switch (agency) {
    case 'health':
      return config.HEALTH_PORT;
    case 'education':
      return config.EDUCATION_PORT;
    case 'social-care':
      return config.SOCIAL_CARE_PORT;
    default: {
      const unknown: never = agency;
      throw new Error(`no port for agency ${String(unknown)}`);
    }
  }
}

/**
 * Imports arrive as multipart uploads, streamed (POST /v1/imports): every agency service app,
 * however it is composed, registers the parser before it listens.
 */
export async function acceptImportUploads(app: NestFastifyApplication): Promise<void> {
  await app.register(fastifyMultipart as unknown as Parameters<typeof app.register>[0], {
    limits: { fileSize: IMPORT_MAX_FILE_BYTES, files: IMPORT_MAX_FILES, fields: 10 },
    throwFileSizeLimit: true,
  });
}

/** Builds and starts one agency service on its port (0 picks a free one) and config.HOST. */
export async function createAgencyApp(agency: Agency, config: Config): Promise<RunningAgencyApp> {
  startTracing({ serviceName: `throughline-${agency}`, otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  @Module({ imports: [AgencyGatewayModule.forAgency(agency, config)] })
  class AgencyAppModule {}

  const app = await createHttpApp(AgencyAppModule, {
    title: `Throughline ${agency} service`,
    description:
      `Publish ${agency} events about children to Throughline. Authenticate with "Authorization: Bearer <access token>", a client-credentials token of this agency's system. ` +
      'Every event is answered on its own: accepted with its Kafka topic, partition and offset, or rejected ' +
      'with each failing field path and rule.',
    logger: appLogger(config),
    metrics: createMetricsRegistry(agency),
    edge: edgeSettingsOf(config),
    access: { guards: [new ServiceAccessGuard(TokenVerifier.fromConfig(config))], interceptors: [] },
    docs: config.THROUGHLINE_MODE === 'development',
  });
  await acceptImportUploads(app);
  try {
    const url = await listen(app, agencyPort(agency, config), config.HOST);
    return { app, url, close: () => app.close() };
  } catch (error) {
    await app.close();
    throw error;
  }
}

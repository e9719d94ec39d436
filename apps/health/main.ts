import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadConfig } from '@throughline/platform';
import { createHealthApp } from './app';

async function main(): Promise<void> {
  const { url } = await createHealthApp(loadConfig());
  new Logger('health').log(`health service listening on ${url} (OpenAPI at ${url}/docs)`);
}

main().catch((error: unknown) => {
  new Logger('health').error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});

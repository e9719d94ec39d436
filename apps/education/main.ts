import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadConfig } from '@throughline/platform';
import { createEducationApp } from './app';

async function main(): Promise<void> {
  const { url } = await createEducationApp(loadConfig());
  new Logger('education').log(`education service listening on ${url} (OpenAPI at ${url}/docs)`);
}

main().catch((error: unknown) => {
  new Logger('education').error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});

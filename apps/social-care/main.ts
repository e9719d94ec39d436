import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadConfig } from '@throughline/platform';
import { createSocialCareApp } from './app';

async function main(): Promise<void> {
  const { url } = await createSocialCareApp(loadConfig());
  new Logger('social-care').log(`social-care service listening on ${url} (OpenAPI at ${url}/docs)`);
}

main().catch((error: unknown) => {
  new Logger('social-care').error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});

import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadConfig } from '@throughline/platform';
import { createRecorderApp } from './app';

async function main(): Promise<void> {
  const config = loadConfig();
  const { url } = await createRecorderApp(config);
  // Signals are handled by the app's shutdown hooks: the consumer stops, then the pools close.
  new Logger('recorder').log(`recorder listening on ${url}`);
}

main().catch((error: unknown) => {
  new Logger('recorder').error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});

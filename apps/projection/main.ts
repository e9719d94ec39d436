import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadConfig } from '@throughline/platform';
import { createProjectionApp } from './app';

/** `--rebuild`: empty the read models and replay the whole store before serving. */
async function main(): Promise<void> {
  const config = loadConfig();
  const rebuild = process.argv.includes('--rebuild');
  const { url } = await createProjectionApp(config, { rebuild });
  // Signals are handled by the app's shutdown hooks: the subscription stops, then the pools close.
  new Logger('projection').log(
    `projection ${config.PROJECTION_NAME} listening on ${url}${rebuild ? ' (rebuilding)' : ''}`,
  );
}

main().catch((error: unknown) => {
  new Logger('projection').error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});

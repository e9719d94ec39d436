import type { Config } from '@throughline/platform';
import { createAgencyApp, type RunningAgencyApp } from '@throughline/agency-gateway';

/** The health agency service: child health systems publish here. Listens on HEALTH_PORT. */
export async function createHealthApp(config: Config): Promise<RunningAgencyApp> {
  return createAgencyApp('health', config);
}

import type { Config } from '@throughline/platform';
import { createAgencyApp, type RunningAgencyApp } from '@throughline/agency-gateway';

/** The education agency service: school MIS and LA education systems publish here. Listens on EDUCATION_PORT. */
export async function createEducationApp(config: Config): Promise<RunningAgencyApp> {
  return createAgencyApp('education', config);
}

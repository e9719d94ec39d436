import type { Config } from '@throughline/platform';
import { createAgencyApp, type RunningAgencyApp } from '@throughline/agency-gateway';

/** The social care agency service: LA case systems publish here. Listens on SOCIAL_CARE_PORT. */
export async function createSocialCareApp(config: Config): Promise<RunningAgencyApp> {
  return createAgencyApp('social-care', config);
}

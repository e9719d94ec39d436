import type { Config } from '@throughline/platform';
import type { DisclosureRules } from '../types';

/** The disclosure rules in force, from the configuration (parsed and bounded once at start). */
export function disclosureRulesOf(
  config: Pick<
    Config,
    'ANALYSIS_SUPPRESSION_THRESHOLD' | 'ANALYSIS_ROUNDING_BASE' | 'ANALYSIS_MINIMUM_COHORT'
  >,
): DisclosureRules {
  return {
    threshold: config.ANALYSIS_SUPPRESSION_THRESHOLD,
    roundingBase: config.ANALYSIS_ROUNDING_BASE,
    minimumCohort: config.ANALYSIS_MINIMUM_COHORT,
  };
}

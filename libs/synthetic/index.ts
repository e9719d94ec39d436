export {
  generateCohort,
  linkageOf,
  agenciesOf,
  type CohortOptions,
  type ChildLinkage,
  type PlantedCases,
  type PlantedRole,
  type SyntheticChild,
  type SyntheticCohort,
} from './cohort';
export type {
  AgencyRecord,
  EducationRecord,
  HealthRecord,
  NeedsLevel,
  PostcodeFrom,
  RecordedDemographics,
  SenServiceRecord,
  SocialCareRecord,
} from './history';
export { toAgencyBatches, MAX_BATCH_SIZE, type AgencyBatch } from './batches';
export { DEMO_COHORT_OPTIONS, exampleLinkedChild, summariseCohort, type CohortSummary } from './demo';
export { Random } from './random';

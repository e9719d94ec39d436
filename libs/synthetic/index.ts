export {
  generateCohort,
  linkageOf,
  agenciesOf,
  type ChildTrajectory,
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
export {
  ALL_PARTS,
  ANALYST_EXAMPLE_CHILDREN,
  DEMO_COHORT_OPTIONS,
  decisionStatuses,
  eventsOf,
  exampleLinkedChild,
  partsShown,
  storyOf,
  summariseCohort,
  type ChildStory,
  type CohortSummary,
  type DecisionStatus,
} from './demo';
export { Random } from './random';
export {
  AWKWARD,
  fhirBundle,
  fhirBundleChunks,
  fhirResourceJson,
  fhirResourceXml,
  fhirResourcesOf,
  type FhirFormat,
  type FhirResource,
  type FhirWriteOptions,
} from './returns/fhir';
export {
  PLANTED,
  PLANTED as CIN_CENSUS_PLANTED,
  cinCensusChild,
  cinCensusChunks,
  writeCinCensus,
  type CinCensusWriterOptions,
} from './returns/cin-census';
export {
  childXml,
  ddmmyyyy,
  lookedAfterHistory,
  rowsForYear,
  ssda903Children,
  SSDA903_COLUMNS,
  SSDA903_FILES,
  SSDA903_TABLE_NAMES,
  writeSsda903Csv,
  writeSsda903Xml,
  type LookedAfterHistory,
  type Ssda903Options,
  type Ssda903Row,
  type Ssda903Table,
} from './returns/ssda903';

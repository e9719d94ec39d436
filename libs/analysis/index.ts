/** The analysis context: the pseudonymised analysis model, measures, disclosure control and exports (issue 15). */
export * from './types';
export * from './disclosure';
export * from './export';
export {
  Pseudonymiser,
  postcodeDistrictOf,
  ethnicityGroupOf,
  senStatusOf,
  sexGroupOf,
  ageInMonths,
} from './model/cut';
export { factOf, characteristicsOf, type FactDraft, type CharacteristicsDraft } from './model/facts';
export {
  applyPreparedAnalysis,
  prepareAnalysisBatch,
  type AnalysisBatchResult,
  type PreparedAnalysisBatch,
} from './model/apply-batch';
export {
  migrateAnalysis,
  truncateAnalysisModel,
  analysisReadModel,
  ANALYSIS_MODEL_TABLES,
  ANALYSIS_CHECKPOINTS,
} from './model/schema';
export {
  AnalysisProjector,
  ANALYSIS_PROJECTION,
  type AnalysisProjectorOptions,
  type AnalysisModelStatus,
} from './model/projector';
export * from './api';
export { MEASURES, MEASURE_BY_ID } from './measures/catalogue';
export { AnalysisQueries } from './measures/queries';

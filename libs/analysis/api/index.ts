export { AnalysisQueryLog, cohortFingerprint, type ReleasedAs } from './query-log';
export {
  answerShape,
  GovernedAnalysis,
  readingOf,
  type AnalysisCatalogue,
  type AnswerShape,
  type CatalogueEntry,
} from './governed-analysis';
export {
  analysisAnswerDocSchema,
  analysisCatalogueSchema,
  analysisExportRequestSchema,
  type AnalysisExportRequest,
} from './http-schemas';
export { disclosureRulesOf } from './rules';

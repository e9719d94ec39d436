/** The outcomes context: frameworks as versioned data, and outcomes, decisions and reviews read from the entries a reader may see. */
export {
  ANNOUNCED_EVENT_TYPES,
  FRAMEWORK_DOCUMENT,
  domainRef,
  type DomainRef,
  type Framework,
  type FrameworkDocument,
  type FrameworkDomain,
  type Scale,
} from './framework-document';
export {
  FrameworkStore,
  migrateOutcomes,
  parseFrameworkDocument,
  type FrameworkSnapshot,
  type FrameworkStoreOptions,
  type FrameworkVersionView,
} from './framework-store';
export { academicYearOf, ageOn, schoolPeriodOf, termOf, type SchoolPeriod, type Term } from './calendar';
export { DomainResolver, domainResolverOf } from './domains';
export { readEntry, perspectiveKeyOf, type ReadEntry } from './entry-reading';
export { outcomesOf, normalise, type OutcomesInput } from './outcomes';
export { decisionsOf, decisionStatus, type DecisionsInput } from './decisions';
export { ReviewsDueQueries } from './reviews-due';
export {
  OUTCOMES_QUERY,
  REVIEWS_DUE_QUERY,
  DECISION_STATUS,
  childOutcomes,
  childDecisions,
  reviewsDue,
  type ChildOutcomes,
  type ChildDecisions,
  type DecisionStatus,
  type DecisionView,
  type EvidenceEntry,
  type DomainOutcomes,
  type OutcomesQuery,
  type RatingPoint,
  type ReviewsDue,
  type ReviewsDueQuery,
} from './responses';
export { AnswerCache } from './answer-cache';
export {
  DEFAULT_ANSWER_CACHE_MB,
  OutcomeReads,
  type GovernedDecisions,
  type GovernedOutcomes,
  type OutcomeSettings,
} from './outcome-reads';

/** The timeline context: identity links, the multi-agency chronology, its projector and queries. */
export { summarise, attendancePercent } from './summarise';
export {
  EVERY_CHILD_MATTERS,
  ECM_DOMAIN_OF_EVENT_TYPE,
  OUTCOME_FRAMEWORKS,
  outcomeDomainLabel,
  outcomeDomainOf,
  type EcmDomain,
  type OutcomeDomainRef,
  type OutcomeFramework,
} from './outcome-domains';
export {
  entryDetailsOf,
  lineageOf,
  timelineEntryOf,
  type Confidence,
  type DecisionDetail,
  type DomainRef,
  type EntryDetails,
  type EntryKind,
  type Indicator,
  type IndicatorPeriod,
  type IndicatorScale,
  type IndicatorThreshold,
  type Lineage,
  type Perspective,
  type RecordedByView,
  type ReviewDetail,
  type ReviewJudgement,
  type ReviewOutcome,
  type TimelineEntryDraft,
  type ViewsDifferDetail,
  type VoiceDetail,
} from './entry';
export { asq3Indicators, attendanceIndicators, keyStageIndicators } from './indicators';
export {
  childKeyOf,
  componentsOf,
  identifiersOf,
  joinedBy,
  type IdentifierKind,
  type LinkMethod,
  type RecordEdge,
  type RecordRef,
  type SubjectIdentifier,
} from './identity';
export { LOOKUP_REQUEST, type ChildIdentifierQuery } from './access';
export {
  migrateTimeline,
  resetTimelineReadModels,
  timelineMigrationsDirectory,
  timelineReadModel,
  READ_MODEL_TABLES,
} from './schema';
export type { BatchResult } from './apply-batch';
export { readAgencyEvent, readStoredEvent, type SkippedEvent } from './prepare';
export { TimelineProjector, type ProjectionStatus, type TimelineProjectorOptions } from './projector';
export {
  TimelineQueries,
  type ActiveBreakGlass,
  type ChronologyReadNotifier,
  type ChildTimeline,
  type LinkHistoryEntry,
  type LinkView,
  type SubjectView,
  type TimelineEntryView,
  type EntryView,
} from './queries';
export { ACCESS_LOG_CHAIN, verifyAccessLogChain } from './audit-chain';
export {
  protectionStatusOf,
  protectionStatusFrom,
  PROTECTION_SCOPE_MONTHS,
  type ChronologyEntry,
  type ProtectionKind,
  type ProtectionStatus,
} from './protection-status';

export {
  claimsMappingOf,
  principalOf,
  type ClaimsMapping,
  type Organisation,
  type Principal,
} from './principal';
export { TokenVerifier, tokenVerifierSettings, type TokenVerifierSettings } from './token-verifier';
export {
  ACCESS_POLICY,
  IDENTIFIABLE_PERMISSIONS,
  PERMISSIONS,
  type AccessPolicy,
  type Agreement,
  type Permission,
  type Purpose,
  type Role,
} from './policy-document';
export {
  agreementRef,
  agreementsSharing,
  analysisCoverage,
  decide,
  entryDecider,
  summariseWithheld,
  type AccessQuestion,
  type AnalysisCoverage,
  type AnalysisGap,
  type AnalysisReading,
  type Decision,
  type EntryAttributes,
  type EntryDecision,
  type EventFlow,
  type PolicySnapshot,
  type ReadContext,
  type SharingBasis,
  type Withheld,
} from './policy';
export {
  AccessPolicyStore,
  migrateAccess,
  parseAccessPolicy,
  type AccessPolicyStoreOptions,
  type PolicyVersionView,
} from './policy-store';
export { AccessLog, type AccessNote, type AccessRecord } from './access-log';
export { BREAK_GLASS_REQUEST, BreakGlassGrants, type BreakGlassGrant } from './break-glass';
export {
  Access,
  AccessGuard,
  AccessRecordInterceptor,
  accessEnhancers,
  CurrentRequester,
  noteAccess,
  PURPOSE_HEADER,
  type AccessSettings,
  type Requester,
  type SessionAuthenticator,
} from './access-guard';
export { edgeRefusalAudit } from './edge-refusal-audit';
export { openGovernedAccess, type GovernedAccess } from './governed-access';
export { ServiceAccessGuard } from './service-guard';

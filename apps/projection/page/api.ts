// What the page reads from the query API (GET /v1/children/:childKey/timeline and friends) and
// from its sign-in (/auth/*).
// Types only: the page trusts no more of a response than it uses.

export interface Scale {
  name: string;
  min: number;
  max: number;
}

export interface Threshold {
  value: number;
  label: string;
}

/** What a period an indicator covers: attendance by academic year ("2023/24") and term. */
export interface IndicatorPeriod {
  academicYear: string;
  term?: string;
}

export interface Indicator {
  name: string;
  label?: string;
  value: number;
  unit?: string;
  scale?: Scale;
  thresholds?: Threshold[];
  period?: IndicatorPeriod;
  higherIsBetter?: boolean;
}

/** Who recorded something: a practitioner's role and agency (and team, when given). */
export interface RecordedBy {
  role: string;
  agency: string;
  team?: string;
}

export interface DomainRef {
  framework: string;
  domain: string;
}

export interface ExpectedOutcome extends DomainRef {
  lookFor: string;
}

export interface DecisionDetails {
  decidedOn?: string;
  decision: string;
  options?: { option: string; whyNot?: string }[];
  uncertainty?: string;
  forum?: string;
  team?: string;
  expectedOutcomes?: ExpectedOutcome[];
  reviewDate?: string;
}

export interface VoiceDetails {
  verbatim?: boolean;
  capturedHow?: string;
  context?: string;
  interpretation?: string;
  childAgreedToShare?: boolean;
}

export interface AgainstExpected extends DomainRef {
  finding: string;
  judgement: string;
}

export interface ReviewDetails {
  decisionId: string;
  reviewedOn: string;
  whatHappened: string;
  againstExpected?: AgainstExpected[];
  outcome: string;
  revisedDecision?: string;
  nextReviewDate?: string;
}

export interface View {
  perspective: string;
  role: string;
  agency?: string;
  view: string;
}

export interface ViewsDifferDetails {
  about: string[];
  framework?: string;
  domain?: string;
  views: View[];
}

export interface OutcomeDomain {
  framework: string;
  domain: string;
  label?: string;
}

export interface Lineage {
  eventId: string;
  topic?: string;
  partition?: number;
  offset?: string;
  storePosition: number;
  publisher?: string;
  sourceSystem: string;
}

export interface TimelineEntry {
  position: number;
  occurredAt: string;
  agency: string;
  type: string;
  summary: string;
  outcomeDomain: OutcomeDomain;
  kind: 'fact' | 'observation';
  /** Entries projected before decision 015 carry one indicator; later ones a list. */
  indicator?: Indicator;
  indicators?: Indicator[];
  narrative?: string;
  perspective?: string;
  observerRole?: string;
  observerAgency?: string;
  recordedBy?: RecordedBy;
  confidence?: string;
  reviewDate?: string;
  observedOn?: string;
  correlationId?: string;
  causationId?: string;
  declaredOutcomeDomains?: DomainRef[];
  decision?: DecisionDetails;
  voice?: VoiceDetails;
  review?: ReviewDetails;
  viewsDiffer?: ViewsDifferDetails;
  imported?: ImportedFrom;
  notInReturn?: string[];
  quarantinedIdentifiers?: { field: string; rule: string }[];
  specialCategories?: string[];
  /** Why this reader may see the entry. */
  sharedUnder?: SharedUnder;
  lineage: Lineage;
}

/** Where an imported entry came from. */
export interface ImportedFrom {
  kind: 'statutory-return' | 'health-record';
  format: string;
  collectionYear?: string;
  location: string;
  fileSha256: string;
}

export type SharedUnder =
  | { basis: 'own-organisation' }
  | { basis: 'agreement'; agreement: string }
  | { basis: 'break-glass'; grant: string };

/** Entries the answer left out, grouped by the reason the policy gave. */
export interface Withheld {
  count: number;
  reason: string;
}

/** The terms an answer was given under. */
export interface AccessTerms {
  purpose: string;
  roles: string[];
  policyVersion: number;
  breakGlass?: { id: string; reason: string; expiresAt: string };
}

export interface Actor {
  type: 'linker' | 'user';
  userId?: string;
  role?: string;
}

export interface Subject {
  streamId: string;
  agency: string;
  recordId: string;
  identifiers: { kind: string; value: string }[];
  linkedBy: string;
}

export interface LinkEvidence {
  shared?: { value: string }[];
  score?: number;
  reason?: string;
}

export interface Link {
  streamId: string;
  linkedTo: string;
  method: string;
  evidence?: LinkEvidence;
  by?: Actor;
  linkedAtPosition?: number;
}

export interface LinkHistoryEntry {
  type: string;
  subjects: string[];
  at: string;
  by?: Actor;
  method?: string;
  reason?: string;
  details?: { score?: number };
}

export interface ChildTimeline {
  childKey: string;
  /** The child's date of birth as the linked records give it (absent when none does). */
  dateOfBirth?: string;
  mergedChildKeys?: string[];
  subjects?: Subject[];
  links?: Link[];
  linkHistory?: LinkHistoryEntry[];
  entries?: TimelineEntry[];
  withheld?: Withheld[];
  access?: AccessTerms;
}

/** GET /auth/me: who is signed in, and what their roles allow for each purpose. */
export interface SignedIn {
  userId: string;
  name?: string;
  organisation?: { code: string; type?: string; name?: string };
  roles: string[];
  purposes: { id: string; label: string; permissions: string[] }[];
}

/** POST /auth/logout. */
export interface SignedOut {
  signedOut: true;
  endSessionUrl?: string;
}

/** POST /v1/children/:childKey/break-glass. */
export interface BreakGlassGrant {
  id: string;
  reason: string;
  expiresAt: string;
}

/** The body of a refusal (ThroughlineError's JSON). */
export interface ErrorBody {
  error?: string;
  message?: string;
  issues?: { path: string; message: string }[];
}

// ---------------------------------------------------------------------------------------------
// GET /v1/children/:childKey/outcomes and /decisions (decision 015; libs/outcomes/responses.ts is
// the server's schema). Read through the adapters in timeline-logic.ts (lanesOf, sinceGroups).

export interface Age {
  years: number;
  months: number;
}

export type Term = 'autumn' | 'spring' | 'summer';

export interface OutcomeScale {
  id: string;
  min: number;
  max: number;
  better: 'higher' | 'lower';
  known: boolean;
}

/** One rating from one perspective, normalised to 0-1 (1 = the better end of its scale). */
export interface RatingPoint {
  position: number;
  eventId: string;
  date: string;
  age?: Age;
  academicYear: string;
  term: Term;
  value: number;
  scale: OutcomeScale;
  normalised: number;
  narrative?: string;
  confidence?: string;
  observerRole?: string;
  /** Other perspectives whose latest rating in the same period differs by at least the threshold. */
  disagreesWith?: string[];
}

export interface PerspectiveSeries {
  /** `child`, `family` or `professional:<agency>:<role>`. */
  perspective: string;
  points: RatingPoint[];
}

/** An account without a rating (a voice-of-the-child entry, a narrative observation). */
export interface Account {
  position: number;
  eventId: string;
  date: string;
  age?: Age;
  academicYear: string;
  term: Term;
  perspective: string;
  type: string;
  narrative: string;
  confidence?: string;
  observerRole?: string;
}

export interface IndicatorPeriodView {
  academicYear: string;
  term?: Term;
  values: { position: number; eventId: string; date: string; value: number; threshold?: number }[];
  /** The accounts in the same domain and period: whose words go with this number. */
  accounts: { perspective: string; position: number }[];
  withoutAccount: boolean;
}

export interface IndicatorView {
  name: string;
  unit?: string;
  periods: IndicatorPeriodView[];
}

export interface DomainFact {
  position: number;
  eventId: string;
  date: string;
  type: string;
  agency: string;
  summary: string;
}

export interface Disagreement {
  academicYear: string;
  term?: Term;
  difference: number;
  between: { perspective: string; position: number; normalised: number }[];
}

export interface ViewsDifferRecord {
  position: number;
  eventId: string;
  date: string;
  about: string[];
  views: View[];
  narrative?: string;
}

export interface DomainOutcomes {
  domain: string;
  label: string;
  series: PerspectiveSeries[];
  accounts: Account[];
  indicators: IndicatorView[];
  facts: DomainFact[];
  disagreements: Disagreement[];
  viewsDiffer: ViewsDifferRecord[];
}

export interface ChildOutcomes {
  framework: { id: string; name: string; version: number };
  period: 'term' | 'year';
  from?: string;
  to?: string;
  threshold: number;
  domains: DomainOutcomes[];
  withheld?: Withheld[];
  access?: AccessTerms;
}

export interface Practitioner {
  role: string;
  agency?: string;
  team?: string;
}

export interface DecisionReview {
  position: number;
  eventId: string;
  reviewedOn: string;
  whatHappened?: string;
  againstExpected: AgainstExpected[];
  outcome: 'continued' | 'revised' | 'ended';
  revisedDecision?: string;
  nextReviewDate?: string;
  reviewedBy?: Practitioner;
  forum?: string;
  confidence?: string;
}

/** What was seen in a decision's expected domains after it. */
export interface SinceEntry {
  position: number;
  eventId: string;
  date: string;
  type: string;
  framework: string;
  domain: string;
  narrative?: string;
  indicators: { name: string; value: number; unit?: string }[];
  confidence?: string;
}

export interface DecisionCard {
  position: number;
  eventId: string;
  decidedOn: string;
  decision: string;
  rationale?: string;
  optionsConsidered: { option: string; whyNot?: string }[];
  uncertainty?: string;
  confidence?: string;
  decidedBy?: Practitioner;
  forum?: string;
  team?: string;
  expectedOutcomes: ExpectedOutcome[];
  reviewDate?: string;
  nextReviewDate?: string;
  reviews: DecisionReview[];
  /** `open`, `review-due`, `overdue` or `reviewed`. */
  status: string;
  since?: {
    from: string;
    until?: string;
    /** Per perspective (`unattributed`: facts with no observer). */
    byPerspective: { perspective: string; entries: SinceEntry[] }[];
  };
}

/** An entry some decision's "since" refers to (the answer lists each once). */
export type EvidenceEntry = Omit<SinceEntry, 'framework' | 'domain'>;

/** A decision as the server sends it: its "since" entries refer to the answer's `evidence`. */
export type DecisionAnswer = Omit<DecisionCard, 'since'> & {
  since?: {
    from: string;
    until?: string;
    byPerspective: {
      perspective: string;
      entries: { position: number; framework: string; domain: string }[];
    }[];
  };
};

export interface ChildDecisions {
  today?: string;
  reviewDueDays?: number;
  decisions: DecisionAnswer[];
  evidence?: EvidenceEntry[];
  withheld?: Withheld[];
  access?: AccessTerms;
}

/** GET /v1/outcomes/frameworks: the document in force (the page offers its frameworks to choose from). */
export interface FrameworksInForce {
  version: number;
  frameworks: { frameworks: { id: string; name: string }[] };
}

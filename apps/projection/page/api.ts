// What the page reads from the query API (GET /v1/children/:childKey/timeline and friends) and
// from its sign-in (/auth/*).
// Types only: the page trusts no more of a response than it uses.

export interface Scale {
  name: string;
  min: number;
  max: number;
}

export interface Indicator {
  name: string;
  value: number;
  unit?: string;
  scale?: Scale;
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
  indicator?: Indicator;
  narrative?: string;
  perspective?: string;
  observerRole?: string;
  confidence?: string;
  reviewDate?: string;
  specialCategories?: string[];
  /** Why this reader may see the entry. */
  sharedUnder?: SharedUnder;
  lineage: Lineage;
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

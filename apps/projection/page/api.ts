// What the page reads from the query API (GET /v1/children/:childKey/timeline and friends).
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
  lineage: Lineage;
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
}

/** The body of a refusal (ThroughlineError's JSON). */
export interface ErrorBody {
  error?: string;
  message?: string;
  issues?: { path: string; message: string }[];
}

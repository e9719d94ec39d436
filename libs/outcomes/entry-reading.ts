import type { EntryView } from '@throughline/timeline';
import type { DomainRef } from './framework-document';

/**
 * What the outcome read side takes from a timeline entry, read defensively: the entry's detail
 * fields of decision 015 (indicators[], recordedBy, decision{}, review{}, viewsDiffer{},
 * declaredOutcomeDomains, observedOn) are used when present, and an entry built before them
 * still reads (its single `indicator`, its `reviewDate`, its narrative).
 */

export type Confidence = 'low' | 'medium' | 'high';
export type BasePerspective = 'child' | 'family' | 'professional';

export interface ReadIndicator {
  readonly name: string;
  readonly value: number;
  readonly unit?: string;
  /** A rating on a scale (an observation's) rather than a measure. */
  readonly scale?: { readonly name: string; readonly min: number; readonly max: number };
  readonly period?: { readonly academicYear: string; readonly term?: string };
  readonly threshold?: number;
  /** When the indicator itself says which end is better (the framework's scale says it otherwise). */
  readonly higherIsBetter?: boolean;
}

export interface Practitioner {
  readonly role: string;
  readonly agency?: string;
  readonly team?: string;
}

export interface ReadDecision {
  readonly decidedOn: string;
  readonly decision: string;
  readonly rationale?: string;
  readonly optionsConsidered: readonly { readonly option: string; readonly whyNot?: string }[];
  readonly uncertainty?: string;
  readonly confidence?: Confidence;
  readonly decidedBy?: Practitioner;
  readonly forum?: string;
  readonly team?: string;
  readonly reviewDate?: string;
  readonly expectedOutcomes: readonly (DomainRef & { readonly lookFor: string })[];
}

export interface ReadReview {
  readonly decisionId: string;
  readonly reviewedOn: string;
  readonly whatHappened?: string;
  readonly againstExpected: readonly (DomainRef & { readonly finding: string; readonly judgement: string })[];
  readonly outcome: 'continued' | 'revised' | 'ended';
  readonly revisedDecision?: string;
  readonly nextReviewDate?: string;
  readonly reviewedBy?: Practitioner;
  readonly forum?: string;
  readonly confidence?: Confidence;
}

export interface ReadViewsDiffer {
  readonly recordedOn: string;
  readonly about: readonly string[];
  readonly framework?: string;
  readonly domain?: string;
  readonly views: readonly {
    readonly perspective: BasePerspective;
    readonly role: string;
    readonly agency?: string;
    readonly view: string;
  }[];
  readonly narrative?: string;
}

export interface ReadEntry {
  readonly position: number;
  readonly eventId: string;
  readonly type: string;
  readonly agency: string;
  /** The date it is about: observed, decided, reviewed or recorded on; else when it occurred. */
  readonly date: string;
  readonly kind: 'fact' | 'observation';
  readonly summary: string;
  readonly narrative?: string;
  readonly confidence?: Confidence;
  readonly perspective?: BasePerspective;
  /** `child`, `family` or `professional:<agency>:<role>`. */
  readonly perspectiveKey?: string;
  readonly observerRole?: string;
  /** Domains the entry itself names (an observation's own, the envelope's outcomeDomains). */
  readonly declared: readonly DomainRef[];
  readonly indicators: readonly ReadIndicator[];
  readonly decision?: ReadDecision;
  readonly review?: ReadReview;
  readonly viewsDiffer?: ReadViewsDiffer;
}

type Loose = Readonly<Record<string, unknown>>;

const record = (value: unknown): Loose | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Loose) : undefined;
const string = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;
const number = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;
const array = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);
const confidenceOf = (value: unknown): Confidence | undefined =>
  value === 'low' || value === 'medium' || value === 'high' ? value : undefined;
const perspectiveOf = (value: unknown): BasePerspective | undefined =>
  value === 'child' || value === 'family' || value === 'professional' ? value : undefined;
const dateOf = (value: unknown): string | undefined => {
  const text = string(value);
  return text && /^\d{4}-\d{2}-\d{2}/.test(text) ? text.slice(0, 10) : undefined;
};

function refOf(value: unknown): DomainRef | undefined {
  const ref = record(value);
  const framework = string(ref?.framework);
  const domain = string(ref?.domain);
  return framework && domain ? { framework, domain } : undefined;
}

function practitionerOf(value: unknown): Practitioner | undefined {
  const p = record(value);
  const role = string(p?.role);
  if (!role) return undefined;
  const agency = string(p?.agency);
  const team = string(p?.team);
  return { role, ...(agency ? { agency } : {}), ...(team ? { team } : {}) };
}

function indicatorOf(value: unknown): ReadIndicator | undefined {
  const i = record(value);
  const name = string(i?.name);
  const amount = number(i?.value);
  if (!name || amount === undefined) return undefined;
  const scale = record(i?.scale);
  const scaleName = string(scale?.name);
  const min = number(scale?.min);
  const max = number(scale?.max);
  const period = record(i?.period);
  const academicYear = string(period?.academicYear);
  const term = string(period?.term);
  const threshold = number(i?.threshold) ?? number(record(array(i?.thresholds)[0])?.value);
  const higherIsBetter = typeof i?.higherIsBetter === 'boolean' ? i.higherIsBetter : undefined;
  const unit = string(i?.unit);
  return {
    name,
    value: amount,
    ...(unit ? { unit } : {}),
    ...(scaleName && min !== undefined && max !== undefined && min < max
      ? { scale: { name: scaleName, min, max } }
      : {}),
    ...(academicYear ? { period: { academicYear, ...(term ? { term } : {}) } } : {}),
    ...(threshold !== undefined ? { threshold } : {}),
    ...(higherIsBetter !== undefined ? { higherIsBetter } : {}),
  };
}

function decisionOf(entry: Loose, view: EntryView): ReadDecision | undefined {
  if (view.type !== 'practice.decision.recorded') return undefined;
  const d = record(entry.decision) ?? {};
  const reviewDate = dateOf(d.reviewDate) ?? dateOf(view.reviewDate);
  const rationale = string(d.rationale) ?? view.narrative;
  const uncertainty = string(d.uncertainty);
  // The entry keeps the decider as recordedBy (with the team); an older shape kept decidedBy.
  const decidedBy = practitionerOf(d.decidedBy) ?? practitionerOf(entry.recordedBy);
  const forum = string(d.forum);
  const team = string(d.team) ?? practitionerOf(entry.recordedBy)?.team;
  const confidence = confidenceOf(d.confidence) ?? view.confidence;
  return {
    decidedOn: dateOf(d.decidedOn) ?? view.occurredAt.slice(0, 10),
    decision: string(d.decision) ?? view.summary,
    ...(rationale ? { rationale } : {}),
    optionsConsidered: array(d.options ?? d.optionsConsidered).flatMap((o) => {
      const option = string(record(o)?.option);
      const whyNot = string(record(o)?.whyNot);
      return option ? [{ option, ...(whyNot ? { whyNot } : {}) }] : [];
    }),
    ...(uncertainty ? { uncertainty } : {}),
    ...(confidence ? { confidence } : {}),
    ...(decidedBy ? { decidedBy } : {}),
    ...(forum ? { forum } : {}),
    ...(team ? { team } : {}),
    ...(reviewDate ? { reviewDate } : {}),
    expectedOutcomes: array(d.expectedOutcomes).flatMap((e) => {
      const ref = refOf(e);
      const lookFor = string(record(e)?.lookFor);
      return ref && lookFor ? [{ ...ref, lookFor }] : [];
    }),
  };
}

function reviewOf(entry: Loose, view: EntryView): ReadReview | undefined {
  if (view.type !== 'practice.decision.reviewed') return undefined;
  const r = record(entry.review);
  const decisionId = string(r?.decisionId);
  const outcome = r?.outcome;
  if (!r || !decisionId || (outcome !== 'continued' && outcome !== 'revised' && outcome !== 'ended'))
    return undefined;
  const whatHappened = string(r.whatHappened) ?? view.narrative;
  const revisedDecision = string(r.revisedDecision);
  const nextReviewDate = dateOf(r.nextReviewDate);
  const reviewedBy = practitionerOf(r.reviewedBy) ?? practitionerOf(entry.recordedBy);
  const forum = string(r.forum);
  const confidence = confidenceOf(r.confidence) ?? view.confidence;
  return {
    decisionId,
    reviewedOn: dateOf(r.reviewedOn) ?? view.occurredAt.slice(0, 10),
    ...(whatHappened ? { whatHappened } : {}),
    againstExpected: array(r.againstExpected).flatMap((a) => {
      const ref = refOf(a);
      const finding = string(record(a)?.finding);
      const judgement = string(record(a)?.judgement);
      return ref && finding && judgement ? [{ ...ref, finding, judgement }] : [];
    }),
    outcome,
    ...(revisedDecision ? { revisedDecision } : {}),
    ...(nextReviewDate ? { nextReviewDate } : {}),
    ...(reviewedBy ? { reviewedBy } : {}),
    ...(forum ? { forum } : {}),
    ...(confidence ? { confidence } : {}),
  };
}

function viewsDifferOf(entry: Loose, view: EntryView): ReadViewsDiffer | undefined {
  if (view.type !== 'practice.views.differ') return undefined;
  const v = record(entry.viewsDiffer);
  if (!v) return undefined;
  const framework = string(v.framework);
  const domain = string(v.domain);
  const narrative = string(v.narrative) ?? view.narrative;
  return {
    recordedOn: dateOf(v.recordedOn) ?? dateOf(entry.observedOn) ?? view.occurredAt.slice(0, 10),
    about: array(v.about).flatMap((id) => (string(id) ? [id as string] : [])),
    ...(framework ? { framework } : {}),
    ...(domain ? { domain } : {}),
    views: array(v.views).flatMap((item) => {
      const w = record(item);
      const perspective = perspectiveOf(w?.perspective);
      const role = string(w?.role);
      const text = string(w?.view);
      const agency = string(w?.agency);
      return perspective && role && text
        ? [{ perspective, role, view: text, ...(agency ? { agency } : {}) }]
        : [];
    }),
    ...(narrative ? { narrative } : {}),
  };
}

/** `child`, `family`, or `professional:<agency>:<role>` (role in lower case). */
export function perspectiveKeyOf(
  perspective: BasePerspective | undefined,
  agency: string | undefined,
  role: string | undefined,
): string | undefined {
  if (!perspective) return undefined;
  if (perspective !== 'professional') return perspective;
  return `professional:${agency ?? 'unknown'}:${(role ?? 'unknown').trim().toLowerCase()}`;
}

/**
 * Entries held between reads (libs/timeline entry cache) are the same objects from read to read
 * and never change: each is read once.
 */
const readings = new WeakMap<EntryView, ReadEntry>();

export function readEntry(view: EntryView): ReadEntry {
  let reading = readings.get(view);
  if (!reading) {
    reading = readEntryAfresh(view);
    readings.set(view, reading);
  }
  return reading;
}

function readEntryAfresh(view: EntryView): ReadEntry {
  const loose = view as unknown as Loose;
  const recordedBy = practitionerOf(loose.recordedBy);
  // Entries projected before decision 015 carry one `indicator`.
  const indicators = (Array.isArray(loose.indicators) ? loose.indicators : [loose.indicator]).flatMap(
    (i) => indicatorOf(i) ?? [],
  );
  const declared = array(loose.declaredOutcomeDomains).flatMap((r) => refOf(r) ?? []);
  // Before the entry carried its declared domains, an observation's own was its outcomeDomain.
  if (declared.length === 0 && view.type === 'outcome.observation.recorded')
    declared.push({ framework: view.outcomeDomain.framework, domain: view.outcomeDomain.domain });
  const decision = decisionOf(loose, view);
  const review = reviewOf(loose, view);
  const viewsDiffer = viewsDifferOf(loose, view);
  const observerRole = view.observerRole ?? recordedBy?.role;
  const observerAgency =
    string(loose.observerAgency) ??
    recordedBy?.agency ??
    decision?.decidedBy?.agency ??
    review?.reviewedBy?.agency ??
    view.agency;
  const perspectiveKey = perspectiveKeyOf(view.perspective, observerAgency, observerRole);
  const date =
    dateOf(loose.observedOn) ??
    decision?.decidedOn ??
    review?.reviewedOn ??
    viewsDiffer?.recordedOn ??
    view.occurredAt.slice(0, 10);
  return {
    position: view.position,
    eventId: view.lineage.eventId,
    type: view.type,
    agency: view.agency,
    date,
    kind: view.kind,
    summary: view.summary,
    ...(view.narrative ? { narrative: view.narrative } : {}),
    ...(view.confidence ? { confidence: view.confidence } : {}),
    ...(view.perspective ? { perspective: view.perspective } : {}),
    ...(perspectiveKey ? { perspectiveKey } : {}),
    ...(observerRole ? { observerRole } : {}),
    declared,
    indicators,
    ...(decision ? { decision } : {}),
    ...(review ? { review } : {}),
    ...(viewsDiffer ? { viewsDiffer } : {}),
  };
}

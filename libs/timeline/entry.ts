import { importOptionalFieldsOf, type AgencyEvent, type CurrentAgencyEvent } from '@throughline/contracts';
import { assertNever } from './assert-never';
import { outcomeDomainOf, type OutcomeDomainRef } from './outcome-domains';
import {
  asq3Indicators,
  attendanceIndicators,
  keyStageIndicators,
  observationIndicators,
  ratingIndicators,
} from './indicators';
import { summarise } from './summarise';

/**
 * A timeline entry keeps everything a practitioner could need (decision 015): indicators (a
 * rating, an attendance %, ASQ-3 domain scores, key stage results) BESIDE the narrative and the
 * perspective they came from; indicators are evidence about outcomes, not the outcome.
 */
export type EntryKind = 'fact' | 'observation';
export type Perspective = 'child' | 'family' | 'professional';
export type Confidence = 'low' | 'medium' | 'high';

export interface IndicatorScale {
  readonly name: string;
  readonly min: number;
  readonly max: number;
}

/** A line on an indicator's scale that means something, e.g. 100 = the KS2 expected standard. */
export interface IndicatorThreshold {
  readonly value: number;
  readonly label: string;
}

/** The school period an indicator covers (attendance: a term; key stage results: the year). */
export interface IndicatorPeriod {
  readonly academicYear: string;
  readonly term?: 'autumn' | 'spring' | 'summer';
}

export interface Indicator {
  /** A stable id, e.g. `attendance`, `asq3-communication`, `ks2-reading`, or a rating's scale. */
  readonly name: string;
  /** How a person would say it, e.g. "ASQ-3 communication". */
  readonly label?: string;
  readonly value: number;
  /** A unit for measures such as `%`; absent for a value on a scale. */
  readonly unit?: string;
  readonly scale?: IndicatorScale;
  readonly thresholds?: readonly IndicatorThreshold[];
  readonly period?: IndicatorPeriod;
  /** Which end is better, when the indicator itself says (frameworks say it for their scales). */
  readonly higherIsBetter?: boolean;
}

/** The practitioner who recorded or decided it (`agency` absent when the contract does not say). */
export interface RecordedByView {
  readonly role: string;
  readonly agency?: string;
  readonly team?: string;
}

export interface DomainRef {
  readonly framework: string;
  readonly domain: string;
}

/** A practice decision, whole (`practice.decision.recorded`). */
export interface DecisionDetail {
  readonly decidedOn: string;
  readonly decision: string;
  readonly options: readonly { readonly option: string; readonly whyNot?: string }[];
  readonly uncertainty: string;
  readonly forum?: string;
  readonly team?: string;
  readonly expectedOutcomes: readonly (DomainRef & { readonly lookFor: string })[];
  readonly reviewDate: string;
}

/** How the child's words were heard; the words themselves are the entry's `narrative`. */
export interface VoiceDetail {
  readonly verbatim: boolean;
  readonly capturedHow: string;
  readonly context?: string;
  /** The practitioner's reading of it, kept apart from the child's words. */
  readonly interpretation?: string;
  readonly childAgreedToShare?: boolean;
}

export type ReviewJudgement =
  'as-expected' | 'better-than-expected' | 'worse-than-expected' | 'too-early-to-say';
export type ReviewOutcome = 'continued' | 'revised' | 'ended';

/** A decision's review (`practice.decision.reviewed`); `decisionId` is the decision's eventId. */
export interface ReviewDetail {
  readonly decisionId: string;
  readonly reviewedOn: string;
  readonly whatHappened: string;
  readonly againstExpected: readonly (DomainRef & {
    readonly finding: string;
    readonly judgement: ReviewJudgement;
  })[];
  readonly outcome: ReviewOutcome;
  readonly revisedDecision?: string;
  readonly nextReviewDate?: string;
  readonly forum?: string;
}

/** Views recorded as differing (`practice.views.differ`); `about` holds the entries' eventIds. */
export interface ViewsDifferDetail {
  readonly about: readonly string[];
  readonly framework?: string;
  readonly domain?: string;
  readonly views: readonly {
    readonly perspective: Perspective;
    readonly role: string;
    readonly agency?: string;
    readonly view: string;
  }[];
}

export interface EntryDetails {
  readonly kind: EntryKind;
  /** Evidence beside the account; entries projected before decision 015 carry one `indicator`. */
  readonly indicators?: readonly Indicator[];
  /** The account: a practitioner's narrative, or for the voice of the child the child's words alone. */
  readonly narrative?: string;
  readonly perspective?: Perspective;
  /** Who observed, decided or recorded it, e.g. "class teacher", "mother". */
  readonly observerRole?: string;
  /** Their agency, so two practitioners of one role in different agencies stay two viewpoints. */
  readonly observerAgency?: string;
  readonly recordedBy?: RecordedByView;
  readonly confidence?: Confidence;
  /** The date the account is about (an observation's observedOn, a voice's capturedOn). */
  readonly observedOn?: string;
  /** When it will be looked at again (a decision's review date, a plan's next review). */
  readonly reviewDate?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  /** The domains the recorder named: an observation's own, then the envelope's `outcomeDomains`. */
  readonly declaredOutcomeDomains?: readonly DomainRef[];
  readonly decision?: DecisionDetail;
  readonly voice?: VoiceDetail;
  readonly review?: ReviewDetail;
  readonly viewsDiffer?: ViewsDifferDetail;
  /** Where an imported event came from (a statutory return or health record; absent when recorded as it happened). */
  readonly imported?: ImportedFrom;
  /** Fields the type asks of a practitioner that the return did not hold: shown as "not in the return", never invented. */
  readonly notInReturn?: readonly string[];
  /** Identifiers the source reported that failed their rule: which and why (their values stay in the store). */
  readonly quarantinedIdentifiers?: readonly { readonly field: string; readonly rule: string }[];
}

/** An imported event's provenance as the reader sees it. */
export interface ImportedFrom {
  readonly kind: 'statutory-return' | 'health-record';
  readonly format: string;
  readonly collectionYear?: string;
  readonly location: string;
  readonly fileSha256: string;
}

/** Where an event came from: the recorder writes topic/partition/offset/publisher into the store metadata. */
export interface Lineage {
  readonly eventId: string;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: string;
  readonly storePosition: number;
  readonly publisher?: string;
  readonly sourceSystem: string;
  /** The contract version the agency sent and the store keeps (absent on entries projected before it was recorded). */
  readonly storedSchemaVersion?: number;
  /** The version the entry was built from: the stored event upcast to the current version of its type. */
  readonly schemaVersion?: number;
}

export interface TimelineEntryDraft {
  readonly position: bigint;
  readonly eventId: string;
  readonly streamId: string;
  readonly agency: string;
  readonly type: AgencyEvent['type'];
  /** As the agency reported it (with its offset). */
  readonly occurredAt: string;
  readonly summary: string;
  readonly outcomeDomain: OutcomeDomainRef;
  readonly details: EntryDetails;
  readonly lineage: Lineage;
  /** The special categories the event declared (none when absent): the access policy acts on them. */
  readonly specialCategories: readonly string[];
  /** ODS code, school URN or LA code of the organisation that recorded it, when the event says. */
  readonly sourceOrganisation?: string;
}

export interface RecordedPlace {
  readonly position: bigint;
  readonly streamId: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** What the event's own data says beyond the envelope; `entryDetailsOf` adds the envelope's part. */
function ownDetailsOf(event: CurrentAgencyEvent): EntryDetails {
  switch (event.type) {
    case 'health.health-visitor-review.completed':
      return { kind: 'fact', narrative: event.data.notes, indicators: asq3Indicators(event.data.asq3) };
    case 'health.emergency-care.attended':
    case 'health.hospital.admitted':
    case 'health.hospital.discharged':
      return { kind: 'fact', narrative: event.data.notes };
    case 'health.observation.recorded':
      return { kind: 'fact', narrative: event.data.narrative, indicators: observationIndicators(event.data) };
    case 'health.safeguarding-concern.raised':
      return {
        kind: 'fact',
        narrative: event.data.narrative,
        recordedBy: { role: event.data.raisedBy, agency: 'health' },
      };
    case 'education.attendance.summarised':
      return { kind: 'fact', narrative: event.data.narrative, indicators: attendanceIndicators(event.data) };
    case 'education.key-stage.assessed':
      return { kind: 'fact', narrative: event.data.narrative, indicators: keyStageIndicators(event.data) };
    case 'health.immunisation.given':
    case 'health.birth.notified':
    case 'health.newborn-hearing-screening.completed':
    case 'health.newborn-blood-spot.screened':
    case 'health.nipe.completed':
    case 'education.enrolment.recorded':
    case 'education.sen-provision.changed':
    case 'education.ehc-plan.issued':
    case 'education.eyfs-profile.assessed':
    case 'education.exclusion.recorded':
    case 'social-care.referral.received':
    case 'social-care.assessment.completed':
    case 'health.camhs.referred':
    case 'health.camhs.discharged':
    case 'health.flag.recorded':
    case 'education.leaving.recorded':
    case 'education.ehc-needs-assessment.requested':
    case 'education.ehc-plan.ceased':
    case 'social-care.contact.received':
    case 'social-care.cin-plan.ended':
    case 'social-care.looked-after-episode.changed':
    case 'social-care.looked-after-episode.ended':
    case 'social-care.missing-episode.recorded':
    case 'social-care.early-help-episode.started':
    case 'social-care.early-help-episode.ended':
    case 'social-care.case.closed':
    case 'social-care.death.recorded':
    case 'social-care.assessment.started':
    case 'social-care.pre-proceedings.started':
    case 'social-care.pre-proceedings.ended':
      return { kind: 'fact', narrative: event.data.narrative };
    case 'social-care.child-characteristics.recorded':
    case 'social-care.upn-unknown.recorded':
      return { kind: 'fact' };
    case 'social-care.child-protection-plan.started':
    case 'social-care.cin-plan.started':
      return { kind: 'fact', narrative: event.data.rationale, reviewDate: event.data.reviewDate };
    case 'social-care.section-47-enquiry.started':
    case 'social-care.section-47-enquiry.completed':
    case 'social-care.initial-child-protection-conference.held':
    case 'social-care.child-protection-plan.ended':
    case 'social-care.looked-after-episode.started':
      return { kind: 'fact', narrative: event.data.rationale };
    case 'social-care.child-protection-plan.reviewed':
      return { kind: 'fact', narrative: event.data.rationale, reviewDate: event.data.nextReviewDate };
    case 'social-care.looked-after-review.held':
      return { kind: 'fact', narrative: event.data.narrative, reviewDate: event.data.nextReviewDate };
    case 'social-care.uasc-status.recorded':
    case 'social-care.uasc-status.ceased':
    case 'social-care.adoption-match.recorded':
    case 'social-care.placement-for-adoption.decided':
    case 'social-care.placement-for-adoption.reversed':
      return { kind: 'fact', narrative: event.data.narrative };
    case 'social-care.care-leaver.contacted':
    case 'social-care.previous-permanence.recorded':
    case 'social-care.social-worker.allocated':
    case 'social-care.social-worker.allocation-ended':
      return { kind: 'fact' };
    case 'social-care.looked-after-outcomes.recorded': {
      const { sdqScore } = event.data;
      // SDQ total difficulties: 17 or more is the DfE's "cause for concern" band.
      return {
        kind: 'fact',
        indicators:
          sdqScore === undefined
            ? []
            : [
                {
                  name: 'sdq-total-difficulties',
                  label: 'SDQ total difficulties',
                  value: sdqScore,
                  scale: { name: 'sdq-total-difficulties', min: 0, max: 40 },
                  thresholds: [{ value: 17, label: 'cause for concern at or above' }],
                  higherIsBetter: false,
                },
              ],
      };
    }
    case 'practice.decision.recorded': {
      const { data } = event;
      return {
        kind: 'fact',
        narrative: data.rationale,
        perspective: 'professional',
        observerRole: data.decidedBy.role,
        observerAgency: data.decidedBy.agency,
        recordedBy: compact({ ...data.decidedBy, team: data.team }),
        confidence: data.confidence,
        reviewDate: data.reviewDate,
        decision: compact({
          decidedOn: data.decidedOn,
          decision: data.decision,
          options: data.optionsConsidered.map((option) => compact({ ...option })),
          uncertainty: data.uncertainty,
          forum: data.forum,
          team: data.team,
          expectedOutcomes: data.expectedOutcomes ?? [],
          reviewDate: data.reviewDate,
        }),
      };
    }
    case 'practice.decision.reviewed': {
      const { data } = event;
      return {
        kind: 'fact',
        narrative: data.whatHappened,
        perspective: 'professional',
        observerRole: data.reviewedBy.role,
        observerAgency: data.reviewedBy.agency,
        recordedBy: data.reviewedBy,
        confidence: data.confidence,
        reviewDate: data.nextReviewDate,
        review: compact({
          decisionId: data.decisionId,
          reviewedOn: data.reviewedOn,
          whatHappened: data.whatHappened,
          againstExpected: data.againstExpected,
          outcome: data.outcome,
          revisedDecision: data.revisedDecision,
          nextReviewDate: data.nextReviewDate,
          forum: data.forum,
        }),
      };
    }
    case 'practice.voice-of-child.recorded': {
      const { data } = event;
      return {
        kind: 'observation',
        // The child's words alone: the practitioner's reading of them stays in voice.interpretation.
        narrative: data.whatTheChildSaid,
        perspective: 'child',
        observerRole: data.capturedBy.role,
        observerAgency: data.capturedBy.agency,
        recordedBy: data.capturedBy,
        observedOn: data.capturedOn,
        voice: compact({
          verbatim: data.verbatim,
          capturedHow: data.capturedHow,
          context: data.context,
          interpretation: data.interpretation,
          childAgreedToShare: data.childAgreedToShare,
        }),
      };
    }
    case 'practice.views.differ': {
      const { data } = event;
      return {
        kind: 'observation',
        narrative: data.narrative,
        recordedBy: data.recordedBy,
        observedOn: data.recordedOn,
        viewsDiffer: compact({
          about: data.about,
          framework: data.framework,
          domain: data.domain,
          views: data.views.map((view) => compact({ ...view })),
        }),
      };
    }
    case 'outcome.observation.recorded': {
      const { data } = event;
      return {
        kind: 'observation',
        indicators: ratingIndicators(data.rating),
        narrative: data.narrative,
        perspective: data.perspective,
        observerRole: data.observerRole,
        observerAgency: data.observerAgency,
        recordedBy: compact({ role: data.observerRole, agency: data.observerAgency }),
        confidence: data.confidence,
        observedOn: data.observedOn,
      };
    }
    default:
      return assertNever(event);
  }
}

/** Who recorded a health visitor review when neither the data nor the envelope says. */
const HEALTH_VISITOR: RecordedByView = { role: 'health visitor', agency: 'health' };

function declaredDomainsOf(event: CurrentAgencyEvent): DomainRef[] {
  const own: DomainRef[] = [];
  if (event.type === 'outcome.observation.recorded') {
    own.push({ framework: event.data.framework, domain: event.data.domain });
  } else if (event.type === 'practice.views.differ' && event.data.framework && event.data.domain) {
    own.push({ framework: event.data.framework, domain: event.data.domain });
  }
  const all = [...own, ...(event.outcomeDomains ?? [])];
  return all.filter(
    (ref, index) =>
      all.findIndex((other) => other.framework === ref.framework && other.domain === ref.domain) === index,
  );
}

/**
 * Everything an entry keeps: the type's own details, then who recorded it (the data's own
 * decider, observer or reviewer; else the envelope's `recordedBy`; a health visitor review is a
 * health visitor's), the correlation and causation ids, and the domains the recorder declared.
 * A fact someone recorded is a professional's account of it.
 */
export function entryDetailsOf(event: CurrentAgencyEvent): EntryDetails {
  const own = ownDetailsOf(event);
  const recordedBy: RecordedByView | undefined =
    own.recordedBy ??
    (event.recordedBy && compact({ ...event.recordedBy })) ??
    (event.type === 'health.health-visitor-review.completed' ? HEALTH_VISITOR : undefined);
  const speaker =
    own.perspective === undefined && recordedBy && own.kind === 'fact'
      ? {
          perspective: 'professional' as const,
          observerRole: recordedBy.role,
          observerAgency: recordedBy.agency,
        }
      : {};
  const declared = declaredDomainsOf(event);
  return compact({
    ...own,
    ...speaker,
    indicators: own.indicators?.length ? own.indicators : undefined,
    recordedBy,
    correlationId: event.correlationId,
    causationId: event.causationId,
    declaredOutcomeDomains: declared.length ? declared : undefined,
    ...importedDetailsOf(event),
  });
}

/** Provenance, the fields the return did not hold, and the identifiers it held that failed their rule. */
function importedDetailsOf(
  event: CurrentAgencyEvent,
): Pick<EntryDetails, 'imported' | 'notInReturn' | 'quarantinedIdentifiers'> {
  const quarantined = event.subject.quarantinedIdentifiers?.map(({ field, rule }) => ({ field, rule }));
  const details: Pick<EntryDetails, 'imported' | 'notInReturn' | 'quarantinedIdentifiers'> =
    quarantined?.length ? { quarantinedIdentifiers: quarantined } : {};
  const provenance = event.provenance;
  if (!provenance) return details;
  const data = event.data as Record<string, unknown>;
  const missing = importOptionalFieldsOf(event.type).filter((field) => data[field] === undefined);
  return {
    ...details,
    imported: compact({
      kind: provenance.kind,
      format: provenance.format,
      collectionYear: provenance.collectionYear,
      location: provenance.location,
      fileSha256: provenance.fileSha256,
    }),
    ...(missing.length ? { notInReturn: missing } : {}),
  };
}

function stringOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

function numberOf(value: unknown): number | undefined {
  const number = typeof value === 'string' && value !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

export function lineageOf(
  event: AgencyEvent,
  recorded: RecordedPlace,
  storedVersion: number = event.schemaVersion,
): Lineage {
  const metadata = recorded.metadata;
  return {
    eventId: event.eventId,
    topic: stringOf(metadata.topic),
    partition: numberOf(metadata.partition),
    offset: stringOf(metadata.offset),
    storePosition: Number(recorded.position),
    publisher: stringOf(metadata.publisher) ?? stringOf(metadata.publisherId),
    sourceSystem: stringOf(metadata.sourceSystem) ?? event.source.system,
    storedSchemaVersion: storedVersion,
    schemaVersion: event.schemaVersion,
  };
}

/** Drops undefined fields so that stored json and API responses carry only what applies. */
function compact<T extends object>(value: T): T {
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (field !== undefined) kept[key] = field;
  return kept as T;
}

/**
 * The pure projection of one recorded event to its timeline row. `event` is in the current
 * version of its type; `storedVersion` is the version the store holds (the same unless upcast).
 */
export function timelineEntryOf(
  event: CurrentAgencyEvent,
  recorded: RecordedPlace,
  storedVersion: number = event.schemaVersion,
): TimelineEntryDraft {
  return {
    position: recorded.position,
    eventId: event.eventId,
    streamId: recorded.streamId,
    agency: event.source.agency,
    type: event.type,
    occurredAt: event.occurredAt,
    summary: summarise(event),
    outcomeDomain: outcomeDomainOf(event),
    details: compact(entryDetailsOf(event)),
    lineage: compact(lineageOf(event, recorded, storedVersion)),
    specialCategories: event.specialCategories ?? [],
    ...(event.source.organisation ? { sourceOrganisation: event.source.organisation } : {}),
  };
}

import { isoDate, type CurrentAgencyEvent } from '@throughline/contracts';
import {
  ageInMonths,
  ethnicityGroupOf,
  laCodeOf,
  monthOf,
  postcodeDistrictOf,
  senStatusOf,
  sexGroupOf,
  type EthnicityGroup,
  type SenStatus,
} from './cut';

/**
 * One agency event as the analysis model keeps it: its date (the day where a measure counts
 * days, else the month), its codes and numbers, never its narrative, names or identifiers.
 */
export interface FactDraft {
  readonly onDay: string;
  readonly startDay?: string;
  readonly endDay?: string;
  readonly code?: string;
  readonly framework?: string;
  readonly domain?: string;
  readonly scale?: string;
  readonly rating?: number;
  readonly scaleMin?: number;
  readonly scaleMax?: number;
  readonly academicYear?: string;
  readonly term?: string;
  readonly sessionsPossible?: number;
  readonly sessionsMissed?: number;
  readonly quantity?: number;
  readonly ageMonths?: number;
  readonly localAuthority?: string;
}

/** What an event says about the child's characteristics (each undefined when it says nothing). */
export interface CharacteristicsDraft {
  readonly birthMonth?: string;
  readonly unborn?: boolean;
  readonly sex?: 'male' | 'female' | 'unknown';
  readonly ethnicityGroup?: EthnicityGroup;
  readonly senStatus?: SenStatus;
  /** The month the SEN status held from (a later status by date wins, not a later event). */
  readonly senDay?: string;
  readonly localAuthority?: string;
  readonly postcodeDistrict?: string;
}

/** The term's first month, standing for the term on the model's date axis (as libs/outcomes/calendar.ts cuts terms). */
function termStart(academicYear: string, term: 'autumn' | 'spring' | 'summer'): string {
  const first = Number(academicYear.slice(0, 4));
  return term === 'autumn'
    ? `${first}-09-01`
    : term === 'spring'
      ? `${first + 1}-01-01`
      : `${first + 1}-04-01`;
}

/** The fact of an event. Types no measure reads keep their date (month) only, for cohort entry. */
export function factOf(event: CurrentAgencyEvent): FactDraft {
  const la =
    event.source.agency === 'social-care'
      ? { localAuthority: laCodeOf(event.source.organisation) ?? laCodeOf(event.subject.laCode) }
      : {};
  switch (event.type) {
    case 'social-care.referral.received':
      return { onDay: event.data.referralDate, ...la };
    case 'social-care.assessment.completed':
      return { onDay: event.data.authorisationDate, startDay: event.data.startDate, ...la };
    case 'social-care.section-47-enquiry.started':
      return { onDay: monthOf(event.data.startDate), ...la };
    case 'social-care.section-47-enquiry.completed':
      return { onDay: monthOf(event.data.completedDate ?? event.data.startDate), ...la };
    case 'social-care.child-protection-plan.started':
      // The census's number of previous plans: a repeat plan may follow one the store never saw.
      return {
        onDay: event.data.startDate,
        code: event.data.initialCategory,
        quantity: event.data.numberOfPreviousPlans,
        ...la,
      };
    case 'social-care.child-protection-plan.ended':
      return {
        onDay: event.data.endDate,
        startDay: event.data.startDate,
        code: event.data.latestCategory,
        ...la,
      };
    case 'social-care.cin-plan.started':
      return { onDay: monthOf(event.data.startDate), ...la };
    case 'social-care.cin-plan.ended':
      return { onDay: monthOf(event.data.endDate), startDay: monthOf(event.data.startDate), ...la };
    case 'social-care.looked-after-episode.started':
      return { onDay: event.data.startDate, code: 'S', ...la };
    case 'social-care.looked-after-episode.changed':
      return { onDay: event.data.changeDate, code: event.data.reasonForNewEpisode, ...la };
    case 'social-care.looked-after-episode.ended':
      return {
        onDay: event.data.endDate,
        startDay: event.data.startDate,
        code: event.data.reasonEnded,
        ...la,
      };
    case 'social-care.missing-episode.recorded':
      return {
        onDay: monthOf(event.data.startDate),
        ...(event.data.endDate ? { endDay: monthOf(event.data.endDate) } : {}),
        code: event.data.kind,
        ...la,
      };
    case 'education.ehc-needs-assessment.requested':
      return { onDay: event.data.requestDate };
    case 'education.ehc-plan.issued':
      return { onDay: event.data.issueDate, startDay: event.data.requestDate };
    case 'education.ehc-plan.ceased':
      return { onDay: monthOf(event.data.ceaseDate) };
    case 'education.attendance.summarised': {
      const { academicYear, term, sessionsPossible, authorisedAbsence, unauthorisedAbsence } = event.data;
      return {
        onDay: termStart(academicYear, term),
        academicYear,
        term,
        sessionsPossible,
        sessionsMissed: authorisedAbsence + unauthorisedAbsence,
      };
    }
    case 'education.exclusion.recorded':
      return {
        onDay: monthOf(event.data.startDate),
        code: event.data.category,
        quantity: event.data.sessions,
      };
    case 'education.enrolment.recorded':
      return { onDay: monthOf(event.data.entryDate), code: event.data.senProvision };
    case 'education.sen-provision.changed':
      return { onDay: monthOf(event.data.effectiveDate), code: event.data.provision };
    case 'health.immunisation.given': {
      const { dateOfBirth } = event.subject;
      const ageMonths = dateOfBirth ? ageInMonths(dateOfBirth, event.data.givenDate) : undefined;
      return {
        onDay: monthOf(event.data.givenDate),
        code: event.data.vaccine,
        quantity: event.data.dose,
        ...(ageMonths !== undefined ? { ageMonths } : {}),
      };
    }
    case 'outcome.observation.recorded': {
      const { framework, domain, perspective, observedOn, rating } = event.data;
      return {
        onDay: monthOf(observedOn),
        code: perspective,
        framework,
        domain,
        ...(rating
          ? { scale: rating.scale, rating: rating.value, scaleMin: rating.min, scaleMax: rating.max }
          : {}),
      };
    }
    case 'social-care.child-characteristics.recorded':
      return { onDay: monthOf(event.data.asAt), ...la };
    default:
      return { onDay: monthOf(event.occurredAt.slice(0, 10)), ...la };
  }
}

/** What the event tells about who the child is, cut: birth month, sex, ethnic group, SEN status, LA, district. */
export function characteristicsOf(event: CurrentAgencyEvent): CharacteristicsDraft {
  const { subject } = event;
  const born = subject.dateOfBirth ?? subject.expectedDateOfBirth;
  const fromSubject: CharacteristicsDraft = {
    ...(born ? { birthMonth: monthOf(born), unborn: subject.dateOfBirth === undefined } : {}),
    ...(subject.sex !== undefined ? { sex: sexGroupOf(subject.sex) } : {}),
    ...(postcodeDistrictOf(subject.postcode)
      ? { postcodeDistrict: postcodeDistrictOf(subject.postcode) }
      : {}),
  };
  const localAuthority =
    event.source.agency === 'social-care'
      ? (laCodeOf(event.source.organisation) ?? laCodeOf(subject.laCode))
      : undefined;
  const withLa = localAuthority ? { ...fromSubject, localAuthority } : fromSubject;
  switch (event.type) {
    case 'social-care.child-characteristics.recorded': {
      const ethnicityGroup = ethnicityGroupOf(event.data.ethnicity);
      return ethnicityGroup ? { ...withLa, ethnicityGroup } : withLa;
    }
    case 'education.enrolment.recorded':
      return sen(withLa, event.data.senProvision, event.data.entryDate);
    case 'education.sen-provision.changed':
      return sen(withLa, event.data.provision, event.data.effectiveDate);
    case 'education.ehc-plan.issued':
      return sen(withLa, 'E', event.data.issueDate);
    default:
      return withLa;
  }
}

function sen(draft: CharacteristicsDraft, provision: string, day: string): CharacteristicsDraft {
  const senStatus = senStatusOf(provision);
  return senStatus ? { ...draft, senStatus, senDay: monthOf(day) } : draft;
}

/** The model's typed columns a fact or its characteristics fill (`analysis_facts`, `analysis_records`). */
const DAY_COLUMNS = ['onDay', 'startDay', 'endDay'] as const;
const NUMERIC_COLUMNS = ['rating', 'scaleMin', 'scaleMax'] as const;
const INTEGER_COLUMNS = ['sessionsPossible', 'sessionsMissed', 'quantity', 'ageMonths'] as const;
const INT4_MAX = 2_147_483_647;

/**
 * Throws, naming the column (never the value), when a fact or its characteristics hold one that the model's typed
 * columns would refuse (a date that is not a day, a number that is not finite, an integer column's
 * value that is not an integer of 32 bits). The facts of a valid contract never do: the check is
 * for an event read as validated at intake (decision 034) that is not a valid contract, which
 * the model's reader then validates and skips, by that event alone, instead of the database
 * refusing its whole batch again and again.
 */
export function checkColumnValues(fact: FactDraft, characteristics: CharacteristicsDraft): void {
  for (const column of DAY_COLUMNS) {
    const value = fact[column];
    if (value !== undefined && !isoDate.safeParse(value).success) {
      throw new TypeError(`analysis fact ${column}: not a day`);
    }
  }
  for (const column of NUMERIC_COLUMNS) {
    const value = fact[column];
    if (value !== undefined && !Number.isFinite(value)) {
      throw new TypeError(`analysis fact ${column}: not a finite number`);
    }
  }
  for (const column of INTEGER_COLUMNS) {
    const value = fact[column];
    if (value !== undefined && !(Number.isInteger(value) && Math.abs(value) <= INT4_MAX)) {
      throw new TypeError(`analysis fact ${column}: not a 32-bit integer`);
    }
  }
  for (const column of ['birthMonth', 'senDay'] as const) {
    const value = characteristics[column];
    if (value !== undefined && !isoDate.safeParse(value).success) {
      throw new TypeError(`analysis characteristics ${column}: not a day`);
    }
  }
}

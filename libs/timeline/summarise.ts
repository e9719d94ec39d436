import {
  ABUSE_CATEGORY,
  ASSESSMENT_FACTOR,
  EMERGENCY_CARE_DISCHARGE,
  EXCLUSION_CATEGORY,
  EXCLUSION_REASON,
  HEALTH_VISITOR_REVIEW,
  PRIMARY_NEED,
  REFERRAL_SOURCE,
  SAFEGUARDING_CONCERN_CATEGORY,
  SEN_PROVISION,
  VACCINE,
  type AgencyEvent,
  type EventOfType,
} from '@throughline/contracts';
import { assertNever } from './assert-never';

/** Percentage of possible sessions attended, to one decimal place; undefined when none were possible. */
export function attendancePercent(
  data: EventOfType<'education.attendance.summarised'>['data'],
): number | undefined {
  if (data.sessionsPossible === 0) return undefined;
  const attended = data.sessionsPossible - data.authorisedAbsence - data.unauthorisedAbsence;
  return Math.round((attended / data.sessionsPossible) * 1000) / 10;
}

const YEAR_GROUP_NAMES: Readonly<Record<string, string>> = {
  N1: 'nursery 1',
  N2: 'nursery 2',
  R: 'reception',
};

function yearGroupName(yearGroup: string): string {
  return YEAR_GROUP_NAMES[yearGroup] ?? `year ${yearGroup}`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** A one-line, human summary of an event, in the words of the code lists' labels. */
export function summarise(event: AgencyEvent): string {
  switch (event.type) {
    case 'health.health-visitor-review.completed': {
      const { review, concernsIdentified, asq3 } = event.data;
      const scores = asq3
        ? `; ASQ-3 communication ${asq3.communication}, gross motor ${asq3.grossMotor}, fine motor ${asq3.fineMotor}, problem solving ${asq3.problemSolving}, personal-social ${asq3.personalSocial}`
        : '';
      return `Health visitor: ${HEALTH_VISITOR_REVIEW.labels[review]} — ${concernsIdentified ? 'concerns identified' : 'no concerns identified'}${scores}`;
    }
    case 'health.immunisation.given': {
      const { vaccine, dose } = event.data;
      return `Immunisation given: ${VACCINE.labels[vaccine]}, dose ${dose}`;
    }
    case 'health.emergency-care.attended': {
      const { chiefComplaint, injury, discharge, cpisFlagSeen, safeguardingConcern } = event.data;
      const notes = [
        injury ? 'injury' : undefined,
        safeguardingConcern ? 'safeguarding concern raised' : undefined,
        cpisFlagSeen ? 'CP-IS flag seen' : undefined,
      ].filter(Boolean);
      return `Emergency care attendance: ${chiefComplaint} — ${EMERGENCY_CARE_DISCHARGE.labels[discharge]}${notes.length ? ` (${notes.join('; ')})` : ''}`;
    }
    case 'health.safeguarding-concern.raised': {
      const { category, raisedBy, referredToLocalAuthority } = event.data;
      return `Safeguarding concern raised by ${raisedBy}: ${SAFEGUARDING_CONCERN_CATEGORY.labels[category]} — ${referredToLocalAuthority ? 'referred to the local authority' : 'not referred to the local authority'}`;
    }
    case 'education.enrolment.recorded': {
      const { schoolUrn, yearGroup, senProvision } = event.data;
      return `Enrolled at school ${schoolUrn} in ${yearGroupName(yearGroup)} — ${SEN_PROVISION.labels[senProvision]}`;
    }
    case 'education.attendance.summarised': {
      const { term, academicYear, sessionsPossible, authorisedAbsence, unauthorisedAbsence } = event.data;
      const percent = attendancePercent(event.data);
      if (percent === undefined) return `Attendance ${term} ${academicYear}: no sessions possible`;
      return `Attendance ${term} ${academicYear}: ${percent.toFixed(1)}% (${authorisedAbsence} authorised, ${unauthorisedAbsence} unauthorised of ${sessionsPossible} sessions)`;
    }
    case 'education.exclusion.recorded': {
      const { category, schoolUrn, sessions, startDate, reasons } = event.data;
      const length = sessions === undefined ? '' : ` for ${plural(sessions, 'session')}`;
      const why = reasons.map((reason) => EXCLUSION_REASON.labels[reason]).join('; ');
      return `${EXCLUSION_CATEGORY.labels[category]} from school ${schoolUrn}${length} from ${startDate} — ${why}`;
    }
    case 'social-care.referral.received': {
      const { referralSource, primaryNeed, noFurtherAction } = event.data;
      return `Referral received from ${REFERRAL_SOURCE.labels[referralSource]} — primary need: ${PRIMARY_NEED.labels[primaryNeed]}${noFurtherAction ? ' (no further action)' : ''}`;
    }
    case 'social-care.assessment.completed': {
      const { authorisationDate, factors } = event.data;
      return `Assessment completed, authorised ${authorisationDate} — factors: ${factors.map((factor) => ASSESSMENT_FACTOR.labels[factor]).join('; ')}`;
    }
    case 'social-care.child-protection-plan.started': {
      const { initialCategory, numberOfPreviousPlans, reviewDate } = event.data;
      return `Child protection plan started — initial category: ${ABUSE_CATEGORY.labels[initialCategory]}; ${plural(numberOfPreviousPlans, 'previous plan')}; review due ${reviewDate}`;
    }
    case 'outcome.observation.recorded': {
      const { framework, domain, perspective, observerRole, rating, confidence } = event.data;
      const rated = rating ? `: rated ${rating.value} on ${rating.scale} (${rating.min}–${rating.max})` : '';
      return `Outcome observation (${framework} / ${domain}) from the ${perspective} perspective, by ${observerRole}${rated}; confidence ${confidence}`;
    }
    default:
      return assertNever(event);
  }
}

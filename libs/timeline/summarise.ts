import {
  ABUSE_CATEGORY,
  ADOPTER_LEGAL_STATUS,
  ADOPTER_SEX,
  CARE_LEAVER_ACCOMMODATION,
  CARE_LEAVER_ACTIVITY,
  CARE_LEAVER_IN_TOUCH,
  PREVIOUS_PERMANENCE,
  REASON_PLACED_CEASED,
  SDQ_REASON,
  ADMISSION_METHOD,
  ASSESSMENT_FACTOR,
  BLOOD_SPOT_CONDITION,
  BLOOD_SPOT_RESULT,
  CAMHS_DISCHARGE_REASON,
  CAMHS_REFERRAL_REASON,
  CAMHS_REFERRAL_SOURCE,
  CAMHS_URGENCY,
  CIN_DISABILITY,
  CIN_ETHNICITY,
  CIN_PLAN_END_REASON,
  CIN_UPN_UNKNOWN,
  CLOSURE_REASON,
  CONTACT_OUTCOME,
  CP_PLAN_END_REASON,
  DELIVERY_PLACE,
  DISCHARGE_DESTINATION,
  DISCHARGE_METHOD,
  EARLY_HELP_END_REASON,
  EARLY_HELP_NEED,
  EHC_CEASE_REASON,
  EHC_REQUEST_SOURCE,
  EMERGENCY_CARE_DISCHARGE,
  EPISODE_END_REASON,
  EXCLUSION_CATEGORY,
  EXCLUSION_REASON,
  GLD_GOALS,
  HEALTH_VISITOR_REVIEW,
  HEARING_SCREEN_OUTCOME,
  KEY_STAGE,
  KS2_WRITING_TA,
  LEAVING_REASON,
  LEGAL_STATUS,
  MISSING_KIND,
  NEW_EPISODE_REASON,
  NIPE_EXAMINATION,
  NIPE_FINDING,
  PLACEMENT_CHANGE_REASON,
  PLACEMENT_TYPE,
  PRACTITIONER_AGENCY,
  PERSPECTIVE,
  PRE_PROCEEDINGS_OUTCOME,
  PRIMARY_NEED,
  REFERRAL_SOURCE,
  REVIEW_JUDGEMENT,
  REVIEW_OUTCOME,
  REVIEW_PARTICIPATION,
  SAFEGUARDING_CONCERN_CATEGORY,
  SECTION_47_OUTCOME,
  SEN_NEED,
  SEN_PROVISION,
  VACCINE,
  VOICE_CAPTURE,
  type CurrentAgencyEvent,
} from '@throughline/contracts';
import { assertNever } from './assert-never';

/** An attendance summary in its current version (version 1 is upcast: sessionsAttended derived). */
type CurrentAttendance = Extract<CurrentAgencyEvent, { type: 'education.attendance.summarised' }>['data'];

/** Percentage of possible sessions attended, to one decimal place; undefined when none were possible. */
export function attendancePercent(data: CurrentAttendance): number | undefined {
  if (data.sessionsPossible === 0) return undefined;
  return Math.round((data.sessionsAttended / data.sessionsPossible) * 1000) / 10;
}

const YEAR_GROUP_NAMES: Readonly<Record<string, string>> = {
  N1: 'nursery 1',
  N2: 'nursery 2',
  R: 'reception',
};

function yearGroupName(yearGroup: string): string {
  return YEAR_GROUP_NAMES[yearGroup] ?? `year ${yearGroup}`;
}

type LookedAfterOutcomes = Extract<
  CurrentAgencyEvent,
  { type: 'social-care.looked-after-outcomes.recorded' }
>['data'];

const OC2_ITEMS = [
  ['healthCheck', 'health check'],
  ['immunisations', 'immunisations'],
  ['teethCheck', 'teeth check'],
  ['healthAssessment', 'health assessment'],
  ['convicted', 'convicted'],
  ['substanceMisuse', 'substance misuse'],
  ['interventionReceived', 'intervention received'],
  ['interventionOffered', 'intervention offered'],
] as const;

/** OC2 items as the indicators they are: "SDQ 14; health check yes; …" (never a sentence about the child). */
function lookedAfterOutcomeItems(data: LookedAfterOutcomes): string {
  const sdq =
    data.sdqScore !== undefined
      ? `SDQ ${data.sdqScore}`
      : data.sdqReason
        ? `no SDQ score (${data.sdqReason}: ${SDQ_REASON.labels[data.sdqReason]})`
        : '';
  const items = OC2_ITEMS.filter(([field]) => data[field] !== undefined).map(
    ([field, label]) => `${label} ${data[field] ? 'yes' : 'no'}`,
  );
  return [sdq, ...items].filter(Boolean).join('; ') || 'no items reported';
}

/** What a summary says in place of a field the return it was imported from does not hold. */
export const NOT_IN_THE_RETURN = 'not in the return';

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function rankedNeeds(needs: readonly { need: keyof typeof SEN_NEED.labels; rank: number }[]): string {
  return [...needs]
    .sort((a, b) => a.rank - b.rank)
    .map((item) => `${item.rank}. ${SEN_NEED.labels[item.need]}`)
    .join('; ');
}

/** An observation's value as written: `12.4 kg`, a code's display, yes / no, or the text. */
function recordedValueText(
  value: NonNullable<Extract<CurrentAgencyEvent, { type: 'health.observation.recorded' }>['data']['value']>,
): string {
  switch (value.kind) {
    case 'quantity':
      return value.unit ? `${value.value} ${value.unit}` : String(value.value);
    case 'coded':
      return value.code.display ?? value.code.code;
    case 'boolean':
      return value.value ? 'yes' : 'no';
    case 'text':
      return value.value;
  }
}

/** A one-line, human summary of an event, in the words of the code lists' labels. */
export function summarise(event: CurrentAgencyEvent): string {
  switch (event.type) {
    case 'health.health-visitor-review.completed': {
      // The ASQ-3 domain scores are the entry's indicators, not words in its summary.
      const { review, concernsIdentified, asq3 } = event.data;
      return `Health visitor: ${HEALTH_VISITOR_REVIEW.labels[review]} — ${concernsIdentified ? 'concerns identified' : 'no concerns identified'}${asq3 ? '; ASQ-3 completed' : ''}`;
    }
    case 'health.immunisation.given': {
      const { vaccine, dose } = event.data;
      return `Immunisation given: ${VACCINE.labels[vaccine]}, ${dose === undefined ? `dose ${NOT_IN_THE_RETURN}` : `dose ${dose}`}`;
    }
    case 'health.emergency-care.attended': {
      const { chiefComplaint, injury, discharge, cpisFlagSeen, safeguardingConcern } = event.data;
      const notes = [
        injury ? 'injury' : undefined,
        safeguardingConcern ? 'safeguarding concern raised' : undefined,
        cpisFlagSeen ? 'CP-IS flag seen' : undefined,
      ].filter(Boolean);
      const outcome = discharge
        ? EMERGENCY_CARE_DISCHARGE.labels[discharge]
        : `discharge ${NOT_IN_THE_RETURN}`;
      return `Emergency care attendance: ${chiefComplaint ?? `chief complaint ${NOT_IN_THE_RETURN}`} — ${outcome}${notes.length ? ` (${notes.join('; ')})` : ''}`;
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
      const {
        term,
        academicYear,
        sessionsPossible,
        sessionsAttended,
        authorisedAbsence,
        unauthorisedAbsence,
      } = event.data;
      const percent = attendancePercent(event.data);
      if (percent === undefined) return `Attendance ${term} ${academicYear}: no sessions possible`;
      return `Attendance ${term} ${academicYear}: ${percent.toFixed(1)}% (${sessionsAttended} attended, ${authorisedAbsence} authorised, ${unauthorisedAbsence} unauthorised of ${sessionsPossible} sessions)`;
    }
    case 'education.exclusion.recorded': {
      const { category, schoolUrn, sessions, startDate, reasons } = event.data;
      const length = sessions === undefined ? '' : ` for ${plural(sessions, 'session')}`;
      const why = reasons.map((reason) => EXCLUSION_REASON.labels[reason]).join('; ');
      return `${EXCLUSION_CATEGORY.labels[category]} from school ${schoolUrn}${length} from ${startDate} — ${why}`;
    }
    case 'social-care.referral.received': {
      const { referralSource, primaryNeed, noFurtherAction } = event.data;
      return `Referral received from ${REFERRAL_SOURCE.labels[referralSource]} — primary need: ${primaryNeed ? PRIMARY_NEED.labels[primaryNeed] : NOT_IN_THE_RETURN}${noFurtherAction ? ' (no further action)' : ''}`;
    }
    case 'social-care.assessment.completed': {
      const { authorisationDate, factors } = event.data;
      return `Assessment completed, authorised ${authorisationDate} — factors: ${factors ? factors.map((factor) => ASSESSMENT_FACTOR.labels[factor]).join('; ') : NOT_IN_THE_RETURN}`;
    }
    case 'social-care.child-protection-plan.started': {
      const { initialCategory, numberOfPreviousPlans, reviewDate } = event.data;
      return `Child protection plan started — initial category: ${ABUSE_CATEGORY.labels[initialCategory]}; ${plural(numberOfPreviousPlans, 'previous plan')}; review due ${reviewDate ?? NOT_IN_THE_RETURN}`;
    }
    case 'health.birth.notified': {
      const { birthDate, gestationWeeks, birthWeightGrams, deliveryPlace, birthOrder } = event.data;
      const order = birthOrder > 1 ? ` (birth order ${birthOrder})` : '';
      return `Birth notified: born ${birthDate} at ${gestationWeeks} weeks, ${birthWeightGrams} g — ${DELIVERY_PLACE.labels[deliveryPlace]}${order}`;
    }
    case 'health.newborn-hearing-screening.completed':
      return `Newborn hearing screen: ${HEARING_SCREEN_OUTCOME.labels[event.data.outcome]}`;
    case 'health.newborn-blood-spot.screened': {
      const { results } = event.data;
      const flagged = results.filter((r) => r.result !== 'not-suspected');
      const detail = flagged.length
        ? flagged
            .map((r) => `${BLOOD_SPOT_CONDITION.labels[r.condition]}: ${BLOOD_SPOT_RESULT.labels[r.result]}`)
            .join('; ')
        : 'condition not suspected for any screened condition';
      return `Newborn blood spot screen (${plural(results.length, 'condition')}) — ${detail}`;
    }
    case 'health.nipe.completed': {
      const { examination, eyes, heart, hips, testes } = event.data;
      const parts: [string, string | undefined][] = [
        ['eyes', eyes],
        ['heart', heart],
        ['hips', hips],
        ['testes', testes],
      ];
      const findings = parts
        .filter((part): part is [string, keyof typeof NIPE_FINDING.labels] => part[1] !== undefined)
        .filter(([, finding]) => finding !== 'no-abnormality')
        .map(([area, finding]) => `${area}: ${NIPE_FINDING.labels[finding]}`);
      return `NIPE: ${NIPE_EXAMINATION.labels[examination]} — ${findings.length ? findings.join('; ') : 'no abnormality detected'}`;
    }
    case 'health.hospital.admitted': {
      const { admissionMethod, specialty, reason } = event.data;
      const method = admissionMethod
        ? ADMISSION_METHOD.labels[admissionMethod]
        : `admission method ${NOT_IN_THE_RETURN}`;
      return `Admitted to hospital (${specialty ?? `specialty ${NOT_IN_THE_RETURN}`}): ${method}${reason ? ` — ${reason}` : ''}`;
    }
    case 'health.hospital.discharged': {
      const { dischargeMethod, dischargeDestination, admittedAt, dischargedAt } = event.data;
      const days = Math.round((Date.parse(dischargedAt) - Date.parse(admittedAt)) / 86_400_000);
      const method = dischargeMethod
        ? DISCHARGE_METHOD.labels[dischargeMethod]
        : `discharge method ${NOT_IN_THE_RETURN}`;
      const destination = dischargeDestination
        ? DISCHARGE_DESTINATION.labels[dischargeDestination]
        : `destination ${NOT_IN_THE_RETURN}`;
      return `Discharged from hospital after ${plural(days, 'day')}: ${method} — to ${destination}`;
    }
    case 'health.camhs.referred': {
      const { referralSource, primaryReason, urgency } = event.data;
      return `CAMHS referral (${CAMHS_URGENCY.labels[urgency].toLowerCase()}) from ${CAMHS_REFERRAL_SOURCE.labels[referralSource]} — ${CAMHS_REFERRAL_REASON.labels[primaryReason]}`;
    }
    case 'health.camhs.discharged':
      return `Discharged from CAMHS — ${CAMHS_DISCHARGE_REASON.labels[event.data.reason]}`;
    case 'health.observation.recorded': {
      const { code, text, value, components } = event.data;
      const what = code.display ?? text ?? `${code.system} ${code.code}`;
      const values = value
        ? recordedValueText(value)
        : components
            ?.map((part) => `${part.code.display ?? part.code.code} ${recordedValueText(part.value)}`)
            .join(', ');
      return `Observation: ${what}${values ? ` — ${values}` : ''}`;
    }
    case 'health.flag.recorded': {
      const { code, text, status, periodStart, periodEnd } = event.data;
      const until = periodEnd ? ` to ${periodEnd}` : '';
      return `Health record flag (${status}): ${text ?? code.display ?? code.code} — from ${periodStart}${until}`;
    }
    case 'education.leaving.recorded': {
      const { schoolUrn, reason, destinationUrn, destinationUnknown } = event.data;
      const where = destinationUnknown
        ? ' (destination unknown: possible child missing education)'
        : destinationUrn
          ? ` (to school ${destinationUrn})`
          : '';
      return `Left school ${schoolUrn} — ${LEAVING_REASON.labels[reason]}${where}`;
    }
    case 'education.sen-provision.changed': {
      const { previousProvision, provision, needs } = event.data;
      return `SEN provision changed from ${SEN_PROVISION.labels[previousProvision]} to ${SEN_PROVISION.labels[provision]}${needs ? ` — ${rankedNeeds(needs)}` : ''}`;
    }
    case 'education.ehc-needs-assessment.requested':
      return `EHC needs assessment requested by ${EHC_REQUEST_SOURCE.labels[event.data.requestSource].toLowerCase()}`;
    case 'education.ehc-plan.issued':
      return `EHC plan issued — ${rankedNeeds(event.data.needs)}`;
    case 'education.ehc-plan.ceased':
      return `EHC plan ceased — ${EHC_CEASE_REASON.labels[event.data.reason]}`;
    case 'education.eyfs-profile.assessed': {
      const { goals, academicYear } = event.data;
      const levels = Object.values(goals);
      const expected = levels.filter((level) => level === 'expected').length;
      const gld = GLD_GOALS.every((goal) => goals[goal] === 'expected');
      return `EYFS profile ${academicYear}: expected level in ${expected} of ${levels.length} early learning goals — ${gld ? 'good level of development' : 'not yet a good level of development'}`;
    }
    case 'education.key-stage.assessed': {
      // Scores and grades are the entry's indicators; the summary says what they amount to.
      const { keyStage, academicYear, ks2, ks4 } = event.data;
      const parts: string[] = [];
      if (ks2) {
        const tests: [string, number | undefined][] = [
          ['reading', ks2.readingScaledScore],
          ['maths', ks2.mathsScaledScore],
          ['grammar, punctuation and spelling', ks2.gpsScaledScore],
        ];
        const met = tests.filter(([, score]) => score !== undefined && score >= 100).map(([name]) => name);
        const notMet = tests.filter(([, score]) => score !== undefined && score < 100).map(([name]) => name);
        if (met.length) parts.push(`expected standard met in ${met.join(', ')}`);
        if (notMet.length) parts.push(`not yet met in ${notMet.join(', ')}`);
        if (ks2.writing) parts.push(`writing: ${KS2_WRITING_TA.labels[ks2.writing].toLowerCase()}`);
      }
      if (ks4) {
        const subjects: [string, string | undefined][] = [
          ['English', ks4.englishGrade],
          ['maths', ks4.mathsGrade],
        ];
        const graded = subjects.filter(([, grade]) => grade !== undefined && grade !== 'X');
        const passed = graded.filter(([, grade]) => /^[4-9]$/.test(grade ?? '')).map(([name]) => name);
        const notPassed = graded.filter(([, grade]) => !/^[4-9]$/.test(grade ?? '')).map(([name]) => name);
        if (ks4.attainment8 !== undefined) parts.push('Attainment 8 recorded');
        if (passed.length) parts.push(`standard pass in ${passed.join(' and ')}`);
        if (notPassed.length) parts.push(`no standard pass in ${notPassed.join(' and ')}`);
        const absent = subjects.filter(([, grade]) => grade === 'X').map(([name]) => name);
        if (absent.length) parts.push(`absent or no result in ${absent.join(' and ')}`);
      }
      return `${KEY_STAGE.labels[keyStage]} ${academicYear}${parts.length ? `: ${parts.join('; ')}` : ''}`;
    }
    case 'social-care.contact.received': {
      const { contactSource, outcome } = event.data;
      return `Contact received from ${REFERRAL_SOURCE.labels[contactSource]}${outcome ? ` — ${CONTACT_OUTCOME.labels[outcome]}` : ''}`;
    }
    case 'social-care.section-47-enquiry.started': {
      const { icpcTargetDate } = event.data;
      return `Section 47 enquiry started${icpcTargetDate ? ` — conference target ${icpcTargetDate}` : ''}`;
    }
    case 'social-care.section-47-enquiry.completed': {
      const { outcome, icpcRequired } = event.data;
      if (outcome) return `Section 47 enquiry completed — ${SECTION_47_OUTCOME.labels[outcome]}`;
      const conference =
        icpcRequired === undefined ? '' : icpcRequired ? '; conference required' : '; no conference required';
      return `Section 47 enquiry completed${conference} — outcome: ${NOT_IN_THE_RETURN}`;
    }
    case 'social-care.initial-child-protection-conference.held': {
      const { planRequired, category } = event.data;
      if (planRequired === undefined)
        return `Initial child protection conference held — decision: ${NOT_IN_THE_RETURN}`;
      return `Initial child protection conference held — ${planRequired && category ? `plan required, category: ${ABUSE_CATEGORY.labels[category]}` : 'no plan required'}`;
    }
    case 'social-care.child-protection-plan.reviewed': {
      const { latestCategory, planContinues, nextReviewDate } = event.data;
      const category = latestCategory ? ABUSE_CATEGORY.labels[latestCategory] : NOT_IN_THE_RETURN;
      const next =
        planContinues === undefined
          ? `outcome: ${NOT_IN_THE_RETURN}`
          : planContinues
            ? `plan continues${nextReviewDate ? `, next review ${nextReviewDate}` : ''}`
            : 'plan to end';
      return `Child protection plan reviewed — category: ${category}; ${next}`;
    }
    case 'social-care.child-protection-plan.ended': {
      const { startDate, endDate, latestCategory, reason } = event.data;
      return `Child protection plan ended (${startDate} to ${endDate}; latest category: ${ABUSE_CATEGORY.labels[latestCategory]}) — ${reason ? CP_PLAN_END_REASON.labels[reason] : `reason: ${NOT_IN_THE_RETURN}`}`;
    }
    case 'social-care.cin-plan.started': {
      const { primaryNeed } = event.data;
      return `Child in need plan started${primaryNeed ? ` — primary need: ${PRIMARY_NEED.labels[primaryNeed]}` : ''}`;
    }
    case 'social-care.cin-plan.ended':
      return `Child in need plan ended — ${event.data.reason ? CIN_PLAN_END_REASON.labels[event.data.reason] : `reason: ${NOT_IN_THE_RETURN}`}`;
    case 'social-care.looked-after-episode.started': {
      const { legalStatus, placement } = event.data;
      return `Became looked after: ${LEGAL_STATUS.labels[legalStatus]} — placement: ${PLACEMENT_TYPE.labels[placement]}`;
    }
    case 'social-care.looked-after-episode.changed': {
      const { reasonForNewEpisode, legalStatus, placement, reasonPlaceChange } = event.data;
      // An imported change whose preceding episode was not in the return has no reason to show.
      const why = reasonPlaceChange
        ? ` (${PLACEMENT_CHANGE_REASON.labels[reasonPlaceChange]})`
        : reasonForNewEpisode !== 'L'
          ? ` (reason ${NOT_IN_THE_RETURN})`
          : '';
      return `Looked-after episode changed: ${NEW_EPISODE_REASON.labels[reasonForNewEpisode]}${why} — now ${LEGAL_STATUS.labels[legalStatus]}; placement: ${PLACEMENT_TYPE.labels[placement]}`;
    }
    case 'social-care.looked-after-episode.ended':
      return `Ceased to be looked after — ${EPISODE_END_REASON.labels[event.data.reasonEnded]}`;
    case 'social-care.looked-after-review.held':
      return `Looked-after review held — ${REVIEW_PARTICIPATION.labels[event.data.participation]}`;
    case 'social-care.missing-episode.recorded': {
      const { kind, startDate, endDate } = event.data;
      return `${MISSING_KIND.labels[kind]} — from ${startDate}${endDate ? ` to ${endDate}` : ', not yet returned'}`;
    }
    case 'social-care.early-help-episode.started': {
      const { needs, leadPractitioner } = event.data;
      return `Early help started, led by ${leadPractitioner} — ${needs.map((need) => EARLY_HELP_NEED.labels[need]).join('; ')}`;
    }
    case 'social-care.early-help-episode.ended':
      return `Early help ended — ${EARLY_HELP_END_REASON.labels[event.data.reason]}`;
    case 'social-care.case.closed':
      return `Case closed — ${event.data.reason ? CLOSURE_REASON.labels[event.data.reason] : `reason: ${NOT_IN_THE_RETURN}`}`;
    case 'social-care.child-characteristics.recorded': {
      const { ethnicity, disabilities } = event.data;
      const disability = disabilities
        ? disabilities.map((code) => CIN_DISABILITY.labels[code]).join('; ')
        : NOT_IN_THE_RETURN;
      return `Characteristics recorded — ethnicity: ${CIN_ETHNICITY.labels[ethnicity]}; disability: ${disability}`;
    }
    case 'social-care.upn-unknown.recorded':
      return `UPN unknown — ${CIN_UPN_UNKNOWN.labels[event.data.reason]}`;
    case 'social-care.death.recorded':
      return `Died ${event.data.dateOfDeath}`;
    case 'social-care.assessment.started': {
      const { internalReviewDate } = event.data;
      return `Assessment started${internalReviewDate ? ` — internal review ${internalReviewDate}` : ''}`;
    }
    case 'social-care.pre-proceedings.started': {
      const { letterBeforeProceedingsDate, familyGroupDecisionMeetingOffered } = event.data;
      const letter = letterBeforeProceedingsDate
        ? ` — letter before proceedings sent ${letterBeforeProceedingsDate}`
        : '';
      const fgdm =
        familyGroupDecisionMeetingOffered === undefined
          ? ''
          : `; family group decision meeting ${familyGroupDecisionMeetingOffered ? 'offered' : 'not offered'}`;
      return `Pre-proceedings started${letter}${fgdm}`;
    }
    case 'social-care.pre-proceedings.ended': {
      const { decisionDate, outcome, courtApplicationDate } = event.data;
      const court = courtApplicationDate ? `; court application ${courtApplicationDate}` : '';
      return `Pre-proceedings ended, decided ${decisionDate} — outcome: ${outcome ? PRE_PROCEEDINGS_OUTCOME.labels[outcome] : NOT_IN_THE_RETURN}${court}`;
    }
    case 'social-care.uasc-status.recorded':
      return `Unaccompanied asylum-seeking child (return for the year ending ${event.data.yearEnding})`;
    case 'social-care.uasc-status.ceased':
      return `Ceased to be an unaccompanied asylum-seeking child on ${event.data.ceasedDate}`;
    case 'social-care.looked-after-outcomes.recorded':
      return `Looked-after outcomes, year ending ${event.data.yearEnding} — ${lookedAfterOutcomeItems(event.data)}`;
    case 'social-care.care-leaver.contacted': {
      const { inTouch, activity, accommodation, yearEnding } = event.data;
      return `Care leaver, year ending ${yearEnding}: in touch ${inTouch} (${CARE_LEAVER_IN_TOUCH.labels[inTouch]}); activity ${activity} (${CARE_LEAVER_ACTIVITY.labels[activity]}); accommodation ${accommodation} (${CARE_LEAVER_ACCOMMODATION.labels[accommodation]})`;
    }
    case 'social-care.adoption-match.recorded': {
      const { decisionDate, matchedDate, adopterSex, adopterLegalStatus, adoptedByFosterCarers } = event.data;
      return `Matched for adoption on ${matchedDate} (decision ${decisionDate}) — adopters: ${ADOPTER_SEX.labels[adopterSex]}, ${ADOPTER_LEGAL_STATUS.labels[adopterLegalStatus]}${adoptedByFosterCarers ? ', the foster carers' : ''}`;
    }
    case 'social-care.placement-for-adoption.decided':
      return `Decision that the child should be placed for adoption (${event.data.decisionDate})`;
    case 'social-care.placement-for-adoption.reversed':
      return `Decision that the child should no longer be placed for adoption — ${REASON_PLACED_CEASED.labels[event.data.reason]}`;
    case 'social-care.previous-permanence.recorded': {
      const { option, arrangedBy, orderDate } = event.data;
      const detail = [orderDate ? `order ${orderDate}` : '', arrangedBy ? `arranged by ${arrangedBy}` : '']
        .filter(Boolean)
        .join(', ');
      return `Previous permanence: ${PREVIOUS_PERMANENCE.labels[option]}${detail ? ` (${detail})` : ''}`;
    }
    case 'social-care.social-worker.allocated':
      return `Social worker ${event.data.workerId} allocated from ${event.data.startDate}`;
    case 'social-care.social-worker.allocation-ended': {
      const { workerId, endDate, reason } = event.data;
      return `Social worker ${workerId} no longer allocated from ${endDate}${reason ? ` — reason ${reason}` : ''}`;
    }
    case 'practice.decision.recorded': {
      const { decision, decidedBy, optionsConsidered, reviewDate } = event.data;
      const options = optionsConsidered.length
        ? `; ${plural(optionsConsidered.length, 'other option')} considered`
        : '';
      return `Decision by ${decidedBy.role} (${PRACTITIONER_AGENCY.labels[decidedBy.agency].toLowerCase()}): ${decision.replace(/[.\s]+$/, '')}${options}; review ${reviewDate}`;
    }
    case 'practice.voice-of-child.recorded': {
      const { capturedHow, capturedBy, verbatim } = event.data;
      const how = VOICE_CAPTURE.labels[capturedHow];
      return `Voice of the child recorded by ${capturedBy.role} (${PRACTITIONER_AGENCY.labels[capturedBy.agency].toLowerCase()}): ${how.charAt(0).toLowerCase()}${how.slice(1)} — ${verbatim ? 'verbatim' : 'as conveyed, not verbatim'}`;
    }
    case 'practice.decision.reviewed': {
      const { reviewedBy, outcome, revisedDecision, againstExpected, nextReviewDate } = event.data;
      const revised = revisedDecision ? `, now: ${revisedDecision.replace(/[.\s]+$/, '')}` : '';
      const judged = againstExpected.length
        ? `; against what was expected: ${againstExpected.map((item) => `${item.domain} ${REVIEW_JUDGEMENT.labels[item.judgement].toLowerCase()}`).join(', ')}`
        : '';
      const next = nextReviewDate ? `; next review ${nextReviewDate}` : '';
      return `Decision reviewed by ${reviewedBy.role} (${PRACTITIONER_AGENCY.labels[reviewedBy.agency].toLowerCase()}): ${REVIEW_OUTCOME.labels[outcome].toLowerCase()}${revised}${judged}${next}`;
    }
    case 'practice.views.differ': {
      const { framework, domain, views, recordedBy } = event.data;
      const about = framework ? ` about ${framework}${domain ? ` / ${domain}` : ''}` : '';
      const whose = views
        .map((view) =>
          view.perspective === 'professional'
            ? `${view.role}${view.agency ? ` (${PRACTITIONER_AGENCY.labels[view.agency].toLowerCase()})` : ''}`
            : `${view.role} (${PERSPECTIVE.labels[view.perspective].toLowerCase()})`,
        )
        .join(', ');
      return `Views differ${about}: ${whose} — recorded by ${recordedBy.role} (${PRACTITIONER_AGENCY.labels[recordedBy.agency].toLowerCase()})`;
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

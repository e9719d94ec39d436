import { z } from 'zod';
import adopterLegalStatusList from '../code-lists/ssda903-adopter-legal-status.json';
import adopterSexList from '../code-lists/ssda903-adopter-sex.json';
import careLeaverAccommodationList from '../code-lists/ssda903-care-leaver-accommodation.json';
import careLeaverActivityList from '../code-lists/ssda903-care-leaver-activity.json';
import careLeaverInTouchList from '../code-lists/ssda903-care-leaver-in-touch.json';
import previousPermanenceList from '../code-lists/ssda903-previous-permanence.json';
import reasonPlacedCeasedList from '../code-lists/ssda903-reason-placed-ceased.json';
import sdqReasonList from '../code-lists/ssda903-sdq-reason.json';
import socialWorkerChangeReasonList from '../code-lists/ssda903-social-worker-change-reason.json';
import { codeList, envelope, isoDate, narrative, notBefore, source } from './common';

/**
 * The SSDA903 (children looked after) tables that were not yet event types: UASC status,
 * OC2 outcomes, OC3 care leavers, AD1 adoptions, the decision that a child should be placed
 * for adoption (and its reversal), previous permanence and social worker episodes. Shaped on
 * the column specification `SSDA903_schema_2024.yml`; OC2 and OC3 items are indicators kept as
 * their codes and values, never sentences.
 */

const socialCareSource = source('social-care');

export const SDQ_REASON = codeList(sdqReasonList);
export const CARE_LEAVER_IN_TOUCH = codeList(careLeaverInTouchList);
export const CARE_LEAVER_ACTIVITY = codeList(careLeaverActivityList);
export const CARE_LEAVER_ACCOMMODATION = codeList(careLeaverAccommodationList);
export const ADOPTER_SEX = codeList(adopterSexList);
export const ADOPTER_LEGAL_STATUS = codeList(adopterLegalStatusList);
export const REASON_PLACED_CEASED = codeList(reasonPlacedCeasedList);
export const PREVIOUS_PERMANENCE = codeList(previousPermanenceList);
export const SOCIAL_WORKER_CHANGE_REASON = codeList(socialWorkerChangeReasonList);

/** The last day of a DfE collection year: 31 March. */
export const yearEnding = isoDate.refine((value) => value.slice(5) === '03-31', {
  message: 'the end of a collection year is a 31 March',
  params: { rule: 'collection-year-end' },
});

/**
 * A date as SSDA903 reports a previous permanence order: a full date, a month (`2015-05`) or a
 * year (`2015`) — the return's `zz/05/2015` and `zz/zz/2015`.
 */
export const partialDate = z.string().regex(/^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/, {
  message: 'a date as YYYY-MM-DD, a month as YYYY-MM or a year as YYYY',
});

/** The child is an unaccompanied asylum-seeking child (SSDA903 UASC table), as the return of the year ending `yearEnding` reports. */
export const uascStatusRecorded = envelope(
  'social-care.uasc-status.recorded',
  socialCareSource,
  z.strictObject({
    yearEnding,
    narrative: narrative.optional(),
  }),
);

/** The child ceased to be an unaccompanied asylum-seeking child (SSDA903 UASC `DUC`), e.g. at 18 or on a change of status. */
export const uascStatusCeased = envelope(
  'social-care.uasc-status.ceased',
  socialCareSource,
  z.strictObject({
    ceasedDate: isoDate,
    narrative: narrative.optional(),
  }),
);

/** A yes/no indicator of the SSDA903 (code `1` yes, `0` no). */
const indicator = z.boolean();

/**
 * Outcomes of a child looked after continuously for 12 months at 31 March (SSDA903 OC2): the
 * SDQ score (or why there is none), conviction, health and dental checks, immunisations, annual
 * health assessment, substance misuse and intervention. Each item is an indicator as reported.
 */
export const lookedAfterOutcomesRecorded = envelope(
  'social-care.looked-after-outcomes.recorded',
  socialCareSource,
  z
    .strictObject({
      yearEnding,
      /** Strengths and difficulties questionnaire total difficulties score, 0-40. */
      sdqScore: z.number().int().min(0).max(40).optional(),
      sdqReason: SDQ_REASON.optional(),
      /** Convicted or subject to a youth caution during the year. */
      convicted: indicator.optional(),
      /** Health surveillance or health promotion checks up to date. */
      healthCheck: indicator.optional(),
      /** Immunisations up to date. */
      immunisations: indicator.optional(),
      /** Teeth checked by a dentist. */
      teethCheck: indicator.optional(),
      /** Annual health assessment had. */
      healthAssessment: indicator.optional(),
      /** Identified as having a substance misuse problem. */
      substanceMisuse: indicator.optional(),
      /** Received an intervention for the substance misuse problem. */
      interventionReceived: indicator.optional(),
      /** Offered an intervention for the substance misuse problem, and refused it. */
      interventionOffered: indicator.optional(),
    })
    .refine((d) => d.sdqScore === undefined || d.sdqReason === undefined, {
      path: ['sdqReason'],
      message: 'a reason for no SDQ score is given only when there is no score',
      params: { rule: 'exclusive-with-sdqScore' },
    }),
  1,
  { specialCategories: ['substance-misuse', 'criminal-offence'] },
);

/**
 * A care leaver's situation around their 17th to 21st birthday in the collection year
 * (SSDA903 OC3): whether the local authority is in touch, their main activity and their
 * accommodation (type and suitability), as codes.
 */
export const careLeaverContacted = envelope(
  'social-care.care-leaver.contacted',
  socialCareSource,
  z.strictObject({
    yearEnding,
    inTouch: CARE_LEAVER_IN_TOUCH,
    activity: CARE_LEAVER_ACTIVITY,
    accommodation: CARE_LEAVER_ACCOMMODATION,
  }),
);

/**
 * An adoption: the decision that the child should be placed for adoption, the match with the
 * prospective adopters and who they are (SSDA903 AD1).
 */
export const adoptionMatchRecorded = envelope(
  'social-care.adoption-match.recorded',
  socialCareSource,
  z
    .strictObject({
      /** DATE_INT: the date of the decision that the child should be placed for adoption. */
      decisionDate: isoDate,
      /** DATE_MATCH: the date the child was matched with the prospective adopter(s). */
      matchedDate: isoDate,
      /** FOSTER_CARE: adopted by their foster carer(s). */
      adoptedByFosterCarers: z.boolean(),
      numberOfAdopters: z.number().int().min(1).max(2),
      adopterSex: ADOPTER_SEX,
      adopterLegalStatus: ADOPTER_LEGAL_STATUS,
      narrative: narrative.optional(),
    })
    .refine(...notBefore('matchedDate', 'decisionDate'))
    .refine((d) => (d.numberOfAdopters === 1) === (d.adopterSex === 'M1' || d.adopterSex === 'F1'), {
      path: ['adopterSex'],
      message: 'a single adopter is M1 or F1, a couple MM, FF or MF',
      params: { rule: 'matches-numberOfAdopters' },
    }),
);

/** The local authority decided that the child should be placed for adoption (SSDA903 PlacedAdoption `DATE_PLACED`). */
export const placementForAdoptionDecided = envelope(
  'social-care.placement-for-adoption.decided',
  socialCareSource,
  z.strictObject({
    decisionDate: isoDate,
    narrative: narrative.optional(),
  }),
);

/**
 * The local authority decided that the child should no longer be placed for adoption
 * (SSDA903 PlacedAdoption `DATE_PLACED_CEASED`, `REASON_PLACED_CEASED`).
 */
export const placementForAdoptionReversed = envelope(
  'social-care.placement-for-adoption.reversed',
  socialCareSource,
  z
    .strictObject({
      /** The date of the decision that the child should be placed for adoption. */
      decisionDate: isoDate,
      reversedDate: isoDate,
      reason: REASON_PLACED_CEASED,
      narrative: narrative.optional(),
    })
    .refine(...notBefore('reversedDate', 'decisionDate')),
);

/**
 * Whether a child starting to be looked after had a permanence order before (adoption, special
 * guardianship, child arrangements), which local authority arranged it and when (SSDA903
 * PrevPerm), as the return of the year ending `yearEnding` reports.
 */
export const previousPermanenceRecorded = envelope(
  'social-care.previous-permanence.recorded',
  socialCareSource,
  z.strictObject({
    yearEnding,
    option: PREVIOUS_PERMANENCE,
    /** LA_PERM: the LA code of the arranging authority, or NIR, NUK, SCO, WAL, 999 (not known). */
    arrangedBy: z
      .string()
      .regex(/^(\d{3}|NIR|NUK|SCO|WAL)$/, { message: 'a 3-digit LA code, NIR, NUK, SCO, WAL or 999' })
      .optional(),
    /** DATE_PERM: the order's date, or only its month or year when that is all that is known. */
    orderDate: partialDate.optional(),
  }),
);

/** A social worker allocated to the looked-after child (SSDA903 SocialWorker `SW_ID`, `SW_DECOM`). */
export const socialWorkerAllocated = envelope(
  'social-care.social-worker.allocated',
  socialCareSource,
  z.strictObject({
    /** The worker's id in the return (SW_ID), not a person's name. */
    workerId: z.string().regex(/^[A-Za-z0-9]{1,20}$/, { message: 'worker id: 1-20 letters and digits' }),
    startDate: isoDate,
  }),
);

/** A social worker's allocation ended, with the reason for the change (SSDA903 SocialWorker `SW_DEC`, `SW_REASON`). */
export const socialWorkerAllocationEnded = envelope(
  'social-care.social-worker.allocation-ended',
  socialCareSource,
  z
    .strictObject({
      workerId: z.string().regex(/^[A-Za-z0-9]{1,20}$/, { message: 'worker id: 1-20 letters and digits' }),
      startDate: isoDate,
      endDate: isoDate,
      reason: SOCIAL_WORKER_CHANGE_REASON.optional(),
    })
    .refine(...notBefore('endDate', 'startDate')),
);

export const lookedAfterReturnEvents = [
  uascStatusRecorded,
  uascStatusCeased,
  lookedAfterOutcomesRecorded,
  careLeaverContacted,
  adoptionMatchRecorded,
  placementForAdoptionDecided,
  placementForAdoptionReversed,
  previousPermanenceRecorded,
  socialWorkerAllocated,
  socialWorkerAllocationEnded,
] as const;

import { z } from 'zod';
import cinAssessmentFactor from '../code-lists/cin-assessment-factor.json';
import cinCategoryOfAbuse from '../code-lists/cin-category-of-abuse.json';
import cinPrimaryNeed from '../code-lists/cin-primary-need.json';
import cinReasonForClosure from '../code-lists/cin-reason-for-closure.json';
import cinReferralSource from '../code-lists/cin-referral-source.json';
import lookedAfterNeed from '../code-lists/ssda903-category-of-need.json';
import legalStatus from '../code-lists/ssda903-legal-status.json';
import missingKind from '../code-lists/ssda903-missing.json';
import placementProvider from '../code-lists/ssda903-placement-provider.json';
import placementType from '../code-lists/ssda903-placement-type.json';
import reasonEpisodeCeased from '../code-lists/ssda903-reason-episode-ceased.json';
import reasonNewEpisode from '../code-lists/ssda903-reason-new-episode.json';
import reasonPlacementChange from '../code-lists/ssda903-reason-placement-change.json';
import reviewParticipation from '../code-lists/ssda903-review-participation.json';
import { codeListExcluding } from './code-lists';
import { codeList, envelope, isoDate, narrative, notBefore, shortText, source } from './common';

/** Social care events, shaped on the CIN census. */

const socialCareSource = source('social-care');

export const REFERRAL_SOURCE = codeList(cinReferralSource);

export const PRIMARY_NEED = codeList(cinPrimaryNeed);

/** A referral accepted by children's social care (CIN census referral), sent by the LA. May be about an unborn child. */
export const referralReceived = envelope(
  'social-care.referral.received',
  socialCareSource,
  z.strictObject({
    referralDate: isoDate,
    referralSource: REFERRAL_SOURCE,
    /** Not in every CIN census return (PrimaryNeedCode is optional there). */
    primaryNeed: PRIMARY_NEED.optional(),
    noFurtherAction: z.boolean(),
    narrative: narrative.optional(),
  }),
  1,
  { importOptional: ['primaryNeed'] },
);

export const ASSESSMENT_FACTOR = codeList(cinAssessmentFactor);

/** A child and family (section 17) assessment completed and authorised, with the factors identified (CIN census), sent by the LA. May be a pre-birth assessment. */
export const assessmentCompleted = envelope(
  'social-care.assessment.completed',
  socialCareSource,
  z
    .strictObject({
      startDate: isoDate,
      /** CIN census AssessmentInternalReviewDate, when the LA records one. */
      internalReviewDate: isoDate.optional(),
      authorisationDate: isoDate,
      /** A CIN census return may report an authorised assessment without its factors. */
      factors: z.array(ASSESSMENT_FACTOR).min(1).max(40).optional(),
      narrative: narrative.optional(),
    })
    .refine((d) => d.authorisationDate >= d.startDate, {
      path: ['authorisationDate'],
      message: 'authorisation date cannot precede the assessment start',
      params: { rule: 'not-before-startDate' },
    })
    .refine((d) => !d.factors?.includes('21') || d.factors.length === 1, {
      path: ['factors'],
      message: 'factor 21 (no factors identified) cannot be combined with other factors',
      params: { rule: 'no-factors-alone' },
    }),
  1,
  { importOptional: ['factors'] },
);

export const ABUSE_CATEGORY = codeList(cinCategoryOfAbuse);

/**
 * The initial child protection plan: started by the conference, sent by the LA case system
 * (CIN census child protection plan). May be about an unborn child (`expectedDateOfBirth`).
 */
export const childProtectionPlanStarted = envelope(
  'social-care.child-protection-plan.started',
  socialCareSource,
  z.strictObject({
    startDate: isoDate,
    initialCategory: ABUSE_CATEGORY,
    numberOfPreviousPlans: z.number().int().min(0).max(50),
    /** Decisions carry rationale and a review date (neither is in the CIN census). */
    rationale: narrative.optional(),
    reviewDate: isoDate.optional(),
  }),
  1,
  { importOptional: ['rationale', 'reviewDate'] },
);

export const CONTACT_OUTCOME = codeList({
  referral: 'Progressed to a referral to children’s social care',
  'early-help': 'Passed to early help',
  'information-advice': 'Information and advice given',
  signposted: 'Signposted to another service',
  nfa: 'No further action',
});

/**
 * A contact to the front door (MASH): information about a child that may or may not become a
 * referral. Sent by the LA case system. May be about an unborn child.
 */
export const contactReceived = envelope(
  'social-care.contact.received',
  socialCareSource,
  z.strictObject({
    contactDate: isoDate,
    contactSource: REFERRAL_SOURCE,
    outcome: CONTACT_OUTCOME.optional(),
    narrative: narrative.optional(),
  }),
);

/** A section 47 enquiry (Children Act 1989) started after a strategy discussion, sent by the LA. */
export const section47EnquiryStarted = envelope(
  'social-care.section-47-enquiry.started',
  socialCareSource,
  z
    .strictObject({
      startDate: isoDate,
      strategyDiscussionDate: isoDate.optional(),
      /** Target date for the initial child protection conference, if one is expected (CIN census). */
      icpcTargetDate: isoDate.optional(),
      rationale: narrative.optional(),
    })
    .refine(...notBefore('startDate', 'strategyDiscussionDate')),
);

export const SECTION_47_OUTCOME = codeList({
  icpc: 'Concerns substantiated: initial child protection conference',
  'cin-plan': 'Concerns substantiated, child not at continuing risk of significant harm: child in need plan',
  'early-help': 'Concerns not substantiated: early help',
  nfa: 'Concerns not substantiated: no further action',
});

/**
 * The outcome of a section 47 enquiry. The CIN census holds only whether an initial child
 * protection conference is required (`icpcRequired`, the census's ICPCnotRequired negated):
 * an imported enquiry may lack the completion date, the outcome and the rationale.
 */
export const section47EnquiryCompleted = envelope(
  'social-care.section-47-enquiry.completed',
  socialCareSource,
  z
    .strictObject({
      startDate: isoDate,
      completedDate: isoDate.optional(),
      outcome: SECTION_47_OUTCOME.optional(),
      icpcRequired: z.boolean().optional(),
      rationale: narrative.optional(),
    })
    .refine(...notBefore('completedDate', 'startDate'))
    .refine(
      (d) =>
        d.outcome === undefined || d.icpcRequired === undefined || d.icpcRequired === (d.outcome === 'icpc'),
      {
        path: ['icpcRequired'],
        message: 'icpcRequired is true when, and only when, the outcome is icpc',
        params: { rule: 'consistent-with-outcome' },
      },
    ),
  1,
  { importOptional: ['completedDate', 'outcome', 'rationale'] },
);

/** An initial child protection conference held, sent by the LA (its chair's decision). */
export const initialChildProtectionConferenceHeld = envelope(
  'social-care.initial-child-protection-conference.held',
  socialCareSource,
  z
    .strictObject({
      conferenceDate: isoDate,
      section47StartDate: isoDate.optional(),
      /** Not in the CIN census (a plan starting on the conference date is the census's sign of it). */
      planRequired: z.boolean().optional(),
      /** The category of abuse, when a plan is required. */
      category: ABUSE_CATEGORY.optional(),
      rationale: narrative.optional(),
    })
    .refine(...notBefore('conferenceDate', 'section47StartDate'))
    .refine(
      (d) =>
        d.planRequired === undefined
          ? d.category === undefined
          : d.planRequired === (d.category !== undefined),
      {
        path: ['category'],
        message: 'a category of abuse is given when, and only when, a plan is required',
        params: { rule: 'required-when-plan' },
      },
    ),
  1,
  { importOptional: ['planRequired', 'rationale'] },
);

/** A child protection review conference, sent by the LA; the plan continues or ends. */
export const childProtectionPlanReviewed = envelope(
  'social-care.child-protection-plan.reviewed',
  socialCareSource,
  z
    .strictObject({
      reviewDate: isoDate,
      planStartDate: isoDate,
      /** The CIN census gives the latest category once per plan, not per review. */
      latestCategory: ABUSE_CATEGORY.optional(),
      planContinues: z.boolean().optional(),
      nextReviewDate: isoDate.optional(),
      rationale: narrative.optional(),
    })
    .refine(...notBefore('reviewDate', 'planStartDate'))
    .refine((d) => !d.planContinues || d.nextReviewDate !== undefined, {
      path: ['nextReviewDate'],
      message: 'a continuing plan has a next review date',
      params: { rule: 'required-when-plan-continues' },
    })
    .refine(...notBefore('nextReviewDate', 'reviewDate')),
  1,
  { importOptional: ['latestCategory', 'planContinues', 'rationale'] },
);

export const CP_PLAN_END_REASON = codeList({
  'no-longer-at-risk': 'No longer at continuing risk of significant harm',
  'child-in-need-plan': 'Stepped down to a child in need plan',
  'looked-after': 'Became looked after; the care plan replaces it',
  'moved-la': 'Moved to another local authority (transfer-in conference held there)',
  'reached-18': 'Reached 18',
  'born-new-plan': 'Unborn plan ended at birth; a plan for the born child follows',
  died: 'Died',
  other: 'Other',
});

/** A child protection plan ended, sent by the LA (CIN census plan end date and categories). */
export const childProtectionPlanEnded = envelope(
  'social-care.child-protection-plan.ended',
  socialCareSource,
  z
    .strictObject({
      startDate: isoDate,
      endDate: isoDate,
      initialCategory: ABUSE_CATEGORY,
      latestCategory: ABUSE_CATEGORY,
      /** Not in the CIN census. */
      reason: CP_PLAN_END_REASON.optional(),
      rationale: narrative.optional(),
    })
    .refine(...notBefore('endDate', 'startDate')),
  1,
  { importOptional: ['reason', 'rationale'] },
);

/** A child in need plan started (CIN census CIN plan start), sent by the LA. */
export const cinPlanStarted = envelope(
  'social-care.cin-plan.started',
  socialCareSource,
  z.strictObject({
    startDate: isoDate,
    primaryNeed: PRIMARY_NEED.optional(),
    rationale: narrative.optional(),
    reviewDate: isoDate.optional(),
  }),
);

export const CIN_PLAN_END_REASON = codeList({
  'needs-met': 'Needs met',
  'early-help': 'Stepped down to early help',
  'child-protection-plan': 'Escalated to a child protection plan',
  'looked-after': 'Became looked after',
  'moved-la': 'Moved to another local authority',
  'family-withdrew': 'Family withdrew consent',
  other: 'Other',
});

/** A child in need plan ended (CIN census CIN plan end), sent by the LA. */
export const cinPlanEnded = envelope(
  'social-care.cin-plan.ended',
  socialCareSource,
  z
    .strictObject({
      startDate: isoDate,
      endDate: isoDate,
      /** Not in the CIN census. */
      reason: CIN_PLAN_END_REASON.optional(),
      narrative: narrative.optional(),
    })
    .refine(...notBefore('endDate', 'startDate')),
  1,
  { importOptional: ['reason'] },
);

/** SSDA903 legal status (LS). */
export const LEGAL_STATUS = codeList(legalStatus);

/** SSDA903 placement type (PLACE). */
export const PLACEMENT_TYPE = codeList(placementType);

/** SSDA903 placement provider (PLACE_PROVIDER). */
export const PLACEMENT_PROVIDER = codeList(placementProvider);

/** SSDA903 category of need (CIN): N1–N8. */
export const LAC_NEED = codeList(lookedAfterNeed);

/** SSDA903 reason for new episode (RNE). */
export const NEW_EPISODE_REASON = codeList(reasonNewEpisode);

/** SSDA903 reason for placement change (REASON_PLACE_CHANGE). */
export const PLACEMENT_CHANGE_REASON = codeList(reasonPlacementChange);

/** SSDA903 reason episode ceased (REC). */
export const EPISODE_END_REASON = codeList(reasonEpisodeCeased);

/**
 * A child started to be looked after (SSDA903 episode with RNE `S`), sent by the LA case
 * system. The first placement and legal status of the period of care.
 */
export const lookedAfterEpisodeStarted = envelope(
  'social-care.looked-after-episode.started',
  socialCareSource,
  z.strictObject({
    startDate: isoDate,
    legalStatus: LEGAL_STATUS,
    placement: PLACEMENT_TYPE,
    placementProvider: PLACEMENT_PROVIDER.optional(),
    needCategory: LAC_NEED,
    unaccompaniedAsylumSeeking: z.boolean().optional(),
    rationale: narrative.optional(),
  }),
);

/**
 * A new SSDA903 episode within a period of care: the previous episode ended with REC `X1` and
 * the legal status and/or placement changed (RNE L, P, T, B or U). Sent by the LA.
 */
export const lookedAfterEpisodeChanged = envelope(
  'social-care.looked-after-episode.changed',
  socialCareSource,
  z
    .strictObject({
      changeDate: isoDate,
      reasonForNewEpisode: codeListExcluding(NEW_EPISODE_REASON, ['S']),
      legalStatus: LEGAL_STATUS,
      placement: PLACEMENT_TYPE,
      placementProvider: PLACEMENT_PROVIDER.optional(),
      /**
       * Required when the placement changed (RNE P, T, B, U), unless imported: SSDA903 holds it
       * on the preceding episode, which a return may not include.
       */
      reasonPlaceChange: PLACEMENT_CHANGE_REASON.optional(),
      narrative: narrative.optional(),
    })
    .refine((d) => d.reasonForNewEpisode !== 'L' || d.reasonPlaceChange === undefined, {
      path: ['reasonPlaceChange'],
      message: 'a change of legal status only (RNE L) has no placement change reason',
      params: { rule: 'only-for-placement-change' },
    }),
).superRefine((event, ctx) => {
  if (event.provenance !== undefined) return;
  if (event.data.reasonForNewEpisode !== 'L' && event.data.reasonPlaceChange === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['data', 'reasonPlaceChange'],
      message:
        'a placement change (RNE P, T, B or U) gives its reason (only an imported episode whose preceding episode is not in the return may leave it out)',
      params: { rule: 'required-for-placement-change' },
    });
});

/**
 * A period of care ended (the last SSDA903 episode closed with a reason other than X1), sent
 * by the LA. Adoption (E11, E12), special guardianship (E45-E48), return home (E4A, E4B) …
 */
export const lookedAfterEpisodeEnded = envelope(
  'social-care.looked-after-episode.ended',
  socialCareSource,
  z
    .strictObject({
      /** Start of the period of care; an SSDA903 return may not hold it (the period began in an earlier year). */
      startDate: isoDate.optional(),
      endDate: isoDate,
      reasonEnded: EPISODE_END_REASON,
      narrative: narrative.optional(),
    })
    .refine(...notBefore('endDate', 'startDate'))
    .refine((d) => d.reasonEnded !== 'X1', {
      path: ['reasonEnded'],
      message:
        'X1 (a new episode begins the same day) is social-care.looked-after-episode.changed, not an end of care',
      params: { rule: 'x1-is-a-change' },
    }),
  1,
  { importOptional: ['startDate'] },
);

/** SSDA903 review participation (REVIEW_CODE). */
export const REVIEW_PARTICIPATION = codeList(reviewParticipation);

/** A looked-after child review (SSDA903 Reviews), chaired by the IRO, sent by the LA. */
export const lookedAfterReviewHeld = envelope(
  'social-care.looked-after-review.held',
  socialCareSource,
  z
    .strictObject({
      reviewDate: isoDate,
      participation: REVIEW_PARTICIPATION,
      nextReviewDate: isoDate.optional(),
      narrative: narrative.optional(),
    })
    .refine(...notBefore('nextReviewDate', 'reviewDate')),
);

export const MISSING_KIND = codeList(missingKind);

/**
 * An episode of going missing or being away from placement (SSDA903 Missing: MISSING,
 * MIS_START, MIS_END), sent by the LA; open while `endDate` is absent.
 */
export const missingEpisodeRecorded = envelope(
  'social-care.missing-episode.recorded',
  socialCareSource,
  z
    .strictObject({
      kind: MISSING_KIND,
      startDate: isoDate,
      endDate: isoDate.optional(),
      returnInterviewOffered: z.boolean().optional(),
      returnInterviewAccepted: z.boolean().optional(),
      narrative: narrative.optional(),
    })
    .refine(...notBefore('endDate', 'startDate'))
    .refine((d) => d.returnInterviewAccepted !== true || d.returnInterviewOffered === true, {
      path: ['returnInterviewAccepted'],
      message: 'a return interview can only be accepted when offered',
      params: { rule: 'requires-returnInterviewOffered' },
    }),
);

/** The ten headline outcomes of the Supporting Families framework: the needs an early help plan addresses. */
export const EARLY_HELP_NEED = codeList({
  education: 'Getting a good education',
  'early-years': 'Good early years development',
  health: 'Improved mental and physical health',
  'substance-use': 'Promoting recovery and reducing harm from substance use',
  relationships: 'Improved family relationships',
  safeguarding: 'Children safe from abuse and exploitation',
  crime: 'Crime prevention and tackling crime',
  'domestic-abuse': 'Safe from domestic abuse',
  housing: 'Secure housing',
  'financial-stability': 'Financial stability',
});

/** An early help episode (a family's early help assessment and plan) started, sent by the LA early help service. */
export const earlyHelpEpisodeStarted = envelope(
  'social-care.early-help-episode.started',
  socialCareSource,
  z.strictObject({
    startDate: isoDate,
    needs: z.array(EARLY_HELP_NEED).min(1).max(10),
    /** The lead practitioner's role and agency, e.g. "family support worker, school". */
    leadPractitioner: shortText,
    narrative: narrative.optional(),
  }),
);

export const EARLY_HELP_END_REASON = codeList({
  'needs-met': 'Needs met: plan outcomes achieved',
  'stepped-up': 'Stepped up to children’s social care',
  'family-withdrew': 'Family withdrew consent',
  'moved-away': 'Moved out of the area',
  'no-engagement': 'Family did not engage',
  other: 'Other',
});

/** An early help episode ended, sent by the LA early help service. */
export const earlyHelpEpisodeEnded = envelope(
  'social-care.early-help-episode.ended',
  socialCareSource,
  z
    .strictObject({
      startDate: isoDate,
      endDate: isoDate,
      reason: EARLY_HELP_END_REASON,
      narrative: narrative.optional(),
    })
    .refine(...notBefore('endDate', 'startDate')),
);

/** CIN census reason for closure (RC1–RC9). */
export const CLOSURE_REASON = codeList(cinReasonForClosure);

/** A child in need episode closed (CIN census closure date and reason), sent by the LA. */
export const caseClosed = envelope(
  'social-care.case.closed',
  socialCareSource,
  z
    .strictObject({
      referralDate: isoDate,
      closureDate: isoDate,
      /** ReasonForClosure is optional in the CIN census XSD. */
      reason: CLOSURE_REASON.optional(),
      narrative: narrative.optional(),
    })
    .refine(...notBefore('closureDate', 'referralDate')),
  1,
  { importOptional: ['reason'] },
);

export const socialCareEvents = [
  referralReceived,
  assessmentCompleted,
  childProtectionPlanStarted,
  contactReceived,
  section47EnquiryStarted,
  section47EnquiryCompleted,
  initialChildProtectionConferenceHeld,
  childProtectionPlanReviewed,
  childProtectionPlanEnded,
  cinPlanStarted,
  cinPlanEnded,
  lookedAfterEpisodeStarted,
  lookedAfterEpisodeChanged,
  lookedAfterEpisodeEnded,
  lookedAfterReviewHeld,
  missingEpisodeRecorded,
  earlyHelpEpisodeStarted,
  earlyHelpEpisodeEnded,
  caseClosed,
] as const;

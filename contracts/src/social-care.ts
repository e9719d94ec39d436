import { z } from 'zod';
import { codeList, envelope, isoDate, narrative, notBefore, shortText, source } from './common';

/** Social care events, shaped on the CIN census. */

const socialCareSource = source('social-care');

export const REFERRAL_SOURCE = codeList({
  '1A': 'Individual: family member, relative or carer',
  '1B': 'Individual: acquaintance (including neighbours and child minders)',
  '1C': 'Individual: self',
  '1D': 'Individual: other',
  '2A': 'Schools',
  '2B': 'Education services',
  '3A': 'Health services: GP',
  '3B': 'Health services: health visitor',
  '3C': 'Health services: school nurse',
  '3D': 'Health services: other primary health services',
  '3E': 'Health services: A&E (emergency department)',
  '3F': 'Health services: other',
  '4': 'Housing',
  '5A': 'LA services: social care',
  '5B': 'LA services: other internal',
  '5C': 'LA services: external',
  '5D': 'LA services: early help',
  '6': 'Police',
  '7': 'Other legal agency',
  '8': 'Other',
  '9': 'Anonymous',
  '10': 'Unknown',
});

export const PRIMARY_NEED = codeList({
  N0: 'Not stated',
  N1: 'Abuse or neglect',
  N2: "Child's disability or illness",
  N3: 'Parental disability or illness',
  N4: 'Family in acute stress',
  N5: 'Family dysfunction',
  N6: 'Socially unacceptable behaviour',
  N7: 'Low income',
  N8: 'Absent parenting',
  N9: 'Cases other than children in need',
});

/** A referral accepted by children's social care (CIN census referral), sent by the LA. May be about an unborn child. */
export const referralReceived = envelope(
  'social-care.referral.received',
  socialCareSource,
  z.strictObject({
    referralDate: isoDate,
    referralSource: REFERRAL_SOURCE,
    primaryNeed: PRIMARY_NEED,
    noFurtherAction: z.boolean(),
    narrative: narrative.optional(),
  }),
);

export const ASSESSMENT_FACTOR = codeList({
  '1A': 'Alcohol misuse: concerns about the child',
  '1B': 'Alcohol misuse: concerns about the parent or carer',
  '1C': 'Alcohol misuse: concerns about another person in the household',
  '2A': 'Drug misuse: concerns about the child',
  '2B': 'Drug misuse: concerns about the parent or carer',
  '2C': 'Drug misuse: concerns about another person in the household',
  '3A': 'Domestic abuse: concerns about the child being the subject',
  '3B': 'Domestic abuse: concerns about the parent or carer',
  '3C': 'Domestic abuse: concerns about another person in the household',
  '4A': 'Mental health: concerns about the child',
  '4B': 'Mental health: concerns about the parent or carer',
  '4C': 'Mental health: concerns about another person in the household',
  '5A': 'Learning disability: concerns about the child',
  '5B': 'Learning disability: concerns about the parent or carer',
  '5C': 'Learning disability: concerns about another person in the household',
  '6A': 'Physical disability or illness: concerns about the child',
  '6B': 'Physical disability or illness: concerns about the parent or carer',
  '6C': 'Physical disability or illness: concerns about another person in the household',
  '7A': 'Young carer',
  '8B': 'Privately fostered: overseas child who intends to return to their family',
  '8C': 'Privately fostered: overseas child who intends to stay',
  '8D': 'Privately fostered: UK child in education or training',
  '8E': 'Privately fostered: UK child arrangement by the family',
  '8F': 'Privately fostered: other',
  '9A': 'Unaccompanied asylum-seeking child',
  '10A': 'Going or being missing',
  '11A': 'Child sexual exploitation',
  '12A': 'Trafficking',
  '13A': 'Gangs',
  '14A': 'Socially unacceptable behaviour',
  '15A': 'Self-harm',
  '16A': 'Neglect',
  '17A': 'Emotional abuse',
  '18B': 'Physical abuse: child on child',
  '18C': 'Physical abuse: adult on child',
  '19B': 'Sexual abuse: child on child',
  '19C': 'Sexual abuse: adult on child',
  '20': 'Other',
  '21': 'No factors identified',
  '22A': 'Female genital mutilation',
  '23A': 'Abuse linked to faith or belief',
  '24A': 'Child criminal exploitation',
});

/** A child and family (section 17) assessment completed and authorised, with the factors identified (CIN census), sent by the LA. May be a pre-birth assessment. */
export const assessmentCompleted = envelope(
  'social-care.assessment.completed',
  socialCareSource,
  z
    .strictObject({
      startDate: isoDate,
      authorisationDate: isoDate,
      factors: z.array(ASSESSMENT_FACTOR).min(1).max(40),
      narrative: narrative.optional(),
    })
    .refine((d) => d.authorisationDate >= d.startDate, {
      path: ['authorisationDate'],
      message: 'authorisation date cannot precede the assessment start',
      params: { rule: 'not-before-startDate' },
    })
    .refine((d) => !d.factors.includes('21') || d.factors.length === 1, {
      path: ['factors'],
      message: 'factor 21 (no factors identified) cannot be combined with other factors',
      params: { rule: 'no-factors-alone' },
    }),
);

export const ABUSE_CATEGORY = codeList({
  NEG: 'Neglect',
  PHY: 'Physical abuse',
  SAB: 'Sexual abuse',
  EMO: 'Emotional abuse',
  MUL: 'Multiple (no longer used for new plans)',
});

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
    /** Decisions carry rationale and a review date. */
    rationale: narrative,
    reviewDate: isoDate,
  }),
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

/** The outcome of a section 47 enquiry; `icpcNotRequired` in the CIN census is `outcome !== 'icpc'`. */
export const section47EnquiryCompleted = envelope(
  'social-care.section-47-enquiry.completed',
  socialCareSource,
  z
    .strictObject({
      startDate: isoDate,
      completedDate: isoDate,
      outcome: SECTION_47_OUTCOME,
      rationale: narrative,
    })
    .refine(...notBefore('completedDate', 'startDate')),
);

/** An initial child protection conference held, sent by the LA (its chair's decision). */
export const initialChildProtectionConferenceHeld = envelope(
  'social-care.initial-child-protection-conference.held',
  socialCareSource,
  z
    .strictObject({
      conferenceDate: isoDate,
      section47StartDate: isoDate.optional(),
      planRequired: z.boolean(),
      /** The category of abuse, when a plan is required. */
      category: ABUSE_CATEGORY.optional(),
      rationale: narrative,
    })
    .refine(...notBefore('conferenceDate', 'section47StartDate'))
    .refine((d) => d.planRequired === (d.category !== undefined), {
      path: ['category'],
      message: 'a category of abuse is given when, and only when, a plan is required',
      params: { rule: 'required-when-plan' },
    }),
);

/** A child protection review conference, sent by the LA; the plan continues or ends. */
export const childProtectionPlanReviewed = envelope(
  'social-care.child-protection-plan.reviewed',
  socialCareSource,
  z
    .strictObject({
      reviewDate: isoDate,
      planStartDate: isoDate,
      latestCategory: ABUSE_CATEGORY,
      planContinues: z.boolean(),
      nextReviewDate: isoDate.optional(),
      rationale: narrative,
    })
    .refine(...notBefore('reviewDate', 'planStartDate'))
    .refine((d) => !d.planContinues || d.nextReviewDate !== undefined, {
      path: ['nextReviewDate'],
      message: 'a continuing plan has a next review date',
      params: { rule: 'required-when-plan-continues' },
    })
    .refine(...notBefore('nextReviewDate', 'reviewDate')),
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
      reason: CP_PLAN_END_REASON,
      rationale: narrative,
    })
    .refine(...notBefore('endDate', 'startDate')),
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
      reason: CIN_PLAN_END_REASON,
      narrative: narrative.optional(),
    })
    .refine(...notBefore('endDate', 'startDate')),
);

/** SSDA903 legal status (LS). */
export const LEGAL_STATUS = codeList({
  C1: 'Interim care order',
  C2: 'Full care order',
  D1: 'Freeing order granted',
  E1: 'Placement order granted',
  V2: 'Single period of accommodation under section 20 (Children Act 1989)',
  V3: 'Accommodated under an agreed series of short-term breaks, when individual episodes of care are recorded',
  V4: 'Accommodated under an agreed series of short-term breaks, when agreements are recorded',
  L1: 'Under police protection and in local authority accommodation',
  L2: 'Emergency protection order (EPO)',
  L3: 'Under a child assessment order and in local authority accommodation',
  J1: 'Remanded to local authority accommodation or to youth detention accommodation',
  J2: 'Placed in local authority accommodation under the Police and Criminal Evidence Act 1984',
  J3: 'Sentenced to a youth rehabilitation order with residence or intensive fostering requirement',
});

/** SSDA903 placement type (PLACE). */
export const PLACEMENT_TYPE = codeList({
  A3: 'Placed for adoption with parental consent, with current foster carer(s)',
  A4: 'Placed for adoption with parental consent, not with current foster carer(s)',
  A5: 'Placed for adoption with a placement order, with current foster carer(s)',
  A6: 'Placed for adoption with a placement order, not with current foster carer(s)',
  H5: 'Semi-independent living accommodation not subject to children’s homes regulations',
  K1: 'Secure children’s home',
  K2: 'Children’s home subject to children’s homes regulations',
  P1: 'Placed with own parent(s) or other person(s) with parental responsibility',
  P2: 'Independent living, e.g. flat, lodgings, bedsit, B&B or with friends',
  P3: 'Residential employment',
  R1: 'Residential care home',
  R2: 'NHS or health trust or other establishment providing medical or nursing care',
  R3: 'Family centre or mother and baby unit',
  R5: 'Young offender institution (YOI)',
  S1: 'Residential school, except where dual-registered as a school and children’s home',
  T0: 'Temporary placement',
  T1: 'Temporary period in hospital',
  T2: 'Temporary absence of the child on holiday',
  T3: 'Temporary accommodation whilst the normal foster carer(s) are on holiday',
  T4: 'Temporary accommodation of seven days or less, for any reason not covered by T1-T3',
  U1: 'Foster placement with relative(s) or friend(s): long-term fostering',
  U2: 'Foster placement with relative(s) or friend(s) who are also approved adopters: fostering for adoption or concurrent planning',
  U3: 'Foster placement with relative(s) or friend(s): not long-term or fostering for adoption',
  U4: 'Foster placement with other foster carer(s): long-term fostering',
  U5: 'Foster placement with other foster carer(s) who are also approved adopters: fostering for adoption or concurrent planning',
  U6: 'Foster placement with other foster carer(s): not long-term or fostering for adoption',
  Z1: 'Other placement',
});

/** SSDA903 placement provider (PLACE_PROVIDER). */
export const PLACEMENT_PROVIDER = codeList({
  PR0: 'Parent(s) or other person(s) with parental responsibility',
  PR1: 'Own provision (by the local authority)',
  PR2: 'Other local authority provision',
  PR3: 'Other public provision (e.g. by an NHS body)',
  PR4: 'Private provision',
  PR5: 'Voluntary or third sector provision',
});

/** SSDA903 category of need (CIN): N1–N8. */
export const LAC_NEED = codeList({
  N1: 'Abuse or neglect',
  N2: "Child's disability",
  N3: 'Parental illness or disability',
  N4: 'Family in acute stress',
  N5: 'Family dysfunction',
  N6: 'Socially unacceptable behaviour',
  N7: 'Low income',
  N8: 'Absent parenting',
});

/** SSDA903 reason for new episode (RNE). */
export const NEW_EPISODE_REASON = codeList({
  S: 'Started to be looked after',
  L: 'Change of legal status only',
  P: 'Change of placement and carer(s) only',
  T: 'Change of both legal status and placement and carer(s) at the same time',
  B: 'Change of placement but same carer(s)',
  U: 'Change of both legal status and placement, but same carer(s)',
});

/** SSDA903 reason for placement change (REASON_PLACE_CHANGE). */
export const PLACEMENT_CHANGE_REASON = codeList({
  CARPL: 'Change to or implementation of the care plan',
  CLOSE: 'Resignation or closure of the provision',
  ALLEG: 'Allegation (section 47 enquiry)',
  STAND: 'Standards of care concern',
  APPRR: 'Approval removed',
  CREQB: 'Carer requests placement end due to the child’s behaviour',
  CREQO: 'Carer requests placement end, other than due to the child’s behaviour',
  CHILD: 'Child requests placement end',
  LAREQ: 'Responsible or area authority requests placement end',
  PLACE: 'Change in the status of the placement only',
  CUSTOD: 'Custody arrangement',
  OTHER: 'Other',
});

/** SSDA903 reason episode ceased (REC). */
export const EPISODE_END_REASON = codeList({
  E11: 'Adopted: application for an adoption order unopposed',
  E12: 'Adopted: consent dispensed with by the court',
  E2: 'Died',
  E3: 'Care taken over by another local authority in the UK',
  E41: 'Residence order or child arrangements order (with whom the child lives) granted',
  E45: 'Special guardianship order made to former foster carer(s) who are relatives or friends',
  E46: 'Special guardianship order made to former foster carer(s) other than relatives or friends',
  E47: 'Special guardianship order made to carer(s), not former foster carers, who are relatives or friends',
  E48: 'Special guardianship order made to carer(s), not former foster carers, other than relatives or friends',
  E4A: 'Returned home to live with parent(s) or person(s) with parental responsibility as part of the care planning process',
  E4B: 'Returned home to live with parent(s) or person(s) with parental responsibility not as part of the care planning process',
  E13: 'Left care to live with parent(s), relative(s) or other person(s) with no parental responsibility',
  E5: 'Moved into independent living with formalised support',
  E6: 'Moved into independent living without formalised support',
  E7: 'Transferred to residential care funded by adult social care',
  E9: 'Sentenced to custody',
  E14: 'Accommodation on remand ended',
  E15: 'Age assessment determined the child is 18 or over',
  E16: 'Child moved abroad',
  E17: 'Aged 18 or over and remained with current carers (including staying put)',
  E8: 'Period of being looked after ceased for any other reason',
  X1: 'Episode ceases and a new episode begins on the same day, for any reason',
});

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
      reasonForNewEpisode: NEW_EPISODE_REASON.exclude(['S']),
      legalStatus: LEGAL_STATUS,
      placement: PLACEMENT_TYPE,
      placementProvider: PLACEMENT_PROVIDER.optional(),
      /** Required when the placement changed (RNE P, T, B, U). */
      reasonPlaceChange: PLACEMENT_CHANGE_REASON.optional(),
      narrative: narrative.optional(),
    })
    .refine((d) => d.reasonForNewEpisode === 'L' || d.reasonPlaceChange !== undefined, {
      path: ['reasonPlaceChange'],
      message: 'a placement change (RNE P, T, B or U) gives its reason',
      params: { rule: 'required-for-placement-change' },
    })
    .refine((d) => d.reasonForNewEpisode !== 'L' || d.reasonPlaceChange === undefined, {
      path: ['reasonPlaceChange'],
      message: 'a change of legal status only (RNE L) has no placement change reason',
      params: { rule: 'only-for-placement-change' },
    }),
);

/**
 * A period of care ended (the last SSDA903 episode closed with a reason other than X1), sent
 * by the LA. Adoption (E11, E12), special guardianship (E45-E48), return home (E4A, E4B) …
 */
export const lookedAfterEpisodeEnded = envelope(
  'social-care.looked-after-episode.ended',
  socialCareSource,
  z
    .strictObject({
      /** Start of the period of care. */
      startDate: isoDate,
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
);

/** SSDA903 review participation (REVIEW_CODE). */
export const REVIEW_PARTICIPATION = codeList({
  PN0: 'Child aged under 4 at the time of the review',
  PN1: 'Child physically attends and speaks for themselves',
  PN2: 'Child physically attends and an advocate speaks on their behalf',
  PN3: 'Child attends and conveys their view symbolically (non-verbally)',
  PN4: 'Child physically attends but does not speak, convey a view symbolically or ask an advocate to',
  PN5: 'Child does not attend physically but briefs an advocate to speak for them',
  PN6: 'Child does not attend but conveys their feelings through a facilitative medium',
  PN7: 'Child does not attend, nor are their views conveyed to the review',
});

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

export const MISSING_KIND = codeList({
  M: 'Missing: whereabouts unknown',
  A: 'Away from placement without authorisation: whereabouts known',
});

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
export const CLOSURE_REASON = codeList({
  RC1: 'Adopted',
  RC2: 'Died',
  RC3: 'Child arrangements order',
  RC4: 'Special guardianship order',
  RC5: 'Transferred to services of another local authority',
  RC6: 'Transferred to adult social care services',
  RC7: 'Services ceased for any other reason, including child no longer in need',
  RC8: 'Case closed after assessment, no further action',
  RC9: 'Case closed after assessment, referred to early help',
});

/** A child in need episode closed (CIN census closure date and reason), sent by the LA. */
export const caseClosed = envelope(
  'social-care.case.closed',
  socialCareSource,
  z
    .strictObject({
      referralDate: isoDate,
      closureDate: isoDate,
      reason: CLOSURE_REASON,
      narrative: narrative.optional(),
    })
    .refine(...notBefore('closureDate', 'referralDate')),
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

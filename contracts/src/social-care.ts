import { z } from 'zod';
import { codeList, envelope, isoDate, narrative, source } from './common';

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

export const socialCareEvents = [referralReceived, assessmentCompleted, childProtectionPlanStarted] as const;

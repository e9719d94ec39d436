import { z } from 'zod';
import { codeList, envelope, isoDate, narrative, shortText, source } from './common';

/** Health events: child health information services, health visiting, acute care. */

const healthSource = source('health');

export const HEALTH_VISITOR_REVIEW = codeList({
  'new-birth': 'New birth visit (10-14 days)',
  '6-8-week': '6-8 week review',
  '1-year': '1 year review',
  '2-2.5-year': '2-2½ year review',
});

/** ASQ-3 domain scores, 0-60 in steps of 5. */
const asqScore = z.number().int().min(0).max(60).multipleOf(5);
export const asq3Scores = z.strictObject({
  communication: asqScore,
  grossMotor: asqScore,
  fineMotor: asqScore,
  problemSolving: asqScore,
  personalSocial: asqScore,
});

export const healthVisitorReviewCompleted = envelope(
  'health.health-visitor-review.completed',
  healthSource,
  z
    .strictObject({
      review: HEALTH_VISITOR_REVIEW,
      reviewDate: isoDate,
      asq3: asq3Scores.optional(),
      concernsIdentified: z.boolean(),
      notes: narrative.optional(),
    })
    .refine((d) => d.review === '2-2.5-year' || d.asq3 === undefined, {
      path: ['asq3'],
      message: 'ASQ-3 scores belong to the 2-2½ year review',
      params: { rule: 'asq3-only-at-2-year-review' },
    }),
);

export const VACCINE = codeList({
  '6-in-1': 'DTaP/IPV/Hib/HepB (6-in-1)',
  MenB: 'Meningococcal group B',
  rotavirus: 'Rotavirus',
  PCV: 'Pneumococcal conjugate',
  'Hib-MenC': 'Hib/MenC',
  MMR: 'Measles, mumps and rubella',
  MMRV: 'Measles, mumps, rubella and varicella',
  '4-in-1-preschool': 'DTaP/IPV pre-school booster',
  'flu-LAIV': 'Influenza (nasal)',
  HPV: 'Human papillomavirus',
  '3-in-1-teenage': 'Td/IPV teenage booster',
  MenACWY: 'Meningococcal ACWY',
});

export const immunisationGiven = envelope(
  'health.immunisation.given',
  healthSource,
  z.strictObject({
    vaccine: VACCINE,
    dose: z.number().int().min(1).max(5),
    givenDate: isoDate,
    batchNumber: z.string().trim().min(1).max(40).optional(),
  }),
);

export const EMERGENCY_CARE_DISCHARGE = codeList({
  home: 'Discharged home',
  admitted: 'Admitted to hospital',
  transferred: 'Transferred to another provider',
  'left-before-treatment': 'Left before treatment completed',
});

export const emergencyCareAttended = envelope(
  'health.emergency-care.attended',
  healthSource,
  z.strictObject({
    arrivedAt: z.iso.datetime({ offset: true }),
    chiefComplaint: shortText,
    injury: z.boolean(),
    discharge: EMERGENCY_CARE_DISCHARGE,
    /** CP-IS: the attendance looked the child up and found a protection plan or looked-after status. */
    cpisFlagSeen: z.boolean().default(false),
    safeguardingConcern: z.boolean(),
    notes: narrative.optional(),
  }),
);

export const SAFEGUARDING_CONCERN_CATEGORY = codeList({
  neglect: 'Neglect',
  physical: 'Physical abuse',
  sexual: 'Sexual abuse',
  emotional: 'Emotional abuse',
  'domestic-abuse': 'Domestic abuse in the household',
  other: 'Other',
});

export const safeguardingConcernRaised = envelope(
  'health.safeguarding-concern.raised',
  healthSource,
  z.strictObject({
    category: SAFEGUARDING_CONCERN_CATEGORY,
    raisedBy: shortText,
    referredToLocalAuthority: z.boolean(),
    narrative,
  }),
);

export const healthEvents = [
  healthVisitorReviewCompleted,
  immunisationGiven,
  emergencyCareAttended,
  safeguardingConcernRaised,
] as const;

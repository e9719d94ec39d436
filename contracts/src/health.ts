import { z } from 'zod';
import mhsdsPriority from '../code-lists/mhsds-clinical-response-priority-type.json';
import mhsdsPrimaryReason from '../code-lists/mhsds-primary-reason-for-referral.json';
import mhsdsSourceOfReferral from '../code-lists/mhsds-source-of-referral.json';
import admissionMethod from '../code-lists/nhs-admission-method.json';
import dischargeDestination from '../code-lists/nhs-discharge-destination.json';
import dischargeMethod from '../code-lists/nhs-discharge-method.json';
import {
  codeList,
  envelope,
  isoDate,
  isoDateTime,
  narrative,
  nhsNumber,
  notBefore,
  shortText,
  source,
} from './common';

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

/** A mandated health visiting review (new birth, 6-8 week, 1 year, 2-2½ year with ASQ-3), sent by the health visiting service's child health system. */
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

/** A routine childhood immunisation given, sent by the child health information service (from GP or school-aged immunisation records). */
export const immunisationGiven = envelope(
  'health.immunisation.given',
  healthSource,
  z.strictObject({
    vaccine: VACCINE,
    /** Required unless imported: a health record (FHIR Immunization) need not give the dose number. */
    dose: z.number().int().min(1).max(5).optional(),
    givenDate: isoDate,
    batchNumber: z.string().trim().min(1).max(40).optional(),
    /** What the practitioner or professional would add, in their words. */
    narrative: narrative.optional(),
  }),
  1,
  { importOptional: ['dose'] },
);

export const EMERGENCY_CARE_DISCHARGE = codeList({
  home: 'Discharged home',
  admitted: 'Admitted to hospital',
  transferred: 'Transferred to another provider',
  'left-before-treatment': 'Left before treatment completed',
});

/** An emergency department attendance (ECDS), sent by the acute trust; says whether CP-IS flagged the child. */
export const emergencyCareAttended = envelope(
  'health.emergency-care.attended',
  healthSource,
  z.strictObject({
    arrivedAt: z.iso.datetime({ offset: true }),
    /** Required unless imported (so are injury, discharge, safeguardingConcern): a FHIR Encounter holds none of them as such. */
    chiefComplaint: shortText.optional(),
    injury: z.boolean().optional(),
    discharge: EMERGENCY_CARE_DISCHARGE.optional(),
    /** CP-IS: the attendance looked the child up and found a protection plan or looked-after status. */
    cpisFlagSeen: z.boolean().default(false),
    safeguardingConcern: z.boolean().optional(),
    notes: narrative.optional(),
  }),
  1,
  { importOptional: ['chiefComplaint', 'injury', 'discharge', 'safeguardingConcern'] },
);

export const SAFEGUARDING_CONCERN_CATEGORY = codeList({
  neglect: 'Neglect',
  physical: 'Physical abuse',
  sexual: 'Sexual abuse',
  emotional: 'Emotional abuse',
  'domestic-abuse': 'Domestic abuse in the household',
  other: 'Other',
});

/** A safeguarding concern raised by a health practitioner (and whether referred to the LA); may concern an unborn child. */
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

export const DELIVERY_PLACE = codeList({
  'hospital-obstetric-unit': 'NHS hospital: obstetric unit',
  'hospital-midwife-unit': 'NHS hospital: midwife-led unit',
  'freestanding-midwife-unit': 'Freestanding midwife-led birth centre',
  home: 'At home (domestic address)',
  'private-hospital': 'Private hospital',
  'in-transit': 'In transit or other place',
  'not-known': 'Not known',
});

/**
 * The birth notification: a maternity service notifies the child health information service
 * of a live birth within 36 hours. Sent by the maternity unit (or the midwife for a home
 * birth). It is the event that turns an unborn subject (`expectedDateOfBirth`) into a born
 * one: `subject.dateOfBirth` is required and must equal `data.birthDate`.
 */
export const birthNotified = envelope(
  'health.birth.notified',
  healthSource,
  z.strictObject({
    birthDate: isoDate,
    birthTime: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'birth time as HH:MM (24 hour clock)' })
      .optional(),
    /** Completed weeks of gestation. */
    gestationWeeks: z.number().int().min(20).max(45),
    birthWeightGrams: z.number().int().min(200).max(7000),
    deliveryPlace: DELIVERY_PLACE,
    /** 1 for a singleton; for twins and more, the order of birth. */
    birthOrder: z.number().int().min(1).max(8).default(1),
    /** The mother's NHS number, as maternity records hold it (links the baby to an unborn record). */
    motherNhsNumber: nhsNumber.optional(),
    /** The expected date of birth the pregnancy had, to find the unborn child's records. */
    expectedDateOfBirth: isoDate.optional(),
    /** What the practitioner or professional would add, in their words. */
    narrative: narrative.optional(),
  }),
).superRefine((event, ctx) => {
  if (event.subject.dateOfBirth !== event.data.birthDate) {
    ctx.addIssue({
      code: 'custom',
      path: ['subject', 'dateOfBirth'],
      message: 'a birth notification states the child as born: subject.dateOfBirth must equal data.birthDate',
      params: { rule: 'equals-birthDate' },
    });
  }
});

export const HEARING_EAR_RESULT = codeList({
  CR: 'Clear response',
  NCR: 'No clear response',
});

export const HEARING_SCREEN_OUTCOME = codeList({
  'no-follow-up': 'Clear response in both ears: no follow-up required',
  'targeted-follow-up': 'Clear response in both ears with a risk factor: targeted follow-up at 7-9 months',
  'referred-to-audiology': 'No clear response in one or both ears: referred to audiology',
  declined: 'Screen declined by the parent',
  incomplete: 'Screen incomplete (not possible to complete, or did not attend)',
});

/** Newborn hearing screening (NHSP) outcome, sent by the newborn hearing screening service. */
export const newbornHearingScreeningCompleted = envelope(
  'health.newborn-hearing-screening.completed',
  healthSource,
  z
    .strictObject({
      screeningDate: isoDate,
      /** AOAE (automated otoacoustic emission) and/or AABR (automated auditory brainstem response). */
      method: z.enum(['AOAE', 'AABR', 'AOAE+AABR']).optional(),
      leftEar: HEARING_EAR_RESULT.optional(),
      rightEar: HEARING_EAR_RESULT.optional(),
      outcome: HEARING_SCREEN_OUTCOME,
      /** What the practitioner or professional would add, in their words. */
      narrative: narrative.optional(),
    })
    .refine(
      (d) =>
        d.outcome === 'declined' ||
        d.outcome === 'incomplete' ||
        (d.leftEar !== undefined && d.rightEar !== undefined),
      {
        path: ['leftEar'],
        message: 'a completed screen gives the result of both ears',
        params: { rule: 'required-unless-declined-or-incomplete' },
      },
    )
    .refine(
      (d) =>
        (d.outcome !== 'no-follow-up' && d.outcome !== 'targeted-follow-up') ||
        (d.leftEar === 'CR' && d.rightEar === 'CR'),
      {
        path: ['outcome'],
        message: 'no follow-up (or targeted follow-up) needs a clear response in both ears',
        params: { rule: 'clear-response-both-ears' },
      },
    ),
);

/** The nine conditions screened by the newborn blood spot (heel prick) test in England. */
export const BLOOD_SPOT_CONDITION = codeList({
  SCD: 'Sickle cell disease',
  CF: 'Cystic fibrosis',
  CHT: 'Congenital hypothyroidism',
  PKU: 'Phenylketonuria',
  MCADD: 'Medium-chain acyl-CoA dehydrogenase deficiency',
  MSUD: 'Maple syrup urine disease',
  IVA: 'Isovaleric acidaemia',
  GA1: 'Glutaric aciduria type 1',
  HCU: 'Homocystinuria (pyridoxine unresponsive)',
});

/** The result categories of the blood spot status codes (the laboratory's per-condition result). */
export const BLOOD_SPOT_RESULT = codeList({
  'not-suspected': 'Condition not suspected',
  carrier: 'Condition not suspected: carrier identified',
  suspected: 'Condition suspected: referred for diagnosis',
  'repeat-required': 'Repeat sample required (insufficient, unsuitable or borderline)',
  declined: 'Screening declined',
  'not-screened': 'Not screened (e.g. too old, or screened elsewhere)',
});

/**
 * Newborn blood spot screening result, sent by the newborn screening laboratory (via the
 * child health information service). Carries the `genetic` special category: the test
 * screens for inherited conditions and identifies carriers.
 */
export const newbornBloodSpotScreened = envelope(
  'health.newborn-blood-spot.screened',
  healthSource,
  z
    .strictObject({
      sampleDate: isoDate,
      results: z
        .array(z.strictObject({ condition: BLOOD_SPOT_CONDITION, result: BLOOD_SPOT_RESULT }))
        .min(1)
        .max(9),
      /** What the practitioner or professional would add, in their words. */
      narrative: narrative.optional(),
    })
    .refine((d) => new Set(d.results.map((r) => r.condition)).size === d.results.length, {
      path: ['results'],
      message: 'each condition has one result',
      params: { rule: 'unique-condition' },
    }),
  1,
  { specialCategories: ['genetic'] },
);

export const NIPE_EXAMINATION = codeList({
  newborn: 'Newborn examination (within 72 hours of birth)',
  '6-8-week': 'Infant examination at 6-8 weeks',
});

export const NIPE_FINDING = codeList({
  'no-abnormality': 'No abnormality detected',
  'suspected-referred': 'Abnormality suspected: referred',
  'known-condition': 'Known condition, already under care',
  declined: 'Examination declined by the parent',
  'not-examined': 'Not examined',
});

/**
 * NIPE: the newborn and infant physical examination of eyes, heart, hips and (boys) testes,
 * sent by the maternity unit or GP practice that examined the baby.
 */
export const nipeCompleted = envelope(
  'health.nipe.completed',
  healthSource,
  z.strictObject({
    examination: NIPE_EXAMINATION,
    examinationDate: isoDate,
    eyes: NIPE_FINDING,
    heart: NIPE_FINDING,
    hips: NIPE_FINDING,
    /** Only for boys. */
    testes: NIPE_FINDING.optional(),
    /** Breech presentation or a family history of hip problems: hip ultrasound regardless of findings. */
    hipRiskFactor: z.boolean().optional(),
    examinerRole: shortText.optional(),
    /** What the practitioner or professional would add, in their words. */
    narrative: narrative.optional(),
  }),
);

/** NHS Data Dictionary admission method codes. */
export const ADMISSION_METHOD = codeList(admissionMethod);

/** Admission to hospital (start of a hospital provider spell), sent by the acute trust's PAS. */
export const hospitalAdmitted = envelope(
  'health.hospital.admitted',
  healthSource,
  z.strictObject({
    admittedAt: isoDateTime,
    /** The hospital provider spell number, to pair the admission with its discharge. */
    spellId: z.string().trim().min(1).max(40).optional(),
    /** Required unless imported (so is specialty): a FHIR Encounter may leave out the UK Core admission method. */
    admissionMethod: ADMISSION_METHOD.optional(),
    /** Treatment function or ward, e.g. "paediatrics". */
    specialty: shortText.optional(),
    reason: shortText.optional(),
    safeguardingConcern: z.boolean().optional(),
    notes: narrative.optional(),
  }),
  1,
  { importOptional: ['admissionMethod', 'specialty'] },
);

/** NHS Data Dictionary discharge method codes. */
export const DISCHARGE_METHOD = codeList(dischargeMethod);

/** NHS Data Dictionary discharge destination codes: the current list; 38, 54, 65 and 85 valid to 2021-09-30. */
export const DISCHARGE_DESTINATION = codeList(dischargeDestination);

/** Discharge from hospital (end of the provider spell), sent by the acute trust's PAS. */
export const hospitalDischarged = envelope(
  'health.hospital.discharged',
  healthSource,
  z
    .strictObject({
      admittedAt: isoDateTime,
      dischargedAt: isoDateTime,
      spellId: z.string().trim().min(1).max(40).optional(),
      /** Required unless imported (so is dischargeDestination): a FHIR Encounter may leave them out. */
      dischargeMethod: DISCHARGE_METHOD.optional(),
      dischargeDestination: DISCHARGE_DESTINATION.optional(),
      safeguardingConcern: z.boolean().optional(),
      notes: narrative.optional(),
    })
    .refine((d) => Date.parse(d.dischargedAt) >= Date.parse(d.admittedAt), {
      path: ['dischargedAt'],
      message: 'dischargedAt cannot precede admittedAt',
      params: { rule: 'not-before-admittedAt' },
    })
    .refine(
      (d) =>
        d.dischargeMethod === undefined ||
        d.dischargeDestination === undefined ||
        (d.dischargeMethod === '4' || d.dischargeMethod === '5') === (d.dischargeDestination === '79'),
      {
        path: ['dischargeDestination'],
        message:
          'destination 79 (not applicable: died) goes with discharge method 4 or 5, and only with them',
        params: { rule: 'died-destination' },
      },
    ),
  1,
  { importOptional: ['dischargeMethod', 'dischargeDestination'] },
);

/** MHSDS source of referral codes, as valid in MHSDS (no Talking Therapies codes). */
export const CAMHS_REFERRAL_SOURCE = codeList(mhsdsSourceOfReferral);

/** MHSDS primary reason for referral codes (01-31, no 17). */
export const CAMHS_REFERRAL_REASON = codeList(mhsdsPrimaryReason);

/** Referral urgency: the clinical response priority type, 1 emergency to 4 very urgent (slugs withdrawn). */
export const CAMHS_URGENCY = codeList(mhsdsPriority);

/**
 * A referral received by children and young people's mental health services (CAMHS), sent by
 * the mental health trust. Always carries the `mental-health` special category.
 */
export const camhsReferred = envelope(
  'health.camhs.referred',
  healthSource,
  z.strictObject({
    referralDate: isoDate,
    referralId: z.string().trim().min(1).max(40).optional(),
    referralSource: CAMHS_REFERRAL_SOURCE,
    primaryReason: CAMHS_REFERRAL_REASON,
    urgency: CAMHS_URGENCY,
    narrative: narrative.optional(),
  }),
  1,
  { specialCategories: ['mental-health'] },
);

export const CAMHS_DISCHARGE_REASON = codeList({
  'referral-not-accepted': 'Referral not accepted (signposted elsewhere)',
  'treatment-completed': 'Treatment completed',
  'no-further-treatment-appropriate': 'No further treatment appropriate',
  'transferred-to-adult-services': 'Transferred to adult mental health services',
  'transferred-to-other-provider': 'Transferred to another provider',
  'did-not-attend': 'Did not attend or could not be contacted',
  'declined-treatment': 'Declined treatment',
  'moved-away': 'Moved out of the area',
  other: 'Other',
});

/** Discharge from CAMHS (the referral closed), sent by the mental health trust; `mental-health` category. */
export const camhsDischarged = envelope(
  'health.camhs.discharged',
  healthSource,
  z
    .strictObject({
      referralDate: isoDate,
      dischargeDate: isoDate,
      referralId: z.string().trim().min(1).max(40).optional(),
      reason: CAMHS_DISCHARGE_REASON,
      narrative: narrative.optional(),
    })
    .refine(...notBefore('dischargeDate', 'referralDate')),
  1,
  { specialCategories: ['mental-health'] },
);

export const healthEvents = [
  healthVisitorReviewCompleted,
  immunisationGiven,
  emergencyCareAttended,
  safeguardingConcernRaised,
  birthNotified,
  newbornHearingScreeningCompleted,
  newbornBloodSpotScreened,
  nipeCompleted,
  hospitalAdmitted,
  hospitalDischarged,
  camhsReferred,
  camhsDischarged,
] as const;

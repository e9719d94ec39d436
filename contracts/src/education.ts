import { z } from 'zod';
import exclusionCategory from '../code-lists/school-census-exclusion-category.json';
import exclusionReason from '../code-lists/school-census-exclusion-reason.json';
import ncYearGroup from '../code-lists/school-census-nc-year-group.json';
import senProvision from '../code-lists/school-census-sen-provision.json';
import schoolCensusSenType from '../code-lists/school-census-sen-type.json';
import ehcCeaseReason from '../code-lists/sen2-ehc-cease-reason.json';
import sen2SenType from '../code-lists/sen2-sen-type.json';
import ks2WritingTa from '../code-lists/sta-ks2-writing-ta.json';
import { codeList, envelope, isoDate, narrative, notBefore, schoolUrn, source } from './common';

/** Education events: school census and exclusions data as a school MIS or LA holds it. */

const educationSource = source('education');

export const SEN_PROVISION = codeList(senProvision);

export const NC_YEAR_GROUP = codeList(ncYearGroup);

/** A pupil joined a school's roll (school census on-roll record), sent by the school MIS. */
export const enrolmentRecorded = envelope(
  'education.enrolment.recorded',
  educationSource,
  z.strictObject({
    schoolUrn,
    entryDate: isoDate,
    /** National curriculum year group (E1, E2, N1, N2, R, 1-14, M, X: the school census list). */
    yearGroup: NC_YEAR_GROUP,
    senProvision: SEN_PROVISION,
    /** What the practitioner or professional would add, in their words. */
    narrative: narrative.optional(),
  }),
);

export const TERM = codeList({ autumn: 'Autumn term', spring: 'Spring term', summer: 'Summer term' });

const academicYear = z.string().regex(/^\d{4}\/\d{2}$/, { message: 'academic year as 2024/25' });
const sessions = z.number().int().min(0).max(200);

function consecutiveAcademicYear(d: { academicYear: string }): boolean {
  return Number(d.academicYear.slice(5)) === (Number(d.academicYear.slice(0, 4)) + 1) % 100;
}

const CONSECUTIVE_ACADEMIC_YEAR = {
  path: ['academicYear'],
  message: 'academic year must span consecutive years, e.g. 2024/25',
  params: { rule: 'consecutive-academic-year' },
};

/** A termly attendance summary (school census sessions), sent by the school MIS. Version 1: absences only; attended sessions are what is left of the possible sessions. */
export const attendanceSummarisedV1 = envelope(
  'education.attendance.summarised',
  educationSource,
  z
    .strictObject({
      schoolUrn,
      academicYear,
      term: TERM,
      sessionsPossible: sessions,
      authorisedAbsence: sessions,
      unauthorisedAbsence: sessions,
      /** What the practitioner or professional would add, in their words. */
      narrative: narrative.optional(),
    })
    .refine((d) => d.authorisedAbsence + d.unauthorisedAbsence <= d.sessionsPossible, {
      path: ['unauthorisedAbsence'],
      message: 'authorised + unauthorised absence cannot exceed sessions possible',
      params: { rule: 'absence-within-sessions-possible' },
    })
    .refine(consecutiveAcademicYear, CONSECUTIVE_ACADEMIC_YEAR),
  1,
);

/**
 * Version 2: the school states the sessions attended (present or in approved educational
 * activity) as its register records them, and the three counts must add up to the possible
 * sessions. A version 1 summary is read as version 2 by `upcast` (attended = possible − absences).
 */
export const attendanceSummarisedV2 = envelope(
  'education.attendance.summarised',
  educationSource,
  z
    .strictObject({
      schoolUrn,
      academicYear,
      term: TERM,
      sessionsPossible: sessions,
      sessionsAttended: sessions,
      authorisedAbsence: sessions,
      unauthorisedAbsence: sessions,
      /** What the practitioner or professional would add, in their words. */
      narrative: narrative.optional(),
    })
    .refine((d) => d.sessionsAttended + d.authorisedAbsence + d.unauthorisedAbsence === d.sessionsPossible, {
      path: ['sessionsPossible'],
      message: 'sessions attended + authorised absence + unauthorised absence must equal sessions possible',
      params: { rule: 'sessions-add-up' },
    })
    .refine(consecutiveAcademicYear, CONSECUTIVE_ACADEMIC_YEAR),
  2,
);

/** Every accepted version of the attendance summary, told apart by `schemaVersion`. */
export const attendanceSummarised = z.discriminatedUnion('schemaVersion', [
  attendanceSummarisedV1,
  attendanceSummarisedV2,
]);

export const EXCLUSION_CATEGORY = codeList(exclusionCategory);

export const EXCLUSION_REASON = codeList(exclusionReason);

export const GOVERNORS_DECISION = codeList({
  upheld: "Governing board upheld the head teacher's decision",
  reinstated: 'Governing board directed reinstatement',
  'not-reviewed': 'Not reviewed by the governing board',
});

export const INDEPENDENT_REVIEW_OUTCOME = codeList({
  upheld: 'Independent review panel upheld the decision',
  'recommend-reconsider': 'Panel recommended the governing board reconsider',
  'quashed-reconsider': 'Panel quashed the decision and directed the governing board to reconsider',
});

/** A suspension, lunchtime suspension or permanent exclusion (school census exclusions: category PERM/SUSP/LNCH, up to three reasons), sent by the school MIS. */
export const exclusionRecorded = envelope(
  'education.exclusion.recorded',
  educationSource,
  z
    .strictObject({
      schoolUrn,
      category: EXCLUSION_CATEGORY,
      startDate: isoDate,
      /** Sessions (half days); a permanent exclusion has none. */
      sessions: z.number().int().min(1).max(90).optional(),
      reasons: z.array(EXCLUSION_REASON).min(1).max(3),
      narrative: narrative.optional(),
      /** Permanent exclusions and long suspensions are considered by the governing board. */
      governorsDecision: GOVERNORS_DECISION.optional(),
      /** A permanent exclusion may go to an independent review panel. */
      independentReview: INDEPENDENT_REVIEW_OUTCOME.optional(),
    })
    .refine((d) => d.category === 'PERM' || d.sessions !== undefined, {
      path: ['sessions'],
      message: 'a suspension states its number of sessions',
      params: { rule: 'required-for-suspension' },
    })
    .refine((d) => d.category === 'PERM' || d.independentReview === undefined, {
      path: ['independentReview'],
      message: 'only a permanent exclusion goes to an independent review panel',
      params: { rule: 'only-for-permanent-exclusion' },
    }),
);

/** Grounds for deleting a pupil from the admission register (School Attendance (Pupil Registration) Regulations). */
export const LEAVING_REASON = codeList({
  'transferred-school': 'Registered at another school',
  'elective-home-education': 'Parent elected to educate the child at home',
  'moved-away': 'Moved to live too far from the school to attend',
  'end-of-education': 'Completed the final year of the school, or ceased to be of compulsory school age',
  'permanently-excluded': 'Permanently excluded',
  'medically-unfit': 'Certified as medically unfit to attend before leaving school age',
  'custodial-sentence': 'In custody for four months or more, not expected to return',
  'not-returned-from-leave': 'Did not return after leave of absence and enquiries made',
  'continuous-absence': 'Continuous unauthorised absence of 20 school days and enquiries made',
  'left-england': 'Moved outside England',
  died: 'Died',
  other: 'Other ground',
});

/**
 * A pupil left a school's roll (deleted from the admission register), sent by the school MIS.
 * `destinationUnknown` marks a possible child missing education: the LA must be told.
 */
export const leavingRecorded = envelope(
  'education.leaving.recorded',
  educationSource,
  z
    .strictObject({
      schoolUrn,
      leavingDate: isoDate,
      reason: LEAVING_REASON,
      destinationUrn: schoolUrn.optional(),
      destinationUnknown: z.boolean(),
      narrative: narrative.optional(),
    })
    .refine((d) => !(d.destinationUnknown && d.destinationUrn !== undefined), {
      path: ['destinationUrn'],
      message: 'a destination school cannot be given when the destination is unknown',
      params: { rule: 'exclusive-with-destinationUnknown' },
    })
    .refine((d) => d.destinationUrn !== d.schoolUrn, {
      path: ['destinationUrn'],
      message: 'the destination school must differ from the school left',
      params: { rule: 'differs-from-schoolUrn' },
    }),
);

/** SEN type of need, school census (with NSA; SEN2 uses `SEN2_NEED`). */
export const SEN_NEED = codeList(schoolCensusSenType);

const rankedNeeds = z
  .array(z.strictObject({ need: SEN_NEED, rank: z.number().int().min(1).max(13) }))
  .min(1)
  .max(13)
  .refine(
    (needs) =>
      needs.every((item, index) => needs.some((n) => n.rank === index + 1)) &&
      new Set(needs.map((n) => n.rank)).size === needs.length,
    {
      message: 'ranks must be 1, 2, 3 … without gaps or repeats (1 is the primary need)',
      params: { rule: 'ranks-from-1' },
    },
  )
  .refine((needs) => new Set(needs.map((n) => n.need)).size === needs.length, {
    message: 'each type of need appears once',
    params: { rule: 'unique-need' },
  });

/**
 * A change of a pupil's SEN provision (N none, K SEN support, E EHC plan) as the school
 * census will report it, sent by the school MIS.
 */
export const senProvisionChanged = envelope(
  'education.sen-provision.changed',
  educationSource,
  z
    .strictObject({
      schoolUrn,
      effectiveDate: isoDate,
      previousProvision: SEN_PROVISION,
      provision: SEN_PROVISION,
      /** The types of need behind SEN support or a plan, ranked (census: primary and secondary). */
      needs: rankedNeeds.optional(),
      /** What the practitioner or professional would add, in their words. */
      narrative: narrative.optional(),
    })
    .refine((d) => d.provision !== d.previousProvision, {
      path: ['provision'],
      message: 'the provision must change',
      params: { rule: 'differs-from-previousProvision' },
    })
    .refine((d) => d.provision !== 'N' || d.needs === undefined, {
      path: ['needs'],
      message: 'no types of need with provision N (no special educational need)',
      params: { rule: 'no-needs-without-sen' },
    }),
);

export const EHC_REQUEST_SOURCE = codeList({
  parent: 'Parent',
  'young-person': 'Young person (16-25)',
  'school-or-college': 'School, college or early years setting',
  health: 'Health service',
  'social-care': 'Social care',
  other: 'Other',
});

/** A request for an EHC needs assessment received by the LA SEN service (SEN2), sent by the LA. */
export const ehcNeedsAssessmentRequested = envelope(
  'education.ehc-needs-assessment.requested',
  educationSource,
  z.strictObject({
    requestDate: isoDate,
    requestSource: EHC_REQUEST_SOURCE,
    /** Statutory decision whether to assess: six weeks from the request. */
    decisionDueDate: isoDate.optional(),
    narrative: narrative.optional(),
  }),
);

/** SEN2 type of need: the school census list without NSA. */
export const SEN2_NEED = codeList(sen2SenType);

/**
 * SEN2 ranks one or two types of need (SENtypeRank 1 primary, 2 secondary), with no NSA. The
 * released contract allowed ranks to 13: the JSON Schema keeps that bound and these rules
 * refuse more than two (`sen2-rank`).
 */
const sen2RankedNeeds = z
  .array(z.strictObject({ need: SEN2_NEED, rank: z.number().int().min(1).max(13) }))
  .min(1)
  .max(13)
  .refine((needs) => needs.length <= 2 && needs.every((n) => n.rank <= 2), {
    message: 'SEN2 ranks one or two types of need: rank 1 (primary) and, optionally, rank 2 (secondary)',
    params: { rule: 'sen2-rank' },
  })
  .refine(
    (needs) =>
      needs.every((item, index) => needs.some((n) => n.rank === index + 1)) &&
      new Set(needs.map((n) => n.rank)).size === needs.length,
    {
      message: 'ranks must be 1, 2, 3 … without gaps or repeats (1 is the primary need)',
      params: { rule: 'ranks-from-1' },
    },
  )
  .refine((needs) => new Set(needs.map((n) => n.need)).size === needs.length, {
    message: 'each type of need appears once',
    params: { rule: 'unique-need' },
  });

/** A final EHC plan issued by the LA SEN service (SEN2 named plan), with its ranked types of need. */
export const ehcPlanIssued = envelope(
  'education.ehc-plan.issued',
  educationSource,
  z
    .strictObject({
      requestDate: isoDate.optional(),
      issueDate: isoDate,
      needs: sen2RankedNeeds,
      /** The school or setting named in the plan, when it is a school with a URN. */
      namedSchoolUrn: schoolUrn.optional(),
      /** Issued within 20 weeks of the request (excluding the statutory exceptions). */
      withinTwentyWeeks: z.boolean().optional(),
      reviewDate: isoDate.optional(),
      /** What the practitioner or professional would add, in their words. */
      narrative: narrative.optional(),
    })
    .refine(...notBefore('issueDate', 'requestDate')),
);

/** SEN2 reasons for an EHC plan ceasing: codes 1-9 (the project's old slugs are withdrawn). */
export const EHC_CEASE_REASON = codeList(ehcCeaseReason);

/** An EHC plan ceased to be maintained, sent by the LA SEN service (SEN2). */
export const ehcPlanCeased = envelope(
  'education.ehc-plan.ceased',
  educationSource,
  z.strictObject({
    ceaseDate: isoDate,
    reason: EHC_CEASE_REASON,
    narrative: narrative.optional(),
  }),
);

export const EYFS_LEVEL = codeList({
  expected: 'Expected level of development',
  emerging: 'Emerging: not yet at the expected level',
  'not-assessed': 'Not assessed (long absence or recent arrival)',
});

/** The 17 early learning goals of the EYFS profile (2021 framework), by area of learning. */
export const EARLY_LEARNING_GOAL = codeList({
  'listening-attention-understanding': 'Communication and language: listening, attention and understanding',
  speaking: 'Communication and language: speaking',
  'self-regulation': 'Personal, social and emotional development: self-regulation',
  'managing-self': 'Personal, social and emotional development: managing self',
  'building-relationships': 'Personal, social and emotional development: building relationships',
  'gross-motor': 'Physical development: gross motor skills',
  'fine-motor': 'Physical development: fine motor skills',
  comprehension: 'Literacy: comprehension',
  'word-reading': 'Literacy: word reading',
  writing: 'Literacy: writing',
  number: 'Mathematics: number',
  'numerical-patterns': 'Mathematics: numerical patterns',
  'past-and-present': 'Understanding the world: past and present',
  'people-culture-communities': 'Understanding the world: people, culture and communities',
  'natural-world': 'Understanding the world: the natural world',
  'creating-with-materials': 'Expressive arts and design: creating with materials',
  'being-imaginative': 'Expressive arts and design: being imaginative and expressive',
});

/** Goals of the prime areas plus literacy and mathematics: all at expected = a good level of development. */
export const GLD_GOALS = [
  'listening-attention-understanding',
  'speaking',
  'self-regulation',
  'managing-self',
  'building-relationships',
  'gross-motor',
  'fine-motor',
  'comprehension',
  'word-reading',
  'writing',
  'number',
  'numerical-patterns',
] as const satisfies readonly z.infer<typeof EARLY_LEARNING_GOAL>[];

/**
 * The early years foundation stage profile at the end of reception: each early learning goal
 * at expected or emerging. Sent by the school (reported to the LA). Evidence of development,
 * not a score of the child.
 */
export const eyfsProfileAssessed = envelope(
  'education.eyfs-profile.assessed',
  educationSource,
  z
    .strictObject({
      schoolUrn,
      academicYear,
      assessmentDate: isoDate,
      goals: z.strictObject(
        Object.fromEntries(EARLY_LEARNING_GOAL.options.map((goal) => [goal, EYFS_LEVEL])) as Record<
          z.infer<typeof EARLY_LEARNING_GOAL>,
          typeof EYFS_LEVEL
        >,
      ),
      /** What the practitioner or professional would add, in their words. */
      narrative: narrative.optional(),
    })
    .refine(consecutiveAcademicYear, CONSECUTIVE_ACADEMIC_YEAR),
);

export const KEY_STAGE = codeList({ KS2: 'Key stage 2 (end of primary)', KS4: 'Key stage 4 (GCSE)' });

/** KS2 writing teacher assessment outcomes, including the pre-key stage standards. */
export const KS2_WRITING_TA = codeList(ks2WritingTa);

export const GCSE_GRADE = codeList({
  '9': 'Grade 9',
  '8': 'Grade 8',
  '7': 'Grade 7',
  '6': 'Grade 6',
  '5': 'Grade 5 (strong pass)',
  '4': 'Grade 4 (standard pass)',
  '3': 'Grade 3',
  '2': 'Grade 2',
  '1': 'Grade 1',
  U: 'Ungraded',
  X: 'Absent or no result',
});

/** KS2 test scaled scores: 80 to 120; 100 is the expected standard. */
const scaledScore = z.number().int().min(80).max(120);

/**
 * A key stage outcome (end of KS2 tests and teacher assessment, or KS4 results), sent by the
 * school or the LA once results are published. `ks2` or `ks4` as `keyStage` says.
 */
export const keyStageAssessed = envelope(
  'education.key-stage.assessed',
  educationSource,
  z
    .strictObject({
      schoolUrn,
      academicYear,
      keyStage: KEY_STAGE,
      ks2: z
        .strictObject({
          readingScaledScore: scaledScore.optional(),
          mathsScaledScore: scaledScore.optional(),
          gpsScaledScore: scaledScore.optional(),
          writing: KS2_WRITING_TA.optional(),
        })
        .optional(),
      ks4: z
        .strictObject({
          /** Attainment 8: 0-90 in steps of 0.5. */
          attainment8: z.number().min(0).max(90).multipleOf(0.5).optional(),
          englishGrade: GCSE_GRADE.optional(),
          mathsGrade: GCSE_GRADE.optional(),
        })
        .optional(),
      /** What the practitioner or professional would add, in their words. */
      narrative: narrative.optional(),
    })
    .refine(
      (d) =>
        d.keyStage === 'KS2'
          ? d.ks2 !== undefined && d.ks4 === undefined
          : d.ks4 !== undefined && d.ks2 === undefined,
      {
        path: ['keyStage'],
        message: 'give the results block of the key stage (ks2 for KS2, ks4 for KS4) and no other',
        params: { rule: 'results-of-key-stage' },
      },
    )
    .refine(consecutiveAcademicYear, CONSECUTIVE_ACADEMIC_YEAR),
);

export const educationEvents = [
  enrolmentRecorded,
  attendanceSummarised,
  exclusionRecorded,
  leavingRecorded,
  senProvisionChanged,
  ehcNeedsAssessmentRequested,
  ehcPlanIssued,
  ehcPlanCeased,
  eyfsProfileAssessed,
  keyStageAssessed,
] as const;

import { z } from 'zod';
import { codeList, envelope, isoDate, narrative, schoolUrn, source } from './common';

/** Education events: school census and exclusions data as a school MIS or LA holds it. */

const educationSource = source('education');

export const SEN_PROVISION = codeList({
  N: 'No special educational need',
  K: 'SEN support',
  E: 'Education, health and care plan',
});

export const enrolmentRecorded = envelope(
  'education.enrolment.recorded',
  educationSource,
  z.strictObject({
    schoolUrn,
    entryDate: isoDate,
    /** National curriculum year group; R = reception, N1/N2 = nursery. */
    yearGroup: z.enum([
      'N1',
      'N2',
      'R',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
      '10',
      '11',
      '12',
      '13',
      '14',
    ]),
    senProvision: SEN_PROVISION,
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

/** Version 1: absences only; attended sessions are what is left of the possible sessions. */
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

export const EXCLUSION_CATEGORY = codeList({
  PERM: 'Permanent exclusion',
  SUSP: 'Suspension',
  LNCH: 'Lunchtime suspension',
});

export const EXCLUSION_REASON = codeList({
  PP: 'Physical assault against a pupil',
  PA: 'Physical assault against an adult',
  VP: 'Verbal abuse or threatening behaviour against a pupil',
  VA: 'Verbal abuse or threatening behaviour against an adult',
  BU: 'Bullying',
  RA: 'Racist abuse',
  LG: 'Abuse against sexual orientation and gender identity',
  DS: 'Abuse relating to disability',
  SM: 'Sexual misconduct',
  DA: 'Drug and alcohol related',
  DM: 'Damage',
  TH: 'Theft',
  DB: 'Persistent or general disruptive behaviour',
  MT: 'Inappropriate use of social media or online technology',
  WP: 'Use or threat of use of an offensive weapon or prohibited item',
});

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
    })
    .refine((d) => d.category === 'PERM' || d.sessions !== undefined, {
      path: ['sessions'],
      message: 'a suspension states its number of sessions',
      params: { rule: 'required-for-suspension' },
    }),
);

export const educationEvents = [enrolmentRecorded, attendanceSummarised, exclusionRecorded] as const;

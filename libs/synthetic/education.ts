import { makeUpn, type EventOfType } from '@throughline/contracts';
import { academicYearLabel, academicYearStart, dayNumber, isoDateOf, onWeekday } from './calendar';
import { type EventSink, subjectOn, type ChildProfile, type EducationRecord } from './history';
import { LOCAL_AUTHORITY, SCHOOLS, SYSTEMS, type SyntheticSchool } from './names';
import type { Random } from './random';

/** Letters a UPN may end in (I, O and S are never used). */
const TEMPORARY_LETTERS = 'ABCDEFGHJKLMNPQRTUVWXYZ';

type ExclusionReason = EventOfType<'education.exclusion.recorded'>['data']['reasons'][number];

/**
 * Issues unique UPNs across a cohort: LA number, the school's establishment number, the
 * year of issue and a serial counted per school and year.
 */
export class UpnIssuer {
  private readonly serials = new Map<string, number>();

  issue(school: SyntheticSchool, entryYear: number): string {
    const yearOfIssue = String(entryYear % 100).padStart(2, '0');
    const key = `${school.establishment}${yearOfIssue}`;
    const serial = (this.serials.get(key) ?? 0) + 1;
    if (serial > 999)
      throw new Error(`more than 999 synthetic pupils for school ${school.urn} in ${entryYear}`);
    this.serials.set(key, serial);
    return makeUpn(`${LOCAL_AUTHORITY.code}${key}${String(serial).padStart(3, '0')}`);
  }

  /** A temporary UPN (ending in a letter), used while the permanent one is awaited. */
  issueTemporary(school: SyntheticSchool, entryYear: number): string {
    const key = `T${school.establishment}${String(entryYear % 100).padStart(2, '0')}`;
    const serial = this.serials.get(key) ?? 0;
    if (serial >= 100 * TEMPORARY_LETTERS.length)
      throw new Error(`too many temporary UPNs for school ${school.urn} in ${entryYear}`);
    this.serials.set(key, serial + 1);
    const body = `${LOCAL_AUTHORITY.code}${key.slice(1)}${String(Math.floor(serial / TEMPORARY_LETTERS.length)).padStart(2, '0')}`;
    return makeUpn(`${body}${TEMPORARY_LETTERS[serial % TEMPORARY_LETTERS.length]}`);
  }
}

/** A school's record before the identity details (demographics, a temporary UPN) are settled. */
export type PlannedEducationRecord = Omit<EducationRecord, 'demographics' | 'temporaryUpn'>;

const PRIMARIES = SCHOOLS.filter((school) => school.phase === 'primary');
const SECONDARIES = SCHOOLS.filter((school) => school.phase === 'secondary');

/** Reception in the September after the fifth birthday's academic year; year 7 seven years on. */
export function planEducationRecords(
  profile: ChildProfile,
  rng: Random,
  upns: UpnIssuer,
  nhsNumberShare: number,
): PlannedEducationRecord[] {
  const cohortYear = academicYearStart(profile.dateOfBirth);
  const receptionEntry = onWeekday(`${cohortYear + 5}-09-0${rng.int(2, 6)}`);
  const secondaryEntry = onWeekday(`${cohortYear + 12}-09-0${rng.int(2, 6)}`);
  const primary = rng.pick(PRIMARIES);
  const secondary = rng.pick(SECONDARIES);
  const primaryHoldsNhs = rng.chance(nhsNumberShare);
  const secondaryHoldsNhs = rng.chance(nhsNumberShare);
  if (receptionEntry > profile.horizon) return [];
  const upn = upns.issue(primary, cohortYear + 5);
  const number = String(profile.number).padStart(6, '0');
  const records: PlannedEducationRecord[] = [
    {
      agency: 'education',
      recordId: `MIS-${primary.urn}-${number}`,
      schoolUrn: primary.urn,
      entryDate: receptionEntry,
      upn,
      ...(primaryHoldsNhs ? { nhsNumber: profile.nhsNumber } : {}),
    },
  ];
  if (secondaryEntry <= profile.horizon) {
    records.push({
      agency: 'education',
      recordId: `MIS-${secondary.urn}-${number}`,
      schoolUrn: secondary.urn,
      entryDate: secondaryEntry,
      upn,
      ...(secondaryHoldsNhs ? { nhsNumber: profile.nhsNumber } : {}),
    });
  }
  return records;
}

const TERMS = [
  { term: 'autumn', summaryOn: (year: number) => `${year}-12-18`, sessions: [138, 146] },
  { term: 'spring', summaryOn: (year: number) => `${year + 1}-03-29`, sessions: [116, 126] },
  { term: 'summer', summaryOn: (year: number) => `${year + 1}-07-19`, sessions: [124, 134] },
] as const;

const SUSPENSION_REASONS: readonly ExclusionReason[] = ['DB', 'VA', 'PP', 'PA', 'VP', 'BU', 'DM', 'MT'];

export function generateEducationHistory(
  profile: ChildProfile,
  records: readonly EducationRecord[],
  rng: Random,
  sink: EventSink,
): void {
  const absenceBase = {
    universal: () => rng.int(2, 7) / 100,
    additional: () => rng.int(5, 12) / 100,
    complex: () => rng.int(8, 25) / 100,
  }[profile.needs]();
  const authorisedShare = { universal: 0.8, additional: 0.7, complex: 0.55 }[profile.needs];
  const suspensionRate = { universal: 0.005, additional: 0.04, complex: 0.15 }[profile.needs];
  const senProvision = rng.weighted(
    {
      universal: [
        ['N', 96],
        ['K', 4],
      ] as const,
      additional: [
        ['N', 45],
        ['K', 50],
        ['E', 5],
      ] as const,
      complex: [
        ['N', 25],
        ['K', 45],
        ['E', 30],
      ] as const,
    }[profile.needs],
  );

  records.forEach((record, index) => {
    const source = {
      agency: 'education' as const,
      system: SYSTEMS.education,
      organisation: record.schoolUrn,
    };
    const subject = (isoDate: string) => subjectOn(record, isoDate);
    const firstYear = academicYearStart(record.entryDate);
    const firstYearGroup = index === 0 ? 0 : 7; // reception counts as year 0
    const lastYearGroup = index === 0 ? 6 : 11;
    sink.emitOn('education.enrolment.recorded', record.entryDate, rng, {
      source,
      subject: subject(record.entryDate),
      data: {
        schoolUrn: record.schoolUrn,
        entryDate: record.entryDate,
        yearGroup: index === 0 ? 'R' : '7',
        senProvision,
      },
    });
    for (let yearGroup = firstYearGroup; yearGroup <= lastYearGroup; yearGroup++) {
      const year = firstYear + yearGroup - firstYearGroup;
      for (const { term, summaryOn, sessions } of TERMS) {
        const sessionsPossible = 2 * rng.int(sessions[0] / 2, sessions[1] / 2);
        const rate = Math.min(0.6, absenceBase * (0.5 + rng.next()));
        const absent = Math.round(sessionsPossible * rate);
        const authorisedAbsence = Math.round(
          absent * Math.min(1, Math.max(0, authorisedShare + (rng.next() - 0.5) / 5)),
        );
        const summaryDate = onWeekday(summaryOn(year));
        sink.emitOn('education.attendance.summarised', summaryDate, rng, {
          source,
          subject: subject(summaryDate),
          data: {
            schoolUrn: record.schoolUrn,
            academicYear: academicYearLabel(year),
            term,
            sessionsPossible,
            authorisedAbsence,
            unauthorisedAbsence: absent - authorisedAbsence,
          },
        });
      }
      if (yearGroup >= 5 && rng.chance(suspensionRate)) {
        const startDate = onWeekday(isoDateOf(dayNumber(`${year}-10-01`) + rng.int(0, 240)));
        const reasons = rng.sample(SUSPENSION_REASONS, rng.int(1, 2));
        sink.emitOn('education.exclusion.recorded', startDate, rng, {
          source,
          subject: subject(startDate),
          data: {
            schoolUrn: record.schoolUrn,
            category: rng.chance(0.15) ? 'LNCH' : 'SUSP',
            startDate,
            sessions: 2 * rng.int(1, 5),
            reasons,
            narrative: rng.pick([
              `${profile.givenName} left the classroom after a disagreement and damaged a display. Reintegration meeting with the parent booked.`,
              `Repeated refusal to follow staff instructions over several days despite a behaviour plan; pastoral lead to review support.`,
              `Physical altercation at break time. ${profile.givenName} said they had been provoked; both pupils spoken to.`,
            ]),
          },
        });
      }
    }
  });
}

import { EARLY_LEARNING_GOAL, makeUpn, type EventOfType } from '@throughline/contracts';
import {
  academicYearLabel,
  academicYearStart,
  addDays,
  addMonths,
  dayNumber,
  isoDateOf,
  laterOf,
  onWeekday,
} from './calendar';
import {
  caseOpenOn,
  type EventSink,
  senOn,
  subjectOn,
  type ChildProfile,
  type EducationRecord,
  type EhcJourney,
  type NeedsLevel,
  type RankedSenNeeds,
  type RecordedDemographics,
  type SchoolLeaving,
  type SenChange,
  type SenPlan,
  type SenServiceRecord,
} from './history';
import { LOCAL_AUTHORITY, SCHOOLS, SYSTEMS, type SyntheticSchool } from './names';
import { decisionOf, voiceOfChild } from './practice';
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

type YearGroup = EducationRecord['entryYearGroup'];
type SenNeed = RankedSenNeeds[number]['need'];

const PRIMARIES = SCHOOLS.filter((school) => school.phase === 'primary');
const SECONDARIES = SCHOOLS.filter((school) => school.phase === 'secondary');
const PUPIL_REFERRAL_UNIT = SCHOOLS.find((school) => school.phase === 'alternative')!;

/** What happens in secondary school, besides staying to the end of year 11. */
type SecondaryTurn = 'none' | 'move' | 'home-education' | 'permanent-exclusion' | 'missing-education';
const SECONDARY_TURN: Readonly<Record<NeedsLevel, readonly (readonly [SecondaryTurn, number])[]>> = {
  universal: [
    ['none', 95],
    ['move', 4],
    ['home-education', 0.8],
    ['permanent-exclusion', 0.1],
    ['missing-education', 0.1],
  ],
  additional: [
    ['none', 86],
    ['move', 6],
    ['home-education', 3],
    ['permanent-exclusion', 2],
    ['missing-education', 3],
  ],
  complex: [
    ['none', 72],
    ['move', 8],
    ['home-education', 4],
    ['permanent-exclusion', 8],
    ['missing-education', 8],
  ],
};

/** A school day in the academic year starting in `year`, between October and early June. */
function termDayIn(year: number, rng: Random): string {
  return onWeekday(isoDateOf(dayNumber(`${year}-10-01`) + rng.int(0, 240)));
}

interface Stint {
  school: SyntheticSchool;
  entryDate: string;
  yearGroup: YearGroup;
  holdsNhs: boolean;
  leaving?: SchoolLeaving;
  permanentExclusion?: EducationRecord['permanentExclusion'];
}

/**
 * The schools a child is on the roll of: reception in the September after the fourth
 * birthday's academic year, perhaps a move mid-primary, secondary transfer into year 7 and,
 * for some, a move, a permanent exclusion to the pupil referral unit, a spell missing from
 * education or elective home education. Each school's leaving names the next school.
 */
export function planEducationRecords(
  profile: ChildProfile,
  rng: Random,
  upns: UpnIssuer,
  nhsNumberShare: number,
  moves: Random,
): PlannedEducationRecord[] {
  const cohortYear = academicYearStart(profile.dateOfBirth);
  const receptionYear = cohortYear + 5;
  const receptionEntry = onWeekday(`${receptionYear}-09-0${rng.int(2, 6)}`);
  const secondaryEntry = onWeekday(`${receptionYear + 7}-09-0${rng.int(2, 6)}`);
  const primary = rng.pick(PRIMARIES);
  const secondary = rng.pick(SECONDARIES);
  const primaryHoldsNhs = rng.chance(nhsNumberShare);
  const secondaryHoldsNhs = rng.chance(nhsNumberShare);
  if (receptionEntry > profile.horizon) return [];
  const upn = upns.issue(primary, receptionYear);
  const needs = profile.needs;

  const stints: Stint[] = [
    { school: primary, entryDate: receptionEntry, yearGroup: 'R', holdsNhs: primaryHoldsNhs },
  ];
  const moveTo = (
    from: Stint,
    leaving: Omit<SchoolLeaving, 'destinationUrn' | 'destinationUnknown'>,
    next: SyntheticSchool,
    entryDate: string,
    yearGroup: YearGroup,
  ) => {
    from.leaving = { ...leaving, destinationUrn: next.urn, destinationUnknown: false };
    const stint: Stint = { school: next, entryDate, yearGroup, holdsNhs: moves.chance(nhsNumberShare) };
    stints.push(stint);
    return stint;
  };
  let current = stints[0];
  if (moves.chance({ universal: 0.04, additional: 0.1, complex: 0.18 }[needs])) {
    const year = moves.int(1, 5);
    const date = termDayIn(receptionYear + year, moves);
    const next = moves.pick(PRIMARIES.filter((school) => school !== primary));
    current = moveTo(
      current,
      { date, reason: moves.chance(0.7) ? 'transferred-school' : 'moved-away' },
      next,
      onWeekday(addDays(date, moves.int(3, 20))),
      String(year) as YearGroup,
    );
  }
  current = moveTo(
    current,
    { date: onWeekday(`${receptionYear + 7}-07-${moves.int(16, 20)}`), reason: 'transferred-school' },
    secondary,
    secondaryEntry,
    '7',
  );
  current.holdsNhs = secondaryHoldsNhs;

  const turn = moves.weighted(SECONDARY_TURN[needs]);
  const year = turn === 'home-education' ? moves.int(7, 10) : moves.int(8, 10);
  const date = termDayIn(receptionYear + year, moves);
  const yearGroupOn = (day: string) =>
    String(Math.min(11, academicYearStart(day) - receptionYear)) as YearGroup;
  let educated = true;
  switch (turn) {
    case 'none':
      break;
    case 'move': {
      const next = moves.pick(SECONDARIES.filter((school) => school !== secondary));
      const entry = onWeekday(addDays(date, moves.int(3, 20)));
      current = moveTo(
        current,
        { date, reason: moves.chance(0.6) ? 'transferred-school' : 'moved-away' },
        next,
        entry,
        yearGroupOn(entry),
      );
      break;
    }
    case 'permanent-exclusion': {
      const governorsDecidedOn = onWeekday(addDays(date, moves.int(10, 20)));
      current.permanentExclusion = {
        startDate: date,
        governorsDecidedOn,
        reasons: moves.sample(['PA', 'PP', 'OW', 'DA', 'DB'] as const, moves.int(1, 2)),
      };
      const leftOn = onWeekday(addDays(governorsDecidedOn, moves.int(1, 10)));
      const entry = onWeekday(addDays(leftOn, moves.int(1, 6)));
      current = moveTo(
        current,
        { date: leftOn, reason: 'permanently-excluded' },
        PUPIL_REFERRAL_UNIT,
        entry,
        yearGroupOn(entry),
      );
      break;
    }
    case 'missing-education': {
      // Off roll after 20 days of continuous absence with no known destination; found and placed months later.
      current.leaving = { date, reason: 'continuous-absence', destinationUnknown: true };
      let entry = onWeekday(addDays(date, moves.int(40, 150)));
      if (entry.slice(5) > '07-20' && entry.slice(5) < '09-01')
        entry = onWeekday(`${entry.slice(0, 4)}-09-0${moves.int(2, 6)}`);
      const next = moves.pick(SECONDARIES.filter((school) => school !== secondary));
      if (academicYearStart(entry) - receptionYear <= 11) {
        current = {
          school: next,
          entryDate: entry,
          yearGroup: yearGroupOn(entry),
          holdsNhs: moves.chance(nhsNumberShare),
        };
        stints.push(current);
      } else educated = false;
      break;
    }
    case 'home-education':
      current.leaving = { date, reason: 'elective-home-education', destinationUnknown: false };
      educated = false;
      break;
  }
  if (educated)
    current.leaving = {
      date: onWeekday(`${receptionYear + 12}-06-${moves.int(22, 26)}`),
      reason: 'end-of-education',
      destinationUnknown: false,
    };

  const number = String(profile.number).padStart(6, '0');
  return stints
    .filter((stint) => stint.entryDate <= profile.horizon)
    .map((stint) => ({
      agency: 'education' as const,
      recordId: `MIS-${stint.school.urn}-${number}`,
      schoolUrn: stint.school.urn,
      entryDate: stint.entryDate,
      entryYearGroup: stint.yearGroup,
      upn,
      ...(stint.holdsNhs ? { nhsNumber: profile.nhsNumber } : {}),
      ...(stint.leaving ? { leaving: stint.leaving } : {}),
      ...(stint.permanentExclusion ? { permanentExclusion: stint.permanentExclusion } : {}),
    }));
}

function drawNeeds(rng: Random, forPlan: boolean): RankedSenNeeds {
  const pool: readonly (readonly [SenNeed, number])[] = forPlan
    ? [
        ['ASD', 30],
        ['SEMH', 20],
        ['SLCN', 20],
        ['MLD', 10],
        ['SLD', 8],
        ['PD', 4],
        ['HI', 3],
        ['VI', 3],
        ['PMLD', 2],
      ]
    : [
        ['SLCN', 25],
        ['SEMH', 25],
        ['MLD', 20],
        ['SPLD', 18],
        ['ASD', 8],
        ['OTH', 4],
      ];
  const primary = rng.weighted(pool);
  const secondary = rng.chance(0.4) ? rng.weighted(pool.filter(([need]) => need !== primary)) : undefined;
  return [{ need: primary, rank: 1 }, ...(secondary ? [{ need: secondary, rank: 2 }] : [])];
}

/**
 * Special educational needs over time: identified at entry or later (N to K), met (K to N), or
 * through an EHC needs assessment to a plan (K to E) that may cease later (E to K). The LA
 * decides within six weeks whether to assess and issues most plans within 14-26 weeks.
 * Planted identity cases get no EHC journey: its LA record would link their school and health records.
 */
export function planSen(
  profile: ChildProfile,
  records: readonly PlannedEducationRecord[],
  rng: Random,
  ehcAllowed: boolean,
): SenPlan {
  const needs = profile.needs;
  const attainment = 0.9 * rng.normal() + { universal: 0.25, additional: -0.45, complex: -0.9 }[needs];
  const entry = records[0]?.entryDate;
  const supportNeeds = drawNeeds(rng, false);
  const changes: SenChange[] = [];
  // An EHC needs assessment: the decision within six weeks, most plans within 14-26 weeks, a few cease later.
  const assess = (requestDate: string, requestSource: EhcJourney['requestSource']): EhcJourney => {
    const agreedToAssess = rng.chance(0.8);
    const issueDate = addDays(requestDate, rng.int(98, 182));
    const planNeeds = drawNeeds(rng, true);
    const ceased = rng.chance(0.25)
      ? {
          date: addMonths(issueDate, rng.int(15, 40)),
          reason: rng.pick(['2', '2', '9'] as const),
        }
      : undefined;
    if (agreedToAssess) {
      changes.push({ date: issueDate, provision: 'E', needs: planNeeds });
      if (ceased) changes.push({ date: ceased.date, provision: 'K', needs: supportNeeds });
    }
    return {
      requestDate,
      requestSource,
      decidedOn: onWeekday(addDays(requestDate, rng.int(28, 40))),
      agreedToAssess,
      ...(agreedToAssess ? { plan: { issueDate, needs: planNeeds, ...(ceased ? { ceased } : {}) } } : {}),
    };
  };

  // Complex needs are often known before school: health or the parent asks in the early years.
  if (ehcAllowed && needs === 'complex' && rng.chance(0.2)) {
    const requestDate = onWeekday(addDays(profile.dateOfBirth, rng.int(900, 1500)));
    if (!entry || requestDate < entry) {
      const ehc = assess(
        requestDate,
        rng.weighted([
          ['health', 45],
          ['parent', 35],
          ['school-or-college', 20],
        ] as const),
      );
      // Not assessed: the school starts with SEN support.
      return ehc.plan
        ? { initial: 'N', changes, ehc, attainment }
        : { initial: 'K', initialNeeds: supportNeeds, changes, ehc, attainment };
    }
  }
  if (!entry) return { initial: 'N', changes: [], attainment };
  const initialK = rng.chance({ universal: 0.01, additional: 0.2, complex: 0.45 }[needs]);
  let supportFrom = initialK ? entry : undefined;
  if (!initialK && rng.chance({ universal: 0.04, additional: 0.35, complex: 0.35 }[needs])) {
    supportFrom = onWeekday(addDays(entry, rng.int(180, 4 * 365)));
    changes.push({ date: supportFrom, provision: 'K', needs: supportNeeds });
  }
  let ehc: EhcJourney | undefined;
  if (supportFrom && ehcAllowed && rng.chance({ universal: 0, additional: 0.15, complex: 0.55 }[needs])) {
    const requestDate = onWeekday(laterOf(addDays(supportFrom, rng.int(180, 720)), addDays(entry, 365)));
    ehc = assess(
      requestDate,
      rng.weighted([
        ['parent', 45],
        ['school-or-college', 45],
        ['health', 5],
        ['social-care', caseOpenOn(profile.socialCare, requestDate) ? 15 : 0],
      ] as const),
    );
  } else if (supportFrom && rng.chance({ universal: 0.5, additional: 0.15, complex: 0.05 }[needs])) {
    changes.push({ date: onWeekday(addDays(supportFrom, rng.int(365, 3 * 365))), provision: 'N' });
  }
  return {
    initial: initialK ? 'K' : 'N',
    ...(initialK ? { initialNeeds: supportNeeds } : {}),
    changes,
    ...(ehc ? { ehc } : {}),
    attainment,
  };
}

/**
 * The LA SEN service's case record: the NHS number when it holds it (health advises on every
 * plan, and an early-years request comes with it), the UPN once the child is at school.
 */
export function senServiceRecordOf(
  profile: ChildProfile,
  school: { readonly upn: string; readonly from: string } | undefined,
  holdsNhs: boolean,
  demographics: RecordedDemographics,
): SenServiceRecord {
  return {
    agency: 'education',
    recordId: `SEN${LOCAL_AUTHORITY.code}-${String(profile.number).padStart(6, '0')}`,
    laCode: LOCAL_AUTHORITY.code,
    ...(school ? { upn: school.upn, upnKnownFrom: school.from } : {}),
    ...(holdsNhs ? { nhsNumber: profile.nhsNumber } : {}),
    demographics,
  };
}
const TERMS = [
  {
    term: 'autumn',
    start: (year: number) => `${year}-09-01`,
    end: (year: number) => `${year}-12-18`,
    sessions: [138, 146],
  },
  {
    term: 'spring',
    start: (year: number) => `${year + 1}-01-04`,
    end: (year: number) => `${year + 1}-03-29`,
    sessions: [116, 126],
  },
  {
    term: 'summer',
    start: (year: number) => `${year + 1}-04-14`,
    end: (year: number) => `${year + 1}-07-19`,
    sessions: [124, 134],
  },
] as const;

const SUSPENSION_REASONS: readonly ExclusionReason[] = ['DB', 'VA', 'PP', 'PA', 'VP', 'BU', 'DM', 'MT'];

/** The assessments were not held in these academic years (COVID-19), so no results exist. */
const CANCELLED_ASSESSMENT_YEARS = new Set([2019, 2020]);
/** The EYFS profile as the contracts know it (2021 framework): first assessed in 2021/22. */
const FIRST_EYFS_PROFILE_YEAR = 2021;

const clamp = (value: number, min: number, max: number) => Math.max(min, Math.min(max, value));

/**
 * Each school's record of the pupil: enrolment (with the SEN provision then), termly
 * attendance, suspensions, SEN provision changes, the EYFS profile at the end of reception,
 * key stage 2 at the end of year 6 and key stage 4 at the end of year 11, a permanent exclusion
 * and the leaving; and the LA SEN service's EHC needs assessment, plan and its ending.
 */
export function generateEducationHistory(
  profile: ChildProfile,
  records: readonly EducationRecord[],
  sen: SenPlan,
  senRecord: SenServiceRecord | undefined,
  rng: Random,
  sink: EventSink,
): void {
  const absenceBase = {
    universal: () => rng.int(2, 7) / 100,
    additional: () => rng.int(5, 12) / 100,
    complex: () => rng.int(8, 25) / 100,
  }[profile.needs]();
  const authorisedShare = { universal: 0.8, additional: 0.7, complex: 0.55 }[profile.needs];
  // The chance of being suspended in a school year, primary (from year 1) and secondary, and then
  // one to four suspensions: about 9 suspensions per 100 pupils a year in England, under 2 in
  // primary and about 19 in secondary, 0.1 permanent exclusions (DfE, Suspensions and permanent
  // exclusions in England, 2022/23).
  const suspensionRate = {
    primary: { universal: 0.002, additional: 0.02, complex: 0.08 }[profile.needs],
    secondary: { universal: 0.02, additional: 0.12, complex: 0.3 }[profile.needs],
  };
  const receptionYear = academicYearStart(profile.dateOfBirth) + 5;
  const onRoll = (record: EducationRecord, isoDate: string) =>
    record.entryDate <= isoDate && (!record.leaving || isoDate < record.leaving.date);
  const schoolOn = (isoDate: string) => records.find((record) => onRoll(record, isoDate));
  // Attainment on the day, lower while working under an EHC plan (the plan reflects the need).
  const attainmentOn = (isoDate: string) =>
    sen.attainment - (senOn(sen, isoDate).provision === 'E' ? 0.8 : 0) + 0.3 * rng.normal();

  for (const record of records) {
    const source = {
      agency: 'education' as const,
      system: SYSTEMS.education,
      organisation: record.schoolUrn,
    };
    const subject = (isoDate: string) => subjectOn(record, isoDate);
    const leftOn = record.leaving?.date ?? '9999-12-31';
    sink.emitNext('education.enrolment.recorded', record.entryDate, rng, {
      source,
      subject: subject(record.entryDate),
      data: {
        schoolUrn: record.schoolUrn,
        entryDate: record.entryDate,
        yearGroup: record.entryYearGroup,
        senProvision: senOn(sen, record.entryDate).provision,
      },
    });

    for (const change of sen.changes) {
      if (change.date <= record.entryDate || change.date >= leftOn) continue;
      const previousProvision = senOn(sen, addDays(change.date, -1)).provision;
      sink.emitNext('education.sen-provision.changed', change.date, rng, {
        source,
        subject: subject(change.date),
        data: {
          schoolUrn: record.schoolUrn,
          effectiveDate: change.date,
          previousProvision,
          provision: change.provision,
          ...(change.needs ? { needs: change.needs.map((need) => ({ ...need })) } : {}),
        },
      });
    }

    const firstYear = academicYearStart(record.entryDate);
    const lastYear = Math.min(academicYearStart(leftOn), receptionYear + 11);
    for (let year = firstYear; year <= lastYear; year++) {
      for (const { term, start, end, sessions } of TERMS) {
        // A part term for the pupil who joined or left during it.
        const from = laterOf(start(year), record.entryDate);
        const to = leftOn < end(year) ? leftOn : end(year);
        const termDays = dayNumber(end(year)) - dayNumber(start(year));
        const days = dayNumber(to) - dayNumber(from);
        if (days < 5) continue;
        const full = 2 * rng.int(sessions[0] / 2, sessions[1] / 2);
        const sessionsPossible = Math.max(2, 2 * Math.round((full * Math.min(1, days / termDays)) / 2));
        const rate = Math.min(0.6, absenceBase * (0.5 + rng.next()));
        const absent = Math.round(sessionsPossible * rate);
        const authorisedAbsence = Math.round(
          absent * Math.min(1, Math.max(0, authorisedShare + (rng.next() - 0.5) / 5)),
        );
        const summaryDate = onWeekday(to);
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
      const yearGroup = year - receptionYear;
      const suspended =
        yearGroup >= 1 && rng.chance(yearGroup >= 7 ? suspensionRate.secondary : suspensionRate.primary);
      const suspensions = suspended
        ? rng.weighted([
            [1, 50],
            [2, 25],
            [3, 15],
            [4, 10],
          ] as const)
        : 0;
      const startDates = [...new Set(Array.from({ length: suspensions }, () => termDayIn(year, rng)))].sort();
      for (const startDate of startDates) {
        const excludedFrom = record.permanentExclusion?.startDate ?? leftOn;
        if (startDate > record.entryDate && startDate < excludedFrom) {
          sink.emitOn('education.exclusion.recorded', startDate, rng, {
            source,
            subject: subject(startDate),
            data: {
              schoolUrn: record.schoolUrn,
              category: rng.chance(0.15) ? 'LNCH' : 'SUSP',
              startDate,
              sessions: 2 * rng.int(1, 5),
              reasons: rng.sample(SUSPENSION_REASONS, rng.int(1, 2)),
              narrative: rng.pick([
                `${profile.givenName} left the classroom after a disagreement and damaged a display. Reintegration meeting with the parent booked.`,
                `Repeated refusal to follow staff instructions over several days despite a behaviour plan; pastoral lead to review support.`,
                `Physical altercation at break time. ${profile.givenName} said they had been provoked; both pupils spoken to.`,
              ]),
            },
          });
        }
      }
    }

    const exclusion = record.permanentExclusion;
    if (exclusion) {
      // Reported once the governing board has considered it.
      sink.emitNext('education.exclusion.recorded', exclusion.governorsDecidedOn, rng, {
        source,
        subject: subject(exclusion.governorsDecidedOn),
        data: {
          schoolUrn: record.schoolUrn,
          category: 'PERM',
          startDate: exclusion.startDate,
          reasons: [...exclusion.reasons],
          governorsDecision: 'upheld',
          narrative: `A serious incident following a long pattern of escalating behaviour; the support plan, a managed move and alternative provision had been tried. The governing board upheld the decision.`,
        },
      });
    }

    // Early years foundation stage profile, at the end of reception.
    const eyfsDate = onWeekday(`${receptionYear + 1}-06-${rng.int(16, 26)}`);
    if (
      record.entryYearGroup === 'R' &&
      receptionYear >= FIRST_EYFS_PROFILE_YEAR &&
      onRoll(record, eyfsDate)
    ) {
      const base = attainmentOn(eyfsDate);
      const goals = Object.fromEntries(
        EARLY_LEARNING_GOAL.options.map((goal) => [
          goal,
          0.8 * base + 0.6 * rng.normal() > -1.2 ? 'expected' : 'emerging',
        ]),
      ) as Record<(typeof EARLY_LEARNING_GOAL.options)[number], 'expected' | 'emerging'>;
      sink.emitOn('education.eyfs-profile.assessed', eyfsDate, rng, {
        source,
        subject: subject(eyfsDate),
        data: {
          schoolUrn: record.schoolUrn,
          academicYear: academicYearLabel(receptionYear),
          assessmentDate: eyfsDate,
          goals,
        },
      });
    }

    // Key stage 2 results come back to schools in early July of year 6.
    const ks2Year = receptionYear + 6;
    const ks2Date = onWeekday(`${ks2Year + 1}-07-0${rng.int(6, 9)}`);
    if (onRoll(record, ks2Date) && !CANCELLED_ASSESSMENT_YEARS.has(ks2Year)) {
      const level = attainmentOn(ks2Date);
      const score = (x: number) => clamp(Math.round(104 + 7 * (x + 0.25 * rng.normal())), 80, 120);
      const belowTests = level < -2.3 && senOn(sen, ks2Date).provision !== 'N';
      const ks2 = rng.chance(0.02)
        ? { writing: 'A' as const }
        : belowTests
          ? { writing: rng.pick(['PK4', 'PK5', 'PK6'] as const) }
          : {
              readingScaledScore: score(level),
              mathsScaledScore: score(level),
              gpsScaledScore: score(level),
              writing:
                level > 1
                  ? ('GDS' as const)
                  : level > -0.6
                    ? ('EXS' as const)
                    : level > -1.6
                      ? ('WTS' as const)
                      : ('PK6' as const),
            };
      sink.emitOn('education.key-stage.assessed', ks2Date, rng, {
        source,
        subject: subject(ks2Date),
        data: { schoolUrn: record.schoolUrn, academicYear: academicYearLabel(ks2Year), keyStage: 'KS2', ks2 },
      });
    }

    // Key stage 4 (GCSE) results day in late August after year 11, for the school the pupil finished at.
    const ks4Year = receptionYear + 11;
    if (record.leaving?.reason === 'end-of-education') {
      const resultsDay = onWeekday(`${ks4Year + 1}-08-${rng.int(20, 24)}`);
      const level = attainmentOn(record.leaving.date);
      const grade = (x: number) => {
        const g = x + 0.4 * rng.normal();
        return g < -2.6 ? ('U' as const) : (String(clamp(Math.round(4.6 + 1.7 * g), 1, 9)) as '1');
      };
      sink.emitOn('education.key-stage.assessed', resultsDay, rng, {
        source,
        subject: subject(resultsDay),
        data: {
          schoolUrn: record.schoolUrn,
          academicYear: academicYearLabel(ks4Year),
          keyStage: 'KS4',
          ks4: {
            attainment8: clamp(Math.round((46 + 16 * level) * 2) / 2, 0, 90),
            englishGrade: grade(level),
            mathsGrade: grade(level),
          },
        },
      });
    }

    const leaving = record.leaving;
    if (leaving) {
      sink.emitNext('education.leaving.recorded', leaving.date, rng, {
        source,
        subject: subject(leaving.date),
        data: {
          schoolUrn: record.schoolUrn,
          leavingDate: leaving.date,
          reason: leaving.reason,
          ...(leaving.destinationUrn ? { destinationUrn: leaving.destinationUrn } : {}),
          destinationUnknown: leaving.destinationUnknown,
          ...(leaving.destinationUnknown
            ? {
                narrative:
                  'Not attended for over 20 school days; enquiries by the school and the LA have not found the family. Reported to the children missing education officer.',
              }
            : leaving.reason === 'elective-home-education'
              ? {
                  narrative:
                    'Parent wrote to say they will educate at home; the LA elective home education team informed.',
                }
              : {}),
        },
      });
    }
  }

  const ehc = sen.ehc;
  if (!ehc || !senRecord) return;
  const la = { agency: 'education' as const, system: SYSTEMS.sen, organisation: LOCAL_AUTHORITY.code };
  const onLa = (isoDate: string) => ({ source: la, subject: subjectOn(senRecord, isoDate) });
  const requested = sink.emitNext('education.ehc-needs-assessment.requested', ehc.requestDate, rng, {
    ...onLa(ehc.requestDate),
    data: {
      requestDate: ehc.requestDate,
      requestSource: ehc.requestSource,
      decisionDueDate: addDays(ehc.requestDate, 42),
      narrative: `Request for an EHC needs assessment for ${profile.givenName}, with the school's evidence of two cycles of SEN support.`,
    },
  });
  sink.emitNext('practice.decision.recorded', ehc.decidedOn, rng, {
    ...onLa(ehc.decidedOn),
    correlationId: requested,
    data: {
      decidedOn: ehc.decidedOn,
      reviewDate: ehc.agreedToAssess ? addDays(ehc.requestDate, 140) : addMonths(ehc.decidedOn, 6),
      ...decisionOf(ehc.agreedToAssess ? 'ehc-assess' : 'ehc-do-not-assess', profile.givenName, rng),
    },
  });
  const plan = ehc.plan;
  if (!plan) return;
  // The child's views for the "all about me" section, gathered at school during the assessment.
  const heardOn = onWeekday(addDays(plan.issueDate, -rng.int(30, 60)));
  const school = schoolOn(heardOn);
  const voice =
    school && voiceOfChild('ehc-assessment', profile.givenName, profile.dateOfBirth, heardOn, rng);
  if (school && voice && heardOn > ehc.decidedOn) {
    sink.emitOn('practice.voice-of-child.recorded', heardOn, rng, {
      source: { agency: 'education', system: SYSTEMS.education, organisation: school.schoolUrn },
      subject: subjectOn(school, heardOn),
      correlationId: requested,
      data: { capturedOn: heardOn, ...voice },
    });
  }
  const named = schoolOn(plan.issueDate);
  const weeks = (dayNumber(plan.issueDate) - dayNumber(ehc.requestDate)) / 7;
  const issued = sink.emitNext('education.ehc-plan.issued', plan.issueDate, rng, {
    ...onLa(plan.issueDate),
    correlationId: requested,
    data: {
      requestDate: ehc.requestDate,
      issueDate: plan.issueDate,
      needs: plan.needs.map((need) => ({ ...need })),
      ...(named ? { namedSchoolUrn: named.schoolUrn } : {}),
      withinTwentyWeeks: weeks <= 20,
      reviewDate: addMonths(plan.issueDate, 12),
    },
  });
  if (plan.ceased) {
    sink.emitNext('education.ehc-plan.ceased', plan.ceased.date, rng, {
      ...onLa(plan.ceased.date),
      correlationId: requested,
      causationId: issued,
      data: {
        ceaseDate: plan.ceased.date,
        reason: plan.ceased.reason,
        narrative:
          'At the annual review everyone agreed the outcomes are met; support continues at SEN support.',
      },
    });
  }
}

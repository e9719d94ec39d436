import type { EventOfType, Subject } from '@throughline/contracts';
import { addDays, addMonths, ageInYears, atMinute, dayNumber, isoDateOf, plusMinutes } from './calendar';
import {
  type BirthFacts,
  caseOpenOn,
  cpisFlagOn,
  type EventSink,
  placementOn,
  subjectOn,
  type ChildProfile,
  type HealthRecord,
  type RecordedDemographics,
} from './history';
import {
  ACUTE_TRUST,
  EMERGENCY_DEPARTMENT,
  GP_PRACTICE,
  HEALTH_ORGANISATION,
  MENTAL_HEALTH_TRUST,
  SCREENING_LABORATORY,
  SYSTEMS,
} from './names';
import type { Random } from './random';

type Vaccine = EventOfType<'health.immunisation.given'>['data']['vaccine'];
type ReviewKind = EventOfType<'health.health-visitor-review.completed'>['data']['review'];

/** The UK routine schedule (as it stood for most of the 2010s-2020s), by age in days. */
const IMMUNISATION_SCHEDULE: readonly (readonly [number, Vaccine, number])[] = [
  [56, '6-in-1', 1],
  [56, 'MenB', 1],
  [56, 'rotavirus', 1],
  [84, '6-in-1', 2],
  [84, 'PCV', 1],
  [84, 'rotavirus', 2],
  [112, '6-in-1', 3],
  [112, 'MenB', 2],
  [365, 'Hib-MenC', 1],
  [365, 'MMR', 1],
  [365, 'PCV', 2],
  [365, 'MenB', 3],
  [1217, 'MMR', 2],
  [1217, '4-in-1-preschool', 1],
  [4480, 'HPV', 1],
  [5110, '3-in-1-teenage', 1],
  [5110, 'MenACWY', 1],
];

/**
 * Doses missed more (MMR) or less (the 6-in-1) often than the child's usual rate, so that
 * coverage is near England's: about 91% with three doses of the 6-in-1 at 12 months, 89% with a
 * first MMR at 24 months and 84% with two MMR doses at 5 years (UKHSA, Cover of vaccination
 * evaluated rapidly (COVER), annual data 2023-24).
 */
const MISS_FACTOR: Readonly<Record<string, number>> = {
  '6-in-1 1': 0.65,
  '6-in-1 2': 0.65,
  '6-in-1 3': 0.65,
  'MMR 1': 2.4,
  'MMR 2': 1.25,
};

const REVIEWS: readonly (readonly [ReviewKind, number, number])[] = [
  ['new-birth', 10, 14],
  ['6-8-week', 42, 56],
  ['1-year', 350, 400],
  ['2-2.5-year', 730, 900],
];

const COMPLAINTS: readonly (readonly [string, boolean])[] = [
  ['Fever and cough', false],
  ['Wheeze', false],
  ['Vomiting and diarrhoea', false],
  ['Rash', false],
  ['Abdominal pain', false],
  ['Fall from playground equipment', true],
  ['Head injury at home', true],
  ['Wrist injury (sport)', true],
  ['Burn to hand', true],
  ['Suspected ingestion', true],
];

function asqScore(rng: Random, concern: boolean): number {
  return 5 * (concern && rng.chance(0.5) ? rng.int(3, 7) : rng.int(8, 12));
}

export function healthRecordOf(profile: ChildProfile, demographics: RecordedDemographics): HealthRecord {
  return {
    agency: 'health',
    recordId: `CHIS-${String(profile.number).padStart(6, '0')}`,
    nhsNumber: profile.nhsNumber,
    demographics,
  };
}

export function generateHealthHistory(
  profile: ChildProfile,
  record: HealthRecord,
  rng: Random,
  sink: EventSink,
): void {
  const subject = (isoDate: string) => subjectOn(record, isoDate);
  const source = { agency: 'health' as const, system: SYSTEMS.health, organisation: HEALTH_ORGANISATION };
  const missRate = { universal: 0.03, additional: 0.06, complex: 0.12 }[profile.needs];
  const concernRate = { universal: 0.05, additional: 0.3, complex: 0.5 }[profile.needs];

  const newborn = generateNewbornEvents(profile, record, rng, sink, missRate);

  for (const [review, fromDay, toDay] of REVIEWS) {
    if (rng.chance(missRate)) continue;
    const reviewDate = addDays(profile.dateOfBirth, rng.int(fromDay, toDay));
    const concernsIdentified = rng.chance(concernRate);
    const asq3 =
      review === '2-2.5-year'
        ? {
            communication: asqScore(rng, concernsIdentified),
            grossMotor: asqScore(rng, concernsIdentified),
            fineMotor: asqScore(rng, concernsIdentified),
            problemSolving: asqScore(rng, concernsIdentified),
            personalSocial: asqScore(rng, concernsIdentified),
          }
        : undefined;
    const notes = concernsIdentified
      ? rng.pick([
          `${profile.givenName} was seen at home; home conditions were cluttered and the parent seemed low in mood. Follow-up visit offered.`,
          `Speech is behind what we would expect; referral to speech and language therapy discussed with the parent.`,
          `Weight has dropped across two centiles. Feeding plan agreed; review in four weeks.`,
        ])
      : rng.chance(0.3)
        ? `${profile.givenName} is thriving; parent confident and well supported by family.`
        : undefined;
    sink.emitOn('health.health-visitor-review.completed', reviewDate, rng, {
      source,
      subject: subject(reviewDate),
      data: {
        review,
        reviewDate,
        ...(asq3 ? { asq3 } : {}),
        concernsIdentified,
        ...(notes ? { notes } : {}),
      },
    });
  }

  for (const [ageDays, vaccine, dose] of IMMUNISATION_SCHEDULE) {
    const delay = rng.chance(0.8) ? rng.int(0, 10) : rng.int(11, 60);
    const missed = rng.chance(Math.min(0.9, missRate * (MISS_FACTOR[`${vaccine} ${dose}`] ?? 1)));
    const batch = `DEMO${rng.int(10000, 99999)}`;
    if (missed) continue;
    const givenDate = addDays(profile.dateOfBirth, ageDays + delay);
    sink.emitOn('health.immunisation.given', givenDate, rng, {
      source,
      subject: subject(givenDate),
      data: { vaccine, dose, givenDate, batchNumber: batch },
    });
  }

  // Nasal flu every autumn from age 2 until year 11, taken up by about half.
  const birthYear = Number(profile.dateOfBirth.slice(0, 4));
  for (let year = birthYear + 2; year <= birthYear + 16; year++) {
    const givenDate = `${year}-10-${String(rng.int(1, 28)).padStart(2, '0')}`;
    if (!rng.chance(0.55) || givenDate < addMonths(profile.dateOfBirth, 24)) continue;
    sink.emitOn('health.immunisation.given', givenDate, rng, {
      source,
      subject: subject(givenDate),
      data: { vaccine: 'flu-LAIV', dose: 1, givenDate },
    });
  }

  const hospital = new HospitalSpells(profile, rng, sink, subject);
  if (newborn.neonatalUnit) hospital.admitNewborn(newborn.bornAt, newborn.facts, newborn.neonatalUnit);
  generateEmergencyAttendances(profile, rng, sink, subject, hospital);
  generateElectiveAdmissions(profile, rng, hospital, newborn.testesReferred);
  generateSafeguardingConcerns(profile, rng, sink, source, subject);
  generateCamhsReferral(profile, rng, sink, subject);
  // Drawn last, so the entries added with the health record types shift none of the draws above.
  generateRecordEntries(profile, rng, sink, source, subject);
}

/** Typical weight (kg) at 1 and 2 years, the middle of the UK-WHO charts' range. */
const WEIGHT_CHECKS: readonly (readonly [number, number])[] = [
  [365, 9.6],
  [730, 12.2],
];

/**
 * Entries of the GP record that have no event of their own: weights measured at the 1 and 2
 * year checks (SNOMED CT 27113001 Body weight, in kg), and the record's flag for a child
 * protection plan, in a code system of the synthetic data (no national code is claimed).
 */
function generateRecordEntries(
  profile: ChildProfile,
  rng: Random,
  sink: EventSink,
  source: { agency: 'health'; system: string; organisation: string },
  subject: (isoDate: string) => Subject,
): void {
  for (const [ageDays, typical] of WEIGHT_CHECKS) {
    const measuredOn = addDays(profile.dateOfBirth, ageDays + rng.int(0, 40));
    const kilograms = Math.round((typical + (rng.int(0, 30) - 15) / 10) * 10) / 10;
    if (rng.chance(0.2)) continue;
    sink.emitOn('health.observation.recorded', measuredOn, rng, {
      source,
      subject: subject(measuredOn),
      data: {
        code: { system: 'http://snomed.info/sct', code: '27113001', display: 'Body weight' },
        status: 'final',
        effectiveDate: measuredOn,
        value: {
          kind: 'quantity',
          value: kilograms,
          unit: 'kg',
          unitSystem: 'http://unitsofmeasure.org',
          unitCode: 'kg',
        },
      },
    });
  }
  for (const { childProtectionPlan: plan } of profile.socialCare ?? []) {
    if (!plan || plan.startDate > profile.horizon) continue;
    const ended = plan.endDate <= profile.horizon;
    sink.emitOn('health.flag.recorded', plan.startDate, rng, {
      source,
      subject: subject(plan.startDate),
      data: {
        code: {
          system: 'https://throughline.example/fhir/CodeSystem/synthetic-record-flag',
          code: 'child-protection-plan',
          display: 'Child protection plan',
        },
        text: 'Subject to a child protection plan (CP-IS)',
        status: ended ? 'inactive' : 'active',
        periodStart: plan.startDate,
        ...(ended ? { periodEnd: plan.endDate } : {}),
      },
    });
  }
}

function generateEmergencyAttendances(
  profile: ChildProfile,
  rng: Random,
  sink: EventSink,
  subject: (isoDate: string) => Subject,
  hospital: HospitalSpells,
): void {
  const source = { agency: 'health' as const, system: SYSTEMS.emergency, organisation: EMERGENCY_DEPARTMENT };
  const perYear = { universal: 0.15, additional: 0.3, complex: 0.55 }[profile.needs];
  for (let day = dayNumber(profile.dateOfBirth) + 30; day <= dayNumber(profile.horizon); day += 365) {
    if (!rng.chance(perYear)) continue;
    const arrivalDay = day + rng.int(0, 364);
    const arrivedAt = atMinute(isoDateOf(arrivalDay), rng.int(0, 24 * 60 - 1));
    const arrivalDate = arrivedAt.slice(0, 10);
    const [chiefComplaint, injury] = rng.pick(COMPLAINTS);
    const cpisFlagSeen = cpisFlagOn(profile.socialCare, arrivalDate);
    const safeguardingConcern = injury && rng.chance(profile.needs === 'complex' ? 0.3 : 0.03);
    const discharge = rng.weighted([
      ['home', 80],
      ['admitted', 12],
      ['transferred', 3],
      ['left-before-treatment', 5],
    ] as const);
    const attendance = sink.emit('health.emergency-care.attended', arrivedAt, {
      source,
      subject: subject(arrivalDate),
      data: {
        arrivedAt,
        chiefComplaint,
        injury,
        discharge,
        cpisFlagSeen,
        safeguardingConcern,
        ...(safeguardingConcern
          ? {
              notes:
                'Explanation of the injury changed between triage and examination; safeguarding lead informed.',
            }
          : {}),
      },
    });
    if (discharge === 'admitted') {
      hospital.admit({
        admittedAt: plusMinutes(arrivedAt, rng.int(120, 360)),
        method: '21',
        specialty: injury
          ? chiefComplaint.startsWith('Burn')
            ? 'paediatric surgery'
            : 'trauma and orthopaedics'
          : 'paediatrics',
        reason: chiefComplaint,
        nights: rng.int(1, 4),
        safeguardingConcern,
        causationId: attendance,
      });
    }
  }
}

function generateSafeguardingConcerns(
  profile: ChildProfile,
  rng: Random,
  sink: EventSink,
  source: { agency: 'health'; system: string; organisation: string },
  subject: (isoDate: string) => Subject,
): void {
  // A contact from health follows a concern the health professional raised a few days before.
  for (const { contact } of profile.socialCare ?? []) {
    if (contact.source !== '3A' && contact.source !== '3B' && contact.source !== '3E') continue;
    const raisedOn = addDays(contact.date, -rng.int(1, 4));
    if (raisedOn >= profile.dateOfBirth) {
      const raisedBy = { '3A': 'GP', '3B': 'health visitor', '3E': 'emergency department nurse' }[
        contact.source
      ];
      sink.emitOn('health.safeguarding-concern.raised', raisedOn, rng, {
        source,
        subject: subject(raisedOn),
        data: {
          category: rng.pick(['neglect', 'physical', 'emotional', 'domestic-abuse'] as const),
          raisedBy,
          referredToLocalAuthority: true,
          narrative: rng.pick([
            `${profile.givenName} presented with bruising the parent could not explain. Discussed with the named nurse; referral made to children's social care.`,
            `Police attended a domestic incident at the family home last week; ${profile.givenName} was present. Referral made to children's social care.`,
            `Repeated missed appointments and ${profile.givenName} appears unkempt and hungry at contacts. Referral made to children's social care.`,
          ]),
        },
      });
    }
  }
  // Lower-level worries that were noted but not referred.
  if (rng.chance({ universal: 0.01, additional: 0.08, complex: 0.15 }[profile.needs])) {
    const span = dayNumber(profile.horizon) - dayNumber(profile.dateOfBirth);
    if (span > 60) {
      const notedOn = addDays(profile.dateOfBirth, rng.int(30, span));
      sink.emitOn('health.safeguarding-concern.raised', notedOn, rng, {
        source,
        subject: subject(notedOn),
        data: {
          category: rng.pick(['neglect', 'emotional', 'other'] as const),
          raisedBy: rng.pick(['health visitor', 'school nurse', 'GP']),
          referredToLocalAuthority: false,
          narrative: `Worry noted about ${profile.givenName}'s home circumstances; discussed with the safeguarding lead, threshold for referral not met. Will review at next contact.`,
        },
      });
    }
  }
}

type DeliveryPlace = BirthFacts['deliveryPlace'];
type AdmissionMethod = EventOfType<'health.hospital.admitted'>['data']['admissionMethod'];
type DischargeDestination = EventOfType<'health.hospital.discharged'>['data']['dischargeDestination'];
type NipeFinding = EventOfType<'health.nipe.completed'>['data']['eyes'];
type BloodSpotResult = EventOfType<'health.newborn-blood-spot.screened'>['data']['results'][number];
type CamhsReason = EventOfType<'health.camhs.referred'>['data']['primaryReason'];
type CamhsSource = EventOfType<'health.camhs.referred'>['data']['referralSource'];

const BLOOD_SPOT_CONDITIONS = ['SCD', 'CF', 'CHT', 'PKU', 'MCADD', 'MSUD', 'IVA', 'GA1', 'HCU'] as const;

/** Completed weeks of gestation (England's distribution, roughly: 8% preterm), the place and minute of birth. */
export function drawBirthFacts(rng: Random, multiple: boolean): BirthFacts {
  const gestationWeeks = multiple
    ? rng.weighted([
        [33, 5],
        [34, 10],
        [35, 20],
        [36, 35],
        [37, 30],
      ] as const)
    : rng.weighted([
        [rng.int(24, 27), 1],
        [rng.int(28, 31), 1.5],
        [rng.int(32, 33), 1.5],
        [rng.int(34, 36), 5],
        [37, 6],
        [38, 14],
        [39, 27],
        [40, 28],
        [41, 14],
        [42, 2],
      ] as const);
  const deliveryPlace: DeliveryPlace =
    gestationWeeks < 34 || multiple
      ? 'hospital-obstetric-unit'
      : rng.weighted<DeliveryPlace>([
          ['hospital-obstetric-unit', 80],
          ['hospital-midwife-unit', 12],
          ['freestanding-midwife-unit', 3],
          ['home', 2.5],
          ['private-hospital', 0.3],
          ['in-transit', 0.2],
        ]);
  return {
    multiple,
    gestationWeeks,
    deliveryPlace,
    // Twins are born minutes apart on one day, so the first is born before 23:00.
    birthMinute: rng.int(0, multiple ? 23 * 60 : 24 * 60 - 1),
    birthOrder: 1,
    expectedDateOffset: (40 - gestationWeeks) * 7 + rng.int(-3, 3),
  };
}

/** Median birth weight by gestation, lighter for twins, with the usual spread. */
function birthWeight(facts: BirthFacts, rng: Random): number {
  const weeks = facts.gestationWeeks;
  const median =
    (weeks >= 37 ? 3000 + (weeks - 37) * 130 : 3000 - (37 - weeks) * 185) * (facts.multiple ? 0.88 : 1);
  const grams = median * (1 + 0.11 * Math.max(-2.5, Math.min(2.5, rng.normal())));
  return Math.round(Math.max(400, Math.min(5500, grams)) / 10) * 10;
}

interface Newborn {
  readonly facts: BirthFacts;
  readonly bornAt: string;
  /** The baby went to the neonatal unit: why. */
  readonly neonatalUnit?: string;
  /** The NIPE newborn examination referred the testes: an orchidopexy follows. */
  readonly testesReferred: boolean;
}

/**
 * The first weeks: birth notification (within 36 hours), newborn hearing screen, blood spot
 * (day 5, results a few days later, now and then a repeat sample), NIPE newborn and 6-8 week
 * examinations.
 */
function generateNewbornEvents(
  profile: ChildProfile,
  record: HealthRecord,
  rng: Random,
  sink: EventSink,
  missRate: number,
): Newborn {
  const born = record.demographics.dateOfBirth;
  const facts = profile.birth ?? drawBirthFacts(rng, false);
  const bornAt = atMinute(born, facts.birthMinute);
  const weight = birthWeight(facts, rng);
  const maternity = { agency: 'health' as const, system: SYSTEMS.maternity, organisation: ACUTE_TRUST };
  const subject = (isoDate: string) => subjectOn(record, isoDate);
  const hhmm = bornAt.slice(11, 16);
  // Notified within hours (the standard is 36); the newborn checks are recorded after it.
  const notifiedAt = plusMinutes(bornAt, rng.int(30, 12 * 60));
  const afterNotification = (isoDate: string) => {
    const at = atMinute(isoDate, rng.int(8 * 60, 20 * 60));
    return at > notifiedAt ? at : plusMinutes(notifiedAt, rng.int(30, 180));
  };
  sink.emit('health.birth.notified', notifiedAt, {
    source: maternity,
    subject: subject(born),
    data: {
      birthDate: born,
      birthTime: hhmm,
      gestationWeeks: facts.gestationWeeks,
      birthWeightGrams: weight,
      deliveryPlace: facts.deliveryPlace,
      birthOrder: facts.birthOrder,
      ...(rng.chance(0.9) ? { expectedDateOfBirth: addDays(born, facts.expectedDateOffset) } : {}),
    },
  });
  const neonatalUnit =
    facts.gestationWeeks < 35
      ? 'Preterm birth'
      : weight < 1800
        ? 'Low birth weight'
        : rng.chance(0.03)
          ? 'Jaundice needing phototherapy'
          : undefined;

  // NIPE newborn: within 72 hours, by a midwife or paediatrician.
  const finding = (rare: number): NipeFinding =>
    rng.weighted<NipeFinding>([
      ['no-abnormality', 1 - rare],
      ['suspected-referred', rare],
    ]);
  const boy = profile.sex === 'male';
  const testes = boy ? finding(0.03) : undefined;
  const examinedAt = afterNotification(addDays(born, rng.int(0, 2)));
  const examined = examinedAt.slice(0, 10);
  sink.emit('health.nipe.completed', examinedAt, {
    source: maternity,
    subject: subject(examined),
    data: {
      examination: 'newborn',
      examinationDate: examined,
      eyes: finding(0.005),
      heart: finding(0.01),
      hips: finding(0.01),
      ...(testes ? { testes } : {}),
      hipRiskFactor: rng.chance(0.05),
      examinerRole: rng.weighted([
        ['midwife', 50],
        ['paediatrician', 40],
        ['advanced neonatal nurse practitioner', 10],
      ] as const),
    },
  });

  // Newborn hearing screen: on the ward for most, in the community within four weeks for the rest.
  const screenedAt = afterNotification(
    addDays(born, neonatalUnit ? rng.int(7, 28) : rng.chance(0.6) ? rng.int(1, 3) : rng.int(7, 28)),
  );
  const outcome = rng.weighted([
    ['no-follow-up', neonatalUnit ? 70 : 94],
    ['targeted-follow-up', neonatalUnit ? 22 : 2],
    ['referred-to-audiology', 2],
    ['declined', 0.5],
    ['incomplete', 1.5],
  ] as const);
  const referredEar = rng.chance(0.5) ? 'leftEar' : 'rightEar';
  const ears =
    outcome === 'declined' || outcome === 'incomplete'
      ? {}
      : outcome === 'referred-to-audiology'
        ? rng.chance(0.3)
          ? { leftEar: 'NCR' as const, rightEar: 'NCR' as const }
          : { leftEar: 'CR' as const, rightEar: 'CR' as const, [referredEar]: 'NCR' as const }
        : { leftEar: 'CR' as const, rightEar: 'CR' as const };
  const screened = screenedAt.slice(0, 10);
  sink.emit('health.newborn-hearing-screening.completed', screenedAt, {
    source: { agency: 'health', system: SYSTEMS.hearingScreening, organisation: ACUTE_TRUST },
    subject: subject(screened),
    data: {
      screeningDate: screened,
      ...(outcome === 'declined'
        ? {}
        : { method: neonatalUnit || outcome === 'referred-to-audiology' ? 'AOAE+AABR' : 'AOAE' }),
      ...ears,
      outcome,
    },
  });

  // Blood spot on day 5; the laboratory reports a few days later. Carriers are found now and then.
  const laboratory = {
    agency: 'health' as const,
    system: SYSTEMS.laboratory,
    organisation: SCREENING_LABORATORY,
  };
  const sampleDate = addDays(born, rng.int(5, 8));
  const declined = rng.chance(0.002);
  const repeatFor = !declined && rng.chance(0.02) ? rng.pick(['CHT', 'CF', 'SCD'] as const) : undefined;
  const results = BLOOD_SPOT_CONDITIONS.map((condition) => ({
    condition,
    result: (declined
      ? 'declined'
      : condition === repeatFor
        ? 'repeat-required'
        : condition === 'SCD' && rng.chance(0.015)
          ? 'carrier'
          : condition === 'CF' && rng.chance(0.005)
            ? 'carrier'
            : 'not-suspected') as BloodSpotResult['result'],
  }));
  const reported = addDays(sampleDate, rng.int(3, 10));
  sink.emitOn('health.newborn-blood-spot.screened', reported, rng, {
    source: laboratory,
    subject: subject(reported),
    specialCategories: ['genetic'],
    data: { sampleDate, results },
  });
  if (repeatFor) {
    const repeatSample = addDays(reported, rng.int(1, 5));
    const repeatReported = addDays(repeatSample, rng.int(3, 8));
    sink.emitOn('health.newborn-blood-spot.screened', repeatReported, rng, {
      source: laboratory,
      subject: subject(repeatReported),
      specialCategories: ['genetic'],
      data: { sampleDate: repeatSample, results: [{ condition: repeatFor, result: 'not-suspected' }] },
    });
  }

  // NIPE 6-8 week check by the GP (missed now and then, like any appointment).
  if (!rng.chance(missRate)) {
    const checked = addDays(born, rng.int(42, 56));
    sink.emitOn('health.nipe.completed', checked, rng, {
      source: { agency: 'health', system: SYSTEMS.gp, organisation: GP_PRACTICE },
      subject: subject(checked),
      data: {
        examination: '6-8-week',
        examinationDate: checked,
        eyes: 'no-abnormality',
        heart: rng.chance(0.01) ? 'suspected-referred' : 'no-abnormality',
        hips: rng.chance(0.01) ? 'suspected-referred' : 'no-abnormality',
        ...(testes ? { testes: testes === 'suspected-referred' ? 'known-condition' : 'no-abnormality' } : {}),
        examinerRole: 'GP',
      },
    });
  }
  return {
    facts,
    bornAt,
    ...(neonatalUnit ? { neonatalUnit } : {}),
    testesReferred: testes === 'suspected-referred',
  };
}

interface Admission {
  readonly admittedAt: string;
  readonly method: AdmissionMethod;
  readonly specialty: string;
  readonly reason: string;
  /** Nights in hospital; 0 for a day case (home the same evening). */
  readonly nights: number;
  readonly safeguardingConcern?: boolean;
  readonly causationId?: string;
}

/** Hospital provider spells: each admission and, when it has happened by the horizon, its discharge. */
class HospitalSpells {
  private count = 0;
  private readonly source = { agency: 'health' as const, system: SYSTEMS.pas, organisation: ACUTE_TRUST };

  constructor(
    private readonly profile: ChildProfile,
    private readonly rng: Random,
    private readonly sink: EventSink,
    private readonly subject: (isoDate: string) => Subject,
  ) {}

  admitNewborn(bornAt: string, facts: BirthFacts, reason: string): void {
    const hospitalBirth =
      facts.deliveryPlace.startsWith('hospital') || facts.deliveryPlace === 'private-hospital';
    const weeksEarly = Math.max(0, 36 - facts.gestationWeeks);
    this.admit({
      admittedAt: plusMinutes(bornAt, this.rng.int(10, 90)),
      method: hospitalBirth ? '82' : facts.deliveryPlace === 'home' ? '2C' : '83',
      specialty: 'neonatal medicine',
      reason,
      nights: weeksEarly * 7 + (reason.startsWith('Jaundice') ? this.rng.int(1, 3) : this.rng.int(3, 14)),
    });
  }

  admit(admission: Admission): void {
    const { rng, profile } = this;
    this.count += 1;
    const spellId = `SP${String(profile.number).padStart(6, '0')}-${this.count}`;
    const admittedOn = admission.admittedAt.slice(0, 10);
    const admitted = this.sink.emit('health.hospital.admitted', admission.admittedAt, {
      source: this.source,
      subject: this.subject(admittedOn),
      ...(admission.causationId ? { causationId: admission.causationId } : {}),
      data: {
        admittedAt: admission.admittedAt,
        spellId,
        admissionMethod: admission.method,
        specialty: admission.specialty,
        reason: admission.reason,
        ...(admission.safeguardingConcern !== undefined
          ? { safeguardingConcern: admission.safeguardingConcern }
          : {}),
      },
    });
    const dischargedAt =
      admission.nights === 0
        ? plusMinutes(admission.admittedAt, rng.int(4 * 60, 8 * 60))
        : atMinute(addDays(admittedOn, admission.nights), rng.int(10 * 60, 17 * 60));
    const dischargedOn = dischargedAt.slice(0, 10);
    // A looked-after child goes back to the placement, not to the family home.
    const placement = placementOn(profile.socialCare, dischargedOn)?.placement;
    const destination: DischargeDestination = !placement
      ? '19'
      : placement.startsWith('U')
        ? '66'
        : placement === 'K2' && dischargedOn <= '2021-09-30'
          ? '65'
          : '19';
    this.sink.emit('health.hospital.discharged', dischargedAt, {
      source: this.source,
      subject: this.subject(dischargedOn),
      causationId: admitted,
      data: {
        admittedAt: admission.admittedAt,
        dischargedAt,
        spellId,
        dischargeMethod: rng.chance(0.02) ? '2' : '1',
        dischargeDestination: destination,
        ...(admission.safeguardingConcern !== undefined
          ? { safeguardingConcern: admission.safeguardingConcern }
          : {}),
      },
    });
  }
}

const ELECTIVE: readonly (readonly [string, string])[] = [
  ['ENT', 'Adenotonsillectomy'],
  ['ENT', 'Insertion of grommets'],
  ['paediatric dentistry', 'Dental extractions under general anaesthetic'],
  ['paediatric surgery', 'Inguinal hernia repair'],
];

/** Planned operations: an orchidopexy after a NIPE referral, and the common childhood day cases. */
function generateElectiveAdmissions(
  profile: ChildProfile,
  rng: Random,
  hospital: HospitalSpells,
  testesReferred: boolean,
): void {
  if (testesReferred) {
    const on = addDays(profile.dateOfBirth, rng.int(270, 540));
    hospital.admit({
      admittedAt: atMinute(on, rng.int(7 * 60, 9 * 60)),
      method: '12',
      specialty: 'paediatric surgery',
      reason: 'Orchidopexy (undescended testis found at the newborn examination)',
      nights: 0,
    });
  }
  if (!rng.chance(0.06)) return;
  const [specialty, reason] = rng.pick(ELECTIVE);
  const on = addDays(profile.dateOfBirth, rng.int(2 * 365, 12 * 365));
  hospital.admit({
    admittedAt: atMinute(on, rng.int(7 * 60, 9 * 60)),
    method: rng.chance(0.7) ? '11' : '12',
    specialty,
    reason,
    nights: specialty === 'ENT' && reason.startsWith('Adeno') ? 1 : 0,
  });
}

/**
 * A referral to CAMHS for a minority, more for children with additional or complex needs,
 * the reason fitting the age; discharged months later, or soon when the referral is not
 * accepted. A self-harm crisis in a teenager comes through the emergency department.
 */
function generateCamhsReferral(
  profile: ChildProfile,
  rng: Random,
  sink: EventSink,
  subject: (isoDate: string) => Subject,
): void {
  if (!rng.chance({ universal: 0.03, additional: 0.12, complex: 0.3 }[profile.needs])) return;
  const first = dayNumber(addMonths(profile.dateOfBirth, 4 * 12));
  const last = Math.min(dayNumber(profile.horizon), dayNumber(addMonths(profile.dateOfBirth, 17 * 12)));
  if (last <= first) return;
  const referralDate = isoDateOf(rng.int(first, last));
  const age = ageInYears(profile.dateOfBirth, referralDate);
  const episode = profile.socialCare;
  const lookedAfter = placementOn(episode, referralDate) !== undefined;
  const assessed = (episode ?? []).some(
    (known) => known.assessment && known.assessment.startDate <= referralDate,
  );
  const primaryReason = rng.weighted<CamhsReason>(
    age < 8
      ? [
          ['25', 35],
          ['05', 20],
          ['16', 15],
          ['24', 15],
          ['21', lookedAfter ? 25 : 3],
        ]
      : age < 13
        ? [
            ['05', 30],
            ['25', 15],
            ['16', 10],
            ['11', assessed ? 12 : 2],
            ['04', 5],
            ['21', lookedAfter ? 15 : 0],
            ['12', 3],
          ]
        : [
            ['05', 25],
            ['04', 25],
            ['15', 20],
            ['12', 8],
            ['18', 5],
            ['11', assessed ? 10 : 2],
            ['20', 2],
          ],
  );
  const crisis = age >= 12 && (primaryReason === '15' || primaryReason === '18') && rng.chance(0.6);
  const referralSource: CamhsSource = crisis
    ? 'H1'
    : rng.weighted<CamhsSource>([
        ['A1', 35],
        ['C2', age >= 5 ? 25 : 0],
        ['C1', caseOpenOn(episode, referralDate) ? 30 : 0],
        ['B2', 10],
        ['F3', age < 8 ? 10 : 0],
        ['F1', age >= 8 ? 5 : 0],
        ['B1', age >= 14 ? 5 : 0],
      ]);
  const referralId = `CAMHS-${String(profile.number).padStart(6, '0')}-1`;
  const source = {
    agency: 'health' as const,
    system: SYSTEMS.mentalHealth,
    organisation: MENTAL_HEALTH_TRUST,
  };
  let causationId: string | undefined;
  if (crisis) {
    const arrivedAt = atMinute(referralDate, rng.int(0, 6 * 60));
    causationId = sink.emit('health.emergency-care.attended', arrivedAt, {
      source: { agency: 'health', system: SYSTEMS.emergency, organisation: EMERGENCY_DEPARTMENT },
      subject: subject(referralDate),
      specialCategories: ['mental-health'],
      data: {
        arrivedAt,
        chiefComplaint: primaryReason === '15' ? 'Self-harm (cuts to forearm)' : 'Overdose of paracetamol',
        injury: true,
        discharge: 'home',
        cpisFlagSeen: cpisFlagOn(episode, referralDate),
        safeguardingConcern: false,
        notes:
          'Seen by the liaison psychiatry team; urgent referral to CAMHS, safety plan agreed with the carer.',
      },
    });
  }
  const referred = sink.emitOn('health.camhs.referred', referralDate, rng, {
    source,
    subject: subject(referralDate),
    specialCategories: ['mental-health'],
    ...(causationId ? { causationId } : {}),
    data: {
      referralDate,
      referralId,
      referralSource,
      primaryReason,
      urgency: crisis
        ? '1'
        : rng.weighted([
            ['3', 75],
            ['2', 25],
          ] as const),
      narrative: crisis
        ? 'Seen in the emergency department after self-harm; follow-up within 72 hours.'
        : `Referred for assessment; ${profile.givenName}'s carer reports difficulties at home and school over several months.`,
    },
  });
  const notAccepted = !crisis && rng.chance(0.2);
  const dischargeDate = notAccepted
    ? addDays(referralDate, rng.int(14, 42))
    : addMonths(referralDate, rng.int(3, 18));
  const reason = notAccepted
    ? 'referral-not-accepted'
    : rng.weighted([
        ['treatment-completed', 50],
        ['did-not-attend', 12],
        ['declined-treatment', 8],
        ['no-further-treatment-appropriate', 12],
        ['transferred-to-other-provider', 5],
        ['moved-away', 3],
      ] as const);
  sink.emitOn('health.camhs.discharged', dischargeDate, rng, {
    source,
    subject: subject(dischargeDate),
    specialCategories: ['mental-health'],
    causationId: referred,
    data: {
      referralDate,
      dischargeDate,
      referralId,
      reason,
      ...(notAccepted
        ? { narrative: 'Needs better met by the school mental health support team; family signposted.' }
        : {}),
    },
  });
}

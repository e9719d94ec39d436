import type { EventOfType, Subject } from '@throughline/contracts';
import { addDays, addMonths, atMinute, dayNumber, isoDateOf } from './calendar';
import {
  type EventSink,
  subjectOn,
  type ChildProfile,
  type HealthRecord,
  type RecordedDemographics,
} from './history';
import { EMERGENCY_DEPARTMENT, HEALTH_ORGANISATION, SYSTEMS } from './names';
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
    const missed = rng.chance(missRate);
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

  generateEmergencyAttendances(
    profile,
    rng,
    sink,
    { ...source, system: SYSTEMS.emergency, organisation: EMERGENCY_DEPARTMENT },
    subject,
  );
  generateSafeguardingConcerns(profile, rng, sink, source, subject);
}

function generateEmergencyAttendances(
  profile: ChildProfile,
  rng: Random,
  sink: EventSink,
  source: { agency: 'health'; system: string; organisation: string },
  subject: (isoDate: string) => Subject,
): void {
  const perYear = { universal: 0.15, additional: 0.3, complex: 0.55 }[profile.needs];
  const plan = profile.socialCare?.childProtectionPlan;
  for (let day = dayNumber(profile.dateOfBirth) + 30; day <= dayNumber(profile.horizon); day += 365) {
    if (!rng.chance(perYear)) continue;
    const arrivalDay = day + rng.int(0, 364);
    const arrivedAt = atMinute(isoDateOf(arrivalDay), rng.int(0, 24 * 60 - 1));
    const arrivalDate = arrivedAt.slice(0, 10);
    const [chiefComplaint, injury] = rng.pick(COMPLAINTS);
    const cpisFlagSeen = plan !== undefined && plan.startDate <= arrivalDate && arrivalDate <= plan.endDate;
    const safeguardingConcern = injury && rng.chance(profile.needs === 'complex' ? 0.3 : 0.03);
    const discharge = rng.weighted([
      ['home', 80],
      ['admitted', 12],
      ['transferred', 3],
      ['left-before-treatment', 5],
    ] as const);
    sink.emit('health.emergency-care.attended', arrivedAt, {
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
  }
}

function generateSafeguardingConcerns(
  profile: ChildProfile,
  rng: Random,
  sink: EventSink,
  source: { agency: 'health'; system: string; organisation: string },
  subject: (isoDate: string) => Subject,
): void {
  const episode = profile.socialCare;
  // A referral from health follows a concern the health professional raised a few days before.
  if (episode && ['3A', '3B', '3E'].includes(episode.referralSource)) {
    const raisedOn = addDays(episode.referralDate, -rng.int(1, 4));
    if (raisedOn >= profile.dateOfBirth) {
      const raisedBy = { '3A': 'GP', '3B': 'health visitor', '3E': 'emergency department nurse' }[
        episode.referralSource as '3A' | '3B' | '3E'
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

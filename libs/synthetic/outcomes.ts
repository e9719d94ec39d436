import { addDays, ageInYears, academicYearStart, onWeekday } from './calendar';
import {
  caseHolderOn,
  type EventSink,
  subjectOn,
  type ChildProfile,
  type EducationRecord,
  type HealthRecord,
  type SocialCareRecord,
} from './history';
import { HEALTH_ORGANISATION, SYSTEMS } from './names';
import type { Random } from './random';

/**
 * Outcome observations: the same child seen by the child, the family and professionals,
 * each with a narrative, often a rating and always a confidence. Views drift apart on
 * purpose: a family may rate safety well above the social worker.
 */

type Confidence = 'low' | 'medium' | 'high';
const SAFETY_SCALE = { scale: 'sos-safety', min: 0, max: 10 } as const;
const JOURNEY_SCALE = { scale: 'journey-of-change', min: 1, max: 10 } as const;

const clamp = (value: number, min: number, max: number) => Math.max(min, Math.min(max, value));

function professionalSafetyNarrative(name: string, rating: number): string {
  if (rating <= 3)
    return `Worries remain high: the agreed safety plan is not being followed and ${name} has missed school again. What needs to happen: the safety network meets weekly and the parent engages with the drug and alcohol service.`;
  if (rating <= 6)
    return `Some things are working well: ${name} is attending school more often and the parent has kept most appointments. Worries: evenings are still unsupervised. Next: extend the safety network to the grandparent.`;
  return `The safety plan has held for three months; ${name} says home is calmer and school reports a settled child. Considering stepping down to child in need support.`;
}

function familySafetyNarrative(name: string, rating: number, gap: number): string {
  if (gap >= 3)
    return `We don't agree that ${name} is unsafe. Things were bad last year but we have sorted it out and the social worker is looking at the past, not now.`;
  if (rating <= 4)
    return `It has been a hard few months. We know ${name} has seen things they shouldn't have and we want help with the evenings.`;
  return `Home is much better. ${name} is sleeping properly and we eat together most nights; we'd like less involvement now.`;
}

function childSafetyNarrative(name: string, rating: number): string {
  if (rating <= 3)
    return `${name} drew the house of worries full: shouting at night, nobody to walk to school with. Said "I don't like going home on Fridays".`;
  if (rating <= 6)
    return `${name} said some days are good and some are bad. Likes that Nan picks them up on Wednesdays. Still worries about mum.`;
  return `${name} said home is "mostly happy now" and wants to do football club. House of good things was the fullest it has been.`;
}

export function generateOutcomeObservations(
  profile: ChildProfile,
  records: {
    readonly health: HealthRecord;
    readonly education: readonly EducationRecord[];
    readonly socialCare?: SocialCareRecord;
  },
  rng: Random,
  sink: EventSink,
): void {
  const name = profile.givenName;
  for (const episode of profile.socialCare ?? []) {
    const assessment = episode.assessment;
    if (!records.socialCare || !assessment) continue;
    const record = records.socialCare;
    const sourceOn = (date: string) => ({
      agency: 'social-care' as const,
      system: SYSTEMS.socialCare,
      organisation: caseHolderOn(record, date).laCode,
    });
    // Scaling starts once the plan (or, without one, the assessment) is in place.
    const plan = episode.childProtectionPlan;
    let observedOn = addDays(plan?.startDate ?? assessment.authorisationDate, rng.int(7, 20));
    let professional = plan ? rng.int(1, 3) : rng.int(4, 6);
    const rounds = profile.needs === 'complex' ? rng.int(3, 5) : rng.int(1, 3);
    const familyMember = rng.pick(['mother', 'father', 'grandmother', 'kinship carer']);
    // Scaling stops when the case closes.
    const until = episode.closure?.date ?? profile.horizon;
    for (let round = 0; round < rounds && observedOn <= profile.horizon && observedOn <= until; round++) {
      const subject = subjectOn(record, observedOn);
      const source = sourceOn(observedOn);
      const observe = (
        perspective: 'child' | 'family' | 'professional',
        observerRole: string,
        narrative: string,
        value: number,
        confidence: Confidence,
      ) =>
        sink.emitOn('outcome.observation.recorded', observedOn, rng, {
          source,
          subject,
          data: {
            framework: 'signs-of-safety',
            domain: 'safety',
            perspective,
            observerRole,
            observedOn,
            narrative,
            rating: { ...SAFETY_SCALE, value },
            confidence,
          },
        });
      const gap = rng.weighted([
        [-1, 1],
        [0, 3],
        [1, 3],
        [2, 2],
        [3, 2],
        [4, 1],
      ] as const);
      const family = clamp(professional + gap, 0, 10);
      observe(
        'professional',
        'social worker',
        professionalSafetyNarrative(name, professional),
        professional,
        rng.pick(['medium', 'high'] as const),
      );
      observe(
        'family',
        familyMember,
        familySafetyNarrative(name, family, gap),
        family,
        rng.pick(['medium', 'high'] as const),
      );
      if (ageInYears(profile.dateOfBirth, observedOn) >= 6 && rng.chance(0.8)) {
        const child = clamp(professional + rng.int(-2, 2), 0, 10);
        observe(
          'child',
          'child (three houses)',
          childSafetyNarrative(name, child),
          child,
          rng.pick(['low', 'medium'] as const),
        );
      }
      professional = clamp(
        professional +
          rng.weighted([
            [-1, 1],
            [0, 2],
            [1, 3],
            [2, 2],
          ] as const),
        0,
        10,
      );
      observedOn = addDays(observedOn, rng.int(90, 150));
    }
  }

  if (profile.needs === 'universal') return;

  // The school's view once a year, in the summer term, sometimes without any rating at all.
  for (const record of records.education) {
    const source = {
      agency: 'education' as const,
      system: SYSTEMS.education,
      organisation: record.schoolUrn,
    };
    const firstYear = academicYearStart(record.entryDate);
    for (let year = firstYear; year < firstYear + 3; year++) {
      const observedOn = onWeekday(`${year + 1}-06-${String(rng.int(3, 25)).padStart(2, '0')}`);
      // Only while the pupil is on this school's roll.
      if (observedOn < record.entryDate || (record.leaving && observedOn >= record.leaving.date)) continue;
      const value = rng.int(profile.needs === 'complex' ? 2 : 4, 8);
      const rated = rng.chance(0.6);
      sink.emitOn('outcome.observation.recorded', observedOn, rng, {
        source,
        subject: subjectOn(record, observedOn),
        data: {
          framework: 'ecm',
          domain: 'enjoy-and-achieve',
          perspective: 'professional',
          observerRole: rng.pick(['class teacher', 'SENCO', 'head of year']),
          observedOn,
          narrative:
            value <= 4
              ? `${name} finds the classroom hard after weekends; reading age is two years behind. Responds well to one-to-one time with the teaching assistant.`
              : `${name} has made real progress this year, especially in writing, and has a settled friendship group.`,
          ...(rated ? { rating: { ...JOURNEY_SCALE, value } } : {}),
          confidence: 'medium',
        },
      });
    }
  }

  // The health visitor's view after the 2-2½ year review: narrative only.
  const observedOn = addDays(profile.dateOfBirth, rng.int(820, 940));
  sink.emitOn('outcome.observation.recorded', observedOn, rng, {
    source: { agency: 'health', system: SYSTEMS.health, organisation: HEALTH_ORGANISATION },
    subject: subjectOn(records.health, observedOn),
    data: {
      framework: 'ecm',
      domain: 'be-healthy',
      perspective: 'professional',
      observerRole: 'health visitor',
      observedOn,
      narrative: `${name} is growing along their centile; language is emerging more slowly than expected. Parent keen to take up the funded nursery place.`,
      confidence: rng.pick(['low', 'medium'] as const),
    },
  });
}

import type { EventOfType } from '@throughline/contracts';
import { addDays, addMonths, ageInYears, dayNumber, isoDateOf } from './calendar';
import {
  type EventSink,
  caseHolderOn,
  subjectOn,
  type NeedsLevel,
  type SocialCareEpisode,
  type SocialCareRecord,
} from './history';
import type { ChildProfile } from './history';
import { LOCAL_AUTHORITY, SYSTEMS } from './names';
import type { Random } from './random';

type ReferralSource = EventOfType<'social-care.referral.received'>['data']['referralSource'];
type Factor = EventOfType<'social-care.assessment.completed'>['data']['factors'][number];
type AbuseCategory = EventOfType<'social-care.child-protection-plan.started'>['data']['initialCategory'];

const SERIOUS_FACTORS: readonly Factor[] = [
  '3A',
  '3B',
  '4B',
  '2B',
  '1B',
  '16A',
  '17A',
  '18C',
  '10A',
  '24A',
  '11A',
  '15A',
];
const MODERATE_FACTORS: readonly Factor[] = ['4B', '6B', '3B', '5B', '7A', '16A', '4A', '14A'];

/** Decides whether and when the child comes to children's social care; most never do. */
export function planSocialCareEpisode(
  dateOfBirth: string,
  horizon: string,
  needs: NeedsLevel,
  rng: Random,
): SocialCareEpisode | undefined {
  const referred = rng.chance({ universal: 0.05, additional: 0.4, complex: 0.95 }[needs]);
  const firstDay = dayNumber(dateOfBirth) + 60;
  const lastDay = dayNumber(horizon) - 30;
  if (!referred || lastDay <= firstDay) return undefined;
  const referralDate = isoDateOf(rng.int(firstDay, lastDay));
  const age = ageInYears(dateOfBirth, referralDate);
  const referralSource = rng.weighted<ReferralSource>([
    ['6', 25],
    ['2A', age >= 4 ? 20 : 0],
    ['3B', age < 5 ? 12 : 0],
    ['3A', 5],
    ['3E', 8],
    ['1A', 6],
    ['4', 3],
    ['5D', 8],
    ['9', 4],
  ]);
  const noFurtherAction = rng.chance(needs === 'complex' ? 0.05 : 0.2);
  if (noFurtherAction) return { referralDate, referralSource, noFurtherAction };
  const startDate = addDays(referralDate, rng.int(1, 7));
  const assessment = { startDate, authorisationDate: addDays(startDate, rng.int(10, 45)) };
  if (!rng.chance(needs === 'complex' ? 0.55 : 0.1))
    return { referralDate, referralSource, noFurtherAction, assessment };
  const planStart = addDays(assessment.authorisationDate, rng.int(5, 15));
  return {
    referralDate,
    referralSource,
    noFurtherAction,
    assessment,
    childProtectionPlan: { startDate: planStart, endDate: addMonths(planStart, rng.int(9, 18)) },
  };
}

export function socialCareRecordOf(
  profile: ChildProfile,
  upn: string | undefined,
  carries: { nhsNumber: boolean; upn: boolean },
  identity: Pick<SocialCareRecord, 'demographics' | 'nhsNumberKnownFrom' | 'upnKnownFrom' | 'transfer'>,
): SocialCareRecord {
  const laChildId = String(profile.number).padStart(6, '0');
  return {
    agency: 'social-care',
    recordId: `LA${LOCAL_AUTHORITY.code}-${laChildId}`,
    laCode: LOCAL_AUTHORITY.code,
    laChildId,
    ...(carries.nhsNumber ? { nhsNumber: profile.nhsNumber } : {}),
    ...(carries.upn && upn ? { upn } : {}),
    ...(carries.nhsNumber && identity.nhsNumberKnownFrom
      ? { nhsNumberKnownFrom: identity.nhsNumberKnownFrom }
      : {}),
    ...(carries.upn && upn && identity.upnKnownFrom ? { upnKnownFrom: identity.upnKnownFrom } : {}),
    ...(identity.transfer ? { transfer: identity.transfer } : {}),
    demographics: identity.demographics,
  };
}

function categoryOf(factors: readonly Factor[]): AbuseCategory {
  if (factors.includes('18C')) return 'PHY';
  if (factors.includes('19C')) return 'SAB';
  if (factors.includes('17A') || factors.includes('3A') || factors.includes('3B')) return 'EMO';
  return 'NEG';
}

/** Referral, assessment and perhaps a child protection plan, as the case system records them. */
export function generateSocialCareHistory(
  profile: ChildProfile,
  record: SocialCareRecord,
  rng: Random,
  sink: EventSink,
): void {
  const episode = profile.socialCare;
  if (!episode) return;
  // The case system's view on a date: the identifiers it holds then, and the authority holding the case.
  const sourceOn = (date: string) => ({
    agency: 'social-care' as const,
    system: SYSTEMS.socialCare,
    organisation: caseHolderOn(record, date).laCode,
  });
  const name = profile.givenName;
  const referralId = sink.emitOn('social-care.referral.received', episode.referralDate, rng, {
    source: sourceOn(episode.referralDate),
    subject: subjectOn(record, episode.referralDate),
    data: {
      referralDate: episode.referralDate,
      referralSource: episode.referralSource,
      primaryNeed: rng.weighted([
        ['N1', 45],
        ['N4', 15],
        ['N5', 15],
        ['N3', 8],
        ['N2', 7],
        ['N8', 5],
        ['N6', 5],
      ] as const),
      noFurtherAction: episode.noFurtherAction,
      narrative: episode.noFurtherAction
        ? `Information gathered from school and GP; no role for children's social care. Family signposted to early help.`
        : rng.pick([
            `Concerns about ${name}'s care at home reported; parent agreed to a single assessment.`,
            `Repeated domestic incidents at the address with ${name} present. Strategy discussion held; assessment to start.`,
            `${name} disclosed to a trusted adult that they are frightened at home. Assessment to start.`,
          ]),
    },
  });
  const assessment = episode.assessment;
  if (!assessment) return;
  const correlationId = referralId;
  const factors: Factor[] =
    profile.needs === 'complex'
      ? rng.sample(SERIOUS_FACTORS, rng.int(2, 4))
      : rng.chance(0.1)
        ? ['21']
        : rng.sample(MODERATE_FACTORS, rng.int(1, 2));
  sink.emitOn('social-care.assessment.completed', assessment.authorisationDate, rng, {
    source: sourceOn(assessment.authorisationDate),
    subject: subjectOn(record, assessment.authorisationDate),
    correlationId,
    data: {
      startDate: assessment.startDate,
      authorisationDate: assessment.authorisationDate,
      factors,
      narrative: factors.includes('21')
        ? `No factors identified. ${name} is well cared for; family offered a parenting course.`
        : rng.pick([
            `${name}'s parent is struggling with their own mental health and alcohol use; routines have broken down. ${name} is loyal to the parent and worried about them.`,
            `Home conditions are poor and ${name} is often late to school and hungry. The parent accepts some of the worries but not all.`,
            `Domestic abuse between the adults is the main worry; ${name} describes hiding upstairs when arguments start.`,
          ]),
    },
  });
  const plan = episode.childProtectionPlan;
  if (!plan) return;
  sink.emitOn('social-care.child-protection-plan.started', plan.startDate, rng, {
    source: sourceOn(plan.startDate),
    subject: subjectOn(record, plan.startDate),
    correlationId,
    data: {
      startDate: plan.startDate,
      initialCategory: categoryOf(factors),
      numberOfPreviousPlans: rng.chance(0.15) ? 1 : 0,
      rationale: `The initial child protection conference agreed ${name} is likely to suffer significant harm without a plan. Options considered: continuing child in need support (rejected: worries persisted despite support) and legal planning (not yet proportionate). Plan focuses on safety at home and regular school attendance.`,
      reviewDate: addMonths(plan.startDate, 3),
    },
  });
}

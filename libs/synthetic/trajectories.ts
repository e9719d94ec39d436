import { addDays, dayNumber } from './calendar';
import type { ChildProfile, EarlyHelpNeed, EducationRecord, SocialCareEpisode } from './history';
import type { Random } from './random';

/**
 * The course of a child's outcome in one domain over the years, planned before anything is
 * recorded about it: observations (each perspective its own view of it) and decision reviews
 * (what happened against what was expected) read from the same plan, so they tell one story.
 */

export type Course = 'improving' | 'worsening' | 'fluctuating' | 'steady';

export interface Scale {
  readonly scale: string;
  readonly min: number;
  readonly max: number;
}

export const SAFETY_SCALE: Scale = { scale: 'sos-safety', min: 0, max: 10 };
export const JOURNEY_SCALE: Scale = { scale: 'journey-of-change', min: 1, max: 10 };

/** The Journey of Change star's domains the early help plans here work on. */
export type StarDomain =
  | 'family-routine'
  | 'education-and-learning'
  | 'wellbeing'
  | 'meeting-emotional-needs'
  | 'keeping-children-safe'
  | 'boundaries-and-behaviour'
  | 'home-and-money';

export type TrackedDomain =
  | { readonly framework: 'signs-of-safety'; readonly domain: 'safety' }
  | { readonly framework: 'ecm'; readonly domain: 'enjoy-and-achieve' | 'be-healthy' | 'stay-safe' }
  | { readonly framework: 'journey-of-change'; readonly domain: StarDomain };

export interface Track {
  readonly framework: TrackedDomain['framework'];
  readonly domain: TrackedDomain['domain'];
  readonly scale: Scale;
  readonly course: Course;
  /** The course runs from `from` to `to`; the level then holds until `until`, the last day anyone rates it. */
  readonly from: string;
  readonly to: string;
  readonly until: string;
  /** Normalised level (0 worst, 1 best) at `from` and at `to`; a fluctuating course swings around their mean. */
  readonly startLevel: number;
  readonly endLevel: number;
  /** Fluctuation: swing (normalised) and period in days. */
  readonly swing: number;
  readonly periodDays: number;
  readonly phase: number;
  /** How far the family's view sits above (or below) the professionals' at the start; it narrows as time passes. */
  readonly familyGap: number;
  /** The other agency's view against the lead professional's (positive: they see it better). */
  readonly otherGap: number;
  /** The child's view runs this many days ahead of what the adults see. */
  readonly childLeadDays: number;
  /** The social-care episode a safety track belongs to. */
  readonly episode?: SocialCareEpisode;
}

const clamp01 = (value: number) => Math.max(0, Math.min(1, value));
const smoothstep = (p: number) => p * p * (3 - 2 * p);

/** The level of the domain on a date (no observer's noise), 0 = the worse end, 1 = the better. */
export function levelOn(track: Track, isoDate: string): number {
  const span = Math.max(1, dayNumber(track.to) - dayNumber(track.from));
  const p = clamp01((dayNumber(isoDate) - dayNumber(track.from)) / span);
  const trend = track.startLevel + (track.endLevel - track.startLevel) * smoothstep(p);
  if (track.course !== 'fluctuating') return clamp01(trend);
  const days = dayNumber(isoDate) - dayNumber(track.from);
  return clamp01(trend + track.swing * Math.sin((2 * Math.PI * days) / track.periodDays + track.phase));
}

/** Share of the track's span that has passed on a date (0 before it starts, 1 after it ends). */
export function progressOn(track: Track, isoDate: string): number {
  const span = Math.max(1, dayNumber(track.to) - dayNumber(track.from));
  return clamp01((dayNumber(isoDate) - dayNumber(track.from)) / span);
}

function levels(course: Course, rng: Random): { startLevel: number; endLevel: number } {
  switch (course) {
    case 'improving':
      return { startLevel: rng.int(10, 30) / 100, endLevel: rng.int(65, 85) / 100 };
    case 'worsening':
      return { startLevel: rng.int(55, 75) / 100, endLevel: rng.int(10, 25) / 100 };
    case 'fluctuating': {
      const mid = rng.int(40, 60) / 100;
      return { startLevel: mid, endLevel: mid + rng.int(-5, 5) / 100 };
    }
    case 'steady': {
      const level = rng.int(45, 75) / 100;
      return { startLevel: level, endLevel: level };
    }
  }
}

function track(
  domain: TrackedDomain,
  course: Course,
  from: string,
  until: string,
  rng: Random,
  options: {
    familyGap?: number;
    childLeadDays?: number;
    episode?: SocialCareEpisode;
    earlyHelp?: boolean;
  } = {},
): Track {
  // A case's safety changes over one or two years, the ECM domains over three to six, then hold.
  const planned = options.earlyHelp
    ? until
    : options.episode
      ? addDays(from, rng.int(300, 700))
      : addDays(from, rng.int(3 * 365, 6 * 365));
  return {
    ...domain,
    scale: domain.framework === 'signs-of-safety' ? SAFETY_SCALE : JOURNEY_SCALE,
    course,
    from,
    to: planned > until ? until : planned,
    until,
    ...levels(course, rng),
    swing: rng.int(15, 25) / 100,
    periodDays: rng.int(240, 420),
    phase: rng.next() * 2 * Math.PI,
    familyGap: options.familyGap ?? rng.int(-15, 20) / 100,
    otherGap: rng.weighted([
      [rng.int(-10, 10) / 100, 3],
      [rng.int(25, 35) / 100, 1],
      [-rng.int(25, 35) / 100, 1],
    ] as const),
    childLeadDays: options.childLeadDays ?? rng.int(0, 60),
    ...(options.episode ? { episode: options.episode } : {}),
  };
}

const STAR_DOMAIN_OF_NEED: Readonly<Record<EarlyHelpNeed, StarDomain>> = {
  education: 'education-and-learning',
  'early-years': 'education-and-learning',
  health: 'wellbeing',
  'substance-use': 'wellbeing',
  relationships: 'meeting-emotional-needs',
  safeguarding: 'keeping-children-safe',
  crime: 'boundaries-and-behaviour',
  'domestic-abuse': 'keeping-children-safe',
  housing: 'home-and-money',
  'financial-stability': 'home-and-money',
};

/** How an episode went, as its safety scaling shows it. */
function safetyCourse(episode: SocialCareEpisode, rng: Random): Course {
  const plan = episode.childProtectionPlan;
  if (plan?.endReason === 'looked-after' || episode.lookedAfter?.route === 'care-proceedings')
    return 'worsening';
  if (plan && (plan.endReason === 'no-longer-at-risk' || plan.endReason === 'child-in-need-plan'))
    return 'improving';
  if (episode.closure) return rng.chance(0.7) ? 'improving' : 'fluctuating';
  return rng.pick(['fluctuating', 'worsening', 'improving'] as const);
}

/**
 * The domains practitioners rate for this child, each with its course: safety scaling through
 * each social-care episode; for a child with additional or complex needs, learning (enjoy and
 * achieve) through school, health and, once known to social care, staying safe. A child with
 * complex needs always has one domain improving and one worsening, as real children do.
 */
export function planTrajectories(
  profile: ChildProfile,
  education: readonly EducationRecord[],
  rng: Random,
): Track[] {
  const tracks: Track[] = [];
  const farFuture = addDays(profile.horizon, 3650);
  for (const episode of profile.socialCare ?? []) {
    const assessment = episode.assessment;
    if (!assessment) continue;
    const from = addDays(
      episode.childProtectionPlan?.startDate ?? assessment.authorisationDate,
      rng.int(7, 20),
    );
    // Worsening ends where the child comes into care; otherwise scaling stops when the case closes.
    const care = episode.lookedAfter;
    const to = care ? care.startDate : (episode.closure?.date ?? farFuture);
    if (to <= from) continue;
    const course = safetyCourse(episode, rng);
    tracks.push(
      track({ framework: 'signs-of-safety', domain: 'safety' }, course, from, to, rng, {
        // The family rates safety well above the social worker at first.
        familyGap: rng.int(25, 40) / 100,
        // The child's view changes first.
        childLeadDays: rng.int(90, 180),
        episode,
      }),
    );
  }
  // A family's Journey of Change star, completed with the family support worker through each early help plan.
  for (const episode of profile.socialCare ?? [])
    for (const plan of episode.earlyHelp) {
      const from = addDays(plan.startDate, rng.int(7, 20));
      if (from >= plan.endDate || from > profile.horizon) continue;
      const course: Course =
        plan.endReason === 'stepped-up' || plan.endReason === 'no-engagement'
          ? 'worsening'
          : plan.endReason === 'family-withdrew'
            ? 'fluctuating'
            : 'improving';
      const domains = new Set<StarDomain>([
        'family-routine',
        ...plan.needs.map((need) => STAR_DOMAIN_OF_NEED[need]),
      ]);
      for (const domain of [...domains].slice(0, 3))
        tracks.push(
          track({ framework: 'journey-of-change', domain }, course, from, plan.endDate, rng, {
            familyGap: rng.int(-10, 20) / 100,
            childLeadDays: rng.int(0, 30),
            earlyHelp: true,
          }),
        );
    }

  const known = (profile.socialCare ?? []).find((episode) => episode.assessment);
  // A child known to social care, or with additional or complex needs, has the ECM domains rated too.
  if (profile.needs === 'universal' && !known) return tracks;

  const ecm: { domain: TrackedDomain; from: string; to: string }[] = [];
  const firstSchool = education[0];
  if (firstSchool) {
    const last = education[education.length - 1];
    const schoolEnds =
      last.leaving && !education.some((r) => r.entryDate > last.leaving!.date)
        ? last.leaving.date
        : farFuture;
    ecm.push({
      domain: { framework: 'ecm', domain: 'enjoy-and-achieve' },
      from: addDays(firstSchool.entryDate, rng.int(60, 100)),
      to: schoolEnds,
    });
  }
  if (profile.needs === 'complex' || (profile.needs === 'additional' && rng.chance(0.5)))
    ecm.push({
      domain: { framework: 'ecm', domain: 'be-healthy' },
      from: addDays(profile.dateOfBirth, rng.int(300, 420)),
      to: farFuture,
    });
  if (known?.assessment)
    ecm.push({
      domain: { framework: 'ecm', domain: 'stay-safe' },
      from: addDays(known.assessment.authorisationDate, rng.int(20, 60)),
      to: farFuture,
    });
  // Over the years these play out differently: one improves while another worsens.
  const courses: Course[] =
    profile.needs === 'complex'
      ? rng.chance(0.5)
        ? ['improving', 'worsening', rng.pick(['fluctuating', 'steady'] as const)]
        : ['worsening', 'improving', rng.pick(['fluctuating', 'steady'] as const)]
      : [rng.pick(['improving', 'worsening', 'fluctuating', 'steady'] as const), 'fluctuating', 'improving'];
  ecm
    .filter(({ from, to }) => from < to && from <= profile.horizon)
    .forEach(({ domain, from, to }, index) =>
      tracks.push(track(domain, courses[index % courses.length], from, to, rng)),
    );
  return tracks;
}

/** The track of a domain on a date, if anyone rates it then. */
export function trackOn(
  tracks: readonly Track[],
  framework: string,
  domain: string,
  isoDate: string,
): Track | undefined {
  return tracks.find(
    (t) => t.framework === framework && t.domain === domain && t.from <= isoDate && isoDate <= t.until,
  );
}

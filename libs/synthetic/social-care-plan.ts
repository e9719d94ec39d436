import { collectionYearOf } from '@throughline/contracts';
import { addDays, addMonths, ageInYears, dayNumber, earlierOf, isoDateOf, laterOf } from './calendar';
import type {
  AbuseCategory,
  AssessmentFactor,
  CinPlan,
  EarlyHelpNeed,
  EarlyHelpPlan,
  LookedAfterPlan,
  MissingEpisode,
  NeedsLevel,
  PlacementProvider,
  PlacementStage,
  PlacementType,
  PrimaryNeed,
  ProtectionPlan,
  ProtectionPlanReview,
  ReferralSource,
  SocialCareEpisode,
  SocialCareHistory,
} from './history';
import type { Random } from './random';

/**
 * Plans a child's time with children's social care up front (the health and school histories
 * react to it): contacts, early help, referrals, assessments, enquiries, plans, care, closures.
 * Pure dates and codes; `social-care.ts` turns the plan into the case system's events.
 */

type Weights<T> = readonly (readonly [T, number])[];

const SERIOUS_FACTORS: readonly AssessmentFactor[] = [
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
const MODERATE_FACTORS: readonly AssessmentFactor[] = ['4B', '6B', '3B', '5B', '7A', '16A', '4A', '14A'];

/** Share of children with any contact with the front door or early help, by level of need. */
const INVOLVEMENT: Readonly<Record<NeedsLevel, number>> = {
  universal: 0.08,
  additional: 0.55,
  complex: 0.97,
};

/** What the contact leads to: advice at the front door, early help, or a referral. */
const ROUTE: Readonly<Record<NeedsLevel, Weights<'advice' | 'early-help' | 'referral'>>> = {
  universal: [
    ['advice', 45],
    ['early-help', 30],
    ['referral', 25],
  ],
  additional: [
    ['advice', 10],
    ['early-help', 35],
    ['referral', 55],
  ],
  complex: [
    ['early-help', 5],
    ['referral', 95],
  ],
};

/** What the single assessment leads to. */
type AssessmentOutcome = NonNullable<SocialCareEpisode['assessment']>['outcome'];
const ASSESSMENT_OUTCOME: Readonly<Record<NeedsLevel, Weights<AssessmentOutcome>>> = {
  universal: [
    ['nfa', 50],
    ['early-help', 25],
    ['cin', 25],
  ],
  additional: [
    ['nfa', 25],
    ['early-help', 20],
    ['cin', 35],
    ['s47', 17],
    ['looked-after', 3],
  ],
  complex: [
    ['nfa', 4],
    ['early-help', 4],
    ['cin', 20],
    ['s47', 60],
    ['looked-after', 12],
  ],
};

const EARLY_HELP_NEEDS_UNDER_5: readonly EarlyHelpNeed[] = [
  'early-years',
  'health',
  'relationships',
  'housing',
  'financial-stability',
  'domestic-abuse',
];
const EARLY_HELP_NEEDS_AT_SCHOOL: readonly EarlyHelpNeed[] = [
  'education',
  'health',
  'relationships',
  'crime',
  'substance-use',
  'domestic-abuse',
  'financial-stability',
];

function drawReferralSource(age: number, rng: Random): ReferralSource {
  return rng.weighted<ReferralSource>([
    ['6', 25],
    ['2A', age >= 4 ? 20 : 0],
    ['3B', age < 5 ? 12 : 0],
    ['3A', 5],
    ['3E', 8],
    ['1A', 6],
    ['4', 3],
    ['9', 4],
  ]);
}

function planEarlyHelp(
  startDate: string,
  age: number,
  rng: Random,
  ending?: Pick<EarlyHelpPlan, 'endDate' | 'endReason'>,
): EarlyHelpPlan {
  const pool = age < 5 ? EARLY_HELP_NEEDS_UNDER_5 : EARLY_HELP_NEEDS_AT_SCHOOL;
  return {
    startDate,
    needs: rng.sample(pool, rng.int(1, 3)),
    leadPractitioner:
      age < 5
        ? rng.pick(['health visitor, health visiting service', "family support worker, children's centre"])
        : rng.pick([
            'pastoral lead, school',
            'family support worker, early help hub',
            age >= 11 ? 'youth worker, early help hub' : 'school nurse, 0-19 service',
          ]),
    ...(ending ?? {
      endDate: addMonths(startDate, rng.int(3, 12)),
      endReason: rng.weighted([
        ['needs-met', 60],
        ['no-engagement', 15],
        ['family-withdrew', 12],
        ['moved-away', 5],
        ['other', 8],
      ] as const),
    }),
  };
}

function categoryOf(factors: readonly AssessmentFactor[]): AbuseCategory {
  if (factors.includes('18C')) return 'PHY';
  if (factors.includes('19C')) return 'SAB';
  if (factors.includes('17A') || factors.includes('3A') || factors.includes('3B')) return 'EMO';
  return 'NEG';
}

/** Reviews at three months, then every six; the plan ends at a review (or when the child becomes looked after). */
function planProtectionPlan(
  startDate: string,
  category: AbuseCategory,
  needs: NeedsLevel,
  previousPlans: number,
  rng: Random,
  extra: Random,
): ProtectionPlan {
  const endReason = rng.weighted<ProtectionPlan['endReason']>([
    ['no-longer-at-risk', 40],
    ['child-in-need-plan', 35],
    ['looked-after', needs === 'complex' ? 25 : 8],
  ]);
  // Reviews at 3, 9, 15, 21… months: five or more keep the plan open past two years, as about 4%
  // of the plans ceasing in a year were (DfE, Characteristics of children in need, 2023-24;
  // the LAIT measure "CP plans lasting 2 years or more", ../shared/domain/ANALYSIS.md [12]).
  const drawn = rng.weighted([
    [1, 25],
    [2, 35],
    [3, 25],
    [4, 15],
  ] as const);
  const reviewCount =
    drawn === 4 && endReason !== 'looked-after' && extra.chance(0.6) ? (extra.chance(0.7) ? 5 : 6) : drawn;
  const reviewDates = [addMonths(startDate, 3)];
  while (reviewDates.length < reviewCount)
    reviewDates.push(addMonths(reviewDates[reviewDates.length - 1], 6));
  let latestCategory = category;
  const reviews: ProtectionPlanReview[] = [];
  if (endReason === 'looked-after') {
    // Proceedings are issued between reviews; the care plan replaces the protection plan.
    const lastReview = reviewDates[reviewDates.length - 1];
    const endDate = addDays(lastReview, -rng.int(14, 60));
    for (const date of reviewDates.filter((d) => d < endDate)) {
      reviews.push({ date, latestCategory, continues: true, nextReviewDate: addMonths(date, 6) });
    }
    return {
      startDate,
      endDate: laterOf(endDate, addDays(startDate, 21)),
      initialCategory: category,
      latestCategory,
      previousPlans,
      reviews,
      endReason,
    };
  }
  reviewDates.forEach((date, index) => {
    if (rng.chance(0.1)) latestCategory = latestCategory === 'NEG' ? 'EMO' : 'NEG';
    const continues = index < reviewDates.length - 1;
    reviews.push({
      date,
      latestCategory,
      continues,
      ...(continues ? { nextReviewDate: reviewDates[index + 1] } : {}),
    });
  });
  return {
    startDate,
    endDate: reviewDates[reviewDates.length - 1],
    initialCategory: category,
    latestCategory,
    previousPlans,
    reviews,
    endReason,
  };
}

function planCinPlan(startDate: string, rng: Random, allowCare: boolean, needs: NeedsLevel): CinPlan {
  return {
    startDate,
    endDate: addMonths(startDate, rng.int(4, 14)),
    endReason: rng.weighted<CinPlan['endReason']>([
      ['needs-met', 55],
      ['early-help', 22],
      ['family-withdrew', 10],
      ['other', 5],
      ['looked-after', allowCare && needs === 'complex' ? 8 : 0],
    ]),
  };
}

function providerFor(placement: PlacementType, rng: Random): PlacementProvider {
  if (placement === 'U1' || placement === 'U3' || placement === 'U2') return 'PR1';
  if (placement === 'K2') return rng.chance(0.7) ? 'PR4' : 'PR1';
  if (placement === 'H5' || placement === 'K3') return 'PR4';
  return rng.chance(0.6) ? 'PR1' : 'PR4';
}

/** Supported accommodation for 16-17s is H5 up to 2023-24 and K3 (registered) from 2024-25. */
function firstPlacement(age: number, startDate: string, rng: Random): PlacementType {
  if (age < 11)
    return rng.weighted<PlacementType>([
      ['U6', 60],
      ['U3', 35],
      ['U5', age < 2 ? 5 : 0],
    ]);
  return rng.weighted<PlacementType>([
    ['U6', 45],
    ['K2', 32],
    ['U3', 15],
    [collectionYearOf(startDate) >= '2024-25' ? 'K3' : 'H5', age >= 16 ? 8 : 0],
  ]);
}

/**
 * A period of care: the first placement and legal status, changes of either (each a new SSDA903
 * episode), reviews at 20 working days, three months and then six-monthly, missing episodes
 * for the most complex teenagers, and how it ends (or does not, for long-term care).
 */
function planLookedAfter(
  startDate: string,
  dateOfBirth: string,
  route: LookedAfterPlan['route'],
  needs: NeedsLevel,
  rng: Random,
  extra: Random,
): LookedAfterPlan {
  const draws = rng;
  const age = ageInYears(dateOfBirth, startDate);
  const eighteen = addMonths(dateOfBirth, 18 * 12);
  const legalStatus =
    route === 'section-20'
      ? 'V2'
      : rng.weighted([
          ['C1', 70],
          ['L2', 15],
          ['V2', 15],
        ] as const);
  const placement = firstPlacement(age, startDate, rng);
  const stages: PlacementStage[] = [
    { from: startDate, legalStatus, placement, provider: providerFor(placement, rng) },
  ];
  // How the period ends, and after how many months.
  const [reason, months] =
    route === 'care-proceedings'
      ? rng.weighted([
          [['E4A', rng.int(8, 20)], 30],
          [[placement === 'U3' ? 'E45' : 'E47', rng.int(12, 24)], 25],
          [['E41', rng.int(10, 20)], 10],
          [[undefined, 0], 35],
        ] as const)
      : rng.weighted([
          [['E4A', rng.int(1, 9)], 45],
          [['E13', rng.int(3, 12)], 15],
          [['E8', rng.int(2, 10)], 5],
          [[undefined, 0], 35],
        ] as const);
  let end: LookedAfterPlan['end'] = reason ? { date: addMonths(startDate, months), reason } : undefined;
  if ((end && end.date >= eighteen) || (!end && addMonths(startDate, 72) >= eighteen))
    end = { date: eighteen, reason: rng.chance(0.6) ? 'E17' : 'E5' };
  const until = end?.date ?? addMonths(startDate, 72);

  const changes: PlacementStage[] = [];
  const current = () => [...stages, ...changes].sort((a, b) => (a.from < b.from ? -1 : 1)).at(-1)!;
  // An emergency protection order lasts eight days; an interim care order follows.
  if (legalStatus === 'L2') {
    const from = addDays(startDate, rng.int(6, 8));
    if (from < until) changes.push({ ...current(), from, legalStatus: 'C1', reasonForNewEpisode: 'L' });
  }
  const finalOrder =
    route === 'care-proceedings' && (reason === undefined || reason === 'E4A')
      ? addMonths(startDate, rng.int(6, 12))
      : route === 'section-20' && reason === undefined && rng.chance(0.25)
        ? addMonths(startDate, rng.int(2, 8))
        : undefined;
  if (finalOrder && finalOrder < until) {
    const before = current();
    if (route === 'section-20') {
      changes.push({ ...before, from: finalOrder, legalStatus: 'C1', reasonForNewEpisode: 'L' });
    } else if (reason === undefined && before.placement === 'U6' && rng.chance(0.6)) {
      // A full care order with the current foster carers becoming long-term carers: both change, same carers.
      changes.push({
        ...before,
        from: finalOrder,
        legalStatus: 'C2',
        placement: 'U4',
        reasonForNewEpisode: 'U',
        reasonPlaceChange: 'CARPL',
      });
    } else {
      changes.push({ ...before, from: finalOrder, legalStatus: 'C2', reasonForNewEpisode: 'L' });
    }
  }
  const moves = rng.weighted([
    [0, needs === 'complex' ? 35 : 55],
    [1, 30],
    [2, 20],
    [3, needs === 'complex' ? 15 : 0],
  ] as const);
  const span = dayNumber(until) - dayNumber(startDate);
  const moveDays = Array.from({ length: span > 40 ? moves : 0 }, () => rng.int(20, span - 10)).sort(
    (a, b) => a - b,
  );
  // One breakdown often brings the next: a move is followed within months by another, and now and
  // then a third (drawn from their own stream). About 10% of children looked after at 31 March
  // had three or more placements in the year (DfE, Children looked after in England, 2023-24;
  // the LAIT placement stability measure, ../shared/domain/ANALYSIS.md [12]).
  const followOns = new Set<number>();
  for (const offset of moveDays) {
    let after = offset;
    for (const chance of [0.6, 0.35]) {
      if (!extra.chance(chance)) break;
      after += extra.int(20, 200);
      if (after > span - 10 || moveDays.includes(after)) break;
      followOns.add(after);
    }
  }
  const allMoveDays = [...moveDays, ...followOns].sort((a, b) => a - b);
  for (const offset of allMoveDays) {
    // A follow-on move's details come from its own stream, so the first moves stay as they were.
    const rng = followOns.has(offset) ? extra : draws;
    const from = addDays(startDate, offset);
    if ([...stages, ...changes].some((stage) => stage.from === from)) continue;
    const before = [...stages, ...changes]
      .filter((stage) => stage.from < from)
      .sort((a, b) => (a.from < b.from ? -1 : 1))
      .at(-1)!;
    const teen = ageInYears(dateOfBirth, from) >= 12;
    const next = teen && rng.chance(0.4) ? 'K2' : before.placement === 'U4' ? 'U4' : 'U6';
    changes.push({
      ...before,
      from,
      placement: next,
      provider: providerFor(next, rng),
      reasonForNewEpisode: 'P',
      reasonPlaceChange: rng.weighted([
        ['CREQB', teen ? 30 : 10],
        ['CREQO', 20],
        ['CARPL', 25],
        ['CHILD', teen ? 15 : 0],
        ['STAND', 5],
        ['LAREQ', 5],
      ] as const),
    });
  }
  changes.sort((a, b) => (a.from < b.from ? -1 : 1));
  // Later changes carry the legal status and placement in force when they happen.
  const allStages = [...stages];
  for (const change of changes) {
    const previous = allStages[allStages.length - 1];
    if (change.reasonForNewEpisode === 'P') {
      allStages.push({ ...change, legalStatus: previous.legalStatus });
    } else if (change.reasonForNewEpisode === 'U' && previous.placement === 'U6') {
      allStages.push({ ...change, provider: previous.provider });
    } else {
      // A change of legal status only (an order made while the child stays where they are).
      const { reasonPlaceChange: _, ...legalOnly } = change;
      allStages.push({
        ...legalOnly,
        placement: previous.placement,
        provider: previous.provider,
        reasonForNewEpisode: 'L',
      });
    }
  }
  // A special guardianship order goes to the carers the child lives with at the end.
  const lastPlacement = allStages[allStages.length - 1].placement;
  if (end && (end.reason === 'E45' || end.reason === 'E47'))
    end = {
      ...end,
      reason:
        lastPlacement === 'U3' ? 'E45' : lastPlacement === 'U4' || lastPlacement === 'U6' ? 'E46' : 'E47',
    };

  const reviews: { date: string; nextReviewDate: string }[] = [];
  let review = addDays(startDate, rng.int(20, 28));
  let gap = 3;
  while (review < until) {
    const next = addMonths(review, gap);
    reviews.push({ date: review, nextReviewDate: next });
    review = addDays(next, -rng.int(0, 7));
    gap = 6;
  }

  // Going missing from care: the most complex children, once they are eleven or older.
  const missing: MissingEpisode[] = [];
  const elevenOn = addMonths(dateOfBirth, 11 * 12);
  if ((needs === 'complex' || route === 'section-20') && elevenOn < addDays(until, -10) && span > 30) {
    const count = rng.weighted([
      [0, 20],
      [1, 25],
      [2, 25],
      [4, 30],
    ] as const);
    const from = Math.max(7, dayNumber(elevenOn) - dayNumber(startDate));
    for (const offset of Array.from({ length: count }, () => rng.int(from, span - 5)).sort((a, b) => a - b)) {
      const start = addDays(startDate, offset);
      if (missing.some((episode) => episode.endDate >= start)) continue;
      const offered = rng.chance(0.9);
      missing.push({
        kind: rng.chance(0.6) ? 'M' : 'A',
        startDate: start,
        endDate: earlierOf(addDays(start, rng.int(0, 3)), addDays(until, -1)),
        returnInterviewOffered: offered,
        returnInterviewAccepted: offered && rng.chance(0.5),
      });
    }
  }
  return {
    startDate,
    route,
    needCategory: route === 'care-proceedings' ? 'N1' : rng.pick(['N4', 'N5', 'N6'] as const),
    stages: allStages,
    reviews,
    missing,
    ...(end ? { end } : {}),
  };
}

/**
 * The chance that a child whose case has closed is referred again (up to four episodes in all).
 * With the quick returns after a quick closure, about 18% of the generated referrals come within
 * 12 months of a previous one (1,000 children, demo seed), near England's 22% or so (DfE,
 * Characteristics of children in need, re-referrals within 12 months, 2013-2025:
 * ../shared/domain/ANALYSIS.md [13], [14]).
 */
const RE_REFERRAL: Readonly<Record<NeedsLevel, number>> = { universal: 0.4, additional: 0.7, complex: 0.9 };
const EARLIER_RE_REFERRAL: Readonly<Record<NeedsLevel, number>> = {
  universal: 0.05,
  additional: 0.2,
  complex: 0.5,
};
const SOON_AFTER_QUICK_CLOSURE = 0.95;

/** When an episode is over, so that another may begin: undefined while a referral is still open. */
function episodeEnd(episode: SocialCareEpisode): string | undefined {
  if (episode.referral && !episode.closure) return undefined;
  const ends = [episode.contact.date, ...episode.earlyHelp.map((help) => help.endDate)];
  if (episode.closure) ends.push(episode.closure.date);
  return ends.sort()[ends.length - 1];
}

/**
 * Decides whether and how the child comes to children's social care; most never do. Some come
 * back: a re-referral months or years after the last episode ended (more for complex needs),
 * which is when adolescents at risk outside the home appear.
 */
export function planSocialCare(
  dateOfBirth: string,
  horizon: string,
  needs: NeedsLevel,
  rng: Random,
  /** The draws added for the analysts' measures (quick re-referrals, long plans, follow-on moves). */
  extra: Random,
): SocialCareHistory | undefined {
  if (!rng.chance(INVOLVEMENT[needs])) return undefined;
  const first = planSocialCareEpisode(dateOfBirth, horizon, needs, rng, extra, {
    from: dayNumber(dateOfBirth) + 60,
  });
  if (!first) return undefined;
  const episodes = [first];
  while (episodes.length < 4) {
    const last = episodes[episodes.length - 1];
    const ended = episodeEnd(last);
    const roll = ended ? rng.next() : undefined;
    if (!ended || roll === undefined || roll >= RE_REFERRAL[needs]) break;
    const plans = episodes.filter((episode) => episode.childProtectionPlan).length;
    // A case closed soon after its referral (no further action, early help) most often comes back
    // within the year of that referral; others months or years after the case closed.
    // (Drawn from their own stream, so a child's other draws stay as they were.)
    const later = dayNumber(ended) + rng.int(90, 720);
    const referred = last.referral && dayNumber(last.referral.date);
    // The returns the generator always made come months or years later; the ones added since
    // (a roll above the earlier chance) mostly soon after a quick closure.
    const soon =
      roll >= EARLIER_RE_REFERRAL[needs] &&
      referred !== undefined &&
      dayNumber(ended) - referred <= 330 &&
      extra.chance(SOON_AFTER_QUICK_CLOSURE);
    const from = soon ? Math.max(dayNumber(ended) + 14, referred + extra.int(60, 330)) : later;
    const next = planSocialCareEpisode(dateOfBirth, horizon, needs, rng, extra, {
      from,
      ...(soon ? { until: from + 30 } : {}),
      previousPlans: plans + (first.childProtectionPlan?.previousPlans ?? 0),
      reReferral: true,
    });
    if (!next) break;
    episodes.push(next);
  }
  return episodes;
}

/**
 * One episode: a contact answered at the front door, passed to early help, or become a
 * referral and then an assessment, a section 47 enquiry and conference, a child protection or
 * child in need plan, a period of care; the case closes with the CIN census reason that fits the path.
 */
function planSocialCareEpisode(
  dateOfBirth: string,
  horizon: string,
  needs: NeedsLevel,
  rng: Random,
  extra: Random,
  earlier: { from: number; until?: number; previousPlans?: number; reReferral?: boolean },
): SocialCareEpisode | undefined {
  const firstDay = earlier.from;
  // Histories end before eighteen: a contact after fifteen would run past it.
  const lastDay = Math.min(
    dayNumber(horizon) - 30,
    dayNumber(addMonths(dateOfBirth, 15 * 12)),
    earlier.until ?? Infinity,
  );
  if (lastDay <= firstDay) return undefined;
  const contactDate = isoDateOf(rng.int(firstDay, lastDay));
  const age = ageInYears(dateOfBirth, contactDate);
  // A re-referral comes back as a referral.
  const route = earlier.reReferral ? 'referral' : rng.weighted(ROUTE[needs]);
  const source = drawReferralSource(age, rng);

  if (route === 'advice') {
    const outcome = rng.weighted([
      ['information-advice', 40],
      ['signposted', 35],
      ['nfa', 25],
    ] as const);
    return { contact: { date: contactDate, source, outcome }, earlyHelp: [], cinPlans: [] };
  }
  if (route === 'early-help') {
    return {
      contact: { date: contactDate, source, outcome: 'early-help' },
      earlyHelp: [planEarlyHelp(addDays(contactDate, rng.int(5, 21)), age, rng)],
      cinPlans: [],
    };
  }

  // A referral, perhaps stepped up from early help that found the worries too great.
  const earlyHelp: EarlyHelpPlan[] = [];
  let contactSource = source;
  const steppedUpFrom = addDays(contactDate, -rng.int(90, 300));
  if (
    rng.chance({ universal: 0.05, additional: 0.25, complex: 0.3 }[needs]) &&
    dayNumber(steppedUpFrom) >= dayNumber(dateOfBirth) + 30
  ) {
    earlyHelp.push(
      planEarlyHelp(steppedUpFrom, ageInYears(dateOfBirth, steppedUpFrom), rng, {
        endDate: contactDate,
        endReason: 'stepped-up',
      }),
    );
    contactSource = '5D';
  }
  const referralDate = addDays(contactDate, rng.int(0, 2));
  const primaryNeed = rng.weighted<PrimaryNeed>([
    ['N1', 45],
    ['N4', 15],
    ['N5', 15],
    ['N3', 8],
    ['N2', 7],
    ['N8', 5],
    ['N6', 5],
  ]);
  const noFurtherAction = rng.chance({ universal: 0.3, additional: 0.12, complex: 0.03 }[needs]);
  const contact = { date: contactDate, source: contactSource, outcome: 'referral' as const };
  const referral = { date: referralDate, primaryNeed, noFurtherAction };
  if (noFurtherAction)
    return { contact, earlyHelp, referral, cinPlans: [], closure: { date: referralDate, reason: 'RC8' } };

  // Adolescents come into care more often straight from the assessment (family breakdown, exploitation).
  const outcome = rng.weighted(
    ASSESSMENT_OUTCOME[needs].map(([value, weight]) =>
      value === 'looked-after' && age >= 11 ? ([value, weight * 2.5] as const) : ([value, weight] as const),
    ),
  );
  const startDate = addDays(referralDate, rng.int(1, 7));
  const factors: AssessmentFactor[] =
    outcome === 's47' || outcome === 'looked-after'
      ? rng.sample(SERIOUS_FACTORS, rng.int(2, 4))
      : outcome !== 'cin' && rng.chance(0.4)
        ? ['21']
        : rng.sample(MODERATE_FACTORS, rng.int(1, 2));
  // Going missing is a common worry about adolescents in the most serious cases.
  if (
    age >= 11 &&
    (outcome === 's47' || outcome === 'looked-after') &&
    !factors.includes('10A') &&
    rng.chance(0.4)
  )
    factors.push('10A');
  const assessment = { startDate, authorisationDate: addDays(startDate, rng.int(10, 45)), factors, outcome };

  const cinPlans: CinPlan[] = [];
  let section47: SocialCareEpisode['section47'];
  let conference: SocialCareEpisode['conference'];
  let childProtectionPlan: ProtectionPlan | undefined;
  let lookedAfter: LookedAfterPlan | undefined;
  let closure: SocialCareEpisode['closure'];
  const close = (after: string, reason: NonNullable<SocialCareEpisode['closure']>['reason'], days = 14) => {
    closure = { date: addDays(laterOf(after, assessment.authorisationDate), rng.int(0, days)), reason };
  };
  const stepDownToEarlyHelp = () => {
    if (!closure) return;
    const from = addDays(closure.date, rng.int(3, 21));
    earlyHelp.push(planEarlyHelp(from, ageInYears(dateOfBirth, from), rng));
  };
  const afterCare = (care: LookedAfterPlan) => {
    lookedAfter = care;
    if (!care.end) return;
    switch (care.end.reason) {
      case 'E4A': {
        // Home again, with a child in need plan while the return settles.
        const plan = { ...planCinPlan(care.end.date, rng, false, needs), endReason: 'needs-met' as const };
        cinPlans.push(plan);
        close(plan.endDate, 'RC7');
        return;
      }
      case 'E45':
      case 'E46':
      case 'E47':
      case 'E48':
        close(care.end.date, 'RC4', 30);
        return;
      case 'E41':
        close(care.end.date, 'RC3', 30);
        return;
      default:
        close(care.end.date, 'RC7', 30);
    }
  };
  const afterCin = (plan: CinPlan) => {
    cinPlans.push(plan);
    if (plan.endReason === 'looked-after') {
      afterCare(planLookedAfter(plan.endDate, dateOfBirth, 'care-proceedings', needs, rng, extra));
      return;
    }
    close(plan.endDate, 'RC7');
    if (plan.endReason === 'early-help') stepDownToEarlyHelp();
  };

  switch (outcome) {
    case 'nfa':
      close(assessment.authorisationDate, 'RC8', 5);
      break;
    case 'early-help':
      close(assessment.authorisationDate, 'RC9', 5);
      stepDownToEarlyHelp();
      break;
    case 'cin':
      afterCin(planCinPlan(addDays(assessment.authorisationDate, rng.int(0, 10)), rng, true, needs));
      break;
    case 'looked-after': {
      const route = age >= 11 && rng.chance(0.7) ? 'section-20' : 'care-proceedings';
      const from = addDays(
        startDate,
        rng.int(2, dayNumber(assessment.authorisationDate) - dayNumber(startDate)),
      );
      afterCare(planLookedAfter(from, dateOfBirth, route, needs, rng, extra));
      break;
    }
    case 's47': {
      const strategyDiscussionDate = addDays(startDate, rng.int(0, 5));
      const s47Start = addDays(strategyDiscussionDate, rng.int(0, 1));
      const s47Outcome = rng.weighted(
        needs === 'complex'
          ? ([
              ['icpc', 65],
              ['cin-plan', 20],
              ['early-help', 5],
              ['nfa', 10],
            ] as const)
          : ([
              ['icpc', 25],
              ['cin-plan', 35],
              ['early-help', 15],
              ['nfa', 25],
            ] as const),
      );
      section47 = {
        strategyDiscussionDate,
        startDate: s47Start,
        icpcTargetDate: addDays(strategyDiscussionDate, 21),
        completedDate: addDays(s47Start, rng.int(5, 14)),
        outcome: s47Outcome,
      };
      const completed = section47.completedDate;
      if (s47Outcome === 'nfa') close(completed, 'RC8', 7);
      else if (s47Outcome === 'early-help') {
        close(completed, 'RC9', 7);
        stepDownToEarlyHelp();
      } else if (s47Outcome === 'cin-plan')
        afterCin(planCinPlan(addDays(completed, rng.int(0, 7)), rng, true, needs));
      else {
        const date = addDays(completed, rng.int(1, 10));
        const category = categoryOf(factors);
        const planRequired = rng.chance(0.88);
        conference = { date, planRequired, ...(planRequired ? { category } : {}) };
        if (!planRequired) afterCin(planCinPlan(date, rng, false, needs));
        else {
          // A plan elsewhere before the family came here, now and then; or the plans of earlier episodes.
          const previousPlans = earlier.previousPlans ?? (rng.chance(0.15) ? 1 : 0);
          childProtectionPlan = planProtectionPlan(date, category, needs, previousPlans, rng, extra);
          const ended = childProtectionPlan.endDate;
          if (childProtectionPlan.endReason === 'looked-after')
            afterCare(planLookedAfter(ended, dateOfBirth, 'care-proceedings', needs, rng, extra));
          else if (childProtectionPlan.endReason === 'child-in-need-plan') {
            afterCin({
              ...planCinPlan(ended, rng, false, needs),
              endReason: rng.pick(['needs-met', 'early-help'] as const),
            });
          } else close(ended, 'RC7');
        }
      }
      break;
    }
  }
  // Missing from home while the case is open, for a child the assessment found going missing.
  const missingFromHome: MissingEpisode[] = [];
  const exploited = factors.some((factor) => factor === '10A' || factor === '11A' || factor === '24A');
  // Police reports of a teenager missing overnight are part of many complex cases, not only exploitation.
  const missingFrom = addMonths(dateOfBirth, (exploited ? 10 : 12) * 12);
  if (exploited || (needs === 'complex' && !factors.includes('21') && rng.chance(0.35))) {
    const from = laterOf(startDate, missingFrom);
    const to = earlierOf(closure?.date ?? addMonths(startDate, 18), addMonths(dateOfBirth, 18 * 12));
    const span = dayNumber(to) - dayNumber(from);
    const inCare = (date: string) =>
      lookedAfter !== undefined &&
      date >= lookedAfter.startDate &&
      (!lookedAfter.end || date <= lookedAfter.end.date);
    for (const offset of Array.from({ length: span > 20 ? rng.int(1, 3) : 0 }, () =>
      rng.int(0, span - 5),
    ).sort((a, b) => a - b)) {
      const start = addDays(from, offset);
      const end = addDays(start, rng.int(0, 2));
      if (inCare(start) || inCare(end) || missingFromHome.some((episode) => episode.endDate >= start))
        continue;
      const offered = rng.chance(0.85);
      // The assessment names going missing among the worries.
      if (!factors.includes('10A') && start <= assessment.authorisationDate) factors.push('10A');
      missingFromHome.push({
        kind: 'M',
        startDate: start,
        endDate: end,
        returnInterviewOffered: offered,
        returnInterviewAccepted: offered && rng.chance(0.45),
      });
    }
  }
  return {
    contact,
    earlyHelp,
    referral,
    assessment,
    ...(missingFromHome.length ? { missingFromHome } : {}),
    ...(section47 ? { section47 } : {}),
    ...(conference ? { conference } : {}),
    ...(childProtectionPlan ? { childProtectionPlan } : {}),
    cinPlans,
    ...(lookedAfter ? { lookedAfter } : {}),
    ...(closure ? { closure } : {}),
  };
}

import type { AgencyEvent, EventOfType } from '@throughline/contracts';
import { addDays, addMonths, ageInYears, daysBetween, onWeekday } from './calendar';
import { caseOpenOn, EventSink, subjectOn, type ChildProfile, type SenServiceRecord } from './history';
import { LOCAL_AUTHORITY, SYSTEMS } from './names';
import { recordedAt, type ChildRecords } from './outcomes';
import { kindOfDecision, type DecisionKind } from './practice';
import { Random } from './random';
import { levelOn, type Track } from './trajectories';

/**
 * Decisions looked at again. Each decision's reviews are drawn from a stream of its own (keyed
 * by its eventId), so one decision's reviews never shift another's: held on the review date or
 * near it, some late, a few never (the decision drifts, overdue); continued, revised or ended,
 * ended at the latest when the case closes; each saying what happened in every domain the
 * decision expected to change, read from the child's trajectories. Children with a case open
 * at the horizon also have the decisions of their current plan: some due soon, one overdue.
 */

type Decision = EventOfType<'practice.decision.recorded'>;
type ReviewData = EventOfType<'practice.decision.reviewed'>['data'];
type Judgement = ReviewData['againstExpected'][number]['judgement'];

/** Decisions that do one thing and are done: their first review ends them, unless things went worse. */
const ONE_SHOT: ReadonlySet<DecisionKind> = new Set([
  'start-section-47',
  'assessment-no-further-action',
  'assessment-early-help',
  'ehc-assess',
  'ehc-do-not-assess',
]);

/** Decisions that expect things to hold rather than change. */
const HOLDING: ReadonlySet<DecisionKind> = new Set(['assessment-no-further-action', 'end-protection-plan']);

const FORUM: Readonly<Record<DecisionKind, string>> = {
  'start-section-47': 'initial child protection conference',
  'assessment-no-further-action': 'team manager review',
  'assessment-early-help': 'early help review',
  'assessment-child-in-need': 'child in need review',
  'accommodate-section-20': 'looked after review',
  'issue-care-proceedings': 'looked after review',
  'end-protection-plan': 'team manager review',
  'step-down-protection-plan': 'child in need review',
  'ehc-assess': 'SEN panel',
  'ehc-do-not-assess': 'SEN panel',
};

const REVISED: Readonly<Record<DecisionKind, string>> = {
  'start-section-47':
    'Convene an initial child protection conference; the enquiry found the worries substantiated.',
  'assessment-no-further-action': 'Reopen: a new contact about the family goes to a fresh assessment.',
  'assessment-early-help':
    'Step up to a child and family assessment: the early help plan has not reduced the worries.',
  'assessment-child-in-need':
    'Child in need plan continues with a parenting programme added and visits every two weeks.',
  'accommodate-section-20':
    'Seek legal advice on an application for a care order: the parent has twice withdrawn agreement to the placement.',
  'issue-care-proceedings':
    'Amend the care plan to a long-term foster placement with the current carers; family time monthly.',
  'end-protection-plan':
    'Child in need plan for three months while the family settles after the former partner returned.',
  'step-down-protection-plan':
    'Strategy discussion: the worries have risen again since the plan stepped down.',
  'ehc-assess': 'Issue the EHC plan with speech and language therapy specified in section F.',
  'ehc-do-not-assess':
    'Carry out an EHC needs assessment after all: two more terms at SEN support have not closed the gap.',
};

const DOMAIN_LABEL: Readonly<Record<string, string>> = {
  safety: 'safety',
  'stay-safe': 'staying safe',
  'enjoy-and-achieve': 'learning and school',
  'be-healthy': 'health',
};

function judge(
  tracks: readonly Track[],
  framework: string,
  domain: string,
  since: string,
  on: string,
  holding: boolean,
): { judgement: Judgement; finding: string } {
  const label = DOMAIN_LABEL[domain] ?? domain;
  // The course of the domain over the review period (any part of it rated).
  const track = tracks.find(
    (t) => t.framework === framework && t.domain === domain && t.from <= on && since <= t.until,
  );
  if (!track)
    return {
      judgement: 'too-early-to-say',
      finding: `No one in the network has rated ${label} since the decision; to be asked of the child, the family and school before the next review.`,
    };
  if (daysBetween(since, on) < 30)
    return {
      judgement: 'too-early-to-say',
      finding: `Too soon to say how ${label} has changed: ${daysBetween(since, on)} days since the decision.`,
    };
  const delta = levelOn(track, on) - levelOn(track, since);
  const points = Math.round(delta * (track.scale.max - track.scale.min));
  const moved =
    points === 0
      ? 'held level'
      : `${points > 0 ? 'moved up' : 'moved down'} by about ${Math.abs(points)} point${Math.abs(points) === 1 ? '' : 's'}`;
  const scale = `${track.scale.scale} ${track.scale.min}-${track.scale.max}`;
  if (delta >= 0.1)
    return {
      judgement: 'better-than-expected',
      finding: `Ratings of ${label} have ${moved} (${scale}); the child, the family and school all describe the change.`,
    };
  if (delta >= 0.01 || (holding && delta > -0.05))
    return {
      judgement: 'as-expected',
      finding: `Ratings of ${label} have ${moved} (${scale}), as the decision expected; ${
        track.familyGap > 0.1
          ? "the family's view is still higher than the network's"
          : track.familyGap < -0.1
            ? 'the family sees less change than the network does'
            : 'the family and the network see it much the same'
      }.`,
    };
  if (delta > -0.02)
    return {
      judgement: 'too-early-to-say',
      finding: `Ratings of ${label} have ${moved} (${scale}); some good weeks and some bad, too early to say the decision is working.`,
    };
  return {
    judgement: 'worse-than-expected',
    finding: `Ratings of ${label} have ${moved} (${scale})${
      track.childLeadDays >= 60 ? "; the child's own view dropped first" : ''
    }; the network agreed what has to change before the next review.`,
  };
}

function whatHappened(
  kind: DecisionKind | undefined,
  name: string,
  worse: boolean,
  better: boolean,
  closing: boolean,
): string {
  if (closing)
    return `The case is closing: the work this decision set out is done or passed to universal services. ${name} and the family were told what to do if worries return.`;
  switch (kind) {
    case 'start-section-47':
      return `The enquiry is complete: ${name} was seen alone, the police and health contributed, and the family gave their account.`;
    case 'ehc-assess':
    case 'ehc-do-not-assess':
      return `The school, the educational psychologist and the family reported back to the panel on ${name}'s progress.`;
    default:
      return worse
        ? `Since the last review things have gone backwards: missed visits, new worries from school, and ${name} says home is harder again.`
        : better
          ? `Real progress since the decision: ${name} is more settled, the family has kept to the plan, and the network agrees what has changed.`
          : `Some of what was hoped for has happened and some has not; the network agreed the plan still makes sense.`;
  }
}

/** The practitioner who reviews a decision: the decision-maker's role, in the team that holds it. */
function reviewerOf(decision: Decision): ReviewData['reviewedBy'] {
  const { role, agency } = decision.data.decidedBy;
  return { role, agency, ...(decision.data.team ? { team: decision.data.team } : {}) };
}

/** Who chairs the review of a kind of decision: the conference chair, the IRO, the panel chair, or the team manager. */
const REVIEWED_BY: Partial<Record<DecisionKind, ReviewData['reviewedBy']>> = {
  'start-section-47': {
    role: 'independent conference chair',
    agency: 'social-care',
    team: 'Safeguarding and quality',
  },
  'accommodate-section-20': {
    role: 'independent reviewing officer',
    agency: 'social-care',
    team: 'Safeguarding and quality',
  },
  'issue-care-proceedings': {
    role: 'independent reviewing officer',
    agency: 'social-care',
    team: 'Safeguarding and quality',
  },
};

function chairOf(decision: Decision, kind: DecisionKind | undefined): ReviewData['reviewedBy'] {
  return (kind && REVIEWED_BY[kind]) ?? reviewerOf(decision);
}

export interface ReviewContext {
  readonly seed: number;
  readonly profile: ChildProfile;
  readonly records: ChildRecords;
  readonly senService?: SenServiceRecord;
  readonly tracks: readonly Track[];
}

/** Where a review of this decision is recorded on a date: the decision's own system, or nowhere (no record then). */
function recordedLikeDecision(context: ReviewContext, decision: Decision, isoDate: string) {
  const agency = decision.source.agency;
  if (agency === 'education' && decision.source.organisation === LOCAL_AUTHORITY.code) {
    const record = context.senService;
    return (
      record && {
        source: { agency: 'education' as const, system: SYSTEMS.sen, organisation: LOCAL_AUTHORITY.code },
        subject: subjectOn(record, isoDate),
      }
    );
  }
  return recordedAt(agency, context.records, isoDate);
}

/** When the work a decision belongs to stops: the social-care episode's closure, or a school place's end. */
function involvementEnds(context: ReviewContext, decision: Decision): string | undefined {
  const on = decision.data.decidedOn;
  if (decision.source.agency === 'social-care') {
    const episode = (context.profile.socialCare ?? []).find(
      (e) => e.referral && e.referral.date <= on && (!e.closure || on <= e.closure.date),
    );
    return episode?.closure?.date;
  }
  if (decision.source.agency === 'education' && decision.source.organisation !== LOCAL_AUTHORITY.code) {
    const school = context.records.education.find(
      (r) => r.schoolUrn === decision.source.organisation && r.entryDate <= on,
    );
    return school?.leaving ? addDays(school.leaving.date, -1) : undefined;
  }
  return undefined;
}

/** The reviews of one decision (and, for some, a record that the family's view of it differs). */
export function reviewDecision(context: ReviewContext, decision: Decision, horizon: string): AgencyEvent[] {
  const { seed, profile, tracks } = context;
  const rng = new Random(seed, profile.number, 'decision-review', decision.eventId);
  const sink = new EventSink(
    new Random(seed, profile.number, 'decision-review-ids', decision.eventId),
    horizon,
  );
  const kind = kindOfDecision(decision.data.decision);
  const name = profile.givenName;
  const ends = involvementEnds(context, decision);
  const expected = decision.data.expectedOutcomes ?? [];
  const maxReviews = kind && ONE_SHOT.has(kind) ? 2 : rng.int(2, 5);
  let due = decision.data.reviewDate;
  let since = decision.data.decidedOn;

  // The family disagrees with some of the weightiest decisions, and the social worker says so.
  if (
    kind &&
    ['issue-care-proceedings', 'accommodate-section-20', 'start-section-47', 'end-protection-plan'].includes(
      kind,
    ) &&
    rng.chance(0.4)
  ) {
    const recordedOn = addDays(since, rng.int(1, 10));
    const at = recordedLikeDecision(context, decision, recordedOn);
    if (at && (!ends || recordedOn <= ends)) {
      const recorder = reviewerOf(decision);
      const socialWorker = {
        role: 'social worker',
        agency: 'social-care' as const,
        team: decision.data.team ?? 'Assessment team 2',
      };
      sink.emitOn('practice.views.differ', recordedOn, rng, {
        ...at,
        ...(decision.correlationId ? { correlationId: decision.correlationId } : {}),
        causationId: decision.eventId,
        recordedBy: socialWorker,
        data: {
          recordedOn,
          about: [decision.eventId],
          views: [
            {
              perspective: 'family',
              role: rng.pick(['mother', 'father', 'grandmother']),
              view:
                kind === 'end-protection-plan'
                  ? `We are relieved, but we worry the support will stop all at once.`
                  : `This is not fair. We were never told what we had to change, and ${name} wants to be at home.`,
            },
            {
              perspective: 'professional',
              role: recorder.role,
              agency: recorder.agency,
              view: decision.data.rationale,
            },
            ...(ageInYears(profile.dateOfBirth, recordedOn) >= 8
              ? [
                  {
                    perspective: 'child' as const,
                    role: 'the child',
                    view: rng.pick([
                      `${name} said they understood why but want to see mum every week.`,
                      `${name} said nobody asked them before it was decided.`,
                    ]),
                  },
                ]
              : []),
          ],
          narrative:
            'The family has been given the complaints leaflet and the advocacy service; their view is recorded in full for the next review.',
          recordedBy: socialWorker,
        },
      });
    }
  }

  for (let review = 0; review < maxReviews; review++) {
    // Most reviews are held on time; some are late; a few never happen while the case stays open.
    const timing = rng.weighted([
      ['on-time', 70],
      ['late', 24],
      ['drift', 6],
    ] as const);
    if (timing === 'drift' && !ends) break;
    let held = onWeekday(timing === 'late' ? addDays(due, rng.int(20, 75)) : addDays(due, rng.int(-3, 6)));
    if (held <= since) held = addDays(since, 1);
    const closing = ends !== undefined && held >= ends;
    if (closing) held = ends > since ? ends : since;
    if (held > horizon) break;
    const judged = expected.map((outcome) => {
      const { judgement, finding } = judge(
        tracks,
        outcome.framework,
        outcome.domain,
        since,
        held,
        kind !== undefined && HOLDING.has(kind),
      );
      return { framework: outcome.framework, domain: outcome.domain, finding, judgement };
    });
    const worse = judged.some((j) => j.judgement === 'worse-than-expected');
    const better =
      judged.length > 0 &&
      judged.every((j) => j.judgement === 'better-than-expected' || j.judgement === 'as-expected');
    const last = review === maxReviews - 1;
    // The last review a decision gets ends it: what follows is a decision of its own.
    const outcome: ReviewData['outcome'] =
      closing || last
        ? 'ended'
        : worse && rng.chance(0.6)
          ? 'revised'
          : kind && ONE_SHOT.has(kind) && !worse
            ? 'ended'
            : better && review >= 1
              ? 'ended'
              : 'continued';
    const next = addMonths(held, kind === 'ehc-assess' || kind === 'ehc-do-not-assess' ? 6 : 3);
    const at = recordedLikeDecision(context, decision, held);
    if (!at) break;
    sink.emitOn('practice.decision.reviewed', held, rng, {
      ...at,
      ...(decision.correlationId ? { correlationId: decision.correlationId } : {}),
      causationId: decision.eventId,
      recordedBy: chairOf(decision, kind),
      data: {
        decisionId: decision.eventId,
        reviewedOn: held,
        whatHappened: whatHappened(kind, name, worse, better, closing),
        againstExpected: judged,
        outcome,
        ...(outcome === 'revised' ? { revisedDecision: kind ? REVISED[kind] : 'The plan is revised.' } : {}),
        ...(outcome !== 'ended' ? { nextReviewDate: next } : {}),
        reviewedBy: chairOf(decision, kind),
        ...(kind ? { forum: FORUM[kind] } : decision.data.forum ? { forum: decision.data.forum } : {}),
        confidence: rng.pick(['low', 'medium', 'high'] as const),
      },
    });
    if (outcome === 'ended') break;
    since = held;
    due = next;
  }
  return sink.events;
}

type DecisionData = Decision['data'];

interface CurrentDecision {
  readonly agency: 'health' | 'education' | 'social-care';
  readonly data: (name: string, age: number) => Omit<DecisionData, 'decidedOn' | 'reviewDate'>;
}

/** Decisions of a child's current plan, one from each agency in the network around them. */
const CURRENT_DECISIONS: readonly CurrentDecision[] = [
  {
    agency: 'social-care',
    data: (name) => ({
      decision: 'Hold a family group conference to widen the safety network before the next review.',
      rationale: `The plan leans on one grandparent; ${name} names an aunt and a neighbour they trust, and the family agreed to ask them.`,
      optionsConsidered: [
        {
          option: 'Carry on with the current network',
          whyNot: 'One person cannot cover evenings and weekends.',
        },
        {
          option: 'Escalate to a strategy discussion',
          whyNot: 'No new incident; the worry is about how long the plan can hold.',
        },
      ],
      uncertainty:
        'Whether the wider family will come; the father has not yet said whether he will take part.',
      confidence: 'medium',
      decidedBy: { role: 'team manager', agency: 'social-care' },
      forum: 'core group',
      team: 'Children in need team 1',
      expectedOutcomes: [
        {
          framework: 'signs-of-safety',
          domain: 'safety',
          lookFor:
            'A safety network of at least four people who know the plan, and scaling up by two points.',
        },
        {
          framework: 'ecm',
          domain: 'stay-safe',
          lookFor: `${name} names three adults they would go to, at home and at school.`,
        },
      ],
    }),
  },
  {
    agency: 'education',
    data: (name, age) => ({
      decision:
        age >= 11
          ? 'Six weeks of a reduced timetable with a daily check-in with the learning mentor, building back to full time.'
          : 'A daily check-in with the learning mentor and a quiet place at lunch for the rest of the term.',
      rationale: `${name} has been leaving lessons and attendance has fallen below 85%; ${name} says the mornings and the dinner hall are the hardest part.`,
      optionsConsidered: [
        {
          option: 'Refer to alternative provision',
          whyNot: 'Too soon; the school has not yet tried a graduated plan.',
        },
        {
          option: 'Attendance legal action',
          whyNot: 'The absence is linked to worries at home; the family is engaging.',
        },
      ],
      uncertainty: 'Whether a reduced timetable leaves the afternoons unsupervised at home.',
      confidence: 'medium',
      decidedBy: { role: 'designated safeguarding lead', agency: 'education' },
      forum: 'team around the child',
      team: 'Pastoral team',
      expectedOutcomes: [
        {
          framework: 'ecm',
          domain: 'enjoy-and-achieve',
          lookFor: 'Attendance back above 90% and fewer lessons left.',
        },
        {
          framework: 'ecm',
          domain: 'stay-safe',
          lookFor: `${name} is where the timetable says every afternoon.`,
        },
      ],
    }),
  },
  {
    agency: 'health',
    data: (name, age) =>
      age < 5
        ? {
            decision:
              'Health visitor contacts every two weeks, with a speech and language referral and a sleep plan.',
            rationale: `${name}'s language is well behind and nights are broken; the parent asked for help with both.`,
            optionsConsidered: [
              {
                option: 'Universal contacts only',
                whyNot: 'The parent is struggling and wants more support.',
              },
            ],
            uncertainty: 'Whether the family can get to clinic appointments without a car.',
            confidence: 'high',
            decidedBy: { role: 'health visitor', agency: 'health' },
            forum: 'health visiting caseload review',
            team: '0-19 team',
            expectedOutcomes: [
              {
                framework: 'ecm',
                domain: 'be-healthy',
                lookFor: 'Sleeping through most nights; new words at each contact.',
              },
            ],
          }
        : {
            decision:
              'Refer to CAMHS for an assessment of low mood and sleep; the school nurse sees them weekly meanwhile.',
            rationale: `${name} told the school nurse they cannot sleep and feel "flat"; the GP agrees a referral.`,
            optionsConsidered: [
              {
                option: 'School counselling only',
                whyNot: 'Sleep and mood have not improved after six sessions.',
              },
            ],
            uncertainty: 'CAMHS waiting time is about twelve weeks.',
            confidence: 'medium',
            decidedBy: { role: 'school nurse', agency: 'health' },
            forum: 'school health drop-in',
            team: '0-19 team',
            expectedOutcomes: [
              {
                framework: 'ecm',
                domain: 'be-healthy',
                lookFor: 'Sleep improves; mood scores from the weekly check-in rise.',
              },
            ],
          },
  },
];

/**
 * For a child whose case is open at the horizon, the current plan's decisions from each agency
 * in the network: one review overdue, one due within days and one open, in an order drawn for
 * the child (a decision is only made where that agency holds a record then).
 */
export function currentDecisions(context: ReviewContext, horizon: string): AgencyEvent[] {
  const { seed, profile } = context;
  if (!caseOpenOn(profile.socialCare, horizon)) return [];
  const episode = (profile.socialCare ?? []).find(
    (e) => e.referral && e.referral.date <= horizon && (!e.closure || e.closure.date > horizon),
  );
  if (!episode?.referral) return [];
  const rng = new Random(seed, profile.number, 'current-decisions');
  const sink = new EventSink(new Random(seed, profile.number, 'current-decision-ids'), horizon);
  const order = rng.pick([
    ['overdue', 'due', 'open'],
    ['overdue', 'open', 'due'],
    ['due', 'overdue', 'open'],
    ['due', 'open', 'overdue'],
    ['open', 'overdue', 'due'],
    ['open', 'due', 'overdue'],
  ] as const);
  CURRENT_DECISIONS.forEach((template, index) => {
    const status = order[index];
    const reviewDate =
      status === 'overdue'
        ? addDays(horizon, -rng.int(5, 30))
        : status === 'due'
          ? addDays(horizon, rng.int(2, 12))
          : addDays(horizon, rng.int(30, 80));
    const decidedOn = onWeekday(addDays(status === 'overdue' ? reviewDate : horizon, -rng.int(30, 70)));
    if (decidedOn <= episode.referral!.date || decidedOn > horizon) return;
    const at = recordedAt(template.agency, context.records, decidedOn);
    if (!at) return;
    const content = template.data(profile.givenName, ageInYears(profile.dateOfBirth, decidedOn));
    sink.emitOn('practice.decision.recorded', decidedOn, rng, {
      ...at,
      recordedBy: { ...content.decidedBy, ...(content.team ? { team: content.team } : {}) },
      data: { decidedOn, reviewDate, ...content },
    });
  });
  return sink.events;
}

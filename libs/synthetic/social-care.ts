import { addDays, addMonths, ageInYears, dayNumber } from './calendar';
import {
  caseHolderOn,
  type CinPlan,
  type ChildProfile,
  type EarlyHelpPlan,
  type EventSink,
  type LookedAfterPlan,
  type MissingEpisode,
  placementOn,
  type PlacementStage,
  type SocialCareEpisode,
  type SocialCareRecord,
  subjectOn,
} from './history';
import { LOCAL_AUTHORITY, SYSTEMS } from './names';
import { isUnaccompaniedAsylumSeeking } from './returns/looked-after-facts';
import { decisionOf, voiceOfChild, type DecisionKind, type VoiceSetting } from './practice';
import type { Random } from './random';

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

const CONTACT_NARRATIVE: Readonly<Record<SocialCareEpisode['contact']['outcome'], string>> = {
  referral: 'Information from the contact meets the threshold for a referral; passed to the assessment team.',
  'early-help': 'Below the threshold for social care; the family agreed to an early help assessment.',
  'information-advice': 'Advice given to the caller about support available; no role for social care.',
  signposted: 'Family signposted to the parenting programme and the local family hub.',
  nfa: 'Information recorded; no further action needed.',
};

const CIN_END_NARRATIVE: Readonly<Record<CinPlan['endReason'], string>> = {
  'needs-met': 'Plan outcomes achieved; the family and the network agree the support can end.',
  'early-help': 'Stepped down to early help to keep the progress going.',
  'child-protection-plan': 'Escalated to a child protection plan.',
  'looked-after': 'Plan ended when the child became looked after.',
  'moved-la': 'The family moved away; the plan was transferred.',
  'family-withdrew': 'The family withdrew their consent to the plan.',
  other: 'Plan ended.',
};

/**
 * The case system's record of the episode, in the order a practitioner would record it:
 * contact, referral, assessment, section 47 and conference, plans, care, closure; with the
 * decisions and the child's voice recorded at the moments they happened.
 */
export function generateSocialCareHistory(
  profile: ChildProfile,
  record: SocialCareRecord,
  rng: Random,
  sink: EventSink,
): void {
  for (const episode of profile.socialCare ?? []) generateEpisode(profile, record, episode, rng, sink);
}

function generateEpisode(
  profile: ChildProfile,
  record: SocialCareRecord,
  episode: SocialCareEpisode,
  rng: Random,
  sink: EventSink,
): void {
  // The case system's view on a date: the identifiers it holds then, and the authority holding the case.
  const on = (date: string) => ({
    source: {
      agency: 'social-care' as const,
      system: SYSTEMS.socialCare,
      organisation: caseHolderOn(record, date).laCode,
    },
    subject: subjectOn(record, date),
  });
  const name = profile.givenName;
  const decide = (kind: DecisionKind, decidedOn: string, reviewDate: string, correlationId: string) =>
    sink.emitNext('practice.decision.recorded', decidedOn, rng, {
      ...on(decidedOn),
      correlationId,
      data: { decidedOn, reviewDate, ...decisionOf(kind, name, rng) },
    });
  const listen = (setting: VoiceSetting, capturedOn: string, correlationId: string) => {
    const voice = voiceOfChild(setting, name, profile.dateOfBirth, capturedOn, rng);
    if (voice)
      sink.emitNext('practice.voice-of-child.recorded', capturedOn, rng, {
        ...on(capturedOn),
        correlationId,
        data: { capturedOn, ...voice },
      });
  };
  const emitEarlyHelp = (plan: EarlyHelpPlan) => {
    const started = sink.emitNext('social-care.early-help-episode.started', plan.startDate, rng, {
      ...on(plan.startDate),
      data: {
        startDate: plan.startDate,
        needs: [...plan.needs],
        leadPractitioner: plan.leadPractitioner,
        narrative: `Early help assessment completed with the family; plan agreed around ${plan.needs.join(', ')}.`,
      },
    });
    sink.emitNext('social-care.early-help-episode.ended', plan.endDate, rng, {
      ...on(plan.endDate),
      correlationId: started,
      data: {
        startDate: plan.startDate,
        endDate: plan.endDate,
        reason: plan.endReason,
        ...(plan.endReason === 'stepped-up'
          ? {
              narrative: `Worries about ${name} grew despite the plan; the lead practitioner contacted the front door.`,
            }
          : {}),
      },
    });
  };

  for (const plan of episode.earlyHelp.filter((p) => p.startDate < episode.contact.date)) emitEarlyHelp(plan);
  const contactId = sink.emitNext('social-care.contact.received', episode.contact.date, rng, {
    ...on(episode.contact.date),
    data: {
      contactDate: episode.contact.date,
      contactSource: episode.contact.source,
      outcome: episode.contact.outcome,
      narrative: CONTACT_NARRATIVE[episode.contact.outcome],
    },
  });
  const referral = episode.referral;
  if (!referral) {
    for (const plan of episode.earlyHelp.filter((p) => p.startDate >= episode.contact.date))
      emitEarlyHelp(plan);
    return;
  }
  const correlationId = sink.emitNext('social-care.referral.received', referral.date, rng, {
    ...on(referral.date),
    causationId: contactId,
    data: {
      referralDate: referral.date,
      referralSource: episode.contact.source,
      primaryNeed: referral.primaryNeed,
      noFurtherAction: referral.noFurtherAction,
      narrative: referral.noFurtherAction
        ? `Information gathered from school and GP; no role for children's social care. Family signposted to early help.`
        : rng.pick([
            `Concerns about ${name}'s care at home reported; parent agreed to a single assessment.`,
            `Repeated domestic incidents at the address with ${name} present. Assessment to start.`,
            `${name} disclosed to a trusted adult that they are frightened at home. Assessment to start.`,
          ]),
    },
  });
  const closure = episode.closure;
  const emitClosure = () => {
    if (!closure) return;
    sink.emitNext('social-care.case.closed', closure.date, rng, {
      ...on(closure.date),
      correlationId,
      data: {
        referralDate: referral.date,
        closureDate: closure.date,
        reason: closure.reason,
        narrative: {
          RC1: 'Adopted.',
          RC2: 'Child died.',
          RC3: 'Child arrangements order granted; the case closes.',
          RC4: 'Special guardianship order granted to the carers; the case closes.',
          RC5: 'Case transferred to another local authority.',
          RC6: 'Transferred to adult social care.',
          RC7: `Services ended: ${name} is no longer a child in need.`,
          RC8: 'No further action after assessment.',
          RC9: 'Closed after assessment; the family takes up early help.',
        }[closure.reason],
      },
    });
  };
  const assessment = episode.assessment;
  if (!assessment) {
    emitClosure();
    for (const plan of episode.earlyHelp.filter((p) => p.startDate > referral.date)) emitEarlyHelp(plan);
    return;
  }

  const section47 = episode.section47;
  if (section47) {
    decide('start-section-47', section47.strategyDiscussionDate, section47.icpcTargetDate, correlationId);
    const started = sink.emitNext('social-care.section-47-enquiry.started', section47.startDate, rng, {
      ...on(section47.startDate),
      correlationId,
      data: {
        startDate: section47.startDate,
        strategyDiscussionDate: section47.strategyDiscussionDate,
        ...(section47.outcome === 'icpc' || rng.chance(0.5)
          ? { icpcTargetDate: section47.icpcTargetDate }
          : {}),
        rationale: `Strategy discussion with police and health agreed a joint enquiry; ${name} to be seen alone.`,
      },
    });
    sink.emitNext('social-care.section-47-enquiry.completed', section47.completedDate, rng, {
      ...on(section47.completedDate),
      correlationId,
      causationId: started,
      data: {
        startDate: section47.startDate,
        completedDate: section47.completedDate,
        outcome: section47.outcome,
        rationale: {
          icpc: `Concerns substantiated: ${name} is likely to suffer significant harm. An initial child protection conference is convened.`,
          'cin-plan':
            'Concerns substantiated, but with the support agreed the child is not at continuing risk of significant harm.',
          'early-help': 'Concerns not substantiated; the family would benefit from early help.',
          nfa: 'Concerns not substantiated: the injury is consistent with the account given.',
        }[section47.outcome],
      },
    });
  }
  const assessmentStartAge = ageInYears(profile.dateOfBirth, assessment.startDate);
  if (assessmentStartAge >= 2) {
    const seenOn = addDays(
      assessment.startDate,
      Math.floor((dayNumber(assessment.authorisationDate) - dayNumber(assessment.startDate)) / 2),
    );
    listen('assessment', seenOn, correlationId);
  }
  // A section 47 enquiry and care are decided at the strategy discussion and the legal meeting.
  const assessmentDecision = (
    {
      nfa: 'assessment-no-further-action',
      'early-help': 'assessment-early-help',
      cin: 'assessment-child-in-need',
      s47: undefined,
      'looked-after': undefined,
    } as const
  )[assessment.outcome];
  if (assessmentDecision)
    decide(
      assessmentDecision,
      assessment.authorisationDate,
      addMonths(assessment.authorisationDate, 3),
      correlationId,
    );
  sink.emitNext('social-care.assessment.completed', assessment.authorisationDate, rng, {
    ...on(assessment.authorisationDate),
    correlationId,
    data: {
      startDate: assessment.startDate,
      authorisationDate: assessment.authorisationDate,
      factors: [...assessment.factors],
      narrative: assessment.factors.includes('21')
        ? `No factors identified. ${name} is well cared for; family offered a parenting course.`
        : rng.pick([
            `${name}'s parent is struggling with their own mental health and alcohol use; routines have broken down. ${name} is loyal to the parent and worried about them.`,
            `Home conditions are poor and ${name} is often late to school and hungry. The parent accepts some of the worries but not all.`,
            `Domestic abuse between the adults is the main worry; ${name} describes hiding upstairs when arguments start.`,
          ]),
    },
  });

  const conference = episode.conference;
  let conferenceId: string | undefined;
  if (conference) {
    conferenceId = sink.emitNext(
      'social-care.initial-child-protection-conference.held',
      conference.date,
      rng,
      {
        ...on(conference.date),
        correlationId,
        data: {
          conferenceDate: conference.date,
          ...(section47 ? { section47StartDate: section47.startDate } : {}),
          planRequired: conference.planRequired,
          ...(conference.category ? { category: conference.category } : {}),
          rationale: conference.planRequired
            ? `The conference agreed ${name} is likely to suffer significant harm without a plan. Parents attended with an advocate; the family disagreed with the category.`
            : 'The conference agreed the threshold for a plan is not met; a child in need plan will continue the support.',
        },
      },
    );
  }

  const plan = episode.childProtectionPlan;
  if (plan) {
    let previous = sink.emitNext('social-care.child-protection-plan.started', plan.startDate, rng, {
      ...on(plan.startDate),
      correlationId,
      ...(conferenceId ? { causationId: conferenceId } : {}),
      data: {
        startDate: plan.startDate,
        initialCategory: plan.initialCategory,
        numberOfPreviousPlans: plan.previousPlans,
        rationale: `The initial child protection conference agreed ${name} is likely to suffer significant harm without a plan. Options considered: continuing child in need support (rejected: worries persisted despite support) and legal planning (not yet proportionate). Plan focuses on safety at home and regular school attendance.`,
        reviewDate: addMonths(plan.startDate, 3),
      },
    });
    for (const review of plan.reviews) {
      if (ageInYears(profile.dateOfBirth, review.date) >= 5 && rng.chance(0.5))
        listen('protection-visit', addDays(review.date, -rng.int(3, 10)), correlationId);
      if (!review.continues)
        decide(
          plan.endReason === 'child-in-need-plan' ? 'step-down-protection-plan' : 'end-protection-plan',
          review.date,
          addMonths(review.date, 3),
          correlationId,
        );
      previous = sink.emitNext('social-care.child-protection-plan.reviewed', review.date, rng, {
        ...on(review.date),
        correlationId,
        causationId: previous,
        data: {
          reviewDate: review.date,
          planStartDate: plan.startDate,
          latestCategory: review.latestCategory,
          planContinues: review.continues,
          ...(review.nextReviewDate ? { nextReviewDate: review.nextReviewDate } : {}),
          rationale: review.continues
            ? 'Some progress, but the worries that led to the plan remain; the plan continues with the core group meeting monthly.'
            : 'The safety plan has held; every agency agreed the child is no longer at continuing risk of significant harm.',
        },
      });
    }
    if (plan.endReason === 'looked-after' && episode.lookedAfter)
      decide(
        'issue-care-proceedings',
        plan.endDate,
        episode.lookedAfter.reviews[0]?.date ?? addDays(plan.endDate, 28),
        correlationId,
      );
    sink.emitNext('social-care.child-protection-plan.ended', plan.endDate, rng, {
      ...on(plan.endDate),
      correlationId,
      causationId: previous,
      data: {
        startDate: plan.startDate,
        endDate: plan.endDate,
        initialCategory: plan.initialCategory,
        latestCategory: plan.latestCategory,
        reason: plan.endReason,
        rationale: {
          'no-longer-at-risk':
            'The review conference agreed the child is no longer at continuing risk of significant harm.',
          'child-in-need-plan': 'Risk reduced; support continues under a child in need plan.',
          'looked-after': 'Care proceedings issued; the care plan replaces the child protection plan.',
          'moved-la': 'The family moved; a transfer-in conference was held by the new authority.',
          'reached-18': 'Reached 18.',
          'born-new-plan': 'The unborn plan ended at birth.',
          died: 'The child died.',
          other: 'The plan ended.',
        }[plan.endReason],
      },
    });
  }

  const emitCin = (cin: CinPlan) => {
    const started = sink.emitNext('social-care.cin-plan.started', cin.startDate, rng, {
      ...on(cin.startDate),
      correlationId,
      data: {
        startDate: cin.startDate,
        primaryNeed: referral.primaryNeed,
        rationale: `Support agreed with the family around ${name}'s routines, school attendance and the parent's wellbeing.`,
        reviewDate: addMonths(cin.startDate, 3),
      },
    });
    sink.emitNext('social-care.cin-plan.ended', cin.endDate, rng, {
      ...on(cin.endDate),
      correlationId,
      causationId: started,
      data: {
        startDate: cin.startDate,
        endDate: cin.endDate,
        reason: cin.endReason,
        narrative: CIN_END_NARRATIVE[cin.endReason],
      },
    });
  };
  const emitMissing = (missing: MissingEpisode) =>
    sink.emitNext('social-care.missing-episode.recorded', missing.endDate, rng, {
      ...on(missing.endDate),
      correlationId,
      data: {
        kind: missing.kind,
        startDate: missing.startDate,
        endDate: missing.endDate,
        returnInterviewOffered: missing.returnInterviewOffered,
        ...(missing.returnInterviewOffered
          ? { returnInterviewAccepted: missing.returnInterviewAccepted }
          : {}),
        narrative:
          missing.kind === 'A'
            ? `${name} stayed overnight at a friend's address without agreement; whereabouts known to the carer throughout.`
            : placementOn(profile.socialCare, missing.startDate)
              ? `${name} did not return to the placement after school; reported missing to the police and found the next day in the town centre.`
              : `${name} did not come home after school; the parent reported them missing to the police. Found the next morning at an address linked to older young people.`,
      },
    });
  const care = episode.lookedAfter;
  for (const cin of episode.cinPlans.filter((c) => !care || c.startDate < care.startDate)) emitCin(cin);
  if (care) {
    if (!plan || plan.endReason !== 'looked-after')
      decide(
        care.route === 'section-20' ? 'accommodate-section-20' : 'issue-care-proceedings',
        care.startDate,
        care.reviews[0]?.date ?? addDays(care.startDate, 28),
        correlationId,
      );
    const [first, ...changes] = care.stages;
    const started = sink.emitNext('social-care.looked-after-episode.started', care.startDate, rng, {
      ...on(care.startDate),
      correlationId,
      data: {
        startDate: care.startDate,
        legalStatus: first.legalStatus,
        placement: first.placement,
        placementProvider: first.provider,
        needCategory: care.needCategory,
        unaccompaniedAsylumSeeking: isUnaccompaniedAsylumSeeking(profile, care),
        rationale:
          care.route === 'section-20'
            ? `Accommodated with the parent's agreement after relationships at home broke down.`
            : `Placed under ${first.legalStatus === 'L2' ? 'an emergency protection order' : 'an order'}; the court agreed ${name} could not safely remain at home.`,
      },
    });
    // Reviews, changes and missing episodes interleave by date.
    const moments = [
      ...changes.map((stage) => ({ date: stage.from, emit: () => emitChange(stage) })),
      ...care.reviews.map((review) => ({ date: review.date, emit: () => emitReview(review) })),
      ...care.missing.map((missing) => ({ date: missing.endDate, emit: () => emitMissing(missing) })),
    ].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
    const emitChange = (stage: PlacementStage) =>
      sink.emitNext('social-care.looked-after-episode.changed', stage.from, rng, {
        ...on(stage.from),
        correlationId,
        causationId: started,
        data: {
          changeDate: stage.from,
          reasonForNewEpisode: stage.reasonForNewEpisode!,
          legalStatus: stage.legalStatus,
          placement: stage.placement,
          placementProvider: stage.provider,
          ...(stage.reasonForNewEpisode !== 'L' && stage.reasonPlaceChange
            ? { reasonPlaceChange: stage.reasonPlaceChange }
            : {}),
        },
      });
    const emitReview = (review: LookedAfterPlan['reviews'][number]) => {
      const age = ageInYears(profile.dateOfBirth, review.date);
      const participation =
        age < 4
          ? 'PN0'
          : rng.weighted([
              ['PN1', 40],
              ['PN2', 10],
              ['PN3', 5],
              ['PN4', 5],
              ['PN5', 10],
              ['PN6', 10],
              ['PN7', 20],
            ] as const);
      if (participation !== 'PN4' && participation !== 'PN7')
        listen('care-review', review.date, correlationId);
      sink.emitNext('social-care.looked-after-review.held', review.date, rng, {
        ...on(review.date),
        correlationId,
        data: {
          reviewDate: review.date,
          participation,
          nextReviewDate: review.nextReviewDate,
          narrative:
            'The independent reviewing officer chaired the review; the care plan was agreed with actions for contact and education.',
        },
      });
    };
    for (const moment of moments) moment.emit();
    if (care.end) {
      sink.emitNext('social-care.looked-after-episode.ended', care.end.date, rng, {
        ...on(care.end.date),
        correlationId,
        causationId: started,
        data: { startDate: care.startDate, endDate: care.end.date, reasonEnded: care.end.reason },
      });
    }
    for (const cin of episode.cinPlans.filter((c) => c.startDate >= care.startDate)) emitCin(cin);
  }
  for (const missing of episode.missingFromHome ?? []) emitMissing(missing);
  emitClosure();
  for (const help of episode.earlyHelp.filter((p) => p.startDate > referral.date)) emitEarlyHelp(help);
}

import { z } from 'zod';
import {
  anySource,
  codeList,
  envelope,
  isoDate,
  narrative,
  notBefore,
  PRACTITIONER_AGENCY,
  recordedBy,
  shortText,
  slug,
} from './common';

/**
 * A cross-agency outcome observation. Outcomes are long, multi-perspective processes of
 * change: the narrative is required, a rating is optional evidence, and every
 * observation says whose perspective it is and how confident the observer is.
 * Framework and domain are data (e.g. `ecm` / `stay-safe`, `outcomes-star` / `family-relationships`).
 */

export const PERSPECTIVE = codeList({
  child: 'The child or young person',
  family: 'A parent or carer',
  professional: 'A practitioner (agency and role given)',
});
export const CONFIDENCE = codeList({ low: 'Low', medium: 'Medium', high: 'High' });

// Moved to common.ts (the envelope's `recordedBy` uses them); re-exported here for existing importers.
export { PRACTITIONER_AGENCY, slug } from './common';

/**
 * An observation about a child's outcome in a domain of a configurable framework, from the
 * child's, a parent's or carer's, or a practitioner's perspective. Sent by any agency.
 */
export const outcomeObservationRecorded = envelope(
  'outcome.observation.recorded',
  anySource,
  z.strictObject({
    framework: slug,
    domain: slug,
    perspective: PERSPECTIVE,
    /** e.g. "health visitor", "class teacher", "mother". */
    observerRole: shortText,
    /** The practitioner's agency, for the professional perspective (the recording agency is `source`). */
    observerAgency: PRACTITIONER_AGENCY.optional(),
    observedOn: isoDate,
    narrative,
    rating: z
      .strictObject({
        scale: slug,
        value: z.number(),
        min: z.number(),
        max: z.number(),
      })
      .refine((r) => r.min < r.max && r.value >= r.min && r.value <= r.max, {
        message: 'rating value must lie within min..max',
        params: { rule: 'rating-within-scale' },
      })
      .optional(),
    confidence: CONFIDENCE,
  }),
);

const practitioner = z.strictObject({
  role: shortText,
  agency: PRACTITIONER_AGENCY,
});

/** What a decision expects to change in a framework domain, and what to look for. */
const expectedOutcome = z.strictObject({
  framework: slug,
  domain: slug,
  lookFor: narrative,
});

/**
 * A practice decision about a child (any agency): what was decided, why, what else was
 * considered and why not, what is uncertain, and when it will be looked at again. Sent by any
 * agency's case system; may concern an unborn child.
 */
export const decisionRecorded = envelope(
  'practice.decision.recorded',
  anySource,
  z.strictObject({
    decidedOn: isoDate,
    decision: z.string().trim().min(1).max(2000),
    rationale: narrative,
    optionsConsidered: z
      .array(
        z.strictObject({
          option: shortText,
          /** Why it was not chosen. */
          whyNot: narrative.optional(),
        }),
      )
      .max(20),
    /** What is not known, and what would change the decision. */
    uncertainty: narrative,
    confidence: CONFIDENCE.optional(),
    decidedBy: practitioner,
    /** e.g. "strategy discussion", "team manager", "panel". */
    forum: shortText.optional(),
    reviewDate: isoDate,
    /** What the decision-makers expect to see change, and how they will know (0-10). */
    expectedOutcomes: z.array(expectedOutcome).max(10).optional(),
    /** The team that holds the decision's review, e.g. "Assessment team 2". */
    team: shortText.optional(),
  }),
);

export const REVIEW_JUDGEMENT = codeList({
  'as-expected': 'As expected',
  'better-than-expected': 'Better than expected',
  'worse-than-expected': 'Worse than expected',
  'too-early-to-say': 'Too early to say',
});

export const REVIEW_OUTCOME = codeList({
  continued: 'Decision continued',
  revised: 'Decision revised',
  ended: 'Decision ended (no longer needed)',
});

/**
 * A decision looked at again: what happened, how that compares with what the decision
 * expected (per framework domain), and whether the decision continues, is revised or ends.
 * Sent by any agency; `decisionId` is the eventId of the `practice.decision.recorded` it reviews.
 */
export const decisionReviewed = envelope(
  'practice.decision.reviewed',
  anySource,
  z
    .strictObject({
      decisionId: z.uuid(),
      reviewedOn: isoDate,
      /** What happened since the decision, in the reviewers' words. */
      whatHappened: narrative,
      againstExpected: z
        .array(
          z.strictObject({
            framework: slug,
            domain: slug,
            /** What was seen, and how it compares with what the decision said to look for. */
            finding: narrative,
            judgement: REVIEW_JUDGEMENT,
          }),
        )
        .max(10),
      outcome: REVIEW_OUTCOME,
      /** The decision as revised; required when `outcome` is `revised`. */
      revisedDecision: z.string().trim().min(1).max(2000).optional(),
      /** Required unless the decision ended; not before `reviewedOn`. */
      nextReviewDate: isoDate.optional(),
      reviewedBy: recordedBy,
      forum: shortText.optional(),
      confidence: CONFIDENCE.optional(),
    })
    .refine((d) => d.outcome !== 'revised' || d.revisedDecision !== undefined, {
      path: ['revisedDecision'],
      message: 'a revised decision states the decision as revised',
      params: { rule: 'required-when-revised' },
    })
    .refine((d) => d.outcome === 'revised' || d.revisedDecision === undefined, {
      path: ['revisedDecision'],
      message: 'a revised decision is given only when the outcome is revised',
      params: { rule: 'only-when-revised' },
    })
    .refine((d) => d.outcome === 'ended' || d.nextReviewDate !== undefined, {
      path: ['nextReviewDate'],
      message: 'a decision that continues or is revised has a next review date',
      params: { rule: 'required-unless-ended' },
    })
    .refine(...notBefore('nextReviewDate', 'reviewedOn')),
);

export const VOICE_CAPTURE = codeList({
  'own-words': "The child's own words, spoken or written",
  play: 'Through play',
  drawing: 'Through drawing or other creative work',
  observation: 'Observed behaviour or non-verbal communication',
  advocate: 'Through an advocate',
  'app-or-questionnaire': 'An app or questionnaire the child completed',
  interpreter: 'Through an interpreter or communication aid',
  other: 'Other',
});

/**
 * The voice of the child: what the child said (or conveyed), how it was captured and by whom.
 * Sent by any agency. Kept apart from any practitioner's interpretation (`interpretation`).
 */
export const voiceOfChildRecorded = envelope(
  'practice.voice-of-child.recorded',
  anySource,
  z.strictObject({
    capturedOn: isoDate,
    /** What the child said or conveyed; verbatim when `verbatim` is true. */
    whatTheChildSaid: narrative,
    verbatim: z.boolean(),
    capturedHow: VOICE_CAPTURE,
    capturedBy: practitioner,
    /** The setting, e.g. "home visit, child's bedroom", "school, with a trusted adult". */
    context: shortText.optional(),
    /** The practitioner's reading of it, kept separate from the child's words. */
    interpretation: narrative.optional(),
    /** The child agreed that what they said may be shared with the other agencies. */
    childAgreedToShare: z.boolean().optional(),
  }),
);

/**
 * Practitioners record that views differ, also where nothing is rated: whose views, about
 * which entries (their eventIds), in which domain, and what is being done about it. Sent by any
 * agency. Disagreement is information, not an error to resolve away.
 */
export const viewsDiffer = envelope(
  'practice.views.differ',
  anySource,
  z
    .strictObject({
      recordedOn: isoDate,
      /** The eventIds of the entries the differing views are about (1-20). */
      about: z
        .array(z.uuid())
        .min(1)
        .max(20)
        .refine((ids) => new Set(ids).size === ids.length, {
          message: 'each entry is named once',
          params: { rule: 'unique-event-id' },
        }),
      framework: slug.optional(),
      domain: slug.optional(),
      views: z
        .array(
          z.strictObject({
            perspective: PERSPECTIVE,
            /** e.g. "mother", "class teacher", "the child". */
            role: shortText,
            agency: PRACTITIONER_AGENCY.optional(),
            view: narrative,
          }),
        )
        .min(2)
        .max(10)
        .refine(
          (views) =>
            new Set(views.map((v) => `${v.perspective}|${v.role.toLowerCase()}|${v.agency ?? ''}`)).size ===
            views.length,
          {
            message: 'each view is from a different perspective, role or agency',
            params: { rule: 'distinct-views' },
          },
        ),
      /** What is being done about the difference. */
      narrative: narrative.optional(),
      recordedBy,
    })
    .refine((d) => d.domain === undefined || d.framework !== undefined, {
      path: ['framework'],
      message: 'a domain is named within its framework: give framework with domain',
      params: { rule: 'required-with-domain' },
    }),
);

export const outcomeEvents = [
  outcomeObservationRecorded,
  decisionRecorded,
  voiceOfChildRecorded,
  decisionReviewed,
  viewsDiffer,
] as const;

import { z } from 'zod';
import { anySource, codeList, envelope, isoDate, narrative, shortText } from './common';

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

/** The agency a practitioner works for; wider than the three publishing agencies. */
export const PRACTITIONER_AGENCY = codeList({
  health: 'Health',
  education: 'Education',
  'social-care': "Children's social care",
  'early-help': 'Early help',
  police: 'Police',
  'youth-justice': 'Youth justice',
  housing: 'Housing',
  'voluntary-sector': 'Voluntary or community sector',
  other: 'Other',
});

export const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, { message: 'lower-case slug, e.g. stay-safe' });

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
  }),
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

export const outcomeEvents = [outcomeObservationRecorded, decisionRecorded, voiceOfChildRecorded] as const;

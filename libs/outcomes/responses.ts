import { z } from 'zod';

/**
 * The outcome read side's answers as zod schemas: the OpenAPI document is generated from them
 * and the pure functions return their types. Never one blended score: each perspective is its
 * own series, indicators stand beside the accounts, and disagreement is shown, not averaged away.
 */

const date = z.string().meta({ format: 'date', example: '2024-03-14' });
const position = z.number().int().nonnegative().meta({ description: 'store position of the entry' });
const eventId = z.string().meta({ format: 'uuid' });
const confidence = z.enum(['low', 'medium', 'high']);
const perspective = z.string().meta({
  description: '`child`, `family`, or `professional:<agency>:<role>`',
  example: 'professional:social-care:social worker',
});
const age = z
  .object({ years: z.number().int(), months: z.number().int() })
  .meta({ description: "the child's age on the date (absent when the date of birth is not known)" });
const term = z.enum(['autumn', 'spring', 'summer']);
const when = {
  date,
  age: age.optional(),
  academicYear: z.string().meta({ example: '2023/24' }),
  term,
};

export const OUTCOMES_QUERY = z
  .strictObject({
    framework: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, { message: 'a framework id (lower-case slug)' })
      .optional()
      .meta({ description: 'default: the first framework of the document in force', example: 'ecm' }),
    from: z.iso.date({ message: 'a date YYYY-MM-DD' }).optional(),
    to: z.iso.date({ message: 'a date YYYY-MM-DD' }).optional(),
    period: z.enum(['term', 'year']).default('term'),
  })
  .refine((query) => !query.from || !query.to || query.from <= query.to, {
    path: ['to'],
    message: 'to may not precede from',
    params: { rule: 'not-before-from' },
  });

const scaleView = z.object({
  id: z.string(),
  min: z.number(),
  max: z.number(),
  better: z.enum(['higher', 'lower']),
  known: z.boolean().meta({
    description:
      'false: the scale is not in the framework document (its own bounds; higher better unless the indicator says)',
  }),
});

const ratingPoint = z.object({
  position,
  eventId,
  ...when,
  value: z.number().meta({ description: 'as rated, on its scale' }),
  scale: scaleView,
  normalised: z.number().min(0).max(1).meta({ description: '0–1, 1 = the better end of the scale' }),
  narrative: z.string().optional(),
  confidence: confidence.optional(),
  observerRole: z.string().optional(),
  /** Other perspectives whose latest rating in the same period differs by at least the threshold. */
  disagreesWith: z.array(perspective).optional(),
});

const series = z.object({ perspective, points: z.array(ratingPoint) });

const account = z.object({
  position,
  eventId,
  ...when,
  perspective,
  type: z.string(),
  narrative: z.string(),
  confidence: confidence.optional(),
  observerRole: z.string().optional(),
});

const indicatorPeriod = z.object({
  academicYear: z.string(),
  term: term.optional(),
  values: z.array(z.object({ position, eventId, date, value: z.number(), threshold: z.number().optional() })),
  /** The accounts in the same domain and period: whose words go with this number. */
  accounts: z.array(z.object({ perspective, position })),
  withoutAccount: z.boolean().meta({ description: 'true: nobody gave an account in this period' }),
});

const indicatorView = z.object({
  name: z.string().meta({ example: 'attendance' }),
  unit: z.string().optional(),
  periods: z.array(indicatorPeriod),
});

const fact = z.object({ position, eventId, date, type: z.string(), agency: z.string(), summary: z.string() });

const disagreement = z.object({
  academicYear: z.string(),
  term: term.optional(),
  difference: z.number().meta({ description: 'between the normalised ratings (0–1)' }),
  between: z.array(z.object({ perspective, position, normalised: z.number() })).length(2),
});

const viewsDifferView = z.object({
  position,
  eventId,
  date,
  about: z.array(eventId),
  views: z.array(
    z.object({
      perspective: z.enum(['child', 'family', 'professional']),
      role: z.string(),
      agency: z.string().optional(),
      view: z.string(),
    }),
  ),
  narrative: z.string().optional(),
});

const domainOutcomes = z.object({
  domain: z.string().meta({ example: 'stay-safe' }),
  label: z.string(),
  series: z.array(series),
  accounts: z.array(account),
  indicators: z.array(indicatorView),
  facts: z.array(fact),
  disagreements: z.array(disagreement),
  viewsDiffer: z.array(viewsDifferView),
});

export const childOutcomes = z.object({
  framework: z.object({ id: z.string(), name: z.string(), version: z.number().int() }),
  period: z.enum(['term', 'year']),
  from: date.optional(),
  to: date.optional(),
  threshold: z.number().meta({ description: 'DISAGREEMENT_THRESHOLD: share of the range (0–1)' }),
  domains: z.array(domainOutcomes),
});

export type ChildOutcomes = z.output<typeof childOutcomes>;
export type DomainOutcomes = z.output<typeof domainOutcomes>;
export type RatingPoint = z.output<typeof ratingPoint>;
export type OutcomesQuery = z.output<typeof OUTCOMES_QUERY>;

const practitioner = z.object({
  role: z.string(),
  agency: z.string().optional(),
  team: z.string().optional(),
});

const reviewView = z.object({
  position,
  eventId,
  reviewedOn: date,
  whatHappened: z.string().optional(),
  againstExpected: z.array(
    z.object({ framework: z.string(), domain: z.string(), finding: z.string(), judgement: z.string() }),
  ),
  outcome: z.enum(['continued', 'revised', 'ended']),
  revisedDecision: z.string().optional(),
  nextReviewDate: date.optional(),
  reviewedBy: practitioner.optional(),
  forum: z.string().optional(),
  confidence: confidence.optional(),
});

export const DECISION_STATUS = ['open', 'review-due', 'overdue', 'reviewed'] as const;
export type DecisionStatus = (typeof DECISION_STATUS)[number];

/** An observation or indicator seen after some decision: listed once, however many decisions saw it. */
const evidenceEntry = z.object({
  position,
  eventId,
  date,
  type: z.string(),
  narrative: z.string().optional(),
  indicators: z.array(z.object({ name: z.string(), value: z.number(), unit: z.string().optional() })),
  confidence: confidence.optional(),
});

/** One of a decision's "since" entries: the evidence entry (by position) and the expected domain it was seen in. */
const sinceEntry = z.object({
  position: position.meta({ description: 'the entry in `evidence`' }),
  framework: z.string(),
  domain: z.string(),
});

const decisionView = z.object({
  position,
  eventId,
  decidedOn: date,
  decision: z.string(),
  rationale: z.string().optional(),
  optionsConsidered: z.array(z.object({ option: z.string(), whyNot: z.string().optional() })),
  uncertainty: z.string().optional(),
  confidence: confidence.optional(),
  decidedBy: practitioner.optional(),
  forum: z.string().optional(),
  team: z.string().optional(),
  expectedOutcomes: z.array(z.object({ framework: z.string(), domain: z.string(), lookFor: z.string() })),
  reviewDate: date.optional().meta({ description: 'as first decided' }),
  nextReviewDate: date
    .optional()
    .meta({ description: 'the review now due: the latest review’s, or the first' }),
  reviews: z.array(reviewView),
  status: z.enum(DECISION_STATUS),
  since: z.object({
    from: date,
    until: date.optional(),
    /**
     * Observations and indicators in the expected domains, per perspective (`unattributed`: facts
     * with no observer), as references to `evidence` (windows of successive decisions overlap).
     */
    byPerspective: z.array(z.object({ perspective, entries: z.array(sinceEntry) })),
  }),
});

export const childDecisions = z.object({
  today: date,
  reviewDueDays: z.number().int(),
  decisions: z.array(decisionView),
  /** Every entry some decision's "since" refers to, once, in order of position. */
  evidence: z.array(evidenceEntry),
});

export type ChildDecisions = z.output<typeof childDecisions>;
export type DecisionView = z.output<typeof decisionView>;
export type EvidenceEntry = z.output<typeof evidenceEntry>;

export const REVIEWS_DUE_QUERY = z.strictObject({
  team: z.string().trim().min(1).max(200).optional(),
  before: z.iso.date({ message: 'a date YYYY-MM-DD' }).optional(),
});
export type ReviewsDueQuery = z.output<typeof REVIEWS_DUE_QUERY>;

export const reviewsDue = z.object({
  before: date,
  team: z.string().optional(),
  reviews: z.array(
    z.object({
      childKey: z.string().meta({ example: 'ch_3f2a9c0d1e4b5a6c7d8e' }),
      eventId,
      decision: z.string(),
      decidedOn: date,
      team: z.string().optional(),
      reviewDate: date,
      status: z.enum(DECISION_STATUS),
    }),
  ),
  withheld: z.array(z.object({ count: z.number().int().min(1), reason: z.string() })).meta({
    description: 'decisions due that the access policy withholds from this reader, grouped by reason',
  }),
});
export type ReviewsDue = z.output<typeof reviewsDue>;

import { z } from 'zod';
import type { BreakGlassGrant } from '@throughline/access';
import { AGENCY_NAMES } from '@throughline/contracts';
import {
  IDENTITY_EVENT_TYPES,
  LINK_METHODS,
  actor,
  conflictFlagged,
  matchProposed,
  type CommandResult,
  type ConflictView,
  type LinkerStatus,
  type ProposalView,
} from '@throughline/identity';
import type { ChildTimeline, ProjectionStatus } from '@throughline/timeline';

/**
 * The projection's responses as zod schemas: /docs is generated from them. Each one
 * `satisfies` the type its service returns, so a required field served but not documented,
 * or documented with another type, fails the type-check. Requests are the contexts' own
 * schemas (LOOKUP_REQUEST, IDENTITY_REVIEW_REQUESTS), which parse them.
 */

const timestamp = z.string().meta({ format: 'date-time', example: '2024-11-05T09:00:00.000Z' });
const uuid = z.string().meta({ format: 'uuid' });
const isoDay = z.string().meta({ format: 'date', example: '2015-05-14' });
const position = z.number().int().nonnegative().meta({ description: 'store position' });
const childKey = z.string().meta({ example: 'ch_3f2a9c0d1e4b5a6c7d8e' });
const agency = z.enum(AGENCY_NAMES);

export const lookupResponse = z.object({ childKey }) satisfies z.ZodType<{ childKey: string }>;

const outcomeDomain = z.object({
  framework: z.string().meta({ example: 'ecm' }),
  domain: z.string().meta({ example: 'stay-safe' }),
  label: z.string().optional().meta({ example: 'Stay safe' }),
});

const indicator = z.object({
  name: z.string().meta({ example: 'attendance' }),
  label: z.string().optional().meta({ example: 'Attendance' }),
  value: z.number().meta({ example: 91.2 }),
  unit: z
    .string()
    .optional()
    .meta({ example: '%', description: 'for a measure; absent for a value on a scale' }),
  scale: z
    .object({ name: z.string(), min: z.number(), max: z.number() })
    .optional()
    .meta({ example: { name: 'ks2-scaled-score', min: 80, max: 120 } }),
  thresholds: z
    .array(z.object({ value: z.number(), label: z.string() }))
    .optional()
    .meta({ example: [{ value: 100, label: 'expected standard' }] }),
  period: z
    .object({ academicYear: z.string(), term: z.enum(['autumn', 'spring', 'summer']).optional() })
    .optional()
    .meta({ example: { academicYear: '2024/25', term: 'autumn' } }),
  higherIsBetter: z.boolean().optional(),
});

const recordedBy = z
  .object({ role: z.string(), agency: z.string().optional(), team: z.string().optional() })
  .meta({ example: { role: 'team manager', agency: 'social-care', team: 'Assessment team 2' } });
const domainRef = z.object({ framework: z.string(), domain: z.string() });

const lineage = z.object({
  eventId: uuid,
  topic: z.string().optional(),
  partition: z.number().int().nonnegative().optional(),
  offset: z.string().optional().meta({ description: 'Kafka offset (64-bit, as a string)' }),
  storePosition: position,
  publisher: z.string().optional(),
  sourceSystem: z.string(),
  storedSchemaVersion: z
    .number()
    .int()
    .optional()
    .meta({ description: 'The contract version the agency sent; the store keeps the event as sent.' }),
  schemaVersion: z.number().int().optional().meta({
    description:
      'The contract version the entry was built from: the stored event upcast to the current version.',
  }),
});

const timelineEntry = z.object({
  position,
  occurredAt: z.string().meta({ format: 'date-time', example: '2024-11-05T09:00:00+00:00' }),
  agency,
  type: z.string().meta({ example: 'social-care.referral.received' }),
  summary: z.string().meta({ example: 'Referral received from SCHOOLS — primary need: Abuse or neglect' }),
  outcomeDomain,
  kind: z.enum(['fact', 'observation']),
  indicators: z
    .array(indicator)
    .optional()
    .meta({ description: 'evidence beside the account, never the outcome' }),
  narrative: z
    .string()
    .optional()
    .meta({ description: "the account; for the voice of the child, the child's words alone" }),
  perspective: z.enum(['child', 'family', 'professional']).optional(),
  observerRole: z.string().optional().meta({ example: 'class teacher' }),
  observerAgency: z.string().optional().meta({ example: 'education' }),
  recordedBy: recordedBy.optional(),
  confidence: z.enum(['low', 'medium', 'high']).optional(),
  observedOn: z.string().optional().meta({ format: 'date' }),
  reviewDate: z.string().optional().meta({ format: 'date' }),
  correlationId: uuid.optional(),
  causationId: uuid.optional(),
  declaredOutcomeDomains: z.array(domainRef).optional(),
  decision: z
    .object({
      decidedOn: z.string().meta({ format: 'date' }),
      decision: z.string(),
      options: z.array(z.object({ option: z.string(), whyNot: z.string().optional() })),
      uncertainty: z.string(),
      forum: z.string().optional(),
      team: z.string().optional(),
      expectedOutcomes: z.array(domainRef.extend({ lookFor: z.string() })),
      reviewDate: z.string().meta({ format: 'date' }),
    })
    .optional(),
  voice: z
    .object({
      verbatim: z.boolean(),
      capturedHow: z.string(),
      context: z.string().optional(),
      interpretation: z.string().optional(),
      childAgreedToShare: z.boolean().optional(),
    })
    .optional(),
  review: z
    .object({
      decisionId: uuid,
      reviewedOn: z.string().meta({ format: 'date' }),
      whatHappened: z.string(),
      againstExpected: z.array(
        domainRef.extend({
          finding: z.string(),
          judgement: z.enum([
            'as-expected',
            'better-than-expected',
            'worse-than-expected',
            'too-early-to-say',
          ]),
        }),
      ),
      outcome: z.enum(['continued', 'revised', 'ended']),
      revisedDecision: z.string().optional(),
      nextReviewDate: z.string().optional().meta({ format: 'date' }),
      forum: z.string().optional(),
    })
    .optional(),
  viewsDiffer: z
    .object({
      about: z.array(uuid),
      framework: z.string().optional(),
      domain: z.string().optional(),
      views: z.array(
        z.object({
          perspective: z.enum(['child', 'family', 'professional']),
          role: z.string(),
          agency: z.string().optional(),
          view: z.string(),
        }),
      ),
    })
    .optional(),
  imported: z
    .object({
      kind: z.enum(['statutory-return', 'health-record']),
      format: z.string().meta({ example: 'cin-census' }),
      collectionYear: z.string().optional().meta({ example: '2024-25' }),
      location: z.string().meta({ example: 'Message/Children/Child[12]/CINdetails[1]/Section47[1]' }),
      fileSha256: z.string(),
    })
    .optional()
    .meta({ description: 'where an imported event came from (absent when recorded as it happened)' }),
  notInReturn: z
    .array(z.string())
    .optional()
    .meta({ description: 'fields the return did not hold (never invented)', example: ['rationale'] }),
  quarantinedIdentifiers: z
    .array(z.object({ field: z.string(), rule: z.string() }))
    .optional()
    .meta({ description: 'identifiers the source reported that failed their rule, never used for linking' }),
  specialCategories: z
    .array(z.string())
    .optional()
    .meta({ description: 'special categories of data the entry touches', example: ['mental-health'] }),
  sharedUnder: z
    .discriminatedUnion('basis', [
      z.object({ basis: z.literal('own-organisation') }),
      z.object({
        basis: z.literal('agreement'),
        agreement: z.string().meta({ example: 'vale-camhs-safeguarding@1' }),
      }),
      z.object({ basis: z.literal('break-glass'), grant: uuid }),
    ])
    .meta({
      description:
        "why this reader may see it: their own organisation's record, an agreement, or break-glass",
    }),
  lineage,
});

export const withheld = z
  .array(
    z.object({
      count: z.number().int().min(1),
      reason: z.string().meta({
        example: 'mental-health: no agreement covers it for role school-dsl, purpose safeguarding',
      }),
    }),
  )
  .meta({ description: 'what this reader may not see, grouped by reason' });

const breakGlassUsed = z.object({ id: uuid, reason: z.string(), expiresAt: timestamp });

const subject = z.object({
  streamId: z.string().meta({ example: 'health-chs-000123' }),
  agency,
  recordId: z.string(),
  identifiers: z.array(z.object({ kind: z.enum(['nhs-number', 'upn', 'former-upn']), value: z.string() })),
  linkedBy: z.enum(['first-record', ...LINK_METHODS]),
  firstSeenPosition: position,
  lastSeenPosition: position,
  dateOfBirth: isoDay.optional().meta({ description: "the date of birth this record's latest event gave" }),
  expectedDateOfBirth: isoDay
    .optional()
    .meta({ description: 'before birth: the expected date this record last gave' }),
});

const link = z.object({
  streamId: z.string().meta({ description: 'the record the link was decided for' }),
  linkedTo: z.string(),
  method: z.enum(LINK_METHODS),
  evidence: z
    .record(z.string(), z.unknown())
    .meta({ description: 'shared identifiers, the confirmed proposal and score, or the reason' }),
  by: actor,
  at: timestamp,
  linkedAtPosition: position,
});

const linkHistoryEntry = z.object({
  position,
  type: z.enum(IDENTITY_EVENT_TYPES).meta({ example: 'identity.subject.unlinked' }),
  subjects: z.array(z.string()),
  at: timestamp,
  by: actor,
  method: z.string().optional(),
  reason: z.string().optional(),
  details: z.record(z.string(), z.unknown()).meta({ description: 'the rest of the identity event' }),
});

export const childTimeline = z.object({
  childKey,
  mergedChildKeys: z
    .array(z.string())
    .meta({ description: 'keys of children found to be this one and merged into it' }),
  dateOfBirth: isoDay
    .optional()
    .meta({ description: 'as the most recently updated record shown gives it (ages are counted from it)' }),
  expectedDateOfBirth: isoDay.optional().meta({ description: 'before birth, likewise' }),
  subjects: z.array(subject),
  links: z.array(link),
  linkHistory: z
    .array(linkHistoryEntry)
    .meta({ description: 'links, unlinks, proposals, decisions and conflicts' }),
  entries: z.array(timelineEntry),
  withheld,
  access: z
    .object({
      purpose: z.string(),
      roles: z.array(z.string()),
      policyVersion: z.number().int().nonnegative(),
      breakGlass: breakGlassUsed.optional(),
    })
    .meta({ description: 'the terms of this answer: purpose, roles, policy version, break-glass if used' }),
}) satisfies z.ZodType<ChildTimeline>;

const checkpointFields = {
  head: z.number().int().nonnegative().meta({ description: 'highest committed store position' }),
  lag: z.number().int().nonnegative().meta({ description: 'head − checkpoint' }),
  running: z.boolean(),
  lastError: z.string().optional(),
};

export const projectionStatus = z.object({
  projection: z.string(),
  checkpoint: z.number().int().nonnegative().meta({ description: 'last store position in the read models' }),
  ...checkpointFields,
  skippedEvents: z
    .number()
    .int()
    .nonnegative()
    .meta({ description: 'stored events that were not valid contracts' }),
}) satisfies z.ZodType<ProjectionStatus>;

export const linkerStatus = z.object({
  linker: z.string().meta({ example: 'identity-linker' }),
  checkpoint: z
    .number()
    .int()
    .nonnegative()
    .meta({ description: 'last store position the linker has linked' }),
  ...checkpointFields,
  appendedEvents: z
    .number()
    .int()
    .nonnegative()
    .meta({ description: 'identity events appended since start' }),
}) satisfies z.ZodType<LinkerStatus>;

const proposal = z.object({
  proposalId: uuid,
  subject: z.string().meta({ example: 'health-chs-1' }),
  candidate: z.string().meta({ example: 'education-pupil-7' }),
  score: z.number().meta({ description: 'bits (sum of the field weights)' }),
  threshold: z.number().meta({ description: 'the score at which a pair is proposed' }),
  evidence: matchProposed.shape.evidence.meta({
    description:
      'per field: agree, partial, disagree or missing, and its weight in bits (log2 likelihood ratio)',
  }),
  status: z.enum(['open', 'confirmed', 'rejected', 'superseded']),
  proposedAt: timestamp,
  decidedBy: actor.optional(),
  decidedAt: timestamp.optional(),
  reason: z.string().optional(),
}) satisfies z.ZodType<ProposalView>;

export const proposalList = z.object({ proposals: z.array(proposal) });

const conflict = z.object({
  conflictId: uuid,
  subject: z.string(),
  others: z.array(z.string()),
  rule: conflictFlagged.shape.rule,
  shared: conflictFlagged.shape.shared.meta({
    description: 'identifiers shared, each with the record it is shared with',
  }),
  conflicts: conflictFlagged.shape.conflicts.meta({
    description: 'what contradicts: kind, the two values, between which records',
  }),
  flaggedAt: timestamp,
}) satisfies z.ZodType<ConflictView>;

export const conflictList = z.object({ conflicts: z.array(conflict) });

export const identityCommandResult = z.object({
  streamId: z.string(),
  eventId: uuid,
  type: z.enum(IDENTITY_EVENT_TYPES),
  position: position.meta({
    description: 'store position of the event; the change is visible once the projection passes it',
  }),
}) satisfies z.ZodType<CommandResult>;

export const breakGlassGrant = z.object({
  id: uuid,
  userId: z.string(),
  organisation: z.string(),
  roles: z.array(z.string()),
  purpose: z.string(),
  childKey,
  reason: z.string(),
  grantedAt: timestamp,
  expiresAt: timestamp,
}) satisfies z.ZodType<BreakGlassGrant>;

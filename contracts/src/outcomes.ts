import { z } from 'zod';
import { anySource, envelope, isoDate, narrative, shortText } from './common';

/**
 * A cross-agency outcome observation. Outcomes are long, multi-perspective processes of
 * change: the narrative is required, a rating is optional evidence, and every
 * observation says whose perspective it is and how confident the observer is.
 * Framework and domain are data (e.g. `ecm` / `stay-safe`, `outcomes-star` / `family-relationships`).
 */

export const PERSPECTIVE = z.enum(['child', 'family', 'professional']);
export const CONFIDENCE = z.enum(['low', 'medium', 'high']);

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, { message: 'lower-case slug, e.g. stay-safe' });

export const outcomeObservationRecorded = envelope(
  'outcome.observation.recorded',
  anySource,
  z.strictObject({
    framework: slug,
    domain: slug,
    perspective: PERSPECTIVE,
    /** e.g. "health visitor", "class teacher", "mother". */
    observerRole: shortText,
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

export const outcomeEvents = [outcomeObservationRecorded] as const;

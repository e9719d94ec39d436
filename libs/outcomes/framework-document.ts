import { z } from 'zod';
import { EVENT_TYPES } from '@throughline/contracts';

/**
 * Outcome frameworks as data (decision 015): each framework's domains, the scales ratings are
 * made on (which end is better, labels), and which outcome domains each kind of event is
 * evidence about, several per type and per framework. Applied when reading, so a new framework
 * or mapping needs no rebuild and no code; stored versioned (framework-store.ts).
 */

/** Event types the contracts are gaining with decision 015; accepted in a mapping before they land. */
export const ANNOUNCED_EVENT_TYPES = ['practice.decision.reviewed', 'practice.views.differ'] as const;

const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set<string>([...EVENT_TYPES, ...ANNOUNCED_EVENT_TYPES]);

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, { message: 'a lower-case slug (a-z, 0-9, -)' });
const label = z.string().trim().min(1).max(200);
const text = z.string().trim().min(1).max(2000);

export const domainRef = z.strictObject({ framework: slug, domain: slug });
export type DomainRef = z.output<typeof domainRef>;

const scale = z
  .strictObject({
    id: slug,
    label,
    min: z.number(),
    max: z.number(),
    // A refine, not .positive(): an exclusive minimum does not survive the OpenAPI 3.0 document.
    step: z
      .number()
      .refine((step) => step > 0, { message: 'step must be above 0', params: { rule: 'positive-step' } })
      .default(1),
    /** Which end is the better one: normalised values are 1 at that end, 0 at the other. */
    better: z.enum(['higher', 'lower']),
    /** Words for points on the scale, e.g. { "0": "the child must be removed", "10": "safe enough to close" }. */
    labels: z
      .record(z.string().regex(/^-?\d+(\.\d+)?$/, { message: 'a number on the scale' }), label)
      .default({}),
    description: text.optional(),
  })
  .superRefine((value, context) => {
    if (value.min >= value.max)
      context.addIssue({
        code: 'custom',
        path: ['max'],
        message: 'max must be above min',
        params: { rule: 'max-above-min' },
      });
    for (const point of Object.keys(value.labels))
      if (Number(point) < value.min || Number(point) > value.max)
        context.addIssue({
          code: 'custom',
          path: ['labels', point],
          message: `label for ${point} lies outside ${value.min}..${value.max}`,
          params: { rule: 'label-within-scale' },
        });
  });

const domain = z.strictObject({
  id: slug,
  label,
  description: text.optional(),
  /**
   * Domains of other frameworks this one is also evidence about: a rating in Signs of Safety
   * `safety` shows, as its own series, under Every Child Matters `stay-safe` too.
   */
  alsoEvidenceFor: z.array(domainRef).max(10).default([]),
});

const framework = z.strictObject({
  id: slug,
  name: label,
  /** Where the framework comes from (publication, owner), in words. */
  source: text,
  description: text.optional(),
  domains: z.array(domain).min(1).max(30),
  /** The scales ratings in this framework are usually made on (any scale of the document may be used). */
  scales: z.array(slug).default([]),
});

export const FRAMEWORK_DOCUMENT = z
  .strictObject({
    $comment: z.string().optional(),
    title: label,
    frameworks: z.array(framework).min(1).max(20),
    scales: z.array(scale).max(50),
    /** Event type → the domains it is evidence about. An entry's own declared domains override it per framework. */
    mapping: z.record(z.string(), z.array(domainRef).min(1).max(10)),
  })
  .superRefine((document, context) => {
    const issue = (path: (string | number)[], message: string, rule: string) =>
      context.addIssue({ code: 'custom', path, message, params: { rule } });
    const frameworks = new Map(document.frameworks.map((f) => [f.id, new Set(f.domains.map((d) => d.id))]));
    const scales = new Set(document.scales.map((s) => s.id));
    const unique = (ids: readonly string[], path: (i: number) => (string | number)[]) => {
      const seen = new Set<string>();
      ids.forEach((id, index) => {
        if (seen.has(id)) issue(path(index), `duplicate id "${id}"`, 'unique-id');
        seen.add(id);
      });
    };
    unique(
      document.frameworks.map((f) => f.id),
      (i) => ['frameworks', i, 'id'],
    );
    unique(
      document.scales.map((s) => s.id),
      (i) => ['scales', i, 'id'],
    );
    const checkRef = (ref: DomainRef, path: (string | number)[]) => {
      const domains = frameworks.get(ref.framework);
      if (!domains) issue([...path, 'framework'], `unknown framework "${ref.framework}"`, 'known-framework');
      else if (!domains.has(ref.domain))
        issue(
          [...path, 'domain'],
          `framework "${ref.framework}" has no domain "${ref.domain}"`,
          'known-domain',
        );
    };
    document.frameworks.forEach((f, i) => {
      unique(
        f.domains.map((d) => d.id),
        (j) => ['frameworks', i, 'domains', j, 'id'],
      );
      f.scales.forEach((s, j) => {
        if (!scales.has(s)) issue(['frameworks', i, 'scales', j], `unknown scale "${s}"`, 'known-scale');
      });
      f.domains.forEach((d, j) =>
        d.alsoEvidenceFor.forEach((ref, k) => {
          checkRef(ref, ['frameworks', i, 'domains', j, 'alsoEvidenceFor', k]);
          if (ref.framework === f.id)
            issue(
              ['frameworks', i, 'domains', j, 'alsoEvidenceFor', k, 'framework'],
              'a domain is evidence for domains of other frameworks only',
              'other-framework',
            );
        }),
      );
    });
    for (const [type, refs] of Object.entries(document.mapping)) {
      if (!KNOWN_EVENT_TYPES.has(type))
        issue(['mapping', type], `"${type}" is no event type of the contracts`, 'known-event-type');
      refs.forEach((ref, k) => checkRef(ref, ['mapping', type, k]));
    }
  });

export type FrameworkDocument = z.output<typeof FRAMEWORK_DOCUMENT>;
export type Framework = FrameworkDocument['frameworks'][number];
export type FrameworkDomain = Framework['domains'][number];
export type Scale = FrameworkDocument['scales'][number];

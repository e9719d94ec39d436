import { z } from 'zod';
import { AGENCY_NAMES, EVENT_TYPES, specialCategory } from '@throughline/contracts';

/**
 * What a caller may do, each asked with a purpose. A role grants permissions for some purposes;
 * agreements then decide which entries of a chronology a granted read may see.
 */
export const PERMISSIONS = [
  'child:lookup',
  'timeline:read',
  'break-glass',
  'identity:read',
  'identity:decide',
  'dead-letters:read',
  'dead-letters:payload',
  'dead-letters:redrive',
  'governance:read',
  'policy:read',
  'policy:change',
  'access-notifications:read',
  'operations:read',
  'frameworks:read',
  'frameworks:change',
  'reviews:read',
  /** Measures over the pseudonymised analysis model, answered under disclosure control (never a child). */
  'analysis:query',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The permissions that read or change one identified child's data (analysts never hold them). */
export const IDENTIFIABLE_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>([
  'child:lookup',
  'timeline:read',
  'break-glass',
  'identity:read',
  'identity:decide',
  'dead-letters:payload',
  'reviews:read',
]);

const slug = z.string().regex(/^[a-z][a-z0-9-]{1,63}$/, { message: 'a lower-case slug (a-z, 0-9, -)' });
const isoDate = z.iso.date({ message: 'a date YYYY-MM-DD' });
const label = z.string().trim().min(1).max(200);

/** `health.camhs.*`, `social-care.child-protection-plan.started`, `*`: matched against event types. */
const typePattern = z
  .string()
  .regex(/^(\*|[a-z-]+(\.[a-z0-9-]+)*(\.\*)?)$/, { message: 'an event type, or a prefix ending in .*' })
  .refine(
    (pattern) =>
      pattern === '*' ||
      EVENT_TYPES.some((type) =>
        pattern.endsWith('.*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern,
      ),
    { message: 'matches no event type of the contracts', params: { rule: 'known-event-type' } },
  );

const purpose = z.strictObject({
  id: slug,
  label,
  /** False for purposes that must never see an identified child (analysis). */
  identifiable: z.boolean(),
});

const grant = z.strictObject({
  permission: z.enum(PERMISSIONS),
  purposes: z.array(slug).min(1),
});

const role = z.strictObject({
  id: slug,
  label,
  grants: z.array(grant),
});

const legalBasis = z.strictObject({
  /** UK GDPR article 6 basis, e.g. "6(1)(e) public task". */
  article6: label,
  /** For special categories: the article 9 condition and, where it needs one, the DPA 2018 Sch 1 condition. */
  article9: label.optional(),
  /** Statutory duties relied on, e.g. "Children Act 2004 s.11", "Working Together 2023". */
  statutory: z.array(label).default([]),
});

const agreement = z
  .strictObject({
    id: slug,
    version: z.number().int().min(1),
    title: label,
    /** The agency whose records this agreement shares. */
    providingAgency: z.enum(AGENCY_NAMES),
    /** Only these recording organisations' entries (ODS codes, URNs, LA codes); all of the agency's when absent. */
    providingOrganisations: z.array(label).min(1).optional(),
    recipients: z.strictObject({
      /** Organisation types that receive (local-authority, health, school). */
      organisationTypes: z.array(slug).min(1),
      /** Only these organisation codes; any of those types when absent. */
      organisations: z.array(label).min(1).optional(),
      roles: z.array(slug).min(1),
    }),
    /** Named event categories of the document that this agreement shares. */
    eventCategories: z.array(slug).min(1),
    /** Special categories it also covers; an entry touching any other one is withheld. */
    specialCategories: z.array(specialCategory).default([]),
    purposes: z.array(slug).min(1),
    legalBasis,
    validFrom: isoDate,
    validTo: isoDate.optional(),
    /** Who signed it off for each party (names of roles, not people's personal data). */
    signedOffBy: z.array(label).min(1),
  })
  .superRefine((value, context) => {
    if (value.specialCategories.length > 0 && !value.legalBasis.article9)
      context.addIssue({
        code: 'custom',
        path: ['legalBasis', 'article9'],
        message: 'an agreement covering special categories needs an article 9 condition',
        params: { rule: 'article-9-required' },
      });
    if (value.validTo && value.validTo < value.validFrom)
      context.addIssue({
        code: 'custom',
        path: ['validTo'],
        message: 'validTo may not precede validFrom',
        params: { rule: 'not-before-validFrom' },
      });
  });

/**
 * The access policy as data: purposes, roles and what they grant, named event categories, and
 * data-sharing agreements. Stored versioned in the database (policy-store.ts), loaded at start
 * and replaced without a deploy; every decision names the version it was made under.
 */
export const ACCESS_POLICY = z
  .strictObject({
    $comment: z.string().optional(),
    title: label,
    purposes: z.array(purpose).min(1),
    roles: z.array(role),
    eventCategories: z.record(slug, z.array(typePattern).min(1)),
    agreements: z.array(agreement),
  })
  .superRefine((policy, context) => {
    const purposes = new Set(policy.purposes.map((p) => p.id));
    const roles = new Set(policy.roles.map((r) => r.id));
    const issue = (path: (string | number)[], message: string, rule: string) =>
      context.addIssue({ code: 'custom', path, message, params: { rule } });
    const unique = (ids: string[], path: string) => {
      const seen = new Set<string>();
      ids.forEach((id, index) => {
        if (seen.has(id)) issue([path, index, 'id'], `duplicate id "${id}"`, 'unique-id');
        seen.add(id);
      });
    };
    unique(
      policy.purposes.map((p) => p.id),
      'purposes',
    );
    unique(
      policy.roles.map((r) => r.id),
      'roles',
    );
    unique(
      policy.agreements.map((a) => a.id),
      'agreements',
    );
    policy.roles.forEach((r, i) =>
      r.grants.forEach((g, j) =>
        g.purposes.forEach((p, k) => {
          if (!purposes.has(p))
            issue(['roles', i, 'grants', j, 'purposes', k], `unknown purpose "${p}"`, 'known-purpose');
          const declared = policy.purposes.find((known) => known.id === p);
          if (declared && !declared.identifiable && IDENTIFIABLE_PERMISSIONS.has(g.permission))
            issue(
              ['roles', i, 'grants', j, 'purposes', k],
              `purpose "${p}" is not identifiable: it cannot grant ${g.permission}`,
              'identifiable-purpose',
            );
        }),
      ),
    );
    policy.agreements.forEach((a, i) => {
      a.purposes.forEach((p, k) => {
        if (!purposes.has(p))
          issue(['agreements', i, 'purposes', k], `unknown purpose "${p}"`, 'known-purpose');
      });
      a.recipients.roles.forEach((r, k) => {
        if (!roles.has(r))
          issue(['agreements', i, 'recipients', 'roles', k], `unknown role "${r}"`, 'known-role');
      });
      a.eventCategories.forEach((c, k) => {
        if (!(c in policy.eventCategories))
          issue(['agreements', i, 'eventCategories', k], `unknown event category "${c}"`, 'known-category');
      });
    });
  });

export type AccessPolicy = z.output<typeof ACCESS_POLICY>;
export type Agreement = AccessPolicy['agreements'][number];
export type Role = AccessPolicy['roles'][number];
export type Purpose = AccessPolicy['purposes'][number];

import { z } from 'zod';
import sexList from '../code-lists/sex.json';
import { codeListFromFile, isCodeValidOn, registerCodeListFields, type FileCodeList } from './code-lists';
import { isValidNhsNumber, isValidUpn } from './identifiers';

/**
 * Building blocks shared by every contract. Strings are bounded, dates are ISO, codes are
 * enums whose labels travel with them (`codeList`).
 */

/**
 * A code list. A national list is given as its data file (`contracts/code-lists/<id>.json`):
 * the enum holds every code the list has held, with `labels` as published and the `list`, and
 * each event is checked against the codes valid in its own year (`code-valid-in-year`). The
 * project's own lists (slugs) are given as `{ code: label }`.
 */
export function codeList(file: { readonly id: string; readonly codes: readonly unknown[] }): FileCodeList;
export function codeList<const T extends Record<string, string>>(
  labels: T,
): z.ZodEnum<{ [K in keyof T & string]: K }> & { labels: T };
export function codeList(labels: Record<string, unknown>) {
  if (Array.isArray(labels.codes) && typeof labels.id === 'string') return codeListFromFile(labels);
  const codes = Object.keys(labels) as [string, ...string[]];
  return Object.assign(z.enum(codes), { labels });
}

export const isoDate = z.iso.date();
export const isoDateTime = z.iso.datetime({ offset: true });
export const shortText = z.string().trim().min(1).max(200);
/** Free narrative is first-class: up to 20,000 characters. */
export const narrative = z.string().trim().min(1).max(20000);

export const nhsNumber = z
  .string()
  .regex(/^\d{10}$/, { message: 'NHS number must be 10 digits without spaces' })
  .refine(isValidNhsNumber, {
    message: 'NHS number fails its modulus 11 check digit',
    params: { rule: 'nhs-number-check-digit' },
  });

/**
 * UPN. Lower-case letters are upper-cased before the checks (returns carry them; the check
 * letter is defined on upper case). The JSON Schema keeps the upper-case pattern.
 */
export const upn = z
  .string()
  .toUpperCase()
  .regex(/^[A-Z]\d{11}[A-Z0-9]$/, { message: 'UPN must be a letter, 11 digits and a digit or letter' })
  .refine(isValidUpn, { message: 'UPN fails its check letter', params: { rule: 'upn-check-letter' } });

/** The agency system's own id for the subject record: it keys the Kafka message and names the stream. */
export const recordId = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'record id must be 1-64 of A-Z a-z 0-9 . _ -' });

/** Local authority code (three digits, e.g. 926). */
export const laCode = z.string().regex(/^\d{3}$/, { message: 'LA code must be 3 digits' });

/** School URN: six digits. */
export const schoolUrn = z.string().regex(/^\d{6}$/, { message: 'school URN must be 6 digits' });

/** A UK postcode in its display form, e.g. "ZZ99 3AB", upper case (ZZ99 is the NHS pseudo-postcode area). */
export const postcode = z.string().regex(/^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/, {
  message: 'postcode must be a UK postcode such as "ZZ99 3AB"',
});

/** A unique learner number: 10 digits, the first not 0. */
export const uln = z.string().regex(/^[1-9]\d{9}$/, { message: 'ULN must be 10 digits, the first not 0' });

/** A person's name as the recording system holds it; used for identity matching, never shown in URLs. */
export const personName = z.strictObject({
  given: z.string().trim().min(1).max(100),
  family: z.string().trim().min(1).max(100),
});

/**
 * Sex as the statutory returns record it: 1/2/0/9 up to 2023-24, M/F/U from 2024-25
 * (`contracts/code-lists/sex.json`); checked against the event's year like any code list.
 */
export const sex = codeList(sexList);

/** Male, female or unknown, whichever code a year's list used (1 = M, 2 = F); for matching. */
export function sexOf(code: string | undefined): 'male' | 'female' | undefined {
  if (code === '1' || code === 'M') return 'male';
  if (code === '2' || code === 'F') return 'female';
  return undefined;
}

/** The code of a sex in the list of `day`'s collection year: 1/2/0 up to 2023-24, M/F/U from 2024-25. */
export function sexCodeOn(day: string, value: 'male' | 'female' | 'unknown'): string {
  const candidates = { male: ['1', 'M'], female: ['2', 'F'], unknown: ['0', 'U'] }[value];
  const code = candidates.find((candidate) => isCodeValidOn(sex, candidate, day));
  if (!code) throw new Error(`no sex code for ${value} on ${day}`);
  return code;
}

/**
 * LA child id as the CIN census allows it: 1-20 letters and digits only [D2I-CIN rules 1570,
 * 1580]. Subjects accept the wider form of events recorded before issue 14 (`/`, `_`, `-`);
 * new events are held to this rule at intake (`la-child-id-characters`).
 */
export const laChildId = z.string().regex(/^[A-Za-z0-9]{1,20}$/, {
  message: 'LA child id must be 1-20 letters and digits (CIN census rules 1570, 1580)',
});

/**
 * Special categories of personal data an event touches (UK GDPR art. 9 and the sensitive
 * health areas with their own sharing rules). Carried in the envelope so that access rules
 * can act on them without reading the payload.
 */
export const specialCategory = codeList({
  'sexual-health': 'Sexual health',
  'reproductive-health': 'Reproductive health, including pregnancy and termination',
  'mental-health': 'Mental health',
  'substance-misuse': 'Drug and alcohol misuse',
  'gender-identity': 'Gender identity',
  'hiv-sti': 'HIV and sexually transmitted infections',
  'criminal-offence': 'Criminal offence data, including youth justice',
  ethnicity: 'Racial or ethnic origin',
  religion: 'Religious or philosophical beliefs',
  genetic: 'Genetic data',
});
export type SpecialCategory = z.infer<typeof specialCategory>;

export const AGENCY_NAMES = ['health', 'education', 'social-care'] as const;
export type Agency = (typeof AGENCY_NAMES)[number];

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

/** An id of configurable data (a framework, a domain, a scale), e.g. `ecm`, `stay-safe`. */
export const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, { message: 'lower-case slug, e.g. stay-safe' });

/**
 * The practitioner who recorded something: role (e.g. "health visitor", "class teacher"),
 * agency, and the team, when it matters who holds the follow-up.
 */
export const recordedBy = z.strictObject({
  role: shortText,
  agency: PRACTITIONER_AGENCY,
  team: shortText.optional(),
});
export type RecordedBy = z.infer<typeof recordedBy>;

/** A domain of an outcome framework; both are data (`ecm` / `stay-safe`, `signs-of-safety` / `safety`). */
export const outcomeDomainRef = z.strictObject({ framework: slug, domain: slug });

/**
 * The recording practitioner's own statement of which outcome domains an event is evidence
 * about (1-10, each once). It overrides the framework's mapping of the event's type, for the
 * frameworks it names.
 */
export const outcomeDomains = z
  .array(outcomeDomainRef)
  .min(1)
  .max(10)
  .refine((refs) => new Set(refs.map((ref) => `${ref.framework}/${ref.domain}`)).size === refs.length, {
    message: 'each framework and domain appears once',
    params: { rule: 'unique-domain' },
  });

/** The identifier fields of a subject that can be quarantined. */
export const IDENTIFIER_FIELDS = ['nhsNumber', 'upn', 'formerUpn', 'laChildId', 'uln'] as const;
export type IdentifierField = (typeof IDENTIFIER_FIELDS)[number];

/** An identifier that failed its rule, as reported (see `subject.quarantinedIdentifiers`). */
export const quarantinedIdentifier = z.strictObject({
  field: z.enum(IDENTIFIER_FIELDS),
  /** The value exactly as the source reported it (trimmed). */
  value: z.string().trim().min(1).max(64),
  /** The rule it failed, e.g. `upn-check-letter`, `nhs-number-check-digit`, `nhs-number-not-verified`. */
  rule: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, { message: 'a rule id such as upn-check-letter' }),
  message: shortText,
});
export type QuarantinedIdentifier = z.infer<typeof quarantinedIdentifier>;

/** The shapes an imported record came in. */
export const IMPORT_FORMATS = ['cin-census', 'ssda903', 'fhir-r4'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** A DfE collection year, 1 April to 31 March: `2024-25`. */
export const collectionYear = z
  .string()
  .regex(/^\d{4}-\d{2}$/, { message: 'collection year as YYYY-YY, e.g. 2024-25' })
  .refine((value) => (Number(value.slice(0, 4)) + 1) % 100 === Number(value.slice(5)), {
    message: 'collection year must be two consecutive years, e.g. 2024-25',
    params: { rule: 'consecutive-years' },
  });

/**
 * Where an imported event came from: a statutory return (CIN census, SSDA903) or a health
 * record (FHIR), the file (by its SHA-256) and the element or line within it. An event with a
 * provenance may leave out the fields its source does not hold (`importOptional`).
 */
export const provenance = z
  .strictObject({
    kind: z.enum(['statutory-return', 'health-record']),
    format: z.enum(IMPORT_FORMATS),
    collectionYear: collectionYear.optional(),
    fileSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, { message: 'SHA-256 of the file, 64 lower-case hex digits' }),
    /** The element path (`Message/Children/Child[12]/CINdetails[1]`) or line (`episodes.csv line 42`). */
    location: shortText,
  })
  .superRefine((value, ctx) => {
    const statutory = value.format !== 'fhir-r4';
    if (statutory !== (value.kind === 'statutory-return')) {
      ctx.addIssue({
        code: 'custom',
        path: ['kind'],
        message: `a ${value.format} import is a ${statutory ? 'statutory-return' : 'health-record'}`,
        params: { rule: 'kind-matches-format' },
      });
    }
    if (statutory && value.collectionYear === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['collectionYear'],
        message: 'collectionYear is required for a statutory return',
        params: { rule: 'required-for-statutory-return' },
      });
    }
  });
export type Provenance = z.infer<typeof provenance>;

/**
 * Who the event is about, as the publishing agency knows them. Identifiers are optional
 * because agencies do not all hold them; those present must pass their check algorithm.
 */
export const subject = z
  .strictObject({
    recordId,
    nhsNumber: nhsNumber.optional(),
    upn: upn.optional(),
    formerUpn: upn.optional(),
    /** Pattern of the released contracts; `laChildId` (letters and digits) is enforced at intake. */
    laChildId: z
      .string()
      .regex(/^[A-Za-z0-9/_-]{1,20}$/)
      .optional(),
    laCode: laCode.optional(),
    uln: uln.optional(),
    /** Demographics for identity matching when identifiers are missing or disagree. */
    name: personName.optional(),
    sex: sex.optional(),
    postcode: postcode.optional(),
    dateOfBirth: isoDate.optional(),
    /** For an unborn child (e.g. a pre-birth assessment). */
    expectedDateOfBirth: isoDate.optional(),
    /**
     * Identifiers a source reported that fail their rule (e.g. a UPN whose check letter is
     * wrong, as most are in imported returns): kept as reported, flagged with the rule they
     * failed, and never used for linking.
     */
    quarantinedIdentifiers: z.array(quarantinedIdentifier).min(1).max(10).optional(),
  })
  .superRefine((value, ctx) => {
    for (const [index, held] of (value.quarantinedIdentifiers ?? []).entries()) {
      if (value[held.field] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['quarantinedIdentifiers', index, 'field'],
          message: `${held.field} is both given and quarantined: give the valid one or quarantine it, not both`,
          params: { rule: 'quarantined-or-valid' },
        });
      }
    }
    if (value.laChildId && !value.laCode) {
      ctx.addIssue({
        code: 'custom',
        path: ['laCode'],
        message: 'laCode is required with laChildId (an LA child id is only unique within its LA)',
        params: { rule: 'required-with-laChildId' },
      });
    }
    if (value.dateOfBirth && value.expectedDateOfBirth) {
      ctx.addIssue({
        code: 'custom',
        path: ['expectedDateOfBirth'],
        message: 'give dateOfBirth or expectedDateOfBirth, not both',
        params: { rule: 'exclusive-with-dateOfBirth' },
      });
    }
  });

export type Subject = z.infer<typeof subject>;

export const source = <A extends Agency>(agency: A) =>
  z.strictObject({
    agency: z.literal(agency),
    /** The publishing system, e.g. "child-health-system", "school-mis". */
    system: shortText,
    /** ODS code, school URN or LA code of the organisation that recorded it. */
    organisation: z.string().trim().min(1).max(20).optional(),
  });

export const anySource = z.strictObject({
  agency: z.enum(AGENCY_NAMES),
  system: shortText,
  organisation: z.string().trim().min(1).max(20).optional(),
});

export interface EnvelopeOptions {
  /**
   * Special categories the type inherently touches (e.g. a CAMHS referral is mental-health
   * data). They are then required in `specialCategories` (rule `special-category-required`),
   * so access rules never depend on a publisher remembering to set them.
   */
  readonly specialCategories?: readonly SpecialCategory[];
  /**
   * Data fields the type needs when a practitioner records the event, but which the returns
   * and records it is imported from do not hold (a CP plan's rationale is in no CIN census).
   * The data schema declares them optional; the envelope requires them unless the event has a
   * `provenance` (rule `required-unless-imported`). Readers show them as "not in the return".
   */
  readonly importOptional?: readonly string[];
}

/** Where `importOptionalOf` finds a type's import-optional fields. */
const IMPORT_OPTIONAL = Symbol.for('throughline.importOptional');

function withImportOptional<S extends object>(schema: S, fields: readonly string[]): S {
  return Object.assign(schema, { [IMPORT_OPTIONAL]: fields });
}

/** The data fields an event type may leave out when imported (its envelope's `importOptional`). */
export function importOptionalOf(schema: object): readonly string[] {
  return (schema as { [IMPORT_OPTIONAL]?: readonly string[] })[IMPORT_OPTIONAL] ?? [];
}

/** The envelope every event carries; `type` and `data` vary per event type. */
export function envelope<T extends string, A extends z.ZodType, D extends z.ZodType, V extends number = 1>(
  type: T,
  sourceSchema: A,
  data: D,
  schemaVersion: V = 1 as V,
  options: EnvelopeOptions = {},
) {
  const implied = options.specialCategories ?? [];
  const categories = z.array(specialCategory).min(1).max(10);
  const shape = {
    eventId: z.uuid(),
    type: z.literal(type),
    schemaVersion: z.literal(schemaVersion),
    occurredAt: isoDateTime,
    source: sourceSchema,
    subject,
    correlationId: z.uuid().optional(),
    causationId: z.uuid().optional(),
    /** Special categories of data this event touches, for access rules (none when absent). */
    specialCategories: categories.optional(),
    /** The practitioner who recorded the event, when the publishing system knows. */
    recordedBy: recordedBy.optional(),
    /** The outcome domains the recording practitioner says this event is evidence about. */
    outcomeDomains: outcomeDomains.optional(),
    /** Where an imported event came from; absent for events recorded as they happened. */
    provenance: provenance.optional(),
    data,
  };
  registerCodeListFields(type, schemaVersion, { subject, data });
  // Required, and must include the implied categories. The static type stays optional so that
  // every event type has one envelope type; the schema (and its JSON Schema) requires it.
  const schema = implied.length
    ? (z.strictObject({
        ...shape,
        specialCategories: categories.refine(
          (given) => implied.every((category) => given.includes(category)),
          {
            message: `${type} always touches ${implied.join(', ')}: specialCategories must include ${implied.length === 1 ? 'it' : 'them'}`,
            params: { rule: 'special-category-required' },
          },
        ),
      }) as unknown as z.ZodObject<typeof shape, z.core.$strict>)
    : z.strictObject(shape);
  const importOptional = options.importOptional ?? [];
  if (!importOptional.length) return schema;
  const refined = schema.superRefine((value, ctx) => {
    const event = value as { provenance?: unknown; data?: unknown };
    if (event.provenance !== undefined) return;
    const data = event.data as Record<string, unknown> | null;
    if (data === null || typeof data !== 'object') return;
    for (const field of importOptional) {
      if (data[field] !== undefined) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['data', field],
        message: `${field} is required (only an event imported from a return that does not hold it may leave it out)`,
        params: { rule: 'required-unless-imported' },
      });
    }
  });
  return withImportOptional(refined, importOptional) as unknown as typeof schema;
}

/**
 * Cross-field date order: `later` may not precede `earlier` (both ISO dates or date-times,
 * compared on the calendar day). Returns a zod refinement for a data object.
 */
export function notBefore<K extends string>(
  later: K,
  earlier: K,
): [
  (data: Partial<Record<K, string | undefined>>) => boolean,
  { path: [K]; message: string; params: { rule: string } },
] {
  return [
    (data) => {
      const a = data[later];
      const b = data[earlier];
      return a === undefined || b === undefined || a.slice(0, 10) >= b.slice(0, 10);
    },
    {
      path: [later],
      message: `${later} cannot precede ${earlier}`,
      params: { rule: `not-before-${earlier}` },
    },
  ];
}

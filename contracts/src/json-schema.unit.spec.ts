import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { buildEvent, buildAttendanceSummarised, buildReferralReceived } from '@throughline/testing';
import { DEMO_COHORT_OPTIONS, generateCohort } from '@throughline/synthetic';
import { EVENT_TYPES, type EventType } from './catalogue';
import { publishedJsonSchemas, schemaIdOf } from './json-schema';
import { parseAgencyEvent } from './validate';
import { CONTRACT_VERSIONS, CURRENT_VERSION } from './versions';

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const published = publishedJsonSchemas();
for (const { schema } of published) ajv.addSchema(schema);

function validatorFor(type: string, version: number) {
  const validate = ajv.getSchema(schemaIdOf(type, version));
  if (!validate) throw new Error(`no published schema for ${type} v${version}`);
  return validate;
}

function ajvAccepts(event: { type: string; schemaVersion: number }): { ok: boolean; errors: string } {
  const validate = validatorFor(event.type, event.schemaVersion);
  const ok = validate(event) as boolean;
  return { ok, errors: ajv.errorsText(validate.errors) };
}

const now = new Date('2030-01-01T00:00:00Z');

describe('published JSON Schemas', () => {
  it('publishes one draft 2020-12 schema per event type and version, each compiled by ajv in strict mode', () => {
    expect(published.map(({ entry }) => `${entry.type}@${entry.version}`)).toEqual(
      CONTRACT_VERSIONS.map((entry) => `${entry.type}@${entry.version}`),
    );
    expect(new Set(published.map(({ entry }) => entry.type))).toEqual(new Set(EVENT_TYPES));
    for (const { schema } of published) {
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.additionalProperties).toBe(false);
    }
    expect(CURRENT_VERSION['education.attendance.summarised']).toBe(2);
  });

  it.each(EVENT_TYPES)('accepts what the zod contract accepts: builder sample of %s', (type: EventType) => {
    const event = buildEvent(type);
    expect(parseAgencyEvent(event, { now }).ok).toBe(true);
    expect(ajvAccepts(event)).toEqual({ ok: true, errors: 'No errors' });
  });

  it('accepts every event of the demo cohort, and the cohort covers every type in EVENT_TYPES', () => {
    const cohort = generateCohort(DEMO_COHORT_OPTIONS);
    const rejected = cohort.events
      .map((event) => ({ event, result: ajvAccepts(event) }))
      .filter(({ result }) => !result.ok)
      .map(({ event, result }) => `${event.type} ${event.eventId}: ${result.errors}`);
    expect(rejected).toEqual([]);
    // The demo's oldest children are 15: care leavers (OC3) and UASC status ceasing at 18 come
    // from the same generator run over older births.
    const older = generateCohort({ ...DEMO_COHORT_OPTIONS, startYear: 2003 });
    expect(older.events.filter((event) => !ajvAccepts(event).ok).map((event) => event.type)).toEqual([]);
    const covered = new Set<string>([...cohort.events, ...older.events].map((event) => event.type));
    expect(EVENT_TYPES.filter((type) => !covered.has(type))).toEqual([]);
  });

  it('accepts a version 2 attendance summary and refuses v1 data under the v2 schema', () => {
    const v2 = {
      ...buildAttendanceSummarised({
        data: { sessionsPossible: 120, authorisedAbsence: 4, unauthorisedAbsence: 2 },
      }),
      schemaVersion: 2 as const,
    };
    const withAttended = { ...v2, data: { ...v2.data, sessionsAttended: 114 } };
    expect(parseAgencyEvent(withAttended, { now }).ok).toBe(true);
    expect(ajvAccepts(withAttended).ok).toBe(true);
    expect(parseAgencyEvent(v2, { now }).ok).toBe(false);
    expect(ajvAccepts(v2)).toEqual({
      ok: false,
      errors: "data/data must have required property 'sessionsAttended'",
    });
  });

  // Invalid samples: each one is refused by zod, and must be refused by the published schema too.
  const invalid: [string, () => Record<string, unknown>][] = [
    ['a missing required field', () => withoutData(buildReferralReceived(), 'referralSource')],
    ['an unknown field', () => withData(buildReferralReceived(), 'colour', 'red')],
    ['an unknown code', () => withData(buildReferralReceived(), 'primaryNeed', 'N12')],
    ['a wrong type', () => withData(buildAttendanceSummarised(), 'sessionsPossible', '120')],
    ['a fractional count', () => withData(buildAttendanceSummarised(), 'sessionsPossible', 12.5)],
    ['a count above its maximum', () => withData(buildAttendanceSummarised(), 'sessionsPossible', 201)],
    ['a malformed date', () => withData(buildReferralReceived(), 'referralDate', '04/03/2024')],
    ['an impossible date', () => withData(buildReferralReceived(), 'referralDate', '2023-02-29')],
    ['a date-time without offset', () => ({ ...buildReferralReceived(), occurredAt: '2024-03-04T10:15:00' })],
    ['a malformed event id', () => ({ ...buildReferralReceived(), eventId: 'not-a-uuid' })],
    ['an NHS number with spaces', () => withSubject(buildReferralReceived(), 'nhsNumber', '943 476 5919')],
    ['a record id with a space', () => withSubject(buildReferralReceived(), 'recordId', 'LA 926')],
    ['an unknown subject field', () => withSubject(buildReferralReceived(), 'name', 'A child')],
    [
      'a source of another agency',
      () => ({ ...buildReferralReceived(), source: { agency: 'health', system: 'x' } }),
    ],
    ['an unknown schema version', () => ({ ...buildReferralReceived(), schemaVersion: 2 })],
    [
      'an empty string',
      () => ({ ...buildReferralReceived(), source: { agency: 'social-care', system: '' } }),
    ],
    [
      'a CAMHS referral without its special category',
      () => {
        const { specialCategories: _, ...event } = buildEvent('health.camhs.referred');
        return event;
      },
    ],
    [
      'an unknown SSDA903 legal status',
      () => withData(buildEvent('social-care.looked-after-episode.started'), 'legalStatus', 'V1'),
    ],
    [
      'an incomplete EYFS profile',
      () => withData(buildEvent('education.eyfs-profile.assessed'), 'goals', {}),
    ],
    [
      'too many exclusion reasons',
      () => withData(buildEvent('education.exclusion.recorded'), 'reasons', ['PP', 'PA', 'BU', 'TH']),
    ],
  ];

  it.each(invalid)('refuses %s, as zod does', (_name, make) => {
    const sample = make();
    expect(parseAgencyEvent(sample, { now }).ok).toBe(false);
    const type = String(sample.type);
    const version = Number(sample.schemaVersion);
    // A version the contracts do not have is checked against version 1, whose schemaVersion is a const.
    const known = CONTRACT_VERSIONS.some((entry) => entry.type === type && entry.version === version);
    expect(validatorFor(type, known ? version : 1)(sample)).toBe(false);
  });

  // The published schemas are the structural part of the contract. These rules are zod code
  // (check digits, cross-field rules, trimming) and JSON Schema cannot say them; this test pins
  // the list documented in contracts/README.md, so a new gap cannot appear unnoticed here.
  // (Decision 015 added required-when-revised, distinct-views and unique-domain to it.)
  const zodOnly: [string, string, () => Record<string, unknown>][] = [
    [
      'nhs-number-check-digit',
      'subject.nhsNumber',
      () => withSubject(buildReferralReceived(), 'nhsNumber', '9434765918'),
    ],
    [
      'absence-within-sessions-possible',
      'data.unauthorisedAbsence',
      () =>
        withData(withData(buildAttendanceSummarised(), 'sessionsPossible', 10), 'unauthorisedAbsence', 11),
    ],
    [
      'special-category-required',
      'specialCategories',
      () => ({ ...buildEvent('health.camhs.referred'), specialCategories: ['genetic'] }),
    ],
    [
      'x1-is-a-change',
      'data.reasonEnded',
      () => withData(buildEvent('social-care.looked-after-episode.ended'), 'reasonEnded', 'X1'),
    ],
    [
      'pre-birth-not-allowed',
      'subject.expectedDateOfBirth',
      () => {
        const event = buildEvent('education.enrolment.recorded');
        const { dateOfBirth: _, ...subject } = event.subject;
        return { ...event, subject: { ...subject, expectedDateOfBirth: '2029-12-01' } };
      },
    ],
    [
      'required-when-revised',
      'data.revisedDecision',
      () => withData(buildEvent('practice.decision.reviewed'), 'outcome', 'revised'),
    ],
    [
      'distinct-views',
      'data.views',
      () => {
        const event = buildEvent('practice.views.differ');
        return withData(event, 'views', [event.data.views[0], { ...event.data.views[0], view: 'Another.' }]);
      },
    ],
    [
      'unique-domain',
      'outcomeDomains',
      () => ({
        ...buildReferralReceived(),
        outcomeDomains: [
          { framework: 'ecm', domain: 'stay-safe' },
          { framework: 'ecm', domain: 'stay-safe' },
        ],
      }),
    ],
    [
      'min-length',
      'source.system',
      () => ({ ...buildReferralReceived(), source: { agency: 'social-care', system: '   ' } }),
    ],
  ];

  it.each(zodOnly)('leaves rule %s on %s to the zod contract', (rule, path, make) => {
    const sample = make();
    const parsed = parseAgencyEvent(sample, { now });
    expect(parsed.ok === false && parsed.issues.map((issue) => `${issue.path} ${issue.rule}`)).toEqual([
      `${path} ${rule}`,
    ]);
    expect(ajvAccepts(sample as { type: string; schemaVersion: number }).ok).toBe(true);
  });
});

function withData(event: object, key: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(event) as Record<string, Record<string, unknown>>;
  copy.data[key] = value;
  return copy;
}

function withoutData(event: object, key: string): Record<string, unknown> {
  const copy = structuredClone(event) as Record<string, Record<string, unknown>>;
  delete copy.data[key];
  return copy;
}

function withSubject(event: object, key: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(event) as Record<string, Record<string, unknown>>;
  copy.subject[key] = value;
  return copy;
}

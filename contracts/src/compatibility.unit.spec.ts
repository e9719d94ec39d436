import { backwardIncompatibilities, type Incompatibility } from './compatibility';
import type { JsonSchema } from './json-schema';

const summary = (issues: Incompatibility[]) => issues.map(({ path, rule }) => `${path || '(root)'} ${rule}`);

interface Property {
  [keyword: string]: unknown;
  enum?: unknown[];
  items?: Property;
}
interface Editable {
  [keyword: string]: unknown;
  properties: Record<string, Property>;
  required: string[];
}

/** A small event-like schema: closed object, one required string, one optional enum. */
function base(): Editable {
  return {
    type: 'object',
    properties: {
      schoolUrn: { type: 'string', pattern: '^\\d{6}$' },
      term: { type: 'string', enum: ['autumn', 'spring', 'summer'] },
      sessions: { type: 'integer', minimum: 0, maximum: 200 },
      reasons: { type: 'array', items: { type: 'string', enum: ['PP', 'PA'] }, maxItems: 3 },
    },
    required: ['schoolUrn', 'sessions'],
    additionalProperties: false,
  };
}

function changed(edit: (schema: Editable) => void): JsonSchema {
  const schema = base();
  edit(schema);
  return schema;
}

describe('backwardIncompatibilities (Schema Registry BACKWARD)', () => {
  it('finds nothing between a schema and itself', () => {
    expect(backwardIncompatibilities(base(), base())).toEqual([]);
  });

  it('allows an added optional field, a widened enum, a relaxed bound and a dropped requirement', () => {
    const next = changed((s) => {
      s.properties.note = { type: 'string', maxLength: 200 };
      s.properties.term.enum?.push('extra');
      s.properties.sessions.maximum = 400;
      s.properties.reasons.maxItems = 5;
      s.properties.sessions.type = 'number';
      s.required = ['schoolUrn'];
    });
    expect(backwardIncompatibilities(base(), next)).toEqual([]);
  });

  it('refuses a removed field when unknown fields are refused', () => {
    const next = changed((s) => delete s.properties.term);
    expect(summary(backwardIncompatibilities(base(), next))).toEqual(['term field-removed']);
  });

  it('allows a removed field when unknown fields are let through', () => {
    const previous = changed((s) => (s.additionalProperties = true));
    const next = changed((s) => {
      delete s.properties.term;
      s.additionalProperties = true;
    });
    expect(backwardIncompatibilities(previous, next)).toEqual([]);
  });

  it('refuses a new required field, naming it', () => {
    const next = changed((s) => {
      s.properties.sessionsAttended = { type: 'integer', minimum: 0 };
      s.required.push('sessionsAttended');
    });
    const issues = backwardIncompatibilities(base(), next);
    expect(summary(issues)).toEqual(['sessionsAttended required-field-added']);
    expect(issues[0].message).toMatch(/"sessionsAttended" is required but was not in the old schema/);
  });

  it('refuses making an optional field required', () => {
    const next = changed((s) => s.required.push('term'));
    expect(summary(backwardIncompatibilities(base(), next))).toEqual(['term required-field-added']);
  });

  it('refuses a narrowed enum, naming the value removed', () => {
    const next = changed((s) => (s.properties.term.enum = ['autumn', 'spring']));
    const issues = backwardIncompatibilities(base(), next);
    expect(summary(issues)).toEqual(['term enum-value-removed']);
    expect(issues[0].message).toContain('"summer"');
  });

  it('refuses a narrowed enum inside array items', () => {
    const next = changed((s) => ((s.properties.reasons.items as Property).enum = ['PP']));
    expect(summary(backwardIncompatibilities(base(), next))).toEqual(['reasons.[] enum-value-removed']);
  });

  it('refuses narrowed types and bounds', () => {
    const next = changed((s) => {
      s.properties.sessions.maximum = 100;
      s.properties.sessions.minimum = 1;
      s.properties.schoolUrn.maxLength = 6;
      s.properties.reasons.maxItems = 2;
      s.properties.term.type = 'integer';
    });
    expect(summary(backwardIncompatibilities(base(), next)).sort()).toEqual(
      [
        'reasons maxItems-narrowed',
        'schoolUrn maxLength-narrowed',
        'sessions maximum-narrowed',
        'sessions minimum-narrowed',
        'term type-narrowed',
      ].sort(),
    );
  });

  it('refuses number narrowed to integer but allows integer widened to number', () => {
    const asNumber = changed((s) => (s.properties.sessions.type = 'number'));
    expect(summary(backwardIncompatibilities(asNumber, base()))).toEqual(['sessions type-narrowed']);
    expect(backwardIncompatibilities(base(), asNumber)).toEqual([]);
  });

  it('refuses a changed pattern or a new format (inclusion of regexes is not decided)', () => {
    const next = changed((s) => {
      s.properties.schoolUrn.pattern = '^\\d{7}$';
      s.properties.term.format = 'date';
    });
    expect(summary(backwardIncompatibilities(base(), next)).sort()).toEqual([
      'schoolUrn pattern-changed',
      'term format-changed',
    ]);
  });

  it('refuses closing an open object and a changed const', () => {
    const open = changed((s) => delete s.additionalProperties);
    expect(summary(backwardIncompatibilities(open, base()))).toEqual(['(root) additional-fields-refused']);
    expect(
      summary(backwardIncompatibilities({ type: 'number', const: 1 }, { type: 'number', const: 2 })),
    ).toEqual(['(root) enum-value-removed']);
  });

  it('reads unions branch by branch', () => {
    const previous = { anyOf: [{ type: 'string' }, { type: 'integer' }] };
    expect(backwardIncompatibilities(previous, { anyOf: [{ type: 'integer' }, { type: 'string' }] })).toEqual(
      [],
    );
    expect(summary(backwardIncompatibilities(previous, { type: 'string' }))).toEqual([
      '(root) type-narrowed',
    ]);
  });
});

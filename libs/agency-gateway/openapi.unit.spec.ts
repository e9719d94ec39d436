import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { CONTRACT_VERSIONS, EVENT_TYPES } from '@throughline/contracts';
import { buildEvent, buildReferralReceived } from '@throughline/testing';
import { eventEnvelopeSchema } from './openapi';

// OpenAPI 3.0 schemas are a JSON Schema draft-04/07 dialect; draft-07 ajv reads the subset zod emits.
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const branches = eventEnvelopeSchema.oneOf ?? [];

describe('OpenAPI event body', () => {
  it('documents every contract version, one alternative each', () => {
    expect(branches.map((branch) => (branch as { title?: string }).title)).toEqual(
      CONTRACT_VERSIONS.map((entry) => `${entry.type} v${entry.version}`),
    );
  });

  it.each(EVENT_TYPES)('matches exactly one alternative for a valid %s', (type) => {
    const validate = ajv.compile(eventEnvelopeSchema);
    const event = buildEvent(type);
    expect([validate(event), ajv.errorsText(validate.errors)]).toEqual([true, 'No errors']);
  });

  it('refuses an unknown field and an unknown code', () => {
    const validate = ajv.compile(eventEnvelopeSchema);
    const referral = buildReferralReceived();
    expect(validate({ ...referral, colour: 'red' })).toBe(false);
    expect(validate({ ...referral, data: { ...referral.data, primaryNeed: 'N12' } })).toBe(false);
  });
});

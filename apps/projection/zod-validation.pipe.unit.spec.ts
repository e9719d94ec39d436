import type { z } from 'zod';
import { ValidationError } from '@throughline/platform';
import { LOOKUP_REQUEST } from '@throughline/timeline';
import { ZodValidationPipe } from './zod-validation.pipe';

const lookup = new ZodValidationPipe(LOOKUP_REQUEST, 'lookup');

function refusal(input: unknown, pipe: ZodValidationPipe<z.ZodType> = lookup): ValidationError {
  try {
    pipe.transform(input);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('ZodValidationPipe over the lookup request', () => {
  it('accepts an NHS number in its display form and hands on the normalised one', () => {
    expect(lookup.transform({ identifier: { type: 'nhs-number', value: '943 476 5919' } })).toEqual({
      identifier: { type: 'nhs-number', value: '9434765919' },
    });
  });

  it('requires the agency for a record id', () => {
    const error = refusal({ identifier: { type: 'record', value: 'case-1' } });
    expect(error.issues).toEqual([expect.objectContaining({ path: 'identifier.agency', rule: 'required' })]);
    expect(error.message).toMatch(/^invalid lookup: identifier\.agency /);
  });

  it('rejects an identifier that fails its check', () => {
    const error = refusal({ identifier: { type: 'upn', value: 'A950000178302' } });
    expect(error.issues).toEqual([
      expect.objectContaining({ path: 'identifier.value', rule: 'upn-check-letter' }),
    ]);
  });

  it('names an unknown field and a missing body', () => {
    expect(refusal({ identifier: { type: 'nhs-number', value: '9434765919' }, name: 'x' }).issues).toEqual([
      expect.objectContaining({ path: 'name', rule: 'unknown-field' }),
    ]);
    expect(refusal(undefined).issues).toEqual([
      expect.objectContaining({ path: 'identifier', rule: 'required' }),
    ]);
  });

  it('places query and parameter paths under their prefix', () => {
    const pipe = new ZodValidationPipe(LOOKUP_REQUEST.shape.identifier, 'query', 'query');
    expect(refusal({ type: 'record', value: '!', agency: 'health' }, pipe).issues).toEqual([
      expect.objectContaining({ path: 'query.value', rule: 'pattern' }),
    ]);
  });
});

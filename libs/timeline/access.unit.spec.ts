import { ThroughlineError, ValidationError } from '@throughline/platform';
import { accessContextOf, parseLookupRequest } from './access';

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('accessContextOf', () => {
  it('reads who, their role and why', () => {
    expect(
      accessContextOf({ 'x-user-id': 'sw-17', 'x-user-role': 'social worker', 'x-purpose': 'safeguarding' }),
    ).toEqual({
      userId: 'sw-17',
      role: 'social worker',
      purpose: 'safeguarding',
    });
  });

  it('refuses an anonymous caller as unauthenticated', () => {
    const error = thrown(() => accessContextOf({ 'x-purpose': 'direct-care' }));
    expect(error).toBeInstanceOf(ThroughlineError);
    expect((error as ThroughlineError).code).toBe('UNAUTHENTICATED');
  });

  it('names the missing purpose header', () => {
    const error = thrown(() => accessContextOf({ 'x-user-id': 'gp-1' })) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.issues).toEqual([expect.objectContaining({ path: 'headers.x-purpose', rule: 'required' })]);
    expect(error.message).toContain('x-purpose');
  });
});

describe('parseLookupRequest', () => {
  it('accepts an NHS number in its display form', () => {
    expect(parseLookupRequest({ identifier: { type: 'nhs-number', value: '943 476 5919' } })).toEqual({
      type: 'nhs-number',
      value: '9434765919',
    });
  });

  it('requires the agency for a record id', () => {
    const error = thrown(() =>
      parseLookupRequest({ identifier: { type: 'record', value: 'case-1' } }),
    ) as ValidationError;
    expect(error.issues.map((issue) => issue.path)).toEqual(['identifier.agency']);
  });

  it('rejects an identifier that fails its check', () => {
    const error = thrown(() =>
      parseLookupRequest({ identifier: { type: 'upn', value: 'A950000178302' } }),
    ) as ValidationError;
    expect(error.issues).toEqual([
      expect.objectContaining({ path: 'identifier.value', rule: 'upn-check-letter' }),
    ]);
  });
});

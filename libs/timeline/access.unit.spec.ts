import { ThroughlineError, ValidationError } from '@throughline/platform';
import { accessContextOf } from './access';

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

  it('names each malformed header and its rule, reading the first value of a repeated header', () => {
    const error = thrown(() =>
      accessContextOf({
        'x-user-id': ['gp-1', 'gp-2'],
        'x-user-role': 'nurse\u0007',
        'x-purpose': 'Direct Care',
      }),
    ) as ValidationError;
    expect(error.issues).toEqual([
      { path: 'headers.x-user-role', rule: 'pattern', message: 'printable text, at most 200 characters' },
      {
        path: 'headers.x-purpose',
        rule: 'pattern',
        message: 'a lower-case slug such as direct-care, safeguarding or analysis',
      },
    ]);
  });

  it('treats a blank header as missing', () => {
    expect(thrown(() => accessContextOf({ 'x-user-id': '  ', 'x-purpose': 'audit' }))).toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    const error = thrown(() => accessContextOf({ 'x-user-id': 'gp-1', 'x-purpose': ' ' })) as ValidationError;
    expect(error.issues).toEqual([expect.objectContaining({ path: 'headers.x-purpose', rule: 'required' })]);
  });
});

import { checkDifferencing, differsByFewerThanThreshold } from './differencing';
import { DisclosureRefusedError } from './refusal';

describe('the differencing rule', () => {
  it('refuses a cohort 1 … threshold − 1 children away from an earlier one', () => {
    expect(differsByFewerThanThreshold([240], 237, 10)).toBe(true);
    expect(differsByFewerThanThreshold([240], 249, 10)).toBe(true);
    expect(differsByFewerThanThreshold([500, 240], 231, 10)).toBe(true);
  });

  it('allows the same size again, a difference of the threshold or more, and a first query', () => {
    expect(differsByFewerThanThreshold([240], 240, 10)).toBe(false);
    expect(differsByFewerThanThreshold([240], 230, 10)).toBe(false);
    expect(differsByFewerThanThreshold([240], 250, 10)).toBe(false);
    expect(differsByFewerThanThreshold([], 3, 10)).toBe(false);
  });

  it('throws a refusal naming the rule and the field, not the sizes', () => {
    let refusal: unknown;
    try {
      checkDifferencing([240], 237, 10);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DisclosureRefusedError);
    expect(refusal).toMatchObject({
      rule: 'differencing',
      httpStatus: 400,
      issues: [{ path: 'cohort', rule: 'differencing' }],
    });
    expect((refusal as Error).message).not.toMatch(/237|240|\b3\b/);
    expect(() => checkDifferencing([240], 230, 10)).not.toThrow();
  });
});

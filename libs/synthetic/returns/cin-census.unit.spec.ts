import { isValidUpn } from '@throughline/contracts';
import { cinCensusChild, cinCensusChunks, PLANTED } from './cin-census';

const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

describe('synthetic CIN census writer', () => {
  const options = { children: 400, collectionYear: '2023-24', seed: 'spec' } as const;
  const text = [...cinCensusChunks(options)].join('');

  it('is a pure function of its options', () => {
    expect([...cinCensusChunks(options)].join('')).toBe(text);
    expect([...cinCensusChunks({ ...options, seed: 'other' })].join('')).not.toBe(text);
    // Adding children never changes the ones already written.
    expect(cinCensusChild(123, { ...options, children: 10_000 })).toBe(cinCensusChild(123, options));
  });

  it('writes the header of its year and LA, and one Child per child', () => {
    expect(text).toContain('<Year>2024</Year>');
    expect(text).toContain('<ReferenceDate>2024-03-31</ReferenceDate>');
    expect(text).toContain('<LEA>926</LEA>');
    expect(count(text, /<Child>/g)).toBe(400);
  });

  it('plants the awkward cases real files have', () => {
    const upns = [...text.matchAll(/<UPN>([^<]+)<\/UPN>/g)].map((match) => match[1]);
    const failing = upns.filter((upn) => !isValidUpn(upn.toUpperCase()));
    expect(failing.length / upns.length).toBeGreaterThan(0.8);
    expect(upns.some((upn) => /^[a-z]/.test(upn))).toBe(true);
    expect(count(text, /<UPNunknown>UN\d<\/UPNunknown>/g)).toBeGreaterThan(0);
    expect(count(text, /<ExpectedPersonBirthDate>/g)).toBe(
      Array.from({ length: 400 }, (_, i) => i).filter(PLANTED.unborn).length,
    );
    expect(count(text, /<Disability>NONE<\/Disability>/g)).toBeGreaterThan(50);
    expect(count(text, /<PersonDeathDate>/g)).toBeGreaterThan(0);
    expect(count(text, /<FormerUPN>/g)).toBeGreaterThan(0);
    // Children without Disabilities, Assessments or plans: the optional modules are often missing.
    expect(count(text, /<Disabilities>/g)).toBeLessThan(400);
    const twice = cinCensusChild(3, options);
    expect(count(twice, /<CINdetails>/g)).toBe(2);
    const outOfOrder = cinCensusChild(11, options);
    const [, start, end] = /<CINPlanStartDate>([^<]+)<\/CINPlanStartDate>\s*<CINPlanEndDate>([^<]+)</.exec(
      outOfOrder,
    )!;
    expect(end < start).toBe(true);
  });

  it('writes the sex element of the year: GenderCurrent to 2023-24, Sex from 2024-25', () => {
    expect(text).toMatch(/<GenderCurrent>[120]<\/GenderCurrent>/);
    expect(text).not.toContain('<Sex>');
    const later = cinCensusChild(0, { ...options, collectionYear: '2024-25' });
    expect(later).toMatch(/<Sex>[MFU]<\/Sex>/);
  });

  it('writes 10,000 children as a stream of small chunks', () => {
    let children = 0;
    let largest = 0;
    for (const chunk of cinCensusChunks({ children: 10_000, collectionYear: '2024-25', seed: 'big' })) {
      children += count(chunk, /<Child>/g);
      largest = Math.max(largest, chunk.length);
    }
    expect(children).toBe(10_000);
    expect(largest).toBeLessThan(20_000);
  });
});

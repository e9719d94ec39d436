import { isValidNhsNumber, isValidUpn } from '@throughline/contracts';
import { soundex } from '@throughline/identity';
import { TemplateCopier } from './scale-copies';

const event = JSON.stringify({
  eventId: 'a81b40d8-ed27-4dad-840f-e4ffed36b505',
  subject: {
    recordId: 'LA991-000687',
    laChildId: '000687',
    nhsNumber: '9990713855',
    upn: 'T991200315010',
    name: { given: 'Fennel', family: 'Puddingstone' },
    postcode: 'ZZ5 4ZS',
    dateOfBirth: '2011-01-01',
  },
  occurredAt: '2011-03-02T05:12:00.000Z',
  causationId: 'f88bde5f-0309-4e9f-8d70-8c7d879a3bd8',
  data: {
    formerUpn: 'T991200315010',
    other: 'MIS-990103-000687',
    wrongNhs: '9990713856',
    birthDate: '2011-01-01',
    yearEnding: '2011-03-31',
    address: { postcode: 'ZZ5 4ZS' },
  },
});
const other = JSON.stringify({
  subject: {
    recordId: 'CHIS-000002',
    nhsNumber: '9990693277',
    name: { family: 'Owlcroft' },
    postcode: 'ZZ2 1AB',
  },
});

describe('TemplateCopier (the scale stage copies a template cohort with fresh identifiers)', () => {
  const copier = new TemplateCopier([event, other], 2000, 50);

  it('leaves copy 0 with the template record ids and uuids but its own NHS numbers', () => {
    const copied = JSON.parse(copier.copy(event, 0));
    expect(copied.eventId).toBe('a81b40d8-ed27-4dad-840f-e4ffed36b505');
    expect(copied.subject.recordId).toBe('LA991-000687');
    expect(isValidNhsNumber(copied.subject.nhsNumber)).toBe(true);
  });

  it('gives each copy its own identifiers, the same in every field of the copy', () => {
    const a = JSON.parse(copier.copy(event, 3));
    const b = JSON.parse(copier.copy(event, 4));
    expect(a.subject.recordId).toBe('LA991-006687');
    expect(a.subject.laChildId).toBe('006687');
    // A child who moved to the neighbouring authority has its LA child id there too (cohort.ts).
    expect(JSON.parse(copier.copy('{"laChildId":"LF000687"}', 3)).laChildId).toBe('LF006687');
    expect(a.data.other).toBe('MIS-990103-006687');
    expect(b.subject.recordId).toBe('LA991-008687');
    expect(a.eventId).not.toBe(b.eventId);
    expect(a.eventId).toMatch(/^[0-9a-f]{8}-ed27-4dad-840f-e4ffed36b505$/);
    expect(a.causationId).not.toBe(JSON.parse(copier.copy(event, 0)).causationId);
    expect(isValidNhsNumber(a.subject.nhsNumber)).toBe(true);
    expect(a.subject.nhsNumber).not.toBe(b.subject.nhsNumber);
    expect(isValidUpn(a.subject.upn)).toBe(true);
    expect(a.data.formerUpn).toBe(a.subject.upn);
    expect(a.subject.upn).not.toBe(b.subject.upn);
    expect(a.subject.name.family).not.toBe(b.subject.name.family);
    // An invalid NHS number (keyed wrongly) stays as it is.
    expect(a.data.wrongNhs).toBe('9990713856');
  });

  it('moves every date of a copy back by the same days, and leaves copy 0 on the template dates', () => {
    const template = JSON.parse(copier.copy(event, 0));
    expect([template.subject.dateOfBirth, template.occurredAt]).toEqual([
      '2011-01-01',
      '2011-03-02T05:12:00.000Z',
    ]);
    const a = JSON.parse(copier.copy(event, 3));
    expect(a.subject.dateOfBirth).toBe('2010-10-06'); // 87 days earlier
    expect(a.data.birthDate).toBe(a.subject.dateOfBirth);
    expect(a.data.yearEnding).toBe('2011-03-31'); // a collection year still ends on 31 March
    expect(a.occurredAt).toBe('2010-12-05T05:12:00.000Z');
    // Identifiers that hold digits are not dates.
    expect(a.data.other).toBe('MIS-990103-006687');
    // Any two copies' children are born on different days.
    const born = new Set(
      Array.from({ length: 50 }, (_, copy) => JSON.parse(copier.copy(event, copy)).subject.dateOfBirth),
    );
    expect(born.size).toBe(50);
  });

  it('puts each copy after the first in postcode areas of its own, the same way in every field', () => {
    const a = JSON.parse(copier.copy(event, 1));
    expect(a.subject.postcode).toMatch(/^[QVXZ][A-Z]5 4ZS$/); // the district number and inward code kept
    expect(a.subject.postcode).not.toBe('ZZ5 4ZS');
    expect(a.data.address.postcode).toBe(a.subject.postcode);
    expect(JSON.parse(copier.copy(event, 0)).subject.postcode).toBe('ZZ5 4ZS');
    const outward = new Set<string>();
    for (let copy = 0; copy < 50; copy++)
      for (const text of [event, other])
        outward.add(JSON.parse(copier.copy(text, copy)).subject.postcode.split(' ')[0]);
    expect(outward.size).toBe(100); // two areas of the template, 50 copies
  });

  it('gives each copy family names of its own', () => {
    const families = new Set<string>();
    for (let copy = 0; copy < 50; copy++)
      for (const text of [event, other])
        families.add(JSON.parse(copier.copy(text, copy)).subject.name.family);
    expect(families.size).toBe(100);
    expect(families).toContain('Puddingstone'); // copy 0 keeps the template's
    // Each of its own Soundex code, so no family-name block of the linker spans two copies.
    expect(new Set([...families].map(soundex)).size).toBe(100);
  });

  it('has family names of distinct Soundex codes for 200 copies of 16 names', () => {
    const texts = Array.from({ length: 16 }, (_, i) =>
      JSON.stringify({ subject: { name: { given: 'Fennel', family: `Template${'bdgklmnr'[i % 8]}${i}` } } }),
    );
    const familyOf = (text: string): string => JSON.parse(text).subject.name.family;
    const templateCodes = new Set(texts.map((text) => soundex(familyOf(text))));
    const many = new TemplateCopier(texts, 2000, 200);
    const codes = new Set<string>();
    for (let copy = 0; copy < 200; copy++)
      for (const text of texts) codes.add(soundex(familyOf(many.copy(text, copy))));
    expect(codes.size).toBe(199 * 16 + templateCodes.size);
  });

  it('never gives two copies or two template children the same NHS number', () => {
    const seen = new Set<string>();
    for (let copy = 0; copy < 50; copy++)
      for (const text of [event, other]) seen.add(JSON.parse(copier.copy(text, copy)).subject.nhsNumber);
    expect(seen.size).toBe(100);
  });

  it('refuses more copies than six-digit record numbers hold', () => {
    expect(() => new TemplateCopier([event], 2000, 500)).toThrow(/6-digit record numbers/);
  });
});

import { isValidNhsNumber, isValidUpn } from '@throughline/contracts';
import { TemplateCopier } from './scale-copies';

const event = JSON.stringify({
  eventId: 'a81b40d8-ed27-4dad-840f-e4ffed36b505',
  subject: {
    recordId: 'LA991-000687',
    laChildId: '000687',
    nhsNumber: '9990713855',
    upn: 'T991200315010',
    name: { given: 'Fennel', family: 'Puddingstone' },
  },
  causationId: 'f88bde5f-0309-4e9f-8d70-8c7d879a3bd8',
  data: { formerUpn: 'T991200315010', other: 'MIS-990103-000687', wrongNhs: '9990713856' },
});
const other = JSON.stringify({
  subject: { recordId: 'CHIS-000002', nhsNumber: '9990693277', name: { family: 'Owlcroft' } },
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

import { isValidNhsNumber, isValidUpn, makeNhsNumber, makeUpn, upnCheckLetter } from './identifiers';

describe('NHS number modulus 11', () => {
  it.each(['9434765919', '9000000009', '9912003888', '4010232137'])('accepts %s', (value) => {
    expect(isValidNhsNumber(value)).toBe(true);
  });

  it.each(['9434765918', '9912003890', '1234567890', '943476591', '94347659190', '943476591X'])(
    'rejects %s',
    (value) => expect(isValidNhsNumber(value)).toBe(false),
  );

  it('rejects every 999000000x, whose check digit would be 10', () => {
    for (let digit = 0; digit <= 9; digit++) expect(isValidNhsNumber(`999000000${digit}`)).toBe(false);
    expect(makeNhsNumber('999000000')).toBeUndefined();
  });

  it('makes valid numbers from any stem that can carry one', () => {
    expect(makeNhsNumber('943476591')).toBe('9434765919');
  });
});

describe('UPN check letter', () => {
  it.each(['A950000178301', 'H243278544154', 'B801200005001', 'U80120000100A', 'F93512345678T'])(
    'accepts %s',
    (value) => expect(isValidUpn(value)).toBe(true),
  );

  it.each(['A950000178302', 'Z950000178301', 'A95000017830', 'a950000178301', 'A95000017830I'])(
    'rejects %s',
    (value) => expect(isValidUpn(value)).toBe(false),
  );

  it('computes the check letter over positions 2..13', () => {
    expect(upnCheckLetter('?950000178301')).toBe('A');
    expect(makeUpn('950000178301')).toBe('A950000178301');
  });
});

import { buildEvent, buildImmunisationGiven, buildReferralReceived } from '@throughline/testing';
import {
  ageInMonths,
  characteristicsOf,
  ethnicityGroupOf,
  factOf,
  postcodeDistrictOf,
  Pseudonymiser,
  senStatusOf,
  sexGroupOf,
} from '@throughline/analysis';
import type { CurrentAgencyEvent } from '@throughline/contracts';

describe('what the analysis model keeps of a child', () => {
  it('keys records and children with a keyed hash: stable, domain-separated, different under another key', () => {
    const one = new Pseudonymiser('key-one-0123456789');
    expect(one.pseudonymOf('health-chs-1')).toBe(one.pseudonymOf('health-chs-1'));
    expect(one.pseudonymOf('health-chs-1')).toMatch(/^p_[0-9a-f]{24}$/);
    expect(one.recordRef('health-chs-1')).toMatch(/^r_[0-9a-f]{32}$/);
    expect(one.recordRef('health-chs-1').slice(2, 26)).not.toBe(one.pseudonymOf('health-chs-1').slice(2));
    expect(new Pseudonymiser('key-two-0123456789').pseudonymOf('health-chs-1')).not.toBe(
      one.pseudonymOf('health-chs-1'),
    );
  });

  it('cuts postcodes to the district, sex to words, ethnicity to its group, SEN provision to a status', () => {
    expect(postcodeDistrictOf('ZZ99 3AB')).toBe('ZZ99');
    expect(postcodeDistrictOf('M1 1AE')).toBe('M1');
    expect(postcodeDistrictOf('EC1A1BB')).toBe('EC1A');
    expect(postcodeDistrictOf('not a postcode')).toBeUndefined();
    expect([sexGroupOf('1'), sexGroupOf('F'), sexGroupOf('9'), sexGroupOf(undefined)]).toEqual([
      'male',
      'female',
      'unknown',
      undefined,
    ]);
    expect(['WBRI', 'MWBC', 'APKN', 'CHNE', 'BAFR', 'OOTH', 'REFU', 'NOBT'].map(ethnicityGroupOf)).toEqual([
      'white',
      'mixed',
      'asian',
      'asian',
      'black',
      'other',
      'refused',
      'not-obtained',
    ]);
    expect(['N', 'K', 'E'].map(senStatusOf)).toEqual(['none', 'sen-support', 'ehc-plan']);
  });

  it('counts completed months of age from the exact date of birth', () => {
    expect(ageInMonths('2021-03-05', '2023-03-04')).toBe(23);
    expect(ageInMonths('2021-03-05', '2023-03-05')).toBe(24);
    expect(ageInMonths('2021-03-05', '2021-03-01')).toBeUndefined();
  });

  it('keeps the day where a measure counts days, the month elsewhere, and never the narrative', () => {
    const referral = buildReferralReceived({
      data: { referralDate: '2023-05-10', narrative: 'Synthetic narrative.' },
    }) as CurrentAgencyEvent;
    expect(factOf(referral)).toEqual({ onDay: '2023-05-10', localAuthority: '926' });
    const immunisation = buildImmunisationGiven({
      subject: { dateOfBirth: '2021-03-05' },
      data: { vaccine: 'MMR', dose: 1, givenDate: '2022-03-20', narrative: 'Synthetic.' },
    }) as CurrentAgencyEvent;
    expect(factOf(immunisation)).toEqual({ onDay: '2022-03-01', code: 'MMR', quantity: 1, ageMonths: 12 });
    const exclusion = buildEvent('education.exclusion.recorded', {
      data: { category: 'SUSP', startDate: '2023-05-03', sessions: 2 },
    }) as CurrentAgencyEvent;
    expect(JSON.stringify(factOf(exclusion))).not.toMatch(/narrative|Synthetic/);
    expect(factOf(exclusion)).toMatchObject({ onDay: '2023-05-01', code: 'SUSP', quantity: 2 });
  });

  it('takes the birth month, sex, district and LA from the subject, never the day or the name', () => {
    const referral = buildReferralReceived({
      source: { organisation: '926' },
      subject: {
        dateOfBirth: '2012-06-15',
        sex: '2',
        postcode: 'ZZ99 3AB',
        name: { given: 'Syn', family: 'Thetic' },
      },
    }) as CurrentAgencyEvent;
    expect(characteristicsOf(referral)).toEqual({
      birthMonth: '2012-06-01',
      unborn: false,
      sex: 'female',
      postcodeDistrict: 'ZZ99',
      localAuthority: '926',
    });
  });
});

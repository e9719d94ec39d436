import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildEvent, returnsSpecsDirectory } from '@throughline/testing';
import { XMLParser } from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  codeListFromFile,
  codeValidityIssues,
  collectionYearOf,
  readCodeListFile,
  type CodeListFile,
} from './code-lists';
import { envelope, laChildId, sex, sexCodeOn, sexOf, source, subject, upn } from './common';
import {
  EHC_CEASE_REASON,
  EXCLUSION_REASON,
  KS2_WRITING_TA,
  NC_YEAR_GROUP,
  SEN2_NEED,
  SEN_NEED,
} from './education';
import {
  ADMISSION_METHOD,
  CAMHS_REFERRAL_REASON,
  CAMHS_REFERRAL_SOURCE,
  CAMHS_URGENCY,
  DISCHARGE_DESTINATION,
} from './health';
import {
  ASSESSMENT_FACTOR,
  ABUSE_CATEGORY,
  NEW_EPISODE_REASON,
  PLACEMENT_TYPE,
  PRIMARY_NEED,
} from './social-care';
import { readAsCurrent } from './upcast';
import { parseAgencyEvent } from './validate';

const ROOT = resolve(__dirname, '..', '..');
const LISTS_DIR = join(ROOT, 'contracts', 'code-lists');
const SPECS_DIR = returnsSpecsDirectory();

const FILES: readonly CodeListFile[] = readdirSync(LISTS_DIR)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => readCodeListFile(JSON.parse(readFileSync(join(LISTS_DIR, name), 'utf8'))));

const NOW = new Date();

/** `path rule` of each issue `parseAgencyEvent` raises at intake. */
function intakeIssues(input: unknown): string[] {
  const result = parseAgencyEvent(JSON.parse(JSON.stringify(input)), { now: NOW });
  return result.ok ? [] : result.issues.map((issue) => `${issue.path} ${issue.rule}`);
}

function messagesOf(input: unknown): string[] {
  const result = parseAgencyEvent(JSON.parse(JSON.stringify(input)), { now: NOW });
  return result.ok ? [] : result.issues.map((issue) => issue.message);
}

/** An event moved to a day: occurredAt and the given data date fields, with a subject born long before. */
function on<E extends { occurredAt: string; subject: object; data: object }>(
  event: E,
  day: string,
  dateFields: readonly string[],
  subjectChanges: Record<string, unknown> = {},
): E {
  const data: Record<string, unknown> = { ...event.data };
  for (const field of dateFields) data[field] = day;
  return {
    ...event,
    occurredAt: `${day}T10:00:00Z`,
    subject: { ...event.subject, dateOfBirth: '2008-05-01', ...subjectChanges },
    data,
  };
}

/** As imported from a statutory return of `collectionYear`. */
function imported<E extends object>(event: E, format: 'cin-census' | 'ssda903', collectionYear: string): E {
  return {
    ...event,
    provenance: {
      kind: 'statutory-return',
      format,
      collectionYear,
      fileSha256: 'a'.repeat(64),
      location: format === 'ssda903' ? 'episodes.csv line 2' : 'Message/Children/Child[1]',
    },
  };
}

describe('code list files', () => {
  it('are well-formed, named after their id, with unique codes and non-empty labels', () => {
    const names = readdirSync(LISTS_DIR).filter((name) => name.endsWith('.json'));
    expect(FILES.map((file) => `${file.id}.json`)).toEqual(names.sort());
    for (const file of FILES) {
      const all = [...file.codes, ...(file.withdrawn ?? [])];
      expect(new Set(all.map((entry) => entry.code)).size).toBe(all.length);
      for (const entry of all) expect(entry.label.trim()).not.toBe('');
      if (!file.authoritative) expect(file.notes).toBeDefined();
    }
  });

  it('refuse a malformed file, naming the list, the field and the rule', () => {
    const base = FILES.find((file) => file.id === 'ssda903-placement-type') as CodeListFile;
    expect(() =>
      readCodeListFile({ ...base, codes: [...base.codes, { code: 'K3', label: 'again' }] }),
    ).toThrow(
      `code list ssda903-placement-type is malformed: codes.${base.codes.length}.code: code K3 appears more than once`,
    );
    expect(() =>
      readCodeListFile({ ...base, codes: [{ code: 'K3', label: ' ', validFrom: '2024-26' }] }),
    ).toThrow(/codes\.0\.label: .*codes\.0\.validFrom: a collection year spans two consecutive years/);
    expect(() =>
      readCodeListFile({ ...base, withdrawn: [{ code: 'WP', label: 'x', reason: 'y', replacedBy: 'OW' }] }),
    ).toThrow('withdrawn.0.replacedBy: replacedBy OW is not a code of ssda903-placement-type');
  });

  it('make an enum of every code a list has held, current, past and withdrawn, with the labels', () => {
    expect(PLACEMENT_TYPE.options).toContain('K3');
    expect(PLACEMENT_TYPE.options).toContain('H5');
    expect(EXCLUSION_REASON.options).toContain('WP');
    expect(EXCLUSION_REASON.list.id).toBe('school-census-exclusion-reason');
    expect(EXCLUSION_REASON.labels.OW).toBe('Use or threat of use of an offensive weapon or prohibited item');
  });
});

describe('code lists against their machine-readable sources', () => {
  const xsd = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(
    readFileSync(join(SPECS_DIR, 'CIN_schema_2024.xsd'), 'utf8'),
  ) as { 'xs:schema': { 'xs:simpleType': XsdSimpleType[] } };
  const yaml = parseYaml(readFileSync(join(SPECS_DIR, 'SSDA903_schema_2024.yml'), 'utf8')) as {
    column_map: Record<string, Record<string, { category?: { code: string; name?: string }[] }>>;
  };

  interface XsdEnumeration {
    '@value': string;
    'xs:annotation'?: { 'xs:documentation'?: string };
  }
  interface XsdSimpleType {
    '@name': string;
    'xs:restriction': { 'xs:enumeration'?: XsdEnumeration | XsdEnumeration[] };
  }

  /** code → label (undefined where the source has none), in the source's order. */
  function sourceCodes(file: CodeListFile): [string, string | undefined][] {
    const where = file.machineReadable;
    if (!where) throw new Error(`${file.id} has no machine-readable source`);
    if (where.file === 'CIN_schema_2024.xsd') {
      const name = /xs:simpleType (\w+)/.exec(where.at)?.[1];
      const type = xsd['xs:schema']['xs:simpleType'].find((candidate) => candidate['@name'] === name);
      if (!type) throw new Error(`${file.id}: no xs:simpleType ${name} in the XSD`);
      const values = [type['xs:restriction']['xs:enumeration'] ?? []].flat();
      return values.map((value) => [value['@value'], value['xs:annotation']?.['xs:documentation']?.trim()]);
    }
    if (where.file === 'SSDA903_schema_2024.yml') {
      const [, table, column] = /table (\w+) column (\w+)/.exec(where.at) ?? [];
      const category = yaml.column_map[table]?.[column]?.category;
      if (!category) throw new Error(`${file.id}: no category list at ${table}.${column} in the YAML`);
      return category.map((entry) => [String(entry.code).trim(), entry.name]);
    }
    throw new Error(`${file.id}: unknown machine-readable file ${where.file}`);
  }

  /** The differences a list's notes justify: codes the list adds to its (older) source. */
  const ADDED_TO_SOURCE: Record<string, readonly string[]> = {
    'ssda903-placement-type': ['K3', 'Z11', 'Z12', 'Z13', 'Z14'],
    sex: ['M', 'F', 'U'],
  };

  const compared = FILES.filter((file) => file.machineReadable);

  it('covers every list with a machine-readable copy in ../shared/domain/specs', () => {
    expect(compared.map((file) => file.id)).toEqual(
      expect.arrayContaining([
        'cin-referral-source',
        'cin-primary-need',
        'cin-assessment-factor',
        'cin-category-of-abuse',
        'cin-reason-for-closure',
        'sex',
        'ssda903-legal-status',
        'ssda903-placement-type',
        'ssda903-placement-provider',
        'ssda903-category-of-need',
        'ssda903-reason-new-episode',
        'ssda903-reason-placement-change',
        'ssda903-reason-episode-ceased',
        'ssda903-review-participation',
        'ssda903-missing',
      ]),
    );
  });

  it.each(compared.map((file) => [file.id, file] as const))(
    '%s has the codes and labels of its source',
    (_id, file) => {
      const source = sourceCodes(file);
      const added = ADDED_TO_SOURCE[file.id] ?? [];
      const listed = file.codes.map((entry) => entry.code).filter((code) => !added.includes(code));
      expect(listed).toEqual(source.map(([code]) => code));
      for (const [code, label] of source) {
        if (label !== undefined)
          expect(`${code} ${file.codes.find((e) => e.code === code)?.label}`).toBe(`${code} ${label}`);
      }
    },
  );

  it('asserts the differences the notes justify: K3 from 2024-25, sex M/F/U from 2024-25', () => {
    const placement = FILES.find((file) => file.id === 'ssda903-placement-type') as CodeListFile;
    expect(placement.codes.find((entry) => entry.code === 'K3')).toMatchObject({ validFrom: '2024-25' });
    expect(sourceCodes(placement).map(([code]) => code)).not.toContain('K3');
    const sexFile = FILES.find((file) => file.id === 'sex') as CodeListFile;
    expect(sexFile.codes.filter((entry) => entry.validFrom === '2024-25').map((entry) => entry.code)).toEqual(
      ['M', 'F', 'U'],
    );
    expect(sexFile.codes.filter((entry) => entry.validTo === '2023-24').map((entry) => entry.code)).toEqual(
      sourceCodes(sexFile).map(([code]) => code),
    );
  });
});

describe('issue 14 code list defects', () => {
  it('SSDA903 reason for new episode: T is change of placement (same carers), B is legal status and placement and carers', () => {
    expect(NEW_EPISODE_REASON.labels.T).toBe('Change of placement (but same carer(s)) only');
    expect(NEW_EPISODE_REASON.labels.B).toBe(
      'Change of legal status and placement and carer(s) at the same time',
    );
    expect(NEW_EPISODE_REASON.labels.U).toBe(
      'Change of legal status and change of placement (but same carer(s)) at the same time',
    );
  });

  it('SSDA903 placement type K3 (registered supported accommodation) exists, valid from 2024-25', () => {
    expect(PLACEMENT_TYPE.labels.K3).toMatch(/supported accommodation/);
    expect(PLACEMENT_TYPE.list.codes.find((entry) => entry.code === 'K3')?.validFrom).toBe('2024-25');
  });

  it('CIN assessment factors 8D and 8E: UK children in educational placements, UK children making alternative family arrangements', () => {
    expect(ASSESSMENT_FACTOR.labels['8D']).toMatch(/UK children in educational placements$/);
    expect(ASSESSMENT_FACTOR.labels['8E']).toMatch(/UK children making alternative family arrangements$/);
    for (const code of ['3A', '3B', '3C'])
      expect(ASSESSMENT_FACTOR.labels[code]).toMatch(/^Domestic violence:/);
    expect(PRIMARY_NEED.labels.N2).toBe("Child's disability");
    expect(ABUSE_CATEGORY.labels.MUL).toBe('Multiple/not recommended');
  });

  it('sex: the CIN census and SSDA903 use M/F/U from 2024-25 and 1/2/0/9 before', () => {
    expect(sex.labels).toMatchObject({
      '1': 'Male',
      '2': 'Female',
      '0': 'Not recorded or unborn',
      '9': 'Indeterminate',
    });
    expect(sex.labels).toMatchObject({ M: 'Male', F: 'Female', U: 'Unknown' });
    const referral = buildEvent('social-care.referral.received');
    const in2022 = on(referral, '2022-10-03', ['referralDate']);
    expect(
      intakeIssues(
        imported({ ...in2022, subject: { ...in2022.subject, sex: 'M' } }, 'cin-census', '2022-23'),
      ),
    ).toEqual(['subject.sex code-valid-in-year']);
    expect(
      intakeIssues(
        imported({ ...in2022, subject: { ...in2022.subject, sex: '1' } }, 'cin-census', '2022-23'),
      ),
    ).toEqual([]);
    const in2024 = on(referral, '2024-10-03', ['referralDate']);
    expect(intakeIssues({ ...in2024, subject: { ...in2024.subject, sex: 'M' } })).toEqual([]);
    expect(messagesOf({ ...in2024, subject: { ...in2024.subject, sex: '9' } })).toEqual([
      "sex: 9 is valid to 2023-24; the event's collection year is 2024-25",
    ]);
    expect([sexOf('1'), sexOf('M'), sexOf('2'), sexOf('F'), sexOf('0'), sexOf('U')]).toEqual([
      'male',
      'male',
      'female',
      'female',
      undefined,
      undefined,
    ]);
    expect([
      sexCodeOn('2024-03-31', 'male'),
      sexCodeOn('2024-04-01', 'male'),
      sexCodeOn('2020-01-01', 'unknown'),
    ]).toEqual(['1', 'M', '0']);
  });

  it('UPN: lower-case letters are upper-cased, then checked', () => {
    const valid = buildEvent('education.enrolment.recorded').subject.upn as string;
    expect(upn.parse(valid.toLowerCase())).toBe(valid);
    expect(subject.parse({ recordId: 'r1', upn: valid.toLowerCase() }).upn).toBe(valid);
    const wrongLetter = (valid[0] === 'A' ? 'b' : 'a') + valid.slice(1);
    expect(upn.safeParse(wrongLetter).error?.issues[0]).toMatchObject({
      params: { rule: 'upn-check-letter' },
    });
  });

  it('LA child id: only letters and digits, at most 20, as the CIN census allows (rules 1570, 1580)', () => {
    expect(laChildId.safeParse('LF000123').success).toBe(true);
    for (const refused of ['LF-000123', 'A/1', 'A_1', 'A 1', 'A'.repeat(21), '']) {
      expect(laChildId.safeParse(refused).success).toBe(false);
    }
    const referral = buildEvent('social-care.referral.received');
    expect(intakeIssues({ ...referral, subject: { ...referral.subject, laChildId: 'LF-000123' } })).toEqual([
      'subject.laChildId la-child-id-characters',
    ]);
  });

  it('MHSDS primary reason for referral: no 17; 19 relationship difficulties, 20 gender discomfort, 24-26 neurodevelopmental and autism, up to 31', () => {
    expect(CAMHS_REFERRAL_REASON.list.codes.map((entry) => entry.code)).not.toContain('17');
    expect(CAMHS_REFERRAL_REASON.list.codes.map((entry) => entry.code)).toEqual(
      [...Array.from({ length: 16 }, (_, i) => i + 1), ...Array.from({ length: 14 }, (_, i) => i + 18)].map(
        (n) => String(n).padStart(2, '0'),
      ),
    );
    expect(CAMHS_REFERRAL_REASON.labels).toMatchObject({
      '19': 'Relationship difficulties',
      '20': 'Gender discomfort issues',
      '24': 'Neurodevelopmental conditions, excluding autism',
      '25': 'Suspected autism',
      '26': 'Diagnosed autism',
      '31': 'Employment support',
    });
    const referral = buildEvent('health.camhs.referred');
    expect(messagesOf(withData(referral, { primaryReason: '17' }))).toEqual([
      'mhsds-primary-reason-for-referral: 17 is not a code of the list (not an MHSDS code; diagnosed autism is 26); use 26',
    ]);
  });

  it('MHSDS source of referral: the full list (D1-D2, E3-E4, G1-G3, I1-I2, M1-M7, P1, Q1), no Talking Therapies codes', () => {
    const codes = CAMHS_REFERRAL_SOURCE.list.codes.map((entry) => entry.code);
    expect(codes).toEqual(
      expect.arrayContaining([
        'D1',
        'D2',
        'E3',
        'E4',
        'G1',
        'G2',
        'G3',
        'I1',
        'I2',
        'M1',
        'M2',
        'M3',
        'M4',
        'M5',
        'M6',
        'M7',
        'P1',
        'Q1',
      ]),
    );
    for (const talkingTherapies of ['M8', 'N1', 'N2', 'N4']) expect(codes).not.toContain(talkingTherapies);
  });

  it('CAMHS urgency: the clinical response priority type codes 1-4, with 4 very urgent', () => {
    expect(CAMHS_URGENCY.list.codes.map((entry) => [entry.code, entry.label])).toEqual([
      ['1', 'Emergency'],
      ['2', 'Urgent/serious'],
      ['3', 'Routine'],
      ['4', 'Very urgent'],
    ]);
    const referral = buildEvent('health.camhs.referred');
    expect(intakeIssues(withData(referral, { urgency: '4' }))).toEqual([]);
    expect(intakeIssues(withData(referral, { urgency: 'routine' }))).toEqual(['data.urgency code-withdrawn']);
  });

  it('hospital discharge destination: the current list; 38, 54, 65 and 85 valid only to 2021-09-30', () => {
    const codes = DISCHARGE_DESTINATION.list.codes;
    for (const current of ['30', '40', '42', '48', '55', '56', '89', '98', '99']) {
      expect(codes.map((entry) => entry.code)).toContain(current);
    }
    for (const retired of ['38', '54', '65', '85']) {
      expect(codes.find((entry) => entry.code === retired)?.validTo).toBe('2021-09-30');
    }
    const discharged = buildEvent('health.hospital.discharged');
    const in2021 = {
      ...on(discharged, '2021-09-30', []),
      data: {
        ...discharged.data,
        admittedAt: '2021-09-28T09:00:00Z',
        dischargedAt: '2021-09-30T09:00:00Z',
        dischargeDestination: '65',
      },
    };
    expect(intakeIssues(in2021)).toEqual([]);
    const later = {
      ...on(discharged, '2021-10-01', []),
      data: { ...in2021.data, dischargedAt: '2021-10-01T09:00:00Z' },
    };
    expect(messagesOf(later)).toEqual([
      'nhs-discharge-destination: 65 is valid to 2021-09-30; the event is dated 2021-10-01',
    ]);
  });

  it('admission method: 28 is not in the current list (retirement date not found: refused, use 2A-2D)', () => {
    expect(ADMISSION_METHOD.list.codes.map((entry) => entry.code)).not.toContain('28');
    const admitted = buildEvent('health.hospital.admitted');
    expect(intakeIssues(withData(admitted, { admissionMethod: '28' }))).toEqual([
      'data.admissionMethod code-withdrawn',
    ]);
  });

  it('school exclusion reason: OW is the offensive weapon code and PH exists; there is no WP', () => {
    expect(EXCLUSION_REASON.list.codes.map((entry) => entry.code)).toEqual(
      expect.arrayContaining(['OW', 'PH']),
    );
    expect(EXCLUSION_REASON.list.codes.map((entry) => entry.code)).not.toContain('WP');
    const exclusion = buildEvent('education.exclusion.recorded');
    expect(intakeIssues(withData(exclusion, { reasons: ['DB', 'OW', 'PH'] }))).toEqual([]);
    expect(messagesOf(withData(exclusion, { reasons: ['WP'] }))).toEqual([
      'school-census-exclusion-reason: WP is not a code of the list (not a school census code: the project invented it; the offensive weapon code is OW); use OW',
    ]);
  });

  it('NC year groups: E1, E2, M and X as well as N1, N2, R and 1-14', () => {
    expect(NC_YEAR_GROUP.options).toEqual(
      expect.arrayContaining(['E1', 'E2', 'N1', 'N2', 'R', '1', '14', 'M', 'X']),
    );
    const enrolment = buildEvent('education.enrolment.recorded');
    expect(intakeIssues(withData(enrolment, { yearGroup: 'X' }))).toEqual([]);
    expect(intakeIssues(withData(enrolment, { yearGroup: 'E1' }))).toEqual([]);
  });

  it('KS2 writing teacher assessment: current codes (EM, L, F, P), no D', () => {
    const codes = KS2_WRITING_TA.list.codes.map((entry) => entry.code);
    expect(codes).toEqual([
      'GDS',
      'EXS',
      'WTS',
      'PK6',
      'PK5',
      'PK4',
      'PK3',
      'PK2',
      'PK1',
      'EM',
      'A',
      'L',
      'F',
      'P',
    ]);
    const ks2 = buildEvent('education.key-stage.assessed');
    const withWriting = (writing: string) => withData(ks2, { ks2: { ...(ks2.data.ks2 ?? {}), writing } });
    expect(intakeIssues(withWriting('EM'))).toEqual([]);
    expect(intakeIssues(withWriting('D'))).toEqual(['data.ks2.writing code-withdrawn']);
  });

  it('SEN2 EHC plan cease reasons are the codes 1-9; the old slugs are refused and name their code', () => {
    expect(EHC_CEASE_REASON.list.codes.map((entry) => entry.code)).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
    ]);
    expect(EHC_CEASE_REASON.labels['1']).toBe('Reached maximum age');
    const ceased = buildEvent('education.ehc-plan.ceased');
    expect(intakeIssues(withData(ceased, { reason: '5' }))).toEqual([]);
    expect(messagesOf(withData(ceased, { reason: 'moved-la' }))).toEqual([
      'sen2-ehc-cease-reason: moved-la is not a code of the list (a project slug, not the SEN2 code); use 5',
    ]);
  });

  it('SEN2 need ranks: one or two types of need ranked 1 and 2, no NSA', () => {
    expect(SEN2_NEED.list.codes.map((entry) => entry.code)).not.toContain('NSA');
    expect(SEN_NEED.options).toContain('NSA');
    const plan = buildEvent('education.ehc-plan.issued');
    expect(
      intakeIssues(
        withData(plan, {
          needs: [
            { need: 'ASD', rank: 1 },
            { need: 'SLCN', rank: 2 },
            { need: 'SEMH', rank: 3 },
          ],
        }),
      ),
    ).toEqual(['data.needs sen2-rank']);
    expect(intakeIssues(withData(plan, { needs: [{ need: 'NSA', rank: 1 }] }))).toEqual([
      'data.needs.0.need code-withdrawn',
    ]);
    const support = buildEvent('education.sen-provision.changed');
    expect(intakeIssues(withData(support, { needs: [{ need: 'NSA', rank: 1 }] }))).toEqual([]);
  });
});

describe('validity by year', () => {
  const started = buildEvent('social-care.looked-after-episode.started');

  it('collection years run 1 April to 31 March', () => {
    expect(['2024-03-31', '2024-04-01', '2025-01-15', '1999-12-31'].map(collectionYearOf)).toEqual([
      '2023-24',
      '2024-25',
      '2024-25',
      '1999-00',
    ]);
  });

  it('K3 refused for an event of 2023-24, accepted for 2024-25', () => {
    const k3 = (day: string) =>
      withData(on(started, day, ['startDate'], { sex: sexCodeOn(day, 'female') }), {
        placement: 'K3',
        placementProvider: 'PR4',
      });
    expect(intakeIssues(k3('2024-03-31'))).toEqual(['data.placement code-valid-in-year']);
    expect(messagesOf(k3('2024-03-31'))).toEqual([
      "ssda903-placement-type: K3 is valid from 2024-25; the event's collection year is 2023-24",
    ]);
    expect(intakeIssues(k3('2024-04-01'))).toEqual([]);
  });

  it("an imported return is checked against its own collection year, not the day's", () => {
    const late = withData(on(started, '2024-05-02', ['startDate'], { sex: '2' }), { placement: 'H5' });
    // A 2023-24 return can report an episode entered in May 2024 (its late records): sex 2 is valid there.
    expect(intakeIssues(imported(late, 'ssda903', '2023-24'))).toEqual([]);
    expect(intakeIssues(late)).toEqual(['subject.sex code-valid-in-year']);
  });

  it('H5, P2 and Z1 end with 2024-25; Z11-Z14 begin in 2025-26', () => {
    const placed = (day: string, placement: string) =>
      withData(on(started, day, ['startDate'], { sex: 'F' }), { placement });
    for (const code of ['H5', 'P2', 'Z1']) {
      expect(intakeIssues(placed('2025-03-31', code))).toEqual([]);
      expect(intakeIssues(placed('2025-04-01', code))).toEqual(['data.placement code-valid-in-year']);
    }
    expect(intakeIssues(placed('2025-03-31', 'Z11'))).toEqual(['data.placement code-valid-in-year']);
    expect(intakeIssues(placed('2025-04-01', 'Z11'))).toEqual([]);
  });

  it('checks codes inside arrays and nested objects, each at its own path', () => {
    const exclusion = buildEvent('education.exclusion.recorded');
    expect(intakeIssues(withData(exclusion, { reasons: ['DB', 'WP', 'WP'] }))).toEqual([
      'data.reasons.1 code-withdrawn',
      'data.reasons.2 code-withdrawn',
    ]);
  });

  it('does not apply the intake rules to stored events: they were checked when accepted', () => {
    const stored = withData(buildEvent('education.exclusion.recorded'), { reasons: ['WP'] });
    const storedSex = {
      ...buildEvent('health.birth.notified'),
      subject: { ...buildEvent('health.birth.notified').subject, sex: '9' },
    };
    const storedChild = buildEvent('social-care.referral.received');
    storedChild.subject = { ...storedChild.subject, laChildId: 'LF-000123' };
    for (const event of [stored, storedSex, storedChild]) {
      expect(intakeIssues(event)).not.toEqual([]);
      const read = readAsCurrent(JSON.parse(JSON.stringify(event)), { futureToleranceMs: Infinity });
      expect(read.ok).toBe(true);
    }
    const read = readAsCurrent(JSON.parse(JSON.stringify(stored)), { futureToleranceMs: Infinity });
    expect(
      read.ok &&
        read.event.type === 'education.exclusion.recorded' &&
        EXCLUSION_REASON.labels[read.event.data.reasons[0]],
    ).toBe('Use or threat of use of an offensive weapon or prohibited item');
  });

  it('needs no extra code for a new list: a file with bounds is checked wherever its enum is used', () => {
    const list = codeListFromFile({
      id: 'test-list',
      title: 'Test',
      authority: 'Test',
      document: 'Test',
      version: '1',
      url: null,
      machineReadable: null,
      authoritative: false,
      notes: 'a list made up for this test',
      codes: [
        { code: 'A', label: 'Always' },
        { code: 'B', label: 'From 2024-08-19', validFrom: '2024-08-19' },
      ],
    });
    const schema = envelope(
      'test.code-list.used',
      source('health'),
      z.strictObject({ codes: z.array(list).optional() }),
    );
    const event = { type: 'test.code-list.used', schemaVersion: 1, data: { codes: ['A', 'B'] } };
    expect(schema.shape.data.parse(event.data)).toEqual(event.data);
    expect(codeValidityIssues({ ...event, occurredAt: '2024-08-18T23:00:00Z' })).toEqual([
      {
        path: 'data.codes.1',
        rule: 'code-valid-in-year',
        message: 'test-list: B is valid from 2024-08-19; the event is dated 2024-08-18',
      },
    ]);
    expect(codeValidityIssues({ ...event, occurredAt: '2024-08-19T08:00:00Z' })).toEqual([]);
  });
});

function withData<E extends { data: object }>(event: E, changes: Record<string, unknown>): E {
  return { ...event, data: { ...event.data, ...changes } } as E;
}

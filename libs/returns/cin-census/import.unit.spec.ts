import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import {
  makeUpn,
  parseAgencyEvent,
  type AgencyEvent,
  type EventOfType,
  type EventType,
} from '@throughline/contracts';
import { cinCensusChunks, PLANTED } from '@throughline/synthetic';
import { summarise } from '@throughline/timeline';
import { validateXML } from 'xmllint-wasm';
import type { ImportFile, ImportItem } from '../importer';
import { returnRecordId } from '../subject';
import { cinCensusImporter } from './import';
import { returnsSpecsDirectory } from '@throughline/testing';

const SPECS = returnsSpecsDirectory();

function fileOf(text: string, name = 'cin.xml'): ImportFile {
  const bytes = Buffer.from(text, 'utf8');
  return {
    name,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    // Small chunks, so elements and multi-byte characters straddle chunk boundaries.
    open: () =>
      Readable.from(
        Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7)),
      ),
  };
}

async function read(text: string, context = { system: 'cin-census' }): Promise<ImportItem[]> {
  const items: ImportItem[] = [];
  for await (const item of cinCensusImporter.read([fileOf(text)], context)) items.push(item);
  return items;
}

const events = (items: readonly ImportItem[]) =>
  items.flatMap((item) => (item.kind === 'event' ? [item.event as AgencyEvent] : []));
const refused = (items: readonly ImportItem[]) => items.filter((item) => item.kind === 'refused');
const ofType = <T extends EventType>(items: readonly ImportItem[], type: T) =>
  events(items).filter((event): event is EventOfType<T> => event.type === type);

function census(year: number, children: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Message>
  <Header>
    <CollectionDetails><Collection>CIN</Collection><Year>${year}</Year><ReferenceDate>${year}-03-31</ReferenceDate></CollectionDetails>
    <Source><SourceLevel>L</SourceLevel><LEA>926</LEA></Source>
  </Header>
  <Children>${children}</Children>
</Message>`;
}

const VALID_UPN = makeUpn('123456789012');

/** One child with every module of the census (2023-24 shape). */
const EVERY_MODULE = `
<Child>
  <ChildIdentifiers>
    <LAchildID>A1</LAchildID>
    <UPN>${VALID_UPN.toLowerCase()}</UPN>
    <FormerUPN>A12345678901Z</FormerUPN>
    <PersonBirthDate>2015-06-01</PersonBirthDate>
    <GenderCurrent>2</GenderCurrent>
    <PersonDeathDate>2024-03-01</PersonDeathDate>
  </ChildIdentifiers>
  <ChildCharacteristics>
    <Ethnicity>MWBC</Ethnicity>
    <Disabilities><Disability>HEAR</Disability><Disability>COMM</Disability></Disabilities>
  </ChildCharacteristics>
  <CINdetails>
    <CINreferralDate>2023-05-02</CINreferralDate>
    <ReferralSource>3A</ReferralSource>
    <PrimaryNeedCode>N1</PrimaryNeedCode>
    <CINclosureDate>2024-03-01</CINclosureDate>
    <ReasonForClosure>RC2</ReasonForClosure>
    <DateOfInitialCPC>2023-06-01</DateOfInitialCPC>
    <Assessments>
      <AssessmentActualStartDate>2023-05-03</AssessmentActualStartDate>
      <AssessmentAuthorisationDate>2023-05-30</AssessmentAuthorisationDate>
      <FactorsIdentifiedAtAssessment><AssessmentFactors>8D</AssessmentFactors><AssessmentFactors>3A</AssessmentFactors></FactorsIdentifiedAtAssessment>
    </Assessments>
    <Assessments>
      <AssessmentActualStartDate>2024-02-01</AssessmentActualStartDate>
      <AssessmentInternalReviewDate>2024-02-10</AssessmentInternalReviewDate>
    </Assessments>
    <CINPlanDates><CINPlanStartDate>2023-06-05</CINPlanStartDate><CINPlanEndDate>2023-09-01</CINPlanEndDate></CINPlanDates>
    <Section47>
      <S47ActualStartDate>2023-05-10</S47ActualStartDate>
      <InitialCPCtarget>2023-05-25</InitialCPCtarget>
      <DateOfInitialCPC>2023-05-24</DateOfInitialCPC>
      <ICPCnotRequired>false</ICPCnotRequired>
    </Section47>
    <Section47>
      <S47ActualStartDate>2023-10-10</S47ActualStartDate>
      <ICPCnotRequired>1</ICPCnotRequired>
    </Section47>
    <ReferralNFA>false</ReferralNFA>
    <ChildProtectionPlans>
      <CPPstartDate>2023-05-24</CPPstartDate>
      <CPPendDate>2024-02-20</CPPendDate>
      <InitialCategoryOfAbuse>NEG</InitialCategoryOfAbuse>
      <LatestCategoryOfAbuse>EMO</LatestCategoryOfAbuse>
      <NumberOfPreviousCPP>0</NumberOfPreviousCPP>
      <Reviews><CPPreviewDate>2023-08-20</CPPreviewDate><CPPreviewDate>2024-01-10</CPPreviewDate></Reviews>
    </ChildProtectionPlans>
    <PreProceedings>
      <PPStartDate>2023-11-01</PPStartDate>
      <LBPSentDate>2023-11-05</LBPSentDate>
      <FGDMMeetingOffer>true</FGDMMeetingOffer>
      <InitialPPMeetingDate>2023-11-20</InitialPPMeetingDate>
      <ReviewMeetingsCount>2</ReviewMeetingsCount>
      <StepDecisionDate>2024-01-15</StepDecisionDate>
    </PreProceedings>
  </CINdetails>
</Child>`;

describe('CIN census importer', () => {
  it('maps every module of a child to its events, each with provenance and the child once', async () => {
    const items = await read(census(2024, EVERY_MODULE));
    expect(refused(items)).toEqual([]);
    expect(items.filter((item) => item.kind === 'child')).toEqual([{ kind: 'child', childId: 'A1' }]);
    const types = events(items).map((event) => event.type);
    expect(types.sort()).toEqual(
      [
        'social-care.child-characteristics.recorded',
        'social-care.referral.received',
        'social-care.assessment.completed',
        'social-care.assessment.started',
        'social-care.cin-plan.started',
        'social-care.cin-plan.ended',
        'social-care.section-47-enquiry.started',
        'social-care.section-47-enquiry.completed',
        'social-care.initial-child-protection-conference.held',
        'social-care.section-47-enquiry.started',
        'social-care.section-47-enquiry.completed',
        'social-care.initial-child-protection-conference.held',
        'social-care.child-protection-plan.started',
        'social-care.child-protection-plan.reviewed',
        'social-care.child-protection-plan.reviewed',
        'social-care.child-protection-plan.ended',
        'social-care.pre-proceedings.started',
        'social-care.pre-proceedings.ended',
        'social-care.case.closed',
        'social-care.death.recorded',
      ].sort(),
    );
    for (const event of events(items)) {
      expect(parseAgencyEvent(event)).toMatchObject({ ok: true });
      expect(event.provenance).toMatchObject({
        kind: 'statutory-return',
        format: 'cin-census',
        collectionYear: '2023-24',
        fileSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        location: expect.stringMatching(/^Message\/Children\/Child\[1\]/),
      });
      expect(event.subject).toMatchObject({
        recordId: 'la926-A1',
        laChildId: 'A1',
        laCode: '926',
        sex: '2',
      });
    }
    const [characteristics] = ofType(items, 'social-care.child-characteristics.recorded');
    expect(characteristics).toMatchObject({
      specialCategories: ['ethnicity'],
      data: { asAt: '2024-03-31', ethnicity: 'MWBC', disabilities: ['HEAR', 'COMM'] },
    });
    const [referral] = ofType(items, 'social-care.referral.received');
    expect(referral.data).toEqual({
      referralDate: '2023-05-02',
      referralSource: '3A',
      primaryNeed: 'N1',
      noFurtherAction: false,
    });
    // Every record of the episode is correlated with its referral.
    for (const event of events(items)) {
      if (
        ![
          'social-care.referral.received',
          'social-care.child-characteristics.recorded',
          'social-care.death.recorded',
        ].includes(event.type)
      )
        expect(event.correlationId).toBe(referral.eventId);
    }
    expect(ofType(items, 'social-care.assessment.completed')[0].data).toEqual({
      startDate: '2023-05-03',
      authorisationDate: '2023-05-30',
      factors: ['8D', '3A'],
    });
    expect(ofType(items, 'social-care.assessment.started')[0].data).toEqual({
      startDate: '2024-02-01',
      internalReviewDate: '2024-02-10',
    });
    const completed = ofType(items, 'social-care.section-47-enquiry.completed').map((event) => event.data);
    expect(completed).toEqual([
      { startDate: '2023-05-10', icpcRequired: true, outcome: 'icpc' },
      { startDate: '2023-10-10', icpcRequired: false },
    ]);
    const conferences = ofType(items, 'social-care.initial-child-protection-conference.held').map(
      (event) => event.data,
    );
    expect(conferences).toEqual([
      { conferenceDate: '2023-05-24', section47StartDate: '2023-05-10' },
      { conferenceDate: '2023-06-01' },
    ]);
    expect(ofType(items, 'social-care.child-protection-plan.started')[0].data).toEqual({
      startDate: '2023-05-24',
      initialCategory: 'NEG',
      numberOfPreviousPlans: 0,
    });
    // The plan ended: the latest category is on its end, not on a review.
    expect(ofType(items, 'social-care.child-protection-plan.reviewed').map((event) => event.data)).toEqual([
      { reviewDate: '2023-08-20', planStartDate: '2023-05-24' },
      { reviewDate: '2024-01-10', planStartDate: '2023-05-24' },
    ]);
    expect(ofType(items, 'social-care.child-protection-plan.ended')[0].data).toEqual({
      startDate: '2023-05-24',
      endDate: '2024-02-20',
      initialCategory: 'NEG',
      latestCategory: 'EMO',
    });
    expect(ofType(items, 'social-care.pre-proceedings.ended')[0].data).toEqual({
      startDate: '2023-11-01',
      decisionDate: '2024-01-15',
    });
    expect(ofType(items, 'social-care.case.closed')[0].data).toEqual({
      referralDate: '2023-05-02',
      closureDate: '2024-03-01',
      reason: 'RC2',
    });
    expect(ofType(items, 'social-care.death.recorded')[0].data).toEqual({ dateOfDeath: '2024-03-01' });
  });

  it('upper-cases a lower-case UPN and quarantines one failing its check letter, keeping the child', async () => {
    const items = await read(census(2024, EVERY_MODULE));
    const [event] = events(items);
    expect(event.subject.upn).toBe(VALID_UPN);
    expect(event.subject.formerUpn).toBeUndefined();
    expect(event.subject.quarantinedIdentifiers).toEqual([
      expect.objectContaining({ field: 'formerUpn', value: 'A12345678901Z', rule: 'upn-check-letter' }),
    ]);
  });

  it('refuses a bad element with its path, rule and reason, and imports the rest of the child', async () => {
    const child = EVERY_MODULE.replace(
      '<AssessmentActualStartDate>2023-05-03</AssessmentActualStartDate>',
      '<AssessmentActualStartDate>03/05/2023</AssessmentActualStartDate>',
    ).replace('<CPPendDate>2024-02-20</CPPendDate>', '<CPPendDate>2023-04-20</CPPendDate>');
    const items = await read(census(2024, child));
    expect(refused(items)).toHaveLength(2);
    expect(refused(items)).toEqual(
      expect.arrayContaining([
        {
          kind: 'refused',
          location: 'Message/Children/Child[1]/CINdetails[1]/Assessments[1]/AssessmentActualStartDate[1]',
          rule: 'format:date',
          reason: 'AssessmentActualStartDate "03/05/2023" is not a date (YYYY-MM-DD)',
        },
        {
          kind: 'refused',
          location: 'Message/Children/Child[1]/CINdetails[1]/ChildProtectionPlans[1]/CPPendDate',
          rule: 'not-before-startDate',
          reason: expect.stringContaining('data.endDate: endDate cannot precede startDate'),
        },
      ]),
    );
    expect(ofType(items, 'social-care.assessment.completed')).toEqual([]);
    expect(ofType(items, 'social-care.referral.received')).toHaveLength(1);
    expect(ofType(items, 'social-care.child-protection-plan.started')).toHaveLength(1);
  });

  it('refuses a child without LAchildID and goes on with the next', async () => {
    const nameless = '<Child><ChildIdentifiers><GenderCurrent>1</GenderCurrent></ChildIdentifiers></Child>';
    const items = await read(census(2024, nameless + EVERY_MODULE));
    expect(items[0]).toEqual({
      kind: 'refused',
      location: 'Message/Children/Child[1]/ChildIdentifiers[1]',
      rule: 'required',
      reason: expect.stringContaining('LAchildID is required'),
    });
    expect(items.filter((item) => item.kind === 'child')).toEqual([{ kind: 'child', childId: 'A1' }]);
    expect(events(items)[0].provenance?.location).toMatch(/^Message\/Children\/Child\[2\]/);
  });

  it('gives the same ids to the same records in next year’s return, whatever the file', async () => {
    const first = events(await read(census(2024, EVERY_MODULE)));
    const nextYear = EVERY_MODULE.replace('<PersonDeathDate>2024-03-01</PersonDeathDate>', '').replace(
      '<CINclosureDate>2024-03-01</CINclosureDate>\n    <ReasonForClosure>RC2</ReasonForClosure>',
      '<CINclosureDate>2024-05-01</CINclosureDate>\n    <ReasonForClosure>RC7</ReasonForClosure>',
    );
    const second = events(await read(census(2025, nextYear)));
    expect(second[0].provenance?.collectionYear).toBe('2024-25');
    expect(second[0].provenance?.fileSha256).not.toBe(first[0].provenance?.fileSha256);
    const idsOf = (list: AgencyEvent[], type: string) =>
      list.filter((event) => event.type === type).map((event) => event.eventId);
    for (const type of [
      'social-care.referral.received',
      'social-care.assessment.completed',
      'social-care.section-47-enquiry.started',
      'social-care.child-protection-plan.reviewed',
      'social-care.child-characteristics.recorded',
    ]) {
      expect(idsOf(second, type)).toEqual(idsOf(first, type));
    }
    // The closure is the episode's: a corrected closure keeps its id (the first recorded stands).
    expect(idsOf(second, 'social-care.case.closed')).toEqual(idsOf(first, 'social-care.case.closed'));
    expect(new Set(first.map((event) => event.eventId)).size).toBe(first.length);
  });

  it('takes the sex element of the year: GenderCurrent to 2023-24, Sex from 2024-25; another year’s code is left out', async () => {
    const sex = (items: ImportItem[]) => events(items)[0].subject.sex;
    expect(
      sex(await read(census(2025, EVERY_MODULE.replace('<GenderCurrent>2</GenderCurrent>', '<Sex>F</Sex>')))),
    ).toBe('F');
    const items = await read(census(2025, EVERY_MODULE));
    expect(sex(items)).toBeUndefined();
    expect(refused(items)).toEqual([
      expect.objectContaining({
        location: 'Message/Children/Child[1]/ChildIdentifiers[1]/GenderCurrent[1]',
        rule: 'code-valid-in-year',
      }),
    ]);
    expect(events(items).length).toBeGreaterThan(10);
  });

  it('reads the 2025-26 pre-proceedings outcome, and refuses it in a return of an earlier year', async () => {
    const withOutcome = (year: number) =>
      census(
        year,
        EVERY_MODULE.replace('<GenderCurrent>2</GenderCurrent>', '<Sex>F</Sex>').replace(
          '<StepDecisionDate>2024-01-15</StepDecisionDate>',
          '<StepDecisionDate>2024-01-15</StepDecisionDate><PPOutcome>B</PPOutcome>',
        ),
      );
    const current = await read(withOutcome(2026));
    expect(ofType(current, 'social-care.pre-proceedings.ended')[0].data).toMatchObject({ outcome: 'B' });
    const earlier = await read(withOutcome(2025));
    expect(refused(earlier)).toEqual([
      expect.objectContaining({
        location: 'Message/Children/Child[1]/CINdetails[1]/PreProceedings[1]/StepDecisionDate',
        rule: 'code-valid-in-year',
      }),
    ]);
  });

  it('dates the records of a child referred before birth without the date of birth', async () => {
    const unbornThenBorn = EVERY_MODULE.replace(
      '<PersonBirthDate>2015-06-01</PersonBirthDate>',
      '<PersonBirthDate>2023-07-01</PersonBirthDate><ExpectedPersonBirthDate>2023-07-10</ExpectedPersonBirthDate>',
    );
    const items = await read(census(2024, unbornThenBorn));
    const [referral] = ofType(items, 'social-care.referral.received');
    expect(referral.subject.dateOfBirth).toBeUndefined();
    expect(referral.subject.expectedDateOfBirth).toBe('2023-07-10');
    expect(ofType(items, 'social-care.death.recorded')[0].subject.dateOfBirth).toBe('2023-07-01');
  });

  it('quarantines an LA child id with characters the census refuses, and keeps the child on the same record', async () => {
    const items = await read(
      census(2024, EVERY_MODULE.replace('<LAchildID>A1</LAchildID>', '<LAchildID>A-1/2</LAchildID>')),
    );
    expect(items.filter((item) => item.kind === 'child')).toEqual([{ kind: 'child', childId: 'A-1/2' }]);
    expect(refused(items)).toEqual([
      expect.objectContaining({
        location: 'Message/Children/Child[1]/ChildIdentifiers[1]',
        rule: 'la-child-id-characters',
        reason: expect.stringContaining('subject.laChildId quarantined'),
      }),
    ]);
    expect(events(items).length).toBeGreaterThan(15);
    for (const event of events(items)) {
      expect(event.subject.laChildId).toBeUndefined();
      expect(event.subject.recordId).toBe(returnRecordId('926', 'A-1/2'));
      expect(event.subject.quarantinedIdentifiers).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ field: 'laChildId', value: 'A-1/2', rule: 'la-child-id-characters' }),
        ]),
      );
    }
  });

  it('reads a file with a byte order mark, namespaced elements and dates with a time zone', async () => {
    const text = census(2024, EVERY_MODULE)
      .replace('<Message>', '<cin:Message xmlns:cin="urn:example">')
      .replace('</Message>', '</cin:Message>')
      .replace(
        '<CINreferralDate>2023-05-02</CINreferralDate>',
        '<CINreferralDate>2023-05-02Z</CINreferralDate>',
      )
      .replace(
        '<ReferenceDate>2024-03-31</ReferenceDate>',
        '<ReferenceDate>2024-03-31+01:00</ReferenceDate>',
      );
    const items = await read(`\uFEFF${text}`);
    expect(refused(items)).toEqual([]);
    expect(ofType(items, 'social-care.referral.received')[0].data.referralDate).toBe('2023-05-02');
    expect(events(items)[0].provenance?.collectionYear).toBe('2023-24');
  });

  it('fails a file that is not a CIN census, naming why', async () => {
    await expect(read('<Bundle><entry/></Bundle>')).rejects.toThrow(/root element is <Bundle>/);
    await expect(read('not xml at all <')).rejects.toThrow(/not well-formed|root element/);
  });

  it('summarises the fields a return does not hold as "not in the return"', async () => {
    const items = await read(census(2024, EVERY_MODULE));
    const summaries = events(items).map((event) => summarise(event as never));
    expect(summaries).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          'Child protection plan ended (2023-05-24 to 2024-02-20; latest category: Emotional abuse) — reason: not in the return',
        ),
        'Section 47 enquiry completed; no conference required — outcome: not in the return',
        'Initial child protection conference held — decision: not in the return',
      ]),
    );
  });

  describe('a synthetic return of 300 children', () => {
    let text: string;
    let items: ImportItem[];
    beforeAll(async () => {
      text = [...cinCensusChunks({ children: 300, collectionYear: '2023-24', seed: 'unit' })].join('');
      items = await read(text);
    });

    it('is valid against the CIN census XSD', async () => {
      const schema = await readFile(resolve(SPECS, 'CIN_schema_2024.xsd'), 'utf8');
      const result = await validateXML({
        xml: [{ fileName: 'census.xml', contents: text }],
        schema: [{ fileName: 'CIN_schema_2024.xsd', contents: schema }],
      });
      expect(result.errors).toEqual([]);
    });

    it('imports every child; refuses only the planted dates out of order; quarantines most UPNs', async () => {
      expect(items.filter((item) => item.kind === 'child')).toHaveLength(300);
      const planted = Array.from({ length: 300 }, (_, index) => index).filter(PLANTED.datesOutOfOrder);
      expect(refused(items)).toEqual(
        planted.map((index) =>
          expect.objectContaining({
            location: `Message/Children/Child[${index + 1}]/CINdetails[1]/CINPlanDates[1]`,
            rule: 'not-before-startDate',
          }),
        ),
      );
      const subjects = new Map(events(items).map((event) => [event.subject.recordId, event.subject]));
      const quarantined = [...subjects.values()].filter((s) =>
        s.quarantinedIdentifiers?.some((q) => q.rule === 'upn-check-letter'),
      );
      const valid = [...subjects.values()].filter((s) => s.upn);
      expect(quarantined.length).toBeGreaterThan(valid.length * 4);
      expect(ofType(items, 'social-care.upn-unknown.recorded').length).toBeGreaterThan(0);
      // The unborn children: no date of birth, an expected one.
      const unborn = Array.from({ length: 300 }, (_, index) => index).filter(PLANTED.unborn);
      for (const index of unborn) {
        const subject = subjects.get(`la926-CIN${String(index).padStart(7, '0')}`);
        expect(subject?.dateOfBirth).toBeUndefined();
        expect(subject?.expectedDateOfBirth).toBeDefined();
      }
    });
  });
});

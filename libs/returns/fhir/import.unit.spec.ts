import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { parseAgencyEvent, type AgencyEvent } from '@throughline/contracts';
import {
  AWKWARD,
  fhirBundle,
  fhirBundleChunks,
  fhirResourceJson,
  fhirResourceXml,
  fhirResourcesOf,
  generateCohort,
  type FhirResource,
} from '@throughline/synthetic';
import type { ImportContext, ImportFile, ImportItem } from '../importer';
import { fhirImporter } from './import';
import { vaccineMapOutsideList } from './map';
import { readFhirResources } from './read';
import vaccineMap from './vaccine-map.json';

const CONTEXT = { system: 'fhir-import' };

function fileOf(name: string, content: string): ImportFile {
  return {
    name,
    sha256: createHash('sha256').update(content).digest('hex'),
    open: () => Readable.from([Buffer.from(content)]),
  };
}

async function importAll(
  files: readonly ImportFile[],
  context: ImportContext = CONTEXT,
): Promise<ImportItem[]> {
  const items: ImportItem[] = [];
  for await (const item of fhirImporter.read(files, context)) items.push(item);
  return items;
}

type EventItem = Extract<ImportItem, { kind: 'event' }>;
const eventsOf = (items: readonly ImportItem[]) =>
  items.filter((item): item is EventItem => item.kind === 'event').map((item) => item.event as AgencyEvent);
const refusedOf = (items: readonly ImportItem[]) =>
  items.filter((item): item is Extract<ImportItem, { kind: 'refused' }> => item.kind === 'refused');

const cohort = generateCohort({
  seed: 14,
  children: 40,
  startYear: 2006,
  endYear: 2024,
  now: '2025-01-15T00:00:00Z',
});
const resources = fhirResourcesOf(cohort.events, { awkward: true });
const patients = resources.filter((resource) => resource.resourceType === 'Patient');

const patient = (id: string, extra: Record<string, unknown> = {}): FhirResource => ({
  resourceType: 'Patient',
  id,
  identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' }],
  name: [{ use: 'official', family: 'Testperson', given: ['Ada'] }],
  gender: 'female',
  birthDate: '2019-03-04',
  ...extra,
});

describe('FHIR import of a synthetic cohort (Bundle, JSON and XML)', () => {
  const json = fileOf('cohort.json', fhirBundle(resources, 'json'));
  const xml = fileOf('cohort.xml', fhirBundle(resources, 'xml'));
  let fromJson: ImportItem[];
  let fromXml: ImportItem[];

  beforeAll(async () => {
    fromJson = await importAll([json]);
    fromXml = await importAll([xml]);
  });

  it('meets each Patient once and makes events every contract accepts', () => {
    expect(fromJson.filter((item) => item.kind === 'child')).toHaveLength(patients.length);
    const events = eventsOf(fromJson);
    expect(events.length).toBeGreaterThan(100);
    for (const event of events) {
      const parsed = parseAgencyEvent(event);
      expect(parsed.ok ? 'accepted' : JSON.stringify(parsed.issues)).toBe('accepted');
    }
    const types = new Set(events.map((event) => event.type));
    expect([...types].sort()).toEqual(
      [
        'health.emergency-care.attended',
        'health.flag.recorded',
        'health.hospital.admitted',
        'health.hospital.discharged',
        'health.immunisation.given',
        'health.observation.recorded',
      ].filter((type) => cohort.events.some((event) => event.type === type)),
    );
  });

  it('reads the XML Bundle to the same items as the JSON one, apart from the file hash', () => {
    const withoutHash = (items: ImportItem[]) =>
      JSON.parse(JSON.stringify(items).replaceAll(json.sha256, 'HASH').replaceAll(xml.sha256, 'HASH'));
    expect(withoutHash(fromXml)).toEqual(withoutHash(fromJson));
  });

  it('carries what the cohort recorded: each mapped immunisation with its vaccine, dose, date and batch', () => {
    const given = cohort.events.filter(
      (event): event is Extract<AgencyEvent, { type: 'health.immunisation.given' }> =>
        event.type === 'health.immunisation.given',
    );
    const imported = eventsOf(fromJson).filter((event) => event.type === 'health.immunisation.given');
    const mappedVaccines = new Set(['flu-LAIV', 'HPV', 'MenACWY', 'MMR', 'MMRV', '3-in-1-teenage']);
    const expected = given
      .filter((event) => mappedVaccines.has(event.data.vaccine))
      .map((event) => ({ recordId: event.subject.recordId, data: event.data }));
    expect(expected.length).toBeGreaterThan(10);
    expect(imported.map((event) => ({ recordId: event.subject.recordId, data: event.data }))).toEqual(
      expected,
    );
    // The infant vaccines have no national code in the map yet: refused, never guessed.
    const unmapped = given.filter((event) => !mappedVaccines.has(event.data.vaccine)).length;
    expect(refusedOf(fromJson).filter((item) => item.rule === 'vaccine-code-not-mapped')).toHaveLength(
      unmapped + 1,
    );
  });

  it('keeps the admission and discharge codes of each hospital spell', () => {
    // A FHIR Encounter has no place for a safeguarding concern, nor a note of the discharge.
    const held = (data: object) => {
      const { safeguardingConcern: _concern, ...rest } = data as Record<string, unknown>;
      return rest;
    };
    const ofType = (events: readonly AgencyEvent[], type: AgencyEvent['type']) =>
      events.filter((event) => event.type === type).map((event) => held(event.data));
    const discharged = ofType(cohort.events, 'health.hospital.discharged').map(
      ({ notes: _notes, ...data }) => data,
    );
    expect(discharged.length).toBeGreaterThan(2);
    expect(ofType(eventsOf(fromJson), 'health.hospital.discharged')).toEqual(discharged);
    expect(ofType(eventsOf(fromJson), 'health.hospital.admitted')).toEqual(
      ofType(cohort.events, 'health.hospital.admitted'),
    );
  });

  it('leaves out what an Encounter does not hold, and the contract lets it because of the provenance', () => {
    const attendance = eventsOf(fromJson).find((event) => event.type === 'health.emergency-care.attended');
    expect(attendance).toBeDefined();
    expect(attendance!.data).not.toHaveProperty('injury');
    expect(attendance!.data).not.toHaveProperty('safeguardingConcern');
    const { provenance: _provenance, ...recorded } = attendance!;
    const parsed = parseAgencyEvent(recorded);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.issues.map((issue) => issue.rule)).toContain('required-unless-imported');
  });

  it('quarantines an NHS number whose verification status is not 01, and one failing modulus 11', () => {
    const events = eventsOf(fromJson);
    const [first, second] = patients;
    const ofFirst = events.filter((event) => event.subject.recordId === first.id);
    const ofSecond = events.filter((event) => event.subject.recordId === second.id);
    expect(ofFirst.length).toBeGreaterThan(0);
    expect(ofSecond.length).toBeGreaterThan(0);
    for (const event of ofFirst) {
      expect(event.subject.nhsNumber).toBeUndefined();
      expect(event.subject.quarantinedIdentifiers).toEqual([
        expect.objectContaining({ field: 'nhsNumber', rule: 'nhs-number-not-verified' }),
      ]);
    }
    for (const event of ofSecond) {
      expect(event.subject.nhsNumber).toBeUndefined();
      expect(event.subject.quarantinedIdentifiers).toEqual([
        expect.objectContaining({ field: 'nhsNumber', rule: 'nhs-number-check-digit' }),
      ]);
    }
    // The rest of the record is kept: name and date of birth still identify the child.
    expect(ofFirst[0].subject.name).toBeDefined();
    expect(ofFirst[0].subject.dateOfBirth).toBe(first.birthDate);
  });

  it('refuses an unknown vaccine code and a missing Patient with the entry, the rule and the code', () => {
    const refused = refusedOf(fromJson);
    const unknown = refused.find((item) =>
      item.location.includes(`Immunization/${AWKWARD.unknownVaccineId}`),
    );
    expect(unknown).toEqual({
      kind: 'refused',
      location: expect.stringMatching(/^Bundle\.entry\[\d+\] \(Immunization\/awkward-unknown-vaccine\)$/),
      rule: 'vaccine-code-not-mapped',
      reason: expect.stringContaining(`https://dmd.nhs.uk ${AWKWARD.unknownVaccineCode}`),
    });
    const missing = refused.find((item) =>
      item.location.includes(`Immunization/${AWKWARD.missingPatientId}`),
    );
    expect(missing).toMatchObject({
      rule: 'patient-not-found',
      reason: expect.stringContaining(AWKWARD.missingPatientReference),
    });
  });

  it('gives each event its provenance: a health record, the file hash and the entry', () => {
    const item = fromJson.find((candidate): candidate is EventItem => candidate.kind === 'event')!;
    const event = item.event as AgencyEvent;
    expect(event.provenance).toEqual({
      kind: 'health-record',
      format: 'fhir-r4',
      fileSha256: json.sha256,
      location: item.location,
    });
    expect(item.location).toMatch(
      /^Bundle\.entry\[\d+\] \((Immunization|Encounter|Observation|Flag)\/[0-9a-f-]{36}\)$/,
    );
  });

  it('gives the same event ids when the same records are imported again, in another form and file', async () => {
    const again = await importAll([fileOf('again.xml', fhirBundle(resources.slice().reverse(), 'xml'))]);
    const ids = (items: ImportItem[]) => new Set(eventsOf(items).map((event) => event.eventId));
    expect(ids(again)).toEqual(ids(fromJson));
    expect(ids(fromJson).size).toBe(eventsOf(fromJson).length);
  });
});

describe('FHIR import of single resources and the shapes real files have', () => {
  const immunization = (extra: Record<string, unknown> = {}): FhirResource => ({
    resourceType: 'Immunization',
    id: 'imm-1',
    extension: [
      {
        url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-VaccinationProcedure',
        valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '38598009' }] },
      },
    ],
    status: 'completed',
    vaccineCode: { coding: [{ system: 'http://snomed.info/sct', code: '34925111000001104' }] },
    patient: { reference: 'Patient/p-1' },
    occurrenceDateTime: '2020-03-10T10:15:00+00:00',
    lotNumber: 'AB123',
    protocolApplied: [{ doseNumberPositiveInt: 1 }],
    ...extra,
  });

  it('resolves a resource in one file against the Patient in another (JSON and XML files)', async () => {
    const items = await importAll([
      fileOf('immunization.xml', fhirResourceXml(immunization())),
      fileOf('patient.json', fhirResourceJson(patient('p-1'))),
    ]);
    expect(items.filter((item) => item.kind === 'child')).toEqual([{ kind: 'child', childId: 'p-1' }]);
    const [event] = eventsOf(items);
    expect(event).toMatchObject({
      type: 'health.immunisation.given',
      occurredAt: '2020-03-10T10:15:00+00:00',
      subject: {
        recordId: 'p-1',
        nhsNumber: '9434765919',
        name: { given: 'Ada', family: 'Testperson' },
        dateOfBirth: '2019-03-04',
      },
      data: { vaccine: 'MMR', dose: 1, givenDate: '2020-03-10', batchNumber: 'AB123' },
    });
    expect(eventsOf(items)[0].subject.sex).toBe('2');
    expect(items.find((item) => item.kind === 'event')).toMatchObject({
      location: 'immunization.xml: Immunization/imm-1',
    });
  });

  it("names the resource's organisation, else the patient's managing one, else the importer's", async () => {
    const managed = patient('p-1', {
      managingOrganization: {
        identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'Y12345' },
      },
    });
    const performed = immunization({
      id: 'imm-performed',
      performer: [
        { actor: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RX9' } } },
      ],
    });
    const context = { ...CONTEXT, organisation: 'DEMO-CHS' } as ImportContext;
    const organisations = async (resources: FhirResource[]) =>
      eventsOf(await importAll([fileOf('b.json', fhirBundle(resources, 'json'))], context)).map(
        (event) => event.source.organisation,
      );
    expect(await organisations([managed, performed, immunization()])).toEqual(['RX9', 'Y12345']);
    expect(await organisations([patient('p-1'), immunization()])).toEqual(['DEMO-CHS']);
  });

  it("gives the patient's sex in the code of the event's year: 1/2 to March 2024, M/F from April 2024", async () => {
    const before = immunization({ id: 'imm-2024-03', occurrenceDateTime: '2024-03-31T10:00:00+00:00' });
    const after = immunization({ id: 'imm-2024-04', occurrenceDateTime: '2024-04-01T10:00:00+00:00' });
    const events = eventsOf(
      await importAll([fileOf('b.json', fhirBundle([patient('p-1'), before, after], 'json'))]),
    );
    expect(events.map((event) => event.subject.sex)).toEqual(['2', 'F']);
    expect(events.every((event) => parseAgencyEvent(event).ok)).toBe(true);
  });

  it('uses a contained Patient, and a logical reference by NHS number', async () => {
    const contained = immunization({
      id: 'imm-contained',
      contained: [
        patient('pat1', {
          identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765870' }],
        }),
      ],
      patient: { reference: '#pat1' },
    });
    const logical = immunization({
      id: 'imm-logical',
      patient: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '943 476 5919' } },
    });
    const items = await importAll([
      fileOf('bundle.json', fhirBundle([patient('p-1'), contained, logical], 'json')),
    ]);
    const events = eventsOf(items);
    expect(events.map((event) => event.subject.nhsNumber)).toEqual(['9434765870', '9434765919']);
    expect(events[0].subject.recordId).toMatch(/^fhir-[0-9a-f]{32}$/);
    expect(events[1].subject.recordId).toBe('p-1');
    expect(items.filter((item) => item.kind === 'child')).toHaveLength(2);
  });

  it('a dose the record does not give stays out (not in the return), unless the procedure code says it', async () => {
    const withoutDose = immunization({ protocolApplied: undefined });
    const fluSecond = immunization({
      id: 'imm-flu',
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-VaccinationProcedure',
          valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '884881000000109' }] },
        },
      ],
      vaccineCode: { coding: [{ system: 'https://dmd.nhs.uk', code: '43208811000001106' }] },
      protocolApplied: undefined,
    });
    const events = eventsOf(
      await importAll([fileOf('b.json', fhirBundle([patient('p-1'), withoutDose, fluSecond], 'json'))]),
    );
    expect(events[0].data).not.toHaveProperty('dose');
    expect(events[1].data).toMatchObject({ vaccine: 'flu-LAIV', dose: 2 });
    expect(events.every((event) => parseAgencyEvent(event).ok)).toBe(true);
  });

  it('refuses codes that name two vaccines, a vaccination not given, and a record entered in error', async () => {
    const disagree = immunization({
      id: 'imm-disagree',
      vaccineCode: { coding: [{ system: 'https://dmd.nhs.uk', code: '33493111000001108' }] },
    });
    const notDone = immunization({ id: 'imm-not-done', status: 'not-done' });
    const inError = immunization({ id: 'imm-error', status: 'entered-in-error' });
    const items = await importAll([
      fileOf('b.json', fhirBundle([patient('p-1'), disagree, notDone, inError], 'json')),
    ]);
    expect(refusedOf(items).map((item) => [item.location, item.rule])).toEqual([
      ['Bundle.entry[1] (Immunization/imm-disagree)', 'vaccine-codes-disagree'],
      ['Bundle.entry[2] (Immunization/imm-not-done)', 'immunization-not-done'],
      ['Bundle.entry[3] (Immunization/imm-error)', 'entered-in-error'],
    ]);
  });

  const encounter = (extra: Record<string, unknown>): FhirResource => ({
    resourceType: 'Encounter',
    id: 'enc-1',
    identifier: [{ system: 'https://example.nhs.uk/Id/spell', value: 'SPELL-1' }],
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    serviceType: {
      coding: [{ system: 'https://example.nhs.uk/specialty', code: '420', display: 'Paediatrics' }],
    },
    subject: { reference: 'urn:uuid:2b9f6c2e-6a3e-4a0e-9f7e-9f6a1c1b2d3e' },
    period: { start: '2021-05-01T09:30:00+01:00', end: '2021-05-03T14:00:00+01:00' },
    serviceProvider: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RX1' } },
    hospitalization: {
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod',
          valueCodeableConcept: {
            coding: [
              { system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland', code: '21' },
            ],
          },
        },
        {
          url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DischargeMethod',
          valueCodeableConcept: {
            coding: [
              { system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeMethodEngland', code: '1' },
            ],
          },
        },
      ],
      dischargeDisposition: {
        coding: [
          { system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeDestinationEngland', code: '19' },
        ],
      },
    },
    ...extra,
  });
  const transactionPatient = (entries: { fullUrl?: string; resource: FhirResource }[]) =>
    JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries });

  it('maps an inpatient Encounter (UK Core extensions) onto an admission and a discharge', async () => {
    const content = transactionPatient([
      {
        fullUrl: 'urn:uuid:2b9f6c2e-6a3e-4a0e-9f7e-9f6a1c1b2d3e',
        resource: { ...patient('ignored'), id: undefined } as unknown as FhirResource,
      },
      { fullUrl: 'urn:uuid:0f0f0f0f-0000-4000-8000-000000000001', resource: encounter({}) },
    ]);
    const items = await importAll([fileOf('t.json', content)]);
    const events = eventsOf(items);
    expect(events.map((event) => [event.type, event.source.organisation, event.subject.recordId])).toEqual([
      ['health.hospital.admitted', 'RX1', '2b9f6c2e-6a3e-4a0e-9f7e-9f6a1c1b2d3e'],
      ['health.hospital.discharged', 'RX1', '2b9f6c2e-6a3e-4a0e-9f7e-9f6a1c1b2d3e'],
    ]);
    expect(events[0].data).toEqual({
      admittedAt: '2021-05-01T09:30:00+01:00',
      spellId: 'SPELL-1',
      admissionMethod: '21',
      specialty: 'Paediatrics',
    });
    expect(events[1].data).toEqual({
      admittedAt: '2021-05-01T09:30:00+01:00',
      dischargedAt: '2021-05-03T14:00:00+01:00',
      spellId: 'SPELL-1',
      dischargeMethod: '1',
      dischargeDestination: '19',
    });
    expect(events.every((event) => parseAgencyEvent(event).ok)).toBe(true);
  });

  it('refuses an Encounter that is no stay or attendance, one without an admission time, and a code off the list', async () => {
    const content = transactionPatient([
      { fullUrl: 'urn:uuid:2b9f6c2e-6a3e-4a0e-9f7e-9f6a1c1b2d3e', resource: patient('p-9') },
      { resource: encounter({ id: 'amb', class: { code: 'AMB' } }) },
      { resource: encounter({ id: 'day-only', period: { start: '2021-05-01' } }) },
      {
        resource: encounter({
          id: 'retired',
          hospitalization: {
            extension: [
              {
                url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod',
                valueCodeableConcept: {
                  coding: [
                    {
                      system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland',
                      code: '99',
                    },
                  ],
                },
              },
            ],
          },
        }),
      },
    ]);
    const refused = refusedOf(await importAll([fileOf('t.json', content)]));
    expect(refused.map((item) => [item.location, item.rule])).toEqual([
      ['Bundle.entry[1] (Encounter/amb)', 'encounter-class-not-mapped'],
      ['Bundle.entry[2] (Encounter/day-only)', 'admission-time-missing'],
      ['Bundle.entry[3] (Encounter/retired)', 'admission-method-not-in-list'],
    ]);
    expect(refused[2].reason).toContain('99');
  });

  it('keeps an Observation as values: quantity, components, code; a long text goes to the narrative', async () => {
    const observations: FhirResource[] = [
      {
        resourceType: 'Observation',
        id: 'bp',
        status: 'final',
        code: { coding: [{ system: 'http://snomed.info/sct', code: '75367002', display: 'Blood pressure' }] },
        subject: { reference: 'Patient/p-1' },
        effectiveDateTime: '2022-02-02T11:00:00Z',
        component: [
          {
            code: { coding: [{ system: 'http://snomed.info/sct', code: '271649006', display: 'Systolic' }] },
            valueQuantity: { value: 98, unit: 'mmHg' },
          },
          {
            code: { coding: [{ system: 'http://snomed.info/sct', code: '271650006', display: 'Diastolic' }] },
            valueQuantity: { value: 60, unit: 'mmHg' },
          },
        ],
      },
      {
        resourceType: 'Observation',
        id: 'long',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8302-2' }], text: 'Body height' },
        subject: { reference: 'Patient/p-1' },
        effectiveDateTime: '2022-02-02',
        valueString: 'x'.repeat(300),
      },
      {
        resourceType: 'Observation',
        id: 'ratio',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '1234-5' }] },
        subject: { reference: 'Patient/p-1' },
        effectiveDateTime: '2022-02-02',
        valueRatio: { numerator: { value: 1 }, denominator: { value: 2 } },
      },
    ];
    const items = await importAll([fileOf('o.xml', fhirBundle([patient('p-1'), ...observations], 'xml'))]);
    const [bp, long] = eventsOf(items);
    expect(bp.data).toEqual({
      code: { system: 'http://snomed.info/sct', code: '75367002', display: 'Blood pressure' },
      status: 'final',
      effectiveDate: '2022-02-02',
      effectiveAt: '2022-02-02T11:00:00Z',
      components: [
        {
          code: { system: 'http://snomed.info/sct', code: '271649006', display: 'Systolic' },
          value: { kind: 'quantity', value: 98, unit: 'mmHg' },
        },
        {
          code: { system: 'http://snomed.info/sct', code: '271650006', display: 'Diastolic' },
          value: { kind: 'quantity', value: 60, unit: 'mmHg' },
        },
      ],
      recordId: 'bp',
    });
    expect(long.data).toMatchObject({ text: 'Body height', narrative: 'x'.repeat(300) });
    expect(long.data).not.toHaveProperty('value');
    expect(refusedOf(items)).toEqual([
      expect.objectContaining({
        location: 'Bundle.entry[3] (Observation/ratio)',
        rule: 'observation-value-not-supported',
      }),
    ]);
    expect([bp, long].every((event) => parseAgencyEvent(event).ok)).toBe(true);
  });

  it('refuses a whole file that is not FHIR, naming the file, and reads the others', async () => {
    const items = await importAll([
      fileOf('broken.json', '{"resourceType":"Bundle","type":"collection","entry":[{"resource":'),
      fileOf('notes.txt', 'hello'),
      fileOf('good.json', fhirBundle([patient('p-1'), immunization()], 'json')),
    ]);
    expect(refusedOf(items)).toEqual([
      { kind: 'refused', location: 'broken.json', rule: 'fhir-json-malformed', reason: expect.any(String) },
      { kind: 'refused', location: 'notes.txt', rule: 'fhir-format', reason: expect.any(String) },
    ]);
    expect(eventsOf(items)).toHaveLength(1);
  });

  it('fails the import when no file can be read at all', async () => {
    await expect(importAll([fileOf('notes.txt', 'hello'), fileOf('empty.xml', '')])).rejects.toThrow(
      'no file could be read as FHIR R4 JSON or XML (notes.txt, empty.xml)',
    );
  });

  it('reads a Bundle whose entries come before its resourceType', async () => {
    const content = JSON.stringify({
      entry: [{ resource: patient('p-1') }, { resource: immunization() }],
      resourceType: 'Bundle',
      type: 'collection',
    });
    const events = eventsOf(await importAll([fileOf('late.json', content)]));
    expect(events.map((event) => event.type)).toEqual(['health.immunisation.given']);
  });
});

describe('readFhirResources', () => {
  it.each(['json', 'xml'] as const)(
    'yields a %s Bundle entry before the file has ended (streamed, not read whole)',
    async (format) => {
      const chunks = [...fhirBundleChunks([patient('p-1'), patient('p-2')], format)];
      const stream = new PassThrough();
      stream.write(chunks[0]);
      stream.write(chunks[1]);
      const reads = readFhirResources(stream)[Symbol.asyncIterator]();
      stream.write(chunks[2]); // the next entry begins: the first is complete
      const first = await reads.next();
      expect(first.value).toMatchObject({ location: 'Bundle.entry[0]' });
      for (const chunk of chunks.slice(3)) stream.write(chunk);
      stream.end();
      const second = await reads.next();
      expect(second.value).toMatchObject({ location: 'Bundle.entry[1]' });
      expect((await reads.next()).done).toBe(true);
    },
  );

  it('skips the narrative XHTML of an XML resource', async () => {
    const xml =
      '<Patient xmlns="http://hl7.org/fhir"><id value="p-1"/><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Ada <b>T</b></p></div></text><gender value="female"/></Patient>';
    const reads = [];
    for await (const read of readFhirResources(Readable.from([xml]))) reads.push(read);
    expect(reads).toEqual([
      {
        location: 'Patient',
        resource: {
          resourceType: 'Patient',
          id: ['p-1'],
          text: [{ status: ['generated'] }],
          gender: ['female'],
        },
      },
    ]);
  });
});

describe('the vaccine map', () => {
  it('maps onto codes of the contract vaccine list only, each code once, each from a named source', () => {
    expect(vaccineMapOutsideList()).toEqual([]);
    const codes = vaccineMap.codes.map((entry) => entry.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const entry of vaccineMap.codes) expect(Object.keys(vaccineMap.sources)).toContain(entry.source);
  });
});

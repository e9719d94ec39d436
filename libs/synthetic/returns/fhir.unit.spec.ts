import sax from 'sax';
import { isValidNhsNumber } from '@throughline/contracts';
import { generateCohort } from '../cohort';
import { AWKWARD, fhirBundle, fhirResourceXml, fhirResourcesOf, type FhirResource } from './fhir';

const cohort = generateCohort({
  seed: 5,
  children: 30,
  startYear: 2008,
  endYear: 2024,
  now: '2025-01-15T00:00:00Z',
});
const health = cohort.events.filter((event) => event.source.agency === 'health');
const count = (type: string) => health.filter((event) => event.type === type).length;
const ofType = (resources: readonly FhirResource[], type: string) =>
  resources.filter((resource) => resource.resourceType === type);

/** Parses XML strictly; throws on anything not well-formed. Returns the element names met. */
function wellFormed(xml: string): string[] {
  const parser = sax.parser(true);
  const names: string[] = [];
  parser.onopentag = (tag) => names.push(tag.name);
  parser.write(xml).close();
  return names;
}

describe('synthetic FHIR writer', () => {
  const resources = fhirResourcesOf(cohort.events);

  it('writes one Patient per health record and a resource per immunisation, stay, attendance, observation and flag', () => {
    expect(ofType(resources, 'Patient')).toHaveLength(
      new Set(health.map((event) => event.subject.recordId)).size,
    );
    expect(ofType(resources, 'Immunization')).toHaveLength(count('health.immunisation.given'));
    expect(ofType(resources, 'Encounter')).toHaveLength(
      count('health.hospital.admitted') + count('health.emergency-care.attended'),
    );
    expect(ofType(resources, 'Observation')).toHaveLength(count('health.observation.recorded'));
    expect(ofType(resources, 'Flag')).toHaveLength(count('health.flag.recorded'));
    expect(count('health.observation.recorded')).toBeGreaterThan(0);
    // Every resource of a record follows its Patient, and names it.
    const seen = new Set<string>();
    for (const resource of resources) {
      if (resource.resourceType === 'Patient') seen.add(`Patient/${resource.id}`);
      else {
        const reference = ((resource.patient ?? resource.subject) as { reference: string }).reference;
        expect(seen.has(reference)).toBe(true);
      }
    }
  });

  it('pairs each admission with its discharge in one Encounter', () => {
    const finished = ofType(resources, 'Encounter').filter(
      (resource) => (resource.class as { code: string }).code === 'IMP' && resource.status === 'finished',
    );
    expect(finished).toHaveLength(count('health.hospital.discharged'));
    for (const encounter of finished) {
      const period = encounter.period as { start: string; end: string };
      expect(Date.parse(period.end)).toBeGreaterThanOrEqual(Date.parse(period.start));
    }
  });

  it('plants the awkward cases: unverified and invalid NHS numbers, an unknown vaccine, a missing Patient', () => {
    const awkward = fhirResourcesOf(cohort.events, { awkward: true });
    const [first, second] = ofType(awkward, 'Patient') as (FhirResource & {
      identifier: { value: string; extension: { valueCodeableConcept: { coding: { code: string }[] } }[] }[];
    })[];
    expect(first.identifier[0].extension[0].valueCodeableConcept.coding[0].code).toBe(
      AWKWARD.unverifiedStatus,
    );
    expect(isValidNhsNumber(first.identifier[0].value)).toBe(true);
    expect(isValidNhsNumber(second.identifier[0].value)).toBe(false);
    const ids = awkward.map((resource) => resource.id);
    expect(ids).toContain(AWKWARD.unknownVaccineId);
    expect(ids).toContain(AWKWARD.missingPatientId);
    // The plain cohort is left as it was.
    expect(
      isValidNhsNumber((ofType(resources, 'Patient')[1].identifier as { value: string }[])[0].value),
    ).toBe(true);
  });

  it('writes a JSON Bundle and an XML Bundle of the same entries, the XML well-formed', () => {
    const json = JSON.parse(fhirBundle(resources, 'json')) as { entry: { resource: FhirResource }[] };
    expect(json.entry.map((entry) => entry.resource)).toEqual(resources);
    const names = wellFormed(fhirBundle(resources, 'xml'));
    expect(names[0]).toBe('Bundle');
    expect(names.filter((name) => name === 'entry')).toHaveLength(resources.length);
    expect(fhirBundle(fhirResourcesOf(cohort.events), 'xml')).toBe(fhirBundle(resources, 'xml'));
  });

  it('escapes text in XML and puts an extension url in its attribute', () => {
    const xml = fhirResourceXml({
      resourceType: 'Observation',
      id: 'o-1',
      extension: [{ url: 'https://example.org/x?a=1&b=2', valueString: '<tag> & "quotes"' }],
      status: 'final',
    });
    expect(wellFormed(xml)).toEqual(['Observation', 'id', 'extension', 'valueString', 'status']);
    expect(xml).toContain(
      '<extension url="https://example.org/x?a=1&amp;b=2"><valueString value="&lt;tag&gt; &amp; &quot;quotes&quot;"/>',
    );
  });
});

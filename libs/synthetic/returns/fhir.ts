import type { AgencyEvent, EventOfType, Subject } from '@throughline/contracts';

/**
 * Writes a synthetic cohort's health events as FHIR R4 UK Core resources, JSON or XML,
 * single resources or Bundles, so the FHIR importer is tested without outside files. The
 * resources carry only what the events say; with `awkward`, the cases real files have are
 * planted: an NHS number whose verification status is not "verified", one failing its
 * modulus 11 check, a vaccine code no list holds, and a reference to a Patient not in the file.
 */

export type FhirResource = { resourceType: string; id: string } & Record<string, unknown>;

export interface FhirWriteOptions {
  /** Plant the awkward cases (see `AWKWARD`). */
  readonly awkward?: boolean;
}

/** The ids of the planted resources and what the importer should make of them. */
export const AWKWARD = {
  /** The first patient's NHS number: verification status 02 "number present but not traced". */
  unverifiedStatus: '02',
  /** An Immunization (of the first patient) whose dm+d code is in no list. */
  unknownVaccineId: 'awkward-unknown-vaccine',
  unknownVaccineCode: '99999911000001100',
  /** An Immunization whose patient is not in the file. */
  missingPatientId: 'awkward-missing-patient',
  missingPatientReference: 'Patient/not-in-this-file',
} as const;

const SYSTEM = {
  nhsNumber: 'https://fhir.nhs.uk/Id/nhs-number',
  verification: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
  verificationCodes: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland',
  procedure: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-VaccinationProcedure',
  admissionMethod: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod',
  admissionMethodCodes: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland',
  dischargeMethod: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DischargeMethod',
  dischargeMethodCodes: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeMethodEngland',
  dischargeDestinationCodes: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeDestinationEngland',
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  dmd: 'https://dmd.nhs.uk',
  snomed: 'http://snomed.info/sct',
  spell: 'https://throughline.example/fhir/Id/synthetic-spell',
  /** Vaccines with no national code in the importer's map are written in a code system of the synthetic data. */
  syntheticVaccine: 'https://throughline.example/fhir/CodeSystem/synthetic-vaccine',
};

type Vaccine = EventOfType<'health.immunisation.given'>['data']['vaccine'];

/**
 * One dm+d product per vaccine, as NHS England's Manage vaccinations in schools service lists
 * them (libs/returns/fhir/vaccine-map.json names the source); the infant and pre-school
 * vaccines have no code there and are written with a synthetic code, which the importer refuses.
 */
const VACCINE_PRODUCT: Partial<Record<Vaccine, { code: string; display: string }>> = {
  'flu-LAIV': {
    code: '43208811000001106',
    display: 'Fluenz (trivalent) vaccine nasal suspension 0.2ml unit dose',
  },
  HPV: {
    code: '33493111000001108',
    display: 'Gardasil 9 vaccine suspension for injection 0.5ml pre-filled syringes',
  },
  MenACWY: { code: '39779611000001104', display: 'MenQuadfi vaccine solution for injection 0.5ml vials' },
  MMR: {
    code: '34925111000001104',
    display: 'Priorix vaccine powder and solvent for solution for injection 0.5ml pre-filled syringes',
  },
  MMRV: {
    code: '45480711000001107',
    display: 'ProQuad vaccine powder and solvent for suspension for injection 0.5ml pre-filled syringes',
  },
  '3-in-1-teenage': {
    code: '7374511000001107',
    display: 'Revaxis vaccine suspension for injection 0.5ml pre-filled syringes',
  },
};

const GENDER: Record<string, string> = {
  '1': 'male',
  M: 'male',
  '2': 'female',
  F: 'female',
  '0': 'unknown',
  U: 'unknown',
};

function patientOf(recordId: string, subject: Subject): FhirResource {
  const gender = subject.sex ? GENDER[subject.sex] : undefined;
  return {
    resourceType: 'Patient',
    id: recordId,
    meta: { profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient'] },
    ...(subject.nhsNumber
      ? {
          identifier: [
            {
              extension: [
                {
                  url: SYSTEM.verification,
                  valueCodeableConcept: {
                    coding: [
                      {
                        system: SYSTEM.verificationCodes,
                        code: '01',
                        display: 'Number present and verified',
                      },
                    ],
                  },
                },
              ],
              system: SYSTEM.nhsNumber,
              value: subject.nhsNumber,
            },
          ],
        }
      : {}),
    ...(subject.name
      ? { name: [{ use: 'official', family: subject.name.family, given: [subject.name.given] }] }
      : {}),
    ...(gender ? { gender } : {}),
    ...(subject.dateOfBirth ? { birthDate: subject.dateOfBirth } : {}),
    ...(subject.postcode ? { address: [{ use: 'home', postalCode: subject.postcode }] } : {}),
  };
}

const concept = (system: string, code: string, display?: string) => ({
  coding: [{ system, code, ...(display ? { display } : {}) }],
});

function immunizationOf(event: EventOfType<'health.immunisation.given'>, patient: string): FhirResource {
  const { vaccine, dose, batchNumber, narrative } = event.data;
  const product = VACCINE_PRODUCT[vaccine];
  return {
    resourceType: 'Immunization',
    id: event.eventId,
    status: 'completed',
    vaccineCode: product
      ? concept(SYSTEM.dmd, product.code, product.display)
      : concept(SYSTEM.syntheticVaccine, vaccine, vaccine),
    patient: { reference: `Patient/${patient}` },
    occurrenceDateTime: event.occurredAt,
    ...(batchNumber ? { lotNumber: batchNumber } : {}),
    ...(narrative ? { note: [{ text: narrative }] } : {}),
    ...(dose !== undefined ? { protocolApplied: [{ doseNumberPositiveInt: dose }] } : {}),
  };
}

function admissionOf(
  admitted: EventOfType<'health.hospital.admitted'>,
  discharged: EventOfType<'health.hospital.discharged'> | undefined,
  patient: string,
): FhirResource {
  const { admittedAt, spellId, admissionMethod, specialty, reason, notes } = admitted.data;
  const method = discharged?.data.dischargeMethod;
  const destination = discharged?.data.dischargeDestination;
  return {
    resourceType: 'Encounter',
    id: admitted.eventId,
    ...(spellId ? { identifier: [{ system: SYSTEM.spell, value: spellId }] } : {}),
    status: discharged ? 'finished' : 'in-progress',
    class: { system: SYSTEM.actCode, code: 'IMP', display: 'inpatient encounter' },
    ...(specialty ? { serviceType: { text: specialty } } : {}),
    subject: { reference: `Patient/${patient}` },
    period: { start: admittedAt, ...(discharged ? { end: discharged.data.dischargedAt } : {}) },
    ...(reason ? { reasonCode: [{ text: reason }] } : {}),
    hospitalization: {
      extension: [
        ...(admissionMethod
          ? [
              {
                url: SYSTEM.admissionMethod,
                valueCodeableConcept: concept(SYSTEM.admissionMethodCodes, admissionMethod),
              },
            ]
          : []),
        ...(method
          ? [
              {
                url: SYSTEM.dischargeMethod,
                valueCodeableConcept: concept(SYSTEM.dischargeMethodCodes, method),
              },
            ]
          : []),
      ],
      ...(destination
        ? { dischargeDisposition: concept(SYSTEM.dischargeDestinationCodes, destination) }
        : {}),
    },
    ...(notes ? { note: [{ text: notes }] } : {}),
  };
}

function attendanceOf(event: EventOfType<'health.emergency-care.attended'>, patient: string): FhirResource {
  const { arrivedAt, chiefComplaint } = event.data;
  return {
    resourceType: 'Encounter',
    id: event.eventId,
    status: 'finished',
    class: { system: SYSTEM.actCode, code: 'EMER', display: 'emergency' },
    subject: { reference: `Patient/${patient}` },
    period: { start: arrivedAt },
    ...(chiefComplaint ? { reasonCode: [{ text: chiefComplaint }] } : {}),
  };
}

type ObservationValue = NonNullable<EventOfType<'health.observation.recorded'>['data']['value']>;

function valueElement(value: ObservationValue): Record<string, unknown> {
  switch (value.kind) {
    case 'quantity':
      return {
        valueQuantity: {
          value: value.value,
          ...(value.unit ? { unit: value.unit } : {}),
          ...(value.unitSystem ? { system: value.unitSystem } : {}),
          ...(value.unitCode ? { code: value.unitCode } : {}),
        },
      };
    case 'coded':
      return { valueCodeableConcept: concept(value.code.system, value.code.code, value.code.display) };
    case 'boolean':
      return { valueBoolean: value.value };
    case 'text':
      return { valueString: value.value };
  }
}

function observationOf(event: EventOfType<'health.observation.recorded'>, patient: string): FhirResource {
  const {
    code,
    text,
    category,
    status,
    effectiveDate,
    effectiveAt,
    value,
    components,
    interpretation,
    narrative,
  } = event.data;
  return {
    resourceType: 'Observation',
    id: event.eventId,
    status,
    ...(category ? { category: [concept(category.system, category.code, category.display)] } : {}),
    code: { ...concept(code.system, code.code, code.display), ...(text ? { text } : {}) },
    subject: { reference: `Patient/${patient}` },
    effectiveDateTime: effectiveAt ?? effectiveDate,
    ...(value ? valueElement(value) : {}),
    ...(interpretation
      ? { interpretation: [concept(interpretation.system, interpretation.code, interpretation.display)] }
      : {}),
    ...(narrative ? { note: [{ text: narrative }] } : {}),
    ...(components
      ? {
          component: components.map((part) => ({
            code: concept(part.code.system, part.code.code, part.code.display),
            ...valueElement(part.value),
          })),
        }
      : {}),
  };
}

function flagOf(event: EventOfType<'health.flag.recorded'>, patient: string): FhirResource {
  const { code, text, category, status, periodStart, periodEnd } = event.data;
  return {
    resourceType: 'Flag',
    id: event.eventId,
    status,
    ...(category ? { category: [concept(category.system, category.code, category.display)] } : {}),
    code: { ...concept(code.system, code.code, code.display), ...(text ? { text } : {}) },
    subject: { reference: `Patient/${patient}` },
    period: { start: periodStart, ...(periodEnd ? { end: periodEnd } : {}) },
  };
}

/** The check digit of a valid NHS number, changed: the number then fails its modulus 11 check. */
function breakCheckDigit(nhsNumber: string): string {
  return `${nhsNumber.slice(0, 9)}${(Number(nhsNumber[9]) + 1) % 10}`;
}

/**
 * The cohort's health events as FHIR resources: per health record a Patient (from its latest
 * subject), then its Immunizations, Encounters (a hospital spell, admission and discharge in
 * one; an emergency attendance), Observations and Flags, in the order of the events. Other
 * health events (reviews, screening, CAMHS, …) have no resource here.
 */
export function fhirResourcesOf(
  events: readonly AgencyEvent[],
  options: FhirWriteOptions = {},
): FhirResource[] {
  const health = events.filter((event) => event.source.agency === 'health');
  const latest = new Map<string, Subject>();
  for (const event of health) latest.set(event.subject.recordId, event.subject);
  const discharges = new Map<string, EventOfType<'health.hospital.discharged'>>();
  for (const event of health)
    if (event.type === 'health.hospital.discharged')
      discharges.set(`${event.subject.recordId}|${event.data.spellId ?? event.data.admittedAt}`, event);

  const resources: FhirResource[] = [];
  const written = new Set<string>();
  for (const event of health) {
    const patient = event.subject.recordId;
    if (!written.has(patient)) {
      written.add(patient);
      resources.push(patientOf(patient, latest.get(patient)!));
    }
    switch (event.type) {
      case 'health.immunisation.given':
        resources.push(immunizationOf(event, patient));
        break;
      case 'health.hospital.admitted':
        resources.push(
          admissionOf(
            event,
            discharges.get(`${patient}|${event.data.spellId ?? event.data.admittedAt}`),
            patient,
          ),
        );
        break;
      case 'health.emergency-care.attended':
        resources.push(attendanceOf(event, patient));
        break;
      case 'health.observation.recorded':
        resources.push(observationOf(event, patient));
        break;
      case 'health.flag.recorded':
        resources.push(flagOf(event, patient));
        break;
      default:
        break;
    }
  }
  if (options.awkward) plantAwkwardCases(resources);
  return resources;
}

function plantAwkwardCases(resources: FhirResource[]): void {
  const patients = resources.filter((resource) => resource.resourceType === 'Patient' && resource.identifier);
  const [first, second] = patients;
  if (first) {
    const identifier = (first.identifier as { extension: { valueCodeableConcept: unknown }[] }[])[0];
    identifier.extension[0].valueCodeableConcept = concept(
      SYSTEM.verificationCodes,
      AWKWARD.unverifiedStatus,
      'Number present but not traced',
    );
    resources.push({
      resourceType: 'Immunization',
      id: AWKWARD.unknownVaccineId,
      status: 'completed',
      vaccineCode: concept(SYSTEM.dmd, AWKWARD.unknownVaccineCode, 'A vaccine no list holds (synthetic)'),
      patient: { reference: `Patient/${first.id}` },
      occurrenceDateTime: `${String(first.birthDate ?? '2020-01-01')}T10:00:00Z`,
    });
  }
  if (second) {
    const identifier = (second.identifier as { value: string }[])[0];
    identifier.value = breakCheckDigit(identifier.value);
  }
  resources.push({
    resourceType: 'Immunization',
    id: AWKWARD.missingPatientId,
    status: 'completed',
    vaccineCode: concept(SYSTEM.dmd, VACCINE_PRODUCT.MMR!.code, VACCINE_PRODUCT.MMR!.display),
    patient: { reference: AWKWARD.missingPatientReference },
    occurrenceDateTime: '2021-06-01T10:00:00Z',
  });
}

// ---------------------------------------------------------------------------------------------
// Writing: JSON and XML, a Bundle streamed resource by resource

export type FhirFormat = 'json' | 'xml';

/** A Bundle of type collection, written one entry at a time (never built whole as a string). */
export function* fhirBundleChunks(
  resources: Iterable<FhirResource>,
  format: FhirFormat,
  bundleId = 'synthetic-cohort',
): Iterable<string> {
  if (format === 'json') {
    yield `{"resourceType":"Bundle","id":${JSON.stringify(bundleId)},"type":"collection","entry":[`;
    let first = true;
    for (const resource of resources) {
      yield `${first ? '' : ','}\n{"fullUrl":${JSON.stringify(`urn:uuid:${uuidLike(resource)}`)},"resource":${JSON.stringify(resource)}}`;
      first = false;
    }
    yield '\n]}\n';
    return;
  }
  yield `<?xml version="1.0" encoding="UTF-8"?>\n<Bundle xmlns="http://hl7.org/fhir"><id value="${escape(bundleId)}"/><type value="collection"/>`;
  for (const resource of resources)
    yield `\n<entry><fullUrl value="urn:uuid:${uuidLike(resource)}"/><resource>${fhirResourceXml(resource, false)}</resource></entry>`;
  yield '\n</Bundle>\n';
}

/** A whole Bundle as one string (for small cohorts and tests). */
export function fhirBundle(resources: Iterable<FhirResource>, format: FhirFormat, bundleId?: string): string {
  return [...fhirBundleChunks(resources, format, bundleId)].join('');
}

/** One resource as FHIR JSON. */
export function fhirResourceJson(resource: FhirResource): string {
  return JSON.stringify(resource, null, 2);
}

/** The entry's fullUrl: the resource id when it is a UUID (events' ids are), else a urn built from it. */
function uuidLike(resource: FhirResource): string {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(resource.id)) return resource.id;
  const hex = Buffer.from(`${resource.resourceType}/${resource.id}`)
    .toString('hex')
    .padEnd(32, '0')
    .slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function escape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** FHIR XML of one value: primitives in `value` attributes, an extension's url as an attribute. */
function elementXml(name: string, value: unknown): string {
  if (Array.isArray(value)) return value.map((item) => elementXml(name, item)).join('');
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return `<${name} value="${escape(String(value))}"/>`;
  const record = value as Record<string, unknown>;
  const url = typeof record.url === 'string' && name === 'extension' ? ` url="${escape(record.url)}"` : '';
  // FHIR XML puts extensions first.
  const keys = Object.keys(record).filter((key) => !(url && key === 'url'));
  const ordered = [
    ...keys.filter((key) => key === 'extension'),
    ...keys.filter((key) => key !== 'extension'),
  ];
  return `<${name}${url}>${ordered.map((key) => elementXml(key, record[key])).join('')}</${name}>`;
}

/** One resource as FHIR XML (with the namespace and declaration when it stands alone). */
export function fhirResourceXml(resource: FhirResource, standalone = true): string {
  const { resourceType, ...rest } = resource;
  const ordered = ['id', 'meta', ...Object.keys(rest).filter((key) => key !== 'id' && key !== 'meta')];
  const body = ordered.map((key) => elementXml(key, rest[key])).join('');
  return `${standalone ? '<?xml version="1.0" encoding="UTF-8"?>\n' : ''}<${resourceType} xmlns="http://hl7.org/fhir">${body}</${resourceType}>`;
}

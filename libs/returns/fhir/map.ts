import { ADMISSION_METHOD, DISCHARGE_DESTINATION, DISCHARGE_METHOD, VACCINE } from '@throughline/contracts';
import { FHIR } from './systems';
import { bool, list, node, nodes, num, text, type FhirNode } from './read';
import vaccineMap from './vaccine-map.json';

/**
 * FHIR UK Core resources onto event data, as pure functions: each returns the events' data
 * (with the date they happened and their natural key) or the rule that refuses the resource.
 * Nothing a resource does not hold is filled in: such fields are left out (the contracts list
 * them as `importOptional`) and shown as "not in the return".
 */

export interface MappedEvent {
  readonly type:
    | 'health.immunisation.given'
    | 'health.hospital.admitted'
    | 'health.hospital.discharged'
    | 'health.emergency-care.attended'
    | 'health.observation.recorded'
    | 'health.flag.recorded';
  /** When it happened: the envelope's occurredAt. */
  readonly occurredAt: string;
  /** Distinguishes the events of one resource (an Encounter's admission and discharge). */
  readonly part: string;
  readonly data: Record<string, unknown>;
}

export type Mapped =
  | { readonly events: readonly MappedEvent[]; readonly refused: readonly Refusal[] }
  | { readonly refused: readonly Refusal[]; readonly events?: undefined };

export interface Refusal {
  readonly rule: string;
  readonly reason: string;
}

const refuse = (rule: string, reason: string): Mapped => ({ refused: [{ rule, reason }] });

type Coding = { system: string; code: string; display?: string };

/** The codings of a CodeableConcept that have both a system and a code. */
export function codingsOf(concept: unknown): Coding[] {
  return nodes(node(concept)?.coding).flatMap((coding) => {
    const system = text(coding.system)?.trim();
    const code = text(coding.code)?.trim();
    const display = text(coding.display)?.trim();
    return system && code ? [{ system, code, ...(display ? { display: display.slice(0, 200) } : {}) }] : [];
  });
}

function extension(resource: FhirNode | undefined, url: string): FhirNode | undefined {
  return nodes(resource?.extension).find((item) => text(item.url) === url);
}

/** A FHIR date or dateTime with at least a day: its calendar date as written. */
export function dateOf(value: unknown): string | undefined {
  const raw = text(value);
  return raw && /^\d{4}-\d{2}-\d{2}/.test(raw) ? raw.slice(0, 10) : undefined;
}

/** A FHIR dateTime with a time and an offset (as the contracts need); a date alone is not one. */
export function dateTimeOf(value: unknown): string | undefined {
  const raw = text(value);
  return raw && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(raw)
    ? raw
    : undefined;
}

/** The envelope's occurredAt for a date known only to the day: its start, in UTC. */
export function startOfDay(date: string): string {
  return `${date}T00:00:00Z`;
}

function notes(resource: FhirNode): string | undefined {
  const joined = nodes(resource.note)
    .map((note) => text(note.text)?.trim())
    .filter(Boolean)
    .join('\n\n');
  return joined ? joined.slice(0, 20000) : undefined;
}

function conceptText(concept: unknown): string | undefined {
  const value = node(concept);
  const words = text(value?.text)?.trim() || codingsOf(value)[0]?.display;
  return words ? words.slice(0, 200) : undefined;
}

function refusedStatus(resource: FhirNode, allowed: readonly string[]): Mapped | undefined {
  const status = text(resource.status);
  if (status === undefined) return refuse('status-missing', `${resource.resourceType} has no status`);
  if (status === 'entered-in-error')
    return refuse('entered-in-error', `${resource.resourceType} was entered in error`);
  if (!allowed.includes(status))
    return refuse(
      `${String(resource.resourceType).toLowerCase()}-status-not-imported`,
      `status ${status} is not one the import takes (${allowed.join(', ')})`,
    );
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Immunization

interface VaccineCode {
  readonly kind: string;
  readonly code: string;
  readonly vaccine: string;
  readonly dose?: number;
}

const VACCINE_BY_CODE = new Map<string, VaccineCode>(
  (vaccineMap.codes as VaccineCode[]).map((entry) => [entry.code, entry]),
);
const PRODUCT_SYSTEMS = new Set<string>([FHIR.dmd, FHIR.snomed]);

/** The codes of the vaccine map that are not on the contract's vaccine list (a test keeps this empty). */
export function vaccineMapOutsideList(): string[] {
  return [...VACCINE_BY_CODE.values()]
    .filter((entry) => !VACCINE.safeParse(entry.vaccine).success)
    .map((entry) => entry.code);
}

export function mapImmunization(resource: FhirNode): Mapped {
  const status = text(resource.status);
  if (status === 'not-done')
    return refuse('immunization-not-done', 'the Immunization records a vaccination not given');
  const bad = refusedStatus(resource, ['completed']);
  if (bad) return bad;
  const procedure = codingsOf(extension(resource, FHIR.vaccinationProcedure)?.valueCodeableConcept).filter(
    (coding) => coding.system === FHIR.snomed,
  );
  const products = codingsOf(resource.vaccineCode).filter((coding) => PRODUCT_SYSTEMS.has(coding.system));
  const codes = [...procedure, ...products];
  const mapped = codes.flatMap((coding) => {
    const entry = VACCINE_BY_CODE.get(coding.code);
    return entry && (entry.kind === 'dmd-product' || coding.system === FHIR.snomed) ? [entry] : [];
  });
  const vaccines = [...new Set(mapped.map((entry) => entry.vaccine))];
  const all = [
    ...codingsOf(extension(resource, FHIR.vaccinationProcedure)?.valueCodeableConcept),
    ...codingsOf(resource.vaccineCode),
  ];
  const named = all.map((coding) => `${coding.system} ${coding.code}`).join(', ') || 'none';
  if (!vaccines.length)
    return refuse(
      'vaccine-code-not-mapped',
      `no vaccine or procedure code maps onto the vaccine list (codes: ${named})`.slice(0, 400),
    );
  if (vaccines.length > 1)
    return refuse(
      'vaccine-codes-disagree',
      `the codes name different vaccines (${vaccines.join(', ')}; codes: ${named})`,
    );
  const givenDate = dateOf(resource.occurrenceDateTime);
  if (!givenDate)
    return refuse('occurrence-date-missing', 'the Immunization has no occurrenceDateTime to the day');
  const protocol = nodes(resource.protocolApplied)[0];
  const dose =
    num(protocol?.doseNumberPositiveInt) ??
    num(protocol?.doseNumberString) ??
    mapped.find((entry) => entry.dose !== undefined)?.dose;
  const lot = text(resource.lotNumber)?.trim();
  const narrative = notes(resource);
  return {
    refused: [],
    events: [
      {
        type: 'health.immunisation.given',
        occurredAt: dateTimeOf(resource.occurrenceDateTime) ?? startOfDay(givenDate),
        part: 'given',
        data: {
          vaccine: vaccines[0],
          ...(dose !== undefined ? { dose } : {}),
          givenDate,
          ...(lot ? { batchNumber: lot } : {}),
          ...(narrative ? { narrative } : {}),
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Encounter

const INPATIENT_CLASSES = new Set(['IMP', 'ACUTE', 'NONAC']);
const EMERGENCY_CLASSES = new Set(['EMER']);

function codeFromList(
  codings: readonly Coding[],
  system: string,
  options: readonly string[],
  field: string,
): { code?: string; refusal?: Refusal } {
  const coding = codings.find((item) => item.system === system) ?? codings[0];
  if (!coding) return {};
  if (!options.includes(coding.code))
    return {
      refusal: {
        rule: `${field}-not-in-list`,
        reason: `${field} ${coding.code} (${coding.system}) is not on the contract's list`,
      },
    };
  return { code: coding.code };
}

export function mapEncounter(resource: FhirNode): Mapped {
  const bad = refusedStatus(resource, [
    'arrived',
    'triaged',
    'in-progress',
    'onleave',
    'finished',
    'unknown',
  ]);
  if (bad) return bad;
  const encounterClass = node(resource.class);
  const classCode = text(encounterClass?.code)?.toUpperCase();
  if (!classCode) return refuse('encounter-class-missing', 'the Encounter has no class');
  const period = node(resource.period);
  const hospitalization = node(resource.hospitalization);
  const spellId = text(nodes(resource.identifier)[0]?.value)?.trim();
  const reason = conceptText(nodes(resource.reasonCode)[0]);
  const narrative = notes(resource);

  if (EMERGENCY_CLASSES.has(classCode)) {
    const arrivedAt = dateTimeOf(period?.start);
    if (!arrivedAt)
      return refuse('arrival-time-missing', 'the emergency Encounter has no period.start with a time');
    return {
      refused: [],
      events: [
        {
          type: 'health.emergency-care.attended',
          occurredAt: arrivedAt,
          part: 'attended',
          data: {
            arrivedAt,
            ...(reason ? { chiefComplaint: reason } : {}),
            ...(narrative ? { notes: narrative } : {}),
          },
        },
      ],
    };
  }
  if (!INPATIENT_CLASSES.has(classCode))
    return refuse(
      'encounter-class-not-mapped',
      `Encounter class ${classCode} is neither an inpatient stay (IMP, ACUTE, NONAC) nor an emergency attendance (EMER)`,
    );

  const admittedAt = dateTimeOf(period?.start);
  if (!admittedAt)
    return refuse('admission-time-missing', 'the inpatient Encounter has no period.start with a time');
  const admission = codeFromList(
    codingsOf(
      (extension(hospitalization, FHIR.admissionMethod) ?? extension(resource, FHIR.admissionMethod))
        ?.valueCodeableConcept,
    ),
    FHIR.admissionMethodCodes,
    ADMISSION_METHOD.options,
    'admission-method',
  );
  if (admission.refusal) return { refused: [admission.refusal] };
  const specialty =
    conceptText(nodes(resource.serviceType)[0] ?? resource.serviceType) ??
    conceptText(nodes(resource.type)[0]);
  const events: MappedEvent[] = [
    {
      type: 'health.hospital.admitted',
      occurredAt: admittedAt,
      part: 'admitted',
      data: {
        admittedAt,
        ...(spellId ? { spellId } : {}),
        ...(admission.code ? { admissionMethod: admission.code } : {}),
        ...(specialty ? { specialty } : {}),
        ...(reason ? { reason } : {}),
        ...(narrative ? { notes: narrative } : {}),
      },
    },
  ];
  const refused: Refusal[] = [];
  const end = text(period?.end);
  if (end) {
    const dischargedAt = dateTimeOf(end);
    const method = codeFromList(
      codingsOf(
        (extension(hospitalization, FHIR.dischargeMethod) ?? extension(resource, FHIR.dischargeMethod))
          ?.valueCodeableConcept,
      ),
      FHIR.dischargeMethodCodes,
      DISCHARGE_METHOD.options,
      'discharge-method',
    );
    const destination = codeFromList(
      codingsOf(hospitalization?.dischargeDisposition),
      FHIR.dischargeDestinationCodes,
      DISCHARGE_DESTINATION.options,
      'discharge-destination',
    );
    if (!dischargedAt)
      refused.push({
        rule: 'discharge-time-missing',
        reason: 'the Encounter ends (period.end) without a time',
      });
    else if (method.refusal) refused.push(method.refusal);
    else if (destination.refusal) refused.push(destination.refusal);
    else
      events.push({
        type: 'health.hospital.discharged',
        occurredAt: dischargedAt,
        part: 'discharged',
        data: {
          admittedAt,
          dischargedAt,
          ...(spellId ? { spellId } : {}),
          ...(method.code ? { dischargeMethod: method.code } : {}),
          ...(destination.code ? { dischargeDestination: destination.code } : {}),
        },
      });
  }
  return { events, refused };
}

// ---------------------------------------------------------------------------------------------
// Observation

type Value =
  | { kind: 'quantity'; value: number; unit?: string; unitSystem?: string; unitCode?: string }
  | { kind: 'coded'; code: Coding }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'text'; value: string };

const VALUE_ELEMENTS = [
  'valueQuantity',
  'valueCodeableConcept',
  'valueString',
  'valueBoolean',
  'valueInteger',
  'valueRange',
  'valueRatio',
  'valueSampledData',
  'valueTime',
  'valueDateTime',
  'valuePeriod',
];

/** An Observation's (or component's) value; `unsupported` names a value type the contract has no place for. */
function valueOf(holder: FhirNode): { value?: Value; unsupported?: string; longText?: string } {
  const quantity = node(holder.valueQuantity);
  if (quantity) {
    const value = num(quantity.value);
    if (value === undefined) return { unsupported: 'valueQuantity without a value' };
    const unit = text(quantity.unit)?.trim();
    const unitSystem = text(quantity.system)?.trim();
    const unitCode = text(quantity.code)?.trim();
    return {
      value: {
        kind: 'quantity',
        value,
        ...(unit ? { unit: unit.slice(0, 40) } : {}),
        ...(unitSystem ? { unitSystem } : {}),
        ...(unitCode ? { unitCode: unitCode.slice(0, 40) } : {}),
      },
    };
  }
  if (holder.valueCodeableConcept !== undefined) {
    const coding = codingsOf(holder.valueCodeableConcept)[0];
    if (coding) return { value: { kind: 'coded', code: coding } };
    const words = conceptText(holder.valueCodeableConcept);
    return words
      ? { value: { kind: 'text', value: words } }
      : { unsupported: 'valueCodeableConcept without a code or text' };
  }
  const integer = num(holder.valueInteger);
  if (integer !== undefined) return { value: { kind: 'quantity', value: integer } };
  const yesNo = bool(holder.valueBoolean);
  if (yesNo !== undefined) return { value: { kind: 'boolean', value: yesNo } };
  const words = text(holder.valueString)?.trim();
  if (words) return words.length <= 200 ? { value: { kind: 'text', value: words } } : { longText: words };
  const other = VALUE_ELEMENTS.find((element) => holder[element] !== undefined);
  return other ? { unsupported: other } : {};
}

export function mapObservation(resource: FhirNode): Mapped {
  const bad = refusedStatus(resource, ['final', 'amended', 'corrected', 'preliminary']);
  if (bad) return bad;
  const code = codingsOf(resource.code)[0];
  if (!code)
    return refuse('observation-code-missing', 'the Observation code has no coding with a system and a code');
  const effective =
    resource.effectiveDateTime ?? resource.effectiveInstant ?? node(resource.effectivePeriod)?.start;
  const effectiveDate = dateOf(effective);
  if (!effectiveDate)
    return refuse('observation-date-missing', 'the Observation has no effective date to the day');
  const effectiveAt = dateTimeOf(effective);
  const own = valueOf(resource);
  if (own.unsupported)
    return refuse(
      'observation-value-not-supported',
      `the Observation's ${own.unsupported} has no place in the contract`,
    );
  const components: { code: Coding; value: Value }[] = [];
  for (const component of nodes(resource.component)) {
    const componentCode = codingsOf(component.code)[0];
    const componentValue = valueOf(component);
    if (!componentCode || componentValue.unsupported || !componentValue.value)
      return refuse(
        'observation-component-not-supported',
        `a component ${componentCode ? `(${componentCode.code}) ` : ''}has ${componentValue.unsupported ?? 'no code or no value the contract can hold'}`,
      );
    components.push({ code: componentCode, value: componentValue.value });
  }
  const category = codingsOf(nodes(resource.category)[0])[0];
  const interpretation = codingsOf(nodes(resource.interpretation)[0])[0];
  const words = text(node(resource.code)?.text)?.trim();
  const id = text(resource.id);
  const narrative = [own.longText, notes(resource)].filter(Boolean).join('\n\n');
  return {
    refused: [],
    events: [
      {
        type: 'health.observation.recorded',
        occurredAt: effectiveAt ?? startOfDay(effectiveDate),
        part: 'recorded',
        data: {
          code,
          ...(words ? { text: words.slice(0, 200) } : {}),
          ...(category ? { category } : {}),
          status: text(resource.status),
          effectiveDate,
          ...(effectiveAt ? { effectiveAt } : {}),
          ...(own.value ? { value: own.value } : {}),
          ...(components.length ? { components } : {}),
          ...(interpretation ? { interpretation } : {}),
          ...(id && id.length <= 64 ? { recordId: id } : {}),
          ...(narrative ? { narrative: narrative.slice(0, 20000) } : {}),
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Flag

export function mapFlag(resource: FhirNode): Mapped {
  const bad = refusedStatus(resource, ['active', 'inactive']);
  if (bad) return bad;
  const code = codingsOf(resource.code)[0];
  if (!code) return refuse('flag-code-missing', 'the Flag code has no coding with a system and a code');
  const period = node(resource.period);
  const periodStart = dateOf(period?.start);
  if (!periodStart) return refuse('flag-period-start-missing', 'the Flag has no period.start to the day');
  const periodEnd = dateOf(period?.end);
  const words = text(node(resource.code)?.text)?.trim();
  const category = codingsOf(nodes(resource.category)[0])[0];
  const id = text(resource.id);
  return {
    refused: [],
    events: [
      {
        type: 'health.flag.recorded',
        occurredAt: dateTimeOf(period?.start) ?? startOfDay(periodStart),
        part: 'recorded',
        data: {
          code,
          ...(words ? { text: words.slice(0, 200) } : {}),
          ...(category ? { category } : {}),
          status: text(resource.status),
          periodStart,
          ...(periodEnd ? { periodEnd } : {}),
          ...(id && id.length <= 64 ? { recordId: id } : {}),
        },
      },
    ],
  };
}

/** The element of each mapped resource type that names its patient. */
export const PATIENT_ELEMENT: Readonly<Record<string, string>> = {
  Immunization: 'patient',
  Encounter: 'subject',
  Observation: 'subject',
  Flag: 'subject',
};

export const MAPPERS: Readonly<Record<string, (resource: FhirNode) => Mapped>> = {
  Immunization: mapImmunization,
  Encounter: mapEncounter,
  Observation: mapObservation,
  Flag: mapFlag,
};

/** Resources that only support others (who, where, what product): read for references, never events. */
export const SUPPORTING_TYPES = new Set([
  'Patient',
  'Organization',
  'Practitioner',
  'PractitionerRole',
  'Location',
  'RelatedPerson',
  'Medication',
  'Device',
  'Provenance',
  'MessageHeader',
  'OperationOutcome',
]);

/** An ODS code of the organisation a reference names by identifier, when it gives one. */
export function odsCodeOf(reference: unknown): string | undefined {
  const identifier = node(node(reference)?.identifier);
  if (!identifier || text(identifier.system) !== FHIR.odsOrganisation) return undefined;
  const value = text(identifier.value)?.trim();
  return value && value.length <= 20 ? value : undefined;
}

/** The organisation that recorded the resource, by ODS code, where the resource says. */
export function organisationOf(resource: FhirNode): string | undefined {
  switch (resource.resourceType) {
    case 'Immunization':
      return nodes(resource.performer)
        .map((performer) => odsCodeOf(performer.actor))
        .find(Boolean);
    case 'Encounter':
      return odsCodeOf(resource.serviceProvider);
    case 'Observation':
      return list(resource.performer).map(odsCodeOf).find(Boolean);
    case 'Flag':
      return odsCodeOf(resource.author);
    default:
      return undefined;
  }
}

import { createHash } from 'node:crypto';
import { sex as sexSchema, type Subject } from '@throughline/contracts';
import { subjectFromReturn, type ReportedSubject } from '../subject';
import { odsCodeOf } from './map';
import { FHIR } from './systems';
import { node, nodes, text, type FhirNode } from './read';

/** What the importer keeps of a Patient: enough to build the subject of each of its events. */
export interface PatientFacts {
  /** The subject's record id (the stream is `health-<recordId>`). */
  readonly recordId: string;
  readonly reported: ReportedSubject;
  /** Its FHIR gender, mapped onto the contract's sex by the event's date. */
  readonly gender?: string;
  /** The organisation and key of its events' ids: `nhs` and the NHS number when trusted, else the system and record id. */
  readonly idOrganisation: string;
  readonly idKey: string;
  /** The NHS number when it is valid and verified (a logical reference by identifier may use it). */
  readonly trustedNhsNumber?: string;
  /** The ODS code of the Patient's managing organisation, when it names one. */
  readonly organisation?: string;
  met: boolean;
}

const RECORD_ID = /^[A-Za-z0-9._-]{1,64}$/;
const NHS_NUMBER_VERIFIED = '01';

function normaliseNhsNumber(value: string): string {
  return value.replace(/[\s-]/g, '');
}

/** The Patient's NHS number identifier and what its UK Core verification status says of it. */
function nhsNumberOf(patient: FhirNode): {
  value?: string;
  untrusted?: { field: 'nhsNumber'; rule: string; message: string };
} {
  const identifier = nodes(patient.identifier).find((item) => text(item.system) === FHIR.nhsNumber);
  const value = identifier && text(identifier.value);
  if (!identifier || !value) return {};
  const status = nodes(identifier.extension).find(
    (extension) => text(extension.url) === FHIR.nhsNumberVerification,
  );
  if (!status) return { value }; // not stated: the check digit still applies
  const coding = nodes(node(status.valueCodeableConcept)?.coding).find(
    (item) => text(item.system) === FHIR.nhsNumberVerificationCodes,
  );
  const code = coding && text(coding.code);
  if (code === NHS_NUMBER_VERIFIED) return { value };
  return {
    value,
    untrusted: {
      field: 'nhsNumber',
      rule: 'nhs-number-not-verified',
      message:
        `NHS number verification status is ${code ? `${code}${text(coding?.display) ? ` (${text(coding?.display)})` : ''}` : 'not coded'}, not 01 (number present and verified)`.slice(
          0,
          200,
        ),
    },
  };
}

/** The official (else the first usual, else the first) name with a given and a family name. */
function nameOf(patient: FhirNode): { given: string; family: string } | undefined {
  const names = nodes(patient.name);
  const chosen =
    names.find((name) => text(name.use) === 'official') ??
    names.find((name) => text(name.use) === 'usual') ??
    names[0];
  const given = chosen && text(chosen.given);
  const family = chosen && text(chosen.family);
  return given && family ? { given, family } : undefined;
}

/** The current home address's postcode (an address whose period has ended is a former one). */
function postcodeOf(patient: FhirNode): string | undefined {
  const current = nodes(patient.address).filter((address) => !text(node(address.period)?.end));
  const chosen = current.find((address) => text(address.use) === 'home') ?? current[0];
  return chosen ? text(chosen.postalCode) : undefined;
}

/** A record id for a Patient: its own id, else one made from its identifiers (never the identifiers themselves). */
function recordIdOf(patient: FhirNode, contained: boolean, fullUrl: string | undefined): string | undefined {
  const id = text(patient.id);
  if (id && !contained && RECORD_ID.test(id)) return id;
  const uuid = fullUrl?.match(/^urn:uuid:([0-9a-fA-F-]{36})$/)?.[1];
  if (uuid && !contained) return uuid.toLowerCase();
  const identifiers = nodes(patient.identifier)
    .map((item) => `${text(item.system) ?? ''}|${text(item.value) ?? ''}`)
    .filter((key) => key !== '|')
    .sort();
  if (!identifiers.length) return undefined;
  return `fhir-${createHash('sha256').update(identifiers.join('\n')).digest('hex').slice(0, 32)}`;
}

/**
 * A fresh copy of a string. Strings read from a file may be slices of the chunk they were read
 * from, and keeping a slice keeps the whole chunk: the index would grow with the file, not with
 * the number of Patients.
 */
function own(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}

/** The facts of a Patient resource, or why it cannot be a subject. */
export function patientFacts(
  patient: FhirNode,
  system: string,
  options: { contained?: boolean; fullUrl?: string } = {},
): PatientFacts | { refused: string } {
  const recordId = recordIdOf(patient, options.contained ?? false, options.fullUrl);
  if (!recordId) return { refused: 'the Patient has neither an id nor an identifier to know it by' };
  const nhs = nhsNumberOf(patient);
  const reported: ReportedSubject = {
    recordId,
    ...(nhs.value ? { nhsNumber: nhs.value } : {}),
    ...(nhs.untrusted ? { untrusted: [nhs.untrusted] } : {}),
    ...(nameOf(patient) ? { name: nameOf(patient) } : {}),
    ...(postcodeOf(patient) ? { postcode: postcodeOf(patient) } : {}),
    ...(text(patient.birthDate) ? { dateOfBirth: text(patient.birthDate) } : {}),
  };
  const checked = subjectFromReturn(reported).subject;
  const gender = text(patient.gender);
  const organisation = odsCodeOf(patient.managingOrganization);
  // Copied through JSON so that no string of the facts is a slice of the file's chunks.
  return JSON.parse(
    JSON.stringify({
      recordId,
      reported,
      ...(gender ? { gender } : {}),
      idOrganisation: checked.nhsNumber ? 'nhs' : system,
      idKey: checked.nhsNumber ?? recordId,
      ...(checked.nhsNumber ? { trustedNhsNumber: checked.nhsNumber } : {}),
      ...(organisation ? { organisation } : {}),
      met: false,
    }),
  ) as PatientFacts;
}

/**
 * FHIR administrative gender onto the contract's sex, as the list of the event's date has it:
 * M / F / U from April 2024 (the statutory returns' change), 1 / 2 / 0 before, whichever the
 * contract accepts. `other` has no code in either list and is left out.
 */
export function sexFor(gender: string | undefined, onDate: string): string | undefined {
  const candidates: Record<string, readonly string[]> = {
    male: ['M', '1'],
    female: ['F', '2'],
    unknown: ['U', '0'],
  };
  const options = gender ? candidates[gender] : undefined;
  if (!options) return undefined;
  const ordered = onDate >= '2024-04-01' ? options : [...options].reverse();
  return ordered.find((code) => sexSchema.safeParse(code).success);
}

/** Each patient's subjects by the sex code they carry: checking identifiers once per patient, not per event. */
const subjects = new WeakMap<PatientFacts, Map<string, Subject>>();

/** The subject of an event of this patient on this date (a copy: events never share one object). */
export function subjectOf(patient: PatientFacts, onDate: string): Subject {
  const sex = sexFor(patient.gender, onDate);
  let bySex = subjects.get(patient);
  if (!bySex) subjects.set(patient, (bySex = new Map()));
  let subject = bySex.get(sex ?? '');
  if (!subject) {
    subject = subjectFromReturn({ ...patient.reported, ...(sex ? { sex } : {}) }).subject;
    bySex.set(sex ?? '', subject);
  }
  return structuredClone(subject);
}

/**
 * The Patients of an import, found in a first pass, by every way a resource may refer to them:
 * `Patient/<id>`, the entry's fullUrl (absolute or `urn:uuid:`), and a trusted NHS number (a
 * logical reference by identifier).
 */
export class PatientIndex {
  private readonly byKey = new Map<string, PatientFacts>();

  add(facts: PatientFacts, patient: FhirNode, fullUrl: string | undefined): void {
    const id = text(patient.id);
    if (id) this.byKey.set(own(`Patient/${id}`), facts);
    if (fullUrl) this.byKey.set(own(fullUrl), facts);
    const nhs = facts.trustedNhsNumber;
    if (nhs && !this.byKey.has(`nhs:${nhs}`)) this.byKey.set(`nhs:${nhs}`, facts);
  }

  get size(): number {
    return new Set(this.byKey.values()).size;
  }

  /** The patient a reference names, within the import; contained Patients are the caller's. */
  resolve(reference: FhirNode | undefined): PatientFacts | undefined {
    if (!reference) return undefined;
    const literal = text(reference.reference);
    if (literal) {
      const exact = this.byKey.get(literal);
      if (exact) return exact;
      // An absolute URL or a versioned reference: its `Patient/<id>` tail.
      const tail = literal.match(/(?:^|\/)Patient\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[^/]+)?$/);
      return tail ? this.byKey.get(`Patient/${tail[1]}`) : undefined;
    }
    const identifier = node(reference.identifier);
    if (identifier && text(identifier.system) === FHIR.nhsNumber) {
      const value = text(identifier.value);
      return value ? this.byKey.get(`nhs:${normaliseNhsNumber(value)}`) : undefined;
    }
    return undefined;
  }
}

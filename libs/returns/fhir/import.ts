import { importedEventId } from '../event-id';
import type { ImportContext, ImportFile, ImportItem, ReturnImporter } from '../importer';
import { MAPPERS, organisationOf, PATIENT_ELEMENT, SUPPORTING_TYPES, type MappedEvent } from './map';
import { PatientIndex, patientFacts, subjectOf, type PatientFacts } from './patients';
import {
  FhirReadError,
  node,
  nodes,
  text,
  readFhirResources,
  type FhirNode,
  type ResourceRead,
} from './read';

const LOCATION_MAX = 200;

/** Where a resource is: `Bundle.entry[12] (Immunization/imm-1)`, or `Immunization/imm-1` for a file of one. */
function locationOf(read: ResourceRead): string {
  const type = String(read.resource.resourceType);
  const id = text(read.resource.id);
  const named = id ? `${type}/${id}` : type;
  const where = read.location === type ? named : `${read.location} (${named})`;
  return where.length <= LOCATION_MAX ? where : `${where.slice(0, LOCATION_MAX - 1)}…`;
}

/** The file's name before the location, when the import has more than one file. */
function inFile(file: ImportFile, many: boolean, location: string): string {
  return many ? `${file.name}: ${location}` : location;
}

/**
 * The key of a resource's event among the patient's events: its business identifier (stable
 * across servers and re-exports), else its id (unless a bundle-local urn:uuid), else what it
 * records and when.
 */
function naturalKey(resource: FhirNode, event: MappedEvent): string {
  const identifier = nodes(resource.identifier).find((item) => text(item.value));
  if (identifier) return `identifier:${text(identifier.system) ?? ''}|${text(identifier.value)}`;
  const id = text(resource.id);
  if (id) return `id:${id}`;
  return `data:${JSON.stringify(event.data)}`;
}

/**
 * Imports FHIR R4 (UK Core) health records: JSON or XML, single resources or Bundles, one
 * file or several. A first pass finds the Patients (so a resource may come before its
 * Patient); the second maps each resource in file order. See README.md beside this file for
 * what maps onto which event and what is refused.
 */
export class FhirImporter implements ReturnImporter {
  readonly format = 'fhir-r4' as const;

  async *read(files: readonly ImportFile[], context: ImportContext): AsyncIterable<ImportItem> {
    const many = files.length > 1;
    const index = new PatientIndex();
    const unreadable = new Set<ImportFile>();
    for (const file of files) {
      try {
        for await (const read of readFhirResources(file.open())) {
          if (read.resource.resourceType !== 'Patient') continue;
          const facts = patientFacts(read.resource, context.system, { fullUrl: read.fullUrl });
          if (!('refused' in facts)) index.add(facts, read.resource, read.fullUrl);
        }
      } catch (error) {
        if (!(error instanceof FhirReadError)) throw error;
        unreadable.add(file);
        yield { kind: 'refused', location: file.name, rule: error.rule, reason: error.message };
      }
    }

    if (files.length && unreadable.size === files.length)
      throw new FhirReadError(
        `no file could be read as FHIR R4 JSON or XML (${files.map((file) => file.name).join(', ')})`,
        'fhir-format',
      );

    const containedMet = new Set<string>();
    for (const file of files) {
      if (unreadable.has(file)) continue;
      for await (const read of readFhirResources(file.open())) {
        const location = locationOf(read);
        const type = String(read.resource.resourceType);
        if (type === 'Patient') {
          const facts = patientFacts(read.resource, context.system, { fullUrl: read.fullUrl });
          if ('refused' in facts) {
            yield {
              kind: 'refused',
              location: inFile(file, many, location),
              rule: 'patient-not-identifiable',
              reason: facts.refused,
            };
            continue;
          }
          const known =
            (read.fullUrl ? index.resolve({ reference: read.fullUrl }) : undefined) ??
            index.resolve({ reference: `Patient/${text(read.resource.id) ?? ''}` }) ??
            facts;
          if (!known.met) {
            known.met = true;
            yield { kind: 'child', childId: known.recordId };
          }
          continue;
        }
        if (SUPPORTING_TYPES.has(type)) continue;
        const mapper = MAPPERS[type];
        if (!mapper) {
          yield {
            kind: 'refused',
            location: inFile(file, many, location),
            rule: 'resource-type-not-imported',
            reason: `${type} resources have no event in the contracts`,
          };
          continue;
        }
        const reference = node(read.resource[PATIENT_ELEMENT[type]]);
        const patient = this.patientOf(read.resource, reference, index, context.system);
        if (!patient) {
          const named = text(reference?.reference);
          yield {
            kind: 'refused',
            location: inFile(file, many, location),
            rule: 'patient-not-found',
            reason: named
              ? `the ${PATIENT_ELEMENT[type]} reference ${named.slice(0, 100)} names no Patient in the import`
              : `the ${PATIENT_ELEMENT[type]} names no Patient in the import`,
          };
          continue;
        }
        if (!patient.met) {
          patient.met = true;
          if (!containedMet.has(patient.recordId)) {
            containedMet.add(patient.recordId);
            yield { kind: 'child', childId: patient.recordId };
          }
        }
        const mapped = mapper(read.resource);
        for (const refusal of mapped.refused)
          yield {
            kind: 'refused',
            location: inFile(file, many, location),
            rule: refusal.rule,
            reason: refusal.reason,
          };
        // The resource's own organisation, else the patient's managing one, else the importer's.
        const organisation =
          organisationOf(read.resource) ??
          patient.organisation ??
          (context as ImportContext & { readonly organisation?: string }).organisation;
        for (const event of mapped.events ?? []) {
          yield {
            kind: 'event',
            location: inFile(file, many, location),
            event: {
              eventId: importedEventId(
                'fhir-r4',
                patient.idOrganisation,
                patient.idKey,
                type,
                naturalKey(read.resource, event),
                event.part,
              ),
              type: event.type,
              schemaVersion: 1,
              occurredAt: event.occurredAt,
              source: { agency: 'health', system: context.system, ...(organisation ? { organisation } : {}) },
              subject: subjectOf(patient, event.occurredAt.slice(0, 10)),
              provenance: { kind: 'health-record', format: 'fhir-r4', fileSha256: file.sha256, location },
              data: event.data,
            },
          };
        }
      }
    }
  }

  /** The resource's patient: contained (`#p1`), or in the import by reference or NHS number. */
  private patientOf(
    resource: FhirNode,
    reference: FhirNode | undefined,
    index: PatientIndex,
    system: string,
  ): PatientFacts | undefined {
    const literal = text(reference?.reference);
    if (literal?.startsWith('#')) {
      const contained = nodes(resource.contained).find(
        (item) => item.resourceType === 'Patient' && text(item.id) === literal.slice(1),
      );
      if (!contained) return undefined;
      const facts = patientFacts(contained, system, { contained: true });
      return 'refused' in facts ? undefined : facts;
    }
    return index.resolve(reference);
  }
}

export const fhirImporter = new FhirImporter();

import type { Agency, ImportFormat } from '@throughline/contracts';
import { cinCensusImporter } from './cin-census/import';
import { fhirImporter } from './fhir/import';
import type { ReturnImporter } from './importer';
import { ssda903Importer } from './ssda903/import';

/** Each import format, the agency whose service takes it and the `source.system` of its events. */
export const IMPORT_FORMAT_OWNERS: Readonly<Record<ImportFormat, { agency: Agency; system: string }>> = {
  'cin-census': { agency: 'social-care', system: 'cin-census' },
  ssda903: { agency: 'social-care', system: 'ssda903' },
  'fhir-r4': { agency: 'health', system: 'fhir-import' },
};

const IMPORTERS: Readonly<Record<ImportFormat, ReturnImporter>> = {
  'cin-census': cinCensusImporter,
  ssda903: ssda903Importer,
  'fhir-r4': fhirImporter,
};

export function importerFor(format: ImportFormat): ReturnImporter {
  return IMPORTERS[format];
}

/** The formats an agency's service imports. */
export function importFormatsOf(agency: Agency): ImportFormat[] {
  return (Object.keys(IMPORT_FORMAT_OWNERS) as ImportFormat[]).filter(
    (format) => IMPORT_FORMAT_OWNERS[format].agency === agency,
  );
}

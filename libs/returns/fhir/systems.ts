/**
 * The URIs the FHIR importer reads, each checked at its source (UK Core R4 on simplifier.net
 * and the NHS England FHIR guides; see README "Sources").
 */
export const FHIR = {
  /** NHS number identifier system. */
  nhsNumber: 'https://fhir.nhs.uk/Id/nhs-number',
  /** UK Core extension on Patient.identifier: the NHS number's verification status. */
  nhsNumberVerification:
    'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
  nhsNumberVerificationCodes: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland',
  /** UK Core extension on Immunization: the vaccination procedure (SNOMED CT). */
  vaccinationProcedure: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-VaccinationProcedure',
  /** UK Core extensions on Encounter.hospitalization (read on Encounter too, where some senders put them). */
  admissionMethod: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod',
  admissionMethodCodes: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland',
  dischargeMethod: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DischargeMethod',
  dischargeMethodCodes: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeMethodEngland',
  /** Encounter.hospitalization.dischargeDisposition in England. */
  dischargeDestinationCodes: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeDestinationEngland',
  dmd: 'https://dmd.nhs.uk',
  snomed: 'http://snomed.info/sct',
  ucum: 'http://unitsofmeasure.org',
  /** Encounter.class codes (IMP inpatient, EMER emergency, …). */
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  odsOrganisation: 'https://fhir.nhs.uk/Id/ods-organization-code',
} as const;

import { z } from 'zod';
import { envelope, isoDate, isoDateTime, narrative, shortText, source } from './common';

/**
 * Health record entries that have no event of their own in the child health contracts: a
 * coded observation (a measurement, a finding) and a flag (an alert on the record, such as a
 * child protection flag). Both arrive from health records, usually as FHIR UK Core resources,
 * and keep the codes they were recorded with (SNOMED CT, LOINC, a local code system).
 */

const healthSource = source('health');

/** A code of a code system, as the record holds it: system URI, code, and the system's display. */
export const recordedCode = z.strictObject({
  /** The code system's URI, e.g. `http://snomed.info/sct`, `http://loinc.org`. */
  system: z.string().trim().min(1).max(200),
  code: z.string().trim().min(1).max(64),
  display: shortText.optional(),
});
export type RecordedCode = z.infer<typeof recordedCode>;

/** The value of an observation: a quantity, a code, a yes/no, or a short text. Kept as a value, not a sentence. */
export const observationValue = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('quantity'),
    value: z.number(),
    /** The unit as written (`kg`, `cm`, `%`). */
    unit: z.string().trim().min(1).max(40).optional(),
    /** The unit's system and code, usually UCUM (`http://unitsofmeasure.org`, `kg`). */
    unitSystem: z.string().trim().min(1).max(200).optional(),
    unitCode: z.string().trim().min(1).max(40).optional(),
  }),
  z.strictObject({ kind: z.literal('coded'), code: recordedCode }),
  z.strictObject({ kind: z.literal('boolean'), value: z.boolean() }),
  z.strictObject({ kind: z.literal('text'), value: shortText }),
]);
export type ObservationValue = z.infer<typeof observationValue>;

export const OBSERVATION_STATUS = ['final', 'amended', 'corrected', 'preliminary'] as const;

/**
 * An observation recorded in a child's health record (FHIR Observation): what was observed
 * (its code), when, and its value or the values of its components (a blood pressure's two
 * readings). An observation without a value is a coded finding (the code says it all).
 */
export const healthObservationRecorded = envelope(
  'health.observation.recorded',
  healthSource,
  z
    .strictObject({
      code: recordedCode,
      /** The code's text, when the record gives one beside (or instead of) a display. */
      text: shortText.optional(),
      category: recordedCode.optional(),
      status: z.enum(OBSERVATION_STATUS),
      effectiveDate: isoDate,
      /** The time too, when the record has it. */
      effectiveAt: isoDateTime.optional(),
      value: observationValue.optional(),
      components: z
        .array(z.strictObject({ code: recordedCode, value: observationValue }))
        .min(1)
        .max(20)
        .optional(),
      interpretation: recordedCode.optional(),
      /** The record's own id of the observation, to tell a correction from a new observation. */
      recordId: z.string().trim().min(1).max(64).optional(),
      narrative: narrative.optional(),
    })
    .refine((d) => d.effectiveAt === undefined || d.effectiveAt.slice(0, 10) === d.effectiveDate, {
      path: ['effectiveAt'],
      message: 'effectiveAt must fall on effectiveDate',
      params: { rule: 'same-day-as-effectiveDate' },
    }),
);

export const FLAG_STATUS = ['active', 'inactive'] as const;

/**
 * A flag on a child's health record (FHIR Flag): an alert to whoever opens the record, such
 * as a child protection plan or looked-after status flag (CP-IS), with its code and the period
 * it stands for.
 */
export const healthFlagRecorded = envelope(
  'health.flag.recorded',
  healthSource,
  z
    .strictObject({
      code: recordedCode,
      text: shortText.optional(),
      category: recordedCode.optional(),
      status: z.enum(FLAG_STATUS),
      periodStart: isoDate,
      periodEnd: isoDate.optional(),
      recordId: z.string().trim().min(1).max(64).optional(),
      narrative: narrative.optional(),
    })
    .refine((d) => d.periodEnd === undefined || d.periodEnd >= d.periodStart, {
      path: ['periodEnd'],
      message: 'periodEnd cannot precede periodStart',
      params: { rule: 'not-before-periodStart' },
    }),
);

export const healthRecordEvents = [healthObservationRecorded, healthFlagRecorded] as const;

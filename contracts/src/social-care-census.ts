import { z } from 'zod';
import disabilityList from '../code-lists/cin-disability.json';
import ethnicityList from '../code-lists/cin-ethnicity.json';
import preProceedingsOutcomeList from '../code-lists/cin-pre-proceedings-outcome.json';
import upnUnknownList from '../code-lists/cin-upn-unknown.json';
import { codeList, envelope, isoDate, narrative, notBefore, source } from './common';

/**
 * The CIN census modules that had no event type before issue 14: child characteristics, the
 * reason a UPN is unknown, death, an assessment not yet authorised, and the 2025-26
 * pre-proceedings module. Code lists are the data files in `contracts/code-lists/`.
 */

const socialCareSource = source('social-care');

/** CIN census ethnicity (`ethnicitytype`), codes and labels as the XSD documents them. */
export const CIN_ETHNICITY = codeList(ethnicityList);
/** CIN census disability (`disabilitytype`); NONE is "No disability". */
export const CIN_DISABILITY = codeList(disabilityList);
/** CIN census UPNunknown: UN1-UN7 (SSDA903 and SEN2 have their own lists). */
export const CIN_UPN_UNKNOWN = codeList(upnUnknownList);
/** Outcome of pre-proceedings (2025-26, CS131): codes A-C; labels not found, see the list file. */
export const PRE_PROCEEDINGS_OUTCOME = codeList(preProceedingsOutcomeList);

/**
 * A child's characteristics as the LA holds them (CIN census ChildCharacteristics): ethnicity
 * and disabilities. `asAt` is the day they were known to be so; for an imported return it is
 * the census reference date, since the return does not say when they were recorded.
 * `disabilities` absent means none were reported (the census's Disabilities module is
 * optional); `['NONE']` means the LA reported no disability. Racial or ethnic origin is
 * special category data: `specialCategories` must include `ethnicity`.
 */
export const childCharacteristicsRecorded = envelope(
  'social-care.child-characteristics.recorded',
  socialCareSource,
  z
    .strictObject({
      asAt: isoDate,
      ethnicity: CIN_ETHNICITY,
      disabilities: z.array(CIN_DISABILITY).min(1).max(13).optional(),
    })
    .refine((d) => !d.disabilities?.includes('NONE') || d.disabilities.length === 1, {
      path: ['disabilities'],
      message: 'NONE (no disability) cannot be combined with a disability',
      params: { rule: 'none-alone' },
    })
    .refine((d) => !d.disabilities || new Set(d.disabilities).size === d.disabilities.length, {
      path: ['disabilities'],
      message: 'each disability appears once',
      params: { rule: 'unique-items' },
    }),
  1,
  { specialCategories: ['ethnicity'] },
);

/**
 * Why the child has no UPN (CIN census UPNunknown, UN1-UN7), as at `asAt` (for an imported
 * return, its reference date). A child with a UPN has none of these.
 */
export const upnUnknownRecorded = envelope(
  'social-care.upn-unknown.recorded',
  socialCareSource,
  z.strictObject({
    asAt: isoDate,
    reason: CIN_UPN_UNKNOWN,
  }),
);

/** The child died (CIN census PersonDeathDate). The census holds the date only. */
export const deathRecorded = envelope(
  'social-care.death.recorded',
  socialCareSource,
  z.strictObject({
    dateOfDeath: isoDate,
    narrative: narrative.optional(),
  }),
);

/**
 * A child and family assessment started and not yet authorised (CIN census Assessments
 * without AssessmentAuthorisationDate): `social-care.assessment.completed` follows when it is
 * authorised. `internalReviewDate` is the census's AssessmentInternalReviewDate.
 */
export const assessmentStarted = envelope(
  'social-care.assessment.started',
  socialCareSource,
  z
    .strictObject({
      startDate: isoDate,
      internalReviewDate: isoDate.optional(),
      narrative: narrative.optional(),
    })
    .refine(...notBefore('internalReviewDate', 'startDate')),
);

/**
 * Pre-proceedings began (CIN census 2025-26 module 5, "pre-proceedings and FGDM"). Modelled
 * only on what a source names: the D2I CIN validator's 2025-26 rules 9000Q-9015Q
 * (data-to-insight/csc-validator-be-cin). The DfE's 2025-26 specification itself was not
 * read, and the XSD in ../shared/domain/specs (2023-24 shape) has no such module, so element
 * names and meanings come from the validator's field names and messages:
 * - `startDate` PPStartDate (N00826): the legal planning meeting or other forum that decided
 *   to begin pre-proceedings (rule 9005);
 * - `letterBeforeProceedingsDate` LBPSentDate: the letter before proceedings sent (rule 9006,
 *   on or after the start);
 * - `familyGroupDecisionMeetingOffered` FGDMMeetingOffer (N00828): whether the letter offered
 *   a family group decision-making meeting (rule 9007);
 * - `initialMeetingDate` InitialPPMeetingDate (N00830): the first effective pre-proceedings
 *   meeting (rule 9008);
 * - `reviewMeetingsCount` ReviewMeetingsCount (N00831): review meetings held after it (9015Q).
 */
export const preProceedingsStarted = envelope(
  'social-care.pre-proceedings.started',
  socialCareSource,
  z
    .strictObject({
      startDate: isoDate,
      letterBeforeProceedingsDate: isoDate.optional(),
      familyGroupDecisionMeetingOffered: z.boolean().optional(),
      initialMeetingDate: isoDate.optional(),
      reviewMeetingsCount: z.number().int().min(0).max(99).optional(),
      narrative: narrative.optional(),
    })
    .refine(...notBefore('letterBeforeProceedingsDate', 'startDate')),
);

/**
 * Pre-proceedings ended with a decision to step up (care proceedings) or down (CIN census
 * 2025-26, same sources as `social-care.pre-proceedings.started`):
 * - `decisionDate` StepDecisionDate: the decision to step up or down, on or after the start
 *   (rule 9009);
 * - `outcome` PPOutcome (N00833, code set CS131: A, B, C; rule 9011): labels not found;
 * - `courtApplicationDate` CourtAppDate: the LA's court application to commence care
 *   proceedings, on or after the decision (rule 9012);
 * - `letterInitiatingProceedingsDate` LetterInitCPDate: the letter to parents initiating care
 *   proceedings, on or after the court application (rule 9013).
 */
export const preProceedingsEnded = envelope(
  'social-care.pre-proceedings.ended',
  socialCareSource,
  z
    .strictObject({
      startDate: isoDate,
      decisionDate: isoDate,
      outcome: PRE_PROCEEDINGS_OUTCOME.optional(),
      courtApplicationDate: isoDate.optional(),
      letterInitiatingProceedingsDate: isoDate.optional(),
      narrative: narrative.optional(),
    })
    .refine(...notBefore('decisionDate', 'startDate'))
    .refine(...notBefore('courtApplicationDate', 'decisionDate'))
    .refine(...notBefore('letterInitiatingProceedingsDate', 'courtApplicationDate')),
);

export const socialCareCensusEvents = [
  childCharacteristicsRecorded,
  upnUnknownRecorded,
  deathRecorded,
  assessmentStarted,
  preProceedingsStarted,
  preProceedingsEnded,
] as const;

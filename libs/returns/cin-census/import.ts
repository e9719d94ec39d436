import { IDENTIFIER_FIELDS, parseAgencyEvent, type Provenance, type Subject } from '@throughline/contracts';
import { importedEventId } from '../event-id';
import type { ImportContext, ImportFile, ImportItem, ReturnImporter } from '../importer';
import { returnRecordId, subjectFromReturn } from '../subject';
import { child, childrenNamed, streamRecords, textOf, type XmlNode } from './xml-tree';

/**
 * The CIN census importer: streams the XML with `sax`, holds one Child at a time, and maps every
 * module to events (README.md in this folder lists the mapping and what cannot round-trip).
 * Each event carries its provenance (collection year, file hash, element path) and a
 * deterministic id (`importedEventId('cin-census', la, LAchildID, module, natural key…)`) that
 * holds neither the file nor the year, so next year's return adds only what is new. A bad
 * identifier is quarantined (subjectFromReturn); a bad element is refused with its path, rule
 * and reason, and the rest of the child is still imported.
 */

const FORMAT = 'cin-census' as const;
const HEADER_PATH = 'Message/Header';
const CHILD_PATH = 'Message/Children/Child';

interface FileFacts {
  laCode?: string;
  collectionYear?: string;
  referenceDate?: string;
}

/** The DfE collection year (1 April to 31 March) of a date: 2024-03-31 → 2023-24. */
export function collectionYearOf(date: string): string {
  const year = Number(date.slice(0, 4));
  const start = Number(date.slice(5, 7)) >= 4 ? year : year - 1;
  return `${start}-${String((start + 1) % 100).padStart(2, '0')}`;
}

/** The census reference date (31 March) that ends a collection year: 2023-24 → 2024-03-31. */
export function referenceDateOf(collectionYear: string): string {
  return `${Number(collectionYear.slice(0, 4)) + 1}-03-31`;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** An xs:date may carry a time zone (`2024-03-31Z`, `2024-03-31+01:00`): the day is what counts. */
function dayOf(value: string): string {
  return /^\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})$/.test(value) ? value.slice(0, 10) : value;
}

function isCalendarDate(value: string): boolean {
  if (!ISO_DATE.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

const YES_NO: Readonly<Record<string, boolean>> = {
  true: true,
  TRUE: true,
  '1': true,
  false: false,
  FALSE: false,
  '0': false,
};

class ElementRefused extends Error {
  constructor(
    readonly location: string,
    readonly rule: string,
    reason: string,
  ) {
    super(reason);
  }
}

/** Reads one child's elements; `required`/`optional` throw ElementRefused for a bad value. */
class Reader {
  readonly refused: ImportItem[] = [];

  date(node: XmlNode, name: string, required: true): string;
  date(node: XmlNode, name: string, required?: false): string | undefined;
  date(node: XmlNode, name: string, required = false): string | undefined {
    const text = textOf(node, name);
    const value = text === undefined ? undefined : dayOf(text);
    const at = child(node, name)?.path ?? `${node.path}/${name}`;
    if (value === undefined) {
      if (required) throw new ElementRefused(at, 'required', `${name} is required in ${node.name}`);
      return undefined;
    }
    if (!isCalendarDate(value)) {
      throw new ElementRefused(
        at,
        'format:date',
        `${name} "${value.slice(0, 40)}" is not a date (YYYY-MM-DD)`,
      );
    }
    return value;
  }

  yesNo(node: XmlNode, name: string): boolean | undefined {
    const value = textOf(node, name);
    if (value === undefined) return undefined;
    const parsed = YES_NO[value];
    if (parsed === undefined) {
      throw new ElementRefused(
        child(node, name)!.path,
        'one-of',
        `${name} "${value.slice(0, 40)}" is not one of true, false, 1, 0`,
      );
    }
    return parsed;
  }

  /** Runs `read` and turns an ElementRefused into a refused item; the child goes on. */
  attempt(read: () => void): void {
    try {
      read();
    } catch (error) {
      if (!(error instanceof ElementRefused)) throw error;
      this.refused.push({
        kind: 'refused',
        location: error.location,
        rule: error.rule,
        reason: error.message,
      });
    }
  }
}

interface ChildContext {
  readonly la: string;
  readonly laChildId: string;
  readonly file: ImportFile;
  readonly system: string;
  readonly collectionYear: string;
  readonly referenceDate: string;
  /** The subject with its date of birth, and without it for events dated before the birth. */
  subject: Subject;
  subjectBeforeBirth: Subject;
  /** The element the subject's sex came from (left out when its code is not valid in the year). */
  readonly sexElement?: XmlNode;
  readonly identifiersPath: string;
  readonly dateOfBirth?: string;
  readonly items: ImportItem[];
  readonly seen: Set<string>;
}

/** The subject without `field`: an identifier moves to the quarantine with the rule it failed. */
function withoutSubjectField(
  subject: Subject,
  field: string,
  issue: { rule: string; message: string },
): Subject {
  const { [field]: value, ...rest } = subject as unknown as Record<string, unknown>;
  if (value === undefined) return subject;
  if (!(IDENTIFIER_FIELDS as readonly string[]).includes(field)) return rest as unknown as Subject;
  const held = {
    field: field as (typeof IDENTIFIER_FIELDS)[number],
    value: String(value).slice(0, 64),
    rule: issue.rule,
    message: issue.message.slice(0, 200),
  };
  return {
    ...(rest as unknown as Subject),
    quarantinedIdentifiers: [...(subject.quarantinedIdentifiers ?? []), held].slice(0, 10),
  };
}

/** Builds, checks and queues one event; a contract failure becomes a refused item. */
function emit(
  ctx: ChildContext,
  location: string,
  type: string,
  occurredOn: string,
  naturalKey: readonly (string | number | undefined)[],
  data: Record<string, unknown>,
  extra: { correlationId?: string; specialCategories?: string[] } = {},
): string {
  const eventId = importedEventId(FORMAT, ctx.la, ctx.laChildId, ...naturalKey);
  if (ctx.seen.has(eventId)) return eventId;
  ctx.seen.add(eventId);
  const provenance: Provenance = {
    kind: 'statutory-return',
    format: FORMAT,
    collectionYear: ctx.collectionYear,
    fileSha256: ctx.file.sha256,
    location: location.slice(0, 200),
  };
  const bornBefore = ctx.dateOfBirth !== undefined && occurredOn < ctx.dateOfBirth;
  const event = {
    eventId,
    type,
    schemaVersion: 1,
    occurredAt: `${occurredOn}T00:00:00Z`,
    source: { agency: 'social-care', system: ctx.system, organisation: ctx.la },
    subject: bornBefore ? ctx.subjectBeforeBirth : ctx.subject,
    ...(extra.correlationId ? { correlationId: extra.correlationId } : {}),
    ...(extra.specialCategories ? { specialCategories: extra.specialCategories } : {}),
    provenance,
    data: Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined)),
  };
  let parsed = parseAgencyEvent(event, { publishingAgency: 'social-care' });
  if (!parsed.ok && parsed.issues.every((issue) => /^subject\.[A-Za-z]+$/.test(issue.path))) {
    // Rules held at intake on the subject, by year (a sex code of another year: GenderCurrent
    // 1/2/0/9 to 2023-24, Sex M/F/U from 2024-25; an LA child id with characters the census
    // refuses): the identifier is quarantined, another field left out, each reported once, and
    // the child still imported.
    for (const issue of parsed.issues) {
      const field = issue.path.slice('subject.'.length);
      ctx.subject = withoutSubjectField(ctx.subject, field, issue);
      ctx.subjectBeforeBirth = withoutSubjectField(ctx.subjectBeforeBirth, field, issue);
      const identifier = (IDENTIFIER_FIELDS as readonly string[]).includes(field);
      ctx.items.push({
        kind: 'refused',
        location: (field === 'sex' ? ctx.sexElement?.path : undefined) ?? ctx.identifiersPath,
        rule: issue.rule,
        reason: `subject.${field} ${identifier ? 'quarantined' : 'left out'} (${issue.message}); the child is still imported`,
      });
    }
    event.subject = bornBefore ? ctx.subjectBeforeBirth : ctx.subject;
    parsed = parseAgencyEvent(event, { publishingAgency: 'social-care' });
  }
  if (parsed.ok) {
    ctx.items.push({ kind: 'event', event, location });
  } else {
    const [first] = parsed.issues;
    ctx.items.push({
      kind: 'refused',
      location,
      rule: first.rule,
      reason: parsed.issues
        .slice(0, 5)
        .map((issue) => `${issue.path}: ${issue.message} (${issue.rule})`)
        .join('; '),
    });
  }
  return eventId;
}

function readHeader(node: XmlNode, facts: FileFacts): void {
  const details = child(node, 'CollectionDetails');
  const referenceText = details && textOf(details, 'ReferenceDate');
  const reference = referenceText && dayOf(referenceText);
  const year = details && textOf(details, 'Year');
  if (reference && isCalendarDate(reference)) {
    facts.referenceDate = reference;
    facts.collectionYear = collectionYearOf(reference);
  } else if (year && /^\d{4}$/.test(year)) {
    // <Year> names the census by the year its reference date (31 March) falls in.
    facts.collectionYear = `${Number(year) - 1}-${year.slice(2)}`;
    facts.referenceDate = `${year}-03-31`;
  }
  const source = child(node, 'Source');
  const lea = source && textOf(source, 'LEA');
  if (lea) facts.laCode = lea;
}

function readCinDetails(ctx: ChildContext, reader: Reader, details: XmlNode): void {
  let referralDate: string;
  try {
    referralDate = reader.date(details, 'CINreferralDate', true);
  } catch (error) {
    if (!(error instanceof ElementRefused)) throw error;
    // Every record of the episode is keyed by its referral: without it none can be placed.
    reader.refused.push({
      kind: 'refused',
      location: details.path,
      rule: error.rule,
      reason: `${error.message}: the CINdetails and its modules are not imported`,
    });
    return;
  }
  let correlationId: string | undefined;
  reader.attempt(() => {
    const noFurtherAction = reader.yesNo(details, 'ReferralNFA');
    correlationId = emit(
      ctx,
      details.path,
      'social-care.referral.received',
      referralDate,
      ['referral', referralDate],
      {
        referralDate,
        referralSource: textOf(details, 'ReferralSource'),
        primaryNeed: textOf(details, 'PrimaryNeedCode'),
        noFurtherAction,
      },
    );
  });
  const linked = { correlationId };

  for (const assessment of childrenNamed(details, 'Assessments')) {
    reader.attempt(() => {
      const startDate = reader.date(assessment, 'AssessmentActualStartDate', true);
      const internalReviewDate = reader.date(assessment, 'AssessmentInternalReviewDate');
      const authorisationDate = reader.date(assessment, 'AssessmentAuthorisationDate');
      const factorsNode = child(assessment, 'FactorsIdentifiedAtAssessment');
      const factors = factorsNode
        ? childrenNamed(factorsNode, 'AssessmentFactors')
            .map((node) => node.text.trim())
            .filter(Boolean)
        : [];
      if (authorisationDate === undefined) {
        emit(
          ctx,
          assessment.path,
          'social-care.assessment.started',
          startDate,
          ['assessment-started', referralDate, startDate],
          { startDate, internalReviewDate },
          linked,
        );
        return;
      }
      emit(
        ctx,
        assessment.path,
        'social-care.assessment.completed',
        authorisationDate,
        ['assessment', referralDate, startDate],
        {
          startDate,
          internalReviewDate,
          authorisationDate,
          factors: factors.length ? [...new Set(factors)] : undefined,
        },
        linked,
      );
    });
  }

  for (const plan of childrenNamed(details, 'CINPlanDates')) {
    reader.attempt(() => {
      const startDate = reader.date(plan, 'CINPlanStartDate', true);
      const endDate = reader.date(plan, 'CINPlanEndDate');
      emit(
        ctx,
        plan.path,
        'social-care.cin-plan.started',
        startDate,
        ['cin-plan', referralDate, startDate],
        { startDate },
        linked,
      );
      if (endDate !== undefined) {
        emit(
          ctx,
          plan.path,
          'social-care.cin-plan.ended',
          endDate,
          ['cin-plan-end', referralDate, startDate],
          { startDate, endDate },
          linked,
        );
      }
    });
  }

  const conferenceDates = new Set<string>();
  for (const enquiry of childrenNamed(details, 'Section47')) {
    reader.attempt(() => {
      const startDate = reader.date(enquiry, 'S47ActualStartDate', true);
      const icpcTargetDate = reader.date(enquiry, 'InitialCPCtarget');
      const conferenceDate = reader.date(enquiry, 'DateOfInitialCPC');
      const icpcNotRequired = reader.yesNo(enquiry, 'ICPCnotRequired');
      emit(
        ctx,
        enquiry.path,
        'social-care.section-47-enquiry.started',
        startDate,
        ['s47', referralDate, startDate],
        { startDate, icpcTargetDate },
        linked,
      );
      if (icpcNotRequired === true) {
        // The return says only that no conference is required: the outcome and the date the
        // enquiry completed are not in it (occurredAt is the enquiry's start).
        emit(
          ctx,
          enquiry.path,
          'social-care.section-47-enquiry.completed',
          startDate,
          ['s47-completed', referralDate, startDate],
          { startDate, icpcRequired: false },
          linked,
        );
      } else if (conferenceDate !== undefined) {
        emit(
          ctx,
          enquiry.path,
          'social-care.section-47-enquiry.completed',
          startDate,
          ['s47-completed', referralDate, startDate],
          { startDate, icpcRequired: true, outcome: 'icpc' },
          linked,
        );
        conferenceDates.add(conferenceDate);
        emit(
          ctx,
          `${enquiry.path}/DateOfInitialCPC`,
          'social-care.initial-child-protection-conference.held',
          conferenceDate,
          ['icpc', referralDate, conferenceDate],
          { conferenceDate, section47StartDate: startDate },
          linked,
        );
      }
    });
  }
  reader.attempt(() => {
    const conferenceDate = reader.date(details, 'DateOfInitialCPC');
    if (conferenceDate === undefined || conferenceDates.has(conferenceDate)) return;
    emit(
      ctx,
      `${details.path}/DateOfInitialCPC`,
      'social-care.initial-child-protection-conference.held',
      conferenceDate,
      ['icpc', referralDate, conferenceDate],
      { conferenceDate },
      linked,
    );
  });

  for (const plan of childrenNamed(details, 'ChildProtectionPlans')) {
    reader.attempt(() => readPlan(ctx, reader, plan, referralDate, linked));
  }

  for (const pre of childrenNamed(details, 'PreProceedings')) {
    reader.attempt(() => readPreProceedings(ctx, reader, pre, linked));
  }

  reader.attempt(() => {
    const closureDate = reader.date(details, 'CINclosureDate');
    const reason = textOf(details, 'ReasonForClosure');
    if (closureDate === undefined) {
      if (reason !== undefined) {
        throw new ElementRefused(
          child(details, 'ReasonForClosure')!.path,
          'required-with-CINclosureDate',
          'ReasonForClosure is given without CINclosureDate',
        );
      }
      return;
    }
    emit(
      ctx,
      `${details.path}/CINclosureDate`,
      'social-care.case.closed',
      closureDate,
      ['closure', referralDate],
      { referralDate, closureDate, reason },
      linked,
    );
  });
}

function readPlan(
  ctx: ChildContext,
  reader: Reader,
  plan: XmlNode,
  referralDate: string,
  linked: { correlationId?: string },
): void {
  const startDate = reader.date(plan, 'CPPstartDate', true);
  const endDate = reader.date(plan, 'CPPendDate');
  const initialCategory = textOf(plan, 'InitialCategoryOfAbuse');
  const latestCategory = textOf(plan, 'LatestCategoryOfAbuse');
  const previous = textOf(plan, 'NumberOfPreviousCPP');
  if (previous !== undefined && !/^\d{1,2}$/.test(previous)) {
    throw new ElementRefused(
      child(plan, 'NumberOfPreviousCPP')!.path,
      'type:integer',
      `NumberOfPreviousCPP "${previous.slice(0, 20)}" is not a whole number`,
    );
  }
  emit(
    ctx,
    plan.path,
    'social-care.child-protection-plan.started',
    startDate,
    ['cpp', referralDate, startDate],
    {
      startDate,
      initialCategory,
      numberOfPreviousPlans: previous === undefined ? undefined : Number(previous),
    },
    linked,
  );
  const reviewsNode = child(plan, 'Reviews');
  const reviews: { date: string; path: string }[] = [];
  for (const review of reviewsNode ? childrenNamed(reviewsNode, 'CPPreviewDate') : []) {
    const date = dayOf(review.text.trim());
    if (!isCalendarDate(date)) {
      reader.refused.push({
        kind: 'refused',
        location: review.path,
        rule: 'format:date',
        reason: `CPPreviewDate "${date.slice(0, 40)}" is not a date (YYYY-MM-DD)`,
      });
      continue;
    }
    reviews.push({ date, path: review.path });
  }
  reviews.sort((a, b) => a.date.localeCompare(b.date));
  // The return gives one latest category per plan: the category after the last review (or at
  // the end). It goes on the end when the plan ended, else on the last review.
  const lastReview = endDate === undefined ? reviews[reviews.length - 1] : undefined;
  for (const review of reviews) {
    emit(
      ctx,
      review.path,
      'social-care.child-protection-plan.reviewed',
      review.date,
      ['cpp-review', referralDate, startDate, review.date],
      {
        reviewDate: review.date,
        planStartDate: startDate,
        latestCategory: review === lastReview ? latestCategory : undefined,
      },
      linked,
    );
  }
  if (endDate !== undefined) {
    emit(
      ctx,
      `${plan.path}/CPPendDate`,
      'social-care.child-protection-plan.ended',
      endDate,
      ['cpp-end', referralDate, startDate],
      { startDate, endDate, initialCategory, latestCategory },
      linked,
    );
  }
}

/** The 2025-26 module, by the D2I validator's field names (see the contract's doc comment). */
function readPreProceedings(
  ctx: ChildContext,
  reader: Reader,
  node: XmlNode,
  linked: { correlationId?: string },
): void {
  const startDate = reader.date(node, 'PPStartDate', true);
  const count = textOf(node, 'ReviewMeetingsCount');
  if (count !== undefined && !/^\d{1,2}$/.test(count)) {
    throw new ElementRefused(
      child(node, 'ReviewMeetingsCount')!.path,
      'type:integer',
      `ReviewMeetingsCount "${count.slice(0, 20)}" is not a whole number`,
    );
  }
  emit(
    ctx,
    node.path,
    'social-care.pre-proceedings.started',
    startDate,
    ['pre-proceedings', startDate],
    {
      startDate,
      letterBeforeProceedingsDate: reader.date(node, 'LBPSentDate'),
      familyGroupDecisionMeetingOffered: reader.yesNo(node, 'FGDMMeetingOffer'),
      initialMeetingDate: reader.date(node, 'InitialPPMeetingDate'),
      reviewMeetingsCount: count === undefined ? undefined : Number(count),
    },
    linked,
  );
  const decisionDate = reader.date(node, 'StepDecisionDate');
  if (decisionDate === undefined) return;
  emit(
    ctx,
    `${node.path}/StepDecisionDate`,
    'social-care.pre-proceedings.ended',
    decisionDate,
    ['pre-proceedings-end', startDate],
    {
      startDate,
      decisionDate,
      outcome: textOf(node, 'PPOutcome'),
      courtApplicationDate: reader.date(node, 'CourtAppDate'),
      letterInitiatingProceedingsDate: reader.date(node, 'LetterInitCPDate'),
    },
    linked,
  );
}

const KNOWN_CHILD_ELEMENTS = new Set([
  'ChildIdentifiers',
  'ChildCharacteristics',
  'CINdetails',
  'PreProceedings',
]);

function readChild(
  node: XmlNode,
  file: ImportFile,
  facts: Required<FileFacts>,
  system: string,
): ImportItem[] {
  const ids = child(node, 'ChildIdentifiers');
  const laChildId = ids && textOf(ids, 'LAchildID');
  if (!ids || !laChildId) {
    return [
      {
        kind: 'refused',
        location: ids?.path ?? node.path,
        rule: 'required',
        reason:
          'LAchildID is required: a child without it cannot be told apart from another; the child is not imported',
      },
    ];
  }
  const reader = new Reader();
  const items: ImportItem[] = [{ kind: 'child', childId: laChildId }];

  let dateOfBirth: string | undefined;
  let expectedDateOfBirth: string | undefined;
  let dateOfDeath: string | undefined;
  reader.attempt(() => (dateOfBirth = reader.date(ids, 'PersonBirthDate')));
  reader.attempt(() => (expectedDateOfBirth = reader.date(ids, 'ExpectedPersonBirthDate')));
  reader.attempt(() => (dateOfDeath = reader.date(ids, 'PersonDeathDate')));
  // <Sex> (M/F/U) from 2024-25 replaces <GenderCurrent> (1/2/0/9).
  const sex = textOf(ids, 'Sex') ?? textOf(ids, 'GenderCurrent');
  const reported = {
    recordId: returnRecordId(facts.laCode, laChildId),
    laChildId,
    laCode: facts.laCode,
    upn: textOf(ids, 'UPN'),
    formerUpn: textOf(ids, 'FormerUPN'),
    sex,
    dateOfBirth,
    expectedDateOfBirth: dateOfBirth === undefined ? expectedDateOfBirth : undefined,
  };
  const { subject, dropped } = subjectFromReturn(reported);
  for (const field of dropped) {
    const element =
      field.field === 'subject.sex' ? (child(ids, 'Sex') ?? child(ids, 'GenderCurrent')) : undefined;
    items.push({
      kind: 'refused',
      location: element?.path ?? ids.path,
      rule: field.rule,
      reason: `${field.field} left out (${field.message}); the child is still imported`,
    });
  }
  const beforeBirth = subjectFromReturn({
    ...reported,
    dateOfBirth: undefined,
    expectedDateOfBirth: dateOfBirth === undefined ? undefined : expectedDateOfBirth,
  }).subject;

  const ctx: ChildContext = {
    la: facts.laCode,
    laChildId,
    file,
    system,
    collectionYear: facts.collectionYear,
    referenceDate: facts.referenceDate,
    subject,
    subjectBeforeBirth: beforeBirth,
    sexElement: child(ids, 'Sex') ?? child(ids, 'GenderCurrent'),
    identifiersPath: ids.path,
    dateOfBirth: subject.dateOfBirth,
    items,
    seen: new Set(),
  };

  const upnUnknown = textOf(ids, 'UPNunknown');
  if (upnUnknown !== undefined) {
    emit(
      ctx,
      child(ids, 'UPNunknown')!.path,
      'social-care.upn-unknown.recorded',
      facts.referenceDate,
      ['upn-unknown', upnUnknown],
      { asAt: facts.referenceDate, reason: upnUnknown },
    );
  }

  const characteristics = child(node, 'ChildCharacteristics');
  if (characteristics) {
    const disabilitiesNode = child(characteristics, 'Disabilities');
    const disabilities = disabilitiesNode
      ? [
          ...new Set(
            childrenNamed(disabilitiesNode, 'Disability')
              .map((d) => d.text.trim())
              .filter(Boolean),
          ),
        ]
      : undefined;
    const ethnicity = textOf(characteristics, 'Ethnicity');
    emit(
      ctx,
      characteristics.path,
      'social-care.child-characteristics.recorded',
      facts.referenceDate,
      ['characteristics', ethnicity, (disabilities ?? []).slice().sort().join('+')],
      { asAt: facts.referenceDate, ethnicity, disabilities: disabilities?.length ? disabilities : undefined },
      { specialCategories: ['ethnicity'] },
    );
  }

  for (const details of childrenNamed(node, 'CINdetails')) readCinDetails(ctx, reader, details);
  // A child-level PreProceedings element, in case the 2025-26 module sits beside CINdetails.
  for (const pre of childrenNamed(node, 'PreProceedings')) {
    reader.attempt(() => readPreProceedings(ctx, reader, pre, {}));
  }

  if (dateOfDeath !== undefined) {
    emit(
      ctx,
      child(ids, 'PersonDeathDate')!.path,
      'social-care.death.recorded',
      dateOfDeath,
      ['death', dateOfDeath],
      {
        dateOfDeath,
      },
    );
  }

  for (const other of node.children) {
    if (KNOWN_CHILD_ELEMENTS.has(other.name)) continue;
    reader.refused.push({
      kind: 'refused',
      location: other.path,
      rule: 'unknown-element',
      reason: `${other.name} is not a CIN census element this importer knows; it is not imported`,
    });
  }
  return [...items, ...reader.refused];
}

export const cinCensusImporter: ReturnImporter = {
  format: FORMAT,
  async *read(files: readonly ImportFile[], context: ImportContext): AsyncIterable<ImportItem> {
    for (const file of files) {
      const facts: FileFacts = {};
      const complete = (): Required<FileFacts> => {
        const collectionYear =
          context.collectionYear ??
          facts.collectionYear ??
          (() => {
            throw new Error(
              `${file.name}: the collection year is neither in the Header (CollectionDetails/ReferenceDate or Year) nor given`,
            );
          })();
        const laCode =
          context.laCode ??
          facts.laCode ??
          (() => {
            throw new Error(`${file.name}: the LA code is neither in the Header (Source/LEA) nor given`);
          })();
        return {
          collectionYear,
          laCode,
          referenceDate: context.collectionYear
            ? referenceDateOf(collectionYear)
            : (facts.referenceDate ?? referenceDateOf(collectionYear)),
        };
      };
      let resolved: Required<FileFacts> | undefined;
      yield* streamRecords<ImportItem>(
        file.open(),
        new Set([HEADER_PATH, CHILD_PATH]),
        (node) => {
          if (node.name === 'Header') {
            readHeader(node, facts);
            return [];
          }
          resolved ??= complete();
          return readChild(node, file, resolved, context.system);
        },
        'Message',
      );
    }
  },
};

import { once } from 'node:events';
import {
  ASSESSMENT_FACTOR,
  CIN_DISABILITY,
  CIN_ETHNICITY,
  makeUpn,
  REFERRAL_SOURCE,
} from '@throughline/contracts';
import { ageInYears } from '../calendar';
import {
  caseHolderOn,
  type ChildProfile,
  type EventSink,
  type SocialCareRecord,
  subjectOn,
} from '../history';
import { SYSTEMS } from '../names';
import { hash32, Random } from '../random';

/**
 * A synthetic CIN census return (the XML of ../shared/domain/specs/CIN_schema_2024.xsd), child
 * by child, with the awkward cases real files have: most UPNs fail their check letter, some
 * are lower case, some children have UPNunknown instead, optional modules are missing, an
 * unborn child has only an expected date of birth, some children have two CINdetails,
 * "Disabilities" is often NONE, and a few records have dates out of order (a CIN plan ending
 * before it starts), which an importer must refuse. A pure function of its options: the same
 * seed writes the same file. Synthetic people only: nobody real.
 */
export interface CinCensusWriterOptions {
  /** How many children (≥ 1); 10,000 and more is fine, the file is written child by child. */
  readonly children: number;
  readonly seed?: number | string;
  /** Three digits. Default 926. */
  readonly laCode?: string;
  /** The census year, `2023-24` (reference date 31 March 2024). Default 2024-25. */
  readonly collectionYear?: string;
  /** `GenderCurrent` (1/2/0/9, the XSD's, to 2023-24) or `Sex` (M/F/U, from 2024-25). Default: the year's. */
  readonly sexElement?: 'GenderCurrent' | 'Sex';
}

/** Which awkward case child `index` plants (exported so tests can find them). */
export const PLANTED = {
  unborn: (index: number) => index % 50 === 7,
  twoReferrals: (index: number) => index % 10 === 3,
  datesOutOfOrder: (index: number) => index % 97 === 11,
  died: (index: number) => index % 211 === 5,
  lowerCaseUpn: (index: number) => index % 20 === 9,
} as const;

const DAY = 24 * 60 * 60 * 1000;

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
}

function minDate(a: string, b: string): string {
  return a < b ? a : b;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const ETHNICITIES = CIN_ETHNICITY.options;
const DISABILITIES = CIN_DISABILITY.options.filter((code) => code !== 'NONE');
const SOURCES = REFERRAL_SOURCE.options;
const FACTORS = ASSESSMENT_FACTOR.options.filter((code) => code !== '21');
const NEEDS = ['N1', 'N2', 'N3', 'N4', 'N5', 'N6', 'N7', 'N8', 'N9', 'N0'] as const;
const CATEGORIES = ['NEG', 'PHY', 'SAB', 'EMO'] as const;
const CLOSURE = ['RC1', 'RC2', 'RC3', 'RC4', 'RC5', 'RC6', 'RC7', 'RC8', 'RC9'] as const;
const UPN_UNKNOWN = ['UN1', 'UN2', 'UN3', 'UN4', 'UN5', 'UN6', 'UN7'] as const;

/** An XML element: text, or child elements (absent ones are left out). */
interface Node {
  readonly name: string;
  readonly text?: string;
  readonly children?: readonly (Node | undefined)[];
}

function leaf(name: string, value: string | number | undefined): Node | undefined {
  return value === undefined ? undefined : { name, text: String(value) };
}

function el(name: string, ...children: (Node | undefined)[]): Node {
  return { name, children };
}

function render(node: Node, indent: string, out: string[]): void {
  if (node.text !== undefined) {
    out.push(`${indent}<${node.name}>${escapeXml(node.text)}</${node.name}>`);
    return;
  }
  out.push(`${indent}<${node.name}>`);
  for (const inner of node.children ?? []) if (inner) render(inner, `${indent}  `, out);
  out.push(`${indent}</${node.name}>`);
}

function upnOf(random: Random, index: number): string {
  const body = Array.from({ length: 12 }, () => String(random.int(0, 9))).join('');
  // About 90% fail the check letter, as in public synthetic returns.
  const upn = random.chance(0.1) ? makeUpn(body) : String.fromCharCode(65 + random.int(0, 25)) + body;
  return PLANTED.lowerCaseUpn(index) ? upn.toLowerCase() : upn;
}

function referralOf(
  random: Random,
  index: number,
  referralDate: string,
  start: string,
  end: string,
  first: boolean,
  born: boolean,
): Node {
  // The planted dates out of order sit in a CIN plan, which a referral with no further action has not.
  const nfa = random.chance(0.1) && !(PLANTED.datesOutOfOrder(index) && first);
  const source = random.pick(SOURCES);
  const need = random.chance(0.95) ? random.pick(NEEDS) : undefined;
  let last = referralDate;
  let assessment: Node | undefined;
  const yearStart = start;
  if (!nfa) {
    const start = addDays(referralDate, random.int(0, 5));
    const authorised = addDays(start, random.int(10, 45));
    const review = random.chance(0.1) ? addDays(start, 5) : undefined;
    const factors =
      authorised <= end && random.chance(0.9)
        ? el(
            'FactorsIdentifiedAtAssessment',
            ...random.sample(FACTORS, random.int(1, 3)).map((factor) => leaf('AssessmentFactors', factor)),
          )
        : undefined;
    if (authorised <= end) last = authorised;
    // A return holds the assessments open during its year: one authorised before it is not in it.
    assessment =
      authorised < yearStart
        ? undefined
        : el(
            'Assessments',
            leaf('AssessmentActualStartDate', start),
            leaf('AssessmentInternalReviewDate', review),
            leaf('AssessmentAuthorisationDate', authorised <= end ? authorised : undefined),
            factors,
          );
  }
  const closing = nfa || random.chance(0.4);
  let plan: Node | undefined;
  let enquiry: Node | undefined;
  let cpp: Node | undefined;
  let conference: string | undefined;
  if (!nfa) {
    const outOfOrder = PLANTED.datesOutOfOrder(index) && first;
    if (random.chance(0.4) || outOfOrder) {
      const start = minDate(addDays(last, random.int(1, 10)), end);
      let planEnd: string | undefined;
      if (outOfOrder) planEnd = addDays(start, -20);
      else if (closing || random.chance(0.3)) planEnd = minDate(addDays(start, random.int(30, 120)), end);
      if (planEnd && planEnd > last) last = planEnd;
      plan = el('CINPlanDates', leaf('CINPlanStartDate', start), leaf('CINPlanEndDate', planEnd));
    }
    if (random.chance(0.25)) {
      const s47Start = addDays(referralDate, random.int(1, 3));
      const target = addDays(s47Start, 15);
      const noConference = random.chance(0.5) || target > end;
      if (!noConference) {
        conference = addDays(s47Start, random.int(10, 15));
        const initial = random.pick(CATEGORIES);
        const latest = random.chance(0.8) ? initial : random.pick(CATEGORIES);
        const reviews = [addDays(conference, 90), addDays(conference, 270)].filter((d) => d <= end);
        const cppEnd =
          closing && reviews.length ? minDate(addDays(reviews[reviews.length - 1], 10), end) : undefined;
        const lastOfPlan = cppEnd ?? reviews[reviews.length - 1] ?? conference;
        if (lastOfPlan > last) last = lastOfPlan;
        cpp = el(
          'ChildProtectionPlans',
          leaf('CPPstartDate', conference),
          leaf('CPPendDate', cppEnd),
          leaf('InitialCategoryOfAbuse', initial),
          leaf('LatestCategoryOfAbuse', latest),
          // xs:positiveInteger in the XSD (0 is not valid there): these plans had one or more before.
          leaf('NumberOfPreviousCPP', random.int(1, 3)),
          reviews.length ? el('Reviews', ...reviews.map((date) => leaf('CPPreviewDate', date))) : undefined,
        );
      }
      enquiry = el(
        'Section47',
        leaf('S47ActualStartDate', s47Start),
        leaf('InitialCPCtarget', target),
        leaf('DateOfInitialCPC', conference),
        leaf('ICPCnotRequired', noConference ? 'true' : 'false'),
      );
    }
  }
  // A return holds the episodes open at some point of its year: none closes before the year starts.
  const closeOn = nfa ? referralDate : minDate(addDays(last, random.int(1, 20)), end);
  const closure = closing ? (closeOn < start ? start : closeOn) : undefined;
  const reason = closing
    ? nfa
      ? 'RC8'
      : born
        ? random.pick(CLOSURE.filter((c) => c !== 'RC2'))
        : 'RC7'
    : undefined;
  return el(
    'CINdetails',
    leaf('CINreferralDate', referralDate),
    leaf('ReferralSource', source),
    leaf('PrimaryNeedCode', need),
    leaf('CINclosureDate', closure),
    leaf('ReasonForClosure', reason),
    leaf('DateOfInitialCPC', conference),
    assessment,
    plan,
    enquiry,
    leaf('ReferralNFA', nfa ? 'true' : 'false'),
    cpp,
  );
}

/** The XML of child `index` (one `<Child>` element). */
export function cinCensusChild(index: number, options: CinCensusWriterOptions): string {
  const seed = options.seed ?? 1;
  const year = options.collectionYear ?? '2024-25';
  const start = `${year.slice(0, 4)}-04-01`;
  const end = `${Number(year.slice(0, 4)) + 1}-03-31`;
  const random = new Random(seed, 'cin-census', index);
  const unborn = PLANTED.unborn(index);
  const hasUpn = !unborn && random.chance(0.85);
  const upn = hasUpn ? upnOf(random, index) : undefined;
  const formerUpn = hasUpn && random.chance(0.05) ? upnOf(random, index) : undefined;
  const upnUnknown = hasUpn ? undefined : unborn ? 'UN1' : random.pick(UPN_UNKNOWN);
  const dateOfBirth = addDays(end, -random.int(30, 17 * 365));
  const expected = unborn ? addDays(end, random.int(20, 120)) : undefined;
  const sexElement = options.sexElement ?? (year >= '2024-25' ? 'Sex' : 'GenderCurrent');
  const sex = unborn
    ? sexElement === 'Sex'
      ? 'U'
      : '0'
    : random.pick(sexElement === 'Sex' ? ['M', 'F'] : ['1', '2']);
  const died = PLANTED.died(index) && !unborn;
  const ethnicity = unborn ? 'NOBT' : random.pick(ETHNICITIES);
  const roll = random.next();
  const disabilities =
    roll < 0.3
      ? el('Disabilities', leaf('Disability', 'NONE'))
      : roll < 0.4
        ? el(
            'Disabilities',
            ...random.sample(DISABILITIES, random.int(1, 2)).map((code) => leaf('Disability', code)),
          )
        : undefined;
  // Referrals from just before the year: a return holds the assessments and plans open during
  // the year (the DfE rule the exporter applies), so none of these ended before it began.
  const earliest = unborn ? start : dateOfBirth > addDays(start, -20) ? dateOfBirth : addDays(start, -20);
  const count = PLANTED.twoReferrals(index) ? 2 : 1;
  const referrals: Node[] = [];
  let from = earliest;
  for (let r = 0; r < count; r++) {
    const span = Math.max(1, Math.floor((Date.parse(end) - Date.parse(from)) / DAY) - 60);
    const referralDate = addDays(from, random.int(0, Math.floor(span / (count - r))));
    referrals.push(referralOf(random, index, referralDate, start, end, r === 0, !unborn));
    from = addDays(referralDate, 1);
  }
  const node = el(
    'Child',
    el(
      'ChildIdentifiers',
      leaf('LAchildID', `CIN${String(index).padStart(7, '0')}`),
      leaf('UPN', upn),
      leaf('FormerUPN', formerUpn),
      leaf('UPNunknown', upnUnknown),
      leaf('PersonBirthDate', unborn ? undefined : dateOfBirth),
      leaf('ExpectedPersonBirthDate', expected),
      leaf(sexElement, sex),
      leaf('PersonDeathDate', died ? end : undefined),
    ),
    el('ChildCharacteristics', leaf('Ethnicity', ethnicity), disabilities),
    ...referrals,
  );
  const out: string[] = [];
  render(node, '    ', out);
  return out.join('\n');
}

/** The return, as chunks of text: the header, one chunk per child, the footer. */
export function* cinCensusChunks(options: CinCensusWriterOptions): Generator<string> {
  const year = options.collectionYear ?? '2024-25';
  const endYear = Number(year.slice(0, 4)) + 1;
  yield [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Message>',
    '  <Header>',
    '    <CollectionDetails>',
    '      <Collection>CIN</Collection>',
    `      <Year>${endYear}</Year>`,
    `      <ReferenceDate>${endYear}-03-31</ReferenceDate>`,
    '    </CollectionDetails>',
    '    <Source>',
    '      <SourceLevel>L</SourceLevel>',
    `      <LEA>${options.laCode ?? '926'}</LEA>`,
    '      <SoftwareCode>throughline-synthetic</SoftwareCode>',
    '    </Source>',
    '  </Header>',
    '  <Children>',
    '',
  ].join('\n');
  for (let index = 0; index < options.children; index++) yield `${cinCensusChild(index, options)}\n`;
  yield '  </Children>\n</Message>\n';
}

/** Writes the return to a stream, waiting when the stream asks (memory stays flat). */
export async function writeCinCensus(
  out: NodeJS.WritableStream,
  options: CinCensusWriterOptions,
): Promise<void> {
  for (const chunk of cinCensusChunks(options)) {
    if (!out.write(chunk)) await once(out as unknown as NodeJS.EventEmitter, 'drain');
  }
}

/**
 * The CIN census facts of a child known to social care that the case history does not
 * otherwise record: characteristics (ethnicity, disabilities) at the first referral, why the
 * UPN is unknown when the case system holds none, each assessment's start, pre-proceedings
 * before care proceedings, and, for a few children, a death on the last day of the history.
 * Drawn from their own stream, so they never shift another draw of the cohort.
 */
export function generateCensusFacts(
  profile: ChildProfile,
  record: SocialCareRecord,
  rng: Random,
  sink: EventSink,
): void {
  const on = (date: string) => ({
    source: {
      agency: 'social-care' as const,
      system: SYSTEMS.socialCare,
      organisation: caseHolderOn(record, date).laCode,
    },
    subject: subjectOn(record, date),
  });
  const episodes = profile.socialCare ?? [];
  const first = episodes.find((episode) => episode.referral)?.referral;
  if (first) {
    const disabilities =
      profile.needs === 'complex'
        ? rng.sample(DISABILITIES, rng.int(1, 2))
        : rng.chance(0.6)
          ? (['NONE'] as const)
          : undefined;
    sink.emitOn('social-care.child-characteristics.recorded', first.date, rng, {
      ...on(first.date),
      specialCategories: ['ethnicity'],
      data: {
        asAt: first.date,
        ethnicity: rng.weighted([
          ['WBRI', 70],
          ['WOTH', 6],
          ['MWBC', 4],
          ['AIND', 3],
          ['APKN', 3],
          ['BAFR', 4],
          ['BCRB', 2],
          ['OOTH', 3],
          ['NOBT', 5],
        ]),
        ...(disabilities ? { disabilities: [...disabilities] } : {}),
      },
    });
    const subject = subjectOn(record, first.date);
    if (!subject.upn) {
      sink.emitOn('social-care.upn-unknown.recorded', first.date, rng, {
        ...on(first.date),
        data: { asAt: first.date, reason: ageInYears(profile.dateOfBirth, first.date) < 6 ? 'UN1' : 'UN4' },
      });
    }
  }
  for (const episode of episodes) {
    if (episode.assessment) {
      const { startDate } = episode.assessment;
      sink.emitOn('social-care.assessment.started', startDate, rng, {
        ...on(startDate),
        data: { startDate },
      });
    }
    const care = episode.lookedAfter;
    if (care?.route === 'care-proceedings' && episode.referral) {
      // Pre-proceedings run for weeks before the application to court, and after the referral.
      const drawn = addDays(care.startDate, -rng.int(60, 120));
      const startDate = drawn > episode.referral.date ? drawn : addDays(episode.referral.date, 1);
      const decisionDate = addDays(care.startDate, -rng.int(2, 6));
      if (decisionDate > startDate) {
        sink.emitOn('social-care.pre-proceedings.started', startDate, rng, {
          ...on(startDate),
          data: {
            startDate,
            letterBeforeProceedingsDate: addDays(startDate, rng.int(3, 10)),
            familyGroupDecisionMeetingOffered: rng.chance(0.8),
            initialMeetingDate: addDays(startDate, rng.int(14, 21)),
            reviewMeetingsCount: rng.int(0, 2),
          },
        });
        sink.emitOn('social-care.pre-proceedings.ended', decisionDate, rng, {
          ...on(decisionDate),
          data: { startDate, decisionDate, courtApplicationDate: addDays(decisionDate, rng.int(1, 5)) },
        });
      }
    }
  }
  // A few children known to social care die; on the last day of their history, so nothing follows.
  if (hash32(profile.number, 'census-death') % 20 === 0) {
    // The day before the horizon: the horizon may be today, and a time later today is in the future.
    const dateOfDeath = addDays(profile.horizon, -1);
    sink.emitOn('social-care.death.recorded', dateOfDeath, rng, {
      ...on(dateOfDeath),
      data: { dateOfDeath },
    });
  }
}

import { once } from 'node:events';
import type { AgencyEvent, EventOfType } from '@throughline/contracts';
import type { RecordedEvent } from '@throughline/event-store';

/**
 * The CIN census of one LA for one reference period, from the recorded events: year Y is
 * 1 April Y-1 to 31 March Y. A child is in the return when one of its CIN episodes (a referral)
 * is open at some point of the period: referred on or before 31 March and not closed before
 * 1 April. Within an episode, modules that started after the period are left out, and end or
 * authorisation dates after it are not written (the record is still open at the reference
 * date). The shape is that of ../shared/domain/specs/CIN_schema_2024.xsd (element order, the
 * child's sex as GenderCurrent 1/2/0/9 unless `sexElement` asks for Sex). Written child by
 * child to `out`. README.md in this folder lists what cannot round-trip.
 */
export interface CinCensusExportOptions {
  readonly laCode: string;
  /** The year the reference period ends: 2024 is 1 April 2023 to 31 March 2024. */
  readonly year: number;
  /**
   * The sex element. Default GenderCurrent (1/2/0/9, mapped from M/F/U), the shape of the XSD in
   * ../shared/domain/specs; `Sex` (M/F/U) is what the 2024-25 specification asks for, and is
   * not valid against that XSD.
   */
  readonly sexElement?: 'GenderCurrent' | 'Sex';
}

type Of<T extends AgencyEvent['type']> = EventOfType<T>;

interface Episode {
  referral: Of<'social-care.referral.received'>;
  closure?: Of<'social-care.case.closed'>;
  assessments: Map<
    string,
    { started?: Of<'social-care.assessment.started'>; completed?: Of<'social-care.assessment.completed'> }
  >;
  cinPlans: Map<
    string,
    { started?: Of<'social-care.cin-plan.started'>; ended?: Of<'social-care.cin-plan.ended'> }
  >;
  enquiries: Map<
    string,
    {
      started?: Of<'social-care.section-47-enquiry.started'>;
      completed?: Of<'social-care.section-47-enquiry.completed'>;
      conference?: string;
    }
  >;
  conferences: string[];
  plans: Map<
    string,
    {
      started?: Of<'social-care.child-protection-plan.started'>;
      reviews: Of<'social-care.child-protection-plan.reviewed'>[];
      ended?: Of<'social-care.child-protection-plan.ended'>;
    }
  >;
}

interface ChildFold {
  laChildId: string;
  /** The subject as the latest event (by occurredAt) states it. */
  subject?: AgencyEvent['subject'];
  subjectAt?: string;
  characteristics?: Of<'social-care.child-characteristics.recorded'>;
  upnUnknown?: Of<'social-care.upn-unknown.recorded'>;
  death?: Of<'social-care.death.recorded'>;
  episodes: Map<string, Episode>;
  /** Episode events met before their referral (the store is read in global order). */
  pending: AgencyEvent[];
}

const EPISODE_TYPES = new Set<string>([
  'social-care.case.closed',
  'social-care.assessment.started',
  'social-care.assessment.completed',
  'social-care.cin-plan.started',
  'social-care.cin-plan.ended',
  'social-care.section-47-enquiry.started',
  'social-care.section-47-enquiry.completed',
  'social-care.initial-child-protection-conference.held',
  'social-care.child-protection-plan.started',
  'social-care.child-protection-plan.reviewed',
  'social-care.child-protection-plan.ended',
]);

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The latest of two events of the same kind by a date field (later wins; ties keep the later read). */
function later<T>(current: T | undefined, next: T, dateOf: (value: T) => string): T {
  return current === undefined || dateOf(next) >= dateOf(current) ? next : current;
}

/** The episode an event belongs to: its correlation id when that is a referral, else by date. */
function episodeOf(child: ChildFold, event: AgencyEvent): Episode | undefined {
  if (event.correlationId) {
    const byId = child.episodes.get(event.correlationId);
    if (byId) return byId;
  }
  const day =
    event.type === 'social-care.case.closed' ? event.data.referralDate : event.occurredAt.slice(0, 10);
  let best: Episode | undefined;
  for (const episode of child.episodes.values()) {
    const referred = episode.referral.data.referralDate;
    if (referred <= day && (!best || referred > best.referral.data.referralDate)) best = episode;
  }
  return best;
}

function place(episode: Episode, event: AgencyEvent): void {
  switch (event.type) {
    case 'social-care.case.closed':
      episode.closure = later(episode.closure, event, (e) => e.data.closureDate);
      return;
    case 'social-care.assessment.started':
    case 'social-care.assessment.completed': {
      const slot = episode.assessments.get(event.data.startDate) ?? {};
      if (event.type === 'social-care.assessment.started') slot.started = event;
      else slot.completed = event;
      episode.assessments.set(event.data.startDate, slot);
      return;
    }
    case 'social-care.cin-plan.started':
    case 'social-care.cin-plan.ended': {
      const slot = episode.cinPlans.get(event.data.startDate) ?? {};
      if (event.type === 'social-care.cin-plan.started') slot.started = event;
      else slot.ended = event;
      episode.cinPlans.set(event.data.startDate, slot);
      return;
    }
    case 'social-care.section-47-enquiry.started':
    case 'social-care.section-47-enquiry.completed': {
      const slot = episode.enquiries.get(event.data.startDate) ?? {};
      if (event.type === 'social-care.section-47-enquiry.started') slot.started = event;
      else slot.completed = event;
      episode.enquiries.set(event.data.startDate, slot);
      return;
    }
    case 'social-care.initial-child-protection-conference.held': {
      const { section47StartDate, conferenceDate } = event.data;
      if (section47StartDate) {
        const slot = episode.enquiries.get(section47StartDate) ?? {};
        slot.conference = conferenceDate;
        episode.enquiries.set(section47StartDate, slot);
      } else if (!episode.conferences.includes(conferenceDate)) {
        episode.conferences.push(conferenceDate);
      }
      return;
    }
    case 'social-care.child-protection-plan.started':
    case 'social-care.child-protection-plan.reviewed':
    case 'social-care.child-protection-plan.ended': {
      const key =
        event.type === 'social-care.child-protection-plan.reviewed'
          ? event.data.planStartDate
          : event.data.startDate;
      const slot = episode.plans.get(key) ?? { reviews: [] };
      if (event.type === 'social-care.child-protection-plan.started') slot.started = event;
      else if (event.type === 'social-care.child-protection-plan.ended') slot.ended = event;
      else if (!slot.reviews.some((r) => r.data.reviewDate === event.data.reviewDate))
        slot.reviews.push(event);
      episode.plans.set(key, slot);
      return;
    }
    default:
      return;
  }
}

const SEX_TO_GENDER: Readonly<Record<string, string>> = {
  M: '1',
  F: '2',
  U: '0',
  '1': '1',
  '2': '2',
  '0': '0',
  '9': '9',
};
const GENDER_TO_SEX: Readonly<Record<string, string>> = {
  '1': 'M',
  '2': 'F',
  '0': 'U',
  '9': 'U',
  M: 'M',
  F: 'F',
  U: 'U',
};

class Xml {
  readonly lines: string[] = [];
  constructor(private indent: string) {}
  leaf(name: string, value: string | number | undefined): void {
    if (value !== undefined) this.lines.push(`${this.indent}<${name}>${escapeXml(String(value))}</${name}>`);
  }
  open(name: string): void {
    this.lines.push(`${this.indent}<${name}>`);
    this.indent += '  ';
  }
  close(name: string): void {
    this.indent = this.indent.slice(2);
    this.lines.push(`${this.indent}</${name}>`);
  }
}

function writeEpisode(xml: Xml, episode: Episode, start: string, end: string): number {
  let records = 1;
  const { referral, closure } = episode;
  const within = (from: string, to?: string) => from <= end && (to === undefined || to >= start);
  const upTo = (date: string | undefined) => (date !== undefined && date <= end ? date : undefined);
  xml.open('CINdetails');
  xml.leaf('CINreferralDate', referral.data.referralDate);
  xml.leaf('ReferralSource', referral.data.referralSource);
  xml.leaf('PrimaryNeedCode', referral.data.primaryNeed);
  const closed = upTo(closure?.data.closureDate);
  xml.leaf('CINclosureDate', closed);
  if (closed) xml.leaf('ReasonForClosure', closure?.data.reason);
  const conference = episode.conferences.filter((date) => date <= end).sort()[0];
  xml.leaf('DateOfInitialCPC', conference);
  for (const [startDate, slot] of [...episode.assessments].sort(([a], [b]) => a.localeCompare(b))) {
    const authorised = upTo(slot.completed?.data.authorisationDate);
    if (!within(startDate, slot.completed?.data.authorisationDate)) continue;
    records++;
    xml.open('Assessments');
    xml.leaf('AssessmentActualStartDate', startDate);
    xml.leaf(
      'AssessmentInternalReviewDate',
      upTo(slot.completed?.data.internalReviewDate ?? slot.started?.data.internalReviewDate),
    );
    xml.leaf('AssessmentAuthorisationDate', authorised);
    const factors = authorised ? slot.completed?.data.factors : undefined;
    if (factors?.length) {
      xml.open('FactorsIdentifiedAtAssessment');
      for (const factor of factors) xml.leaf('AssessmentFactors', factor);
      xml.close('FactorsIdentifiedAtAssessment');
    }
    xml.close('Assessments');
  }
  for (const [startDate, slot] of [...episode.cinPlans].sort(([a], [b]) => a.localeCompare(b))) {
    if (!within(startDate, slot.ended?.data.endDate)) continue;
    records++;
    xml.open('CINPlanDates');
    xml.leaf('CINPlanStartDate', startDate);
    xml.leaf('CINPlanEndDate', upTo(slot.ended?.data.endDate));
    xml.close('CINPlanDates');
  }
  for (const [startDate, slot] of [...episode.enquiries].sort(([a], [b]) => a.localeCompare(b))) {
    if (!slot.started && !slot.completed) continue;
    if (startDate > end) continue;
    records++;
    xml.open('Section47');
    xml.leaf('S47ActualStartDate', startDate);
    xml.leaf('InitialCPCtarget', slot.started?.data.icpcTargetDate);
    const held = upTo(slot.conference);
    xml.leaf('DateOfInitialCPC', held);
    const completed = slot.completed?.data;
    const notRequired =
      completed &&
      (completed.icpcRequired === false || (completed.outcome !== undefined && completed.outcome !== 'icpc'));
    xml.leaf('ICPCnotRequired', notRequired ? 'true' : 'false');
    xml.close('Section47');
  }
  xml.leaf('ReferralNFA', referral.data.noFurtherAction ? 'true' : 'false');
  for (const [startDate, slot] of [...episode.plans].sort(([a], [b]) => a.localeCompare(b))) {
    const started = slot.started?.data;
    const ended = slot.ended?.data;
    if (!started && !ended) continue;
    if (!within(startDate, ended?.endDate)) continue;
    records++;
    const endDate = upTo(ended?.endDate);
    const reviews = slot.reviews
      .filter((r) => r.data.reviewDate <= end)
      .sort((a, b) => a.data.reviewDate.localeCompare(b.data.reviewDate));
    const initial = started?.initialCategory ?? ended?.initialCategory;
    const lastReviewCategory = [...reviews].reverse().find((r) => r.data.latestCategory)?.data.latestCategory;
    const latest = (endDate ? ended?.latestCategory : undefined) ?? lastReviewCategory ?? initial;
    xml.open('ChildProtectionPlans');
    xml.leaf('CPPstartDate', startDate);
    xml.leaf('CPPendDate', endDate);
    xml.leaf('InitialCategoryOfAbuse', initial);
    xml.leaf('LatestCategoryOfAbuse', latest);
    xml.leaf('NumberOfPreviousCPP', started?.numberOfPreviousPlans ?? 0);
    if (reviews.length) {
      xml.open('Reviews');
      for (const review of reviews) xml.leaf('CPPreviewDate', review.data.reviewDate);
      xml.close('Reviews');
    }
    xml.close('ChildProtectionPlans');
  }
  xml.close('CINdetails');
  return records;
}

function childXml(
  child: ChildFold,
  start: string,
  end: string,
  sexElement: 'GenderCurrent' | 'Sex',
): { xml: string; records: number } | undefined {
  const episodes = [...child.episodes.values()]
    .filter((e) => e.referral.data.referralDate <= end && !(e.closure && e.closure.data.closureDate < start))
    .sort((a, b) => a.referral.data.referralDate.localeCompare(b.referral.data.referralDate));
  if (!episodes.length) return undefined;
  const subject = child.subject;
  const quarantined = (field: string) =>
    subject?.quarantinedIdentifiers?.find((held) => held.field === field)?.value.toUpperCase();
  const upn = subject?.upn ?? quarantined('upn');
  const formerUpn = subject?.formerUpn ?? quarantined('formerUpn');
  const xml = new Xml('    ');
  xml.open('Child');
  xml.open('ChildIdentifiers');
  xml.leaf('LAchildID', child.laChildId);
  xml.leaf('UPN', upn && /^[A-Z]\d{11}[A-Z0-9]$/.test(upn) ? upn : undefined);
  xml.leaf('FormerUPN', formerUpn && /^[A-Z]\d{11}[A-Z0-9]$/.test(formerUpn) ? formerUpn : undefined);
  xml.leaf('UPNunknown', upn ? undefined : child.upnUnknown?.data.reason);
  xml.leaf('PersonBirthDate', subject?.dateOfBirth);
  xml.leaf('ExpectedPersonBirthDate', subject?.dateOfBirth ? undefined : subject?.expectedDateOfBirth);
  const sex = subject?.sex as string | undefined;
  xml.leaf(
    sexElement,
    sexElement === 'Sex' ? (sex ? GENDER_TO_SEX[sex] : 'U') : sex ? SEX_TO_GENDER[sex] : '0',
  );
  const died = child.death?.data.dateOfDeath;
  xml.leaf('PersonDeathDate', died && died <= end ? died : undefined);
  xml.close('ChildIdentifiers');
  xml.open('ChildCharacteristics');
  // Ethnicity is required: NOBT (information not yet obtained) when the store holds none.
  xml.leaf('Ethnicity', child.characteristics?.data.ethnicity ?? 'NOBT');
  const disabilities = child.characteristics?.data.disabilities;
  if (disabilities?.length) {
    xml.open('Disabilities');
    for (const code of disabilities) xml.leaf('Disability', code);
    xml.close('Disabilities');
  }
  xml.close('ChildCharacteristics');
  let records = 0;
  for (const episode of episodes) records += writeEpisode(xml, episode, start, end);
  xml.close('Child');
  return { xml: `${xml.lines.join('\n')}\n`, records };
}

/** Writes the return to `out`; resolves with the children and records (CINdetails and modules) written. */
export async function exportCinCensus(
  events: AsyncIterable<RecordedEvent> | Iterable<RecordedEvent>,
  options: CinCensusExportOptions,
  out: NodeJS.WritableStream,
): Promise<{ children: number; records: number }> {
  const start = `${options.year - 1}-04-01`;
  const end = `${options.year}-03-31`;
  const sexElement = options.sexElement ?? 'GenderCurrent';
  const children = new Map<string, ChildFold>();
  for await (const recorded of events) {
    if (!recorded.type.startsWith('social-care.')) continue;
    const event = recorded.data as AgencyEvent;
    if (event.source?.agency !== 'social-care') continue;
    const laCode = event.subject.laCode ?? event.source.organisation;
    if (laCode !== options.laCode) continue;
    const laChildId =
      event.subject.laChildId ??
      event.subject.quarantinedIdentifiers?.find((held) => held.field === 'laChildId')?.value;
    if (!laChildId) continue;
    let child = children.get(laChildId);
    if (!child) {
      child = { laChildId, episodes: new Map(), pending: [] };
      children.set(laChildId, child);
    }
    if (child.subjectAt === undefined || event.occurredAt >= child.subjectAt) {
      child.subject = event.subject;
      child.subjectAt = event.occurredAt;
    }
    switch (event.type) {
      case 'social-care.referral.received':
        child.episodes.set(event.eventId, {
          referral: event,
          assessments: new Map(),
          cinPlans: new Map(),
          enquiries: new Map(),
          conferences: [],
          plans: new Map(),
        });
        break;
      case 'social-care.child-characteristics.recorded':
        if (event.data.asAt <= end)
          child.characteristics = later(child.characteristics, event, (e) => e.data.asAt);
        break;
      case 'social-care.upn-unknown.recorded':
        if (event.data.asAt <= end) child.upnUnknown = later(child.upnUnknown, event, (e) => e.data.asAt);
        break;
      case 'social-care.death.recorded':
        child.death = event;
        break;
      default:
        if (EPISODE_TYPES.has(event.type)) child.pending.push(event);
    }
  }
  const write = async (text: string) => {
    if (!out.write(text)) await once(out as unknown as NodeJS.EventEmitter, 'drain');
  };
  await write(
    [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<Message>',
      '  <Header>',
      '    <CollectionDetails>',
      '      <Collection>CIN</Collection>',
      `      <Year>${options.year}</Year>`,
      `      <ReferenceDate>${end}</ReferenceDate>`,
      '    </CollectionDetails>',
      '    <Source>',
      '      <SourceLevel>L</SourceLevel>',
      `      <LEA>${escapeXml(options.laCode)}</LEA>`,
      '      <SoftwareCode>throughline</SoftwareCode>',
      `      <DateTime>${new Date().toISOString().slice(0, 19)}</DateTime>`,
      '    </Source>',
      '  </Header>',
      '  <Children>',
      '',
    ].join('\n'),
  );
  let childCount = 0;
  let records = 0;
  for (const laChildId of [...children.keys()].sort()) {
    const child = children.get(laChildId)!;
    for (const event of child.pending) {
      const episode = episodeOf(child, event);
      if (episode) place(episode, event);
    }
    child.pending = [];
    const written = childXml(child, start, end, sexElement);
    if (!written) continue;
    childCount++;
    records += written.records;
    await write(written.xml);
  }
  await write('  </Children>\n</Message>\n');
  return { children: childCount, records };
}

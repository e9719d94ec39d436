import { AGENCY_NAMES, EVENT_TYPE_AGENCY, isEventType } from '@throughline/contracts';
import type { Principal } from './principal';
import type { AccessPolicy, Agreement, Permission } from './policy-document';

/** A policy document as loaded: its version in the store names every decision made under it. */
export interface PolicySnapshot {
  readonly version: number;
  readonly document: AccessPolicy;
}

/** What one request asks: who, what, and why. */
export interface AccessQuestion {
  readonly principal: Principal;
  readonly permission: Permission;
  readonly purpose: string;
}

export type Decision =
  | {
      readonly allowed: true;
      /** The caller's roles that grant the permission for the purpose (the access is recorded under them). */
      readonly roles: readonly string[];
    }
  | { readonly allowed: false; readonly rule: string; readonly reason: string };

const list = (items: readonly string[]): string => (items.length > 0 ? items.join(', ') : '(none)');

/**
 * Whether the principal may do this at all, for this purpose: one of its roles must grant the
 * permission for the purpose. A purpose the policy does not know is refused by name.
 */
export function decide(snapshot: PolicySnapshot, question: AccessQuestion): Decision {
  const { document } = snapshot;
  const { principal, permission, purpose } = question;
  if (!document.purposes.some((known) => known.id === purpose))
    return {
      allowed: false,
      rule: 'known-purpose',
      reason: `purpose "${purpose}" is not one of the policy's purposes (${list(document.purposes.map((p) => p.id))})`,
    };
  const roles = document.roles
    .filter((role) => principal.roles.includes(role.id))
    .filter((role) =>
      role.grants.some((grant) => grant.permission === permission && grant.purposes.includes(purpose)),
    )
    .map((role) => role.id);
  if (roles.length === 0)
    return {
      allowed: false,
      rule: 'role-grants-permission',
      reason: `role ${list(principal.roles)} may not ${permission} for purpose ${purpose}`,
    };
  return { allowed: true, roles };
}

/** What the policy needs to know of an entry (all kept beside it in the read model). */
export interface EntryAttributes {
  readonly agency: string;
  readonly type: string;
  readonly specialCategories: readonly string[];
  readonly sourceOrganisation?: string;
}

/** Why an entry may be seen: the caller's own organisation recorded it, an agreement, or break-glass. */
export type SharingBasis =
  | { readonly basis: 'own-organisation' }
  | { readonly basis: 'agreement'; readonly agreement: string }
  | { readonly basis: 'break-glass'; readonly grant: string };

export type EntryDecision =
  | { readonly visible: true; readonly sharedUnder: SharingBasis }
  | { readonly visible: false; readonly reason: string };

/** The grouped account of what an answer left out: how many entries, and why. */
export interface Withheld {
  readonly count: number;
  readonly reason: string;
}

export interface ReadContext {
  readonly principal: Principal;
  readonly purpose: string;
  /** The caller's roles that were granted the read (decide()). */
  readonly roles: readonly string[];
  /** An active break-glass grant for this child, if there is one. */
  readonly breakGlass?: { readonly id: string };
}

function patternMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  return pattern.endsWith('.*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern;
}

export function agreementRef(agreement: Agreement): string {
  return `${agreement.id}@${agreement.version}`;
}

function inForce(agreement: Agreement, today: string): boolean {
  return agreement.validFrom <= today && (agreement.validTo === undefined || today <= agreement.validTo);
}

/** A flow of events as information governance counts it: one agency's events of one type on a day. */
export interface EventFlow {
  readonly agency: string;
  readonly type: string;
  /** The recording organisation, when known (an agreement may share only some organisations'). */
  readonly sourceOrganisation?: string | null;
  /** YYYY-MM-DD (UTC). */
  readonly day: string;
}

/**
 * The agreements of a policy that share such events on that day, whoever receives them: in
 * force that day, of the providing agency (and organisation, when the agreement names some and
 * the flow's is known to be one of them), and covering one of the event's categories. Special
 * categories and recipients are the read's business (entryDecider), not the flow's.
 */
export function agreementsSharing(document: AccessPolicy, flow: EventFlow): Agreement[] {
  const categories = Object.entries(document.eventCategories)
    .filter(([, patterns]) => patterns.some((pattern) => patternMatches(pattern, flow.type)))
    .map(([name]) => name);
  return document.agreements
    .filter((agreement) => inForce(agreement, flow.day))
    .filter((agreement) => agreement.providingAgency === flow.agency)
    .filter(
      (agreement) =>
        agreement.providingOrganisations === undefined ||
        (typeof flow.sourceOrganisation === 'string' &&
          agreement.providingOrganisations.includes(flow.sourceOrganisation)),
    )
    .filter((agreement) => agreement.eventCategories.some((category) => categories.includes(category)))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** The named event categories of the policy whose patterns match an event type. */
function categoriesOfType(document: AccessPolicy, type: string): string[] {
  return Object.entries(document.eventCategories)
    .filter(([, patterns]) => patterns.some((pattern) => patternMatches(pattern, type)))
    .map(([name]) => name);
}

/**
 * The agreements that can apply to this caller at all: in force today, for the purpose, to the
 * caller's organisation type (and code, when the agreement names some) and a granted role.
 */
function applicableAgreements(document: AccessPolicy, context: ReadContext, now: Date): Agreement[] {
  const today = now.toISOString().slice(0, 10);
  const organisation = context.principal.organisation;
  return document.agreements
    .filter((agreement) => inForce(agreement, today))
    .filter((agreement) => agreement.purposes.includes(context.purpose))
    .filter(
      (agreement) =>
        organisation?.type !== undefined &&
        agreement.recipients.organisationTypes.includes(organisation.type) &&
        (agreement.recipients.organisations === undefined ||
          agreement.recipients.organisations.includes(organisation.code)),
    )
    .filter((agreement) => agreement.recipients.roles.some((role) => context.roles.includes(role)))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Decides entry by entry what a granted read may see. Agreements that cannot apply to this
 * caller (out of force, another purpose, another organisation type or role) are set aside once;
 * an entry is then visible when the caller's own organisation recorded it, or when one
 * remaining agreement shares its agency, recording organisation, event category and every
 * special category it touches. Otherwise it is withheld with a reason naming what no agreement
 * covers, for whom and why.
 */
export function entryDecider(
  snapshot: PolicySnapshot,
  context: ReadContext,
  now: Date,
): (entry: EntryAttributes) => EntryDecision {
  const { document } = snapshot;
  const { principal, purpose, roles } = context;
  const organisation = principal.organisation;
  const applicable = applicableAgreements(document, context, now);
  const categoriesOf = (type: string): string[] => categoriesOfType(document, type);
  const whom = `role ${list(roles)}, purpose ${purpose}`;
  const cache = new Map<string, EntryDecision>();

  const decideEntry = (entry: EntryAttributes): EntryDecision => {
    if (context.breakGlass)
      return { visible: true, sharedUnder: { basis: 'break-glass', grant: context.breakGlass.id } };
    if (organisation && entry.sourceOrganisation === organisation.code)
      return { visible: true, sharedUnder: { basis: 'own-organisation' } };
    const categories = categoriesOf(entry.type);
    const sharing = applicable.filter(
      (agreement) =>
        agreement.providingAgency === entry.agency &&
        (agreement.providingOrganisations === undefined ||
          (entry.sourceOrganisation !== undefined &&
            agreement.providingOrganisations.includes(entry.sourceOrganisation))) &&
        agreement.eventCategories.some((category) => categories.includes(category)),
    );
    const covering = sharing.find((agreement) =>
      entry.specialCategories.every((category) =>
        (agreement.specialCategories as readonly string[]).includes(category),
      ),
    );
    if (covering)
      return { visible: true, sharedUnder: { basis: 'agreement', agreement: agreementRef(covering) } };
    if (sharing.length > 0) {
      const uncovered = entry.specialCategories.filter(
        (category) =>
          !sharing.some((agreement) => (agreement.specialCategories as readonly string[]).includes(category)),
      );
      const named = uncovered.length > 0 ? uncovered : entry.specialCategories;
      return { visible: false, reason: `${named.join(', ')}: no agreement covers it for ${whom}` };
    }
    const what = categories.length > 0 ? categories.join(', ') : entry.type;
    const special = entry.specialCategories.length > 0 ? ` (${entry.specialCategories.join(', ')})` : '';
    return {
      visible: false,
      reason: `${entry.agency} ${what}${special}: no agreement shares it with ${whom}`,
    };
  };

  return (entry) => {
    const key = [entry.agency, entry.type, entry.sourceOrganisation ?? '', ...entry.specialCategories].join(
      '\u0000',
    );
    let decision = cache.get(key);
    if (!decision) {
      decision = decideEntry(entry);
      cache.set(key, decision);
    }
    return decision;
  };
}

/** Withheld entries grouped by reason, largest group first. */
export function summariseWithheld(decisions: readonly EntryDecision[]): Withheld[] {
  const counts = new Map<string, number>();
  for (const decision of decisions)
    if (!decision.visible) counts.set(decision.reason, (counts.get(decision.reason) ?? 0) + 1);
  return [...counts.entries()]
    .map(([reason, count]) => ({ count, reason }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

/** What an analysis reads: event types (of its measure and its cohort), and the special categories it touches. */
export interface AnalysisReading {
  readonly eventTypes: readonly string[];
  /** Cohort entry types may be narrowed to some agencies; the measure's own types come from any that publishes them. */
  readonly agenciesOf?: Readonly<Record<string, readonly string[]>>;
  /** Special categories the query touches as such (ethnicity when it groups or filters by it). */
  readonly specialCategories?: readonly string[];
}

/** What no agreement shares with the analyst: one agency's events of one category (or type, when uncategorised). */
export interface AnalysisGap {
  readonly agency: string;
  readonly category: string;
}

export type AnalysisCoverage =
  | {
      readonly covered: true;
      /** The agreements the analysis is done under (`id@version`). */
      readonly agreements: readonly string[];
    }
  | {
      readonly covered: false;
      readonly rule: 'agreement-covers-analysis';
      readonly reason: string;
      readonly missing: readonly AnalysisGap[];
    };

/**
 * Whether agreements in force share with this analyst, for this purpose, every agency's events
 * an analysis reads. An analysis counts every record of a type, whoever recorded it, so only an
 * agreement sharing all of an agency's organisations covers it; a type any agency may publish
 * (practice, outcome) needs every agency's agreement. Special categories the query touches as
 * such must be covered by one of the agreements too. Refused with every gap named otherwise.
 */
export function analysisCoverage(
  snapshot: PolicySnapshot,
  context: ReadContext,
  reading: AnalysisReading,
  now: Date,
): AnalysisCoverage {
  const { document } = snapshot;
  const applicable = applicableAgreements(document, context, now).filter(
    (agreement) => agreement.providingOrganisations === undefined,
  );
  const used = new Set<string>();
  const missing: AnalysisGap[] = [];
  const note = (gap: AnalysisGap) => {
    if (!missing.some((known) => known.agency === gap.agency && known.category === gap.category))
      missing.push(gap);
  };
  for (const type of [...new Set(reading.eventTypes)]) {
    const owner = isEventType(type) ? EVENT_TYPE_AGENCY[type] : undefined;
    const publishers: readonly string[] =
      reading.agenciesOf?.[type] ?? (owner === undefined ? [] : owner === 'any' ? AGENCY_NAMES : [owner]);
    const categories = categoriesOfType(document, type);
    if (publishers.length === 0) note({ agency: 'unknown agency', category: type });
    for (const agency of publishers) {
      const sharing = applicable.filter(
        (agreement) =>
          agreement.providingAgency === agency &&
          agreement.eventCategories.some((category) => categories.includes(category)),
      );
      if (sharing.length === 0) {
        if (categories.length === 0) note({ agency, category: type });
        else for (const category of categories) note({ agency, category });
      } else for (const agreement of sharing) used.add(agreementRef(agreement));
    }
  }
  const whom = `role ${list(context.roles)}, purpose ${context.purpose}`;
  const uncovered = (reading.specialCategories ?? []).filter(
    (category) =>
      !applicable.some((agreement) => (agreement.specialCategories as readonly string[]).includes(category)),
  );
  if (missing.length > 0 || uncovered.length > 0) {
    const gaps = missing.map((gap) => `${gap.agency} ${gap.category}`);
    const reasons = [
      ...(gaps.length > 0 ? [`${gaps.join('; ')}: no agreement in force shares it with ${whom}`] : []),
      ...(uncovered.length > 0 ? [`${uncovered.join(', ')}: no agreement covers it for ${whom}`] : []),
    ];
    return { covered: false, rule: 'agreement-covers-analysis', reason: reasons.join('; '), missing };
  }
  for (const category of reading.specialCategories ?? []) {
    const covering = applicable.filter((agreement) =>
      (agreement.specialCategories as readonly string[]).includes(category),
    );
    const chosen = covering.find((agreement) => used.has(agreementRef(agreement))) ?? covering[0];
    if (chosen) used.add(agreementRef(chosen));
  }
  return { covered: true, agreements: [...used].sort() };
}

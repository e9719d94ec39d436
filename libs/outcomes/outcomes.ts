import type { EntryView } from '@throughline/timeline';
import { NotFoundError } from '@throughline/platform';
import { ageOn, schoolPeriodOf, type Term } from './calendar';
import { byDateThenPosition, compareText, domainResolverOf } from './domains';
import { readEntry, type ReadEntry, type ReadIndicator } from './entry-reading';
import type { FrameworkDocument, Scale } from './framework-document';
import type { ChildOutcomes, DomainOutcomes, RatingPoint } from './responses';

export interface OutcomesInput {
  /** The entries the reader may see (already decided by the access policy), in any order. */
  readonly entries: readonly EntryView[];
  readonly document: FrameworkDocument;
  readonly documentVersion?: number;
  readonly dateOfBirth?: string;
  /** A framework id of the document; default its first. */
  readonly framework?: string;
  readonly from?: string;
  readonly to?: string;
  readonly period?: 'term' | 'year';
  /** DISAGREEMENT_THRESHOLD: the share of a scale's range (0–1) at which two ratings disagree. */
  readonly threshold: number;
}

type ScaleView = RatingPoint['scale'];

/** The scale a rating was made on: the document's when it knows it, else the rating's own bounds. */
function scaleOf(indicator: ReadIndicator, scales: ReadonlyMap<string, Scale>): ScaleView | undefined {
  const name = indicator.scale?.name ?? indicator.name;
  const known = scales.get(name);
  if (known) return { id: known.id, min: known.min, max: known.max, better: known.better, known: true };
  if (!indicator.scale) return undefined;
  return {
    id: name,
    min: indicator.scale.min,
    max: indicator.scale.max,
    better: indicator.higherIsBetter === false ? 'lower' : 'higher',
    known: false,
  };
}

export function normalise(
  value: number,
  scale: { min: number; max: number; better: 'higher' | 'lower' },
): number {
  const share = Math.min(1, Math.max(0, (value - scale.min) / (scale.max - scale.min)));
  return scale.better === 'higher' ? share : 1 - share;
}

/** The rating an observation carries (on a scale), if any: the rest of its indicators are measures. */
function ratingOf(entry: ReadEntry): ReadIndicator | undefined {
  if (entry.kind !== 'observation') return undefined;
  return entry.indicators.find((indicator) => indicator.scale !== undefined);
}

interface PeriodKey {
  readonly academicYear: string;
  readonly term?: Term;
}

const periodKey = (period: PeriodKey): string => `${period.academicYear}|${period.term ?? ''}`;

const TERMS: readonly string[] = ['autumn', 'spring', 'summer'];
const asTerm = (term: string | undefined): Term | undefined =>
  term && TERMS.includes(term) ? (term as Term) : undefined;

/**
 * One child's outcomes in one framework, per domain: each perspective its own series of
 * ratings (raw and normalised, 1 = the better end), the accounts without a rating, indicators by
 * period each with the accounts that go with it (or none), the facts mapped to the domain,
 * disagreements between perspectives, and the recorded "views differ". Never one blended score.
 */
export function outcomesOf(input: OutcomesInput): ChildOutcomes {
  const { document, threshold } = input;
  const period = input.period ?? 'term';
  const framework = input.framework
    ? document.frameworks.find((f) => f.id === input.framework)
    : document.frameworks[0];
  if (!framework)
    throw new NotFoundError(`no outcome framework "${input.framework}" in the document in force`);
  const resolver = domainResolverOf(document);
  const scales = new Map(document.scales.map((s) => [s.id, s]));
  // One scale view per scale and bounds, shared by its points (built once per request).
  const scaleViews = new Map<string, ScaleView | undefined>();
  const scaleViewOf = (indicator: ReadIndicator): ScaleView | undefined => {
    const key = `${indicator.scale?.name ?? indicator.name}|${indicator.scale?.min}|${indicator.scale?.max}|${indicator.higherIsBetter}`;
    if (!scaleViews.has(key)) scaleViews.set(key, scaleOf(indicator, scales));
    return scaleViews.get(key);
  };
  const byDomain = new Map<string, ReadEntry[]>(framework.domains.map((d) => [d.id, []]));
  const byEventId = new Map<string, ReadEntry>();
  const read = input.entries.map(readEntry);
  for (const entry of read) byEventId.set(entry.eventId, entry);
  const inRange = (date: string) => (!input.from || date >= input.from) && (!input.to || date <= input.to);
  for (const entry of read) {
    let domains: readonly string[] = resolver.domainsOf(entry, framework.id);
    // A views-differ naming no domain is about the domains of the entries it refers to.
    if (entry.viewsDiffer && !entry.viewsDiffer.domain && entry.declared.length === 0) {
      const about = entry.viewsDiffer.about.flatMap((id) => {
        const target = byEventId.get(id);
        return target ? resolver.domainsOf(target, framework.id) : [];
      });
      if (about.length > 0) domains = [...new Set(about)];
    }
    if (!inRange(entry.date)) continue;
    for (const domain of domains) byDomain.get(domain)?.push(entry);
  }
  // Many entries share a date: each date's age and school period are worked out once.
  const whenOf = new Map<string, ReturnType<typeof whenUncached>>();
  const whenUncached = (date: string) => {
    const age = input.dateOfBirth ? ageOn(input.dateOfBirth, date) : undefined;
    return { date, ...(age ? { age } : {}), ...schoolPeriodOf(date) };
  };
  const when = (date: string) => {
    let found = whenOf.get(date);
    if (!found) {
      found = whenUncached(date);
      whenOf.set(date, found);
    }
    return found;
  };
  const periodOf = (date: string, given?: ReadIndicator['period']): PeriodKey => {
    const school = when(date);
    const academicYear = given?.academicYear ?? school.academicYear;
    if (period === 'year') return { academicYear };
    return { academicYear, term: given ? asTerm(given.term) : school.term };
  };

  const domains = framework.domains.map((domain): DomainOutcomes => {
    const entries = (byDomain.get(domain.id) ?? []).slice().sort((a, b) => byDateThenPosition(a, b));
    const seriesByPerspective = new Map<string, RatingPoint[]>();
    const accounts: DomainOutcomes['accounts'] = [];
    const facts: DomainOutcomes['facts'] = [];
    const viewsDiffer: DomainOutcomes['viewsDiffer'] = [];
    const indicatorPeriods = new Map<
      string,
      Map<string, DomainOutcomes['indicators'][number]['periods'][number]>
    >();
    const indicatorUnits = new Map<string, string | undefined>();
    const accountsByPeriod = new Map<string, { perspective: string; position: number }[]>();
    const noteAccount = (entry: ReadEntry, perspective: string) => {
      const key = periodKey(periodOf(entry.date));
      const list = accountsByPeriod.get(key) ?? [];
      list.push({ perspective, position: entry.position });
      accountsByPeriod.set(key, list);
    };

    for (const entry of entries) {
      if (entry.viewsDiffer) {
        viewsDiffer.push({
          position: entry.position,
          eventId: entry.eventId,
          date: entry.date,
          about: [...entry.viewsDiffer.about],
          views: entry.viewsDiffer.views.map((v) => ({ ...v })),
          ...(entry.viewsDiffer.narrative ? { narrative: entry.viewsDiffer.narrative } : {}),
        });
        continue;
      }
      const rating = ratingOf(entry);
      const scale = rating && scaleViewOf(rating);
      const perspective = entry.perspectiveKey;
      if (rating && scale && perspective) {
        const points = seriesByPerspective.get(perspective) ?? [];
        points.push({
          position: entry.position,
          eventId: entry.eventId,
          ...when(entry.date),
          value: rating.value,
          scale,
          normalised: round(normalise(rating.value, scale)),
          ...(entry.narrative ? { narrative: entry.narrative } : {}),
          ...(entry.confidence ? { confidence: entry.confidence } : {}),
          ...(entry.observerRole ? { observerRole: entry.observerRole } : {}),
        });
        seriesByPerspective.set(perspective, points);
        if (entry.narrative) noteAccount(entry, perspective);
      } else if (
        // Accounts are observations (a practitioner's, a parent's, the child's own words); a
        // decision or review is a fact here, its reasoning is in the decisions.
        perspective &&
        entry.narrative &&
        entry.kind === 'observation'
      ) {
        accounts.push({
          position: entry.position,
          eventId: entry.eventId,
          ...when(entry.date),
          perspective,
          type: entry.type,
          narrative: entry.narrative,
          ...(entry.confidence ? { confidence: entry.confidence } : {}),
          ...(entry.observerRole ? { observerRole: entry.observerRole } : {}),
        });
        noteAccount(entry, perspective);
      }
      if (entry.kind === 'fact') {
        facts.push({
          position: entry.position,
          eventId: entry.eventId,
          date: entry.date,
          type: entry.type,
          agency: entry.agency,
          summary: entry.summary,
        });
        for (const indicator of entry.indicators) {
          const at = periodOf(entry.date, indicator.period);
          const periods = indicatorPeriods.get(indicator.name) ?? new Map();
          const key = periodKey(at);
          const slot = periods.get(key) ?? {
            academicYear: at.academicYear,
            ...(at.term ? { term: at.term } : {}),
            values: [],
            accounts: [],
            withoutAccount: true,
          };
          slot.values.push({
            position: entry.position,
            eventId: entry.eventId,
            date: entry.date,
            value: indicator.value,
            ...(indicator.threshold !== undefined ? { threshold: indicator.threshold } : {}),
          });
          periods.set(key, slot);
          indicatorPeriods.set(indicator.name, periods);
          if (!indicatorUnits.has(indicator.name)) indicatorUnits.set(indicator.name, indicator.unit);
        }
      }
    }

    const indicators = [...indicatorPeriods.entries()].map(([name, periods]) => {
      const unit = indicatorUnits.get(name);
      return {
        name,
        ...(unit ? { unit } : {}),
        periods: [...periods.entries()].map(([key, slot]) => {
          const with_ = accountsByPeriod.get(key) ?? [];
          return { ...slot, accounts: with_, withoutAccount: with_.length === 0 };
        }),
      };
    });

    const series = [...seriesByPerspective.entries()].map(([perspective, points]) => ({
      perspective,
      points,
    }));
    const disagreements = disagreementsOf(series, periodOf, threshold);
    return {
      domain: domain.id,
      label: domain.label,
      series,
      accounts,
      indicators,
      facts,
      disagreements,
      viewsDiffer,
    };
  });

  return {
    framework: { id: framework.id, name: framework.name, version: input.documentVersion ?? 0 },
    period,
    ...(input.from ? { from: input.from } : {}),
    ...(input.to ? { to: input.to } : {}),
    threshold,
    domains,
  };
}

const round = (value: number): number => Math.round(value * 1000) / 1000;

/**
 * Within each period, the latest normalised rating of each perspective; every pair at least
 * `threshold` apart is a disagreement, and both points are marked with the other perspective.
 */
function disagreementsOf(
  series: { perspective: string; points: RatingPoint[] }[],
  periodOf: (date: string) => PeriodKey,
  threshold: number,
): DomainOutcomes['disagreements'] {
  const latest = new Map<string, Map<string, RatingPoint>>();
  const periods = new Map<string, PeriodKey>();
  for (const { perspective, points } of series)
    for (const point of points) {
      const at = periodOf(point.date);
      const key = periodKey(at);
      periods.set(key, at);
      const inPeriod = latest.get(key) ?? new Map<string, RatingPoint>();
      const held = inPeriod.get(perspective);
      if (!held || held.date < point.date || (held.date === point.date && held.position < point.position))
        inPeriod.set(perspective, point);
      latest.set(key, inPeriod);
    }
  const found: DomainOutcomes['disagreements'] = [];
  for (const [key, inPeriod] of latest) {
    const at = periods.get(key) as PeriodKey;
    const entries = [...inPeriod.entries()].sort(([a], [b]) => compareText(a, b));
    for (let i = 0; i < entries.length; i++)
      for (let j = i + 1; j < entries.length; j++) {
        const [pa, a] = entries[i];
        const [pb, b] = entries[j];
        const difference = round(Math.abs(a.normalised - b.normalised));
        // A hair under the threshold from rounding still counts (0.3 of a 0–10 scale is 3 points).
        if (difference + 1e-9 < threshold) continue;
        found.push({
          academicYear: at.academicYear,
          ...(at.term ? { term: at.term } : {}),
          difference,
          between: [
            { perspective: pa, position: a.position, normalised: a.normalised },
            { perspective: pb, position: b.position, normalised: b.normalised },
          ],
        });
        (a as { disagreesWith?: string[] }).disagreesWith = [...(a.disagreesWith ?? []), pb];
        (b as { disagreesWith?: string[] }).disagreesWith = [...(b.disagreesWith ?? []), pa];
      }
  }
  return found.sort(
    (x, y) => compareText(x.academicYear, y.academicYear) || compareText(x.term ?? '', y.term ?? ''),
  );
}

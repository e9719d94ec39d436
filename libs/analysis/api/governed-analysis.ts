import {
  analysisCoverage,
  noteAccess,
  type AnalysisCoverage,
  type AnalysisReading,
  type Requester,
} from '@throughline/access';
import { isEventType } from '@throughline/contracts';
import { ThroughlineError, ValidationError, type FieldIssue } from '@throughline/platform';
import { controlResult } from '../disclosure/control';
import { writeAnswer, type ExportFile, type ExportFormat } from '../export/write-answer';
import type {
  AnalysisAnswer,
  AnalysisQuery,
  AnalysisReads,
  Cell,
  DisclosureRules,
  MeasureDefinition,
} from '../types';
import type { AnalysisQueryLog, ReleasedAs } from './query-log';

/** A measure of the catalogue, with whether the agreements in force let this analyst ask it. */
export type CatalogueEntry = MeasureDefinition & {
  readonly coverage:
    | { readonly covered: true; readonly agreements: readonly string[] }
    | { readonly covered: false; readonly reason: string };
};

export interface AnalysisCatalogue {
  readonly measures: readonly CatalogueEntry[];
  /** The disclosure rules every answer is given under. */
  readonly rules: DisclosureRules;
}

/** The shape of an answer for the access log: how many cells, how many suppressed and why; never a value. */
export interface AnswerShape {
  readonly cells: number;
  readonly suppressed: number;
  readonly suppressedBy: Readonly<Record<string, number>>;
  readonly rules: DisclosureRules;
  readonly releasedAs: ReleasedAs;
}

export function answerShape(
  cells: readonly Cell[],
  rules: DisclosureRules,
  releasedAs: ReleasedAs,
): AnswerShape {
  const suppressedBy: Record<string, number> = {};
  for (const cell of cells)
    if (cell.suppressed) {
      const reason = cell.reason ?? 'unspecified';
      suppressedBy[reason] = (suppressedBy[reason] ?? 0) + 1;
    }
  return {
    cells: cells.length,
    suppressed: cells.filter((cell) => cell.suppressed).length,
    suppressedBy,
    rules,
    releasedAs,
  };
}

/** What the query reads, for the agreements: the measure's types from whoever publishes them, entry types from the agencies asked. */
export function readingOf(measure: MeasureDefinition, query: AnalysisQuery): AnalysisReading {
  const entry = query.cohort.entry;
  const agenciesOf: Record<string, readonly string[]> = {};
  if (entry?.agencies)
    for (const type of entry.eventTypes)
      if (!measure.eventTypes.includes(type)) agenciesOf[type] = entry.agencies;
  const ethnicity = query.groupBy.includes('ethnicity-group') || query.cohort.ethnicityGroups !== undefined;
  return {
    eventTypes: [...new Set([...measure.eventTypes, ...(entry?.eventTypes ?? [])])],
    ...(Object.keys(agenciesOf).length > 0 ? { agenciesOf } : {}),
    ...(ethnicity ? { specialCategories: ['ethnicity'] } : {}),
  };
}

/**
 * The analysis API's rules in one place (issue 15 items 3 and 5): a query names a measure of the
 * catalogue and what it offers; agreements in force must share with the analyst every agency's
 * events it reads; the exact result goes through disclosure control (minimum cohort,
 * suppression, rounding) and the differencing rule against the analyst's earlier answers before
 * anything leaves; the access record gets the query's definition and the answer's shape.
 */
export class GovernedAnalysis {
  constructor(
    private readonly reads: AnalysisReads,
    private readonly log: Pick<AnalysisQueryLog, 'admit'>,
    readonly rules: DisclosureRules,
    private readonly now: () => Date = () => new Date(),
  ) {}

  catalogue(requester: Requester): AnalysisCatalogue {
    const measures = this.reads.catalogue().map((measure): CatalogueEntry => {
      const coverage = this.coverage(requester, { eventTypes: measure.eventTypes });
      return {
        ...measure,
        coverage: coverage.covered
          ? { covered: true, agreements: coverage.agreements }
          : { covered: false, reason: coverage.reason },
      };
    });
    noteAccess(requester, { returned: measures.length });
    return { measures, rules: this.rules };
  }

  /** The controlled answer to a query, recorded (for differencing) as released. */
  async answer(
    query: AnalysisQuery,
    requester: Requester,
    releasedAs: ReleasedAs = 'json',
  ): Promise<AnalysisAnswer> {
    noteAccess(requester, {
      extra: {
        query: { measure: query.measure, cohort: query.cohort, groupBy: query.groupBy, period: query.period },
        releasedAs,
      },
    });
    const measure = this.measureOf(query);
    const coverage = this.coverage(requester, readingOf(measure, query));
    if (!coverage.covered)
      throw new ThroughlineError('FORBIDDEN', `not allowed (rule ${coverage.rule}): ${coverage.reason}`, {
        details: { rule: coverage.rule },
      });
    noteAccess(requester, { agreements: [...coverage.agreements] });
    const [raw, asOfPosition] = await Promise.all([this.reads.run(query), this.reads.position()]);
    const controlled = controlResult(raw, this.rules);
    await this.log.admit(requester.principal.userId, query, raw.cohortSize, this.rules.threshold, releasedAs);
    noteAccess(requester, {
      returned: controlled.cells.length,
      extra: {
        ...requester.note.extra,
        result: answerShape(controlled.cells, this.rules, releasedAs),
      },
    });
    return {
      measure,
      query,
      cohortSize: controlled.cohortSize,
      cells: controlled.cells,
      rules: this.rules,
      asOfPosition,
    };
  }

  /** The same answer as a file analysts' tools read (the data; a Parquet file carries its dictionary). */
  async export(query: AnalysisQuery, format: ExportFormat, requester: Requester): Promise<ExportFile> {
    const answer = await this.answer(query, requester, format);
    const { files } = await writeAnswer(answer, format, { generatedAt: this.now() });
    return files[0];
  }

  private coverage(requester: Requester, reading: AnalysisReading): AnalysisCoverage {
    return analysisCoverage(
      requester.policy,
      { principal: requester.principal, purpose: requester.purpose, roles: requester.roles },
      reading,
      this.now(),
    );
  }

  /** The measure asked for, and what the query asks of it checked against what it offers (400 naming each field). */
  private measureOf(query: AnalysisQuery): MeasureDefinition {
    const catalogue = this.reads.catalogue();
    const measure = catalogue.find((known) => known.id === query.measure);
    if (!measure) {
      const known = catalogue.map((m) => m.id);
      throw new ValidationError(
        `invalid analysis query: measure "${query.measure}" is not in the catalogue (GET /v1/analysis/measures)`,
        [
          {
            path: 'measure',
            rule: 'known-measure',
            message: `one of the catalogue's measures: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}`,
          },
        ],
      );
    }
    const issues: FieldIssue[] = [];
    query.cohort.entry?.eventTypes.forEach((type, index) => {
      if (!isEventType(type))
        issues.push({
          path: `cohort.entry.eventTypes.${index}`,
          rule: 'known-event-type',
          message: `"${type}" is not an event type of the contracts`,
        });
    });
    query.groupBy.forEach((dimension, index) => {
      if (!measure.groupBy.includes(dimension))
        issues.push({
          path: `groupBy.${index}`,
          rule: 'offered-by-measure',
          message: `${measure.id} is grouped by ${measure.groupBy.join(', ') || 'nothing'}, not ${dimension}`,
        });
    });
    if (new Set(query.groupBy).size !== query.groupBy.length)
      issues.push({ path: 'groupBy', rule: 'unique-items', message: 'each dimension at most once' });
    if (!measure.periods.includes(query.period))
      issues.push({
        path: 'period',
        rule: 'offered-by-measure',
        message: `${measure.id} is given by ${measure.periods.join(', ')}, not ${query.period}`,
      });
    if (issues.length > 0)
      throw new ValidationError(
        `invalid analysis query: ${issues.map((issue) => `${issue.path} ${issue.message}`).join('; ')}`,
        issues,
      );
    return measure;
  }
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** One measured figure; a throughput's ratio is value / ceiling, a latency's is ceiling / value. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly ceiling_name?: string;
  readonly ratio?: number;
  /** The ratio this figure should reach (at least); the table marks a miss. */
  readonly goal_ratio?: number;
  /** How it was measured, where the name alone could mislead. */
  readonly note?: string;
}

export interface BenchReport {
  readonly date: string;
  readonly commit: string;
  readonly event_count: number;
  /** Which stage groups ran (BENCH_STAGES); only a run of all of them writes results/latest.json. */
  readonly stages: readonly string[];
  /** Mean UTF-8 bytes of an event's JSON (the store's `data`). */
  readonly event_size_bytes: number;
  /** Mean UTF-8 bytes of the lineage metadata written beside each event by the store stages. */
  readonly metadata_size_bytes: number;
  /** Events per batch of each stage (a list where several were tried). */
  readonly batch_sizes: Readonly<Record<string, number | readonly number[]>>;
  readonly machine: {
    readonly cpus: number;
    readonly totalmem: number;
    /** os.loadavg() (1, 5, 15 min) at the start and end: the machines are shared, so this says how quiet it was. */
    readonly load_average: { readonly start: readonly number[]; readonly end: readonly number[] };
  };
  readonly figures: readonly Figure[];
}

export function throughputAgainst(
  name: string,
  value: number,
  ceiling: Figure,
  note?: string,
  goalRatio?: number,
): Figure {
  return {
    name,
    value,
    unit: 'events/s',
    ceiling_name: ceiling.name,
    ratio: value / ceiling.value,
    ...(goalRatio === undefined ? {} : { goal_ratio: goalRatio }),
    note,
  };
}

export function latencyAgainst(name: string, value: number, ceiling: Figure, note?: string): Figure {
  return { name, value, unit: 'ms', ceiling_name: ceiling.name, ratio: ceiling.value / value, note };
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-GB');
  return value.toFixed(value >= 10 ? 1 : 2);
}

function formatGoal(figure: Figure): string {
  if (figure.goal_ratio === undefined) return '';
  const met = figure.ratio !== undefined && figure.ratio >= figure.goal_ratio;
  return `>= ${figure.goal_ratio.toFixed(2)}${met ? '' : ' MISSED'}`;
}

/** A plain-text table: name, value, unit, ceiling, ratio, goal. */
export function formatTable(figures: readonly Figure[]): string {
  const header = ['name', 'value', 'unit', 'ceiling', 'ratio', 'goal'];
  const rows = figures.map((figure) => [
    figure.name,
    formatValue(figure.value),
    figure.unit,
    figure.ceiling_name ?? '',
    figure.ratio === undefined ? '' : figure.ratio.toFixed(3),
    formatGoal(figure),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === 1 || column === 4 ? cell.padStart(widths[column]) : cell.padEnd(widths[column]),
      )
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export function writeReport(file: string, report: BenchReport): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}

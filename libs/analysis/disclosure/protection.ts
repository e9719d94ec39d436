import type { DisclosureRules, MeasureUnit, SuppressionReason } from '../types';
import { roundingPreimage, roundToBase } from './rounding';
import type { Table, TableCell } from './table';

/** An upper bound standing for "no bound": larger than any count, small enough to subtract from. */
const UNBOUNDED = 2 ** 40;

/** One edge of a circulation: its exact flow and the interval the attacker knows it lies in. */
export interface BoundedEdge {
  readonly from: number;
  readonly to: number;
  readonly lo: number;
  readonly hi: number;
  readonly value: number;
}

/**
 * The exact feasible range of one cell given everything published: the attacker knows each cell
 * lies in an interval and that the table's relations hold (a circulation, see table.ts). The
 * constraint matrix of a circulation is totally unimodular, so the integer range of a cell is the
 * whole interval between its least and greatest feasible values, and those are found by maximum
 * flow: raising cell (u→v) by δ means returning δ from v to u through the other cells' slack.
 */
export class Circulation {
  private readonly heads: Int32Array;
  private readonly capacity: Float64Array;
  private readonly outgoing: number[][];

  constructor(
    private readonly nodes: number,
    private readonly edges: readonly BoundedEdge[],
  ) {
    this.heads = new Int32Array(2 * edges.length);
    this.capacity = new Float64Array(2 * edges.length);
    this.outgoing = Array.from({ length: nodes }, () => []);
    edges.forEach((edge, index) => {
      if (!(edge.lo <= edge.value && edge.value <= edge.hi)) {
        throw new Error(
          `disclosure control: a cell's exact value lies outside what its publication says of it`,
        );
      }
      this.heads[2 * index] = edge.to;
      this.capacity[2 * index] = edge.hi - edge.value;
      this.outgoing[edge.from]?.push(2 * index);
      this.heads[2 * index + 1] = edge.from;
      this.capacity[2 * index + 1] = edge.value - edge.lo;
      this.outgoing[edge.to]?.push(2 * index + 1);
    });
  }

  /** How far edge `index` can go below and above its exact value, each counted up to `limit`. */
  span(index: number, limit: number): { readonly below: number; readonly above: number } {
    const edge = this.edges[index];
    if (edge === undefined) throw new Error(`disclosure control: no cell ${index}`);
    const above = Math.min(edge.hi - edge.value, this.maxFlow(index, edge.to, edge.from, limit));
    const below = Math.min(edge.value - edge.lo, this.maxFlow(index, edge.from, edge.to, limit));
    return { below, above };
  }

  /** Edmonds–Karp from `source` to `sink` without edge `excluded`, stopping at `limit`. */
  private maxFlow(excluded: number, source: number, sink: number, limit: number): number {
    const capacity = this.capacity.slice();
    capacity[2 * excluded] = 0;
    capacity[2 * excluded + 1] = 0;
    let flow = 0;
    const via = new Int32Array(this.nodes);
    while (flow < limit) {
      via.fill(-1);
      const queue = [source];
      via[source] = -2;
      for (let head = 0; head < queue.length && via[sink] === -1; head += 1) {
        const node = queue[head] ?? 0;
        for (const arc of this.outgoing[node] ?? []) {
          const next = this.heads[arc] ?? 0;
          if ((capacity[arc] ?? 0) > 0 && via[next] === -1) {
            via[next] = arc;
            queue.push(next);
          }
        }
      }
      if (via[sink] === -1) break;
      let push = limit - flow;
      for (let node = sink; node !== source; node = this.heads[(via[node] ?? 0) ^ 1] ?? 0)
        push = Math.min(push, capacity[via[node] ?? 0] ?? 0);
      for (let node = sink; node !== source; node = this.heads[(via[node] ?? 0) ^ 1] ?? 0) {
        const arc = via[node] ?? 0;
        capacity[arc] = (capacity[arc] ?? 0) - push;
        capacity[arc ^ 1] = (capacity[arc ^ 1] ?? 0) + push;
      }
      flow += push;
    }
    return flow;
  }
}

/**
 * How many values a primary-suppressed figure must keep open to an attacker who knows the rules,
 * every published cell and every cell's reason: as many as a published count's rounding leaves
 * open (the base), at least 2, and at most the threshold − 1 values a reason `below-threshold`
 * already reveals (1 … threshold − 1). Defaults: 5 of 1 … 9.
 */
export function requiredValues(rules: DisclosureRules): number {
  return Math.max(1, Math.min(rules.threshold - 1, Math.max(2, rules.roundingBase)));
}

/** The figures of a cell the audit protects, each an additive table of its own. */
type Figure = 'count' | 'numerator' | 'complement';

const PROTECTED_BY: Readonly<Record<Figure, SuppressionReason>> = {
  count: 'below-threshold',
  numerator: 'numerator-below-threshold',
  complement: 'complement-below-threshold',
};

function exactOf(cell: TableCell, figure: Figure): number {
  switch (figure) {
    case 'count':
      return cell.count;
    case 'numerator':
      return cell.numerator ?? 0;
    case 'complement':
      return cell.count - (cell.numerator ?? 0);
  }
}

/**
 * What the attacker knows of one figure of a published cell: its rounding's preimage, and that
 * it is a true zero or at least the threshold (anything between was suppressed).
 */
function publishedBounds(exact: number, rules: DisclosureRules): readonly [number, number] {
  if (exact === 0) return [0, 0];
  const { lo, hi } = roundingPreimage(roundToBase(exact, rules.roundingBase), rules.roundingBase);
  return [Math.max(lo, rules.threshold), hi];
}

/**
 * What the attacker knows of one figure of a cell from its publication and its reason, as an
 * interval. Where the truth is not one (a published complement known only as 0 or at least the
 * threshold) the interval around it, which makes the audit's attacker a little weaker than a real
 * one there; with the defaults that case does not arise (see README).
 */
function boundsOf(
  cell: TableCell,
  reason: SuppressionReason | undefined,
  figure: Figure,
  rules: DisclosureRules,
): readonly [number, number] {
  const t = rules.threshold;
  const small = cell.count < t;
  if (reason === 'below-threshold')
    // Below the threshold on distinct children, a cell's count may itself be at or over it.
    return figure === 'count' ? [1, small ? t - 1 : UNBOUNDED] : [0, small ? t - 1 : UNBOUNDED];
  switch (figure) {
    case 'count':
      return reason === undefined ? publishedBounds(cell.count, rules) : [t, UNBOUNDED];
    case 'numerator':
      switch (reason) {
        case undefined: {
          const [lo, hi] = publishedBounds(exactOf(cell, 'numerator'), rules);
          return [lo, Math.min(hi, publishedBounds(cell.count, rules)[1])];
        }
        case 'numerator-below-threshold':
          return [1, t - 1];
        case 'complement-below-threshold':
        case 'secondary':
          // A complementary cell of a proportion is never 0% or 100% (control.ts, mayComplement).
          return [t, UNBOUNDED];
      }
      break;
    case 'complement':
      switch (reason) {
        case undefined: {
          const [countLo, countHi] = publishedBounds(cell.count, rules);
          const [numeratorLo, numeratorHi] = publishedBounds(exactOf(cell, 'numerator'), rules);
          let lo = Math.max(0, countLo - numeratorHi);
          let hi = countHi - numeratorLo;
          if (lo > 0) lo = Math.max(lo, t);
          if (hi < t) hi = 0;
          return [lo, hi];
        }
        case 'numerator-below-threshold':
          return [1, UNBOUNDED];
        case 'complement-below-threshold':
          return [1, t - 1];
        case 'secondary':
          return [t, UNBOUNDED];
      }
  }
  return [0, UNBOUNDED];
}

/**
 * The primary-suppressed cells an attacker could narrow to fewer than requiredValues(rules)
 * values, solving the table's relations over everything published (rounded counts and
 * numerators, suppressed flags, reasons). Each figure (count; for proportions also numerator and
 * complement) is solved on its own: the links between a cell's figures are left out.
 */
export function underProtected(
  table: Table,
  reasons: readonly (SuppressionReason | undefined)[],
  rules: DisclosureRules,
  unit: MeasureUnit,
): number[] {
  const required = requiredValues(rules);
  const figures: readonly Figure[] = unit === 'proportion' ? ['count', 'numerator', 'complement'] : ['count'];
  const exposed = new Set<number>();
  for (const figure of figures) {
    const targets = table.cells.flatMap((_, index) =>
      reasons[index] === PROTECTED_BY[figure] ? [index] : [],
    );
    if (targets.length === 0) continue;
    const circulation = new Circulation(
      table.nodes,
      table.cells.map((cell, index) => {
        const [lo, hi] = boundsOf(cell, reasons[index], figure, rules);
        return { from: cell.from, to: cell.to, lo, hi, value: exactOf(cell, figure) };
      }),
    );
    for (const index of targets) {
      const { below, above } = circulation.span(index, required - 1);
      if (below + above + 1 < required) exposed.add(index);
    }
  }
  return [...exposed].sort((a, b) => a - b);
}

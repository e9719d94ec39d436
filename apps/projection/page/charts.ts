// The domain lanes' charts, drawn by Observable Plot (not by hand). Under the page's CSP
// (style-src with a per-request nonce) Plot's own <style> element would be refused, so it is
// removed before the chart enters the document and the same rules live in the page's stylesheet
// under the class `lane-plot` (timeline.html). Plot writes attributes and text only, so Trusted
// Types have nothing to refuse. Every chart has a text alternative beside it (a table of the
// same points), built by timeline.ts.
import * as Plot from '@observablehq/plot';
import type { Lane } from './timeline-logic';

/** Line colours with at least 3:1 contrast on white (WCAG 1.4.11), and more cues than colour. */
export const SERIES_COLOURS = [
  '#1d70b8',
  '#d4351c',
  '#00703c',
  '#6f2c91',
  '#0b0c0c',
  '#8f4e00',
  '#005a5e',
  '#912b88',
];
/** Plot's symbol names and the glyph the legend shows for each. */
export const SERIES_SYMBOLS: [Plot.SymbolType, string][] = [
  ['circle', '●'],
  ['square', '■'],
  ['triangle', '▲'],
  ['diamond', '◆'],
  ['cross', '✚'],
  ['star', '★'],
  ['wye', 'Y'],
  ['times', '✕'],
];
/** Line patterns, so two lines differ in shape as well as colour. */
export const SERIES_DASHES: [string, string][] = [
  ['none', 'solid line'],
  ['6,3', 'dashed line'],
  ['2,3', 'dotted line'],
  ['10,3,2,3', 'dash-dot line'],
];

export interface SeriesStyle {
  colour: string;
  glyph: string;
  symbol: Plot.SymbolType;
  dash: string;
  dashText: string;
}

export function seriesStyle(index: number): SeriesStyle {
  const [symbol, glyph] = SERIES_SYMBOLS[index % SERIES_SYMBOLS.length];
  const [dash, dashText] = SERIES_DASHES[index % SERIES_DASHES.length];
  return { colour: SERIES_COLOURS[index % SERIES_COLOURS.length], glyph, symbol, dash, dashText };
}

interface Datum {
  date: Date;
  normalised: number;
  label: string;
  title: string;
  differs: boolean;
}

/** The dates every lane's chart spans, so the lanes line up one above the other. */
export function timeSpan(lanes: readonly Lane[]): [Date, Date] | undefined {
  const dates = lanes.flatMap((lane) =>
    lane.series.flatMap((series) => series.points.map((point) => Date.parse(point.date))),
  );
  if (!dates.length) return undefined;
  const day = 86_400_000;
  // A little room either side, so a point on the first or last day is not cut in half.
  return [new Date(Math.min(...dates) - 20 * day), new Date(Math.max(...dates) + 20 * day)];
}

/** 1 September of each school year the span crosses, with the year's name ("2024/25"). */
function schoolYearStarts(span: [Date, Date]): { date: Date; label: string }[] {
  const starts: { date: Date; label: string }[] = [];
  for (let year = span[0].getUTCFullYear(); year <= span[1].getUTCFullYear(); year++) {
    const date = new Date(Date.UTC(year, 8, 1));
    if (date >= span[0] && date <= span[1])
      starts.push({ date, label: `${year}/${String((year + 1) % 100).padStart(2, '0')}` });
  }
  return starts;
}

/** One lane's perspectives over the years: y is the 0-1 normalised rating (1 = the better end). */
/** Which style each perspective has: the same in every lane, so a line is recognised across them. */
export type StyleIndex = (perspective: string) => number;

/** Child, family, then each professional by label: one style index each, across all lanes. */
export function styleIndex(lanes: readonly Lane[]): StyleIndex {
  const rank = (perspective: string): number =>
    perspective === 'child' ? 0 : perspective === 'family' ? 1 : 2;
  const all = new Map<string, string>();
  for (const lane of lanes) for (const series of lane.series) all.set(series.perspective, series.label);
  const order = [...all.entries()]
    .sort((a, b) => rank(a[0]) - rank(b[0]) || a[1].localeCompare(b[1]))
    .map(([perspective]) => perspective);
  return (perspective) => Math.max(0, order.indexOf(perspective));
}

export function laneChart(
  lane: Lane,
  width: number,
  span?: [Date, Date],
  indexOf: StyleIndex = styleIndex([lane]),
): SVGSVGElement | HTMLElement {
  const years = span ? schoolYearStarts(span) : [];
  const marks: Plot.Markish[] = [
    Plot.ruleY([0, 0.5, 1], { stroke: '#b1b4b6', strokeDasharray: '1,3' }),
    // School years start on 1 September: a rule and the year's name.
    Plot.ruleX(years, { x: 'date', stroke: '#505a5f', strokeDasharray: '4,4' }),
    Plot.text(years, {
      x: 'date',
      text: 'label',
      frameAnchor: 'top',
      dy: -14,
      dx: 4,
      textAnchor: 'start',
      fill: '#505a5f',
    }),
  ];
  const labels = lane.series.map((series) => series.label);
  lane.series.forEach((series) => {
    const style = seriesStyle(indexOf(series.perspective));
    const data: Datum[] = series.points.map((point) => ({
      date: new Date(point.date),
      normalised: point.normalised,
      label: series.label,
      differs: point.differs,
      title:
        `${series.label}, ${point.date.slice(0, 10)}: ${point.scaleText}` +
        (point.differs ? ' — views differ' : '') +
        (point.narrative ? `\n${point.narrative}` : ''),
    }));
    marks.push(
      Plot.line(data, {
        x: 'date',
        y: 'normalised',
        stroke: style.colour,
        strokeWidth: 2,
        className: 'series-line',
        strokeDasharray: style.dash === 'none' ? undefined : style.dash,
        curve: 'linear',
      }),
      Plot.dot(data, {
        x: 'date',
        y: 'normalised',
        symbol: () => style.symbol,
        fill: style.colour,
        stroke: '#ffffff',
        r: 5,
        title: 'title',
      }),
      // Disagreement in shape as well as colour: a ring and an exclamation mark on the point.
      Plot.dot(
        data.filter((datum) => datum.differs),
        {
          x: 'date',
          y: 'normalised',
          r: 10,
          stroke: '#0b0c0c',
          strokeWidth: 2,
          fill: 'none',
          className: 'views-differ',
        },
      ),
      Plot.text(
        data.filter((datum) => datum.differs),
        {
          x: 'date',
          y: 'normalised',
          text: () => '!',
          dy: -15,
          fontWeight: 'bold',
          fontSize: 14,
          fill: '#0b0c0c',
        },
      ),
    );
  });
  const chart = Plot.plot({
    className: 'lane-plot',
    width,
    height: 220,
    marginLeft: 70,
    // Room for the last school year's name.
    marginRight: 50,
    marginTop: 24,
    x: { type: 'time', label: null, grid: false, ...(span ? { domain: span } : {}) },
    y: {
      domain: [0, 1],
      label: null,
      ticks: [0, 0.5, 1],
      tickFormat: (value: number) => (value === 0 ? 'worse end' : value === 1 ? 'better end' : 'middle'),
    },
    symbol: { type: 'identity' },
    ariaLabel: `${lane.label}: ratings over time from ${labels.join(', ')}`,
    ariaDescription: 'Each perspective is its own line; the table that follows lists every point.',
    marks,
  });
  // Plot's own stylesheet: the page's stylesheet carries the same rules for .lane-plot (see above).
  chart.querySelectorAll('style').forEach((style) => style.remove());
  // One image with one name for assistive technology; the table beside it carries every point.
  // (Plot names each mark's group, e.g. aria-label="line", which ARIA does not allow on a plain group.)
  chart.setAttribute('role', 'img');
  chart.querySelectorAll('g[aria-label], g[aria-description]').forEach((group) => {
    group.removeAttribute('aria-label');
    group.removeAttribute('aria-description');
  });
  return chart;
}

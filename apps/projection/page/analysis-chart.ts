// The analyst's chart, drawn by Observable Plot. As on the timeline page (charts.ts), Plot's own
// <style> element would be refused by the CSP, so it is removed and the same rules live in the
// page's stylesheet under the class `analysis-plot` (analysis.html). A suppressed cell is never a
// bar of some height: it is a gap with a dashed frame and the letter c, so it reads the same in
// black and white and to someone who cannot tell the colours apart. The table beside the chart
// carries every figure in text.
import * as Plot from '@observablehq/plot';
import type { ChartDatum, ChartSpec } from './analysis-logic';

/** Bars: the GOV.UK blue, 5.2:1 on white (WCAG 1.4.11 needs 3:1 for a graphical object). */
const BAR = '#1d70b8';
const INK = '#0b0c0c';
const MUTED = '#505a5f';

export function answerChart(spec: ChartSpec, width: number): SVGSVGElement | HTMLElement {
  const shown = spec.data.filter((datum) => !datum.suppressed && datum.y !== null);
  const gaps = spec.data.filter((datum) => datum.suppressed);
  const empty = spec.data.filter((datum) => !datum.suppressed && datum.y === null);
  const faceted = spec.facetOrder.length > 0;
  const place = () => ({
    x: (datum: ChartDatum) => datum.x,
    ...(faceted ? { fx: (datum: ChartDatum) => datum.facet } : {}),
  });
  // The tooltip on the bars and gaps only: on a label it would join the label's own text.
  const channels = () => ({ ...place(), title: (datum: ChartDatum) => datum.title });
  const marks: Plot.Markish[] = [
    Plot.ruleY([0], { stroke: INK }),
    Plot.barY(shown, { ...channels(), y: (datum: ChartDatum) => datum.y, fill: BAR }),
    Plot.text(shown, {
      ...place(),
      y: (datum: ChartDatum) => datum.y,
      text: (datum: ChartDatum) => datum.label,
      dy: -8,
      fill: INK,
    }),
    // The gap: a dashed empty frame the height of the axis, and "c" in it.
    Plot.barY(gaps, {
      ...channels(),
      y1: 0,
      y2: spec.yMax,
      fill: 'none',
      stroke: MUTED,
      strokeWidth: 1.5,
      strokeDasharray: '5,4',
      inset: 4,
      className: 'suppressed-gap',
    }),
    Plot.text(gaps, {
      ...place(),
      y: spec.yMax / 2,
      text: () => 'c',
      fontSize: 18,
      fontWeight: 'bold',
      fill: INK,
    }),
    Plot.text(gaps, {
      ...place(),
      y: spec.yMax / 2,
      text: () => 'suppressed',
      dy: 18,
      fill: INK,
    }),
    // Not suppressed but without a value (no unit to average): a dash on the axis, not a zero bar.
    Plot.text(empty, { ...place(), y: 0, text: () => '–', dy: -10, fill: INK }),
  ];
  const chart = Plot.plot({
    className: 'analysis-plot',
    width,
    height: 320,
    marginLeft: 60,
    marginBottom: 60,
    marginTop: faceted ? 40 : 24,
    x: { domain: spec.xOrder, label: spec.xLabel || null, tickRotate: spec.xOrder.length > 8 ? -30 : 0 },
    ...(faceted ? { fx: { domain: spec.facetOrder, label: spec.facetLabel ?? null } } : {}),
    y: { domain: [0, spec.yMax], label: spec.yLabel, grid: true },
    ariaLabel: spec.summary,
    marks,
  });
  chart.querySelectorAll('style').forEach((style) => style.remove());
  // One image with one name for assistive technology; the table carries every figure.
  chart.setAttribute('role', 'img');
  chart.querySelectorAll('g[aria-label], g[aria-description]').forEach((group) => {
    group.removeAttribute('aria-label');
    group.removeAttribute('aria-description');
  });
  return chart;
}

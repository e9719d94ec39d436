// The domain lanes (outcomes over the years, each perspective its own line) and the decision
// cards (with "since this decision"). Pure shaping is in timeline-logic.ts (lanesOf, sinceGroups);
// this file only builds DOM from it, as text and nodes.
import type { DecisionCard, DecisionReview, ExpectedOutcome } from './api';
import { laneChart, seriesStyle, styleIndex, timeSpan, type StyleIndex } from './charts';
import { el, uniqueId, type Content } from './dom';
import type * as TimelineLogic from './timeline-logic';
import type { Lane, LaneSeries } from './timeline-logic';

const logic = (): typeof TimelineLogic => window.TimelineLogic;

/**
 * A button that shows and hides a region (aria-expanded, aria-controls), for tables and follow-ups.
 * Its name stays the same (a screen reader announces expanded or collapsed); a sign shows the state.
 */
export function disclosure(label: string, region: HTMLElement): HTMLButtonElement {
  const id = region.id || uniqueId('region');
  region.id = id;
  region.hidden = true;
  const button = el(
    'button',
    { type: 'button', class: 'disclosure', 'aria-expanded': 'false', 'aria-controls': id },
    label,
  );
  button.addEventListener('click', () => {
    const open = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', String(open));
    region.hidden = !open;
  });
  return button;
}

function legend(series: LaneSeries[], indexOf: StyleIndex): HTMLElement {
  return el(
    'ul',
    { class: 'series-legend', 'aria-label': 'Perspectives in this chart' },
    series.map((one) => {
      const style = seriesStyle(indexOf(one.perspective));
      const glyph = el('span', { class: 'glyph', 'aria-hidden': 'true' }, style.glyph);
      // CSSOM, not a style attribute: the page's CSP allows the one and not the other.
      glyph.style.color = style.colour;
      return el('li', {}, glyph, ' ', one.label, el('span', { class: 'muted' }, ' — ' + style.dashText));
    }),
  );
}

function pointsTable(lane: Lane): HTMLElement {
  return el(
    'table',
    { class: 'lane-table' },
    el('caption', {}, lane.label + ': every rating, by perspective (the chart as a table)'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ['Date', 'Age', 'Term', 'Perspective', 'Rating', 'Views differ', 'Account'].map((name) =>
          el('th', { scope: 'col' }, name),
        ),
      ),
    ),
    el(
      'tbody',
      {},
      lane.series.flatMap((series) =>
        series.points.map((point) =>
          el(
            'tr',
            { class: point.differs ? 'differs' : null },
            el('td', {}, logic().displayDate(point.date.slice(0, 10))),
            el('td', {}, point.age || '—'),
            el('td', {}, point.period || '—'),
            el('th', { scope: 'row' }, series.label),
            el(
              'td',
              {},
              point.scaleText,
              point.confidence ? el('div', { class: 'muted' }, 'confidence ' + point.confidence) : null,
            ),
            el(
              'td',
              {},
              point.differs
                ? el(
                    'span',
                    { class: 'badge differ' },
                    '⚠ Views differ' +
                      (point.differsFrom.length ? ' from ' + point.differsFrom.join(', ') : ''),
                  )
                : 'no',
            ),
            el(
              'td',
              {},
              point.narrative
                ? el(
                    'details',
                    { class: 'narrative' },
                    el('summary', {}, 'Read the account'),
                    el('p', {}, point.narrative),
                  )
                : el('span', { class: 'muted' }, 'No account recorded with this rating'),
            ),
          ),
        ),
      ),
    ),
  );
}

function indicatorsTable(lane: Lane): HTMLElement {
  return el(
    'table',
    { class: 'lane-indicators' },
    el(
      'caption',
      {},
      'Indicators by period, beside the account that goes with each (an indicator is evidence, not the outcome)',
    ),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ['Period', 'Indicator', 'Value', 'Whose account goes with it'].map((name) =>
          el('th', { scope: 'col' }, name),
        ),
      ),
    ),
    el(
      'tbody',
      {},
      lane.indicators.map((indicator) =>
        el(
          'tr',
          {},
          el('td', {}, indicator.period || '—'),
          el('th', { scope: 'row' }, indicator.label),
          el(
            'td',
            {},
            indicator.valueText,
            indicator.thresholdText ? el('div', { class: 'muted' }, indicator.thresholdText) : null,
          ),
          el('td', {}, indicator.hasAccount ? indicator.accountText : el('em', {}, 'No account recorded')),
        ),
      ),
    ),
  );
}

function datedList(items: { date: string; text: Content }[]): HTMLElement {
  return el(
    'ul',
    { class: 'dated' },
    items.map((item) =>
      el(
        'li',
        {},
        el('time', { datetime: item.date }, logic().displayDate(item.date.slice(0, 10))),
        ' — ',
        item.text,
      ),
    ),
  );
}

function renderLane(
  lane: Lane,
  width: number,
  span: [Date, Date] | undefined,
  indexOf: StyleIndex,
): HTMLElement {
  const headingId = uniqueId('lane');
  const tableRegion = el('div', { class: 'lane-text' }, pointsTable(lane));
  const parts: Content[] = [
    el(
      'h4',
      { id: headingId },
      lane.label,
      lane.differing
        ? el(
            'span',
            { class: 'badge differ' },
            '⚠ Views differ at ' + lane.differing + (lane.differing === 1 ? ' point' : ' points'),
          )
        : null,
    ),
  ];
  if (lane.series.length) {
    parts.push(
      legend(lane.series, indexOf),
      el('div', { class: 'chart', 'data-domain': lane.domain }, laneChart(lane, width, span, indexOf)),
      el(
        'p',
        { class: 'muted chart-note' },
        'Each perspective is its own line, on its own scale shown as worse end to better end; never one blended score. ',
        "A ring and ! mark a rating far from another perspective's in the same period.",
      ),
      el('div', { class: 'no-print' }, disclosure('Ratings as a table', tableRegion)),
      tableRegion,
    );
  } else {
    parts.push(el('p', { class: 'muted' }, 'No ratings recorded in this domain.'));
  }
  if (lane.indicators.length) parts.push(indicatorsTable(lane));
  if (lane.accounts.length)
    parts.push(
      el(
        'details',
        { class: 'accounts' },
        el('summary', {}, 'Accounts without a rating (' + lane.accounts.length + ')'),
        datedList(
          lane.accounts.map((account) => ({
            date: account.date,
            text: [el('strong', {}, account.who), ': ', account.text],
          })),
        ),
      ),
    );
  if (lane.disagreements.length)
    parts.push(
      el(
        'div',
        { class: 'differences' },
        el('p', {}, '⚠ Ratings far apart within a period (' + lane.disagreements.length + ')'),
        el(
          'ul',
          {},
          lane.disagreements.map((text) => el('li', {}, text)),
        ),
      ),
    );
  if (lane.viewsDiffer.length)
    parts.push(
      el(
        'div',
        { class: 'differences' },
        el('p', {}, '⚠ Recorded that views differ (' + lane.viewsDiffer.length + ')'),
        datedList(
          lane.viewsDiffer.map((record) => ({
            date: record.date,
            text: [
              el(
                'ul',
                {},
                record.views.map((view) => el('li', {}, view)),
              ),
              record.narrative
                ? el('p', { class: 'muted' }, 'What is being done: ' + record.narrative)
                : null,
            ],
          })),
        ),
      ),
    );
  if (lane.facts.length)
    parts.push(
      el(
        'details',
        { class: 'facts' },
        el('summary', {}, 'Facts recorded about this domain (' + lane.facts.length + ')'),
        datedList(lane.facts.map((fact) => ({ date: fact.date, text: fact.summary }))),
      ),
    );
  return el('section', { class: 'lane', 'aria-labelledby': headingId }, parts);
}

export function renderLanes(lanes: Lane[], width: number): Content {
  const shown = lanes.filter((lane) => logic().laneHasContent(lane));
  if (!shown.length) return el('p', {}, 'Nothing recorded about this child maps to this framework yet.');
  const span = timeSpan(shown);
  const indexOf = styleIndex(shown);
  return shown.map((lane) => renderLane(lane, width, span, indexOf));
}

// ---------------------------------------------------------------------------------------------
// Decision cards

function expectedList(expected: ExpectedOutcome[]): HTMLElement {
  return el(
    'ul',
    {},
    expected.map((item) =>
      el(
        'li',
        {},
        el('strong', {}, logic().humanise(item.domain)),
        ' (' + item.framework + '): look for ' + item.lookFor,
      ),
    ),
  );
}

const JUDGEMENTS: Record<string, string> = {
  'as-expected': 'As expected',
  'better-than-expected': 'Better than expected',
  'worse-than-expected': 'Worse than expected',
  'too-early-to-say': 'Too early to say',
};
const REVIEW_OUTCOMES: Record<string, string> = {
  continued: 'Decision continued',
  revised: 'Decision revised',
  ended: 'Decision ended',
};

function renderReview(review: DecisionReview): HTMLElement {
  return el(
    'li',
    { class: 'review-item' },
    el(
      'p',
      {},
      el('strong', {}, 'Reviewed ' + logic().displayDate(review.reviewedOn)),
      ' — ' + (REVIEW_OUTCOMES[review.outcome] || logic().humanise(review.outcome)),
      review.reviewedBy
        ? ' — by ' +
            review.reviewedBy.role +
            (review.reviewedBy.agency ? ', ' + review.reviewedBy.agency : '')
        : '',
      review.forum ? ' (' + review.forum + ')' : '',
    ),
    review.whatHappened ? el('p', {}, 'What happened: ' + review.whatHappened) : null,
    review.againstExpected && review.againstExpected.length
      ? el(
          'ul',
          {},
          review.againstExpected.map((item) =>
            el(
              'li',
              {},
              el(
                'strong',
                {},
                logic().humanise(item.domain) + ': ' + (JUDGEMENTS[item.judgement] || item.judgement),
              ),
              ' — ' + item.finding,
            ),
          ),
        )
      : null,
    review.revisedDecision ? el('p', {}, 'Revised decision: ' + review.revisedDecision) : null,
    review.nextReviewDate
      ? el('p', {}, 'Next review by ' + logic().displayDate(review.nextReviewDate))
      : null,
  );
}

function renderSince(decision: DecisionCard): HTMLElement {
  const groups = logic().sinceGroups(decision);
  return el(
    'div',
    { class: 'since' },
    el(
      'h5',
      {},
      'Since this decision: what was seen in its expected domains' +
        (decision.since
          ? ' from ' +
            logic().displayDate(decision.since.from) +
            (decision.since.until ? ' to ' + logic().displayDate(decision.since.until) : ' to now')
          : ''),
    ),
    groups.length
      ? groups.map((group) =>
          el(
            'section',
            { class: 'since-group' },
            el('h6', {}, group.label + ' (' + group.items.length + ')'),
            group.items.length
              ? datedList(
                  group.items.map((item) => ({
                    date: item.date,
                    text: [
                      item.domain ? el('span', { class: 'muted' }, item.domain + ': ') : null,
                      item.text,
                    ],
                  })),
                )
              : el('p', { class: 'muted' }, 'Nothing recorded from this perspective.'),
          ),
        )
      : el('p', { class: 'muted' }, 'Nothing has been recorded in the expected domains since this decision.'),
  );
}

function row(term: string, ...value: Content[]): HTMLElement[] {
  return [el('dt', {}, term), el('dd', {}, value)];
}

function renderDecision(decision: DecisionCard): HTMLElement {
  const status = logic().decisionStatus(decision.status);
  const headingId = uniqueId('decision');
  const followUp = el('div', { class: 'follow-up' }, renderSince(decision));
  const reviews = decision.reviews || [];
  const by = decision.decidedBy;
  return el(
    'article',
    { class: 'decision status-' + decision.status, 'aria-labelledby': headingId },
    el(
      'div',
      { class: 'decision-head' },
      el('span', { class: 'badge status status-' + decision.status }, status.symbol + ' ' + status.text),
      el('time', { datetime: decision.decidedOn }, 'Decided ' + logic().displayDate(decision.decidedOn)),
    ),
    el('h4', { id: headingId }, decision.decision),
    el(
      'dl',
      { class: 'decision-facts' },
      by ? row('Decided by', by.role + (by.agency ? ', ' + by.agency : '')) : [],
      decision.forum ? row('Forum', decision.forum) : [],
      decision.team ? row('Team holding the review', decision.team) : [],
      decision.rationale ? row('Why', decision.rationale) : [],
      decision.optionsConsidered && decision.optionsConsidered.length
        ? row(
            'Options considered',
            el(
              'ul',
              {},
              decision.optionsConsidered.map((option) =>
                el(
                  'li',
                  {},
                  option.option,
                  option.whyNot ? el('span', { class: 'muted' }, ' — why not: ' + option.whyNot) : null,
                ),
              ),
            ),
          )
        : [],
      decision.uncertainty ? row('What is uncertain', decision.uncertainty) : [],
      decision.confidence ? row('Confidence', decision.confidence) : [],
      decision.expectedOutcomes && decision.expectedOutcomes.length
        ? row('Expected outcomes', expectedList(decision.expectedOutcomes))
        : row('Expected outcomes', el('span', { class: 'muted' }, 'None stated')),
      decision.reviewDate ? row('Review first set for', logic().displayDate(decision.reviewDate)) : [],
      decision.nextReviewDate && decision.status !== 'reviewed'
        ? row('Next review by', logic().displayDate(decision.nextReviewDate))
        : [],
    ),
    reviews.length
      ? el(
          'section',
          { class: 'reviews' },
          el('h5', {}, 'Reviews (' + reviews.length + ')'),
          el('ol', {}, reviews.map(renderReview)),
        )
      : el('p', { class: 'muted' }, 'Not reviewed yet.'),
    el('div', { class: 'no-print' }, disclosure('Since this decision', followUp)),
    followUp,
  );
}

export function renderDecisions(decisions: DecisionCard[]): Content {
  if (!decisions.length) return el('p', {}, 'No decisions recorded for this child that you may see.');
  return decisions.map(renderDecision);
}

// The analyst's page's UI: built into the page's second script block, over the logic block's
// global `AnalysisLogic` (a type-only import here, so the logic is not bundled twice). Data is
// only ever written with text nodes, never as markup: Trusted Types would refuse an HTML sink
// anyway. Every call goes to the guarded API with the page's session cookie and
// `x-purpose: analysis`; the page holds no token and keeps nothing in storage.
import { answerChart } from './analysis-chart';
import type { Answer, ErrorBody, FormIssue, Measure, Query, QueryForm, SignedIn } from './analysis-logic';
import type * as AnalysisLogic from './analysis-logic';
import { el, setContent } from './dom';

declare global {
  interface Window {
    AnalysisLogic: typeof AnalysisLogic;
  }
}

const logic = window.AnalysisLogic;

/** The page's own element: missing or of another kind, the page is broken, so say which. */
function byId<T extends HTMLElement>(id: string, kind: { new (): T; prototype: T }): T {
  const node = document.getElementById(id);
  if (!(node instanceof kind)) throw new Error(`the page has no ${kind.name} #${id}`);
  return node;
}

const account = byId('account', HTMLElement);
const accountName = byId('account-name', HTMLElement);
const accountRoles = byId('account-roles', HTMLElement);
const signOut = byId('sign-out', HTMLButtonElement);
const signIn = byId('sign-in', HTMLElement);
const notAnalyst = byId('not-analyst', HTMLElement);
const form = byId('query', HTMLFormElement);
const measureSelect = byId('measure', HTMLSelectElement);
const measureDetails = byId('measure-details', HTMLElement);
const entryChoices = byId('entry-event-type-choices', HTMLElement);
const entryFrom = byId('entry-from', HTMLInputElement);
const entryTo = byId('entry-to', HTMLInputElement);
const ageBandChoices = byId('age-band-choices', HTMLElement);
const sex = byId('sex', HTMLInputElement);
const ethnicityGroups = byId('ethnicity-groups', HTMLInputElement);
const senStatus = byId('sen-status', HTMLInputElement);
const localAuthorities = byId('local-authorities', HTMLInputElement);
const groupBy1 = byId('group-by-1', HTMLSelectElement);
const groupBy2 = byId('group-by-2', HTMLSelectElement);
const period = byId('period', HTMLSelectElement);
const run = byId('run', HTMLButtonElement);
const status = byId('status', HTMLElement);
const errorBox = byId('error', HTMLElement);
const answerSection = byId('answer', HTMLElement);
const asked = byId('asked', HTMLElement);
const cohortSize = byId('cohort-size', HTMLElement);
const chartOut = byId('chart', HTMLElement);
const chartCaption = byId('chart-caption', HTMLElement);
const tableOut = byId('table', HTMLElement);
const rulesOut = byId('rules', HTMLElement);
const caveatsOut = byId('caveats', HTMLElement);
const freshness = byId('freshness', HTMLElement);
const downloadCsv = byId('download-csv', HTMLButtonElement);
const downloadParquet = byId('download-parquet', HTMLButtonElement);

let measures: Measure[] = [];
/** The query whose answer is on screen: the downloads are of exactly that. */
let shown: { query: Query; answer: Answer } | null = null;

/** An API refusal, with the API's own body. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | undefined,
  ) {
    super((body && body.message) || `HTTP ${status}`);
  }
}

function call(
  path: string,
  init: { method?: string; body?: unknown; accept?: string; purpose?: boolean },
): Promise<Response> {
  const headers: Record<string, string> = { accept: init.accept || 'application/json' };
  if (init.purpose !== false) headers['x-purpose'] = logic.PURPOSE;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(path, {
    method: init.method || 'GET',
    cache: 'no-store',
    credentials: 'same-origin',
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  }).then(async (response) => {
    if (response.ok) return response;
    const text = await response.text();
    let body: ErrorBody | undefined;
    try {
      body = text ? (JSON.parse(text) as ErrorBody) : undefined;
    } catch {
      body = { message: text.slice(0, 500) };
    }
    throw new ApiError(response.status, body);
  });
}

function json<T>(response: Response): Promise<T> {
  return response.json() as Promise<T>;
}

// ---------------------------------------------------------------------------------------------
// Messages.

function clearMessages(): void {
  errorBox.hidden = true;
  setContent(errorBox);
  form.querySelectorAll('[aria-invalid]').forEach((node) => node.removeAttribute('aria-invalid'));
}

function showSignIn(): void {
  signIn.hidden = false;
  form.hidden = true;
  account.hidden = true;
  answerSection.hidden = true;
  status.textContent = '';
}

function showError(error: unknown): void {
  if (error instanceof ApiError && error.status === 401) {
    showSignIn();
    return;
  }
  const refusal =
    error instanceof ApiError
      ? logic.refusalOf(error.status, error.body)
      : {
          kind: 'failed',
          title: 'Could not reach the analysis service',
          message: error instanceof Error ? error.message : String(error),
          details: [],
        };
  setContent(
    errorBox,
    el('h2', {}, refusal.title),
    el('p', {}, refusal.message),
    refusal.details.length
      ? el(
          'ul',
          {},
          refusal.details.map((detail) => el('li', {}, detail)),
        )
      : null,
    refusal.kind === 'minimum-cohort' || refusal.kind === 'differencing' || refusal.kind === 'unprotectable'
      ? el(
          'p',
          {},
          'These rules keep a small group of children, or one child, from being worked out from the answers. ' +
            'Widen the cohort (fewer filters, more years) and ask again.',
        )
      : null,
  );
  errorBox.hidden = false;
  status.textContent = '';
  errorBox.focus();
}

/** The form's problems as a summary whose links take the keyboard to each field, and the fields marked. */
function showFormIssues(issues: FormIssue[]): void {
  setContent(
    errorBox,
    el('h2', {}, 'There is a problem with the query'),
    el(
      'ul',
      {},
      issues.map((issue) =>
        el('li', {}, el('a', { href: `#${issue.field}`, 'data-field': issue.field }, issue.message)),
      ),
    ),
  );
  for (const issue of issues) {
    const field = document.getElementById(issue.field);
    if (field && !(field instanceof HTMLFieldSetElement)) field.setAttribute('aria-invalid', 'true');
  }
  errorBox.hidden = false;
  status.textContent = '';
  errorBox.focus();
}

errorBox.addEventListener('click', (event) => {
  const target = event.target;
  if (!(target instanceof HTMLAnchorElement) || !target.dataset.field) return;
  const field = document.getElementById(target.dataset.field);
  if (!field) return;
  event.preventDefault();
  const focusable = field instanceof HTMLFieldSetElement ? field.querySelector('input') || field : field;
  focusable.focus();
});

// ---------------------------------------------------------------------------------------------
// Who is signed in, and the catalogue.

function showSignedIn(signedIn: SignedIn): void {
  accountName.textContent = signedIn.name || signedIn.userId;
  accountRoles.textContent = '· role ' + (signedIn.roles.length ? signedIn.roles.join(', ') : 'none');
  account.hidden = false;
  signIn.hidden = true;
}

function measureOf(id: string): Measure | undefined {
  return measures.find((measure) => measure.id === id);
}

function checkbox(name: string, value: string, label: string, checked = false): HTMLElement {
  const input = el('input', { type: 'checkbox', name, value });
  input.checked = checked;
  return el('label', {}, input, ' ', label);
}

function options(select: HTMLSelectElement, choices: [string, string][], keep: boolean): void {
  const before = select.value;
  setContent(
    select,
    choices.map(([value, label]) => el('option', { value }, label)),
  );
  if (keep && choices.some(([value]) => value === before)) select.value = before;
}

/** The chosen measure's definition, source, unit and caveats, and the choices it offers. */
function showMeasure(): void {
  const measure = measureOf(measureSelect.value);
  if (!measure) {
    measureDetails.hidden = true;
    setContent(measureDetails);
    setContent(entryChoices, el('p', { class: 'hint' }, 'Choose a measure first.'));
    return;
  }
  setContent(
    measureDetails,
    el('p', {}, measure.definition),
    el(
      'dl',
      {},
      el('dt', {}, 'Source'),
      el(
        'dd',
        {},
        measure.source
          ? el(
              'a',
              { href: measure.source.url, rel: 'noreferrer noopener', target: '_blank' },
              measure.source.title,
              el('span', { class: 'visually-hidden' }, ' (opens in a new tab)'),
            )
          : 'Throughline’s own definition (no official one found)',
      ),
      el('dt', {}, 'Unit'),
      el('dd', {}, `${logic.unitName(measure.unit)}, of ${measure.countOf}`),
      logic.coverageText(measure)
        ? [el('dt', {}, 'Agreements'), el('dd', {}, logic.coverageText(measure))]
        : null,
      el('dt', {}, 'Events read'),
      el(
        'dd',
        {},
        measure.eventTypes.map((type, index) => [index ? ', ' : '', el('span', { class: 'mono' }, type)]),
      ),
    ),
    measure.caveats.length
      ? [
          el('p', {}, el('strong', {}, 'Caveats')),
          el(
            'ul',
            {},
            measure.caveats.map((caveat) => el('li', {}, caveat)),
          ),
        ]
      : null,
  );
  measureDetails.hidden = false;
  const chosen = new Set(checkedValues('entry-event-type'));
  setContent(
    entryChoices,
    measure.eventTypes.map((type) => checkbox('entry-event-type', type, type, chosen.has(type))),
  );
  const groupings: [string, string][] = measure.groupBy.map((dimension) => [
    dimension,
    logic.dimensionName(dimension),
  ]);
  options(groupBy1, [['', 'Not grouped'], ...groupings], true);
  options(groupBy2, [['', 'Nothing more'], ...groupings], true);
  options(
    period,
    measure.periods.map((item) => [item, logic.periodName(item)]),
    true,
  );
}

function checkedValues(name: string): string[] {
  return [...form.querySelectorAll<HTMLInputElement>(`input[name="${name}"]:checked`)].map(
    (input) => input.value,
  );
}

function loadMeasures(): Promise<void> {
  return call('v1/analysis/measures', {})
    .then((response) => json<Measure[] | { measures: Measure[] }>(response))
    .then((body) => {
      measures = Array.isArray(body) ? body : body.measures;
      options(
        measureSelect,
        [
          ['', measures.length ? 'Choose a measure…' : 'No measures are available'],
          ...measures.map((measure): [string, string] => [measure.id, logic.measureOptionText(measure)]),
        ],
        true,
      );
      form.hidden = false;
      showMeasure();
    });
}

// ---------------------------------------------------------------------------------------------
// Asking, and showing the answer.

function formValues(): QueryForm {
  return {
    measure: measureSelect.value,
    entryEventTypes: checkedValues('entry-event-type'),
    entryFrom: entryFrom.value,
    entryTo: entryTo.value,
    agencies: checkedValues('agency'),
    ageBands: checkedValues('age-band'),
    sex: sex.value,
    ethnicityGroups: ethnicityGroups.value,
    senStatus: senStatus.value,
    localAuthorities: localAuthorities.value,
    groupBy: [groupBy1.value, groupBy2.value],
    period: period.value,
  };
}

function renderTable(answer: Answer): HTMLElement {
  const table = logic.tableOf(answer);
  const dimensions = answer.query.groupBy.length;
  return el(
    'table',
    { id: 'answer-table' },
    el('caption', {}, table.caption),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        table.columns.map((column) =>
          el('th', { scope: 'col', class: column.numeric ? 'num' : null }, column.label),
        ),
      ),
    ),
    el(
      'tbody',
      {},
      table.rows.map((row) =>
        el(
          'tr',
          { class: row.total ? 'total' : null },
          dimensions ? row.heading.map((label) => el('th', { scope: 'row' }, label)) : null,
          row.values.map((value) =>
            value.suppressed
              ? // "c" is read out as a letter: say what it stands for to a screen reader too.
                el(
                  'td',
                  { class: 'num suppressed' },
                  el('span', { 'aria-hidden': 'true' }, 'c'),
                  el('span', { class: 'visually-hidden' }, 'suppressed'),
                )
              : el('td', { class: 'num' }, value.text),
          ),
          el('td', {}, row.note),
        ),
      ),
    ),
  );
}

function renderAnswer(query: Query, answer: Answer): void {
  const measure = answer.measure;
  setContent(
    asked,
    logic.describeQuery(query, measure).map(([label, text]) => [el('dt', {}, label), el('dd', {}, text)]),
  );
  cohortSize.textContent = `Cohort: about ${logic.countText(answer.cohortSize)} children (rounded to the nearest ${answer.rules.roundingBase}).`;
  // Shown before drawing, so the chart takes the width it has.
  answerSection.hidden = false;
  const spec = logic.chartOf(answer);
  const width = Math.max(320, Math.min(chartOut.clientWidth || 900, 1200));
  setContent(chartOut, answerChart(spec, width));
  chartCaption.textContent = spec.summary;
  setContent(tableOut, renderTable(answer));
  setContent(
    rulesOut,
    logic.rulesText(answer.rules).map((line) => el('li', {}, line)),
  );
  setContent(
    caveatsOut,
    el('li', {}, measure.definition),
    measure.caveats.map((caveat) => el('li', {}, caveat)),
  );
  freshness.textContent = logic.freshnessText(answer.asOfPosition, new Date());
}

function ask(): void {
  clearMessages();
  const built = logic.buildQuery(formValues(), measureOf(measureSelect.value));
  if (!built.ok) {
    showFormIssues(built.issues);
    return;
  }
  const query = built.query;
  // The answer on screen was to another question: it goes, so a refusal is never read beside it.
  shown = null;
  answerSection.hidden = true;
  run.disabled = true;
  status.textContent = 'Running the query…';
  call('v1/analysis/queries', { method: 'POST', body: query })
    .then((response) => json<Answer>(response))
    .then((answer) => {
      shown = { query, answer };
      renderAnswer(query, answer);
      const table = logic.tableOf(answer);
      status.textContent =
        `Answered: ${table.rows.length} row${table.rows.length === 1 ? '' : 's'}` +
        (table.suppressedCells ? `, ${table.suppressedCells} suppressed.` : ', none suppressed.') +
        ' The query was recorded in the access log.';
    })
    .catch(showError)
    .finally(() => {
      run.disabled = false;
    });
}

/** Fetches the export with the page's session and purpose and saves it (a plain link could not state the purpose). */
function download(format: 'csv' | 'parquet', button: HTMLButtonElement): void {
  if (!shown) return;
  clearMessages();
  const fallback = logic.exportFileName(shown.query.measure, format, new Date());
  button.disabled = true;
  status.textContent = `Preparing the ${format === 'csv' ? 'CSV' : 'Parquet'} file…`;
  call('v1/analysis/exports', {
    method: 'POST',
    body: logic.exportBody(shown.query, format),
    accept: format === 'csv' ? 'text/csv' : 'application/vnd.apache.parquet, application/octet-stream',
  })
    .then(async (response) => {
      const name = logic.fileNameOf(response.headers.get('content-disposition'), fallback);
      const url = URL.createObjectURL(await response.blob());
      const link = el('a', { href: url, download: name, hidden: true });
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      status.textContent = `Downloaded ${name}, under the same disclosure rules. The export was recorded in the access log.`;
    })
    .catch(showError)
    .finally(() => {
      button.disabled = false;
    });
}

function signOutNow(): void {
  signOut.disabled = true;
  call('auth/logout', { method: 'POST', purpose: false })
    .then((response) => json<{ endSessionUrl?: string }>(response))
    .then((answer) => {
      showSignIn();
      if (answer.endSessionUrl) location.assign(answer.endSessionUrl);
    })
    .catch(showError)
    .finally(() => {
      signOut.disabled = false;
    });
}

function start(): void {
  setContent(
    ageBandChoices,
    logic.AGE_BANDS.map((band) => checkbox('age-band', band, logic.valueLabel('age-band', band))),
  );
  call('auth/me', { purpose: false })
    .then((response) => json<SignedIn>(response))
    .then((signedIn) => {
      showSignedIn(signedIn);
      if (!logic.mayAnalyse(signedIn)) {
        notAnalyst.hidden = false;
        return undefined;
      }
      status.textContent = 'Loading the measures…';
      return loadMeasures().then(() => {
        status.textContent = '';
      });
    })
    .catch(showError);
}

measureSelect.addEventListener('change', showMeasure);
form.addEventListener('submit', (event) => {
  event.preventDefault();
  ask();
});
downloadCsv.addEventListener('click', () => download('csv', downloadCsv));
downloadParquet.addEventListener('click', () => download('parquet', downloadParquet));
signOut.addEventListener('click', signOutNow);
start();

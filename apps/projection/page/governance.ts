// The information-governance page's UI: built into the page's second script block, over the
// logic block's global `GovernanceLogic` (a type-only import here, so the logic is not bundled
// twice). Data is only ever written with text nodes, never as markup: Trusted Types would refuse
// an HTML sink anyway. Every call goes to the guarded API with the page's session cookie and
// `x-purpose: information-governance`; the page holds no token.
import type {
  AccessRecord,
  AccessReport,
  AgreementFlows,
  BreakGlassGrant,
  ErrorBody,
  FlowReport,
  FlowRow,
  PolicyVersion,
} from './governance-logic';
import type * as GovernanceLogic from './governance-logic';

declare global {
  interface Window {
    GovernanceLogic: typeof GovernanceLogic;
  }
}

type Content = Node | string | number | null | undefined | false | Content[];
type Attributes = Record<string, string | number | boolean | null | undefined>;

const logic = window.GovernanceLogic;
const PURPOSE = 'information-governance';
const AGENCIES: Record<string, string> = {
  health: 'Health',
  education: 'Education',
  'social-care': 'Social care',
};
const STATUS_TEXT: Record<number, string> = {
  400: 'Request refused',
  401: 'Not signed in',
  403: 'Not allowed',
  404: 'Not found',
  503: 'Service unavailable',
};

/** The page's own element: missing or of another kind, the page is broken, so say which. */
function byId<T extends HTMLElement>(id: string, kind: { new (): T; prototype: T }): T {
  const node = document.getElementById(id);
  if (!(node instanceof kind)) throw new Error(`the page has no ${kind.name} #${id}`);
  return node;
}

const periodForm = byId('period', HTMLFormElement);
const fromDay = byId('from-day', HTMLInputElement);
const toDay = byId('to-day', HTMLInputElement);
const show = byId('show', HTMLButtonElement);
const accessForm = byId('access-filters', HTMLFormElement);
const childFilter = byId('child-filter', HTMLInputElement);
const userFilter = byId('user-filter', HTMLInputElement);
const status = byId('status', HTMLElement);
const errorBox = byId('error', HTMLElement);
const signIn = byId('sign-in', HTMLElement);
const flowsOut = byId('flows', HTMLElement);
const accessOut = byId('access', HTMLElement);
const grantsOut = byId('grants', HTMLElement);
const versionsOut = byId('versions', HTMLElement);
const flowsCsv = byId('flows-csv', HTMLButtonElement);
const accessCsv = byId('access-csv', HTMLButtonElement);

/** Builds an element; children are text or nodes, so data is never parsed as markup. */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Attributes,
  ...children: Content[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const name of Object.keys(props)) {
    const value = props[name];
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) append(node, child);
  return node;
}

function append(node: Node, child: Content): void {
  if (child === undefined || child === null || child === false) return;
  if (Array.isArray(child)) for (const item of child) append(node, item);
  else if (child instanceof Node) node.appendChild(child);
  else node.appendChild(document.createTextNode(String(child)));
}

function setContent(node: Element, ...content: Content[]): void {
  node.replaceChildren();
  for (const child of content) append(node, child);
}

/** An API refusal, with the API's own message. */
class ApiError extends Error {
  readonly issues: NonNullable<ErrorBody['issues']>;

  constructor(
    readonly status: number,
    body: ErrorBody | undefined,
  ) {
    super((body && body.message) || `HTTP ${status}`);
    this.issues = (body && body.issues) || [];
  }
}

function request(path: string, accept: string): Promise<Response> {
  return fetch(path, {
    cache: 'no-store',
    credentials: 'same-origin',
    headers: { accept, 'x-purpose': PURPOSE },
  }).then(async (response) => {
    if (response.ok) return response;
    const text = await response.text();
    let body: ErrorBody | undefined;
    try {
      body = text ? (JSON.parse(text) as ErrorBody) : undefined;
    } catch {
      body = { message: text };
    }
    throw new ApiError(response.status, body);
  });
}

function getJson<T>(path: string): Promise<T> {
  return request(path, 'application/json').then((response) => response.json() as Promise<T>);
}

function clearMessages(): void {
  errorBox.hidden = true;
  setContent(errorBox);
  signIn.hidden = true;
}

function showError(error: unknown): void {
  if (error instanceof ApiError && error.status === 401) {
    signIn.hidden = false;
    status.textContent = '';
    return;
  }
  const title =
    error instanceof ApiError
      ? `${STATUS_TEXT[error.status] || 'Request failed'} (${error.status})`
      : 'Could not reach the governance service';
  const message = error instanceof Error ? error.message : String(error);
  const issues = error instanceof ApiError ? error.issues : [];
  setContent(
    errorBox,
    el('h2', {}, title),
    el('p', {}, message),
    issues.length
      ? el(
          'ul',
          {},
          issues.map((issue) => el('li', {}, el('span', { class: 'mono' }, issue.path), ': ', issue.message)),
        )
      : null,
  );
  errorBox.hidden = false;
  status.textContent = '';
  errorBox.focus();
}

function period(): { from: string; to: string } | undefined {
  return logic.periodOfDays(fromDay.value, toDay.value);
}

function table(caption: string, headers: string[], rows: HTMLTableRowElement[]): HTMLElement {
  return el(
    'table',
    {},
    el('caption', {}, caption),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headers.map((name) => el('th', { scope: 'col' }, name)),
      ),
    ),
    el('tbody', {}, rows),
  );
}

const num = (value: number) => el('td', { class: 'num' }, value);
const mono = (value: string | null) => el('td', { class: 'mono' }, value ?? '—');
const time = (iso: string) => el('td', {}, el('time', { datetime: iso }, iso.replace('T', ' ').slice(0, 19)));

function flowRow(row: FlowRow): HTMLTableRowElement {
  return el(
    'tr',
    {},
    el('td', {}, row.day),
    el('td', {}, AGENCIES[row.providingAgency] || row.providingAgency),
    mono(row.sourceOrganisation),
    mono(row.publisher),
    mono(row.eventType),
    num(row.accepted),
    el(
      'td',
      {},
      String(row.rejected),
      row.rejected ? el('div', { class: 'rules' }, logic.rulesText(row.rejectedByRule)) : null,
    ),
    num(row.deadLettered),
    num(row.redriven),
  );
}

function renderAgreement(group: AgreementFlows): HTMLElement {
  const name = group.agreement
    ? `${group.title ?? group.agreement} (${group.agreement})`
    : 'Flows no agreement in force shares';
  const { totals } = group;
  return el(
    'section',
    { class: group.agreement ? 'agreement' : 'agreement unshared' },
    el('h3', {}, name),
    el(
      'p',
      { class: 'notice' },
      `${totals.accepted} accepted, ${totals.rejected} rejected at the gateway, ${totals.deadLettered} dead-lettered, ${totals.redriven} re-driven.`,
    ),
    table(
      'Per day (UTC), agency, organisation, publisher and event type',
      [
        'Day',
        'Agency',
        'Organisation',
        'Publisher',
        'Event type',
        'Accepted',
        'Rejected (by rule)',
        'Dead-lettered',
        'Re-driven',
      ],
      group.rows.map(flowRow),
    ),
  );
}

function renderFlows(report: FlowReport): void {
  const groups = logic.flowsByAgreement(report.flows);
  const { totals } = report;
  setContent(
    flowsOut,
    el(
      'p',
      {},
      `Policy version ${report.policyVersion}. In all: ${totals.accepted} accepted, ${totals.rejected} rejected, ${totals.deadLettered} dead-lettered, ${totals.redriven} re-driven (each event once, however many agreements share it).`,
    ),
    report.notes.map((note) => el('p', { class: 'notice' }, note)),
    groups.length ? groups.map(renderAgreement) : el('p', { class: 'notice' }, 'No events in this period.'),
  );
}

function accessRow(record: AccessRecord): HTMLTableRowElement {
  return el(
    'tr',
    { class: record.outcome === 'ok' ? null : 'refused' },
    time(record.accessedAt),
    el('td', {}, record.userName ? `${record.userName} ` : '', el('span', { class: 'mono' }, record.user)),
    mono(record.organisation),
    el('td', {}, record.purpose),
    el('td', {}, record.action),
    mono(record.childKey ?? record.requestedChildKey),
    num(record.returned),
    el('td', {}, logic.withheldText(record.withheld) || '—'),
    el(
      'td',
      { class: 'mono' },
      record.agreements.join(' ') || (record.breakGlass ? `break-glass: ${record.breakGlass.reason}` : '—'),
    ),
    el('td', {}, record.outcome, record.refusal ? el('div', { class: 'rules' }, record.refusal) : null),
  );
}

function renderAccess(report: AccessReport): void {
  setContent(
    accessOut,
    report.truncated
      ? el(
          'p',
          { class: 'notice' },
          'More records matched than are shown: narrow the period or the filters, or download the CSV.',
        )
      : null,
    report.records.length
      ? table(
          'Newest first. Refused requests are listed too.',
          [
            'When',
            'Who',
            'Organisation',
            'Purpose',
            'Action',
            'Child',
            'Returned',
            'Withheld',
            'Agreements',
            'Outcome',
          ],
          report.records.map(accessRow),
        )
      : el('p', { class: 'notice' }, 'No access records match.'),
  );
}

function renderGrants(grants: BreakGlassGrant[]): void {
  setContent(
    grantsOut,
    grants.length
      ? table(
          'Each a reasoned, time-limited override, notified to information governance.',
          ['Granted', 'Expires', 'Who', 'Organisation', 'Child', 'Reason'],
          grants.map((grant) =>
            el(
              'tr',
              {},
              time(grant.grantedAt),
              time(grant.expiresAt),
              mono(grant.userId),
              mono(grant.organisation),
              mono(grant.childKey),
              el('td', {}, grant.reason),
            ),
          ),
        )
      : el('p', { class: 'notice' }, 'No break-glass grants in this period.'),
  );
}

function renderVersions(versions: PolicyVersion[]): void {
  setContent(
    versionsOut,
    table(
      'Every version of the access policy: when, by whom, why.',
      ['Version', 'Loaded', 'By', 'Title', 'Agreements', 'Reason', 'SHA-256'],
      versions.map((version) =>
        el(
          'tr',
          {},
          num(version.version),
          time(version.loadedAt),
          el('td', {}, version.loadedBy, version.organisation ? ` (${version.organisation})` : ''),
          el('td', {}, version.title),
          num(version.agreements),
          el('td', {}, version.reason),
          el('td', { class: 'mono' }, version.sha256.slice(0, 12)),
        ),
      ),
    ),
  );
}

function accessQuery(range: { from: string; to: string }, format?: string): string {
  return logic.queryOf({
    from: range.from,
    to: range.to,
    child: childFilter.value.trim() || undefined,
    user: userFilter.value.trim() || undefined,
    format,
  });
}

function loadAccess(range: { from: string; to: string }): Promise<void> {
  return getJson<AccessReport>(`v1/governance/access${accessQuery(range)}`).then(renderAccess);
}

function showAll(): void {
  clearMessages();
  const range = period();
  if (!range) {
    showError(new Error('Choose a first and a last day.'));
    return;
  }
  show.disabled = true;
  status.textContent = 'Loading…';
  const query = logic.queryOf({ from: range.from, to: range.to });
  Promise.all([
    getJson<FlowReport>(`v1/governance/flows${query}`).then(renderFlows),
    loadAccess(range),
    getJson<{ grants: BreakGlassGrant[] }>(`v1/governance/break-glass${query}`).then((body) =>
      renderGrants(body.grants),
    ),
    getJson<{ versions: PolicyVersion[] }>('v1/governance/policy/versions').then((body) =>
      renderVersions(body.versions),
    ),
  ])
    .then(() => {
      status.textContent = 'Shown. Reading these reports was itself recorded in the access log.';
    })
    .catch(showError)
    .finally(() => {
      show.disabled = false;
    });
}

/** Fetches a CSV with the page's session and purpose and saves it (a plain link could not state the purpose). */
function download(path: string, fileName: string): void {
  clearMessages();
  request(path, 'text/csv')
    .then((response) => response.blob())
    .then((blob) => {
      const url = URL.createObjectURL(blob);
      const link = el('a', { href: url, download: fileName, hidden: true });
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      status.textContent = `Downloaded ${fileName}. The download was recorded in the access log.`;
    })
    .catch(showError);
}

periodForm.addEventListener('submit', (event) => {
  event.preventDefault();
  showAll();
});
accessForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const range = period();
  if (!range) return;
  const child = childFilter.value.trim();
  if (child && !logic.CHILD_KEY.test(child)) {
    showError(
      new Error(
        'A child key is ch_ followed by 20 characters; look the child up on the timeline page first.',
      ),
    );
    return;
  }
  clearMessages();
  loadAccess(range).catch(showError);
});
flowsCsv.addEventListener('click', () => {
  const range = period();
  if (range)
    download(
      `v1/governance/flows${logic.queryOf({ from: range.from, to: range.to, format: 'csv' })}`,
      logic.csvFileName('flows', fromDay.value, toDay.value),
    );
});
accessCsv.addEventListener('click', () => {
  const range = period();
  if (range)
    download(
      `v1/governance/access${accessQuery(range, 'csv')}`,
      logic.csvFileName('access', fromDay.value, toDay.value),
    );
});

const initial = logic.defaultDays(new Date());
fromDay.value = initial.from;
toDay.value = initial.to;
showAll();

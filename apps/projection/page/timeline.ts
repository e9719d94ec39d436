// The page's UI: built into the page's second script block. It uses the logic block's global
// `TimelineLogic` (a type-only import here, so the logic is not bundled twice). Data is only ever
// written with text nodes, never as markup: Trusted Types would refuse an HTML sink anyway.
// The page holds no token: the person signs in through /auth/login (the server keeps the tokens
// and gives the browser an HttpOnly session cookie), and every call is same-origin with that
// cookie and the purpose in x-purpose.
import type {
  AccessTerms,
  BreakGlassGrant,
  ChildTimeline,
  ErrorBody,
  Indicator,
  Lineage,
  Link,
  LinkHistoryEntry,
  SharedUnder,
  SignedIn,
  SignedOut,
  Subject,
  TimelineEntry,
  Withheld,
} from './api';
import type * as TimelineLogic from './timeline-logic';

declare global {
  interface Window {
    TimelineLogic: typeof TimelineLogic;
  }
}

/** What el() and setContent() accept as content: text and nodes, arrays flattened, empty values skipped. */
type Content = Node | string | number | null | undefined | false | Content[];
type Attributes = Record<string, string | number | boolean | null | undefined>;

const logic = window.TimelineLogic;
const CHILD_KEY = /^ch_[0-9a-f]{20}$/;
const AGENCIES: Record<string, string> = {
  health: 'Health',
  education: 'Education',
  'social-care': 'Social care',
};
const LINK_METHODS: Record<string, string> = {
  'first-record': 'First record of this child',
  'shared-nhs-number': 'Same NHS number',
  'shared-upn': 'Same UPN',
  'shared-uln': 'Same ULN',
  'shared-la-child-id': 'Same LA child id',
  manual: 'Linked by a person',
  'confirmed-match': 'Probable match, confirmed by a person',
};

// What a link rests on: the identifiers shared, the confirmed proposal's score, or a person's reason.
function evidenceText(link: Partial<Link>): string {
  const evidence = link.evidence || {};
  if (evidence.shared && evidence.shared.length) {
    return evidence.shared.map((item) => item.value).join(', ');
  }
  if (evidence.score !== undefined)
    return 'score ' + evidence.score + (evidence.reason ? ': ' + evidence.reason : '');
  return evidence.reason || 'none';
}
const IDENTIFIER_KINDS: Record<string, string> = {
  'nhs-number': 'NHS number',
  upn: 'UPN',
  'former-upn': 'Former UPN',
};
const PERSPECTIVES: Record<string, string> = {
  child: 'Child',
  family: 'Family',
  professional: 'Professional',
};
const HINTS: Record<string, string> = {
  'nhs-number': '10 digits; spaces are fine.',
  upn: '13 characters: a check letter and 12 digits.',
  record: "The agency's own record id.",
  'child-key': 'ch_ followed by 20 characters, as in a shared link.',
};
const STATUS_TEXT: Record<number, string> = {
  400: 'Request refused',
  401: 'Not signed in',
  403: 'Not allowed',
  404: 'Not found',
  429: 'Too many requests',
  503: 'Service unavailable',
};
/** What a look-up needs of the purpose chosen. */
const LOOKUP_PERMISSIONS = ['child:lookup', 'timeline:read'];

/** The page's own element: missing or of another kind, the page is broken, so say which. */
function byId<T extends HTMLElement>(id: string, kind: { new (): T; prototype: T }): T {
  const node = document.getElementById(id);
  if (!(node instanceof kind)) throw new Error(`the page has no ${kind.name} #${id}`);
  return node;
}

const account = byId('account', HTMLElement);
const accountName = byId('account-name', HTMLElement);
const accountOrganisation = byId('account-organisation', HTMLElement);
const accountRoles = byId('account-roles', HTMLElement);
const signOut = byId('sign-out', HTMLButtonElement);
const signIn = byId('sign-in', HTMLElement);
const signInMessage = byId('sign-in-message', HTMLElement);
const form = byId('lookup', HTMLFormElement);
const submit = byId('submit', HTMLButtonElement);
const purpose = byId('purpose', HTMLSelectElement);
const identifierType = byId('identifier-type', HTMLSelectElement);
const agencyField = byId('agency-field', HTMLElement);
const agency = byId('agency', HTMLSelectElement);
const identifierValue = byId('identifier-value', HTMLInputElement);
const identifierHint = byId('identifier-hint', HTMLElement);
const status = byId('status', HTMLElement);
const errorBox = byId('error', HTMLElement);
const results = byId('results', HTMLElement);
const resultsHeading = byId('results-heading', HTMLElement);
const resultsMerged = byId('results-merged', HTMLElement);
const records = byId('records', HTMLElement);
const chronology = byId('chronology', HTMLElement);
const accessTerms = byId('access-terms', HTMLElement);
const breakGlassInUse = byId('break-glass-in-use', HTMLElement);
const withheldBox = byId('withheld', HTMLElement);
const breakGlass = byId('break-glass', HTMLDetailsElement);
const breakGlassForm = byId('break-glass-form', HTMLFormElement);
const breakGlassReason = byId('break-glass-reason', HTMLTextAreaElement);
const breakGlassMinutes = byId('break-glass-minutes', HTMLSelectElement);
const breakGlassSubmit = byId('break-glass-submit', HTMLButtonElement);
let latestRequest = 0;
/** Who is signed in (null: nobody, the sign-in link shows). */
let me: SignedIn | null = null;
/** The child on screen, and the purpose it was read for (break-glass applies to it). */
let shown: { childKey: string; purpose: string } | null = null;

/** Builds an element; children are text or nodes, so data is never parsed as markup. */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Attributes,
  ...children: Content[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  Object.keys(props || {}).forEach((name) => {
    const value = props[name];
    if (value === undefined || value === null || value === false) return;
    if (name === 'class') node.className = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  });
  for (const child of children) append(node, child);
  return node;
}

function append(node: Node, child: Content): void {
  if (child === undefined || child === null || child === false) return;
  if (Array.isArray(child))
    child.forEach((item) => {
      append(node, item);
    });
  else if (child instanceof Node) node.appendChild(child);
  else node.appendChild(document.createTextNode(String(child)));
}

/** Replaces a node's content with text and nodes (arrays are flattened, empty values skipped). */
function setContent(node: Element, ...content: Content[]): void {
  node.replaceChildren();
  for (const child of content) append(node, child);
}

function agencyClass(name: string): string {
  return 'agency-' + (Object.prototype.hasOwnProperty.call(AGENCIES, name) ? name : 'other');
}

function agencyBadge(name: string): HTMLElement {
  return el('span', { class: 'badge agency ' + agencyClass(name) }, AGENCIES[name] || name);
}

function humanise(slug: string): string {
  const text = String(slug).replace(/-/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function showIdentifierField(): void {
  const type = identifierType.value;
  agencyField.hidden = type !== 'record';
  identifierHint.textContent = HINTS[type] || '';
}

function clearMessages(): void {
  errorBox.hidden = true;
  setContent(errorBox);
  status.textContent = '';
}

/** An API refusal with its own words, or a network failure. */
function showFailure(error: unknown): void {
  if (error instanceof ApiError) {
    if (error.status === 401) return; // showSignedOut already says so
    const title = (STATUS_TEXT[error.status] || 'Request failed') + ' (' + error.status + ')';
    showError(title, error.message, error.issues);
  } else {
    const message = error && (error as { message?: unknown }).message;
    showError('Could not reach the timeline service', String(message || error));
  }
}

function showError(title: string, message: string, issues?: ErrorBody['issues']): void {
  setContent(
    errorBox,
    el('h2', {}, title),
    el('p', {}, message),
    issues && issues.length
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

/** An API refusal, with the API's own message. */
class ApiError extends Error {
  readonly code: string | undefined;
  readonly issues: NonNullable<ErrorBody['issues']>;

  constructor(
    readonly status: number,
    body: ErrorBody | undefined,
  ) {
    super((body && body.message) || 'HTTP ' + status);
    this.code = body && body.error;
    this.issues = (body && body.issues) || [];
  }
}

/** Why we are asking: the only thing the page adds to a request (who asks is the session's). */
function accessHeaders(): Record<string, string> {
  return { 'x-purpose': purpose.value };
}

/** A same-origin call with the session cookie; a 401 means the session ended, so sign in again. */
function call<T>(path: string, init: RequestInit): Promise<T> {
  return fetch(path, Object.assign({ cache: 'no-store', credentials: 'same-origin' }, init)).then(
    (response) =>
      response.text().then((text) => {
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = { message: text };
        }
        if (response.status === 401 && me !== null)
          showSignedOut('Your session has ended. Sign in again to go on.');
        if (!response.ok) throw new ApiError(response.status, body as ErrorBody | undefined);
        return body as T;
      }),
  );
}

// ---------------------------------------------------------------------------------------------
// Signing in and out

function purposesForLookup(signedIn: SignedIn): SignedIn['purposes'] {
  return signedIn.purposes.filter((item) =>
    LOOKUP_PERMISSIONS.every((permission) => item.permissions.includes(permission)),
  );
}

function allows(purposeId: string, permission: string): boolean {
  const found = me && me.purposes.find((item) => item.id === purposeId);
  return !!found && found.permissions.includes(permission);
}

function showSignedIn(signedIn: SignedIn): void {
  me = signedIn;
  accountName.textContent = signedIn.name || signedIn.userId;
  const organisation = signedIn.organisation;
  accountOrganisation.textContent = organisation
    ? '· ' +
      (organisation.name || organisation.code) +
      (organisation.type ? ' (' + organisation.type + ')' : '')
    : '';
  accountRoles.textContent = '· role ' + (signedIn.roles.length ? signedIn.roles.join(', ') : 'none');
  const chosen = purpose.value;
  const usable = purposesForLookup(signedIn);
  setContent(
    purpose,
    el('option', { value: '' }, usable.length ? 'Choose a purpose…' : 'No purpose allows you a look-up'),
    usable.map((item) => el('option', { value: item.id }, item.label)),
  );
  if (usable.some((item) => item.id === chosen)) purpose.value = chosen;
  else if (usable.length === 1) purpose.value = usable[0].id;
  account.hidden = false;
  signIn.hidden = true;
  form.hidden = false;
}

function showSignedOut(message?: string): void {
  me = null;
  shown = null;
  account.hidden = true;
  form.hidden = true;
  results.hidden = true;
  setContent(records);
  setContent(chronology);
  if (message) signInMessage.textContent = message;
  signIn.hidden = false;
}

/** Who is signed in, from the server (the page itself holds nothing that says so). */
function loadAccount(): Promise<void> {
  return call<SignedIn>('auth/me', {})
    .then(showSignedIn)
    .catch((error: unknown) => {
      if (error instanceof ApiError && error.status === 401) showSignedOut();
      else showFailure(error);
    });
}

function signOutNow(): Promise<void> {
  signOut.disabled = true;
  return call<SignedOut>('auth/logout', { method: 'POST' })
    .then((answer) => {
      showSignedOut('You are signed out.');
      // End the session at the provider too, when it offers that (it asks you to confirm).
      if (answer && answer.endSessionUrl) location.assign(answer.endSessionUrl);
    })
    .catch(showFailure)
    .finally(() => {
      signOut.disabled = false;
    });
}

function lookUp(headers: Record<string, string>): Promise<string> {
  const type = identifierType.value;
  const value = identifierValue.value.trim();
  if (type === 'child-key') return Promise.resolve(value);
  const identifier: { type: string; value: string; agency?: string } = { type: type, value: value };
  if (type === 'record') identifier.agency = agency.value;
  status.textContent = 'Looking up the child…';
  return call<{ childKey: string }>('v1/children/lookup', {
    method: 'POST',
    headers: Object.assign({ 'content-type': 'application/json' }, headers),
    body: JSON.stringify({ identifier: identifier }),
  }).then((body) => body.childKey);
}

function showTimeline(): Promise<void> {
  const request = ++latestRequest;
  const headers = accessHeaders();
  clearMessages();
  results.hidden = true;
  submit.disabled = true;
  return lookUp(headers)
    .then((childKey) => {
      status.textContent = 'Loading the timeline…';
      return call<ChildTimeline>('v1/children/' + encodeURIComponent(childKey) + '/timeline', {
        headers: headers,
      });
    })
    .then((timeline) => {
      if (request !== latestRequest) return;
      render(timeline);
      // A link names the child by its key only: never an identifier, never who looked.
      history.replaceState(null, '', '#childKey=' + encodeURIComponent(timeline.childKey));
    })
    .catch((error: unknown) => {
      if (request !== latestRequest) return;
      showFailure(error);
    })
    .finally(() => {
      if (request === latestRequest) submit.disabled = false;
    });
}

function render(timeline: ChildTimeline): void {
  const subjects = timeline.subjects || [];
  const entries = timeline.entries || [];
  setContent(resultsHeading, 'Child ', el('span', { class: 'mono' }, timeline.childKey));
  const merged = timeline.mergedChildKeys || [];
  resultsMerged.hidden = !merged.length;
  resultsMerged.textContent = resultsMerged.hidden
    ? ''
    : 'Also known as (records merged into this child): ' + merged.join(', ');
  setContent(
    records,
    renderRecords(subjects, timeline.links || []),
    renderLinkHistory(timeline.linkHistory || []),
  );
  setContent(chronology, renderChronology(entries));
  const withheld = timeline.withheld || [];
  renderAccess(timeline.access, withheld);
  shown = {
    childKey: timeline.childKey,
    purpose: (timeline.access && timeline.access.purpose) || purpose.value,
  };
  results.hidden = false;
  const held = logic.withheldLines(withheld).entries;
  status.textContent =
    entries.length +
    ' entries from ' +
    subjects.length +
    ' linked records' +
    (held ? '; ' + held + ' withheld' : '') +
    '. This look-up was recorded.';
  resultsHeading.focus();
}

// ---------------------------------------------------------------------------------------------
// What the answer was given under, what it withheld and why, and break-glass

function entriesText(count: number): string {
  return count + (count === 1 ? ' entry' : ' entries');
}

function renderAccess(access: AccessTerms | undefined, withheld: Withheld[]): void {
  accessTerms.textContent = access
    ? 'Shown for purpose ' +
      access.purpose +
      ' under your role ' +
      (access.roles.join(', ') || 'none') +
      ', access policy version ' +
      access.policyVersion +
      '.'
    : '';
  const glass = access && access.breakGlass;
  breakGlassInUse.hidden = !glass;
  setContent(
    breakGlassInUse,
    glass
      ? [
          el('h3', {}, 'Break-glass in use until ' + logic.displayDate(glass.expiresAt)),
          el(
            'p',
            {},
            'You see what the agreements would withhold. Your reason: "' +
              glass.reason +
              '". Every read is recorded and reviewed by information governance.',
          ),
        ]
      : null,
  );
  const notice = logic.withheldLines(withheld);
  withheldBox.hidden = withheld.length === 0;
  setContent(
    withheldBox,
    withheld.length
      ? [
          el('h3', {}, entriesText(notice.entries) + ' withheld from you'),
          el(
            'ul',
            {},
            notice.lines.map((line) => el('li', {}, line)),
          ),
        ]
      : null,
  );
  // Break-glass is offered when something is withheld, none is in use, and the purpose allows it.
  const offer = withheld.length > 0 && !glass && !!access && allows(access.purpose, 'break-glass');
  breakGlass.hidden = !offer;
  if (!offer) breakGlass.open = false;
}

function sharedUnderText(sharedUnder: SharedUnder | undefined): string | null {
  if (!sharedUnder) return null;
  switch (sharedUnder.basis) {
    case 'own-organisation':
      return "Shared with you: your organisation's own record";
    case 'agreement':
      return 'Shared with you under agreement ' + sharedUnder.agreement;
    case 'break-glass':
      return 'Shown under break-glass';
    default:
      return null;
  }
}

function breakGlassNow(): Promise<void> {
  if (!shown) return Promise.resolve();
  const target = shown;
  clearMessages();
  breakGlassSubmit.disabled = true;
  status.textContent = 'Recording break-glass…';
  return call<BreakGlassGrant>('v1/children/' + encodeURIComponent(target.childKey) + '/break-glass', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-purpose': target.purpose },
    body: JSON.stringify({ reason: breakGlassReason.value.trim(), minutes: Number(breakGlassMinutes.value) }),
  })
    .then(() => {
      breakGlassReason.value = '';
      breakGlass.open = false;
      purpose.value = target.purpose;
      identifierType.value = 'child-key';
      identifierValue.value = target.childKey;
      showIdentifierField();
      return showTimeline();
    })
    .catch(showFailure)
    .finally(() => {
      breakGlassSubmit.disabled = false;
    });
}

function renderRecords(subjects: Subject[], links: Link[]): HTMLElement {
  // Each record joined through the earliest link that reaches it (links come in store order).
  const linkOf: Record<string, Link> = {};
  links.forEach((link) => {
    if (!linkOf[link.streamId]) linkOf[link.streamId] = link;
    if (!linkOf[link.linkedTo]) linkOf[link.linkedTo] = link;
  });
  return el(
    'table',
    {},
    el(
      'caption',
      {},
      "Each agency's record of this child, and how it was linked. A link is a recorded judgement; it can be undone.",
    ),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ['Agency', 'Record', 'Identifiers', 'Linked by', 'Evidence', 'Linked at'].map((name) =>
          el('th', { scope: 'col' }, name),
        ),
      ),
    ),
    el(
      'tbody',
      {},
      subjects.map((subject) => {
        const link: Partial<Link> =
          subject.linkedBy === 'first-record'
            ? { method: subject.linkedBy }
            : linkOf[subject.streamId] || { method: subject.linkedBy };
        return el(
          'tr',
          {},
          el('td', {}, agencyBadge(subject.agency)),
          el('td', { class: 'mono' }, subject.recordId),
          el(
            'td',
            {},
            subject.identifiers.length
              ? el(
                  'ul',
                  {},
                  subject.identifiers.map((identifier) =>
                    el(
                      'li',
                      {},
                      (IDENTIFIER_KINDS[identifier.kind] || identifier.kind) + ' ',
                      el('span', { class: 'mono' }, identifier.value),
                    ),
                  ),
                )
              : 'none',
          ),
          el(
            'td',
            {},
            LINK_METHODS[subject.linkedBy] || subject.linkedBy,
            link.by && link.by.type === 'user'
              ? el('div', { class: 'notice' }, 'by ' + link.by.userId)
              : null,
          ),
          el('td', { class: 'mono' }, link.evidence ? evidenceText(link) : 'none'),
          el('td', {}, link.linkedAtPosition === undefined ? '—' : 'store position ' + link.linkedAtPosition),
        );
      }),
    ),
  );
}

const IDENTITY_EVENTS: Record<string, string> = {
  'identity.subject.linked': 'Linked',
  'identity.subject.unlinked': 'Unlinked',
  'identity.match.proposed': 'Match proposed for review',
  'identity.match.confirmed': 'Match confirmed',
  'identity.match.rejected': 'Match rejected',
  'identity.conflict.flagged': 'Conflict flagged (not merged)',
};

// Every judgement about who these records are, in the order it was made, with who made it and why.
function renderLinkHistory(history: LinkHistoryEntry[]): HTMLElement | null {
  if (history.length === 0) return null;
  return el(
    'details',
    {},
    el('summary', {}, 'Link history (' + history.length + ')'),
    el(
      'ol',
      {},
      history.map((item) => {
        const who = item.by && item.by.type === 'user' ? item.by.userId : 'the linker';
        return el(
          'li',
          {},
          logic.displayDate(item.at) + ' — ' + (IDENTITY_EVENTS[item.type] || item.type),
          item.method ? ' (' + (LINK_METHODS[item.method] || item.method) + ')' : '',
          ': ',
          el('span', { class: 'mono' }, item.subjects.join(', ')),
          ' — by ' + who,
          item.reason ? ' — "' + item.reason + '"' : '',
          item.details && item.details.score !== undefined ? ' — score ' + item.details.score : '',
        );
      }),
    ),
  );
}

function renderChronology(entries: TimelineEntry[]): HTMLElement | HTMLElement[] {
  if (entries.length === 0) return el('p', {}, 'No entries for this child yet.');
  const differing = logic.perspectivesDiffering(entries);
  return logic.byYear(entries).map((group) => {
    const headingId = 'year-' + group.year;
    return el(
      'section',
      { 'aria-labelledby': headingId },
      el('h4', { class: 'year', id: headingId }, group.year),
      el(
        'ol',
        { class: 'entries' },
        group.entries.map((entry) => el('li', {}, renderEntry(entry, differing.get(entry.position) || []))),
      ),
    );
  });
}

function viewpointText(entry: TimelineEntry): string {
  const who = (entry.perspective && PERSPECTIVES[entry.perspective]) || entry.perspective || 'Unstated';
  return entry.observerRole ? who + ' (' + entry.observerRole + ')' : who;
}

function indicatorText(indicator: Indicator): string {
  if (indicator.scale) return indicator.value + ' on ' + indicator.scale.min + '–' + indicator.scale.max;
  return indicator.value + (indicator.unit || '');
}

function renderIndicator(indicator: Indicator): HTMLElement {
  const range = indicator.scale || (indicator.unit === '%' ? { min: 0, max: 100 } : undefined);
  const name = indicator.scale ? humanise(indicator.scale.name) + ' scale' : humanise(indicator.name);
  return el(
    'div',
    { class: 'indicator' },
    el('span', { class: 'name' }, 'Indicator · ' + name),
    el('span', { class: 'value' }, indicatorText(indicator)),
    range
      ? el(
          'meter',
          { min: range.min, max: range.max, value: indicator.value, 'aria-label': name },
          indicatorText(indicator),
        )
      : null,
  );
}

function renderVoice(entry: TimelineEntry): HTMLElement {
  const attribution: HTMLElement[] = [];
  if (entry.perspective) attribution.push(el('span', {}, 'Perspective: ' + viewpointText(entry)));
  else if (entry.observerRole) attribution.push(el('span', {}, 'By: ' + entry.observerRole));
  if (entry.confidence) attribution.push(el('span', {}, 'Confidence: ' + entry.confidence));
  return el(
    'div',
    { class: 'voice' },
    entry.narrative
      ? el('blockquote', {}, entry.narrative)
      : entry.indicator
        ? el('p', { class: 'no-narrative' }, 'No narrative recorded with this indicator.')
        : null,
    attribution.length ? el('p', { class: 'attribution' }, attribution) : null,
  );
}

function focusEntry(position: number): void {
  const target = document.getElementById('entry-' + position);
  if (!target) return;
  target.scrollIntoView({ block: 'center' });
  target.focus();
}

function renderDifferences(others: TimelineEntry[]): HTMLElement {
  return el(
    'div',
    { class: 'differences' },
    el('p', {}, 'Perspectives differ on this outcome:'),
    el(
      'ul',
      {},
      others.map((other) => {
        const button = el(
          'button',
          { type: 'button', class: 'link' },
          // Only rated observations differ, so each has an indicator.
          viewpointText(other) + ' rated ' + indicatorText(other.indicator as Indicator),
        );
        button.addEventListener('click', () => {
          focusEntry(other.position);
        });
        return el('li', {}, button, ' on ' + logic.displayDate(other.occurredAt));
      }),
    ),
  );
}

function renderLineage(lineage: Lineage): HTMLElement {
  const rows = (
    [
      ['Event id', lineage.eventId],
      [
        'Kafka',
        lineage.topic === undefined
          ? undefined
          : lineage.topic + ' / partition ' + lineage.partition + ' / offset ' + lineage.offset,
      ],
      ['Store position', lineage.storePosition],
      ['Publisher', lineage.publisher],
      ['Source system', lineage.sourceSystem],
    ] as [string, string | number | undefined | null][]
  ).filter((row) => row[1] !== undefined && row[1] !== null);
  return el(
    'details',
    { class: 'lineage' },
    el('summary', {}, 'Lineage: ' + lineage.sourceSystem + ', store position ' + lineage.storePosition),
    el(
      'dl',
      {},
      rows.map((row) => [el('dt', {}, row[0]), el('dd', { class: 'mono' }, row[1])]),
    ),
  );
}

function renderEntry(entry: TimelineEntry, differsFrom: TimelineEntry[]): HTMLElement {
  const summaryId = 'entry-' + entry.position + '-summary';
  const hasEvidence = entry.indicator || entry.narrative || entry.perspective || entry.confidence;
  const domain: Partial<TimelineEntry['outcomeDomain']> = entry.outcomeDomain || {};
  return el(
    'article',
    {
      class: 'entry ' + (entry.kind === 'observation' ? 'observation ' : 'fact ') + agencyClass(entry.agency),
      id: 'entry-' + entry.position,
      tabindex: '-1',
      'aria-labelledby': summaryId,
    },
    el(
      'div',
      { class: 'entry-head' },
      el('time', { datetime: entry.occurredAt }, logic.displayDate(entry.occurredAt)),
      agencyBadge(entry.agency),
      entry.kind === 'observation'
        ? el('span', { class: 'badge kind observation' }, '◐ Observation')
        : el('span', { class: 'badge kind' }, '■ Recorded fact'),
      differsFrom.length ? el('span', { class: 'badge differ' }, '⚠ Perspectives differ') : null,
    ),
    el('p', { class: 'summary', id: summaryId }, entry.summary),
    sharedUnderText(entry.sharedUnder)
      ? el('p', { class: 'shared-under' }, sharedUnderText(entry.sharedUnder))
      : null,
    el(
      'p',
      { class: 'domain' },
      'Outcome: ' + (domain.label || humanise(domain.domain || 'unknown')) + ' (' + domain.framework + ')',
    ),
    hasEvidence
      ? el(
          'div',
          { class: entry.indicator ? 'evidence' : 'evidence single' },
          entry.indicator ? renderIndicator(entry.indicator) : null,
          renderVoice(entry),
        )
      : null,
    differsFrom.length ? renderDifferences(differsFrom) : null,
    entry.reviewDate
      ? el('p', { class: 'review' }, 'Review by ' + logic.displayDate(entry.reviewDate))
      : null,
    renderLineage(entry.lineage),
  );
}

/**
 * #childKey=…: a link to a child (with purpose=… too, a case system opening the page, it runs
 * once you are signed in). #sign-in=declined: the provider's sign-in was declined.
 */
function fromHash(): void {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.get('sign-in') === 'declined') {
    signInMessage.textContent =
      "Sign-in was declined at your organisation's sign-in page. Sign in again to go on.";
    history.replaceState(null, '', location.pathname);
    return;
  }
  const childKey = params.get('childKey');
  if (!childKey || !CHILD_KEY.test(childKey) || !me) return;
  identifierType.value = 'child-key';
  identifierValue.value = childKey;
  const why = params.get('purpose');
  if (why && purposesForLookup(me).some((item) => item.id === why)) purpose.value = why;
  showIdentifierField();
  if (form.checkValidity()) void showTimeline();
  else status.textContent = 'Child ' + childKey + ' from the link: choose why you are looking, then show.';
}

identifierType.addEventListener('change', showIdentifierField);
form.addEventListener('submit', (event) => {
  event.preventDefault();
  void showTimeline();
});
breakGlassForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void breakGlassNow();
});
signOut.addEventListener('click', () => {
  void signOutNow();
});
window.addEventListener('hashchange', fromHash);
showIdentifierField();
void loadAccount().then(fromHash);

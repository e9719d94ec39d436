// The page's UI: built into the page's second script block. It uses the logic block's global
// `TimelineLogic` (a type-only import here, so the logic is not bundled twice). Data is only ever
// written with text nodes, never as markup: Trusted Types would refuse an HTML sink anyway.
// The page holds no token: the person signs in through /auth/login (the server keeps the tokens
// and gives the browser an HttpOnly session cookie), and every call is same-origin with that
// cookie and the purpose in x-purpose.
import type {
  AccessTerms,
  BreakGlassGrant,
  ChildDecisions,
  ChildOutcomes,
  ChildTimeline,
  ErrorBody,
  FrameworksInForce,
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
import { el, setContent } from './dom';
import { renderDecisions, renderLanes } from './outcomes-view';
import type * as TimelineLogic from './timeline-logic';

declare global {
  interface Window {
    TimelineLogic: typeof TimelineLogic;
  }
}

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
const identityCaveats = byId('identity-caveats', HTMLElement);
const overviewFacts = byId('overview-facts', HTMLElement);
const openPlans = byId('open-plans', HTMLElement);
const involvedNow = byId('involved-now', HTMLElement);
const outcomesOptions = byId('outcomes-options', HTMLFormElement);
const frameworkChoice = byId('framework', HTMLSelectElement);
const periodChoice = byId('period', HTMLSelectElement);
const lanes = byId('lanes', HTMLElement);
const outcomesCaption = byId('outcomes-caption', HTMLElement);
const decisions = byId('decisions', HTMLElement);
const chronologyFilters = byId('chronology-filters', HTMLFormElement);
const filterAgency = byId('filter-agency', HTMLSelectElement);
const filterDomain = byId('filter-domain', HTMLSelectElement);
const filterPerspective = byId('filter-perspective', HTMLSelectElement);
const filterKind = byId('filter-kind', HTMLSelectElement);
const filterFrom = byId('filter-from', HTMLInputElement);
const filterTo = byId('filter-to', HTMLInputElement);
const chronologyCount = byId('chronology-count', HTMLElement);
let latestRequest = 0;
/** Who is signed in (null: nobody, the sign-in link shows). */
let me: SignedIn | null = null;
/** The child on screen, and the purpose it was read for (break-glass applies to it). */
let shown: { childKey: string; purpose: string } | null = null;

function agencyClass(name: string): string {
  return 'agency-' + (Object.prototype.hasOwnProperty.call(AGENCIES, name) ? name : 'other');
}

function agencyBadge(name: string): HTMLElement {
  return el('span', { class: 'badge agency ' + agencyClass(name) }, AGENCIES[name] || name);
}

const humanise = logic.humanise;

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
  setContent(lanes);
  setContent(decisions);
  chronologyState = null;
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
      // The outcomes and decisions are read beside the timeline, each under the same purpose.
      return Promise.all([loadOutcomes(request, headers), loadDecisions(request, headers)]).then(
        ([outcomesRead, decisionsRead]) => {
          if (request !== latestRequest) return;
          const read = [outcomesRead ? 'outcomes' : '', decisionsRead ? 'decisions' : ''].filter(Boolean);
          const failed = [outcomesRead ? '' : 'outcomes', decisionsRead ? '' : 'decisions'].filter(Boolean);
          status.textContent =
            status.textContent +
            (read.length ? ' ' + humanise(read.join(' and ')) + ' read.' : '') +
            (failed.length ? ' ' + humanise(failed.join(' and ')) + ' could not be read (see below).' : '');
        },
      );
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
  const entries = logic.chronological(timeline.entries || []);
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
  const withheld = timeline.withheld || [];
  renderAccess(timeline.access, withheld);
  renderOverview(timeline, entries);
  shown = {
    childKey: timeline.childKey,
    purpose: (timeline.access && timeline.access.purpose) || purpose.value,
  };
  chronologyState = {
    entries,
    dateOfBirth: timeline.dateOfBirth,
    filtered: entries,
    page: 1,
    differing: new Set<string>(),
  };
  fillFilterChoices(entries);
  filterFrom.value = '';
  filterTo.value = '';
  renderChronologyPage();
  setContent(lanes, el('p', { class: 'muted' }, 'Loading outcomes…'));
  setContent(decisions, el('p', { class: 'muted' }, 'Loading decisions…'));
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
// The overview: age, who is involved now, identity caveats (what was withheld is renderAccess's)

function renderOverview(timeline: ChildTimeline, entries: TimelineEntry[]): void {
  const today = new Date().toISOString().slice(0, 10);
  const age = logic.ageText(logic.ageOn(timeline.dateOfBirth, today));
  const episodes = logic.openEpisodes(entries);
  const lead = logic.leadProfessional(episodes);
  const involved = logic.involvedNow(entries, new Date().toISOString());
  const caveats = logic.identityCaveats(timeline.linkHistory || []);
  identityCaveats.hidden = caveats.length === 0;
  setContent(
    identityCaveats,
    caveats.length
      ? [
          el('h4', {}, '⚠ Who these records are is not settled'),
          el(
            'ul',
            {},
            caveats.map((caveat) =>
              el(
                'li',
                {},
                caveat.kind === 'proposal'
                  ? 'A possible match waits for a person to review it'
                  : 'A conflict was flagged (records alike, not merged)',
                ' (' + logic.displayDate(caveat.at) + '): ',
                el('span', { class: 'mono' }, caveat.subjects.join(', ')),
                caveat.score !== undefined ? ' — score ' + caveat.score : '',
                caveat.reason ? ' — "' + caveat.reason + '"' : '',
              ),
            ),
          ),
          el(
            'p',
            {},
            'Entries from these records may be about another child, or missing. Check before relying on them.',
          ),
        ]
      : null,
  );
  setContent(
    overviewFacts,
    el('dt', {}, 'Age now'),
    el('dd', {}, age || 'Not known: no linked record gives a date of birth'),
    timeline.dateOfBirth
      ? [el('dt', {}, 'Date of birth'), el('dd', {}, logic.displayDate(timeline.dateOfBirth))]
      : null,
    el('dt', {}, 'Lead professional'),
    el('dd', {}, lead ? lead + ' (from the open early help episode)' : 'Not recorded in what you may see'),
  );
  setContent(
    openPlans,
    episodes.length
      ? el(
          'ul',
          { class: 'plans' },
          episodes.map((episode) =>
            el(
              'li',
              {},
              el('strong', {}, episode.label),
              ' — open since ' + logic.displayDate(episode.since.slice(0, 10)),
              ' ',
              agencyBadge(episode.agency),
              episode.recordedBy ? ' recorded by ' + episode.recordedBy : '',
              episode.lastReviewed
                ? '; last reviewed ' + logic.displayDate(episode.lastReviewed.slice(0, 10))
                : '',
              episode.nextReview ? '; next review by ' + logic.displayDate(episode.nextReview) : '',
            ),
          ),
        )
      : el('p', {}, 'No open plan or episode in what you may see.'),
  );
  setContent(
    involvedNow,
    involved.length
      ? el(
          'table',
          {},
          el('caption', {}, 'Agencies that recorded something in the last 12 months'),
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              ['Agency', 'Roles', 'Entries', 'Latest'].map((name) => el('th', { scope: 'col' }, name)),
            ),
          ),
          el(
            'tbody',
            {},
            involved.map((item) =>
              el(
                'tr',
                {},
                el('th', { scope: 'row' }, AGENCIES[item.agency] || humanise(item.agency)),
                el('td', {}, item.roles.length ? item.roles.join(', ') : '—'),
                el('td', {}, item.entries),
                el('td', {}, logic.displayDate(item.lastRecorded.slice(0, 10))),
              ),
            ),
          ),
        )
      : el('p', {}, 'No agency recorded anything in the last 12 months that you may see.'),
  );
}

// ---------------------------------------------------------------------------------------------
// Outcomes over years and decisions: read beside the timeline; a 404 means this service has none

function degrade(target: HTMLElement, what: string, error: unknown): void {
  if (error instanceof ApiError && error.status === 404 && error.code !== 'CHILD_NOT_FOUND') {
    setContent(
      target,
      el('p', { class: 'notice-box' }, what + ' are not available from this service (404).'),
    );
  } else if (error instanceof ApiError) {
    setContent(
      target,
      el(
        'div',
        { class: 'notice-box' },
        el(
          'p',
          {},
          what +
            ' could not be read: ' +
            (STATUS_TEXT[error.status] || 'request failed') +
            ' (' +
            error.status +
            ').',
        ),
        el('p', {}, error.message),
      ),
    );
  } else {
    setContent(
      target,
      el('p', { class: 'notice-box' }, what + ' could not be read: the service did not answer.'),
    );
  }
}

function chartWidth(): number {
  return Math.max(320, Math.min(1000, Math.floor(lanes.clientWidth || results.clientWidth || 900)));
}

function loadFrameworks(headers: Record<string, string>): Promise<void> {
  if (frameworkChoice.options.length > 1) return Promise.resolve();
  return call<FrameworksInForce>('v1/outcomes/frameworks', { headers })
    .then((answer) => {
      const list = (answer && answer.frameworks && answer.frameworks.frameworks) || [];
      const chosen = frameworkChoice.value;
      setContent(
        frameworkChoice,
        el('option', { value: '' }, 'The service default'),
        list.map((framework) => el('option', { value: framework.id }, framework.name || framework.id)),
      );
      frameworkChoice.value = chosen;
    })
    .catch(() => undefined); // the default framework still works
}

/** Reads and draws the outcomes; resolves false (after saying why on the page) when they could not be read. */
function loadOutcomes(request: number, headers: Record<string, string>): Promise<boolean> {
  if (!shown) return Promise.resolve(false);
  const params = new URLSearchParams();
  if (frameworkChoice.value) params.set('framework', frameworkChoice.value);
  params.set('period', periodChoice.value);
  const childKey = shown.childKey;
  return loadFrameworks(headers)
    .then(() =>
      call<ChildOutcomes>('v1/children/' + encodeURIComponent(childKey) + '/outcomes?' + params.toString(), {
        headers,
      }),
    )
    .then((answer) => {
      if (request !== latestRequest) return false;
      if (answer.framework && answer.framework.version === 0) {
        setContent(
          lanes,
          el('p', { class: 'notice-box' }, 'No outcome framework is loaded in this service yet.'),
        );
        return false;
      }
      const laneList = logic.lanesOf(answer);
      const frameworkId = answer.framework && answer.framework.id;
      if (frameworkId && !frameworkChoice.value) {
        if (![...frameworkChoice.options].some((option) => option.value === frameworkId))
          frameworkChoice.append(el('option', { value: frameworkId }, answer.framework.name || frameworkId));
        frameworkChoice.value = frameworkId;
      }
      outcomesCaption.textContent =
        (answer.framework ? answer.framework.name + ' (version ' + answer.framework.version + ')' : '') +
        (typeof answer.threshold === 'number'
          ? ". Views are marked as differing when two perspectives' latest ratings in a period are " +
            Math.round(answer.threshold * 100) +
            '% of the scale or more apart.'
          : '');
      // Points the server marked as differing: the chronology marks their entries too.
      if (chronologyState) {
        chronologyState.differing = new Set(logic.differingEventIds(laneList));
        renderChronologyPage();
      }
      setContent(lanes, renderLanes(laneList, chartWidth()));
      return true;
    })
    .catch((error: unknown) => {
      if (request === latestRequest) degrade(lanes, 'Outcomes over the years', error);
      return false;
    });
}

/** Reads and shows the decisions; resolves false (after saying why on the page) when they could not be read. */
function loadDecisions(request: number, headers: Record<string, string>): Promise<boolean> {
  if (!shown) return Promise.resolve(false);
  return call<ChildDecisions>('v1/children/' + encodeURIComponent(shown.childKey) + '/decisions', { headers })
    .then((answer) => {
      if (request !== latestRequest) return false;
      setContent(decisions, renderDecisions(logic.decisionCardsOf(answer)));
      return true;
    })
    .catch((error: unknown) => {
      if (request === latestRequest) degrade(decisions, 'Decisions', error);
      return false;
    });
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

// ---------------------------------------------------------------------------------------------
// The chronology: filtered, paged (PAGE_SIZE a page), grouped by school year, age at each entry

interface ChronologyState {
  entries: TimelineEntry[];
  dateOfBirth?: string;
  filtered: TimelineEntry[];
  page: number;
  /** Event ids of entries whose ratings the outcomes answer marked as differing. */
  differing: Set<string>;
}
let chronologyState: ChronologyState | null = null;

const PERSPECTIVE_CHOICES: Record<string, string> = {
  child: 'Child',
  family: 'Family',
  professional: 'Professional',
  none: 'None stated',
};
const KIND_CHOICES: Record<string, string> = { fact: 'Recorded fact', observation: 'Observation' };

function options(select: HTMLSelectElement, all: string, values: { value: string; label: string }[]): void {
  setContent(
    select,
    el('option', { value: '' }, all),
    values.map((item) => el('option', { value: item.value }, item.label)),
  );
}

function fillFilterChoices(entries: TimelineEntry[]): void {
  const choices = logic.filterChoices(entries);
  options(
    filterAgency,
    'All agencies',
    choices.agencies.map((value) => ({ value, label: AGENCIES[value] || humanise(value) })),
  );
  options(filterDomain, 'All domains', choices.domains);
  options(
    filterPerspective,
    'All perspectives',
    choices.perspectives.map((value) => ({ value, label: PERSPECTIVE_CHOICES[value] || humanise(value) })),
  );
  options(
    filterKind,
    'All kinds',
    choices.kinds.map((value) => ({ value, label: KIND_CHOICES[value] || humanise(value) })),
  );
}

function currentFilter(): TimelineLogic.ChronologyFilter {
  return {
    agency: filterAgency.value || undefined,
    domain: filterDomain.value || undefined,
    perspective: filterPerspective.value || undefined,
    kind: filterKind.value || undefined,
    from: filterFrom.value || undefined,
    to: filterTo.value || undefined,
  };
}

function applyFilters(): void {
  if (!chronologyState) return;
  chronologyState.filtered = logic.filterEntries(chronologyState.entries, currentFilter());
  chronologyState.page = 1;
  renderChronologyPage();
  chronologyCount.focus();
}

function pager(page: TimelineLogic.Page<TimelineEntry>, where: string): HTMLElement | null {
  if (page.pages <= 1) return null;
  const previous = el(
    'button',
    { type: 'button', class: 'pager-button', disabled: page.page <= 1 },
    '← Previous ' + logic.PAGE_SIZE,
  );
  const next = el(
    'button',
    { type: 'button', class: 'pager-button', disabled: page.page >= page.pages },
    'Next ' + logic.PAGE_SIZE + ' →',
  );
  const go = (delta: number): void => {
    if (!chronologyState) return;
    chronologyState.page = page.page + delta;
    renderChronologyPage();
    chronologyCount.focus();
  };
  previous.addEventListener('click', () => go(-1));
  next.addEventListener('click', () => go(1));
  return el(
    'nav',
    { class: 'pager', 'aria-label': 'Chronology pages (' + where + ')' },
    previous,
    el('span', {}, 'Page ' + page.page + ' of ' + page.pages),
    next,
  );
}

/** Renders the current page; `all` renders every filtered entry (for printing). */
function renderChronologyPage(all = false): void {
  const state = chronologyState;
  if (!state) return;
  const page = logic.pageOf(
    state.filtered,
    all ? 1 : state.page,
    all ? Math.max(1, state.filtered.length) : logic.PAGE_SIZE,
  );
  state.page = page.page;
  const filtered = state.filtered.length !== state.entries.length;
  chronologyCount.textContent = page.total
    ? 'Showing entries ' +
      page.first +
      '–' +
      page.last +
      ' of ' +
      page.total +
      (filtered ? ' (filtered from ' + state.entries.length + ')' : '') +
      '.'
    : state.entries.length
      ? 'No entry matches these filters (' + state.entries.length + ' in all).'
      : '';
  if (!state.entries.length) {
    setContent(chronology, el('p', {}, 'No entries for this child yet.'));
    return;
  }
  setContent(
    chronology,
    pager(page, 'top'),
    logic.byAcademicYear(page.items).map((group) => {
      const headingId = 'year-' + group.year.replace('/', '-') + '-' + page.page;
      return el(
        'section',
        { 'aria-labelledby': headingId },
        el('h4', { class: 'year', id: headingId }, 'School year ' + group.year),
        el(
          'ol',
          { class: 'entries' },
          group.entries.map((entry) => el('li', {}, renderEntry(entry, state))),
        ),
      );
    }),
    pager(page, 'bottom'),
  );
}

function viewpointText(entry: TimelineEntry): string {
  const who = (entry.perspective && PERSPECTIVES[entry.perspective]) || entry.perspective || 'Unstated';
  const role = entry.observerRole || (entry.recordedBy && entry.recordedBy.role);
  const where = entry.observerAgency || (entry.recordedBy && entry.recordedBy.agency);
  return who + (role ? ' (' + role + (where ? ', ' + where : '') + ')' : '');
}

function indicatorText(indicator: Indicator): string {
  if (indicator.unit) return indicator.value + indicator.unit;
  if (indicator.scale) return indicator.value + ' on ' + indicator.scale.min + '–' + indicator.scale.max;
  return String(indicator.value);
}

function renderIndicator(indicator: Indicator): HTMLElement {
  const range = indicator.scale || (indicator.unit === '%' ? { min: 0, max: 100 } : undefined);
  const name =
    indicator.label ||
    (indicator.scale && indicator.scale.name === indicator.name
      ? humanise(indicator.scale.name) + ' scale'
      : humanise(indicator.name));
  const threshold = (indicator.thresholds || [])[0];
  const period = indicator.period;
  return el(
    'div',
    { class: 'indicator' },
    el('span', { class: 'name' }, 'Indicator · ' + name),
    el('span', { class: 'value' }, indicatorText(indicator)),
    period
      ? el(
          'span',
          { class: 'period' },
          (period.term ? humanise(period.term) + ' ' : '') + period.academicYear,
        )
      : null,
    threshold ? el('span', { class: 'period' }, threshold.label + ': ' + threshold.value) : null,
    range
      ? el(
          'meter',
          { min: range.min, max: range.max, value: indicator.value, 'aria-label': name },
          indicatorText(indicator),
        )
      : null,
  );
}

function renderVoice(entry: TimelineEntry, indicators: Indicator[]): HTMLElement {
  const attribution: HTMLElement[] = [];
  if (entry.perspective) attribution.push(el('span', {}, 'Perspective: ' + viewpointText(entry)));
  else if (entry.recordedBy)
    attribution.push(
      el('span', {}, 'Recorded by: ' + entry.recordedBy.role + ', ' + entry.recordedBy.agency),
    );
  else if (entry.observerRole) attribution.push(el('span', {}, 'By: ' + entry.observerRole));
  if (entry.confidence) attribution.push(el('span', {}, 'Confidence: ' + entry.confidence));
  const voice = entry.voice;
  return el(
    'div',
    { class: 'voice' },
    entry.narrative
      ? el('blockquote', {}, entry.narrative)
      : indicators.length
        ? el('p', { class: 'no-narrative' }, 'No account recorded with this indicator.')
        : null,
    voice
      ? el(
          'dl',
          { class: 'voice-details' },
          el('dt', {}, 'The child’s own words'),
          el('dd', {}, voice.verbatim === false ? 'No: as told by the practitioner' : 'Yes, verbatim'),
          voice.capturedHow
            ? [el('dt', {}, 'How it was heard'), el('dd', {}, humanise(voice.capturedHow))]
            : null,
          voice.context ? [el('dt', {}, 'Context'), el('dd', {}, voice.context)] : null,
          voice.interpretation
            ? [el('dt', {}, 'The practitioner’s interpretation'), el('dd', {}, voice.interpretation)]
            : null,
          voice.childAgreedToShare !== undefined
            ? [
                el('dt', {}, 'The child agreed to share'),
                el('dd', {}, voice.childAgreedToShare ? 'Yes' : 'No'),
              ]
            : null,
        )
      : null,
    attribution.length ? el('p', { class: 'attribution' }, attribution) : null,
  );
}

function renderDecisionDetails(entry: TimelineEntry): HTMLElement | null {
  const decision = entry.decision;
  const review = entry.review;
  const differ = entry.viewsDiffer;
  if (decision)
    return el(
      'dl',
      { class: 'entry-details' },
      decision.forum ? [el('dt', {}, 'Forum'), el('dd', {}, decision.forum)] : null,
      decision.options && decision.options.length
        ? [
            el('dt', {}, 'Options considered'),
            el(
              'dd',
              {},
              el(
                'ul',
                {},
                decision.options.map((option) =>
                  el('li', {}, option.option + (option.whyNot ? ' — why not: ' + option.whyNot : '')),
                ),
              ),
            ),
          ]
        : null,
      decision.uncertainty ? [el('dt', {}, 'What is uncertain'), el('dd', {}, decision.uncertainty)] : null,
      decision.expectedOutcomes && decision.expectedOutcomes.length
        ? [
            el('dt', {}, 'Expected outcomes'),
            el(
              'dd',
              {},
              el(
                'ul',
                {},
                decision.expectedOutcomes.map((item) =>
                  el('li', {}, humanise(item.domain) + ' (' + item.framework + '): ' + item.lookFor),
                ),
              ),
            ),
          ]
        : null,
    );
  if (review)
    return el(
      'dl',
      { class: 'entry-details' },
      el('dt', {}, 'Outcome of the review'),
      el('dd', {}, humanise(review.outcome)),
      review.revisedDecision
        ? [el('dt', {}, 'Revised decision'), el('dd', {}, review.revisedDecision)]
        : null,
      (review.againstExpected || []).map((item) => [
        el('dt', {}, humanise(item.domain) + ': ' + humanise(item.judgement)),
        el('dd', {}, item.finding),
      ]),
      review.nextReviewDate
        ? [el('dt', {}, 'Next review by'), el('dd', {}, logic.displayDate(review.nextReviewDate))]
        : null,
    );
  if (differ)
    return el(
      'div',
      { class: 'differences' },
      el('p', {}, '⚠ Views differ' + (differ.domain ? ' about ' + humanise(differ.domain) : '') + ':'),
      el(
        'ul',
        {},
        differ.views.map((view) =>
          el('li', {}, logic.perspectiveLabel(view.perspective, view.role, view.agency) + ': ' + view.view),
        ),
      ),
    );
  return null;
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

function renderEntry(entry: TimelineEntry, state: ChronologyState): HTMLElement {
  const summaryId = 'entry-' + entry.position + '-summary';
  const indicators = logic.indicatorsOf(entry);
  const hasEvidence =
    indicators.length ||
    entry.narrative ||
    entry.perspective ||
    entry.confidence ||
    entry.voice ||
    entry.recordedBy;
  const domains = logic.domainsOf(entry);
  const label = entry.outcomeDomain && entry.outcomeDomain.label;
  const age = logic.ageText(logic.ageOn(state.dateOfBirth, entry.occurredAt));
  const differs = state.differing.has(entry.lineage.eventId) || !!entry.viewsDiffer;
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
      age ? el('span', { class: 'age' }, 'age ' + age) : null,
      agencyBadge(entry.agency),
      entry.kind === 'observation'
        ? el('span', { class: 'badge kind observation' }, '◐ Observation')
        : el('span', { class: 'badge kind' }, '■ Recorded fact'),
      differs ? el('span', { class: 'badge differ' }, '⚠ Perspectives differ') : null,
    ),
    el('p', { class: 'summary', id: summaryId }, entry.summary),
    sharedUnderText(entry.sharedUnder)
      ? el('p', { class: 'shared-under' }, sharedUnderText(entry.sharedUnder))
      : null,
    el(
      'p',
      { class: 'domain' },
      'Outcome: ' +
        (domains.length
          ? domains
              .map(
                (ref, index) =>
                  (index === 0 && label && ref.domain === entry.outcomeDomain.domain
                    ? label
                    : humanise(ref.domain)) +
                  ' (' +
                  ref.framework +
                  ')',
              )
              .join('; ')
          : 'not mapped'),
    ),
    hasEvidence
      ? el(
          'div',
          { class: indicators.length ? 'evidence' : 'evidence single' },
          indicators.length ? el('div', { class: 'indicators' }, indicators.map(renderIndicator)) : null,
          renderVoice(entry, indicators),
        )
      : null,
    renderDecisionDetails(entry),
    entry.reviewDate
      ? el('p', { class: 'review' }, 'Review by ' + logic.displayDate(entry.reviewDate))
      : null,
    renderImported(entry),
    renderLineage(entry.lineage),
  );
}

const IMPORT_FORMAT_NAMES: Record<string, string> = {
  'cin-census': 'CIN census',
  ssda903: 'SSDA903 return',
  'fhir-r4': 'FHIR health record',
};

const IDENTIFIER_NAMES: Record<string, string> = {
  nhsNumber: 'NHS number',
  upn: 'UPN',
  formerUpn: 'former UPN',
  laChildId: 'LA child id',
  uln: 'ULN',
};

/** Where an imported entry came from, what the return did not hold, and identifiers it held that failed their rule. */
function renderImported(entry: TimelineEntry): HTMLElement | null {
  const imported = entry.imported;
  const quarantined = entry.quarantinedIdentifiers || [];
  if (!imported && quarantined.length === 0) return null;
  return el(
    'p',
    { class: 'imported' },
    imported
      ? 'Imported from ' +
          (IMPORT_FORMAT_NAMES[imported.format] || imported.format) +
          (imported.collectionYear ? ' ' + imported.collectionYear : '') +
          ' (' +
          imported.location +
          ').'
      : null,
    entry.notInReturn && entry.notInReturn.length
      ? ' Not in the return: ' + entry.notInReturn.map(humanise).join(', ') + '.'
      : null,
    quarantined.length
      ? ' Identifier' +
          (quarantined.length > 1 ? 's' : '') +
          ' held back from matching: ' +
          quarantined
            .map((item) => (IDENTIFIER_NAMES[item.field] || item.field) + ' (' + item.rule + ')')
            .join(', ') +
          '.'
      : null,
  );
}

// ---------------------------------------------------------------------------------------------
// Printing: every section opened, every chronology entry (not only this page), no buttons

const openedForPrint: HTMLDetailsElement[] = [];
const hiddenForPrint: HTMLElement[] = [];

window.addEventListener('beforeprint', () => {
  results.querySelectorAll('details:not([open])').forEach((node) => {
    if (node instanceof HTMLDetailsElement && node.id !== 'break-glass') {
      node.open = true;
      openedForPrint.push(node);
    }
  });
  results.querySelectorAll('[aria-controls]').forEach((button) => {
    const region = document.getElementById(button.getAttribute('aria-controls') || '');
    if (region && region.hidden) {
      region.hidden = false;
      hiddenForPrint.push(region);
    }
  });
  renderChronologyPage(true);
});
window.addEventListener('afterprint', () => {
  openedForPrint.splice(0).forEach((node) => {
    node.open = false;
  });
  hiddenForPrint.splice(0).forEach((node) => {
    node.hidden = true;
  });
  renderChronologyPage();
});

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
outcomesOptions.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!shown) return;
  setContent(lanes, el('p', { class: 'muted' }, 'Loading outcomes…'));
  void loadOutcomes(latestRequest, { 'x-purpose': shown.purpose });
});
chronologyFilters.addEventListener('submit', (event) => {
  event.preventDefault();
  applyFilters();
});
chronologyFilters.addEventListener('reset', () => {
  // After the form has cleared its fields.
  setTimeout(applyFilters, 0);
});
signOut.addEventListener('click', () => {
  void signOutNow();
});
window.addEventListener('hashchange', fromHash);
showIdentifierField();
void loadAccount().then(fromHash);

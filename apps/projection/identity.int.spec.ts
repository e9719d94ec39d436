import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import type { Pool } from 'pg';
import { createPool, loadConfig } from '@throughline/platform';
import {
  AccessLogReader,
  buildEnrolmentRecorded,
  buildImmunisationGiven,
  buildReferralReceived,
  createTestDatabase,
  freshNhsNumber,
  freshRecordId,
  freshUpn,
  recordAsTheRecorderWould,
  startTestAccess,
  type AccessLogEntry,
  type TestAccess,
  type TestDatabase,
} from '@throughline/testing';
import { childKeyOf } from '@throughline/timeline';
import { createProjectionApp, type ProjectionApp } from './app';

const BORN = '2015-03-01';
/** The reviewer: the demo team manager (roles supervisor and social worker), reviewing record linkage. */
const REVIEWER = 'demo-supervisor';

let access: TestAccess;
let database: TestDatabase;
let store: PostgresEventStore;
let projection: ProjectionApp;
let pool: Pool;
let log: AccessLogReader;
/** The reviewer's token and x-purpose identity-review. */
let HEADERS: Record<string, string>;
/** The reviewer reading timelines, for supervision (identity review grants no timeline reads). */
let READER: Record<string, string>;
let documented: { paths: Record<string, Record<string, { responses: Record<string, DocumentedResponse> }>> };

interface DocumentedResponse {
  content?: { 'application/json'?: { schema?: object } };
}

beforeAll(async () => {
  access = await startTestAccess();
  database = await createTestDatabase('tl_projection_identity');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  projection = await createProjectionApp(
    loadConfig({
      ...access.env,
      THROUGHLINE_MODE: 'development',
      DATABASE_URL: database.appUrl,
      PROJECTION_PORT: '0',
      PROJECTION_NAME: 'identity-http',
      LOG_LEVEL: 'error',
    }),
    { store },
  );
  documented = (await (await fetch(`${projection.url}/docs-json`)).json()) as typeof documented;
  pool = createPool(database.url);
  log = new AccessLogReader(pool);
  HEADERS = await access.headers(REVIEWER, 'identity-review', { 'content-type': 'application/json' });
  READER = await access.headers(REVIEWER, 'supervision', { 'content-type': 'application/json' });
});

afterEach(async () => {
  // Every call's access record was read back and checked.
  if (log) expect(await log.sinceLastRead()).toEqual([]);
});

afterAll(async () => {
  await pool?.end();
  await projection?.close();
  await store?.close();
  await database?.drop();
  await access?.stop();
});

/** Reads back the one access record the last call wrote and checks who, why, what and how it ended. */
async function expectRecorded(
  action: string,
  outcome: string,
  more: Partial<AccessLogEntry> = {},
): Promise<void> {
  const identity = action.startsWith('identity-');
  expect(await log.next()).toMatchObject({
    user: REVIEWER,
    organisation: '991',
    purpose: identity ? 'identity-review' : 'supervision',
    grantedRoles: 'supervisor',
    policyVersion: 1,
    action,
    outcome,
    withheld: [],
    ...(identity ? { childKey: null } : {}),
    ...more,
  });
}

const record = (...events: AgencyEvent[]): Promise<bigint> => recordAsTheRecorderWould(store, ...events);

async function call<T = Record<string, unknown>>(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = HEADERS,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${projection.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = { status: response.status, body: (await response.json()) as T };
  expect([method, path, answer.status, conformance(method, path, answer.status, answer.body)]).toEqual([
    method,
    path,
    answer.status,
    'as documented',
  ]);
  return answer;
}

const ajv = addFormats(new Ajv({ strict: false }));
const validators = new Map<string, ValidateFunction>();

/** Every answer here must match what /docs says that route answers with that status. */
function conformance(method: string, url: string, status: number, body: unknown): string {
  const path = url.split('?')[0];
  const template = Object.keys(documented.paths).find((candidate) =>
    new RegExp(`^${candidate.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path),
  );
  if (!template) return 'undocumented route';
  const schema =
    documented.paths[template][method.toLowerCase()]?.responses[String(status)]?.content?.['application/json']
      ?.schema;
  if (!schema) return `status ${status} undocumented for ${template}`;
  const key = `${method} ${template} ${status}`;
  const validate = validators.get(key) ?? ajv.compile(schema);
  validators.set(key, validate);
  return validate(body) ? 'as documented' : ajv.errorsText(validate.errors);
}

interface Timeline {
  childKey: string;
  entries: unknown[];
  linkHistory: { type: string; by: Record<string, unknown>; reason?: string }[];
}

async function timelineOf(childKey: string): Promise<{ status: number; body: Timeline }> {
  const answer = await call<Timeline>('GET', `/v1/children/${childKey}/timeline`, undefined, READER);
  await expectRecorded('timeline', 'ok', { childKey, returned: answer.body.entries.length });
  return answer;
}

describe('identity review API over HTTP', () => {
  it('lists a proposal with its evidence, confirms it (merging the timelines), and audits every call', async () => {
    const demographics = {
      name: { given: 'Cordelia', family: 'Samplename' },
      sex: '2' as const,
      postcode: 'ZZ99 5EF',
      dateOfBirth: '2016-11-30',
    };
    const health = buildImmunisationGiven({
      subject: { recordId: freshRecordId('chs'), nhsNumber: freshNhsNumber(), ...demographics },
    });
    const education = buildEnrolmentRecorded({
      subject: { recordId: freshRecordId('pupil'), upn: freshUpn(), ...demographics },
    });
    await record(health, education);
    await projection.caughtUp();

    const open = await call<{ proposals: { proposalId: string; score: number; evidence: unknown[] }[] }>(
      'GET',
      '/v1/identity/proposals?status=open',
    );
    expect(open.status).toBe(200);
    expect(open.body.proposals).toHaveLength(1);
    const [proposal] = open.body.proposals;
    expect(proposal).toMatchObject({
      subject: `education-${education.subject.recordId}`,
      candidate: `health-${health.subject.recordId}`,
      status: 'open',
    });
    expect(proposal.evidence).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'family-name', outcome: 'agree' })]),
    );
    await expectRecorded('identity-proposals', 'ok');

    const badStatus = await call('GET', '/v1/identity/proposals?status=maybe');
    expect(badStatus.status).toBe(400);
    expect(badStatus.body).toMatchObject({
      error: 'VALIDATION',
      issues: [expect.objectContaining({ path: 'query.status' })],
    });
    await expectRecorded('identity-proposals', 'VALIDATION');
    const badId = await call('POST', '/v1/identity/proposals/not-a-uuid/confirm', {});
    expect(badId.status).toBe(400);
    expect(badId.body).toMatchObject({ issues: [expect.objectContaining({ path: 'params.proposalId' })] });
    await expectRecorded('identity-confirm', 'VALIDATION');
    const noReason = await call('POST', `/v1/identity/proposals/${proposal.proposalId}/reject`, {});
    expect(noReason.status).toBe(400);
    expect(noReason.body).toMatchObject({ issues: [expect.objectContaining({ path: 'reason' })] });
    await expectRecorded('identity-reject', 'VALIDATION');

    const confirmed = await call('POST', `/v1/identity/proposals/${proposal.proposalId}/confirm`, {
      reason: 'same child: date of birth checked with the GP',
    });
    expect(confirmed.status).toBe(202);
    expect(confirmed.body).toMatchObject({ type: 'identity.match.confirmed', position: expect.any(Number) });
    await expectRecorded('identity-confirm', 'ok');
    const again = await call('POST', `/v1/identity/proposals/${proposal.proposalId}/confirm`, {});
    expect(again.status).toBe(409);
    await expectRecorded('identity-confirm', 'ILLEGAL_STATE');

    // Identity review grants no timeline reads, nor does a team manager's role grant review for supervision.
    const healthKeyEarly = childKeyOf(`health-${health.subject.recordId}`);
    const notForReview = await call('GET', `/v1/children/${healthKeyEarly}/timeline`);
    expect(notForReview.status).toBe(403);
    await expectRecorded('timeline', 'FORBIDDEN', {
      purpose: 'identity-review',
      grantedRoles: null,
      requestedChildKey: healthKeyEarly,
      childKey: null,
    });
    const socialWorker = await call(
      'GET',
      '/v1/identity/proposals',
      undefined,
      await access.headers('demo-social-worker', 'identity-review'),
    );
    expect(socialWorker.status).toBe(403);
    expect(await log.next()).toMatchObject({
      user: 'demo-social-worker',
      action: 'identity-proposals',
      outcome: 'FORBIDDEN',
      refusal: 'not allowed: role social-worker may not identity:read for purpose identity-review',
    });

    await projection.caughtUp();
    const healthKey = childKeyOf(`health-${health.subject.recordId}`);
    const timeline = await timelineOf(healthKey);
    expect(timeline.status).toBe(200);
    expect(timeline.body.entries).toHaveLength(2);
    expect(timeline.body.linkHistory.map((entry) => entry.type)).toEqual([
      'identity.match.proposed',
      'identity.match.confirmed',
    ]);
    // Who decided is the verified user, under the role that granted the decision.
    expect(timeline.body.linkHistory[1]).toMatchObject({
      by: { type: 'user', userId: REVIEWER, role: 'supervisor' },
      reason: 'same child: date of birth checked with the GP',
    });

    const audit = await pool.query(
      'SELECT action, outcome, user_role, purpose FROM identity_audit_log WHERE user_id = $1 ORDER BY id',
      [REVIEWER],
    );
    expect(audit.rows.map((row) => [row.action, row.outcome])).toEqual([
      ['list-proposals', 'ok'],
      ['list-proposals', 'VALIDATION'],
      ['confirm', 'VALIDATION'],
      ['reject', 'VALIDATION'],
      ['confirm', 'ok'],
      ['confirm', 'ILLEGAL_STATE'],
    ]);
    expect(audit.rows[0]).toMatchObject({ user_role: 'supervisor', purpose: 'identity-review' });
  });

  it('unlinks and links records by agency and record id in the body, and lists conflicts', async () => {
    const nhsNumber = freshNhsNumber();
    const upn = freshUpn();
    const health = buildImmunisationGiven({ subject: { nhsNumber, dateOfBirth: BORN } });
    const socialCare = buildReferralReceived({
      // Recorded by the reviewer's own local authority, so that the timeline shows it.
      source: { organisation: '991' },
      subject: { nhsNumber, upn, dateOfBirth: BORN, laChildId: undefined, laCode: undefined },
    });
    // Same UPN, another NHS number: flagged, not merged.
    const education = buildEnrolmentRecorded({
      subject: { upn, nhsNumber: freshNhsNumber(), dateOfBirth: BORN },
    });
    await record(health, socialCare, education);
    await projection.caughtUp();

    const conflicts = await call<{ conflicts: { subject: string; rule: string }[] }>(
      'GET',
      '/v1/identity/conflicts',
    );
    expect(conflicts.status).toBe(200);
    expect(conflicts.body.conflicts).toEqual([
      expect.objectContaining({
        subject: `education-${education.subject.recordId}`,
        rule: 'contradicting-identifiers',
      }),
    ]);
    await expectRecorded('identity-conflicts', 'ok');

    const healthKey = childKeyOf(`health-${health.subject.recordId}`);
    const missingReason = await call('POST', '/v1/identity/unlink', {
      agency: 'social-care',
      recordId: socialCare.subject.recordId,
    });
    expect(missingReason.status).toBe(400);
    expect(missingReason.body).toMatchObject({
      issues: [expect.objectContaining({ path: 'reason', rule: expect.any(String) })],
    });
    await expectRecorded('identity-unlink', 'VALIDATION');
    const badAgency = await call('POST', '/v1/identity/unlink', {
      agency: 'police',
      recordId: socialCare.subject.recordId,
      reason: 'x',
    });
    expect(badAgency.status).toBe(400);
    expect(badAgency.body).toMatchObject({ issues: [expect.objectContaining({ path: 'agency' })] });
    await expectRecorded('identity-unlink', 'VALIDATION');
    const unknown = await call('POST', '/v1/identity/unlink', {
      agency: 'health',
      recordId: 'nobody-here',
      reason: 'x',
    });
    expect(unknown.status).toBe(404);
    await expectRecorded('identity-unlink', 'NOT_FOUND');

    const unlinked = await call('POST', '/v1/identity/unlink', {
      agency: 'social-care',
      recordId: socialCare.subject.recordId,
      reason: 'referral was for a sibling',
    });
    expect(unlinked.status).toBe(202);
    await expectRecorded('identity-unlink', 'ok');
    await projection.caughtUp();
    expect((await timelineOf(healthKey)).body.entries).toHaveLength(1);

    const notLinked = await call('POST', '/v1/identity/unlink', {
      agency: 'social-care',
      recordId: socialCare.subject.recordId,
      reason: 'again',
    });
    expect(notLinked.status).toBe(409);
    await expectRecorded('identity-unlink', 'ILLEGAL_STATE');

    const linked = await call('POST', '/v1/identity/link', {
      agency: 'education',
      recordId: education.subject.recordId,
      childKey: healthKey,
      reason: 'school confirmed the NHS number was mistyped',
    });
    expect(linked.status).toBe(202);
    await expectRecorded('identity-link', 'ok');
    await projection.caughtUp();
    const timeline = await timelineOf(healthKey);
    expect(timeline.body.entries).toHaveLength(2);
    expect(timeline.body.linkHistory.map((entry) => entry.type)).toEqual([
      'identity.subject.linked',
      'identity.conflict.flagged',
      'identity.subject.unlinked',
      'identity.subject.linked',
    ]);

    const anonymous = await call('POST', '/v1/identity/link', {}, { 'content-type': 'application/json' });
    expect(anonymous.status).toBe(401);
    const unverified = { user: '(unverified)', organisation: null, purpose: '(none)', grantedRoles: null };
    expect(await log.next()).toMatchObject({
      ...unverified,
      action: 'identity-link',
      outcome: 'UNAUTHENTICATED',
    });
    // Who is asking is read before the body: an anonymous, malformed lookup is still a 401.
    const anonymousLookup = await call(
      'POST',
      '/v1/children/lookup',
      { identifier: {} },
      {
        'content-type': 'application/json',
      },
    );
    expect(anonymousLookup.status).toBe(401);
    expect(await log.next()).toMatchObject({ ...unverified, action: 'lookup', outcome: 'UNAUTHENTICATED' });
    const { 'x-purpose': _purpose, ...withoutPurpose } = HEADERS;
    const noPurpose = await call('GET', '/v1/identity/conflicts', undefined, withoutPurpose);
    expect(noPurpose.status).toBe(400);
    expect(noPurpose.body).toMatchObject({
      message: expect.stringContaining('x-purpose'),
      issues: [{ path: 'headers.x-purpose', rule: 'required' }],
    });
    await expectRecorded('identity-conflicts', 'VALIDATION', { purpose: '(none)', grantedRoles: null });
    const badLookup = await call(
      'POST',
      '/v1/children/lookup',
      { identifier: { type: 'record', value: 'x' } },
      READER,
    );
    expect(badLookup.status).toBe(400);
    expect(badLookup.body).toMatchObject({
      error: 'VALIDATION',
      issues: [{ path: 'identifier.agency', rule: 'required' }],
    });
    await expectRecorded('lookup', 'VALIDATION', { childKey: null, returned: 0 });
  });
});

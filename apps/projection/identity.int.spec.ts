import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { AgencyEvent } from '@throughline/contracts';
import { PostgresEventStore } from '@throughline/event-store';
import { createPool, loadConfig } from '@throughline/platform';
import {
  buildEnrolmentRecorded,
  buildImmunisationGiven,
  buildReferralReceived,
  createTestDatabase,
  freshNhsNumber,
  freshRecordId,
  freshUpn,
  recordAsTheRecorderWould,
  type TestDatabase,
} from '@throughline/testing';
import { childKeyOf } from '@throughline/timeline';
import { createProjectionApp, type ProjectionApp } from './app';

const BORN = '2015-03-01';
const HEADERS = {
  'content-type': 'application/json',
  'x-user-id': 'ig-0042',
  'x-user-role': 'identity reviewer',
  'x-purpose': 'identity-review',
};

let database: TestDatabase;
let store: PostgresEventStore;
let projection: ProjectionApp;
let documented: { paths: Record<string, Record<string, { responses: Record<string, DocumentedResponse> }>> };

interface DocumentedResponse {
  content?: { 'application/json'?: { schema?: object } };
}

beforeAll(async () => {
  database = await createTestDatabase('tl_projection_identity');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  projection = await createProjectionApp(
    loadConfig({
      THROUGHLINE_MODE: 'development',
      DATABASE_URL: database.url,
      PROJECTION_PORT: '0',
      PROJECTION_NAME: 'identity-http',
      LOG_LEVEL: 'error',
    }),
    { store },
  );
  documented = (await (await fetch(`${projection.url}/docs-json`)).json()) as typeof documented;
});

afterAll(async () => {
  await projection?.close();
  await store?.close();
  await database?.drop();
});

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

const timelineOf = (childKey: string) => call<Timeline>('GET', `/v1/children/${childKey}/timeline`);

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

    const badStatus = await call('GET', '/v1/identity/proposals?status=maybe');
    expect(badStatus.status).toBe(400);
    expect(badStatus.body).toMatchObject({
      error: 'VALIDATION',
      issues: [expect.objectContaining({ path: 'query.status' })],
    });
    const badId = await call('POST', '/v1/identity/proposals/not-a-uuid/confirm', {});
    expect(badId.status).toBe(400);
    expect(badId.body).toMatchObject({ issues: [expect.objectContaining({ path: 'params.proposalId' })] });
    const noReason = await call('POST', `/v1/identity/proposals/${proposal.proposalId}/reject`, {});
    expect(noReason.status).toBe(400);
    expect(noReason.body).toMatchObject({ issues: [expect.objectContaining({ path: 'reason' })] });

    const confirmed = await call('POST', `/v1/identity/proposals/${proposal.proposalId}/confirm`, {
      reason: 'same child: date of birth checked with the GP',
    });
    expect(confirmed.status).toBe(202);
    expect(confirmed.body).toMatchObject({ type: 'identity.match.confirmed', position: expect.any(Number) });
    const again = await call('POST', `/v1/identity/proposals/${proposal.proposalId}/confirm`, {});
    expect(again.status).toBe(409);

    await projection.caughtUp();
    const healthKey = childKeyOf(`health-${health.subject.recordId}`);
    const timeline = await timelineOf(healthKey);
    expect(timeline.status).toBe(200);
    expect(timeline.body.entries).toHaveLength(2);
    expect(timeline.body.linkHistory.map((entry) => entry.type)).toEqual([
      'identity.match.proposed',
      'identity.match.confirmed',
    ]);
    expect(timeline.body.linkHistory[1]).toMatchObject({
      by: { type: 'user', userId: 'ig-0042', role: 'identity reviewer' },
      reason: 'same child: date of birth checked with the GP',
    });

    const pool = createPool(database.url);
    try {
      const audit = await pool.query(
        "SELECT action, outcome, user_role, purpose FROM identity_audit_log WHERE user_id = 'ig-0042' ORDER BY id",
      );
      expect(audit.rows.map((row) => [row.action, row.outcome])).toEqual([
        ['list-proposals', 'ok'],
        ['list-proposals', 'VALIDATION'],
        ['confirm', 'VALIDATION'],
        ['reject', 'VALIDATION'],
        ['confirm', 'ok'],
        ['confirm', 'ILLEGAL_STATE'],
      ]);
      expect(audit.rows[0]).toMatchObject({ user_role: 'identity reviewer', purpose: 'identity-review' });
    } finally {
      await pool.end();
    }
  });

  it('unlinks and links records by agency and record id in the body, and lists conflicts', async () => {
    const nhsNumber = freshNhsNumber();
    const upn = freshUpn();
    const health = buildImmunisationGiven({ subject: { nhsNumber, dateOfBirth: BORN } });
    const socialCare = buildReferralReceived({
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

    const healthKey = childKeyOf(`health-${health.subject.recordId}`);
    const missingReason = await call('POST', '/v1/identity/unlink', {
      agency: 'social-care',
      recordId: socialCare.subject.recordId,
    });
    expect(missingReason.status).toBe(400);
    expect(missingReason.body).toMatchObject({
      issues: [expect.objectContaining({ path: 'reason', rule: expect.any(String) })],
    });
    const badAgency = await call('POST', '/v1/identity/unlink', {
      agency: 'police',
      recordId: socialCare.subject.recordId,
      reason: 'x',
    });
    expect(badAgency.status).toBe(400);
    expect(badAgency.body).toMatchObject({ issues: [expect.objectContaining({ path: 'agency' })] });
    const unknown = await call('POST', '/v1/identity/unlink', {
      agency: 'health',
      recordId: 'nobody-here',
      reason: 'x',
    });
    expect(unknown.status).toBe(404);

    const unlinked = await call('POST', '/v1/identity/unlink', {
      agency: 'social-care',
      recordId: socialCare.subject.recordId,
      reason: 'referral was for a sibling',
    });
    expect(unlinked.status).toBe(202);
    await projection.caughtUp();
    expect((await timelineOf(healthKey)).body.entries).toHaveLength(1);

    const notLinked = await call('POST', '/v1/identity/unlink', {
      agency: 'social-care',
      recordId: socialCare.subject.recordId,
      reason: 'again',
    });
    expect(notLinked.status).toBe(409);

    const linked = await call('POST', '/v1/identity/link', {
      agency: 'education',
      recordId: education.subject.recordId,
      childKey: healthKey,
      reason: 'school confirmed the NHS number was mistyped',
    });
    expect(linked.status).toBe(202);
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
    const { 'x-purpose': _purpose, ...withoutPurpose } = HEADERS;
    const noPurpose = await call('GET', '/v1/identity/conflicts', undefined, withoutPurpose);
    expect(noPurpose.status).toBe(400);
    expect(noPurpose.body).toMatchObject({
      issues: [
        { path: 'headers.x-purpose', rule: 'required', message: expect.stringContaining('x-purpose') },
      ],
    });
    const badLookup = await call('POST', '/v1/children/lookup', {
      identifier: { type: 'record', value: 'x' },
    });
    expect(badLookup.status).toBe(400);
    expect(badLookup.body).toMatchObject({
      error: 'VALIDATION',
      issues: [{ path: 'identifier.agency', rule: 'required' }],
    });
  });
});

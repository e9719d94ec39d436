import { randomUUID } from 'node:crypto';
import { BreakGlassGrants } from '@throughline/access';
import { buildEvent, freshNhsNumber, freshRecordId } from '@throughline/testing';
import { childKeyOf } from '@throughline/timeline';
import { projectionUnderTest } from './projection.test-helper';

/**
 * Break-glass over HTTP: a school's designated safeguarding lead, in an emergency, states a reason
 * and for a limited time sees all of one child's chronology (CAMHS included, which no agreement
 * shares with schools); every read under it says so, in the answer and in the access log, and
 * information governance lists the grants.
 */

const BORN = '2011-09-02';
const nhsNumber = freshNhsNumber();
const camhsRecord = freshRecordId('mh');
const CHILD = [
  buildEvent('health.camhs.referred', {
    occurredAt: '2026-04-01T09:00:00Z',
    source: { organisation: 'DEMO-MHT' },
    subject: { recordId: camhsRecord, nhsNumber, dateOfBirth: BORN },
  }),
  buildEvent('social-care.child-protection-plan.started', {
    occurredAt: '2026-04-02T09:00:00Z',
    source: { organisation: '991' },
    subject: { recordId: freshRecordId('case'), nhsNumber, dateOfBirth: BORN },
  }),
];
const childKey = childKeyOf(`health-${camhsRecord}`);
const REASON =
  'Child disclosed self-harm at school this morning; need CAMHS history before calling the crisis team';
const CAMHS_WITHHELD = [
  {
    count: 1,
    reason:
      'health mental-health-services (mental-health): no agreement shares it with role school-dsl, purpose safeguarding',
  },
  {
    count: 1,
    reason: 'linked records: every entry of each of them is withheld, so the records are not shown',
  },
];

const world = projectionUnderTest({ name: 'break-glass', events: CHILD });

interface TimelineAnswer {
  entries: { type: string; sharedUnder: { basis: string; grant?: string; agreement?: string } }[];
  withheld: { count: number; reason: string }[];
  access: { purpose: string; roles: string[]; policyVersion: number; breakGlass?: Record<string, string> };
}

async function breakGlass(user: string, purpose: string, body: unknown, key = childKey): Promise<Response> {
  return fetch(`${world.projection.url}/v1/children/${key}/break-glass`, {
    method: 'POST',
    headers: await world.access.headers(user, purpose, { 'content-type': 'application/json' }),
    body: JSON.stringify(body),
  });
}

async function timelineOf(user: string, purpose = 'safeguarding'): Promise<TimelineAnswer> {
  const answer = await fetch(`${world.projection.url}/v1/children/${childKey}/timeline`, {
    headers: await world.access.headers(user, purpose),
  });
  expect(answer.status).toBe(200);
  return (await answer.json()) as TimelineAnswer;
}

const dsl = { user: 'demo-school-dsl', organisation: '990201', purpose: 'safeguarding' };

describe('break-glass', () => {
  let grant: Record<string, unknown>;

  it('before: the DSL sees the child protection plan, and CAMHS is withheld', async () => {
    const before = await timelineOf('demo-school-dsl');
    expect(before.entries.map((entry) => entry.type)).toEqual(['social-care.child-protection-plan.started']);
    expect(before.withheld).toEqual(CAMHS_WITHHELD);
    expect(before.access.breakGlass).toBeUndefined();
    expect(await world.log.next()).toMatchObject({
      ...dsl,
      action: 'timeline',
      withheld: CAMHS_WITHHELD,
      breakGlass: null,
    });
  });

  it('refuses a reason shorter than 20 characters with 400 naming body.reason, and records it', async () => {
    const answer = await breakGlass('demo-school-dsl', 'safeguarding', { reason: 'urgent' });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({
      error: 'VALIDATION',
      issues: [
        {
          path: 'body.reason',
          rule: 'min-length',
          message: expect.stringContaining('at least 20 characters'),
        },
      ],
    });
    expect(await world.log.next()).toMatchObject({
      ...dsl,
      action: 'break-glass',
      outcome: 'VALIDATION',
      grantedRoles: 'school-dsl',
      requestedChildKey: childKey,
      childKey: null,
      breakGlass: null,
    });
  });

  it('refuses more minutes than BREAK_GLASS_MAX_MINUTES, naming body.minutes', async () => {
    const answer = await breakGlass('demo-school-dsl', 'safeguarding', { reason: REASON, minutes: 241 });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ issues: [{ path: 'body.minutes', rule: 'max' }] });
    expect(await world.log.next()).toMatchObject({ ...dsl, action: 'break-glass', outcome: 'VALIDATION' });
  });

  it('answers 404 for a child nobody knows', async () => {
    const answer = await breakGlass(
      'demo-school-dsl',
      'safeguarding',
      { reason: REASON },
      'ch_00000000000000000000',
    );
    expect(answer.status).toBe(404);
    expect(await world.log.next()).toMatchObject({
      ...dsl,
      action: 'break-glass',
      outcome: 'NOT_FOUND',
      childKey: null,
    });
  });

  it('answers 403 to a role without break-glass, and to a purpose other than safeguarding', async () => {
    const officer = await breakGlass('demo-ig-officer', 'safeguarding', { reason: REASON });
    expect(officer.status).toBe(403);
    expect(await officer.json()).toMatchObject({
      message: 'not allowed: role ig-officer may not break-glass for purpose safeguarding',
    });
    expect(await world.log.next()).toMatchObject({
      user: 'demo-ig-officer',
      action: 'break-glass',
      outcome: 'FORBIDDEN',
      requestedChildKey: childKey,
    });
    const directCare = await breakGlass('demo-health-visitor', 'direct-care', { reason: REASON });
    expect(directCare.status).toBe(403);
    expect(await world.log.next()).toMatchObject({
      user: 'demo-health-visitor',
      purpose: 'direct-care',
      action: 'break-glass',
      outcome: 'FORBIDDEN',
    });
  });

  it('grants the DSL a reasoned, time-limited override (201), recorded with the reason and expiry', async () => {
    const started = Date.now();
    const answer = await breakGlass('demo-school-dsl', 'safeguarding', { reason: REASON, minutes: 30 });
    expect(answer.status).toBe(201);
    grant = (await answer.json()) as Record<string, unknown>;
    expect(grant).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      userId: 'demo-school-dsl',
      organisation: '990201',
      roles: ['school-dsl'],
      purpose: 'safeguarding',
      childKey,
      reason: REASON,
      grantedAt: expect.any(String),
      expiresAt: expect.any(String),
    });
    const minutes = (Date.parse(grant.expiresAt as string) - Date.parse(grant.grantedAt as string)) / 60_000;
    expect(minutes).toBe(30);
    expect(Date.parse(grant.grantedAt as string)).toBeGreaterThanOrEqual(started - 5_000);
    expect(await world.log.next()).toMatchObject({
      ...dsl,
      action: 'break-glass',
      outcome: 'ok',
      grantedRoles: 'school-dsl',
      childKey,
      breakGlass: { id: grant.id, reason: REASON, expiresAt: grant.expiresAt },
    });
  });

  it('the DSL then sees the whole chronology under break-glass, and the access log says so', async () => {
    const after = await timelineOf('demo-school-dsl');
    expect(after.entries.map((entry) => [entry.type, entry.sharedUnder])).toEqual([
      ['health.camhs.referred', { basis: 'break-glass', grant: grant.id }],
      ['social-care.child-protection-plan.started', { basis: 'break-glass', grant: grant.id }],
    ]);
    expect(after.withheld).toEqual([]);
    const terms = { id: grant.id, reason: REASON, expiresAt: grant.expiresAt };
    expect(after.access).toEqual({
      purpose: 'safeguarding',
      roles: ['school-dsl'],
      policyVersion: 1,
      breakGlass: terms,
    });
    expect(await world.log.next()).toMatchObject({
      ...dsl,
      action: 'timeline',
      outcome: 'ok',
      childKey,
      returned: 2,
      withheld: [],
      agreements: null,
      breakGlass: terms,
    });
  });

  it("is the DSL's alone: another user's view of the child is unchanged", async () => {
    const visitor = await timelineOf('demo-health-visitor');
    expect(visitor.entries.map((entry) => entry.sharedUnder.basis)).toEqual(['agreement']);
    expect(visitor.access.breakGlass).toBeUndefined();
    expect(await world.log.next()).toMatchObject({ user: 'demo-health-visitor', breakGlass: null });
  });

  it('an expired grant no longer applies', async () => {
    // The grants are append-only for the app: the owner writes one that ended an hour ago.
    const expired = randomUUID();
    await world.pool.query(
      `INSERT INTO break_glass_grants (id, user_id, organisation, roles, purpose, child_key, reason, granted_at, expires_at)
       VALUES ($1, 'demo-health-visitor', 'DEMO-CHS', ARRAY['health-visitor'], 'safeguarding', $2, $3,
               now() - interval '2 hours', now() - interval '1 hour')`,
      [expired, childKey, 'Emergency department attendance overnight, history needed'],
    );
    const grants = new BreakGlassGrants(world.pool, 240);
    expect(await grants.active('demo-health-visitor', childKey)).toBeUndefined();
    expect(await grants.active('demo-school-dsl', childKey)).toMatchObject({ id: grant.id });
    const visitor = await timelineOf('demo-health-visitor');
    expect(visitor.withheld).toEqual([
      {
        count: 1,
        reason:
          'health mental-health-services (mental-health): no agreement shares it with role health-visitor, purpose safeguarding',
      },
      {
        count: 1,
        reason: 'linked records: every entry of each of them is withheld, so the records are not shown',
      },
    ]);
    expect(visitor.access.breakGlass).toBeUndefined();
    expect(await world.log.next()).toMatchObject({
      user: 'demo-health-visitor',
      action: 'timeline',
      breakGlass: null,
    });
  });

  it('information governance lists the grants; nobody else may', async () => {
    const answer = await fetch(`${world.projection.url}/v1/governance/break-glass`, {
      headers: await world.access.headers('demo-ig-officer', 'information-governance'),
    });
    expect(answer.status).toBe(200);
    const { grants } = (await answer.json()) as { grants: Record<string, unknown>[] };
    expect(grants.map((listed) => [listed.userId, listed.reason])).toEqual([
      ['demo-school-dsl', REASON],
      ['demo-health-visitor', 'Emergency department attendance overnight, history needed'],
    ]);
    expect(grants[0]).toEqual(grant);
    expect(await world.log.next()).toMatchObject({
      user: 'demo-ig-officer',
      organisation: '991',
      purpose: 'information-governance',
      action: 'break-glass-review',
      outcome: 'ok',
      grantedRoles: 'ig-officer',
      returned: 2,
      childKeys: [childKey],
    });

    const refused = await fetch(`${world.projection.url}/v1/governance/break-glass`, {
      headers: await world.access.headers('demo-school-dsl', 'safeguarding'),
    });
    expect(refused.status).toBe(403);
    expect(await world.log.next()).toMatchObject({
      ...dsl,
      action: 'break-glass-review',
      outcome: 'FORBIDDEN',
    });
  });
});

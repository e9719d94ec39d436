import { buildEvent, freshNhsNumber, freshRecordId, freshUpn } from '@throughline/testing';
import { childKeyOf } from '@throughline/timeline';
import { projectionUnderTest } from './projection.test-helper';

/**
 * A slice of the authorisation matrix (libs/access/authorisation-matrix.unit.spec.ts) over HTTP,
 * with real tokens from the local OpenID provider and the demo policy: each demo person asks for
 * one child's lookup and timeline with a purpose their roles allow (200, with exactly what the
 * policy withholds and why) and one they do not (403); each call's access record is read back.
 */

const BORN = '2012-05-14';
const nhsNumber = freshNhsNumber();
const upn = freshUpn();
const records = {
  gp: freshRecordId('gp'),
  camhs: freshRecordId('mh'),
  ed: freshRecordId('ed'),
  pupil: freshRecordId('pupil'),
  case: freshRecordId('case'),
};
const healthSubject = (recordId: string) => ({ recordId, nhsNumber, dateOfBirth: BORN });
const at = (day: number) => `2026-03-${String(day).padStart(2, '0')}T10:00:00Z`;

/** One child known to every agency: each entry recorded by an organisation the demo policy names. */
const CHILD = [
  buildEvent('health.immunisation.given', {
    occurredAt: at(1),
    source: { organisation: 'DEMO-GP' },
    subject: healthSubject(records.gp),
  }),
  buildEvent('health.camhs.referred', {
    occurredAt: at(2),
    source: { organisation: 'DEMO-MHT' },
    subject: healthSubject(records.camhs),
  }),
  buildEvent('health.safeguarding-concern.raised', {
    occurredAt: at(3),
    source: { organisation: 'DEMO-ED' },
    subject: healthSubject(records.ed),
  }),
  buildEvent('education.attendance.summarised', {
    occurredAt: at(4),
    source: { organisation: '990202' },
    subject: { recordId: records.pupil, upn, dateOfBirth: BORN },
  }),
  buildEvent('social-care.child-protection-plan.started', {
    occurredAt: at(5),
    source: { organisation: '991' },
    subject: { recordId: records.case, nhsNumber, upn, dateOfBirth: BORN },
  }),
  buildEvent('practice.decision.recorded', {
    occurredAt: at(6),
    source: { organisation: '991' },
    subject: { recordId: records.case, nhsNumber, upn, dateOfBirth: BORN },
  }),
];
const childKey = childKeyOf(`health-${records.gp}`);

const world = projectionUnderTest({ name: 'authorisation', events: CHILD });

const LINKED_RECORDS_WITHHELD = (count: number) => ({
  count,
  reason: 'linked records: every entry of each of them is withheld, so the records are not shown',
});
const withheld = (reason: string) => ({ count: 1, reason });

interface Allowed {
  readonly user: string;
  readonly organisation: string;
  readonly purpose: string;
  /** The roles the access is granted under, space-separated as recorded. */
  readonly roles: string;
  /** Entry type → how it is shared (`own-organisation` or `agreement id@1`); types absent are withheld. */
  readonly visible: Readonly<Record<string, string>>;
  readonly withheld: readonly { count: number; reason: string }[];
}

const own = 'own-organisation';
const SLICE: readonly (Allowed & { readonly refusedPurpose: string; readonly refusal: string })[] = [
  {
    user: 'demo-social-worker',
    organisation: '991',
    purpose: 'safeguarding',
    roles: 'social-worker',
    visible: {
      'health.immunisation.given': 'vale-health-to-childrens-services@1',
      'health.camhs.referred': 'vale-camhs-safeguarding@1',
      'health.safeguarding-concern.raised': 'vale-health-to-childrens-services@1',
      'education.attendance.summarised': 'vale-education-to-partners@1',
      'social-care.child-protection-plan.started': own,
      'practice.decision.recorded': own,
    },
    withheld: [],
    refusedPurpose: 'supervision',
    refusal: 'role social-worker may not timeline:read for purpose supervision',
  },
  {
    user: 'demo-supervisor',
    organisation: '991',
    purpose: 'supervision',
    roles: 'supervisor',
    visible: {
      'health.immunisation.given': 'vale-health-to-childrens-services@1',
      'health.safeguarding-concern.raised': 'vale-health-to-childrens-services@1',
      'education.attendance.summarised': 'vale-education-to-partners@1',
      'social-care.child-protection-plan.started': own,
      'practice.decision.recorded': own,
    },
    withheld: [
      withheld(
        'health mental-health-services (mental-health): no agreement shares it with role supervisor, purpose supervision',
      ),
      LINKED_RECORDS_WITHHELD(1),
    ],
    refusedPurpose: 'identity-review',
    refusal: 'role supervisor, social-worker may not timeline:read for purpose identity-review',
  },
  {
    user: 'demo-health-visitor',
    organisation: 'DEMO-CHS',
    purpose: 'direct-care',
    roles: 'health-visitor',
    visible: {
      'health.immunisation.given': 'vale-health-within-health@1',
      'health.safeguarding-concern.raised': 'vale-health-within-health@1',
      'education.attendance.summarised': 'vale-education-to-partners@1',
    },
    withheld: [
      withheld(
        'health mental-health-services (mental-health): no agreement shares it with role health-visitor, purpose direct-care',
      ),
      withheld(
        'social-care child-protection: no agreement shares it with role health-visitor, purpose direct-care',
      ),
      withheld('social-care practice: no agreement shares it with role health-visitor, purpose direct-care'),
      LINKED_RECORDS_WITHHELD(2),
    ],
    refusedPurpose: 'supervision',
    refusal: 'role health-visitor may not timeline:read for purpose supervision',
  },
  {
    user: 'demo-camhs-clinician',
    organisation: 'DEMO-MHT',
    purpose: 'safeguarding',
    roles: 'camhs-clinician',
    visible: {
      'health.immunisation.given': 'vale-health-within-health@1',
      'health.camhs.referred': own,
      'health.safeguarding-concern.raised': 'vale-health-within-health@1',
      'education.attendance.summarised': 'vale-education-to-partners@1',
      'social-care.child-protection-plan.started': 'vale-childrens-services-to-partners@1',
      'practice.decision.recorded': 'vale-childrens-services-to-partners@1',
    },
    withheld: [],
    refusedPurpose: 'information-governance',
    refusal: 'role camhs-clinician may not timeline:read for purpose information-governance',
  },
  {
    user: 'demo-school-dsl',
    organisation: '990201',
    purpose: 'safeguarding',
    roles: 'school-dsl',
    visible: {
      'health.safeguarding-concern.raised': 'vale-health-to-schools@1',
      'social-care.child-protection-plan.started': 'vale-childrens-services-to-partners@1',
      'practice.decision.recorded': 'vale-childrens-services-to-partners@1',
    },
    withheld: [
      withheld(
        'education school-attendance: no agreement shares it with role school-dsl, purpose safeguarding',
      ),
      withheld('health immunisation: no agreement shares it with role school-dsl, purpose safeguarding'),
      withheld(
        'health mental-health-services (mental-health): no agreement shares it with role school-dsl, purpose safeguarding',
      ),
      LINKED_RECORDS_WITHHELD(3),
    ],
    refusedPurpose: 'direct-care',
    refusal: 'role school-dsl may not timeline:read for purpose direct-care',
  },
];

/** Users who may not look a child up or read any chronology, whatever purpose they state. */
const NEVER = [
  { user: 'demo-analyst', roles: 'analyst', purpose: 'analysis' },
  { user: 'demo-analyst', roles: 'analyst', purpose: 'safeguarding' },
  { user: 'demo-ig-officer', roles: 'ig-officer', purpose: 'information-governance' },
];

interface TimelineAnswer {
  childKey: string;
  entries: { type: string; sharedUnder: { basis: string; agreement?: string } }[];
  withheld: { count: number; reason: string }[];
  access: { purpose: string; roles: string[]; policyVersion: number; breakGlass?: unknown };
}

async function lookup(user: string, purpose: string): Promise<Response> {
  return fetch(`${world.projection.url}/v1/children/lookup`, {
    method: 'POST',
    headers: await world.access.headers(user, purpose, { 'content-type': 'application/json' }),
    body: JSON.stringify({ identifier: { type: 'nhs-number', value: nhsNumber } }),
  });
}

async function timeline(user: string, purpose: string): Promise<Response> {
  return fetch(`${world.projection.url}/v1/children/${childKey}/timeline`, {
    headers: await world.access.headers(user, purpose),
  });
}

describe('the authorisation matrix over HTTP (demo policy, demo people)', () => {
  it('the child is one chronology of six entries from five records', async () => {
    const answer = await timeline('demo-social-worker', 'safeguarding');
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as TimelineAnswer).entries).toHaveLength(6);
    await world.log.skip();
  });

  for (const row of SLICE) {
    it(`${row.user}: lookup and timeline for ${row.purpose} answer what the policy shares, and say what it withholds`, async () => {
      const found = await lookup(row.user, row.purpose);
      expect(found.status).toBe(200);
      expect(await found.json()).toEqual({ childKey });
      const recorded = {
        user: row.user,
        organisation: row.organisation,
        purpose: row.purpose,
        grantedRoles: row.roles,
        policyVersion: 1,
        outcome: 'ok',
        childKey,
      };
      expect(await world.log.next()).toMatchObject({
        ...recorded,
        action: 'lookup',
        returned: 1,
        withheld: [],
      });

      const answer = await timeline(row.user, row.purpose);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      const body = (await answer.json()) as TimelineAnswer;
      const shared = Object.fromEntries(
        body.entries.map((entry) => [
          entry.type,
          entry.sharedUnder.basis === 'agreement' ? entry.sharedUnder.agreement : entry.sharedUnder.basis,
        ]),
      );
      expect(shared).toEqual(row.visible);
      expect(body.withheld).toEqual(row.withheld);
      expect(body.access).toEqual({ purpose: row.purpose, roles: row.roles.split(' '), policyVersion: 1 });
      const agreements = [...new Set(Object.values(row.visible).filter((basis) => basis !== own))].sort();
      // (extra may carry a CP-IS access notification: libs/notifications' own tests check it.)
      expect(await world.log.next()).toMatchObject({
        ...recorded,
        action: 'timeline',
        requestedChildKey: childKey,
        childKeys: null,
        returned: Object.keys(row.visible).length,
        withheld: row.withheld,
        agreements: agreements.length > 0 ? agreements : null,
        breakGlass: null,
        refusal: null,
      });
    });

    it(`${row.user}: 403 for ${row.refusedPurpose}, recorded with the rule`, async () => {
      const found = await lookup(row.user, row.refusedPurpose);
      expect(found.status).toBe(403);
      expect(await world.log.next()).toMatchObject({
        refusal: `not allowed: ${row.refusal.replace('timeline:read', 'child:lookup')}`,
        user: row.user,
        action: 'lookup',
        purpose: row.refusedPurpose,
        outcome: 'FORBIDDEN',
        grantedRoles: null,
        childKey: null,
        returned: 0,
      });
      const answer = await timeline(row.user, row.refusedPurpose);
      expect(answer.status).toBe(403);
      expect(await answer.json()).toEqual({ error: 'FORBIDDEN', message: `not allowed: ${row.refusal}` });
      expect(await world.log.next()).toMatchObject({
        user: row.user,
        organisation: row.organisation,
        purpose: row.refusedPurpose,
        action: 'timeline',
        outcome: 'FORBIDDEN',
        grantedRoles: null,
        policyVersion: 1,
        requestedChildKey: childKey,
        childKey: null,
        returned: 0,
        withheld: [],
        refusal: `not allowed: ${row.refusal}`,
      });
    });
  }

  for (const { user, roles, purpose } of NEVER)
    it(`${user}: 403 on lookup and timeline for ${purpose}`, async () => {
      for (const [action, permission, call] of [
        ['lookup', 'child:lookup', lookup],
        ['timeline', 'timeline:read', timeline],
      ] as const) {
        const answer = await call(user, purpose);
        expect([action, answer.status]).toEqual([action, 403]);
        expect(await world.log.next()).toMatchObject({
          user,
          action,
          purpose,
          outcome: 'FORBIDDEN',
          childKey: null,
          returned: 0,
          refusal: `not allowed: role ${roles} may not ${permission} for purpose ${purpose}`,
        });
      }
    });

  it('refuses a purpose the policy does not know, naming the purposes it does', async () => {
    const answer = await timeline('demo-social-worker', 'curiosity');
    expect(answer.status).toBe(403);
    expect(((await answer.json()) as { message: string }).message).toContain(
      'purpose "curiosity" is not one of the policy\'s purposes (direct-care, safeguarding',
    );
    expect(await world.log.next()).toMatchObject({
      user: 'demo-social-worker',
      purpose: 'curiosity',
      outcome: 'FORBIDDEN',
    });
  });

  it('refuses the analyst on every identifiable route, whatever the purpose', async () => {
    const headers = await world.access.headers('demo-analyst', 'analysis', {
      'content-type': 'application/json',
    });
    const calls: [string, string, unknown?][] = [
      ['POST', '/v1/children/lookup', { identifier: { type: 'nhs-number', value: nhsNumber } }],
      ['GET', `/v1/children/${childKey}/timeline`],
      [
        'POST',
        `/v1/children/${childKey}/break-glass`,
        { reason: 'analysis needs everything, please let me in' },
      ],
      ['GET', '/v1/identity/proposals'],
      ['GET', '/v1/identity/conflicts'],
      ['POST', '/v1/identity/unlink', { agency: 'health', recordId: records.camhs, reason: 'analysis' }],
      ['GET', '/v1/governance/policy'],
      ['GET', '/v1/governance/break-glass'],
    ];
    for (const [method, path, body] of calls) {
      const answer = await fetch(`${world.projection.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect([method, path, answer.status]).toEqual([method, path, 403]);
      expect(await world.log.next()).toMatchObject({
        user: 'demo-analyst',
        purpose: 'analysis',
        outcome: 'FORBIDDEN',
      });
    }
  });
});

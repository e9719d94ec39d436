import { readFileSync } from 'node:fs';
import { parseAccessPolicy } from '@throughline/access';
import { buildEvent, DEMO_POLICY_FILE, freshNhsNumber, freshRecordId } from '@throughline/testing';
import { childKeyOf } from '@throughline/timeline';
import { projectionUnderTest } from './projection.test-helper';

/**
 * Changing the access policy without a deploy: the information-governance officer replaces it
 * (here: the CAMHS agreement is withdrawn), a new version is in force at once, the next read
 * withholds what it no longer covers and names the new version; an invalid document changes
 * nothing and is refused naming the field and rule; nobody else may change it.
 */

const BORN = '2013-01-20';
const nhsNumber = freshNhsNumber();
const gpRecord = freshRecordId('gp');
const CHILD = [
  buildEvent('health.immunisation.given', {
    occurredAt: '2026-02-01T09:00:00Z',
    source: { organisation: 'DEMO-GP' },
    subject: { recordId: gpRecord, nhsNumber, dateOfBirth: BORN },
  }),
  buildEvent('health.camhs.referred', {
    occurredAt: '2026-02-02T09:00:00Z',
    source: { organisation: 'DEMO-MHT' },
    subject: { recordId: freshRecordId('mh'), nhsNumber, dateOfBirth: BORN },
  }),
];
const childKey = childKeyOf(`health-${gpRecord}`);

type PolicyDocument = { title: string; agreements: { id: string; [field: string]: unknown }[] } & Record<
  string,
  unknown
>;
const DEMO = JSON.parse(readFileSync(DEMO_POLICY_FILE, 'utf8')) as PolicyDocument;
const WITHOUT_CAMHS: PolicyDocument = {
  ...DEMO,
  agreements: DEMO.agreements.filter((agreement) => agreement.id !== 'vale-camhs-safeguarding'),
};
const CHANGE_REASON = 'DEMO-MHT withdrew from the CAMHS sharing agreement pending its review';

const world = projectionUnderTest({ name: 'policy-change', events: CHILD });

interface TimelineAnswer {
  entries: { type: string; sharedUnder: { basis: string; agreement?: string } }[];
  withheld: { count: number; reason: string }[];
  access: { policyVersion: number };
}

async function socialWorkersTimeline(): Promise<TimelineAnswer> {
  const answer = await fetch(`${world.projection.url}/v1/children/${childKey}/timeline`, {
    headers: await world.access.headers('demo-social-worker', 'safeguarding'),
  });
  expect(answer.status).toBe(200);
  return (await answer.json()) as TimelineAnswer;
}

async function governance(
  method: 'GET' | 'PUT',
  path: string,
  options: { user?: string; purpose?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${world.projection.url}/v1/governance/${path}`, {
    method,
    headers: await world.access.headers(
      options.user ?? 'demo-ig-officer',
      options.purpose ?? 'information-governance',
      {
        'content-type': 'application/json',
      },
    ),
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const officer = {
  user: 'demo-ig-officer',
  organisation: '991',
  purpose: 'information-governance',
};

describe('changing the access policy', () => {
  it('version 1 (the demo policy) shares CAMHS with the social worker for safeguarding', async () => {
    const before = await socialWorkersTimeline();
    expect(before.entries.map((entry) => entry.sharedUnder)).toEqual([
      { basis: 'agreement', agreement: 'vale-health-to-childrens-services@1' },
      { basis: 'agreement', agreement: 'vale-camhs-safeguarding@1' },
    ]);
    expect(before.access.policyVersion).toBe(1);
    expect(await world.log.next()).toMatchObject({
      user: 'demo-social-worker',
      policyVersion: 1,
      withheld: [],
    });

    const current = await governance('GET', 'policy');
    expect(current.status).toBe(200);
    expect(current.body).toEqual({ version: 1, policy: parseAccessPolicy(DEMO) });
    expect(await world.log.next()).toMatchObject({
      ...officer,
      action: 'policy-read',
      outcome: 'ok',
      policyVersion: 1,
    });
  });

  it('refuses an invalid document with 400 naming the field and rule, and changes nothing', async () => {
    const broken = structuredClone(WITHOUT_CAMHS);
    const index = broken.agreements.findIndex((agreement) => agreement.id === 'vale-health-within-health');
    // Special categories (genetic) with no article 9 condition; and a recipient role nobody has.
    (broken.agreements[index].legalBasis as Record<string, unknown>).article9 = undefined;
    (broken.agreements[index].recipients as { roles: string[] }).roles.push('school-nurse');
    const refused = await governance('PUT', 'policy', { body: { reason: CHANGE_REASON, policy: broken } });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'VALIDATION' });
    expect(refused.body.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: `body.policy.agreements.${index}.legalBasis.article9`,
          rule: 'article-9-required',
        }),
        expect.objectContaining({
          path: `body.policy.agreements.${index}.recipients.roles.2`,
          rule: 'known-role',
        }),
      ]),
    );
    expect(await world.log.next()).toMatchObject({
      ...officer,
      action: 'policy-change',
      outcome: 'VALIDATION',
    });

    const noReason = await governance('PUT', 'policy', { body: { policy: WITHOUT_CAMHS } });
    expect(noReason.status).toBe(400);
    expect(noReason.body).toMatchObject({ issues: [expect.objectContaining({ path: 'body.reason' })] });
    expect(await world.log.next()).toMatchObject({
      ...officer,
      action: 'policy-change',
      outcome: 'VALIDATION',
    });

    const versions = await governance('GET', 'policy/versions');
    expect((versions.body.versions as { version: number }[]).map((version) => version.version)).toEqual([1]);
    expect(await world.log.next()).toMatchObject({ ...officer, action: 'policy-versions', outcome: 'ok' });
  });

  it('refuses anyone but information governance (403), and changes nothing', async () => {
    const socialWorker = await governance('PUT', 'policy', {
      user: 'demo-social-worker',
      purpose: 'safeguarding',
      body: { reason: CHANGE_REASON, policy: WITHOUT_CAMHS },
    });
    expect(socialWorker.status).toBe(403);
    expect(socialWorker.body).toEqual({
      error: 'FORBIDDEN',
      message: 'not allowed: role social-worker may not policy:change for purpose safeguarding',
    });
    expect(await world.log.next()).toMatchObject({
      user: 'demo-social-worker',
      action: 'policy-change',
      outcome: 'FORBIDDEN',
      grantedRoles: null,
    });
    // The officer too, when the purpose is not information governance.
    const wrongPurpose = await governance('PUT', 'policy', {
      purpose: 'data-quality',
      body: { reason: CHANGE_REASON, policy: WITHOUT_CAMHS },
    });
    expect(wrongPurpose.status).toBe(403);
    expect(await world.log.next()).toMatchObject({
      ...officer,
      purpose: 'data-quality',
      outcome: 'FORBIDDEN',
    });
    expect((await socialWorkersTimeline()).access.policyVersion).toBe(1);
    expect(await world.log.next()).toMatchObject({ user: 'demo-social-worker', policyVersion: 1 });
  });

  it('puts a new version in force at once: the next read withholds what it no longer covers, under version 2', async () => {
    const changed = await governance('PUT', 'policy', {
      body: { reason: CHANGE_REASON, policy: WITHOUT_CAMHS },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({
      version: 2,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      loadedAt: expect.any(String),
      loadedBy: 'demo-ig-officer',
      organisation: '991',
      reason: CHANGE_REASON,
      title: DEMO.title,
      agreements: DEMO.agreements.length - 1,
    });
    expect(await world.log.next()).toMatchObject({
      ...officer,
      action: 'policy-change',
      outcome: 'ok',
      grantedRoles: 'ig-officer',
      policyVersion: 1,
      extra: { policyVersion: 2, sha256: changed.body.sha256, reason: CHANGE_REASON },
    });

    const after = await socialWorkersTimeline();
    const withheld = [
      {
        count: 1,
        reason:
          'health mental-health-services (mental-health): no agreement shares it with role social-worker, purpose safeguarding',
      },
      {
        count: 1,
        reason: 'linked records: every entry of each of them is withheld, so the records are not shown',
      },
    ];
    expect(after.entries.map((entry) => entry.type)).toEqual(['health.immunisation.given']);
    expect(after.withheld).toEqual(withheld);
    expect(after.access.policyVersion).toBe(2);
    expect(await world.log.next()).toMatchObject({
      user: 'demo-social-worker',
      action: 'timeline',
      policyVersion: 2,
      returned: 1,
      withheld,
      agreements: ['vale-health-to-childrens-services@1'],
    });
  });

  it('lists both versions, newest first, with who loaded each and why', async () => {
    const versions = await governance('GET', 'policy/versions');
    expect(versions.status).toBe(200);
    expect(versions.body.versions).toEqual([
      expect.objectContaining({
        version: 2,
        loadedBy: 'demo-ig-officer',
        organisation: '991',
        reason: CHANGE_REASON,
        agreements: DEMO.agreements.length - 1,
      }),
      expect.objectContaining({
        version: 1,
        loadedBy: 'seed:access-policy.demo.json',
        reason: 'first start: seeded from ACCESS_POLICY_FILE',
        agreements: DEMO.agreements.length,
      }),
    ]);
    expect(await world.log.next()).toMatchObject({
      ...officer,
      action: 'policy-versions',
      outcome: 'ok',
      policyVersion: 2,
    });
    const current = await governance('GET', 'policy');
    expect(current.body).toEqual({ version: 2, policy: parseAccessPolicy(WITHOUT_CAMHS) });
    expect(await world.log.next()).toMatchObject({ ...officer, action: 'policy-read', policyVersion: 2 });
  });
});

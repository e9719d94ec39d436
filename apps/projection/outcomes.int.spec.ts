import { join } from 'node:path';
import type { AgencyEvent } from '@throughline/contracts';
import { projectRoot } from '@throughline/platform';
import { buildEvent, freshNhsNumber, freshRecordId, freshUpn } from '@throughline/testing';
import { childKeyOf } from '@throughline/timeline';
import { projectionUnderTest } from './projection.test-helper';

/**
 * Outcomes, decisions, reviews due and the frameworks over HTTP (decision 015), with real tokens
 * from the local OpenID provider, the demo access policy and the seeded frameworks: each answer
 * is derived from the entries the policy lets the reader see, carries the chronology's withheld
 * and access, and writes one access record; a framework change is a new version used at once.
 */

const FRAMEWORKS_FILE = join(projectRoot(), 'infra', 'outcome-frameworks.json');

const BORN = '2016-02-20';
const nhsNumber = freshNhsNumber();
const upn = freshUpn();
const caseRecord = freshRecordId('case');
const careSubject = { recordId: caseRecord, nhsNumber, upn, dateOfBirth: BORN };
const careSource = { agency: 'social-care' as const, system: 'demo-case-system', organisation: '991' };

const day = (offset: number): string => {
  const at = new Date();
  at.setUTCDate(at.getUTCDate() + offset);
  return at.toISOString().slice(0, 10);
};
const today = day(0);

// Ratings on fixed dates in one term (autumn 2025/26): the family's 6 and the social worker's 2
// on the 0-10 safety scale differ by 0.4 of its range, over the 0.3 threshold.
const professionalRating = buildEvent('outcome.observation.recorded', {
  occurredAt: '2025-10-06T10:00:00Z',
  source: careSource,
  subject: careSubject,
  data: {
    framework: 'signs-of-safety',
    domain: 'safety',
    perspective: 'professional',
    observerRole: 'social worker',
    observerAgency: 'social-care',
    observedOn: '2025-10-06',
    narrative: 'Synthetic: evenings are still unsupervised.',
    rating: { scale: 'sos-safety', value: 2, min: 0, max: 10 },
    confidence: 'high',
  },
});
const familyRating = buildEvent('outcome.observation.recorded', {
  occurredAt: '2025-10-07T10:00:00Z',
  source: careSource,
  subject: careSubject,
  data: {
    framework: 'signs-of-safety',
    domain: 'safety',
    perspective: 'family',
    observerRole: 'mother',
    observedOn: '2025-10-07',
    narrative: 'Synthetic: we have sorted it out.',
    rating: { scale: 'sos-safety', value: 6, min: 0, max: 10 },
    confidence: 'medium',
  },
});
const viewsDiffer = buildEvent('practice.views.differ', {
  occurredAt: '2025-10-08T10:00:00Z',
  source: careSource,
  subject: careSubject,
  data: {
    recordedOn: '2025-10-08',
    about: [professionalRating.eventId, familyRating.eventId],
    framework: 'signs-of-safety',
    domain: 'safety',
  },
});
const attendance = buildEvent('education.attendance.summarised', {
  occurredAt: '2026-01-05T10:00:00Z',
  source: { organisation: '990202' },
  subject: { recordId: freshRecordId('pupil'), upn, dateOfBirth: BORN },
  data: {
    academicYear: '2025/26',
    term: 'autumn',
    sessionsPossible: 140,
    authorisedAbsence: 12,
    unauthorisedAbsence: 9,
  },
});

const decision = (options: { decidedOn: string; reviewDate: string; team: string; decision: string }) =>
  buildEvent('practice.decision.recorded', {
    occurredAt: `${options.decidedOn}T10:00:00Z`,
    source: careSource,
    subject: careSubject,
    data: {
      decidedOn: options.decidedOn,
      decision: options.decision,
      reviewDate: options.reviewDate,
      team: options.team,
      expectedOutcomes: [
        { framework: 'signs-of-safety', domain: 'safety', lookFor: 'Synthetic: everyone at 6.' },
      ],
    },
  });
/** Due within REVIEW_DUE_DAYS (14): review-due. */
const planDecision = decision({
  decidedOn: '2025-10-01',
  reviewDate: day(7),
  team: 'Assessment team 2',
  decision: 'Synthetic: child protection plan under neglect.',
});
/** Another team's, due in three days. */
const otherTeamsDecision = decision({
  decidedOn: '2025-10-02',
  reviewDate: day(3),
  team: 'Assessment team 1',
  decision: 'Synthetic: family group conference.',
});
/** Ended at its review: in the child's decisions as reviewed, never in reviews due. */
const endedDecision = decision({
  decidedOn: '2025-08-01',
  reviewDate: '2025-09-15',
  team: 'Assessment team 2',
  decision: 'Synthetic: section 47 enquiry.',
});
const endingReview = buildEvent('practice.decision.reviewed', {
  occurredAt: '2025-09-15T10:00:00Z',
  source: careSource,
  subject: careSubject,
  data: {
    decisionId: endedDecision.eventId,
    reviewedOn: '2025-09-15',
    outcome: 'ended',
    nextReviewDate: undefined,
  },
});
/** A CAMHS clinician's decision touching mental health: no agreement shares it for supervision. */
const camhsDecision = buildEvent('practice.decision.recorded', {
  occurredAt: '2025-10-03T10:00:00Z',
  source: { agency: 'health', system: 'demo-mh-system', organisation: 'DEMO-MHT' },
  subject: {
    recordId: freshRecordId('mh'),
    nhsNumber,
    dateOfBirth: BORN,
    laChildId: undefined,
    laCode: undefined,
  },
  specialCategories: ['mental-health'],
  data: {
    decidedOn: '2025-10-03',
    decision: 'Synthetic: weekly CAMHS sessions.',
    reviewDate: day(2),
    team: 'Assessment team 2',
    decidedBy: { role: 'camhs clinician', agency: 'health' },
  },
});

const EVENTS: AgencyEvent[] = [
  endedDecision,
  endingReview,
  planDecision,
  otherTeamsDecision,
  camhsDecision,
  professionalRating,
  familyRating,
  viewsDiffer,
  attendance,
];
const childKey = childKeyOf(`social-care-${caseRecord}`);

const world = projectionUnderTest({
  name: 'outcomes',
  events: EVENTS,
  env: { OUTCOME_FRAMEWORKS_FILE: FRAMEWORKS_FILE },
});

type Body = Record<string, unknown> & {
  withheld?: { count: number; reason: string }[];
  access?: Record<string, unknown>;
  issues?: { path: string; rule?: string }[];
};

async function call(
  user: string,
  purpose: string,
  path: string,
  options: { method?: 'GET' | 'PUT' | 'POST'; body?: unknown } = {},
): Promise<{ status: number; body: Body }> {
  const response = await fetch(`${world.projection.url}${path}`, {
    method: options.method ?? 'GET',
    headers: await world.access.headers(user, purpose, { 'content-type': 'application/json' }),
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

interface DomainAnswer {
  domain: string;
  series: {
    perspective: string;
    points: { value: number; normalised: number; disagreesWith?: string[]; age?: unknown }[];
  }[];
  indicators: { name: string; periods: { academicYear: string; term?: string; withoutAccount: boolean }[] }[];
  disagreements: { difference: number; between: { perspective: string }[] }[];
  viewsDiffer: { eventId: string }[];
  facts: { type: string }[];
}
const domain = (body: Body, id: string): DomainAnswer => {
  const found = (body.domains as DomainAnswer[]).find((d) => d.domain === id);
  if (!found) throw new Error(`no domain ${id}`);
  return found;
};
const SOCIAL_WORKER = 'professional:social-care:social worker';

describe('GET /v1/children/{childKey}/outcomes', () => {
  it('gives each perspective its own series, marks their disagreement, lists the recorded differing views', async () => {
    const { status, body } = await call(
      'demo-social-worker',
      'safeguarding',
      `/v1/children/${childKey}/outcomes?framework=signs-of-safety`,
    );
    expect(status).toBe(200);
    const safety = domain(body, 'safety');
    expect(safety.series.map((s) => s.perspective).sort()).toEqual(['family', SOCIAL_WORKER]);
    expect(safety.series.find((s) => s.perspective === 'family')?.points).toEqual([
      expect.objectContaining({
        value: 6,
        normalised: 0.6,
        disagreesWith: [SOCIAL_WORKER],
        age: { years: 9, months: 7 },
      }),
    ]);
    expect(safety.disagreements).toEqual([
      expect.objectContaining({ academicYear: '2025/26', term: 'autumn', difference: 0.4 }),
    ]);
    expect(safety.viewsDiffer.map((v) => v.eventId)).toEqual([viewsDiffer.eventId]);
    expect(body).toMatchObject({
      childKey,
      framework: { id: 'signs-of-safety', version: 1 },
      period: 'term',
      threshold: 0.3,
      withheld: [
        {
          count: 1,
          reason: 'mental-health: no agreement covers it for role social-worker, purpose safeguarding',
        },
        {
          count: 1,
          reason: 'linked records: every entry of each of them is withheld, so the records are not shown',
        },
      ],
      access: { purpose: 'safeguarding', roles: ['social-worker'], policyVersion: 1 },
    });
    expect(await world.log.next()).toMatchObject({
      user: 'demo-social-worker',
      action: 'outcomes',
      outcome: 'ok',
      childKey,
      returned: EVENTS.length - 1, // the CAMHS decision is withheld
    });
  });

  it('derives nothing from what the policy withholds: a health visitor sees attendance, no social-care rating', async () => {
    const { status, body } = await call(
      'demo-health-visitor',
      'direct-care',
      `/v1/children/${childKey}/outcomes?framework=ecm`,
    );
    expect(status).toBe(200);
    const staySafe = domain(body, 'stay-safe');
    expect(staySafe.series).toEqual([]);
    expect(staySafe.viewsDiffer).toEqual([]);
    expect(domain(body, 'enjoy-and-achieve').indicators).toEqual([
      expect.objectContaining({
        name: 'attendance',
        periods: [expect.objectContaining({ academicYear: '2025/26', term: 'autumn', withoutAccount: true })],
      }),
    ]);
    const timeline = await call('demo-health-visitor', 'direct-care', `/v1/children/${childKey}/timeline`);
    expect(body.withheld).toEqual(timeline.body.withheld);
    expect(body.withheld).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          reason: expect.stringContaining('social-care practice: no agreement shares it'),
        }),
      ]),
    );
    const [outcomesRecord, timelineRecord] = await world.log.sinceLastRead();
    expect(outcomesRecord).toMatchObject({ action: 'outcomes', childKey, withheld: timelineRecord.withheld });
    expect(timelineRecord).toMatchObject({ action: 'timeline', childKey });
  });

  it('refuses a bad query with 400 naming the field and rule, and an unknown framework with 404', async () => {
    const period = await call(
      'demo-social-worker',
      'safeguarding',
      `/v1/children/${childKey}/outcomes?period=month`,
    );
    expect(period.status).toBe(400);
    expect(period.body.issues).toEqual([expect.objectContaining({ path: 'query.period' })]);
    expect(await world.log.next()).toMatchObject({ action: 'outcomes', outcome: 'VALIDATION' });

    const backwards = await call(
      'demo-social-worker',
      'safeguarding',
      `/v1/children/${childKey}/outcomes?from=2025-12-01&to=2025-09-01`,
    );
    expect(backwards.status).toBe(400);
    expect(backwards.body.issues).toEqual([
      expect.objectContaining({ path: 'query.to', rule: 'not-before-from' }),
    ]);
    expect(await world.log.next()).toMatchObject({ action: 'outcomes', outcome: 'VALIDATION' });

    const unknown = await call(
      'demo-social-worker',
      'safeguarding',
      `/v1/children/${childKey}/outcomes?framework=astrology`,
    );
    expect(unknown.status).toBe(404);
    expect(await world.log.next()).toMatchObject({ action: 'outcomes', outcome: 'NOT_FOUND' });
  });

  it('is refused to a purpose the reader may not read a chronology for', async () => {
    const refused = await call('demo-social-worker', 'supervision', `/v1/children/${childKey}/outcomes`);
    expect(refused.status).toBe(403);
    expect(await world.log.next()).toMatchObject({ action: 'outcomes', outcome: 'FORBIDDEN' });
  });
});

describe('GET /v1/children/{childKey}/decisions', () => {
  it('gives each visible decision its status and reviews; the withheld one is counted, not shown', async () => {
    const { status, body } = await call(
      'demo-social-worker',
      'safeguarding',
      `/v1/children/${childKey}/decisions`,
    );
    expect(status).toBe(200);
    const decisions = body.decisions as {
      eventId: string;
      status: string;
      reviews: unknown[];
      since: { byPerspective: { perspective: string }[] };
    }[];
    const byId = new Map(decisions.map((d) => [d.eventId, d]));
    expect([...byId.keys()].sort()).toEqual(
      [endedDecision.eventId, planDecision.eventId, otherTeamsDecision.eventId].sort(),
    );
    expect(byId.get(planDecision.eventId)).toMatchObject({
      status: 'review-due',
      team: 'Assessment team 2',
      reviews: [],
    });
    expect(
      byId
        .get(planDecision.eventId)
        ?.since.byPerspective.map((p) => p.perspective)
        .sort(),
    ).toEqual(['family', SOCIAL_WORKER]);
    expect(byId.get(endedDecision.eventId)).toMatchObject({
      status: 'reviewed',
      reviews: [expect.objectContaining({ outcome: 'ended', reviewedOn: '2025-09-15' })],
    });
    expect(body).toMatchObject({
      childKey,
      today,
      reviewDueDays: 14,
      withheld: [
        {
          count: 1,
          reason: 'mental-health: no agreement covers it for role social-worker, purpose safeguarding',
        },
        expect.objectContaining({ reason: expect.stringContaining('linked records') }),
      ],
    });
    expect(await world.log.next()).toMatchObject({ action: 'decisions', outcome: 'ok', childKey });
  });
});

describe('GET /v1/reviews/due', () => {
  it("lists a supervisor's reviews due across children, only those the policy shares, in one access record", async () => {
    const { status, body } = await call('demo-supervisor', 'supervision', '/v1/reviews/due');
    expect(status).toBe(200);
    expect(body).toEqual({
      before: day(14),
      reviews: [
        expect.objectContaining({
          childKey,
          eventId: otherTeamsDecision.eventId,
          reviewDate: day(3),
          status: 'review-due',
        }),
        expect.objectContaining({
          childKey,
          eventId: planDecision.eventId,
          team: 'Assessment team 2',
          reviewDate: day(7),
          status: 'review-due',
          decidedOn: '2025-10-01',
        }),
      ],
      withheld: [
        {
          count: 1,
          reason: 'mental-health: no agreement covers it for role supervisor, purpose supervision',
        },
      ],
    });
    expect(await world.log.next()).toMatchObject({
      user: 'demo-supervisor',
      action: 'reviews-due',
      outcome: 'ok',
      childKeys: [childKey],
      returned: 2,
      withheld: [{ count: 1, reason: expect.stringContaining('mental-health: no agreement covers it') }],
    });
  });

  it('filters by team and date', async () => {
    const team = await call('demo-supervisor', 'supervision', '/v1/reviews/due?team=Assessment%20team%202');
    expect((team.body.reviews as { eventId: string }[]).map((r) => r.eventId)).toEqual([
      planDecision.eventId,
    ]);
    expect(await world.log.next()).toMatchObject({
      action: 'reviews-due',
      extra: { team: 'Assessment team 2' },
    });
    const soon = await call('demo-supervisor', 'supervision', `/v1/reviews/due?before=${day(4)}`);
    expect((soon.body.reviews as { eventId: string }[]).map((r) => r.eventId)).toEqual([
      otherTeamsDecision.eventId,
    ]);
    expect(await world.log.next()).toMatchObject({ action: 'reviews-due', childKeys: [childKey] });
  });

  it('refuses a bad date with 400, and a social worker with 403', async () => {
    const bad = await call('demo-supervisor', 'supervision', '/v1/reviews/due?before=next-week');
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([expect.objectContaining({ path: 'query.before' })]);
    expect(await world.log.next()).toMatchObject({ action: 'reviews-due', outcome: 'VALIDATION' });
    const refused = await call('demo-social-worker', 'safeguarding', '/v1/reviews/due');
    expect(refused.status).toBe(403);
    expect(await world.log.next()).toMatchObject({ action: 'reviews-due', outcome: 'FORBIDDEN' });
  });
});

describe('the outcome frameworks as versioned data', () => {
  it('version 1 is the seed file; a change is version 2, used by the next read with no rebuild', async () => {
    const current = await call('demo-analyst', 'analysis', '/v1/outcomes/frameworks');
    expect(current.status).toBe(200);
    expect(current.body.version).toBe(1);
    const document = current.body.frameworks as {
      frameworks: { id: string }[];
      mapping: Record<string, unknown[]>;
    };
    expect(document.frameworks.map((f) => f.id)).toEqual([
      'ecm',
      'signs-of-safety',
      'journey-of-change',
      'throughline-vale',
    ]);
    expect(await world.log.next()).toMatchObject({
      user: 'demo-analyst',
      action: 'frameworks-read',
      outcome: 'ok',
    });

    const changed = structuredClone(document) as typeof document & { frameworks: Record<string, unknown>[] };
    changed.frameworks.push({
      id: 'school-readiness',
      name: 'School readiness (synthetic)',
      source: 'int test',
      domains: [{ id: 'attending', label: 'Attending' }],
    });
    changed.mapping['education.attendance.summarised'] = [
      ...changed.mapping['education.attendance.summarised'],
      { framework: 'school-readiness', domain: 'attending' },
    ];
    const put = await call('demo-supervisor', 'service-management', '/v1/outcomes/frameworks', {
      method: 'PUT',
      body: { reason: 'Add the school readiness framework (int test)', frameworks: changed },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ version: 2, loadedBy: 'demo-supervisor', organisation: '991' });
    expect(await world.log.next()).toMatchObject({
      action: 'frameworks-change',
      outcome: 'ok',
      extra: { frameworksVersion: 2 },
    });

    const outcomes = await call(
      'demo-social-worker',
      'safeguarding',
      `/v1/children/${childKey}/outcomes?framework=school-readiness`,
    );
    expect(outcomes.status).toBe(200);
    expect(outcomes.body.framework).toMatchObject({ id: 'school-readiness', version: 2 });
    expect(domain(outcomes.body, 'attending').indicators.map((i) => i.name)).toEqual(['attendance']);
    expect(await world.log.next()).toMatchObject({ action: 'outcomes', outcome: 'ok' });

    const versions = await call('demo-social-worker', 'direct-care', '/v1/outcomes/frameworks/versions');
    expect(
      (versions.body.versions as { version: number; loadedBy: string }[]).map((v) => [v.version, v.loadedBy]),
    ).toEqual([
      [2, 'demo-supervisor'],
      [1, 'seed:outcome-frameworks.json'],
    ]);
    expect(await world.log.next()).toMatchObject({ action: 'frameworks-versions', outcome: 'ok' });
  });

  it('refuses an invalid document with 400 naming the field and rule, and changes nothing', async () => {
    const current = await call('demo-supervisor', 'service-management', '/v1/outcomes/frameworks');
    await world.log.skip();
    const broken = structuredClone(current.body.frameworks) as { mapping: Record<string, unknown> };
    broken.mapping['health.nipe.completed'] = [{ framework: 'ecm', domain: 'be-wealthy' }];
    const refused = await call('demo-supervisor', 'service-management', '/v1/outcomes/frameworks', {
      method: 'PUT',
      body: { reason: 'A broken mapping (int test)', frameworks: broken },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.issues).toEqual([
      expect.objectContaining({
        path: 'body.frameworks.mapping.health.nipe.completed.0.domain',
        rule: 'known-domain',
      }),
    ]);
    expect(await world.log.next()).toMatchObject({ action: 'frameworks-change', outcome: 'VALIDATION' });
    const after = await call('demo-supervisor', 'service-management', '/v1/outcomes/frameworks');
    expect(after.body.version).toBe(current.body.version);
    await world.log.skip();
  });

  it('lets only a role granted frameworks:change change them', async () => {
    const refused = await call('demo-social-worker', 'safeguarding', '/v1/outcomes/frameworks', {
      method: 'PUT',
      body: { reason: 'Not mine to change (int test)', frameworks: {} },
    });
    expect(refused.status).toBe(403);
    expect(await world.log.next()).toMatchObject({ action: 'frameworks-change', outcome: 'FORBIDDEN' });
  });
});

// Last: a break-glass grant lasts, and would change what the social worker sees above.
describe('break-glass', () => {
  it('shows the decisions the policy withholds while the grant lasts, and says so', async () => {
    const granted = await call('demo-social-worker', 'safeguarding', `/v1/children/${childKey}/break-glass`, {
      method: 'POST',
      body: { reason: 'Synthetic: child missing overnight, need every agency decision now', minutes: 30 },
    });
    expect(granted.status).toBe(201);
    await world.log.skip();
    const { status, body } = await call(
      'demo-social-worker',
      'safeguarding',
      `/v1/children/${childKey}/decisions`,
    );
    expect(status).toBe(200);
    expect((body.decisions as { eventId: string }[]).map((d) => d.eventId)).toContain(camhsDecision.eventId);
    expect(body).toMatchObject({ withheld: [], access: { breakGlass: { id: granted.body.id } } });
    expect(await world.log.next()).toMatchObject({
      action: 'decisions',
      outcome: 'ok',
      breakGlass: expect.objectContaining({ id: granted.body.id }),
    });
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_TYPES } from '@throughline/contracts';
import { projectRoot, ValidationError } from '@throughline/platform';
import { buildEvent } from '@throughline/testing';
import { timelineEntryOf, type TimelineEntryView } from '@throughline/timeline';
import type { CurrentAgencyEvent } from '@throughline/contracts';
import { ageOn, academicYearOf, termOf } from './calendar';
import { decisionsOf, decisionStatus } from './decisions';
import { domainResolverOf } from './domains';
import { readEntry } from './entry-reading';
import { FRAMEWORK_DOCUMENT, type FrameworkDocument } from './framework-document';
import { parseFrameworkDocument } from './framework-store';
import { normalise, outcomesOf } from './outcomes';
import { childDecisions, childOutcomes } from './responses';

const SEED = JSON.parse(
  readFileSync(join(projectRoot(), 'infra', 'outcome-frameworks.json'), 'utf8'),
) as unknown;
const document: FrameworkDocument = parseFrameworkDocument(SEED);

let position = 0;
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A timeline entry as the read side serves it, with the detail fields of decision 015 where given. */
function entry(
  type: string,
  date: string,
  extra: Partial<TimelineEntryView> & Record<string, unknown> = {},
): TimelineEntryView {
  position += 1;
  return {
    position,
    occurredAt: `${date}T10:00:00Z`,
    agency: 'social-care',
    type,
    summary: `${type} on ${date}`,
    outcomeDomain: { framework: 'ecm', domain: 'stay-safe' },
    kind: 'fact',
    sharedUnder: { basis: 'own-organisation' },
    lineage: { eventId: uuid(position), storePosition: position, sourceSystem: 'test' },
    ...extra,
  } as TimelineEntryView;
}

function rating(
  date: string,
  perspective: 'child' | 'family' | 'professional',
  value: number,
  options: {
    framework?: string;
    domain?: string;
    scale?: string;
    min?: number;
    max?: number;
    role?: string;
    agency?: string;
  } = {},
): TimelineEntryView {
  const scale = options.scale ?? 'sos-safety';
  return entry('outcome.observation.recorded', date, {
    kind: 'observation',
    perspective,
    observerRole:
      options.role ??
      (perspective === 'professional' ? 'social worker' : perspective === 'family' ? 'mother' : 'child'),
    ...(options.agency ? { observerAgency: options.agency } : {}),
    narrative: `${perspective} account, ${value}`,
    confidence: 'medium',
    outcomeDomain: { framework: options.framework ?? 'signs-of-safety', domain: options.domain ?? 'safety' },
    indicator: { name: scale, value, scale: { name: scale, min: options.min ?? 0, max: options.max ?? 10 } },
  });
}

const domainOf = (result: ReturnType<typeof outcomesOf>, id: string) => {
  const found = result.domains.find((d) => d.domain === id);
  if (!found) throw new Error(`no domain ${id}`);
  return found;
};

describe('the seeded framework document (infra/outcome-frameworks.json)', () => {
  it('is valid and holds Every Child Matters, Signs of Safety, a journey of change and the partnership’s own', () => {
    expect(document.frameworks.map((f) => f.id)).toEqual([
      'ecm',
      'signs-of-safety',
      'journey-of-change',
      'throughline-vale',
    ]);
    expect(document.frameworks[0].domains.map((d) => d.id)).toEqual([
      'be-healthy',
      'stay-safe',
      'enjoy-and-achieve',
      'make-a-positive-contribution',
      'achieve-economic-well-being',
    ]);
    expect(document.frameworks[1].domains.map((d) => d.id)).toEqual([
      'safety',
      'worries',
      'working-well',
      'next-steps',
    ]);
  });

  it('knows the scales the synthetic generator rates on: sos-safety 0–10 and journey-of-change 1–10', () => {
    const scales = new Map(document.scales.map((s) => [s.id, s]));
    expect(scales.get('sos-safety')).toMatchObject({ min: 0, max: 10, better: 'higher' });
    expect(scales.get('journey-of-change')).toMatchObject({ min: 1, max: 10, better: 'higher' });
    expect(scales.get('vale-level-of-need')).toMatchObject({ min: 1, max: 4, better: 'lower' });
  });

  it('maps every event type of the contracts but the observation (which names its own domain) and the facts that are no evidence about an outcome', () => {
    // Who the child is and who holds the case: recorded, shown, but evidence about no domain.
    const notEvidence = new Set([
      'outcome.observation.recorded',
      'social-care.child-characteristics.recorded',
      'social-care.upn-unknown.recorded',
      'social-care.social-worker.allocated',
      'social-care.social-worker.allocation-ended',
    ]);
    const expected = [...new Set([...EVENT_TYPES, 'practice.decision.reviewed', 'practice.views.differ'])]
      .filter((type) => !notEvidence.has(type))
      .sort();
    expect(Object.keys(document.mapping).sort()).toEqual(expected);
  });

  it('maps SEN and EHC facts to enjoy-and-achieve, never to stay-safe', () => {
    for (const type of ['education.sen-provision.changed', 'education.ehc-plan.issued'])
      expect(document.mapping[type]).not.toContainEqual({ framework: 'ecm', domain: 'stay-safe' });
    expect(document.mapping['education.sen-provision.changed']).toContainEqual({
      framework: 'ecm',
      domain: 'enjoy-and-achieve',
    });
  });
});

describe('the framework document schema', () => {
  const withChange = (change: (doc: Record<string, unknown>) => void): unknown => {
    const copy = JSON.parse(JSON.stringify(SEED)) as Record<string, unknown>;
    change(copy);
    return copy;
  };
  const refusal = (doc: unknown) => {
    try {
      parseFrameworkDocument(doc, 'body.frameworks');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return (error as ValidationError).issues;
    }
    throw new Error('accepted');
  };

  it('refuses a mapping to a domain its framework does not have, naming the field and rule', () => {
    const issues = refusal(
      withChange((doc) => {
        (doc.mapping as Record<string, unknown>)['health.immunisation.given'] = [
          { framework: 'ecm', domain: 'be-wealthy' },
        ];
      }),
    );
    expect(issues).toContainEqual(
      expect.objectContaining({
        path: 'body.frameworks.mapping.health.immunisation.given.0.domain',
        rule: 'known-domain',
      }),
    );
  });

  it('refuses an unknown event type, an unknown framework, a duplicate id and an upside-down scale', () => {
    const issues = refusal(
      withChange((doc) => {
        const mapping = doc.mapping as Record<string, unknown>;
        mapping['health.teleport.completed'] = [{ framework: 'ecm', domain: 'be-healthy' }];
        mapping['health.nipe.completed'] = [{ framework: 'nope', domain: 'be-healthy' }];
        const frameworks = doc.frameworks as Record<string, unknown>[];
        frameworks.push({ ...frameworks[0] });
        (doc.scales as Record<string, unknown>[])[0].max = -1;
      }),
    );
    const rules = issues.map((issue) => `${issue.path} ${issue.rule}`);
    expect(rules).toEqual(
      expect.arrayContaining([
        'body.frameworks.mapping.health.teleport.completed known-event-type',
        'body.frameworks.mapping.health.nipe.completed.0.framework known-framework',
        'body.frameworks.frameworks.4.id unique-id',
        'body.frameworks.scales.0.max max-above-min',
      ]),
    );
  });

  it('accepts a new framework and mapping as data, with no code', () => {
    const parsed = FRAMEWORK_DOCUMENT.parse(
      withChange((doc) => {
        (doc.frameworks as unknown[]).push({
          id: 'resilience',
          name: 'Resilience framework',
          source: 'test',
          domains: [{ id: 'belonging', label: 'Belonging' }],
        });
        (doc.mapping as Record<string, unknown[]>)['education.enrolment.recorded'].push({
          framework: 'resilience',
          domain: 'belonging',
        });
      }),
    );
    const enrolment = readEntry(entry('education.enrolment.recorded', '2024-09-04', { agency: 'education' }));
    expect(domainResolverOf(parsed).domainsOf(enrolment, 'resilience')).toEqual(['belonging']);
  });
});

describe('school calendar and age', () => {
  it.each([
    ['2023-09-01', '2023/24', 'autumn'],
    ['2023-12-31', '2023/24', 'autumn'],
    ['2024-01-01', '2023/24', 'spring'],
    ['2024-03-31', '2023/24', 'spring'],
    ['2024-04-01', '2023/24', 'summer'],
    ['2024-08-31', '2023/24', 'summer'],
    ['2009-10-10', '2009/10', 'autumn'],
    ['1999-09-10', '1999/00', 'autumn'],
  ])('%s is %s %s', (date, year, term) => {
    expect(academicYearOf(date)).toBe(year);
    expect(termOf(date)).toBe(term);
  });

  it('gives completed years and months, none before birth', () => {
    expect(ageOn('2015-05-14', '2024-05-13')).toEqual({ years: 8, months: 11 });
    expect(ageOn('2015-05-14', '2024-05-14')).toEqual({ years: 9, months: 0 });
    expect(ageOn('2015-05-14', '2015-06-20')).toEqual({ years: 0, months: 1 });
    expect(ageOn('2015-05-14', '2015-05-01')).toBeUndefined();
  });
});

describe('domains of an entry', () => {
  const resolver = domainResolverOf(document);

  it('an entry’s declared domains override the mapping for the framework they name', () => {
    const panel = readEntry(
      entry('practice.decision.recorded', '2024-02-01', {
        declaredOutcomeDomains: [{ framework: 'ecm', domain: 'enjoy-and-achieve' }],
      }),
    );
    expect(resolver.domainsOf(panel, 'ecm')).toEqual(['enjoy-and-achieve']);
    // The partnership's domain that evidences enjoy-and-achieve is found from it, not the mapping's safe-and-secure.
    expect(resolver.domainsOf(panel, 'throughline-vale')).toEqual(['learning-and-achieving']);
  });

  it('without a declaration, the mapping gives several domains per type', () => {
    const attendance = readEntry(
      entry('education.attendance.summarised', '2024-02-01', { agency: 'education' }),
    );
    expect(resolver.domainsOf(attendance, 'ecm')).toEqual(['enjoy-and-achieve', 'stay-safe']);
  });

  it('a Signs of Safety rating is evidence about Every Child Matters stay-safe too', () => {
    const scaled = readEntry(rating('2024-02-01', 'family', 7));
    expect(resolver.domainsOf(scaled, 'signs-of-safety')).toEqual(['safety']);
    expect(resolver.domainsOf(scaled, 'ecm')).toEqual(['stay-safe']);
  });
});

describe('outcomesOf', () => {
  const base = { document, documentVersion: 3, dateOfBirth: '2015-05-14', threshold: 0.3 };

  it('keeps each perspective its own series, with age, academic year, term, raw and normalised values', () => {
    const entries = [
      rating('2024-01-10', 'professional', 3, { agency: 'social-care' }),
      rating('2024-01-12', 'family', 6),
      rating('2024-01-15', 'child', 4),
      rating('2024-05-02', 'professional', 5, { agency: 'social-care' }),
    ];
    const result = childOutcomes.parse(outcomesOf({ ...base, entries, framework: 'signs-of-safety' }));
    const safety = domainOf(result, 'safety');
    expect(safety.series.map((s) => s.perspective).sort()).toEqual([
      'child',
      'family',
      'professional:social-care:social worker',
    ]);
    const professional = safety.series.find((s) => s.perspective.startsWith('professional'));
    expect(professional?.points).toEqual([
      expect.objectContaining({
        date: '2024-01-10',
        age: { years: 8, months: 7 },
        academicYear: '2023/24',
        term: 'spring',
        value: 3,
        normalised: 0.3,
        scale: { id: 'sos-safety', min: 0, max: 10, better: 'higher', known: true },
      }),
      expect.objectContaining({ date: '2024-05-02', term: 'summer', value: 5, normalised: 0.5 }),
    ]);
    expect(result.framework).toEqual({ id: 'signs-of-safety', name: 'Signs of Safety', version: 3 });
    // Never one blended score: no domain carries a number of its own.
    expect(Object.keys(safety).sort()).toEqual([
      'accounts',
      'disagreements',
      'domain',
      'facts',
      'indicators',
      'label',
      'series',
      'viewsDiffer',
    ]);
  });

  it('marks two perspectives whose latest ratings in a period differ by at least the threshold, and only those', () => {
    const professional = rating('2024-01-10', 'professional', 2, { agency: 'social-care' });
    const familyEarly = rating('2024-01-11', 'family', 4);
    const familyLate = rating('2024-02-20', 'family', 6); // the family's latest this term: 0.6 vs 0.2
    const child = rating('2024-02-01', 'child', 4); // 0.4: 0.2 from both, no disagreement
    const result = outcomesOf({
      ...base,
      entries: [professional, familyEarly, familyLate, child],
      framework: 'signs-of-safety',
    });
    const safety = domainOf(result, 'safety');
    expect(safety.disagreements).toEqual([
      {
        academicYear: '2023/24',
        term: 'spring',
        difference: 0.4,
        between: [
          { perspective: 'family', position: familyLate.position, normalised: 0.6 },
          {
            perspective: 'professional:social-care:social worker',
            position: professional.position,
            normalised: 0.2,
          },
        ],
      },
    ]);
    const family = safety.series.find((s) => s.perspective === 'family');
    expect(family?.points.map((p) => p.disagreesWith)).toEqual([
      undefined,
      ['professional:social-care:social worker'],
    ]);
    expect(safety.series.find((s) => s.perspective === 'child')?.points[0].disagreesWith).toBeUndefined();
  });

  it('counts a difference of exactly the threshold (3 points of 0–10 at 0.3) and compares only within a period', () => {
    const a = rating('2023-10-01', 'professional', 4, { agency: 'social-care' });
    const b = rating('2023-10-02', 'family', 7);
    const c = rating('2024-01-05', 'family', 10); // spring: no professional rating then
    const result = outcomesOf({ ...base, entries: [a, b, c], framework: 'signs-of-safety' });
    expect(domainOf(result, 'safety').disagreements).toEqual([
      expect.objectContaining({ term: 'autumn', difference: 0.3 }),
    ]);
    const yearly = outcomesOf({ ...base, entries: [a, b, c], framework: 'signs-of-safety', period: 'year' });
    // By year the family's latest is 10 (1.0) against 0.4.
    expect(domainOf(yearly, 'safety').disagreements).toEqual([
      { academicYear: '2023/24', difference: 0.6, between: expect.any(Array) },
    ]);
  });

  it('normalises a scale whose lower end is better, so 1 is always the better end', () => {
    expect(normalise(1, { min: 1, max: 4, better: 'lower' })).toBe(1);
    expect(normalise(4, { min: 1, max: 4, better: 'lower' })).toBe(0);
    const need = rating('2024-03-01', 'professional', 2, {
      framework: 'throughline-vale',
      domain: 'safe-and-secure',
      scale: 'vale-level-of-need',
      min: 1,
      max: 4,
      agency: 'early-help',
      role: 'Family Support Worker',
    });
    const result = outcomesOf({ ...base, entries: [need], framework: 'throughline-vale' });
    const point = domainOf(result, 'safe-and-secure').series[0];
    expect(point.perspective).toBe('professional:early-help:family support worker');
    expect(point.points[0]).toMatchObject({ value: 2, normalised: 0.667 });
  });

  it('lists accounts without a rating beside the series, and facts mapped to the domain', () => {
    const school = entry('outcome.observation.recorded', '2024-06-10', {
      kind: 'observation',
      agency: 'education',
      perspective: 'professional',
      observerRole: 'class teacher',
      narrative: 'Settled friendship group.',
      outcomeDomain: { framework: 'ecm', domain: 'enjoy-and-achieve' },
    });
    const panel = entry('practice.decision.recorded', '2024-06-11', {
      agency: 'education',
      perspective: 'professional',
      observerRole: 'SEN panel chair',
      narrative: 'Rationale: needs met in a resourced provision.',
      declaredOutcomeDomains: [{ framework: 'ecm', domain: 'enjoy-and-achieve' }],
    });
    const exclusion = entry('education.exclusion.recorded', '2024-06-12', {
      agency: 'education',
      narrative: 'fixed-term',
    });
    const result = outcomesOf({ ...base, entries: [school, panel, exclusion], framework: 'ecm' });
    const enjoy = domainOf(result, 'enjoy-and-achieve');
    expect(enjoy.series).toEqual([]);
    expect(enjoy.accounts).toEqual([
      expect.objectContaining({
        perspective: 'professional:education:class teacher',
        narrative: 'Settled friendship group.',
        academicYear: '2023/24',
        term: 'summer',
        age: { years: 9, months: 0 },
      }),
    ]);
    // The panel's decision is a fact of the domain, not an account (its reasoning is in the decisions).
    expect(enjoy.accounts).toHaveLength(1);
    expect(enjoy.facts.map((f) => f.type)).toEqual([
      'practice.decision.recorded',
      'education.exclusion.recorded',
    ]);
    expect(domainOf(result, 'make-a-positive-contribution').facts.map((f) => f.type)).toEqual([
      'education.exclusion.recorded',
    ]);
    expect(domainOf(result, 'stay-safe').facts).toEqual([]);
  });

  it('shows attendance by term and academic year, saying whose account goes with it or that there is none', () => {
    const autumn = entry('education.attendance.summarised', '2023-12-20', {
      agency: 'education',
      indicators: [
        { name: 'attendance', value: 88.5, unit: '%', period: { academicYear: '2023/24', term: 'autumn' } },
      ],
    });
    const spring = entry('education.attendance.summarised', '2024-04-02', {
      agency: 'education',
      // Sent after the term ended: the indicator's own period wins over the date.
      indicators: [
        { name: 'attendance', value: 93, unit: '%', period: { academicYear: '2023/24', term: 'spring' } },
      ],
    });
    const teacher = entry('outcome.observation.recorded', '2024-02-01', {
      kind: 'observation',
      agency: 'education',
      perspective: 'professional',
      observerRole: 'SENCO',
      narrative: 'Coming in more since the breakfast club.',
      outcomeDomain: { framework: 'ecm', domain: 'enjoy-and-achieve' },
    });
    const result = outcomesOf({ ...base, entries: [autumn, spring, teacher], framework: 'ecm' });
    expect(domainOf(result, 'enjoy-and-achieve').indicators).toEqual([
      {
        name: 'attendance',
        unit: '%',
        periods: [
          {
            academicYear: '2023/24',
            term: 'autumn',
            values: [
              { position: autumn.position, eventId: autumn.lineage.eventId, date: '2023-12-20', value: 88.5 },
            ],
            accounts: [],
            withoutAccount: true,
          },
          {
            academicYear: '2023/24',
            term: 'spring',
            values: [expect.objectContaining({ value: 93 })],
            accounts: [{ perspective: 'professional:education:senco', position: teacher.position }],
            withoutAccount: false,
          },
        ],
      },
    ]);
  });

  it('reads an entry built before decision 015 (one indicator, no detail fields)', () => {
    const old = entry('education.attendance.summarised', '2024-01-20', {
      agency: 'education',
      indicator: { name: 'attendance', value: 75, unit: '%' },
    });
    const result = outcomesOf({ ...base, entries: [old], framework: 'ecm' });
    expect(domainOf(result, 'enjoy-and-achieve').indicators[0].periods[0]).toMatchObject({
      academicYear: '2023/24',
      term: 'spring',
      values: [expect.objectContaining({ value: 75 })],
    });
  });

  it('lists recorded views-differ beside the domain they name, or the domains of the entries they are about', () => {
    const scaled = rating('2024-01-10', 'family', 8);
    const named = entry('practice.views.differ', '2024-01-20', {
      kind: 'observation',
      observedOn: '2024-01-20',
      viewsDiffer: {
        about: [scaled.lineage.eventId],
        framework: 'signs-of-safety',
        domain: 'safety',
        views: [
          { perspective: 'family', role: 'mother', view: 'We are fine now.' },
          {
            perspective: 'professional',
            role: 'social worker',
            agency: 'social-care',
            view: 'Evenings unsafe.',
          },
        ],
      },
      narrative: 'Family network meeting booked.',
    });
    const unnamed = entry('practice.views.differ', '2024-01-21', {
      kind: 'observation',
      observedOn: '2024-01-21',
      viewsDiffer: {
        about: [scaled.lineage.eventId],
        views: [
          { perspective: 'child', role: 'the child', view: 'I like Wednesdays.' },
          { perspective: 'family', role: 'mother', view: 'Every day is good.' },
        ],
      },
    });
    const sos = outcomesOf({ ...base, entries: [scaled, named, unnamed], framework: 'signs-of-safety' });
    expect(domainOf(sos, 'safety').viewsDiffer.map((v) => v.position)).toEqual([
      named.position,
      unnamed.position,
    ]);
    expect(domainOf(sos, 'safety').viewsDiffer[0]).toMatchObject({
      narrative: 'Family network meeting booked.',
    });
    const ecm = outcomesOf({ ...base, entries: [scaled, named, unnamed], framework: 'ecm' });
    expect(domainOf(ecm, 'stay-safe').viewsDiffer.map((v) => v.position)).toEqual([
      named.position,
      unnamed.position,
    ]);
    expect(domainOf(ecm, 'make-a-positive-contribution').viewsDiffer).toEqual([]);
  });

  it('keeps only what falls between from and to, and leaves age out without a date of birth', () => {
    const entries = [rating('2023-06-01', 'family', 5), rating('2024-06-01', 'family', 6)];
    const result = outcomesOf({
      document,
      threshold: 0.3,
      entries,
      framework: 'signs-of-safety',
      from: '2024-01-01',
      to: '2024-12-31',
    });
    const points = domainOf(result, 'safety').series[0].points;
    expect(points.map((p) => p.date)).toEqual(['2024-06-01']);
    expect(points[0].age).toBeUndefined();
  });

  it('says when the framework asked for is not in the document', () => {
    expect(() => outcomesOf({ ...base, entries: [], framework: 'nope' })).toThrow(
      /no outcome framework "nope"/,
    );
  });
});

describe('decisionsOf', () => {
  const decision = (date: string, extra: Record<string, unknown> = {}) =>
    entry('practice.decision.recorded', date, {
      narrative: 'Because the evenings are unsupervised.',
      perspective: 'professional',
      observerRole: 'team manager',
      confidence: 'medium',
      recordedBy: { role: 'team manager', agency: 'social-care', team: 'Assessment team 2' },
      reviewDate: '2024-04-01',
      decision: {
        decidedOn: date,
        decision: 'Child protection plan under neglect',
        options: [{ option: 'Child in need plan', whyNot: 'Not enough safety yet.' }],
        uncertainty: 'Whether the grandparent can help on weekdays.',
        forum: 'initial child protection conference',
        team: 'Assessment team 2',
        reviewDate: '2024-04-01',
        expectedOutcomes: [
          {
            framework: 'signs-of-safety',
            domain: 'safety',
            lookFor: 'Safety scaling at 6 or above from everyone',
          },
        ],
        ...extra,
      },
    });
  const review = (
    decisionId: string,
    date: string,
    outcome: 'continued' | 'revised' | 'ended',
    next?: string,
  ) =>
    entry('practice.decision.reviewed', date, {
      recordedBy: { role: 'chair', agency: 'social-care' },
      review: {
        decisionId,
        reviewedOn: date,
        whatHappened: 'The safety network met weekly.',
        againstExpected: [
          {
            framework: 'signs-of-safety',
            domain: 'safety',
            finding: 'Family at 7, school at 6',
            judgement: 'as-expected',
          },
        ],
        outcome,
        ...(outcome === 'revised' ? { revisedDecision: 'Step down to child in need' } : {}),
        ...(next ? { nextReviewDate: next } : {}),
      },
    });

  it.each([
    ['2024-03-01', 'open'],
    ['2024-03-18', 'review-due'],
    ['2024-04-01', 'review-due'],
    ['2024-04-02', 'overdue'],
  ] as const)('on %s a decision due 2024-04-01 is %s (14 days)', (today, status) => {
    expect(decisionStatus('2024-04-01', undefined, today, 14)).toBe(status);
  });

  it('gives each decision its reasoning, expected outcomes, reviews in order, status, and what was seen since, by perspective', () => {
    const decided = decision('2024-01-05');
    const before = rating('2024-01-01', 'family', 2);
    const family = rating('2024-02-10', 'family', 7);
    const professional = rating('2024-03-01', 'professional', 4, { agency: 'social-care' });
    const elsewhere = rating('2024-02-11', 'professional', 6, {
      framework: 'ecm',
      domain: 'enjoy-and-achieve',
      scale: 'journey-of-change',
      min: 1,
      agency: 'education',
      role: 'class teacher',
    });
    const first = review(decided.lineage.eventId, '2024-04-01', 'continued', '2024-07-01');
    const after = rating('2024-08-01', 'family', 9); // after the next review: not "since"
    const result = childDecisions.parse(
      decisionsOf({
        entries: [after, first, professional, elsewhere, family, before, decided],
        document,
        today: '2024-06-20',
        reviewDueDays: 14,
      }),
    );
    expect(result.decisions).toHaveLength(1);
    const [view] = result.decisions;
    expect(view).toMatchObject({
      eventId: decided.lineage.eventId,
      decidedOn: '2024-01-05',
      decision: 'Child protection plan under neglect',
      rationale: 'Because the evenings are unsupervised.',
      optionsConsidered: [{ option: 'Child in need plan', whyNot: 'Not enough safety yet.' }],
      uncertainty: 'Whether the grandparent can help on weekdays.',
      forum: 'initial child protection conference',
      team: 'Assessment team 2',
      reviewDate: '2024-04-01',
      nextReviewDate: '2024-07-01',
      status: 'review-due',
    });
    expect(view.reviews).toEqual([
      expect.objectContaining({
        eventId: first.lineage.eventId,
        outcome: 'continued',
        nextReviewDate: '2024-07-01',
      }),
    ]);
    expect(view.since.from).toBe('2024-01-05');
    expect(view.since.until).toBe('2024-07-01');
    expect(view.since.byPerspective.map((p) => [p.perspective, p.entries.map((e) => e.position)])).toEqual([
      ['family', [family.position]],
      ['professional:social-care:social worker', [professional.position]],
    ]);
  });

  it('is reviewed once a review ended it, and overdue when its next review has passed', () => {
    const ended = decision('2024-01-05');
    const stillOpen = decision('2024-01-06');
    const result = decisionsOf({
      entries: [
        ended,
        review(ended.lineage.eventId, '2024-03-30', 'ended'),
        stillOpen,
        review(stillOpen.lineage.eventId, '2024-03-30', 'revised', '2024-05-01'),
      ],
      document,
      today: '2024-06-01',
      reviewDueDays: 14,
    });
    expect(result.decisions.map((d) => [d.status, d.nextReviewDate, d.since.until])).toEqual([
      ['reviewed', undefined, '2024-03-30'],
      ['overdue', '2024-05-01', '2024-05-01'],
    ]);
    expect(result.decisions[1].reviews[0]).toMatchObject({ revisedDecision: 'Step down to child in need' });
  });

  it('reads a decision entry built before decision 015 (narrative, review date, summary)', () => {
    const old = entry('practice.decision.recorded', '2024-01-05', {
      narrative: 'Rationale as recorded.',
      reviewDate: '2024-02-01',
      confidence: 'high',
    });
    const result = decisionsOf({ entries: [old], document, today: '2024-03-01', reviewDueDays: 14 });
    expect(result.decisions[0]).toMatchObject({
      decision: old.summary,
      rationale: 'Rationale as recorded.',
      reviewDate: '2024-02-01',
      status: 'overdue',
      confidence: 'high',
      expectedOutcomes: [],
    });
  });

  it('shows no review of a decision the reader may not see', () => {
    const hidden = uuid(999_999);
    const result = decisionsOf({
      entries: [review(hidden, '2024-03-30', 'continued', '2024-05-01')],
      document,
      today: '2024-06-01',
      reviewDueDays: 14,
    });
    expect(result.decisions).toEqual([]);
  });
});

describe('entries as the timeline builds them (libs/timeline timelineEntryOf)', () => {
  /** The entry the read side serves for an event: the draft's details spread beside its columns. */
  function served(event: CurrentAgencyEvent): TimelineEntryView {
    position += 1;
    const draft = timelineEntryOf(event, { position: BigInt(position), streamId: 'test', metadata: {} });
    return {
      position,
      occurredAt: draft.occurredAt,
      agency: draft.agency,
      type: draft.type,
      summary: draft.summary,
      outcomeDomain: draft.outcomeDomain,
      ...draft.details,
      sharedUnder: { basis: 'own-organisation' },
      lineage: { ...draft.lineage, storePosition: position },
    } as TimelineEntryView;
  }

  it('reads a decision, its review and the ratings since, whole', () => {
    const decision = buildEvent('practice.decision.recorded', {
      data: {
        decidedOn: '2024-01-05',
        reviewDate: '2024-04-01',
        team: 'Assessment team 2',
        expectedOutcomes: [
          { framework: 'signs-of-safety', domain: 'safety', lookFor: 'Everyone at 6 or above.' },
        ],
      },
    }) as CurrentAgencyEvent;
    const review = buildEvent('practice.decision.reviewed', {
      data: {
        decisionId: decision.eventId,
        reviewedOn: '2024-04-01',
        outcome: 'revised',
        revisedDecision: 'Step down to a child in need plan.',
        nextReviewDate: '2024-07-01',
        againstExpected: [
          {
            framework: 'signs-of-safety',
            domain: 'safety',
            finding: 'Family at 7.',
            judgement: 'better-than-expected',
          },
        ],
      },
    }) as CurrentAgencyEvent;
    const rated = buildEvent('outcome.observation.recorded', {
      data: {
        framework: 'signs-of-safety',
        domain: 'safety',
        perspective: 'family',
        observerRole: 'mother',
        observedOn: '2024-02-10',
        rating: { scale: 'sos-safety', value: 7, min: 0, max: 10 },
      },
    }) as CurrentAgencyEvent;
    const entries = [served(decision), served(review), served(rated)];
    const result = decisionsOf({ entries, document, today: '2024-06-01', reviewDueDays: 14 });
    const [view] = result.decisions;
    expect(view).toMatchObject({
      decidedOn: '2024-01-05',
      team: 'Assessment team 2',
      decidedBy: { role: 'team manager', agency: 'social-care', team: 'Assessment team 2' },
      optionsConsidered: [{ option: 'Single-agency assessment' }],
      uncertainty: expect.stringContaining('Synthetic'),
      forum: 'MASH',
      expectedOutcomes: [
        { framework: 'signs-of-safety', domain: 'safety', lookFor: 'Everyone at 6 or above.' },
      ],
      nextReviewDate: '2024-07-01',
      status: 'open',
      reviews: [
        expect.objectContaining({
          outcome: 'revised',
          revisedDecision: 'Step down to a child in need plan.',
          reviewedBy: expect.objectContaining({ role: 'team manager' }),
          againstExpected: [expect.objectContaining({ judgement: 'better-than-expected' })],
        }),
      ],
    });
    expect(view.since.byPerspective).toEqual([
      { perspective: 'family', entries: [expect.objectContaining({ domain: 'safety' })] },
    ]);
    // Each entry a "since" refers to is listed once, beside the decisions.
    expect(result.evidence).toEqual([
      expect.objectContaining({
        position: view.since.byPerspective[0].entries[0].position,
        date: '2024-02-10',
      }),
    ]);
    const outcomes = outcomesOf({ entries, document, threshold: 0.3, framework: 'signs-of-safety' });
    expect(domainOf(outcomes, 'safety').series).toEqual([
      {
        perspective: 'family',
        points: [expect.objectContaining({ value: 7, normalised: 0.7, term: 'spring' })],
      },
    ]);
  });

  it('reads attendance as the timeline builds it: a % with its own term', () => {
    const attendance = buildEvent('education.attendance.summarised', {
      occurredAt: '2024-04-03T09:00:00Z',
      data: {
        academicYear: '2023/24',
        term: 'spring',
        sessionsPossible: 100,
        sessionsAttended: 91,
        authorisedAbsence: 5,
        unauthorisedAbsence: 4,
      },
    }) as CurrentAgencyEvent;
    const outcomes = outcomesOf({
      entries: [served(attendance)],
      document,
      threshold: 0.3,
      framework: 'ecm',
    });
    expect(domainOf(outcomes, 'enjoy-and-achieve').indicators).toEqual([
      expect.objectContaining({
        name: 'attendance',
        unit: '%',
        periods: [expect.objectContaining({ academicYear: '2023/24', term: 'spring', withoutAccount: true })],
      }),
    ]);
  });
});

import type { ChildOutcomes, DecisionCard, LinkHistoryEntry, TimelineEntry } from './page/api';
import {
  academicYearOf,
  ageOn,
  ageText,
  byAcademicYear,
  decisionStatus,
  differingEventIds,
  domainsOf,
  filterChoices,
  filterEntries,
  humanise,
  identityCaveats,
  indicatorsOf,
  involvedNow,
  lanesOf,
  leadProfessional,
  openEpisodes,
  pageOf,
  perspectiveLabel,
  sinceGroups,
  decisionCardsOf,
  termOf,
} from './page/timeline-logic';

/** The page's pure logic (the browser test drives the same code through the built page). */

let position = 0;
function entry(overrides: Partial<TimelineEntry> & { occurredAt: string; type?: string }): TimelineEntry {
  position += 1;
  return {
    position,
    agency: 'social-care',
    type: 'social-care.contact.received',
    summary: 'Synthetic entry',
    outcomeDomain: { framework: 'ecm', domain: 'stay-safe', label: 'Stay safe' },
    kind: 'fact',
    lineage: { eventId: `event-${position}`, storePosition: position, sourceSystem: 'demo' },
    ...overrides,
  };
}

describe('school years, terms and ages', () => {
  it('puts 31 August in the old school year and 1 September in the new, from the date as reported', () => {
    expect(academicYearOf('2023-08-31T23:30:00+01:00')).toBe('2022/23');
    expect(academicYearOf('2023-09-01T00:10:00+01:00')).toBe('2023/24');
    expect(academicYearOf('1999-12-31')).toBe('1999/00');
  });

  it('names the term: autumn Sep-Dec, spring Jan-Mar, summer Apr-Aug', () => {
    expect(
      ['2024-09-01', '2024-12-31', '2025-01-01', '2025-03-31', '2025-04-01', '2025-08-31'].map(termOf),
    ).toEqual(['autumn', 'autumn', 'spring', 'spring', 'summer', 'summer']);
  });

  it('counts age in whole months, not before the birthday in the month', () => {
    expect(ageOn('2015-03-10', '2024-03-09')).toEqual({ years: 8, months: 11 });
    expect(ageOn('2015-03-10', '2024-03-10')).toEqual({ years: 9, months: 0 });
    expect(ageOn('2015-03-10', '2015-02-01')).toBeUndefined();
    expect(ageOn(undefined, '2024-03-10')).toBeUndefined();
    expect(ageText({ years: 9, months: 1 })).toBe('9 years 1 month');
    expect(ageText({ years: 0, months: 11 })).toBe('11 months');
    expect(ageText({ years: 1, months: 0 })).toBe('1 year');
    expect(ageText(undefined)).toBe('');
  });

  it('groups the chronology under school-year headings in order', () => {
    const entries = [
      entry({ occurredAt: '2023-07-01T10:00:00Z' }),
      entry({ occurredAt: '2023-09-02T10:00:00Z' }),
      entry({ occurredAt: '2024-06-02T10:00:00Z' }),
    ];
    expect(byAcademicYear(entries).map((group) => [group.year, group.entries.length])).toEqual([
      ['2022/23', 1],
      ['2023/24', 2],
    ]);
  });
});

describe('the chronology filters and pages', () => {
  const entries = [
    entry({ occurredAt: '2024-01-10T10:00:00Z', agency: 'health', kind: 'fact' }),
    entry({
      occurredAt: '2024-02-10T10:00:00Z',
      kind: 'observation',
      perspective: 'child',
      declaredOutcomeDomains: [{ framework: 'sos', domain: 'worries' }],
    }),
    entry({
      occurredAt: '2024-03-10T10:00:00Z',
      kind: 'observation',
      perspective: 'professional',
      outcomeDomain: { framework: 'ecm', domain: 'enjoy-and-achieve' },
    }),
  ];

  it('filters by agency, kind, perspective (none = unstated), domain of either framework, and inclusive dates', () => {
    const positions = (filter: Parameters<typeof filterEntries>[1]): number[] =>
      filterEntries(entries, filter).map((item) => item.position);
    expect(positions({ agency: 'health' })).toEqual([entries[0].position]);
    expect(positions({ kind: 'observation' })).toEqual([entries[1].position, entries[2].position]);
    expect(positions({ perspective: 'none' })).toEqual([entries[0].position]);
    expect(positions({ perspective: 'child' })).toEqual([entries[1].position]);
    expect(positions({ domain: 'sos/worries' })).toEqual([entries[1].position]);
    expect(positions({ domain: 'ecm/stay-safe' })).toEqual([entries[0].position, entries[1].position]);
    expect(positions({ domain: 'enjoy-and-achieve' })).toEqual([entries[2].position]);
    expect(positions({ from: '2024-02-10', to: '2024-03-09' })).toEqual([entries[1].position]);
    expect(positions({})).toHaveLength(3);
  });

  it('offers only the values the entries have', () => {
    const choices = filterChoices(entries);
    expect(choices.agencies).toEqual(['health', 'social-care']);
    expect(choices.perspectives).toEqual(['child', 'none', 'professional']);
    expect(choices.domains.map((domain) => domain.value).sort()).toEqual([
      'ecm/enjoy-and-achieve',
      'ecm/stay-safe',
      'sos/worries',
    ]);
  });

  it('pages a long history, keeping a page past the end on the last one', () => {
    const items = Array.from({ length: 250 }, (_, index) => index);
    expect(pageOf(items, 1)).toMatchObject({ page: 1, pages: 3, first: 1, last: 100, total: 250 });
    expect(pageOf(items, 3)).toMatchObject({ page: 3, first: 201, last: 250 });
    expect(pageOf(items, 9).page).toBe(3);
    expect(pageOf([], 1)).toMatchObject({ page: 1, pages: 1, first: 0, last: 0, total: 0 });
  });

  it('reads the list of indicators, or the one an entry projected before decision 015 carries', () => {
    const indicator = { name: 'attendance', value: 91, unit: '%' };
    expect(indicatorsOf(entry({ occurredAt: '2024-01-01', indicator }))).toEqual([indicator]);
    expect(
      indicatorsOf(entry({ occurredAt: '2024-01-01', indicators: [indicator, indicator] })),
    ).toHaveLength(2);
    expect(
      domainsOf(
        entry({
          occurredAt: '2024-01-01',
          declaredOutcomeDomains: [{ framework: 'ecm', domain: 'stay-safe' }],
        }),
      ),
    ).toEqual([{ framework: 'ecm', domain: 'stay-safe' }]);
  });
});

describe('the overview', () => {
  it('keeps episodes open until their end, with the latest review', () => {
    const entries = [
      entry({
        occurredAt: '2023-01-01T10:00:00Z',
        type: 'social-care.cin-plan.started',
        summary: 'CIN plan',
      }),
      entry({ occurredAt: '2023-06-01T10:00:00Z', type: 'social-care.cin-plan.ended' }),
      entry({
        occurredAt: '2024-01-01T10:00:00Z',
        type: 'social-care.child-protection-plan.started',
        reviewDate: '2024-04-01',
        recordedBy: { role: 'social worker', agency: 'social-care' },
      }),
      entry({
        occurredAt: '2024-04-01T10:00:00Z',
        type: 'social-care.child-protection-plan.reviewed',
        reviewDate: '2024-10-01',
      }),
      entry({
        occurredAt: '2024-05-01T10:00:00Z',
        type: 'social-care.early-help-episode.started',
        summary: 'Early help started, led by family support worker, school — Parenting',
      }),
    ];
    const episodes = openEpisodes(entries);
    expect(episodes.map((episode) => episode.label)).toEqual(['Child protection plan', 'Early help']);
    expect(episodes[0]).toMatchObject({
      since: '2024-01-01T10:00:00Z',
      lastReviewed: '2024-04-01T10:00:00Z',
      nextReview: '2024-10-01',
      recordedBy: 'social worker, social-care',
    });
    expect(leadProfessional(episodes)).toBe('family support worker, school');
    expect(leadProfessional([])).toBeUndefined();
  });

  it("counts the practitioner's agency as involved, within a year of the date asked about", () => {
    const entries = [
      entry({ occurredAt: '2022-01-01T10:00:00Z', agency: 'health' }),
      entry({
        occurredAt: '2024-03-01T10:00:00Z',
        agency: 'social-care',
        kind: 'observation',
        perspective: 'professional',
        observerRole: 'class teacher',
        observerAgency: 'education',
      }),
      entry({
        occurredAt: '2024-04-01T10:00:00Z',
        recordedBy: { role: 'social worker', agency: 'social-care' },
      }),
      entry({ occurredAt: '2024-04-02T10:00:00Z', perspective: 'family', observerRole: 'mother' }),
    ];
    expect(involvedNow(entries, '2024-06-01T00:00:00Z')).toEqual([
      { agency: 'education', roles: ['class teacher'], lastRecorded: '2024-03-01T10:00:00Z', entries: 1 },
      { agency: 'social-care', roles: ['social worker'], lastRecorded: '2024-04-02T10:00:00Z', entries: 2 },
    ]);
  });

  it('names open match proposals and conflicts, and drops a proposal once a person has decided it', () => {
    const history: LinkHistoryEntry[] = [
      { type: 'identity.match.proposed', subjects: ['a', 'b'], at: '2024-01-01', details: { score: 0.8 } },
      { type: 'identity.match.proposed', subjects: ['a', 'c'], at: '2024-01-02' },
      { type: 'identity.match.rejected', subjects: ['c', 'a'], at: '2024-01-03' },
      {
        type: 'identity.conflict.flagged',
        subjects: ['a', 'd'],
        at: '2024-01-04',
        reason: 'same UPN, other DOB',
      },
      { type: 'identity.subject.linked', subjects: ['a', 'e'], at: '2024-01-05' },
    ];
    expect(identityCaveats(history)).toEqual([
      { kind: 'proposal', at: '2024-01-01', subjects: ['a', 'b'], reason: undefined, score: 0.8 },
      {
        kind: 'conflict',
        at: '2024-01-04',
        subjects: ['a', 'd'],
        reason: 'same UPN, other DOB',
        score: undefined,
      },
    ]);
  });
});

describe('the outcomes and decisions answers as the page draws them', () => {
  const scale = { id: 'ten-point', min: 1, max: 10, better: 'higher' as const, known: true };
  const point = (eventId: string, date: string, value: number, disagreesWith?: string[]) => ({
    position: 1,
    eventId,
    date,
    age: { years: 9, months: 2 },
    academicYear: '2024/25',
    term: 'autumn' as const,
    value,
    scale,
    normalised: (value - 1) / 9,
    narrative: `Synthetic ${eventId}`,
    ...(disagreesWith ? { disagreesWith } : {}),
  });
  const answer: ChildOutcomes = {
    framework: { id: 'ecm', name: 'Every Child Matters', version: 1 },
    period: 'term',
    threshold: 0.3,
    domains: [
      {
        domain: 'stay-safe',
        label: 'Stay safe',
        series: [
          {
            perspective: 'child',
            points: [point('c1', '2024-11-18', 8, ['professional:social-care:social worker'])],
          },
          {
            perspective: 'professional:social-care:social worker',
            points: [point('s2', '2025-03-01', 6), point('s1', '2024-11-18', 3, ['child'])],
          },
        ],
        accounts: [],
        indicators: [
          {
            name: 'attendance',
            unit: '%',
            periods: [
              {
                academicYear: '2024/25',
                term: 'autumn',
                values: [{ position: 5, eventId: 'a1', date: '2024-12-20', value: 84.3 }],
                accounts: [],
                withoutAccount: true,
              },
              {
                academicYear: '2024/25',
                term: 'spring',
                values: [{ position: 6, eventId: 'a2', date: '2025-03-28', value: 92 }],
                accounts: [
                  { perspective: 'child', position: 7 },
                  { perspective: 'child', position: 8 },
                ],
                withoutAccount: false,
              },
            ],
          },
        ],
        facts: [],
        disagreements: [
          {
            academicYear: '2024/25',
            term: 'autumn',
            difference: 0.56,
            between: [
              { perspective: 'child', position: 1, normalised: 0.78 },
              { perspective: 'professional:social-care:social worker', position: 2, normalised: 0.22 },
            ],
          },
        ],
        viewsDiffer: [],
      },
      {
        domain: 'be-healthy',
        label: 'Be healthy',
        series: [],
        accounts: [],
        indicators: [],
        facts: [],
        disagreements: [],
        viewsDiffer: [],
      },
    ],
  };

  it('keeps each perspective its own series in date order, marks disagreement, and says when an indicator has no account', () => {
    const [lane, empty] = lanesOf(answer);
    expect(lane.series.map((series) => series.label)).toEqual(['Child', 'Social worker (social care)']);
    expect(lane.series[1].points.map((item) => item.eventId)).toEqual(['s1', 's2']);
    expect(lane.series[1].points[0]).toMatchObject({
      differs: true,
      differsFrom: ['Child'],
      scaleText: '3 on 1–10',
      age: '9 years 2 months',
      period: 'Autumn 2024/25',
    });
    expect(lane.differing).toBe(2);
    expect(lane.indicators).toEqual([
      {
        label: 'Attendance',
        period: 'Autumn 2024/25',
        valueText: '84.3%',
        accountText: 'No account recorded',
        hasAccount: false,
        thresholdText: undefined,
      },
      {
        label: 'Attendance',
        period: 'Spring 2024/25',
        valueText: '92%',
        accountText: 'Accounts in the same period: Child',
        hasAccount: true,
        thresholdText: undefined,
      },
    ]);
    expect(lane.disagreements).toEqual([
      'Autumn 2024/25: Child and Social worker (social care) 56% of the scale apart',
    ]);
    expect(differingEventIds([lane, empty]).sort()).toEqual(['c1', 's1']);
    expect(empty.series).toEqual([]);
    expect(lanesOf(undefined)).toEqual([]);
  });

  it('writes slugs as words, keeping abbreviations as practitioners write them', () => {
    expect(humanise('asq3-problem-solving')).toBe('ASQ-3 problem solving');
    expect(humanise('ks2-reading')).toBe('KS2 reading');
    expect(humanise('ehc-plan')).toBe('EHC plan');
    expect(humanise('stay-safe')).toBe('Stay safe');
    expect(humanise('sensory')).toBe('Sensory');
  });

  it('labels perspectives by role and agency', () => {
    expect(perspectiveLabel('family', 'mother')).toBe('Family (mother)');
    expect(perspectiveLabel('professional:health:health visitor')).toBe('Health visitor (health)');
    expect(perspectiveLabel('unattributed')).toBe('No perspective stated');
  });

  it('groups "since this decision" by perspective, oldest first, with indicators as numbers', () => {
    const decision = {
      position: 1,
      eventId: 'd1',
      decidedOn: '2024-11-05',
      decision: 'Synthetic decision',
      optionsConsidered: [],
      expectedOutcomes: [],
      reviews: [],
      status: 'overdue',
      since: {
        from: '2024-11-05',
        byPerspective: [
          {
            perspective: 'unattributed',
            entries: [
              {
                position: 3,
                eventId: 'e3',
                date: '2024-12-20',
                type: 'education.attendance.summarised',
                framework: 'ecm',
                domain: 'enjoy-and-achieve',
                indicators: [{ name: 'attendance', value: 84.3, unit: '%' }],
              },
            ],
          },
          {
            perspective: 'child',
            entries: [
              {
                position: 5,
                eventId: 'e5',
                date: '2025-01-02',
                type: 'outcome.observation.recorded',
                framework: 'ecm',
                domain: 'stay-safe',
                narrative: 'later',
                indicators: [],
              },
              {
                position: 4,
                eventId: 'e4',
                date: '2024-11-18',
                type: 'outcome.observation.recorded',
                framework: 'ecm',
                domain: 'stay-safe',
                narrative: 'earlier',
                indicators: [],
              },
            ],
          },
        ],
      },
    } satisfies DecisionCard;
    expect(sinceGroups(decision)).toEqual([
      {
        label: 'No perspective stated',
        items: [{ date: '2024-12-20', text: 'Attendance 84.3%', domain: 'Enjoy and achieve' }],
      },
      {
        label: 'Child',
        items: [
          { date: '2024-11-18', text: 'earlier', domain: 'Stay safe' },
          { date: '2025-01-02', text: 'later', domain: 'Stay safe' },
        ],
      },
    ]);
    expect(decisionStatus('overdue')).toEqual({ text: 'Review overdue', symbol: '⚠' });
    expect(decisionStatus('something-new').text).toBe('Something new');
  });
});

describe('decision cards from the decisions answer', () => {
  it('fills each "since" reference from the evidence listed once, in the domain the decision expected', () => {
    const evidence = {
      position: 7,
      eventId: 'e7',
      date: '2025-01-02',
      type: 'outcome.observation.recorded',
      narrative: 'Synthetic: calmer at home.',
      indicators: [],
    };
    const decision = (position: number, domain: string) => ({
      position,
      eventId: `d${position}`,
      decidedOn: '2024-11-05',
      decision: 'Synthetic decision',
      optionsConsidered: [],
      expectedOutcomes: [],
      reviews: [],
      status: 'open',
      since: {
        from: '2024-11-05',
        byPerspective: [
          {
            perspective: 'child',
            entries: [
              { position: 7, framework: 'ecm', domain },
              { position: 99, framework: 'ecm', domain },
            ],
          },
        ],
      },
    });
    const cards = decisionCardsOf({
      decisions: [decision(1, 'stay-safe'), decision(2, 'be-healthy')],
      evidence: [evidence],
    });
    expect(cards.map((card) => card.since?.byPerspective[0].entries)).toEqual([
      [{ ...evidence, framework: 'ecm', domain: 'stay-safe' }],
      [{ ...evidence, framework: 'ecm', domain: 'be-healthy' }],
    ]);
    expect(decisionCardsOf(null)).toEqual([]);
  });
});

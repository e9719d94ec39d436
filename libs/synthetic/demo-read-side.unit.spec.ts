import { upcast } from '@throughline/contracts';
import { decisionsOf, FRAMEWORK_DOCUMENT, outcomesOf, type FrameworkDocument } from '@throughline/outcomes';
import {
  DEMO_COHORT_OPTIONS,
  eventsOf,
  exampleLinkedChild,
  generateCohort,
  storyOf,
  type SyntheticChild,
  type SyntheticCohort,
} from '@throughline/synthetic';
import { timelineEntryOf, type TimelineEntryView } from '@throughline/timeline';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// Generating the demo cohort takes seconds; a shared 2-core machine can make it many more.
jest.setTimeout(60_000);

/**
 * The demo child as the read side derives it: the child's events projected to timeline entries
 * (libs/timeline, as the projector does), read by the outcomes and decisions functions
 * (libs/outcomes) with the seeded framework document and the cohort's `now` as today. What
 * `npm start` prints about the child must be what the endpoints answer.
 */

function entriesOf(cohort: SyntheticCohort, child: SyntheticChild): TimelineEntryView[] {
  return eventsOf(cohort, child).map((event, index) => {
    const draft = timelineEntryOf(upcast(event), {
      position: BigInt(index + 1),
      streamId: `${event.source.agency}-${event.subject.recordId}`,
      metadata: { topic: `agency.${event.source.agency}`, partition: 0, offset: String(index) },
    });
    // As the timeline query reads a stored row (libs/timeline/queries.ts).
    const { occurredAt, ...details } = draft.details as typeof draft.details & { occurredAt: string };
    return {
      position: Number(draft.position),
      occurredAt: occurredAt ?? draft.occurredAt,
      agency: draft.agency,
      type: draft.type,
      summary: draft.summary,
      outcomeDomain: draft.outcomeDomain,
      ...details,
      lineage: draft.lineage,
      sharedUnder: { basis: 'own-organisation' },
    } as TimelineEntryView;
  });
}

describe('the demo child, as the outcomes and decisions endpoints derive it', () => {
  let cohort: SyntheticCohort;
  let child: SyntheticChild;
  let entries: TimelineEntryView[];
  let document: FrameworkDocument;
  beforeAll(() => {
    cohort = generateCohort(DEMO_COHORT_OPTIONS);
    child = exampleLinkedChild(cohort);
    entries = entriesOf(cohort, child);
    document = FRAMEWORK_DOCUMENT.parse(
      JSON.parse(readFileSync(join(__dirname, '..', '..', 'infra', 'outcome-frameworks.json'), 'utf8')),
    );
  });

  it('has decisions open, due, overdue and reviewed on the cohort’s today, as the generator says', () => {
    const today = cohort.now.slice(0, 10);
    const { decisions } = decisionsOf({ entries, document, today, reviewDueDays: 14 });
    const counted = { open: 0, 'review-due': 0, overdue: 0, reviewed: 0 };
    for (const decision of decisions) counted[decision.status] += 1;
    expect(counted).toEqual(storyOf(cohort, child).decisions);
    for (const status of Object.values(counted)) expect(status).toBeGreaterThan(0);
    expect(decisions.some((decision) => decision.reviews.length >= 2)).toBe(true);
  });

  it('has safety rated by the child, the family and professionals of two agencies, with disagreement and views differ', () => {
    const { domains } = outcomesOf({
      entries,
      document,
      dateOfBirth: child.dateOfBirth,
      framework: 'signs-of-safety',
      period: 'term',
      threshold: 0.3,
    });
    const safety = domains.find((domain) => domain.domain === 'safety')!;
    const perspectives = safety.series.map((series) => series.perspective);
    expect(perspectives).toEqual(
      expect.arrayContaining(['child', 'family', 'professional:social-care:social worker']),
    );
    expect(perspectives.filter((p) => p.startsWith('professional:')).length).toBeGreaterThanOrEqual(2);
    expect(safety.disagreements.length).toBeGreaterThan(0);
    expect(safety.viewsDiffer.length).toBeGreaterThan(0);
  });

  it('shows ECM domains over several years with indicators (attendance, ASQ-3, key stage) beside the accounts', () => {
    const { domains } = outcomesOf({
      entries,
      document,
      dateOfBirth: child.dateOfBirth,
      framework: 'ecm',
      period: 'year',
      threshold: 0.3,
    });
    const rated = domains.filter((domain) => domain.series.some((series) => series.points.length >= 3));
    expect(rated.length).toBeGreaterThanOrEqual(3);
    const years = new Set(
      rated.flatMap((d) => d.series.flatMap((s) => s.points.map((p) => p.date.slice(0, 4)))),
    );
    expect(years.size).toBeGreaterThanOrEqual(5);
    const indicators = new Set(
      domains.flatMap((domain) => domain.indicators.map((indicator) => indicator.name)),
    );
    expect(indicators.has('attendance')).toBe(true);
    expect([...indicators].some((name) => name.startsWith('ks2'))).toBe(true);
    expect([...indicators].some((name) => /asq|communication/i.test(name))).toBe(true);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '@throughline/platform';
import { allSeeingRequester } from '@throughline/testing';
import type { EntryView, TimelineQueries } from '@throughline/timeline';
import { AnswerCache } from './answer-cache';
import { parseFrameworkDocument, type FrameworkStore } from './framework-store';
import { OutcomeReads } from './outcome-reads';
import type { OutcomesQuery } from './responses';

const document = parseFrameworkDocument(
  JSON.parse(readFileSync(join(projectRoot(), 'infra', 'outcome-frameworks.json'), 'utf8')) as unknown,
);

describe('AnswerCache', () => {
  it('gives back what was kept under the same key, and nothing under another', () => {
    const cache = new AnswerCache(1024);
    const key = AnswerCache.keyOf(['outcomes', 1, 'ch_1'], [1, 2, 3]);
    cache.set(key, '"a":1');
    expect(cache.get(key)).toBe('"a":1');
    expect(cache.get(AnswerCache.keyOf(['outcomes', 1, 'ch_1'], [1, 2, 3, 4]))).toBeUndefined();
    expect(cache.get(AnswerCache.keyOf(['outcomes', 2, 'ch_1'], [1, 2, 3]))).toBeUndefined();
    // Parts are kept apart: ['a', 'b'] is not ['ab'] nor ['a', '', 'b'].
    expect(AnswerCache.keyOf(['a', 'b'], [])).not.toBe(AnswerCache.keyOf(['ab'], []));
    expect(AnswerCache.keyOf(['a', undefined, 'b'], [])).not.toBe(AnswerCache.keyOf(['a', 'b'], []));
  });

  it('lets the least recently used answers go past its size, and keeps none larger than it', () => {
    // Sizes are UTF-16 code units × 2 of key and answer: each entry below is (2 + 48) × 2 = 100 bytes.
    const cache = new AnswerCache(250);
    const answer = 'x'.repeat(48);
    cache.set('k1', answer);
    cache.set('k2', answer);
    expect(cache.get('k1')).toBe(answer); // k1 is now the most recently used
    cache.set('k3', answer);
    expect(cache.size).toBe(2);
    expect(cache.get('k2')).toBeUndefined();
    expect(cache.get('k1')).toBe(answer);
    expect(cache.get('k3')).toBe(answer);
    cache.set('k4', 'y'.repeat(200));
    expect(cache.get('k4')).toBeUndefined();
    expect(new AnswerCache(0).size).toBe(0);
  });
});

describe('OutcomeReads answers as JSON', () => {
  let position = 0;
  const rating = (date: string, perspective: 'child' | 'professional', value: number): EntryView => {
    position += 1;
    return {
      position,
      occurredAt: `${date}T10:00:00Z`,
      agency: 'social-care',
      type: 'outcome.observation.recorded',
      summary: `rating on ${date}`,
      kind: 'observation',
      perspective,
      observerRole: perspective === 'child' ? 'child' : 'social worker',
      narrative: `${perspective} account`,
      outcomeDomain: { framework: 'signs-of-safety', domain: 'safety' },
      indicator: { name: 'sos-safety', value, scale: { name: 'sos-safety', min: 0, max: 10 } },
      lineage: {
        eventId: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`,
        storePosition: position,
        sourceSystem: 't',
      },
    } as unknown as EntryView;
  };
  const decision = (date: string): EntryView => {
    position += 1;
    return {
      position,
      occurredAt: `${date}T10:00:00Z`,
      agency: 'social-care',
      type: 'practice.decision.recorded',
      summary: `decision on ${date}`,
      kind: 'decision',
      outcomeDomain: { framework: 'ecm', domain: 'stay-safe' },
      decision: { decidedOn: date, reviewDate: '2030-01-01', rationale: 'r', expectedOutcomes: [] },
      lineage: {
        eventId: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`,
        storePosition: position,
        sourceSystem: 't',
      },
    } as unknown as EntryView;
  };

  function readsOver(entries: EntryView[], version = { value: 1 }) {
    const read = { withheld: [] as unknown[], calls: 0 };
    const timeline = {
      entriesOf: async () => {
        read.calls += 1;
        return {
          childKey: 'ch_00000000000000000001',
          dateOfBirth: '2015-03-01',
          subjects: [],
          links: [],
          entries: [...entries],
          withheld: read.withheld,
          access: { purpose: 'direct-care', policyVersion: 1 },
        };
      },
    } as unknown as Pick<TimelineQueries, 'entriesOf'>;
    const frameworks = {
      current: () => ({ version: version.value, document }),
    } as unknown as Pick<FrameworkStore, 'current'>;
    const reviews = { reviewsDue: async () => ({}) } as never;
    return {
      read,
      reads: new OutcomeReads(timeline, frameworks, reviews, {
        reviewDueDays: 14,
        disagreementThreshold: 0.3,
      }),
    };
  }
  const who = allSeeingRequester();
  const query = { framework: 'signs-of-safety', period: 'year' } as OutcomesQuery;

  it('sends exactly the object answer, read after read, and follows every change of what it is derived from', async () => {
    const entries = [
      rating('2022-01-10', 'child', 3),
      rating('2022-01-12', 'professional', 7),
      decision('2022-02-01'),
    ];
    const version = { value: 1 };
    const { read, reads } = readsOver(entries, version);
    const same = async () => {
      const [json, object] = [
        await reads.outcomesJson('ch_00000000000000000001', query, who),
        await reads.outcomes('ch_00000000000000000001', query, who),
      ];
      expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(object)));
      const [decisionsJson, decisions] = [
        await reads.decisionsJson('ch_00000000000000000001', who),
        await reads.decisions('ch_00000000000000000001', who),
      ];
      expect(JSON.parse(decisionsJson)).toEqual(JSON.parse(JSON.stringify(decisions)));
      return JSON.parse(json) as {
        domains: { domain: string; series: { points: unknown[] }[] }[];
        withheld: unknown[];
      };
    };
    const first = await same();
    expect(await same()).toEqual(first);
    // Every read asks the chronology (the access decision and the access record), cached or not.
    expect(read.calls).toBe(8);

    entries.push(rating('2023-01-10', 'child', 6)); // recorded since
    const later = await same();
    expect(later).not.toEqual(first);
    const points = (answer: typeof first) =>
      answer.domains.flatMap((domain) => domain.series.flatMap((one) => one.points)).length;
    expect(points(later)).toBe(points(first) + 1);

    entries.splice(0, 1); // a policy that shows this reader less
    expect(points(await same())).toBe(points(later) - 1);

    read.withheld = [{ reason: 'not-shared', count: 1 }]; // what is withheld is never taken from the cache
    expect((await same()).withheld).toEqual([{ reason: 'not-shared', count: 1 }]);

    version.value = 2; // a new framework version is derived afresh
    expect(await same()).toBeDefined();
  });
});

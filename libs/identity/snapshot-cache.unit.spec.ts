import { SnapshotCache } from './linker-state';
import type { SubjectSnapshot } from './subject';

const snapshot = (streamId: string, n = 0) => ({ streamId, n }) as unknown as SubjectSnapshot;

describe('SnapshotCache', () => {
  it('gives a snapshot only at the position it was written at', () => {
    const cache = new SnapshotCache();
    cache.set('health-a', '10', snapshot('health-a'));
    expect(cache.get('health-a', '10')).toEqual(snapshot('health-a'));
    expect(cache.get('health-a', '11')).toBeUndefined();
    expect(cache.get('health-b', '10')).toBeUndefined();
    cache.set('health-a', '12', snapshot('health-a', 1));
    expect(cache.get('health-a', '10')).toBeUndefined();
    expect(cache.get('health-a', '12')).toEqual(snapshot('health-a', 1));
  });

  it("lists the positions it knows of a batch's records", () => {
    const cache = new SnapshotCache();
    cache.set('health-a', '10', snapshot('health-a'));
    cache.set('health-c', '30', snapshot('health-c'));
    expect(cache.positionsOf(['health-a', 'health-b', 'health-c'])).toEqual([
      ['health-a', 'health-c'],
      ['10', '30'],
    ]);
  });

  it('keeps at most its size, the least recently used going first', () => {
    const cache = new SnapshotCache(2);
    cache.set('health-a', '1', snapshot('health-a'));
    cache.set('health-b', '2', snapshot('health-b'));
    expect(cache.get('health-a', '1')).toBeDefined(); // a is now the most recently used
    cache.set('health-c', '3', snapshot('health-c'));
    expect(cache.get('health-b', '2')).toBeUndefined();
    expect(cache.get('health-a', '1')).toBeDefined();
    expect(cache.get('health-c', '3')).toBeDefined();
  });

  it('forgets everything when cleared (a rebuild empties the tables)', () => {
    const cache = new SnapshotCache();
    cache.set('health-a', '1', snapshot('health-a'));
    cache.clear();
    expect(cache.get('health-a', '1')).toBeUndefined();
  });
});

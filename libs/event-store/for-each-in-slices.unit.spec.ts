import { forEachInSlices } from './subscription-runner';

describe('forEachInSlices', () => {
  it('visits every item in order, giving the event loop a turn between slices of 50', async () => {
    const log: string[] = [];
    setImmediate(() => log.push('turn')); // queued before: it runs at the first turn given
    await forEachInSlices(
      Array.from({ length: 120 }, (_, n) => n),
      (n) => log.push(String(n)),
    );
    expect(log.filter((entry) => entry !== 'turn')).toEqual(Array.from({ length: 120 }, (_, n) => String(n)));
    expect(log.indexOf('turn')).toBe(50); // after the first slice, not before it nor at the end
  });

  it('stops at a visit that throws, with its error', async () => {
    const seen: number[] = [];
    const failure = new Error('bad item');
    await expect(
      forEachInSlices([1, 2, 3], (n) => {
        if (n === 2) throw failure;
        seen.push(n);
      }),
    ).rejects.toBe(failure);
    expect(seen).toEqual([1]);
  });
});

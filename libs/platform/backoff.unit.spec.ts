import { describe, expect, it } from '@jest/globals';
import { backoffDelay, sleep } from './backoff';

describe('backoffDelay', () => {
  const options = { initialMs: 100, maxMs: 5_000 };

  it('doubles from initialMs up to maxMs without jitter', () => {
    const pauses = [0, 1, 2, 3, 6, 7, 100].map((attempt) =>
      backoffDelay(attempt, { ...options, jitter: 'none' }),
    );
    expect(pauses).toEqual([100, 200, 400, 800, 5_000, 5_000, 5_000]);
  });

  it('with equal jitter (the default) waits between half the pause and all of it', () => {
    expect(backoffDelay(3, options, () => 0)).toBe(400);
    expect(backoffDelay(3, options, () => 0.999_999)).toBe(799);
    expect(backoffDelay(50, options, () => 0)).toBe(2_500);
  });

  it('with full jitter waits anything from nothing to the pause', () => {
    expect(backoffDelay(3, { ...options, jitter: 'full' }, () => 0)).toBe(0);
    expect(backoffDelay(3, { ...options, jitter: 'full' }, () => 0.5)).toBe(400);
  });

  it('spreads clients failing together', () => {
    const pauses = new Set(Array.from({ length: 20 }, () => backoffDelay(4, options)));
    expect(pauses.size).toBeGreaterThan(1);
  });
});

describe('sleep', () => {
  it('resolves true once the time has passed', async () => {
    await expect(sleep(1)).resolves.toBe(true);
  });

  it('resolves false at once when aborted, before or during the wait', async () => {
    const aborted = new AbortController();
    aborted.abort();
    await expect(sleep(60_000, aborted.signal)).resolves.toBe(false);
    const later = new AbortController();
    const waiting = sleep(60_000, later.signal);
    later.abort();
    await expect(waiting).resolves.toBe(false);
  });
});

/** Small, pure statistics for the benchmark: no I/O. */

/** Nearest-rank percentile (p in 0..100) of a sample; NaN for an empty sample. */
export function percentile(samples: readonly number[], p: number): number {
  if (p < 0 || p > 100) throw new RangeError(`percentile ${p} must lie within 0..100`);
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export function mean(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  return samples.reduce((sum, value) => sum + value, 0) / samples.length;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export function summariseLatencies(samples: readonly number[]): LatencySummary {
  return {
    count: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: samples.length === 0 ? Number.NaN : Math.max(...samples),
  };
}

/** Events per second over an elapsed time in milliseconds. */
export function perSecond(count: number, elapsedMs: number): number {
  if (elapsedMs <= 0) throw new RangeError(`elapsed time ${elapsedMs} ms must be positive`);
  return (count * 1000) / elapsedMs;
}

/** Milliseconds since an hrtime origin taken with process.hrtime.bigint(). */
export function elapsedMs(since: bigint, now: bigint = process.hrtime.bigint()): number {
  return Number(now - since) / 1e6;
}

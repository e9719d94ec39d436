export interface BackoffOptions {
  /** Milliseconds of the first pause (attempt 0); each later one doubles, up to maxMs. */
  readonly initialMs: number;
  /** Longest pause in milliseconds. */
  readonly maxMs: number;
  /**
   * How the pause is spread so that many clients failing together do not retry together:
   * `equal` (default) waits half the pause plus a random part of the other half, so the pauses
   * still grow; `full` waits a random part of all of it; `none` waits exactly the pause.
   */
  readonly jitter?: 'equal' | 'full' | 'none';
}

/** The pause before retry number `attempt` (0-based): exponential, capped, with jitter. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  // 2 ** 30 already passes any cap in milliseconds; bounding the exponent keeps the product finite.
  const pause = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  switch (options.jitter ?? 'equal') {
    case 'none':
      return pause;
    case 'full':
      return Math.floor(random() * pause);
    case 'equal':
      return Math.floor(pause / 2 + random() * (pause / 2));
  }
}

/**
 * Waits `ms` milliseconds, or less when `signal` aborts: resolves true when the whole time
 * passed, false when cut short (the caller then looks at why).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (slept: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', aborted);
      resolve(slept);
    };
    const aborted = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

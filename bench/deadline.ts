import { setTimeout as delay } from 'node:timers/promises';

/** A benchmark stage that did not finish in time: the run fails rather than hangs. */
export class StageTimeoutError extends Error {
  constructor(
    readonly stage: string,
    readonly timeoutMs: number,
    options: { cause?: unknown } = {},
  ) {
    super(`bench stage "${stage}" did not complete within ${timeoutMs} ms`, options);
    this.name = 'StageTimeoutError';
  }
}

/**
 * Races a stage against its deadline. On expiry the stage's signal is aborted, so loops that
 * check it stop starting new work; what is already in flight is ended by the teardown.
 */
export async function withDeadline<T>(
  stage: string,
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new StageTimeoutError(stage, timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const working = work(controller.signal);
  working.catch(() => undefined); // a failure after the deadline has already been reported
  try {
    return await Promise.race([working, expired]);
  } finally {
    clearTimeout(timer);
  }
}

export interface PollOptions {
  readonly stage: string;
  readonly timeoutMs: number;
  /** Milliseconds between checks. */
  readonly intervalMs: number;
}

/** Polls until the condition holds, or throws StageTimeoutError with the condition's last error as cause. */
export async function pollUntil(condition: () => Promise<boolean>, options: PollOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await condition()) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline)
      throw new StageTimeoutError(options.stage, options.timeoutMs, { cause: lastError });
    await delay(options.intervalMs);
  }
}

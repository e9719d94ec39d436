import { setTimeout as delay } from 'node:timers/promises';

/**
 * Fires `count` operations at a fixed rate whatever the previous ones are doing (open loop),
 * so a slow response cannot hide the latency of the ones queued behind it. Stops firing at
 * the first failure or when the signal aborts; resolves once everything fired has settled,
 * rejecting with the first failure.
 */
export async function fireAtFixedRate(
  count: number,
  ratePerSecond: number,
  operation: (index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const intervalMs = 1000 / ratePerSecond;
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  let failure: { readonly error: unknown } | undefined;
  for (let index = 0; index < count && failure === undefined && !signal?.aborted; index++) {
    const wait = start + index * intervalMs - performance.now();
    if (wait > 0) await delay(wait);
    inFlight.push(
      operation(index).catch((error: unknown) => {
        failure ??= { error };
      }),
    );
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure.error;
  signal?.throwIfAborted();
}

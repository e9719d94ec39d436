import { Registry } from 'prom-client';
import { subscriptionMetrics } from './metrics';

async function sample(registry: Registry, name: string, subscription: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.find((value) => value.labels.subscription === subscription)?.value;
}

describe('subscriptionMetrics', () => {
  const recordedAt = new Date('2026-01-01T12:00:00Z');
  let head = 0n;
  let now = recordedAt.getTime();

  function setUp() {
    const registry = new Registry();
    const observer = subscriptionMetrics(registry, {
      headPosition: () => Promise.resolve(head),
      checkpoints: () => Promise.resolve([{ name: 'idle', position: 7n }]),
      now: () => (now += 1_000), // every read of the clock is a second later: no caching between scrapes
    });
    return { registry, observer };
  }

  it('reports position, lag in events and seconds while behind, and zero lag when caught up', async () => {
    const { registry, observer } = setUp();
    head = 120n;
    observer.batchCommitted({
      name: 'timeline',
      events: 20,
      durationMs: 40,
      position: 100n,
      lastRecordedAt: recordedAt,
    });
    expect(await sample(registry, 'throughline_subscription_position', 'timeline')).toBe(100);
    expect(await sample(registry, 'throughline_subscription_lag_events', 'timeline')).toBe(20);
    expect(await sample(registry, 'throughline_subscription_lag_seconds', 'timeline')).toBeGreaterThan(0);

    observer.batchCommitted({
      name: 'timeline',
      events: 20,
      durationMs: 10,
      position: 120n,
      lastRecordedAt: new Date(now),
    });
    expect(await sample(registry, 'throughline_subscription_lag_events', 'timeline')).toBe(0);
    expect(await sample(registry, 'throughline_subscription_lag_seconds', 'timeline')).toBe(0);
    expect(await sample(registry, 'throughline_subscription_events_total', 'timeline')).toBe(40);
    const text = await registry.metrics();
    expect(text).toContain(
      'throughline_subscription_batch_duration_seconds_count{subscription="timeline"} 2',
    );
  });

  it('knows a subscription that has committed nothing since start from its checkpoint', async () => {
    const { registry } = setUp();
    head = 10n;
    expect(await sample(registry, 'throughline_subscription_position', 'idle')).toBe(7);
    expect(await sample(registry, 'throughline_subscription_lag_events', 'idle')).toBe(3);
  });

  it('counts failures, whether the runner retries or stops', async () => {
    const { registry, observer } = setUp();
    observer.failed({ name: 'timeline', error: new Error('x'), willRetry: true });
    observer.failed({ name: 'timeline', error: new Error('x'), willRetry: false });
    const text = await registry.metrics();
    expect(text).toContain(
      'throughline_subscription_failures_total{subscription="timeline",will_retry="true"} 1',
    );
    expect(text).toContain(
      'throughline_subscription_failures_total{subscription="timeline",will_retry="false"} 1',
    );
  });
});

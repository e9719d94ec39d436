import { BATCH_BODY_LIMIT_BYTES, EVENT_BODY_LIMIT_BYTES } from '@throughline/platform';
import { DEMO_COHORT_OPTIONS, generateCohort } from '@throughline/synthetic';
import { MAX_BATCH_EVENTS } from './publication';

/**
 * The batch endpoint's body limit is measured, not guessed: the 1,000 largest events of the
 * synthetic demo cohort, as one batch body, must fit with room to spare (README, "The edge").
 */
describe('the body limits of the publish endpoints', () => {
  const cohort = generateCohort(DEMO_COHORT_OPTIONS);
  const sizes = cohort.events.map((event) => Buffer.byteLength(JSON.stringify(event))).sort((a, b) => b - a);

  it('take the largest valid synthetic batch of 1,000 events at least twice over', () => {
    const largest = sizes.slice(0, MAX_BATCH_EVENTS);
    expect(largest).toHaveLength(MAX_BATCH_EVENTS);
    const bodyBytes = largest.reduce((sum, size) => sum + size + 1, '{"events":[]}'.length);
    process.stdout.write(`largest synthetic batch of ${MAX_BATCH_EVENTS} events: ${bodyBytes} bytes\n`);
    expect(bodyBytes * 2).toBeLessThan(BATCH_BODY_LIMIT_BYTES);
  });

  it('take the largest synthetic event many times over', () => {
    expect(sizes[0] * 10).toBeLessThan(EVENT_BODY_LIMIT_BYTES);
  });
});

import { EVENT_TYPES } from '@throughline/contracts';
import {
  buildChildProtectionPlanStarted,
  buildEvent,
  buildExclusionRecorded,
  buildImmunisationGiven,
  buildOutcomeObservationRecorded,
} from '@throughline/testing';
import { EVERY_CHILD_MATTERS, outcomeDomainLabel, outcomeDomainOf } from './outcome-domains';

describe('outcomeDomainOf', () => {
  it('places agency facts in their Every Child Matters domain', () => {
    expect(outcomeDomainOf(buildImmunisationGiven())).toEqual({ framework: 'ecm', domain: 'be-healthy' });
    expect(outcomeDomainOf(buildExclusionRecorded())).toEqual({
      framework: 'ecm',
      domain: 'enjoy-and-achieve',
    });
    expect(outcomeDomainOf(buildChildProtectionPlanStarted())).toEqual({
      framework: 'ecm',
      domain: 'stay-safe',
    });
  });

  it('reads taking part in decisions as evidence about making a positive contribution', () => {
    for (const type of [
      'social-care.looked-after-review.held',
      'practice.voice-of-child.recorded',
    ] as const) {
      expect(outcomeDomainOf(buildEvent(type))).toEqual({
        framework: 'ecm',
        domain: 'make-a-positive-contribution',
      });
    }
    expect(outcomeDomainOf(buildEvent('health.camhs.referred')).domain).toBe('be-healthy');
    expect(outcomeDomainOf(buildEvent('education.eyfs-profile.assessed')).domain).toBe('enjoy-and-achieve');
    expect(outcomeDomainOf(buildEvent('social-care.missing-episode.recorded')).domain).toBe('stay-safe');
  });

  it('takes an observation at its own word: framework and domain are data', () => {
    const event = buildOutcomeObservationRecorded({
      data: { framework: 'outcomes-star', domain: 'family-relationships' },
    });
    expect(outcomeDomainOf(event)).toEqual({ framework: 'outcomes-star', domain: 'family-relationships' });
    expect(outcomeDomainLabel(outcomeDomainOf(event))).toBeUndefined();
  });

  it("takes the recording practitioner's Every Child Matters domain over the type's (envelope outcomeDomains)", () => {
    const declared = buildEvent('education.attendance.summarised', {
      outcomeDomains: [
        { framework: 'signs-of-safety', domain: 'harm' },
        { framework: 'ecm', domain: 'stay-safe' },
      ],
    });
    expect(outcomeDomainOf(declared)).toEqual({ framework: 'ecm', domain: 'stay-safe' });
    // Another framework's domain leaves the Every Child Matters mapping as it is.
    const other = buildEvent('education.attendance.summarised', {
      outcomeDomains: [{ framework: 'signs-of-safety', domain: 'harm' }],
    });
    expect(outcomeDomainOf(other)).toEqual({ framework: 'ecm', domain: 'enjoy-and-achieve' });
  });

  it('places recorded differing views in the domain they name, else in stay safe', () => {
    const named = buildEvent('practice.views.differ', { data: { framework: 'ecm', domain: 'be-healthy' } });
    expect(outcomeDomainOf(named)).toEqual({ framework: 'ecm', domain: 'be-healthy' });
    const unnamed = buildEvent('practice.views.differ', {
      data: { framework: undefined, domain: undefined },
    });
    expect(outcomeDomainOf(unnamed)).toEqual({ framework: 'ecm', domain: 'stay-safe' });
    expect(outcomeDomainOf(buildEvent('practice.decision.reviewed'))).toEqual({
      framework: 'ecm',
      domain: 'stay-safe',
    });
  });

  it.each(EVENT_TYPES)('maps %s to a domain its framework defines', (type) => {
    const ref = outcomeDomainOf(buildEvent(type));
    expect(ref.framework).toBe(EVERY_CHILD_MATTERS.id);
    expect(EVERY_CHILD_MATTERS.domains.map((domain) => domain.id)).toContain(ref.domain);
    expect(outcomeDomainLabel(ref)).toMatch(/\S/);
  });
});

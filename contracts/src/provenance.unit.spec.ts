import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { buildReferralReceived } from '@throughline/testing';
import { envelope, provenance, source } from './common';
import { importOptionalFieldsOf } from './imported';
import { parseAgencyEvent, toContractIssues } from './validate';

const fromReturn = {
  kind: 'statutory-return',
  format: 'cin-census',
  collectionYear: '2024-25',
  fileSha256: 'a'.repeat(64),
  location: 'Message/Children/Child[3]/CINdetails[1]',
} as const;

describe('provenance', () => {
  it('an event may say which return, year, file and element it was imported from', () => {
    expect(parseAgencyEvent(buildReferralReceived({ provenance: fromReturn })).ok).toBe(true);
  });

  it('names the rule when kind and format disagree or a statutory return has no collection year', () => {
    const rules = (value: unknown) => {
      const parsed = provenance.safeParse(value);
      return parsed.success
        ? []
        : toContractIssues(parsed.error.issues).map((issue) => `${issue.path} ${issue.rule}`);
    };
    expect(rules({ ...fromReturn, kind: 'health-record' })).toEqual(['kind kind-matches-format']);
    expect(rules({ ...fromReturn, collectionYear: undefined })).toEqual([
      'collectionYear required-for-statutory-return',
    ]);
    expect(rules({ ...fromReturn, collectionYear: '2024-26' })).toEqual(['collectionYear consecutive-years']);
    expect(rules({ ...fromReturn, fileSha256: 'abc' })).toEqual(['fileSha256 pattern']);
    expect(
      rules({ ...fromReturn, kind: 'health-record', format: 'fhir-r4', collectionYear: undefined }),
    ).toEqual([]);
  });
});

describe('importOptional', () => {
  const planStarted = envelope(
    'example.plan.started',
    source('social-care'),
    z.strictObject({ startDate: z.iso.date(), rationale: z.string().min(1).optional() }),
    1,
    { importOptional: ['rationale'] },
  );
  const base = {
    eventId: '6f1c1b7e-1b0a-4b7a-9d43-2a4a3f0f2a11',
    type: 'example.plan.started',
    schemaVersion: 1,
    occurredAt: '2024-06-01T09:00:00Z',
    source: { agency: 'social-care', system: 'case-system' },
    subject: { recordId: 'la991-C1' },
    data: { startDate: '2024-06-01' },
  };

  it('is required when a practitioner records the event', () => {
    const parsed = planStarted.safeParse(base);
    expect(parsed.success).toBe(false);
    if (!parsed.success)
      expect(toContractIssues(parsed.error.issues)).toEqual([
        expect.objectContaining({ path: 'data.rationale', rule: 'required-unless-imported' }),
      ]);
  });

  it('may be left out by an imported event, whose return does not hold it', () => {
    expect(planStarted.safeParse({ ...base, provenance: fromReturn }).success).toBe(true);
    expect(planStarted.safeParse({ ...base, data: { ...base.data, rationale: 'why' } }).success).toBe(true);
  });
});

describe('importOptionalFieldsOf', () => {
  it('names the fields each type may leave out when imported, and none for a type without them', () => {
    expect(importOptionalFieldsOf('social-care.child-protection-plan.started')).toEqual(
      expect.arrayContaining(['rationale']),
    );
    expect(importOptionalFieldsOf('practice.decision.recorded')).toEqual([]);
  });
});

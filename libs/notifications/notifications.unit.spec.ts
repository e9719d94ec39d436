import type { Principal } from '@throughline/access';
import { ThroughlineError, ValidationError } from '@throughline/platform';
import type { ProtectionStatus } from '@throughline/timeline';
import { listingAuthorityOf, listingPurposeOf, listingQueryOf } from './inbox';
import {
  accessNotificationSchema,
  accessNotificationsGroupId,
  accessNotificationsTopic,
} from './notification';
import { accessNotificationOf, withinResponsibleAuthority } from './notify';

const socialWorker: Principal = {
  kind: 'person',
  userId: 'demo-social-worker',
  name: 'Sam Adeyemi (demo social worker)',
  organisation: { code: '991', type: 'local-authority', name: 'Throughline Vale children’s services' },
  roles: ['social-worker'],
};
const healthVisitor: Principal = {
  kind: 'person',
  userId: 'demo-health-visitor',
  name: 'Priya Shah (demo health visitor)',
  organisation: { code: 'DEMO-CHS', type: 'health', name: 'Throughline Vale community health' },
  roles: ['health-visitor'],
};
const STATUS: ProtectionStatus = {
  kind: 'child-protection-plan',
  since: '2025-01-10T09:00:00.000Z',
  responsibleLocalAuthority: '991',
  recordIds: ['LA991-000042'],
};
const CHILD = 'ch_0123456789abcdef0123';

function refusal(work: () => unknown): ThroughlineError {
  try {
    work();
  } catch (error) {
    if (error instanceof ThroughlineError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('who is outside the responsible authority', () => {
  it('notifies reads by health, schools, another authority and systems; not by the authority itself', () => {
    expect(withinResponsibleAuthority(socialWorker, '991')).toBe(true);
    expect(withinResponsibleAuthority(socialWorker, '992')).toBe(false);
    expect(withinResponsibleAuthority(healthVisitor, '991')).toBe(false);
    // The same code under another organisation type is not the authority.
    expect(
      withinResponsibleAuthority({ ...healthVisitor, organisation: { code: '991', type: 'school' } }, '991'),
    ).toBe(false);
    expect(withinResponsibleAuthority({ kind: 'system', userId: 'some-client', roles: [] }, '991')).toBe(
      false,
    );
  });
});

describe('the notification', () => {
  it('says who, which organisation, roles, when, why, break-glass and how the authority finds the child; nothing else', () => {
    const notification = accessNotificationOf(
      STATUS,
      {
        childKey: CHILD,
        requester: healthVisitor,
        purpose: 'safeguarding',
        breakGlass: true,
        at: new Date('2025-06-15T12:00:00Z'),
      },
      '6f1f7c1e-9c43-4f53-9a55-3f2a0e3c1d11',
    );
    expect(notification).toEqual({
      schemaVersion: 1,
      notificationId: '6f1f7c1e-9c43-4f53-9a55-3f2a0e3c1d11',
      occurredAt: '2025-06-15T12:00:00.000Z',
      childKey: CHILD,
      recordIds: ['LA991-000042'],
      responsibleLocalAuthority: { code: '991' },
      status: { kind: 'child-protection-plan', since: '2025-01-10T09:00:00.000Z' },
      accessor: {
        userId: 'demo-health-visitor',
        name: 'Priya Shah (demo health visitor)',
        organisation: { code: 'DEMO-CHS', type: 'health', name: 'Throughline Vale community health' },
        roles: ['health-visitor'],
      },
      purpose: 'safeguarding',
      breakGlass: true,
    });
    expect(accessNotificationSchema.safeParse(notification).success).toBe(true);
  });

  it('refuses more child data than the schema carries', () => {
    const parsed = accessNotificationSchema.safeParse({
      ...accessNotificationOf(STATUS, {
        childKey: CHILD,
        requester: healthVisitor,
        purpose: 'safeguarding',
        breakGlass: false,
      }),
      nhsNumber: '9434765919',
    });
    expect(parsed.success).toBe(false);
  });

  it('refuses a purpose that is not a slug with a 400 naming the field', () => {
    const error = refusal(() =>
      accessNotificationOf(STATUS, {
        childKey: CHILD,
        requester: healthVisitor,
        purpose: 'Because!',
        breakGlass: false,
      }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([expect.objectContaining({ path: 'purpose' })]);
  });

  it('travels on the prefixed topic; the consumer group has the prefix the ACL allows', () => {
    expect(accessNotificationsTopic('it-x.')).toBe('it-x.throughline.access-notifications.v1');
    expect(accessNotificationsGroupId('it-x.')).toBe('it-x.throughline-access-notifications');
  });
});

describe('listing notifications', () => {
  it("lets a local authority's social worker, supervisor or IG officer list their own authority's", () => {
    expect(listingAuthorityOf(socialWorker)).toBe('991');
    expect(listingAuthorityOf({ ...socialWorker, roles: ['ig-officer'] })).toBe('991');
    expect(
      listingAuthorityOf({ ...socialWorker, organisation: { code: '992', type: 'local-authority' } }),
    ).toBe('992');
  });

  it('refuses health, an analyst of the authority and a system with 403', () => {
    expect(refusal(() => listingAuthorityOf(healthVisitor)).code).toBe('FORBIDDEN');
    expect(refusal(() => listingAuthorityOf({ ...socialWorker, roles: ['analyst'] })).code).toBe('FORBIDDEN');
    expect(refusal(() => listingAuthorityOf({ ...socialWorker, kind: 'system' })).code).toBe('FORBIDDEN');
  });

  it('requires x-purpose, a slug', () => {
    expect(listingPurposeOf({ 'x-purpose': ' safeguarding ' })).toBe('safeguarding');
    const missing = refusal(() => listingPurposeOf({})) as ValidationError;
    expect(missing.issues).toEqual([
      expect.objectContaining({ path: 'headers.x-purpose', rule: 'required' }),
    ]);
    const bad = refusal(() => listingPurposeOf({ 'x-purpose': 'Why Not' })) as ValidationError;
    expect(bad.issues).toEqual([expect.objectContaining({ path: 'headers.x-purpose' })]);
  });

  it('reads from, to and limit, naming the field and rule of what is wrong', () => {
    expect(listingQueryOf({})).toEqual({ limit: 100 });
    expect(
      listingQueryOf({ from: '2025-01-01T00:00:00Z', to: '2025-02-01T00:00:00+01:00', limit: '5' }),
    ).toEqual({
      from: new Date('2025-01-01T00:00:00Z'),
      to: new Date('2025-01-31T23:00:00Z'),
      limit: 5,
    });
    const issuesOf = (query: unknown) => (refusal(() => listingQueryOf(query)) as ValidationError).issues;
    expect(issuesOf({ from: 'yesterday' })).toEqual([expect.objectContaining({ path: 'query.from' })]);
    expect(issuesOf({ limit: '0' })).toEqual([expect.objectContaining({ path: 'query.limit' })]);
    expect(issuesOf({ limit: '501' })).toEqual([expect.objectContaining({ path: 'query.limit' })]);
    expect(issuesOf({ from: '2025-02-01T00:00:00Z', to: '2025-01-01T00:00:00Z' })).toEqual([
      expect.objectContaining({ path: 'query.to', rule: 'not-before-from' }),
    ]);
    expect(issuesOf({ child: 'ch_0123456789abcdef0123' })).toEqual([
      expect.objectContaining({ path: 'query.child', rule: 'unknown-field' }),
    ]);
  });
});

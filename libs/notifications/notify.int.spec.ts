import type { Pool } from 'pg';
import type { AgencyEvent, EventType } from '@throughline/contracts';
import type { Principal } from '@throughline/access';
import { PostgresEventStore } from '@throughline/event-store';
import { IdentityLinker, migrateIdentity } from '@throughline/identity';
import { createPool, withTransaction } from '@throughline/platform';
import {
  buildEvent,
  buildImmunisationGiven,
  createTestDatabase,
  freshNhsNumber,
  freshRecordId,
  recordAsTheRecorderWould,
  type TestDatabase,
} from '@throughline/testing';
import {
  TimelineProjector,
  childKeyOf,
  migrateTimeline,
  protectionStatusOf,
  type ProtectionStatus,
} from '@throughline/timeline';
import { accessNotificationSchema, migrateNotifications, notifyIfNeeded } from './index';

/**
 * CP-IS scope read from the real read models (events recorded, projected and linked as in the
 * apps), and the outbox row a read outside the responsible authority leaves behind.
 */

const DAY_MS = 24 * 60 * 60 * 1000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS);
const dateOf = (days: number) => daysAgo(days).toISOString().slice(0, 10);
const BORN = dateOf(9 * 365);

let database: TestDatabase;
let store: PostgresEventStore;
let pool: Pool;
let projector: TimelineProjector;
let linker: IdentityLinker;

beforeAll(async () => {
  database = await createTestDatabase('tl_notify');
  store = await PostgresEventStore.create({ connectionString: database.url, idlePollMs: 50 });
  pool = createPool(database.url);
  await migrateTimeline(pool);
  await migrateIdentity(pool);
  await migrateNotifications(pool);
  linker = new IdentityLinker({ pool, store });
  await linker.start();
  projector = new TimelineProjector({ pool, store, name: 'notify-int', batchSize: 100 });
  await projector.start();
});

afterAll(async () => {
  await projector?.stop();
  await linker?.stop();
  await store?.close();
  await pool?.end();
  await database?.drop();
});

async function settle(): Promise<void> {
  for (let head = await store.headPosition(); ;) {
    await linker.waitForPosition(head);
    await projector.waitForPosition(head);
    const now = await store.headPosition();
    if (now === head) return;
    head = now;
  }
}

/** One child's social-care record (LA `organisation`) and events on it, `daysAgo` each. */
function socialCareChild(organisation: string | undefined, nhsNumber = freshNhsNumber()) {
  const recordId = freshRecordId('LA');
  const event = <T extends EventType>(type: T, days: number, data: Record<string, unknown>): AgencyEvent =>
    buildEvent(type, {
      occurredAt: daysAgo(days).toISOString(),
      source: { agency: 'social-care', system: 'demo-case-system', organisation },
      subject: { recordId, nhsNumber, laCode: organisation ?? '926', dateOfBirth: BORN },
      data,
    } as never) as AgencyEvent;
  return {
    recordId,
    nhsNumber,
    childKey: childKeyOf(`social-care-${recordId}`),
    planStarted: (days: number) =>
      event('social-care.child-protection-plan.started', days, { startDate: dateOf(days) }),
    planEnded: (days: number, started: number) =>
      event('social-care.child-protection-plan.ended', days, {
        startDate: dateOf(started),
        endDate: dateOf(days),
      }),
    careStarted: (days: number) =>
      event('social-care.looked-after-episode.started', days, { startDate: dateOf(days) }),
    careEnded: (days: number, started: number) =>
      event('social-care.looked-after-episode.ended', days, {
        startDate: dateOf(started),
        endDate: dateOf(days),
      }),
    referral: (days: number) => event('social-care.referral.received', days, { referralDate: dateOf(days) }),
  };
}

const record = (...events: AgencyEvent[]) => recordAsTheRecorderWould(store, ...events);

const person = (userId: string, organisation: Principal['organisation'], roles: string[]): Principal => ({
  kind: 'person',
  userId,
  name: `${userId} (synthetic)`,
  organisation,
  roles,
});
const HEALTH_VISITOR = person('demo-health-visitor', { code: 'DEMO-CHS', type: 'health' }, [
  'health-visitor',
]);
const SOCIAL_WORKER = person('demo-social-worker', { code: '991', type: 'local-authority' }, [
  'social-worker',
]);
const NEIGHBOUR = person('lf-social-worker', { code: '992', type: 'local-authority' }, ['social-worker']);

async function outbox(
  notificationId: string,
): Promise<{ local_authority: string; payload: unknown; sent_at: Date | null }[]> {
  const result = await pool.query(
    'SELECT local_authority, payload, sent_at FROM access_notification_outbox WHERE notification_id = $1',
    [notificationId],
  );
  return result.rows;
}

describe('protection status and notifications from the read models', () => {
  const onPlan = socialCareChild('991');
  const endedLastYear = socialCareChild('991');
  const endedLongAgo = socialCareChild('991');
  const referredOnly = socialCareChild('991');
  const noAuthority = socialCareChild(undefined);
  let healthRecord: string;

  beforeAll(async () => {
    healthRecord = freshRecordId('chs');
    await record(
      onPlan.referral(100),
      onPlan.planStarted(60),
      // A health record of the same child: linked by NHS number, so the status follows the child.
      buildImmunisationGiven({
        occurredAt: daysAgo(30).toISOString(),
        subject: { recordId: healthRecord, nhsNumber: onPlan.nhsNumber, dateOfBirth: BORN },
        data: { givenDate: dateOf(30) },
      }),
      endedLastYear.careStarted(700),
      endedLastYear.careEnded(180, 700),
      endedLongAgo.planStarted(900),
      endedLongAgo.planEnded(400, 900),
      referredOnly.referral(20),
      noAuthority.planStarted(20),
    );
    await settle();
  });

  it('finds a current plan, with its start, the authority and its record ids', async () => {
    const status = await protectionStatusOf(pool, onPlan.childKey);
    expect(status).toEqual<ProtectionStatus>({
      kind: 'child-protection-plan',
      since: expect.stringMatching(new RegExp(`^${dateOf(60)}T`)),
      responsibleLocalAuthority: '991',
      recordIds: [onPlan.recordId],
    });
  });

  it('keeps a period of care ended six months ago in scope and drops a plan ended over a year ago', async () => {
    expect(await protectionStatusOf(pool, endedLastYear.childKey)).toMatchObject({
      kind: 'looked-after',
      endedAt: expect.any(String),
      responsibleLocalAuthority: '991',
    });
    expect(await protectionStatusOf(pool, endedLongAgo.childKey)).toBeUndefined();
    // Looked at as of 500 days ago, that plan was current.
    expect(await protectionStatusOf(pool, endedLongAgo.childKey, daysAgo(500))).toMatchObject({
      kind: 'child-protection-plan',
    });
  });

  it('finds no status without a plan or care, nor where no entry names the authority', async () => {
    expect(await protectionStatusOf(pool, referredOnly.childKey)).toBeUndefined();
    expect(await protectionStatusOf(pool, noAuthority.childKey)).toBeUndefined();
  });

  it('writes a notification to the outbox for a read by health, valid against the schema', async () => {
    const outcome = await notifyIfNeeded(pool, {
      childKey: onPlan.childKey,
      requester: HEALTH_VISITOR,
      purpose: 'safeguarding',
      breakGlass: false,
    });
    expect(outcome).toEqual({ notified: true, notificationId: expect.any(String), localAuthority: '991' });
    if (!outcome.notified) throw new Error('not notified');
    const [row] = await outbox(outcome.notificationId);
    expect(row.local_authority).toBe('991');
    expect(row.sent_at).toBeNull();
    const notification = accessNotificationSchema.parse(row.payload);
    expect(notification).toMatchObject({
      childKey: onPlan.childKey,
      recordIds: [onPlan.recordId],
      responsibleLocalAuthority: { code: '991' },
      status: { kind: 'child-protection-plan' },
      accessor: { userId: 'demo-health-visitor', organisation: { code: 'DEMO-CHS', type: 'health' } },
      purpose: 'safeguarding',
      breakGlass: false,
    });
    // No other child data: the health record's id stays out.
    expect(JSON.stringify(row.payload)).not.toContain(healthRecord);
    expect(JSON.stringify(row.payload)).not.toContain(onPlan.nhsNumber);
  });

  it('tells the authority once per episode: the same person, child and purpose within the window', async () => {
    const read = {
      childKey: onPlan.childKey,
      requester: { ...HEALTH_VISITOR, userId: 'demo-episode-reader' },
      purpose: 'direct-care',
      breakGlass: false,
      coalesceMinutes: 60,
    };
    const first = await notifyIfNeeded(pool, read);
    expect(first).toMatchObject({ notified: true, localAuthority: '991' });
    if (!first.notified) throw new Error('not notified');
    expect(await notifyIfNeeded(pool, read)).toEqual({
      notified: false,
      reason: 'same-episode',
      notificationId: first.notificationId,
      localAuthority: '991',
    });
    // Another purpose, break-glass, or the window passed: a new notification each.
    expect(await notifyIfNeeded(pool, { ...read, purpose: 'safeguarding' })).toMatchObject({
      notified: true,
    });
    expect(await notifyIfNeeded(pool, { ...read, breakGlass: true })).toMatchObject({ notified: true });
    const later = new Date(Date.now() + 61 * 60_000);
    expect(await notifyIfNeeded(pool, { ...read, at: later })).toMatchObject({ notified: true });
    // Without a window every read is told.
    expect(await notifyIfNeeded(pool, { ...read, coalesceMinutes: 0 })).toMatchObject({ notified: true });
  });

  it('notifies a read by another authority, not one by the responsible authority, not one of a child out of scope', async () => {
    expect(
      await notifyIfNeeded(pool, {
        childKey: onPlan.childKey,
        requester: NEIGHBOUR,
        purpose: 'direct-care',
        breakGlass: true,
      }),
    ).toMatchObject({ notified: true, localAuthority: '991' });
    expect(
      await notifyIfNeeded(pool, {
        childKey: onPlan.childKey,
        requester: SOCIAL_WORKER,
        purpose: 'direct-care',
        breakGlass: false,
      }),
    ).toEqual({ notified: false, reason: 'responsible-authority' });
    expect(
      await notifyIfNeeded(pool, {
        childKey: endedLongAgo.childKey,
        requester: HEALTH_VISITOR,
        purpose: 'direct-care',
        breakGlass: false,
      }),
    ).toEqual({ notified: false, reason: 'not-in-scope' });
  });

  it('commits the notification with the access or not at all (the caller’s transaction)', async () => {
    const before = await pool.query('SELECT count(*)::int AS n FROM access_notification_outbox');
    await expect(
      withTransaction(pool, async (client) => {
        const outcome = await notifyIfNeeded(client, {
          childKey: onPlan.childKey,
          requester: HEALTH_VISITOR,
          purpose: 'safeguarding',
          breakGlass: false,
        });
        expect(outcome.notified).toBe(true);
        throw new Error('the access record could not be written');
      }),
    ).rejects.toThrow('the access record could not be written');
    const after = await pool.query('SELECT count(*)::int AS n FROM access_notification_outbox');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });
});

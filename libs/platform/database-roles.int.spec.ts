import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { Pool } from 'pg';
import { migrateAccess } from '@throughline/access';
import { PostgresEventStore } from '@throughline/event-store';
import { migrateIdentity } from '@throughline/identity';
import { migrateNotifications } from '@throughline/notifications';
import { PostgresDeadLetters } from '@throughline/recording';
import { createTestDatabase, testDatabaseServerUrl, type TestDatabase } from '@throughline/testing';
import { migrateTimeline, resetTimelineReadModels } from '@throughline/timeline';
import {
  bootstrapDatabase,
  connectionAs,
  createPool,
  DEFAULT_APP_ROLE,
  DEFAULT_OWNER_ROLE,
  dropDatabase,
  migrateAsOwner,
  roleOf,
} from './index';

/**
 * Decision 011: the apps connect as a role that reads and writes rows and nothing more; the
 * owner role migrates and grants. Every context is migrated here the way the apps do it, then
 * the app role is shown doing its work and refused everything else, with SQLSTATE 42501.
 */

let database: TestDatabase;
let app: Pool;
let owner: Pool;
let store: PostgresEventStore;
let deadLetters: PostgresDeadLetters;

const INSUFFICIENT_PRIVILEGE = '42501';

/** Migrations as the apps run them: the owner migrates every context, granting the app role. */
async function migrateEverything(): Promise<void> {
  const connections = { app: database.appUrl, owner: database.ownerUrl };
  await migrateAsOwner(connections, async (pool, grants) => {
    await migrateTimeline(pool, grants);
    await migrateIdentity(pool, grants);
    await migrateAccess(pool, grants);
    await migrateNotifications(pool, grants);
  });
}

/** The SQLSTATE a statement run as the app role fails with (undefined if it succeeds). */
async function sqlStateAsApp(sql: string, params: unknown[] = []): Promise<string | undefined> {
  return app.query(sql, params).then(
    () => undefined,
    (error: { code?: string }) => error.code ?? 'none',
  );
}

async function appPrivileges(table: string): Promise<string[]> {
  const { rows } = await owner.query<{ privilege: string }>(
    `SELECT privilege FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) AS p(privilege)
      WHERE has_table_privilege($1, $2::regclass, p.privilege) ORDER BY privilege`,
    [DEFAULT_APP_ROLE, table],
  );
  return rows.map((row) => row.privilege);
}

/** Tables that refuse TRUNCATE with a trigger: the append-only record (store, audit, governance). */
async function appendOnlyTables(): Promise<string[]> {
  const { rows } = await owner.query<{ table: string }>(
    `SELECT DISTINCT c.relname AS table FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND NOT t.tgisinternal AND (t.tgtype & 32) <> 0 ORDER BY 1`,
  );
  return rows.map((row) => row.table);
}

beforeAll(async () => {
  database = await createTestDatabase('tl_roles');
  store = await PostgresEventStore.create({
    connectionString: database.appUrl,
    ownerConnectionString: database.ownerUrl,
  });
  deadLetters = await PostgresDeadLetters.create({
    connectionString: database.appUrl,
    ownerConnectionString: database.ownerUrl,
  });
  await migrateEverything();
  app = createPool(database.appUrl, { max: 2 });
  owner = createPool(database.ownerUrl, { max: 2 });
}, 60_000);

afterAll(async () => {
  await store?.close();
  await deadLetters?.close();
  await app?.end();
  await owner?.end();
  await database?.drop();
});

describe('the app role', () => {
  it('is neither the owner nor a superuser, and owns nothing', async () => {
    const { rows } = await app.query<{ me: string; superuser: boolean; owns: string }>(
      `SELECT current_user AS me, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
              (SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user))::text AS owns`,
    );
    expect(rows[0]).toEqual({ me: DEFAULT_APP_ROLE, superuser: false, owns: '0' });
    const tables = await owner.query<{ owner: string }>(
      `SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public'`,
    );
    expect(tables.rows).toEqual([{ owner: DEFAULT_OWNER_ROLE }]);
  });

  it('does the event store’s work: appends (one round trip, full path, COPY), metadata, soft delete, tombstones', async () => {
    const stream = `health-roles-${randomUUID()}`;
    const event = { eventId: randomUUID(), type: 'RolesChecked', data: { n: 1 } };
    await store.append(stream, [event], 'no_stream');
    expect((await store.append(stream, [event])).duplicateEventIds).toEqual([event.eventId]);
    const many = Array.from({ length: 250 }, (_, n) => ({
      eventId: randomUUID(),
      type: 'Bulk',
      data: { n },
    }));
    await store.appendMany([{ streamId: `health-bulk-${randomUUID()}`, events: many }], {
      checkpoints: { 'roles-test': '250' },
    });
    expect(await store.readCheckpoint('roles-test')).toBe('250');
    await store.setStreamMetadata(stream, { maxCount: 10 });
    await store.deleteStream(stream);
    await store.tombstoneStream(`health-gone-${randomUUID()}`);
    expect((await store.readAll()).length).toBe(251);
  });

  it('keeps dead letters as received: records them and marks a re-drive, nothing more', async () => {
    await deadLetters.record([
      {
        topic: 'health.events.v1',
        partition: 0,
        offset: '7',
        key: 'k',
        value: Buffer.from('not json'),
        headers: {},
        reason: 'unparseable',
        issues: [],
        deadLetteredAt: new Date(),
      },
    ]);
    const [letter] = (await deadLetters.list()).deadLetters;
    await deadLetters.recordAttempt({
      deadLetterId: letter.id,
      requestedBy: 'roles-test',
      requestedAt: new Date(),
      outcome: 'still-invalid',
      issues: [],
    });
    await deadLetters.markRedriven(letter.id, {
      redrivenAt: new Date().toISOString(),
      redrivenBy: 'roles-test',
      outcome: 'already-stored',
      eventId: null,
      streamId: null,
      position: null,
    });
    expect(await sqlStateAsApp("UPDATE dead_letters SET reason = 'fine'")).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await sqlStateAsApp('UPDATE dead_letters SET value = NULL')).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await sqlStateAsApp('DELETE FROM dead_letters')).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await sqlStateAsApp("UPDATE dead_letter_redrive_attempts SET outcome = 'stored'")).toBe(
      INSUFFICIENT_PRIVILEGE,
    );
  });

  it('writes audit rows (the chain triggers run with its rights) and empties read models for a rebuild', async () => {
    await app.query(
      `INSERT INTO access_log (user_id, purpose, action, returned_entries) VALUES ('roles-test', 'direct-care', 'lookup', 0)`,
    );
    await app.query(
      `INSERT INTO identity_audit_log (user_id, purpose, action, outcome) VALUES ('roles-test', 'identity-review', 'link', 'VALIDATION')`,
    );
    await resetTimelineReadModels(app, 'roles-test');
    await app.query('TRUNCATE identity_subjects, identity_proposals');
  });

  it.each([
    ['UPDATE events', "UPDATE events SET type = 'Rewritten'"],
    ['DELETE events', 'DELETE FROM events'],
    ['TRUNCATE events', 'TRUNCATE events'],
    ['DELETE stream_tombstones', 'DELETE FROM stream_tombstones'],
    ['UPDATE access_log', "UPDATE access_log SET purpose = 'curiosity'"],
    ['DELETE access_log', 'DELETE FROM access_log'],
    ['TRUNCATE access_log', 'TRUNCATE access_log'],
    ['UPDATE identity_audit_log', "UPDATE identity_audit_log SET outcome = 'ok'"],
    ['DELETE identity_audit_log', 'DELETE FROM identity_audit_log'],
    ['TRUNCATE identity_audit_log', 'TRUNCATE identity_audit_log'],
    ['DELETE checkpoints', 'DELETE FROM checkpoints'],
    ['setval on the position sequence', "SELECT setval('events_position_seq', 1)"],
    ['write schema_migrations', "DELETE FROM schema_migrations WHERE context = 'timeline'"],
  ])('is refused %s (42501), before any trigger', async (_name, sql) => {
    expect(await sqlStateAsApp(sql)).toBe(INSUFFICIENT_PRIVILEGE);
  });

  it.each([
    ['CREATE TABLE', 'CREATE TABLE shadow_log (id int)'],
    ['CREATE TABLE in public, qualified', 'CREATE TABLE public.shadow_log (id int)'],
    ['CREATE FUNCTION', 'CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$'],
    ['CREATE SCHEMA', 'CREATE SCHEMA shadow'],
    [
      'CREATE TRIGGER',
      'CREATE TRIGGER t BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_reject_change()',
    ],
    ['DROP TABLE events', 'DROP TABLE events'],
    ['DROP TABLE access_log', 'DROP TABLE access_log'],
    ['DROP FUNCTION', 'DROP FUNCTION access_log_reject_change() CASCADE'],
    ['ALTER TABLE … ADD COLUMN', 'ALTER TABLE events ADD COLUMN note text'],
    ['ALTER TABLE … DISABLE TRIGGER', 'ALTER TABLE access_log DISABLE TRIGGER access_log_append_only_rows'],
    ['ALTER TABLE … OWNER', `ALTER TABLE access_log OWNER TO ${DEFAULT_APP_ROLE}`],
    ['CREATE INDEX', 'CREATE INDEX shadow ON events (type)'],
  ])('is refused DDL: %s (42501)', async (_name, sql) => {
    expect(await sqlStateAsApp(sql)).toBe(INSUFFICIENT_PRIVILEGE);
  });

  it('has only SELECT and INSERT on every append-only table, and SELECT on every table', async () => {
    const appendOnly = await appendOnlyTables();
    expect(appendOnly).toEqual(
      expect.arrayContaining([
        'events',
        'stream_tombstones',
        'access_log',
        'identity_audit_log',
        'dead_letter_redrive_attempts',
      ]),
    );
    for (const table of appendOnly)
      expect([table, await appPrivileges(table)]).toEqual([table, ['INSERT', 'SELECT']]);
    const { rows } = await owner.query<{ table: string }>(
      `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')`,
    );
    for (const { table } of rows)
      expect([table, await appPrivileges(table)]).toEqual([table, expect.arrayContaining(['SELECT'])]);
  });

  it('keeps the same rights when the migrations run again (grants are exact, not cumulative)', async () => {
    const before = await owner.query(
      'SELECT relname, relacl::text FROM pg_class WHERE relacl IS NOT NULL ORDER BY relname',
    );
    await owner.query(`GRANT UPDATE, DELETE ON access_log TO ${DEFAULT_APP_ROLE}`); // an over-grant by hand
    await migrateEverything();
    const after = await owner.query(
      'SELECT relname, relacl::text FROM pg_class WHERE relacl IS NOT NULL ORDER BY relname',
    );
    expect(after.rows).toEqual(before.rows);
    expect(await appPrivileges('access_log')).toEqual(['INSERT', 'SELECT']);
  });
});

describe('bootstrapDatabase', () => {
  const server = testDatabaseServerUrl();

  it('refuses, outside development, an app role that is the owner or a superuser', async () => {
    const admin = `${server}/postgres`;
    await expect(
      bootstrapDatabase(
        { app: database.ownerUrl, owner: database.ownerUrl, admin },
        { requireLimitedAppRole: true },
      ),
    ).rejects.toThrow(
      /DATABASE_URL: the app role throughline_owner is, or inherits the privileges of, the owner role/,
    );
    const asSuperuser = connectionAs(database.appUrl, { user: roleOf(admin) });
    await expect(
      bootstrapDatabase(
        { app: asSuperuser, owner: database.ownerUrl, admin },
        { requireLimitedAppRole: true },
      ),
    ).rejects.toThrow(/is a superuser/);
    await bootstrapDatabase(
      { app: database.appUrl, owner: database.ownerUrl, admin },
      { requireLimitedAppRole: true },
    );
  });

  it('hands a database made before the roles (tables owned by the admin) to the owner role', async () => {
    const name = `tl_roles_adopt_${randomUUID().slice(0, 8)}`;
    const adminUrl = `${server}/${name}`;
    const ownerUrl = connectionAs(adminUrl, { user: DEFAULT_OWNER_ROLE });
    const appUrl = connectionAs(adminUrl, { user: DEFAULT_APP_ROLE });
    const lines: string[] = [];
    const before = new Client({ connectionString: `${server}/postgres` });
    await before.connect();
    try {
      await before.query(`CREATE DATABASE ${name}`);
      const inside = new Client({ connectionString: adminUrl });
      await inside.connect();
      try {
        await inside.query('CREATE TABLE legacy (id bigserial PRIMARY KEY, note text)');
        await inside.query('CREATE FUNCTION legacy_f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$');
      } finally {
        await inside.end();
      }
      await bootstrapDatabase(
        { app: appUrl, owner: ownerUrl, admin: `${server}/postgres` },
        { log: (line) => lines.push(line) },
      );
      const owned = new Client({ connectionString: ownerUrl });
      await owned.connect();
      try {
        const { rows } = await owned.query<{ name: string; owner: string }>(
          `SELECT relname AS name, pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname IN ('legacy', 'legacy_id_seq')
           UNION ALL SELECT proname, pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'legacy_f'
           UNION ALL SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()
           ORDER BY 1`,
        );
        expect(rows).toEqual(
          [name, 'legacy', 'legacy_f', 'legacy_id_seq']
            .sort()
            .map((n) => ({ name: n, owner: DEFAULT_OWNER_ROLE })),
        );
        await owned.query('ALTER TABLE legacy ADD COLUMN more text'); // the owner can migrate it now
      } finally {
        await owned.end();
      }
      expect(lines.join('\n')).toMatch(new RegExp(`database ${name} now owned by ${DEFAULT_OWNER_ROLE}`));
    } finally {
      await before.end();
      await dropDatabase(`${server}/${name}`);
    }
  });
});

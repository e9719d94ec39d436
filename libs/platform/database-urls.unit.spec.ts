import { loadConfig } from './config';
import { connectionAs, databaseOf, roleOf } from './database-urls';

const SALT = 'a-deployment-salt-0123456789';
const KEYS = 'health:trust-system:9f1c2e7a41b0d3c5';
const production = {
  THROUGHLINE_MODE: 'production',
  CHILD_KEY_SALT: SALT,
  PUBLISHER_KEYS: KEYS,
  KAFKA_USERNAME: 'throughline-health',
  KAFKA_PASSWORD: 'a-secret-from-the-deployment',
};

describe('database URLs (decision 011)', () => {
  it('default to the app role, the owner role and the admin on one local server', () => {
    const config = loadConfig({ THROUGHLINE_MODE: 'development' });
    expect([config.DATABASE_URL, config.DATABASE_OWNER_URL, config.DATABASE_ADMIN_URL]).toEqual([
      'postgres://throughline_app@127.0.0.1:5432/throughline',
      'postgres://throughline_owner@127.0.0.1:5432/throughline',
      'postgres://postgres@127.0.0.1:5432/postgres',
    ]);
  });

  it('derive the owner and admin URLs from DATABASE_URL: same server and options, no password', () => {
    const config = loadConfig({
      THROUGHLINE_MODE: 'development',
      DATABASE_URL: 'postgres://app:s3cret@db.internal:6543/records?sslmode=require',
    });
    expect(config.DATABASE_OWNER_URL).toBe(
      'postgres://throughline_owner@db.internal:6543/records?sslmode=require',
    );
    expect(config.DATABASE_ADMIN_URL).toBe('postgres://postgres@db.internal:6543/postgres?sslmode=require');
  });

  it('keep owner and admin URLs that are set', () => {
    const env = {
      THROUGHLINE_MODE: 'development',
      DATABASE_URL: 'postgres://app@db/x',
      DATABASE_OWNER_URL: 'postgres://migrator:pw@db/x',
      DATABASE_ADMIN_URL: 'postgres://dba@db/postgres',
    };
    const config = loadConfig(env);
    expect([config.DATABASE_OWNER_URL, config.DATABASE_ADMIN_URL]).toEqual([
      env.DATABASE_OWNER_URL,
      env.DATABASE_ADMIN_URL,
    ]);
  });

  it('refuse in production an app that logs in as the owner; development allows it (tests)', () => {
    const same = { DATABASE_URL: 'postgres://throughline_owner@db/x' };
    expect(() => loadConfig({ ...production, ...same })).toThrow(
      /DATABASE_URL, DATABASE_OWNER_URL: both log in as throughline_owner/,
    );
    expect(loadConfig({ ...production }).DATABASE_URL).toMatch(/throughline_app/);
    expect(loadConfig({ THROUGHLINE_MODE: 'development', ...same }).DATABASE_URL).toBe(same.DATABASE_URL);
  });

  it('read the role and database of a URL, encoded or not', () => {
    expect(roleOf('postgres://we%40ird@h/db%5Fx')).toBe('we@ird');
    expect(databaseOf('postgres://u@h/db%5Fx')).toBe('db_x');
    expect(connectionAs('postgres://u:p@h:1/d', { user: 'o' })).toBe('postgres://o@h:1/d');
    expect(connectionAs('postgres://u:p@h:1/d', { database: 'postgres' })).toBe(
      'postgres://u:p@h:1/postgres',
    );
  });
});

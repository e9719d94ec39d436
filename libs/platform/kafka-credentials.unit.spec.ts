import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from './config';
import { kafkaCredentialsFile, kafkaCredentialsFor } from './kafka';

describe('kafkaCredentialsFor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-kafka-credentials-'));
  const file = join(dir, 'kafka-credentials.json');
  writeFileSync(
    file,
    JSON.stringify({
      mechanism: 'SCRAM-SHA-512',
      admin: { username: 'admin', password: 'admin-secret' },
      components: {
        health: { username: 'health-service', password: 'health-secret' },
        recorder: { username: 'recorder', password: 'recorder-secret' },
      },
    }),
  );
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("gives each component its own generated principal, never the admin's", () => {
    const config = loadConfig({ THROUGHLINE_MODE: 'development', KAFKA_CREDENTIALS_FILE: file });
    expect(kafkaCredentialsFor(config, 'health')).toEqual({
      mechanism: 'scram-sha-512',
      username: 'health-service',
      password: 'health-secret',
    });
    expect(kafkaCredentialsFor(config, 'recorder').username).toBe('recorder');
  });

  it('prefers KAFKA_USERNAME and KAFKA_PASSWORD, as a deployment sets them per app', () => {
    const config = loadConfig({
      THROUGHLINE_MODE: 'development',
      KAFKA_CREDENTIALS_FILE: file,
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_USERNAME: 'trust-a-health-gateway',
      KAFKA_PASSWORD: 'from-a-vault',
    });
    expect(kafkaCredentialsFor(config, 'health')).toEqual({
      mechanism: 'scram-sha-256',
      username: 'trust-a-health-gateway',
      password: 'from-a-vault',
    });
  });

  it('refuses a username without a password', () => {
    expect(() => loadConfig({ THROUGHLINE_MODE: 'development', KAFKA_USERNAME: 'someone' })).toThrow(
      /KAFKA_USERNAME, KAFKA_PASSWORD: set both/,
    );
  });

  it('says what to do when the component has no principal or the file is missing', () => {
    const config = loadConfig({ THROUGHLINE_MODE: 'development', KAFKA_CREDENTIALS_FILE: file });
    expect(() => kafkaCredentialsFor(config, 'education')).toThrow(/no Kafka principal for education/);
    const missing = loadConfig({
      THROUGHLINE_MODE: 'development',
      KAFKA_CREDENTIALS_FILE: join(dir, 'absent.json'),
    });
    expect(() => kafkaCredentialsFor(missing, 'health')).toThrow(/npm run kafka:start/);
  });

  it('finds the local broker credentials under THROUGHLINE_CACHE', () => {
    const config = loadConfig({ THROUGHLINE_MODE: 'development' });
    expect(kafkaCredentialsFile(config, { THROUGHLINE_CACHE: dir })).toBe(file);
  });
});

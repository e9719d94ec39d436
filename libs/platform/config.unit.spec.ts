import { configurationProblems, configSchema, loadConfig, type Config } from './config';
import { ThroughlineError } from './errors';

const SALT = 'a-deployment-salt-0123456789';
const PRODUCTION_KEYS =
  'health:trust-system:9f1c2e7a41b0d3c5,education:school-mis:5d2e8f0a1c3b7e9d,social-care:case-system:7c1a9e3f5b2d4c6a';

/** A production environment with nothing to refuse. */
const production = {
  THROUGHLINE_MODE: 'production',
  CHILD_KEY_SALT: SALT,
  PUBLISHER_KEYS: PRODUCTION_KEYS,
  KAFKA_USERNAME: 'throughline-health',
  KAFKA_PASSWORD: 'a-secret-from-the-deployment',
};

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ThroughlineError);
    expect((error as ThroughlineError).code).toBe('CONFIGURATION');
    return (error as Error).message;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig: what production refuses at start', () => {
  it('is production unless told otherwise', () => {
    expect(configSchema.parse({}).THROUGHLINE_MODE).toBe('production');
  });

  it('starts in production with its own keys, a salt and loopback', () => {
    expect(loadConfig(production).THROUGHLINE_MODE).toBe('production');
  });

  it('refuses the default development publisher keys', () => {
    const { PUBLISHER_KEYS: _, ...withDefaultKeys } = production;
    const message = refusal(withDefaultKeys);
    expect(message).toMatch(/PUBLISHER_KEYS: development keys for health:demo-child-health-system/);
    // The keys themselves are secrets even in development: never echoed.
    expect(message).not.toContain('dev-health-key');
  });

  it('refuses any key marked dev-', () => {
    expect(refusal({ ...production, PUBLISHER_KEYS: 'health:trust-system:dev-0123456789' })).toMatch(
      /PUBLISHER_KEYS: development keys for health:trust-system /,
    );
  });

  it("refuses the local broker's generated Kafka credentials: the deployment names its own principal", () => {
    const { KAFKA_USERNAME: _user, KAFKA_PASSWORD: _password, ...withoutKafka } = production;
    expect(refusal(withoutKafka)).toMatch(/KAFKA_USERNAME, KAFKA_PASSWORD \(or KAFKA_CREDENTIALS_FILE\)/);
    expect(
      loadConfig({ ...withoutKafka, KAFKA_CREDENTIALS_FILE: '/run/secrets/kafka.json' }).THROUGHLINE_MODE,
    ).toBe('production');
  });

  it('refuses an empty or short CHILD_KEY_SALT', () => {
    expect(refusal({ ...production, CHILD_KEY_SALT: '' })).toMatch(/CHILD_KEY_SALT: at least 16 characters/);
    expect(refusal({ ...production, CHILD_KEY_SALT: 'short' })).toMatch(/CHILD_KEY_SALT/);
  });

  it('refuses a HOST other than loopback without TLS, and accepts it with TLS', () => {
    expect(refusal({ ...production, HOST: '0.0.0.0' })).toMatch(/HOST: 0\.0\.0\.0 is not loopback/);
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.53'])
      expect(loadConfig({ ...production, HOST: host }).HOST).toBe(host);
    const tls = { TLS_CERT_FILE: '/etc/throughline/cert.pem', TLS_KEY_FILE: '/etc/throughline/key.pem' };
    expect(loadConfig({ ...production, HOST: '0.0.0.0', ...tls }).TLS_CERT_FILE).toBe(tls.TLS_CERT_FILE);
  });

  it('lists every problem at once', () => {
    const message = refusal({ THROUGHLINE_MODE: 'production', HOST: '10.0.0.5' });
    expect(message.split('\n').slice(1)).toEqual([
      expect.stringMatching(/^ {2}PUBLISHER_KEYS: /),
      expect.stringMatching(/^ {2}KAFKA_USERNAME, KAFKA_PASSWORD \(or KAFKA_CREDENTIALS_FILE\): /),
      expect.stringMatching(/^ {2}CHILD_KEY_SALT: /),
      expect.stringMatching(/^ {2}HOST: /),
    ]);
  });

  it('allows all of it in development mode', () => {
    const config = loadConfig({ THROUGHLINE_MODE: 'development', HOST: '0.0.0.0' });
    expect([config.THROUGHLINE_MODE, config.CHILD_KEY_SALT, config.HOST]).toEqual([
      'development',
      '',
      '0.0.0.0',
    ]);
  });

  it('wants both TLS files or neither, in any mode', () => {
    expect(refusal({ THROUGHLINE_MODE: 'development', TLS_CERT_FILE: '/etc/cert.pem' })).toMatch(
      /TLS_CERT_FILE, TLS_KEY_FILE: set both/,
    );
  });

  it('refuses an unknown mode', () => {
    expect(refusal({ ...production, THROUGHLINE_MODE: 'staging' })).toMatch(/THROUGHLINE_MODE/);
  });

  it('leaves a configuration problem-free in development', () => {
    const config: Config = configSchema.parse({ THROUGHLINE_MODE: 'development' });
    expect(configurationProblems(config)).toEqual([]);
  });
});

describe('loadConfig: outcomes (decision 015)', () => {
  it('defaults to no frameworks file, a 14-day review window and a 0.3 disagreement threshold', () => {
    const config = loadConfig({ THROUGHLINE_MODE: 'development' });
    expect([
      config.OUTCOME_FRAMEWORKS_FILE,
      config.OUTCOME_FRAMEWORKS_REFRESH_MS,
      config.REVIEW_DUE_DAYS,
      config.DISAGREEMENT_THRESHOLD,
    ]).toEqual(['', 10_000, 14, 0.3]);
  });

  it('refuses a threshold outside 0.05..1 and a negative review window, by name', () => {
    const message = refusal({
      THROUGHLINE_MODE: 'development',
      DISAGREEMENT_THRESHOLD: '1.5',
      REVIEW_DUE_DAYS: '-1',
    });
    expect(message).toMatch(/DISAGREEMENT_THRESHOLD/);
    expect(message).toMatch(/REVIEW_DUE_DAYS/);
  });
});

describe('loadConfig: the identity linker (decision 026)', () => {
  it("leaves the limits to the linker's defaults unless set, and takes them when set", () => {
    const config = loadConfig({ THROUGHLINE_MODE: 'development' });
    expect([config.IDENTITY_MAX_CANDIDATES, config.IDENTITY_MAX_BLOCK]).toEqual([undefined, undefined]);
    const national = loadConfig({
      THROUGHLINE_MODE: 'development',
      IDENTITY_MAX_CANDIDATES: '100',
      IDENTITY_MAX_BLOCK: '2000',
    });
    expect([national.IDENTITY_MAX_CANDIDATES, national.IDENTITY_MAX_BLOCK]).toEqual([100, 2000]);
  });

  it('refuses no candidates and an empty block, by name', () => {
    const message = refusal({
      THROUGHLINE_MODE: 'development',
      IDENTITY_MAX_CANDIDATES: '0',
      IDENTITY_MAX_BLOCK: 'x',
    });
    expect(message).toMatch(/IDENTITY_MAX_CANDIDATES/);
    expect(message).toMatch(/IDENTITY_MAX_BLOCK/);
  });
});

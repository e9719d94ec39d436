import { z } from 'zod';
import { ThroughlineError } from './errors';
import {
  connectionAs,
  DEFAULT_ADMIN_ROLE,
  DEFAULT_APP_ROLE,
  DEFAULT_OWNER_ROLE,
  roleOf,
} from './database-urls';

/**
 * Every setting Throughline reads from the environment, parsed once at start-up.
 * A bad environment fails listing every bad variable. Defaults are the local ones.
 */
const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** Development keys: refused outside THROUGHLINE_MODE=development (configurationProblems). */
const DEFAULT_PUBLISHER_KEYS: readonly string[] = [
  'health:demo-child-health-system:dev-health-key',
  'education:demo-school-mis:dev-education-key',
  'social-care:demo-case-system:dev-social-care-key',
];

const publisherKey = z
  .string()
  .regex(
    /^(health|education|social-care):[A-Za-z0-9._-]+:[^,\s]{8,}$/,
    'agency:publisherId:key (key >= 8 chars)',
  );

/** Files are read at start-up; empty counts as unset. */
const optionalFile = z.preprocess((value) => (value === '' ? undefined : value), z.string().optional());

/** JWS algorithms an access token may be signed with: public-key ones only. */
export const OIDC_ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/** A claim name of the claims mapping (e.g. `roles`; NHS CIS2: `nhsid_nrbac_roles`). */
const oidcClaim = (fallback: string) =>
  z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_:./-]{1,100}$/, 'a claim name')
    .default(fallback);

/** An optional setting; an empty value counts as unset. */
const optionalText = z.preprocess(
  (value) => (value === '' ? undefined : value),
  z.string().min(1).optional(),
);

export const configSchema = z.object({
  /**
   * `production` (the default) refuses at start what only a laptop may use: development publisher
   * keys, a missing CHILD_KEY_SALT, a HOST other than loopback without TLS. `development` allows them.
   */
  THROUGHLINE_MODE: z.enum(['development', 'production']).default('production'),
  /**
   * The apps' connection, as the app role: rows only, no UPDATE/DELETE/TRUNCATE on the event store
   * and the audit tables, no DDL (docs/decisions/011-database-roles.md).
   */
  DATABASE_URL: z.string().url().default(`postgres://${DEFAULT_APP_ROLE}@127.0.0.1:5432/throughline`),
  /**
   * The owner role's connection (same database): migrations and the app role's grants. Default:
   * DATABASE_URL's server and database as `throughline_owner`, without a password.
   */
  DATABASE_OWNER_URL: z.string().url().default(`postgres://${DEFAULT_OWNER_ROLE}@127.0.0.1:5432/throughline`),
  /**
   * Used only when a role or the database is missing, to create them (a fresh PostgreSQL).
   * Default: DATABASE_URL's server as `postgres`, database `postgres`, without a password.
   */
  DATABASE_ADMIN_URL: z.string().url().default(`postgres://${DEFAULT_ADMIN_ROLE}@127.0.0.1:5432/postgres`),
  /** Comma-separated host:port list. */
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'host:port[,host:port…]')
    .default('127.0.0.1:9092'),
  KAFKA_CLIENT_ID: z.string().min(1).default('throughline'),
  /** Prepended to every topic name; tests use it to get topics of their own. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/)
    .default(''),
  /** Partitions for topics this project creates. */
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(64).default(3),
  /** SASL mechanism of every Kafka client: no client connects unauthenticated. */
  KAFKA_SASL_MECHANISM: z.enum(['scram-sha-512', 'scram-sha-256']).default('scram-sha-512'),
  /**
   * This app's Kafka principal and its password (set both, per app). Unset: the app uses its
   * component's principal from the credentials the local broker generated (KAFKA_CREDENTIALS_FILE).
   */
  KAFKA_USERNAME: optionalText,
  KAFKA_PASSWORD: optionalText,
  /** The local broker's generated credentials. Default: $THROUGHLINE_CACHE or ~/.cache/throughline, /kafka-credentials.json. */
  KAFKA_CREDENTIALS_FILE: optionalText,
  /** `true`: TLS to the brokers (SASL_SSL). The local broker listens on loopback without TLS. */
  KAFKA_SSL: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  PROJECTION_PORT: port(3000),
  HEALTH_PORT: port(3001),
  EDUCATION_PORT: port(3002),
  SOCIAL_CARE_PORT: port(3003),
  RECORDER_PORT: port(3004),
  HOST: z.string().default('127.0.0.1'),
  EVENT_STORE: z.enum(['postgres', 'eventstoredb']).default('postgres'),
  EVENTSTORE_CONNECTION_STRING: z.string().optional(),
  /** Port of the local OpenID provider (infra/oidc.mjs) that `npm start` and `npm test` run. */
  OIDC_PORT: port(3010),
  /**
   * The OpenID provider whose access tokens are accepted (its discovery document and JWKS are
   * read from it). Default: the local provider, http://127.0.0.1:<OIDC_PORT>. A deployment points
   * it at its own (Entra ID, Keycloak, NHS CIS2); outside loopback it must be https.
   */
  OIDC_ISSUER: z
    .string()
    .url()
    .transform((url) => url.replace(/\/+$/, ''))
    .default('http://127.0.0.1:3010'),
  /** The `aud` an access token must carry to be accepted here. */
  OIDC_AUDIENCE: z.string().trim().min(1).default('throughline'),
  /**
   * The timeline page's OAuth client at OIDC_ISSUER (confidential: the page's server side signs
   * in with authorization code + PKCE and keeps the tokens; the browser only holds a session cookie).
   */
  OIDC_PAGE_CLIENT_ID: z.string().trim().min(1).default('throughline-page'),
  /**
   * Its client secret. Unset with a loopback issuer: read from the local provider's generated
   * state ($THROUGHLINE_CACHE/oidc/local-provider.json), never from the repository.
   */
  OIDC_PAGE_CLIENT_SECRET: optionalText,
  /**
   * The origin people open the page at (e.g. https://throughline.example.org): sign-in returns to
   * <PAGE_ORIGIN>/auth/callback. Unset: the loopback origin the request came to (local use only).
   */
  PAGE_ORIGIN: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .url()
      .transform((url) => new URL(url).origin)
      .optional(),
  ),
  /** Signature algorithms accepted, comma-separated; asymmetric only (never `none`, never HS*). */
  OIDC_ALGORITHMS: z
    .string()
    .default('RS256,ES256,PS256')
    .transform((s) =>
      s
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(OIDC_ASYMMETRIC_ALGORITHMS)).min(1)),
  /** Seconds of clock skew allowed on `exp` and `nbf`. */
  OIDC_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(30),
  /** The claims mapping: which claim carries the user id, display name, organisation and roles. */
  OIDC_CLAIM_USER_ID: oidcClaim('sub'),
  OIDC_CLAIM_NAME: oidcClaim('name'),
  OIDC_CLAIM_ORGANISATION: oidcClaim('organisation'),
  OIDC_CLAIM_ROLES: oidcClaim('roles'),
  /**
   * The access policy (roles, purposes, data-sharing agreements) loaded as version 1 when the
   * database holds none yet. Default: none (nothing is granted until a policy is loaded with
   * PUT /v1/governance/policy); `npm start` and the tests use infra/access-policy.demo.json.
   */
  ACCESS_POLICY_FILE: z.string().default(''),
  /** How often a policy change made through another instance is picked up (ms). */
  ACCESS_POLICY_REFRESH_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /**
   * CP-IS-style notifications: further reads of one child by the same person for the same
   * purpose within this many minutes belong to the episode already notified (0: notify every read).
   */
  ACCESS_NOTIFICATION_COALESCE_MINUTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 60)
    .default(60),
  /**
   * Outcome frameworks (domains, scales, which events are evidence about which domain) loaded as
   * version 1 when the database holds none yet (decision 015). Default: none (one empty framework
   * until PUT /v1/outcomes/frameworks); `npm start` and the tests use infra/outcome-frameworks.json.
   */
  OUTCOME_FRAMEWORKS_FILE: z.string().default(''),
  /** How often a framework change made through another instance is picked up (ms). */
  OUTCOME_FRAMEWORKS_REFRESH_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** A decision whose review is this many days away or fewer is `review-due` (days). */
  REVIEW_DUE_DAYS: z.coerce.number().int().min(0).max(365).default(14),
  /**
   * Two perspectives' latest ratings in one period whose normalised values (0-1, 1 the better end)
   * differ by at least this share of the scale's range are marked as disagreeing.
   */
  DISAGREEMENT_THRESHOLD: z.coerce.number().min(0.05).max(1).default(0.3),
  /**
   * Timeline entries kept parsed between reads of a chronology (libs/timeline/entry-cache.ts): a
   * child read again fetches only the entries projected since. A few KB of memory each; 0 turns
   * it off.
   */
  TIMELINE_ENTRY_CACHE: z.coerce.number().int().min(0).max(5_000_000).default(50_000),
  /**
   * The identity linker's reach (decision 026): at most this many records are scored against a
   * changed record, those sharing an identifier and then the most of its keys. Unset: the
   * linker's own default (libs/identity DEFAULT_CANDIDATE_LIMITS, 200).
   */
  IDENTITY_MAX_CANDIDATES: z.coerce.number().int().min(1).max(10_000).optional(),
  /**
   * A blocking key or identifier held by more records than this finds no candidates (block
   * purging, decision 026). Unset: the linker's own default (500).
   */
  IDENTITY_MAX_BLOCK: z.coerce.number().int().min(1).max(100_000).optional(),
  /**
   * Outcomes and decisions answers kept as JSON by what they are derived from (framework
   * version, query, the positions of the entries the reader may see; libs/outcomes
   * answer-cache.ts), so a child read again unchanged is not derived again. MiB; 0 turns it off.
   */
  OUTCOMES_ANSWER_CACHE_MB: z.coerce.number().int().min(0).max(4_096).default(32),
  /**
   * Disclosure control of analysis answers and exports (issue 15): a cell (or numerator, or its
   * complement) under this many children is suppressed, and so is a cohort that differs from one
   * the same analyst was answered before by fewer (children; ONS's 10-5 rule).
   */
  ANALYSIS_SUPPRESSION_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(10),
  /** Published counts are rounded to the nearest multiple of this (children, units). */
  ANALYSIS_ROUNDING_BASE: z.coerce.number().int().min(1).max(1000).default(5),
  /** A cohort of fewer children than this is refused outright (children). */
  ANALYSIS_MINIMUM_COHORT: z.coerce.number().int().min(1).max(100_000).default(20),
  /** The longest break-glass grant a user may ask for (minutes). */
  BREAK_GLASS_MAX_MINUTES: z.coerce.number().int().min(5).max(1440).default(240),
  /**
   * Static publisher credentials, comma-separated `agency:publisherId:key`: development only; an
   * agency service outside THROUGHLINE_MODE=development refuses to start with any (set it empty):
   * agency systems authenticate with client-credentials tokens from OIDC_ISSUER.
   */
  PUBLISHER_KEYS: z
    .string()
    .default(DEFAULT_PUBLISHER_KEYS.join(','))
    .transform((s) =>
      s
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .pipe(z.array(publisherKey)),
  /** Recorder consumer group. */
  RECORDER_GROUP_ID: z.string().min(1).default('throughline-recorder'),
  /**
   * Milliseconds the recorder keeps retrying a failing batch (database or broker down), with
   * backoff, before it stops its consumer for good ('crashed', /health 503).
   */
  RECORDER_MAX_RETRY_MS: z.coerce.number().int().min(100).max(86_400_000).default(300_000),
  /** Projection subscription name (its checkpoint row). */
  PROJECTION_NAME: z.string().min(1).default('timeline'),
  /**
   * Mixed into pseudonymous child keys so that keys from different deployments cannot be
   * correlated. Set once per deployment and never change it (keys would change on rebuild).
   */
  CHILD_KEY_SALT: z.string().max(200).default(''),
  /**
   * The key of the analysis model's pseudonyms (HMAC-SHA256, issue 15): a secret of its own, never
   * the child key salt, so analysts' pseudonyms cannot be joined to child keys. Set once per
   * deployment and never change it (pseudonyms would change on rebuild). The projection refuses to
   * start in production without 16+ characters of it (the only app that uses it).
   */
  ANALYSIS_PSEUDONYM_KEY: z.string().max(200).default(''),
  /** Milliseconds a caught-up subscription waits for a NOTIFY before polling anyway. */
  SUBSCRIPTION_IDLE_POLL_MS: z.coerce.number().int().min(10).max(60000).default(1000),
  /**
   * Events the subscriptions of one process share once read (the PostgreSQL store's shared read
   * window, decision 025): the projection app's read models read and parse each event once. 0
   * switches it off.
   */
  SUBSCRIPTION_SHARED_READ_EVENTS: z.coerce.number().int().min(0).max(1_000_000).default(20_000),
  /** The most verbose level logged (Nest's names; pino's info is `log`, trace is `verbose`). */
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
  /** `json`: one JSON object a line; `pretty`: readable lines; `auto`: pretty when stdout is a terminal. */
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  /**
   * Events a subscription (the timeline projection, the identity linker) may be behind the
   * store's head while /health/ready still answers 200.
   */
  HEALTH_MAX_LAG_EVENTS: z.coerce.number().int().min(0).default(10_000),
  /** PEM certificate (chain) and private key files: with both set, every app serves HTTPS only. */
  TLS_CERT_FILE: optionalFile,
  TLS_KEY_FILE: optionalFile,
  /**
   * Requests per minute (a fixed 60-second window) one caller may make to POST /v1/children/lookup;
   * past it, 429 with Retry-After (seconds). A caller is the verified user when there is one, else the IP.
   */
  RATE_LIMIT_LOOKUP_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(60),
  /** Requests per minute one caller may make to POST /v1/events and /v1/events/batch together. */
  RATE_LIMIT_PUBLISH_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(6000),
  /**
   * Requests per minute one address may make to GET /auth/login and /auth/callback together (a
   * sign-in takes one of each); past it, 429 with Retry-After.
   */
  RATE_LIMIT_SIGN_IN_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(60),
  /**
   * OTLP/HTTP collector base URL (e.g. http://127.0.0.1:4318): spans are exported to
   * `<url>/v1/traces`. Unset: spans are still made, so traceparent propagates, but not exported.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.string().url().optional(),
  ),
});

export type Config = z.infer<typeof configSchema>;

export interface PublisherCredential {
  readonly agency: 'health' | 'education' | 'social-care';
  readonly publisherId: string;
  readonly key: string;
}

/**
 * Defaults that depend on another variable: OIDC_ISSUER is the local provider on OIDC_PORT; the
 * owner and admin database URLs are DATABASE_URL's server as another role.
 */
function withDerivedDefaults(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const oidc = env.OIDC_ISSUER ? env : { ...env, OIDC_ISSUER: `http://127.0.0.1:${env.OIDC_PORT || 3010}` };
  return withDatabaseDefaults(oidc);
}

function withDatabaseDefaults(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!env.DATABASE_URL || (env.DATABASE_OWNER_URL && env.DATABASE_ADMIN_URL)) return env;
  try {
    return {
      ...env,
      DATABASE_OWNER_URL:
        env.DATABASE_OWNER_URL || connectionAs(env.DATABASE_URL, { user: DEFAULT_OWNER_ROLE }),
      DATABASE_ADMIN_URL:
        env.DATABASE_ADMIN_URL ||
        connectionAs(env.DATABASE_URL, { user: DEFAULT_ADMIN_ROLE, database: 'postgres' }),
    };
  } catch {
    return env; // not a URL: the schema says so
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(withDerivedDefaults(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ThroughlineError('CONFIGURATION', `invalid environment:\n${lines.join('\n')}`);
  }
  const problems = configurationProblems(parsed.data);
  if (problems.length > 0) {
    throw new ThroughlineError(
      'CONFIGURATION',
      `invalid environment:\n${problems.map((problem) => `  ${problem}`).join('\n')}`,
    );
  }
  return parsed.data;
}

/**
 * The configuration for a command-line tool that only reads and writes the database (an export,
 * an audit check): the same parsing and derived database URLs as loadConfig, without the rules
 * that concern the apps (keys, salt, Kafka principal, TLS).
 */
export function loadToolConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(withDerivedDefaults(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ThroughlineError('CONFIGURATION', `invalid environment:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** The publisher keys configSchema defaults to, and any key a person marked `dev-`. */
const DEVELOPMENT_KEY = /^dev-/;
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i;
/** Below this a salt is guessable (child keys could be recomputed from record ids). */
const MIN_SALT_LENGTH = 16;

/**
 * Every rule that ties one variable to another, and what production refuses, as
 * `VARIABLE: what to do` lines: all of them at once, so one start lists every fix.
 */
export function configurationProblems(config: Config): string[] {
  const problems: string[] = [];
  if (config.EVENT_STORE === 'eventstoredb' && !config.EVENTSTORE_CONNECTION_STRING)
    problems.push('EVENTSTORE_CONNECTION_STRING: required when EVENT_STORE=eventstoredb');
  if ((config.KAFKA_USERNAME === undefined) !== (config.KAFKA_PASSWORD === undefined))
    problems.push("KAFKA_USERNAME, KAFKA_PASSWORD: set both (this app's Kafka principal) or neither");
  const tls = tlsFiles(config);
  if (!tls && (config.TLS_CERT_FILE || config.TLS_KEY_FILE))
    problems.push('TLS_CERT_FILE, TLS_KEY_FILE: set both (a certificate and its private key) or neither');
  if (config.THROUGHLINE_MODE === 'development') return problems;
  if (roleOf(config.DATABASE_URL) === roleOf(config.DATABASE_OWNER_URL))
    problems.push(
      `DATABASE_URL, DATABASE_OWNER_URL: both log in as ${roleOf(config.DATABASE_URL)}; the apps must connect as a role ` +
        'that does not own the tables (docs/decisions/011-database-roles.md)',
    );
  const devKeys = publisherCredentials(config).filter(
    ({ agency, publisherId, key }) =>
      DEVELOPMENT_KEY.test(key) || DEFAULT_PUBLISHER_KEYS.includes(`${agency}:${publisherId}:${key}`),
  );
  if (devKeys.length > 0)
    problems.push(
      `PUBLISHER_KEYS: development keys for ${devKeys.map((key) => `${key.agency}:${key.publisherId}`).join(', ')} ` +
        'are refused outside THROUGHLINE_MODE=development; set PUBLISHER_KEYS empty (agency systems authenticate with client-credentials tokens)',
    );
  if (config.KAFKA_USERNAME === undefined && config.KAFKA_CREDENTIALS_FILE === undefined)
    problems.push(
      'KAFKA_USERNAME, KAFKA_PASSWORD (or KAFKA_CREDENTIALS_FILE): outside THROUGHLINE_MODE=development the Kafka ' +
        "principal is the deployment's own, never the local broker's generated credentials",
    );
  if (config.CHILD_KEY_SALT.length < MIN_SALT_LENGTH)
    problems.push(
      `CHILD_KEY_SALT: at least ${MIN_SALT_LENGTH} characters outside THROUGHLINE_MODE=development ` +
        '(without it, child keys can be recomputed from record ids); set it once per deployment, never change it',
    );
  if (!LOOPBACK_HOST.test(config.HOST) && !tls)
    problems.push(
      `HOST: ${config.HOST} is not loopback, so set TLS_CERT_FILE and TLS_KEY_FILE (or listen on 127.0.0.1 behind a TLS proxy)`,
    );
  if (config.PAGE_ORIGIN?.startsWith('http:') && !LOOPBACK_HOST.test(new URL(config.PAGE_ORIGIN).hostname))
    problems.push(
      `PAGE_ORIGIN: ${config.PAGE_ORIGIN} must be https (the page's session cookie would travel in clear)`,
    );
  return problems;
}

/** The TLS files when both are set. */
export function tlsFiles(config: Config): { certFile: string; keyFile: string } | undefined {
  return config.TLS_CERT_FILE && config.TLS_KEY_FILE
    ? { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE }
    : undefined;
}

export function publisherCredentials(config: Config): PublisherCredential[] {
  return config.PUBLISHER_KEYS.map((entry) => {
    const [agency, publisherId, ...rest] = entry.split(':');
    return { agency: agency as PublisherCredential['agency'], publisherId, key: rest.join(':') };
  });
}

export function kafkaBrokers(config: Config): string[] {
  return config.KAFKA_BROKERS.split(',');
}

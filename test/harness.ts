import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { Withheld } from '@throughline/access';
import { createEducationApp } from '../apps/education/app';
import { createHealthApp } from '../apps/health/app';
import { createProjectionApp } from '../apps/projection/app';
import { createRecorderApp } from '../apps/recorder/app';
import { createSocialCareApp } from '../apps/social-care/app';
import { createPool, loadConfig, type Config } from '@throughline/platform';
import {
  createTestDatabase,
  grantKafkaAccess,
  startTestAccess,
  waitFor,
  AccessLogReader,
  type AccessLogEntry,
  type TestAccess,
  type TestDatabase,
} from '@throughline/testing';

/**
 * The five apps, each listening on its own free port, on the real broker, a database and topic
 * prefix of this suite's own, and a real local OpenID provider of its own: every call signs in
 * (client-credentials tokens for the agency systems, authorization code + PKCE for people) and
 * every guarded call's access record is read back. Driven over HTTP only.
 */
export interface RunningSystem {
  readonly config: Config;
  readonly urls: {
    health: string;
    education: string;
    socialCare: string;
    recorder: string;
    projection: string;
  };
  /** The suite's OpenID provider (infra/oidc-demo.json's people and systems). */
  readonly access: TestAccess;
  /** `Authorization` (and `x-purpose`) of a demo person or agency system, with a fresh token. */
  headers(name: string, purpose?: string, extra?: Record<string, string>): Promise<Record<string, string>>;
  /** The access log (recorder and projection write it), read back after each guarded call. */
  readonly audit: AccessAudit;
  /** The social-care service's own record of who listed its access notifications. */
  readonly notificationReads: NotificationReadsAudit;
  /** The suite's database as the app role (SELECT on everything the apps read). */
  readonly pool: Pool;
  stop(): Promise<void>;
}

/** Seconds before its expiry at which a cached token is replaced by a new grant. */
const TOKEN_MARGIN_S = 120;

/** The `exp` of a JWT (seconds since the epoch), read without verifying: the apps verify it. */
function expiryOf(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    exp?: number;
  };
  return payload.exp ?? 0;
}

/**
 * Tokens by a real grant each (scripts/token.mjs against the suite's provider), kept until shortly
 * before they expire: the suite outlives the provider's 15-minute access tokens on a slow machine.
 */
function tokenSource(access: TestAccess): (name: string) => Promise<string> {
  const cached = new Map<string, Promise<string>>();
  return async (name) => {
    const pending = cached.get(name);
    if (pending) {
      const token = await pending.catch(() => undefined);
      if (token && expiryOf(token) - Date.now() / 1000 > TOKEN_MARGIN_S) return token;
    }
    const fresh = access.oidc.token(name);
    cached.set(name, fresh);
    fresh.catch(() => cached.delete(name));
    return fresh;
  };
}

export async function startSystem(): Promise<RunningSystem> {
  const access = await startTestAccess();
  let database: TestDatabase | undefined;
  const stops: (() => Promise<void>)[] = [];
  const release = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await database?.drop();
    await access.stop();
  };
  try {
    database = await createTestDatabase('tl_e2e');
    const run = randomBytes(4).toString('hex');
    const config = loadConfig({
      THROUGHLINE_MODE: 'development',
      // The apps trust the suite's provider and load infra/access-policy.demo.json as policy v1.
      ...access.env,
      // No static publisher keys: the agency systems publish with their client-credentials tokens.
      PUBLISHER_KEYS: '',
      // The apps connect as the app role and migrate as the owner (DATABASE_OWNER_URL derives from
      // it), as in production: nothing in the suite runs them with more rights (decision 011).
      DATABASE_URL: database.appUrl,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
      KAFKA_TOPIC_PREFIX: `e2e-${run}.`,
      RECORDER_GROUP_ID: `e2e-recorder-${run}`,
      PROJECTION_PORT: '0',
      HEALTH_PORT: '0',
      EDUCATION_PORT: '0',
      SOCIAL_CARE_PORT: '0',
      RECORDER_PORT: '0',
      LOG_LEVEL: 'warn',
    });
    // The apps' own Kafka principals on this suite's topics (the broker grants the unprefixed ones).
    await grantKafkaAccess(config);
    const health = await createHealthApp(config);
    stops.push(() => health.close());
    const education = await createEducationApp(config);
    stops.push(() => education.close());
    const socialCare = await createSocialCareApp(config);
    stops.push(() => socialCare.close());
    // The recorder first: it seeds the demo policy as version 1 and the projection finds it there.
    const recorder = await createRecorderApp(config);
    stops.push(() => recorder.close());
    const projection = await createProjectionApp(config);
    stops.push(() => projection.close());
    const pool = createPool(config.DATABASE_URL, { max: 2 });
    stops.push(() => pool.end());
    const urls = {
      health: health.url,
      education: education.url,
      socialCare: socialCare.url,
      recorder: recorder.url,
      projection: projection.url,
    };
    for (const url of Object.values(urls)) {
      await waitFor(async () => (await fetch(`${url}/health`)).ok, {
        message: `${url}/health`,
        timeoutMs: 60000,
      });
    }
    const token = tokenSource(access);
    return {
      config,
      urls,
      access,
      async headers(name, purpose, extra = {}) {
        return {
          authorization: `Bearer ${await token(name)}`,
          ...(purpose ? { 'x-purpose': purpose } : {}),
          ...extra,
        };
      },
      audit: new AccessAudit(pool),
      notificationReads: new NotificationReadsAudit(pool),
      pool,
      stop: release,
    };
  } catch (error) {
    await release();
    throw error;
  }
}

/** What a test expects of one access record; `withheld` defaults to none. */
export interface ExpectedAccess {
  /** The verified subject (`(unverified)` when the token did not verify). */
  readonly user: string;
  /** The principal's organisation code (null when the token did not verify). */
  readonly organisation: string | null;
  readonly purpose: string;
  readonly action: string;
  /** `ok`, or the error code of the refusal. */
  readonly outcome: string;
  /** The child whose data was read (null when none was, e.g. a refusal or a lookup miss). */
  readonly childKey: string | null;
  readonly requestedChildKey?: string | null;
  /** The roles the access was granted under, space-separated (null on a refusal). */
  readonly grantedRoles?: string | null;
  readonly returned?: number;
  readonly withheld?: readonly Withheld[];
  readonly agreements?: readonly string[] | null;
  readonly refusal?: RegExp;
  readonly extra?: Record<string, unknown> | null;
}

/**
 * The access log read back in chain order (seq): each guarded call writes its record before its
 * answer leaves, so after the answer exactly one new record is there. `expectRecorded` checks it
 * and moves on; `skip` passes over the records of calls a test does not check one by one (polling).
 */
export class AccessAudit {
  private readonly reader: AccessLogReader;

  constructor(pool: Pool) {
    this.reader = new AccessLogReader(pool);
  }

  /** The records written since the last read, oldest first. */
  sinceLastRead(): Promise<AccessLogEntry[]> {
    return this.reader.sinceLastRead();
  }

  /** Passes over what is there now. */
  async skip(): Promise<void> {
    await this.reader.sinceLastRead();
  }

  /**
   * The one record the last call wrote, checked against `expected` (who, organisation, purpose,
   * action, outcome and child key always; what was withheld always, none unless said).
   */
  async expectRecorded(expected: ExpectedAccess): Promise<AccessLogEntry> {
    const rows = await this.sinceLastRead();
    expect(rows.map((row) => `${row.user} ${row.action} ${row.outcome}`)).toHaveLength(1);
    const [entry] = rows;
    const { refusal, withheld = [], ...fields } = expected;
    expect(entry).toMatchObject({ ...fields, withheld });
    expect(entry.policyVersion).toEqual(expect.any(Number));
    if (refusal) expect(entry.refusal).toMatch(refusal);
    if (expected.outcome === 'ok') expect(entry.refusal).toBeNull();
    return entry;
  }
}

/** One row of the social-care service's access_notification_reads, as a test checks it. */
export interface NotificationRead {
  readonly user: string;
  readonly organisation: string | null;
  readonly roles: readonly string[];
  readonly purpose: string | null;
  readonly localAuthority: string | null;
  readonly returned: number;
  readonly outcome: string;
}

/**
 * The social-care service records every listing of its access notifications, and every refusal
 * of one, in its own hash-chained table (libs/notifications): read back like the access log.
 */
export class NotificationReadsAudit {
  private lastSeq = '0';

  constructor(private readonly pool: Pool) {}

  async sinceLastRead(): Promise<NotificationRead[]> {
    const result = await this.pool.query<{ seq: string } & NotificationRead>(
      `SELECT seq, user_id AS "user", organisation_code AS organisation, roles, purpose,
              local_authority AS "localAuthority", returned, outcome
         FROM access_notification_reads WHERE seq > $1 ORDER BY seq`,
      [this.lastSeq],
    );
    const rows = result.rows;
    if (rows.length > 0) this.lastSeq = rows[rows.length - 1].seq;
    return rows.map(({ seq: _seq, ...read }) => read);
  }

  async skip(): Promise<void> {
    await this.sinceLastRead();
  }

  async expectRecorded(expected: Partial<NotificationRead>): Promise<NotificationRead> {
    const rows = await this.sinceLastRead();
    expect(rows.map((row) => `${row.user} ${row.outcome}`)).toHaveLength(1);
    expect(rows[0]).toMatchObject(expected);
    return rows[0];
  }
}

export async function postJson<T = PublishAnswer>(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: T }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export async function getJson<T>(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** What the apps answer, as far as the suites read it. */
export interface PublishAnswer {
  readonly accepted: number;
  readonly rejected: number;
  readonly results: {
    index: number;
    eventId?: string;
    status: 'accepted' | 'rejected';
    topic?: string;
    issues?: { path: string; rule: string; message: string }[];
  }[];
}

export interface TimelineView {
  readonly childKey: string;
  readonly subjects: { agency: string; recordId: string }[];
  readonly entries: {
    occurredAt: string;
    agency: 'health' | 'education' | 'social-care';
    type: string;
    summary: string;
    kind: 'fact' | 'observation';
    indicators?: readonly { name: string; value: number }[];
    narrative?: string;
    perspective?: string;
    confidence?: string;
    specialCategories?: string[];
    sharedUnder:
      | { basis: 'own-organisation' }
      | { basis: 'agreement'; agreement: string }
      | { basis: 'break-glass'; grant: string };
    lineage: {
      eventId: string;
      topic?: string;
      partition?: number;
      offset?: string;
      storePosition: number;
      sourceSystem: string;
    };
  }[];
  /** What this reader may not see, grouped by reason. */
  readonly withheld: Withheld[];
  readonly access: { purpose: string; roles: string[]; policyVersion: number };
}

/** GET /v1/dead-letters: coordinates, reason and issues; never the message key or payload. */
export interface DeadLetterList {
  readonly deadLetters: {
    id: string;
    topic: string;
    reason: string;
    partition: number;
    offset: string;
    issues: { path: string; rule: string; message: string }[];
    deadLetteredAt: string;
    redrive: unknown;
  }[];
  readonly next: string | null;
}

/** GET /v1/dead-letters/:id/payload: what the dead letter carried. */
export interface DeadLetterPayload {
  readonly id: string;
  readonly key: string | null;
  readonly headers: Record<string, string>;
  readonly value: { encoding: 'utf8' | 'base64' | 'none'; text: string | null };
}

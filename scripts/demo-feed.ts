/**
 * Feeds the synthetic demo cohort through the agency services' batch APIs, waits until the
 * recorder has stored it and the projection has caught up, then checks one example child
 * end to end. Run by scripts/start.mjs from the compiled tree:
 *
 *   node -r ./scripts/register-dist.js dist/scripts/demo-feed.js
 *
 * The last stdout line is `@@demo-result <json>` for start.mjs to print its banner from.
 */
import type { Agency, AgencyEvent } from '@throughline/contracts';
import { createPool, loadConfig, projectRoot, type Config } from '@throughline/platform';
import {
  DEMO_COHORT_OPTIONS,
  exampleLinkedChild,
  generateCohort,
  partsShown,
  storyOf,
  summariseCohort,
  toAgencyBatches,
  type AgencyBatch,
  type PlantedCases,
  type SyntheticChild,
} from '@throughline/synthetic';
import type { Pool } from 'pg';
import { z } from 'zod';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';

/**
 * DEMO_CHILDREN: the cohort's size. The default (DEMO_COHORT_OPTIONS) starts quickly; a few
 * thousand children give analysts measures that are mostly unsuppressed. The same size always
 * gives the same events (fixed seed and `now`), so a restart feeds nothing new. The generator
 * issues at most 999 UPNs per school and entry year, which bounds the size.
 */
const demoEnvSchema = z.object({
  DEMO_CHILDREN: z.coerce
    .number({ message: 'DEMO_CHILDREN: a whole number of children' })
    .int({ message: 'DEMO_CHILDREN: a whole number of children' })
    .min(50, { message: 'DEMO_CHILDREN: at least 50 (the planted identity cases need them)' })
    .max(10_000, { message: 'DEMO_CHILDREN: at most 10000' })
    .default(DEMO_COHORT_OPTIONS.children ?? 200),
});

function demoChildren(env: NodeJS.ProcessEnv = process.env): number {
  const parsed = demoEnvSchema.safeParse({ DEMO_CHILDREN: env.DEMO_CHILDREN || undefined });
  if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => issue.message).join('; '));
  return parsed.data.DEMO_CHILDREN;
}

/** Deadlines, in milliseconds: five minutes, and longer for a larger cohort (about 65 events a child). */
let RECORDING_DEADLINE_MS = 300_000;
let PROJECTION_DEADLINE_MS = 300_000;
const DEADLINE_MS_PER_CHILD = 150;
const POLL_INTERVAL_MS = 500;
const PROGRESS_EVERY_MS = 3_000;
const MAX_SEND_ATTEMPTS = 8;

interface FeedResult {
  readonly accepted: number;
  readonly rejected: number;
  readonly rejections: readonly string[];
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function baseUrl(config: Config, port: number): string {
  return `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
}

function agencyUrl(config: Config, agency: Agency): string {
  switch (agency) {
    case 'health':
      return baseUrl(config, config.HEALTH_PORT);
    case 'education':
      return baseUrl(config, config.EDUCATION_PORT);
    case 'social-care':
      return baseUrl(config, config.SOCIAL_CARE_PORT);
  }
}

/** The demo agency systems (infra/oidc-demo.json) that publish the cohort, one per agency. */
const PUBLISHING_CLIENTS: Readonly<Record<Agency, string>> = {
  health: 'demo-child-health-system',
  education: 'demo-school-mis',
  'social-care': 'demo-case-system',
};
/** A token is fetched again after this long (the local provider's last 15 minutes). */
const TOKEN_REUSE_MS = 10 * 60_000;

const fetchedTokens = new Map<string, { token: string; at: number }>();

/**
 * An access token of a demo person or agency system (infra/oidc-demo.json), from the OpenID
 * provider at OIDC_ISSUER by a real grant, through `npm run token` (scripts/token.mjs); `fresh`
 * asks for a new one.
 */
async function tokenOf(name: string, fresh = false): Promise<string> {
  const cached = fetchedTokens.get(name);
  if (!fresh && cached && Date.now() - cached.at < TOKEN_REUSE_MS) return cached.token;
  const script = join(projectRoot(), 'scripts', 'token.mjs');
  const { stdout } = await promisify(execFile)(process.execPath, [script, name], { timeout: 30_000 });
  const token = stdout.trim();
  fetchedTokens.set(name, { token, at: Date.now() });
  return token;
}

const publisherToken = (agency: Agency, fresh = false): Promise<string> =>
  tokenOf(PUBLISHING_CLIENTS[agency], fresh);

/** A demo person's (or system's) request headers: their token and why they ask. */
async function asDemo(name: string, purpose: string): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await tokenOf(name)}`, 'x-purpose': purpose };
}

/** How many of the cohort's events the store already holds (0 when the store is not PostgreSQL or empty). */
async function storedCount(pool: Pool, eventIds: readonly string[]): Promise<number> {
  try {
    const result = await pool.query<{ count: string }>(
      'SELECT count(*) FROM events WHERE event_id = ANY($1::uuid[])',
      [eventIds],
    );
    return Number(result.rows[0].count);
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return 0; // no events table yet
    throw error;
  }
}

interface PublishResponseBody {
  readonly accepted: number;
  readonly rejected: number;
  readonly results: readonly {
    status: string;
    eventId?: string;
    issues?: { path: string; rule: string }[];
  }[];
}

/** Posts one batch; a 503 (Kafka unavailable, nothing acknowledged) is retried after Retry-After. */
async function postBatch(config: Config, batch: AgencyBatch): Promise<PublishResponseBody> {
  const url = `${agencyUrl(config, batch.agency)}/v1/events/batch`;
  let refreshed = false;
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await publisherToken(batch.agency)}`,
      },
      body: JSON.stringify({ events: batch.events }),
    });
    const text = await response.text();
    if (response.status === 401 && !refreshed) {
      // Expired between fetching and posting: one fresh token, then a 401 is final.
      refreshed = true;
      await publisherToken(batch.agency, true);
      continue;
    }
    if (response.status === 202 || response.status === 400) {
      const body = JSON.parse(text) as PublishResponseBody;
      if (typeof body.accepted === 'number') return body;
    }
    if (response.status === 503 && attempt < MAX_SEND_ATTEMPTS) {
      const seconds = Number(response.headers.get('retry-after') ?? '1');
      log(`${batch.agency}: service unavailable, retrying in ${seconds} s (${text.slice(0, 200)})`);
      await delay(Math.max(1, seconds) * 1000);
      continue;
    }
    throw new Error(`POST ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  }
}

async function feed(config: Config, events: readonly AgencyEvent[]): Promise<FeedResult> {
  const batches = toAgencyBatches(events);
  const byAgency = new Map<Agency, AgencyBatch[]>();
  for (const batch of batches) byAgency.set(batch.agency, [...(byAgency.get(batch.agency) ?? []), batch]);
  let accepted = 0;
  let rejected = 0;
  const rejections: string[] = [];
  // Agencies in parallel, each agency's batches in order (one subject's events stay in order).
  await Promise.all(
    [...byAgency].map(async ([agency, list]) => {
      for (const [index, batch] of list.entries()) {
        const body = await postBatch(config, batch);
        accepted += body.accepted;
        rejected += body.rejected;
        for (const result of body.results) {
          if (result.status !== 'rejected' || rejections.length >= 5) continue;
          const issues = (result.issues ?? []).map((issue) => `${issue.path} ${issue.rule}`).join(', ');
          rejections.push(`${agency} ${result.eventId ?? '?'}: ${issues}`);
        }
        log(
          `${agency}: batch ${index + 1}/${list.length} — ${body.accepted} accepted, ${body.rejected} rejected`,
        );
      }
    }),
  );
  return { accepted, rejected, rejections };
}

async function waitFor<T>(
  what: string,
  deadlineMs: number,
  probe: () => Promise<{ done: boolean; value: T; progress: string }>,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let lastSaidAt = 0;
  for (;;) {
    const { done, value, progress } = await probe();
    if (done) return value;
    if (Date.now() - lastSaidAt >= PROGRESS_EVERY_MS) {
      log(`waiting for ${what}: ${progress}`);
      lastSaidAt = Date.now();
    }
    if (Date.now() > deadline)
      throw new Error(`${what} did not happen within ${deadlineMs / 1000} s (${progress})`);
    await delay(POLL_INTERVAL_MS);
  }
}

interface ProjectionStatusBody {
  readonly checkpoint: number;
  readonly head: number;
  readonly lag: number;
  readonly running: boolean;
  readonly lastError?: string;
}

async function projectionStatus(config: Config): Promise<ProjectionStatusBody> {
  const response = await fetch(`${baseUrl(config, config.PROJECTION_PORT)}/v1/projection/status`, {
    headers: await asDemo('demo-monitoring', 'operations'),
  });
  if (!response.ok)
    throw new Error(
      `GET /v1/projection/status answered ${response.status}: ${(await response.text()).slice(0, 300)}`,
    );
  return (await response.json()) as ProjectionStatusBody;
}

interface LinkerStatusBody extends ProjectionStatusBody {
  readonly appendedEvents: number;
}

async function getJson<T>(config: Config, path: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(`${baseUrl(config, config.PROJECTION_PORT)}${path}`, { headers });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

interface ProposalBody {
  readonly proposalId: string;
  readonly subject: string;
  readonly candidate: string;
  readonly score: number;
}

interface ConflictBody {
  readonly conflictId: string;
  readonly subject: string;
  readonly others: readonly string[];
  readonly rule: string;
}

export interface IdentityDemo {
  readonly openProposals: number;
  readonly conflicts: number;
  readonly proposal: { proposalId: string; subject: string; candidate: string; score: number };
  readonly conflict: { conflictId: string; subject: string; others: readonly string[]; rule: string };
}

/**
 * The identity cases the generator planted must be visible to a reviewer: the probabilistic
 * match as an open proposal, the mis-keyed UPN as a conflict (and not as a merge).
 */
async function identityReview(config: Config, planted: PlantedCases): Promise<IdentityDemo> {
  const status = await waitFor('the identity linker to catch up', PROJECTION_DEADLINE_MS, async () => {
    const current = await getJson<LinkerStatusBody>(
      config,
      '/v1/identity/linker/status',
      await asDemo('demo-monitoring', 'operations'),
    );
    const progress = `checkpoint ${current.checkpoint} of head ${current.head}${current.lastError ? ` (last error: ${current.lastError})` : ''}`;
    return { done: current.running && current.checkpoint >= current.head, value: current, progress };
  });
  log(`identity linker caught up at position ${status.checkpoint}`);
  const { proposals } = await getJson<{ proposals: ProposalBody[] }>(
    config,
    '/v1/identity/proposals?status=open',
    await asDemo('demo-supervisor', 'identity-review'),
  );
  const { conflicts } = await getJson<{ conflicts: ConflictBody[] }>(
    config,
    '/v1/identity/conflicts',
    await asDemo('demo-supervisor', 'identity-review'),
  );
  const pair = (a: string, b: string, streams: readonly string[]): boolean =>
    streams.includes(a) && streams.includes(b) && a !== b;
  const match = planted.probabilisticMatch;
  const proposal = match && proposals.find((p) => pair(p.subject, p.candidate, match.streamIds));
  if (!proposal) {
    throw new Error(
      `the planted probabilistic match (${match?.streamIds.join(' ~ ') ?? 'not planted'}) is not among ` +
        `the ${proposals.length} open proposals`,
    );
  }
  const upn = planted.upnConflict;
  const conflict =
    upn && conflicts.find((c) => c.others.some((other) => pair(c.subject, other, upn.streamIds)));
  if (!conflict) {
    throw new Error(
      `the planted UPN conflict (${upn?.streamIds.join(' / ') ?? 'not planted'}) is not among ` +
        `the ${conflicts.length} flagged conflicts`,
    );
  }
  log(
    `identity review: ${proposals.length} open proposals (the planted match scores ${proposal.score.toFixed(1)}), ` +
      `${conflicts.length} conflicts (the planted shared UPN flagged, not merged)`,
  );
  return {
    openProposals: proposals.length,
    conflicts: conflicts.length,
    proposal: {
      proposalId: proposal.proposalId,
      subject: proposal.subject,
      candidate: proposal.candidate,
      score: proposal.score,
    },
    conflict: {
      conflictId: conflict.conflictId,
      subject: conflict.subject,
      others: conflict.others,
      rule: conflict.rule,
    },
  };
}

async function lookUp(
  config: Config,
  child: SyntheticChild,
): Promise<{ childKey: string; agencies: string[]; entries: number }> {
  const projection = baseUrl(config, config.PROJECTION_PORT);
  const socialWorker = await asDemo('demo-social-worker', 'safeguarding');
  const lookup = await fetch(`${projection}/v1/children/lookup`, {
    method: 'POST',
    headers: { ...socialWorker, 'content-type': 'application/json' },
    body: JSON.stringify({ identifier: { type: 'nhs-number', value: child.nhsNumber } }),
  });
  const lookupText = await lookup.text();
  if (!lookup.ok)
    throw new Error(`lookup of the example child answered ${lookup.status}: ${lookupText.slice(0, 300)}`);
  const { childKey } = JSON.parse(lookupText) as { childKey: string };
  const timeline = await fetch(`${projection}/v1/children/${childKey}/timeline`, { headers: socialWorker });
  const timelineText = await timeline.text();
  if (!timeline.ok)
    throw new Error(`timeline of ${childKey} answered ${timeline.status}: ${timelineText.slice(0, 300)}`);
  const body = JSON.parse(timelineText) as { subjects: { agency?: string }[]; entries: unknown[] };
  const agencies = [...new Set(body.subjects.map((subject) => subject.agency ?? '?'))].sort();
  return { childKey, agencies, entries: body.entries.length };
}

/** What the projection's outcomes and decisions endpoints answer about the example child today. */
export interface ServedStory {
  readonly today: string;
  readonly decisions: Readonly<Record<string, number>>;
  readonly safetyPerspectives: readonly string[];
  readonly disagreements: number;
  readonly viewsDiffer: number;
}

async function servedStory(config: Config, childKey: string): Promise<ServedStory> {
  const socialWorker = await asDemo('demo-social-worker', 'safeguarding');
  const { today, decisions } = await getJson<{ today: string; decisions: { status: string }[] }>(
    config,
    `/v1/children/${childKey}/decisions`,
    socialWorker,
  );
  const counts: Record<string, number> = {};
  for (const { status } of decisions) counts[status] = (counts[status] ?? 0) + 1;
  const { domains } = await getJson<{
    domains: {
      domain: string;
      series: { perspective: string }[];
      disagreements: unknown[];
      viewsDiffer: unknown[];
    }[];
  }>(config, `/v1/children/${childKey}/outcomes?framework=signs-of-safety&period=term`, socialWorker);
  const safety = domains.find((domain) => domain.domain === 'safety');
  return {
    today,
    decisions: counts,
    safetyPerspectives: (safety?.series ?? []).map((series) => series.perspective),
    disagreements: safety?.disagreements.length ?? 0,
    viewsDiffer: safety?.viewsDiffer.length ?? 0,
  };
}

/** The measure the analyst example asks for: re-referrals within 12 months, by financial year. */
const EXAMPLE_ANALYSIS_QUERY = {
  measure: 're-referral-12-months',
  groupBy: ['period'],
  period: 'financial-year',
} as const;

/** What the analyst example showed: the catalogue's size and one measure's cells under disclosure control. */
export interface AnalystDemo {
  readonly measures: number;
  readonly query: typeof EXAMPLE_ANALYSIS_QUERY;
  readonly cohortSize: number;
  readonly cells: number;
  readonly suppressed: number;
}

/** The analysis model has its own checkpoint: wait until it reaches the store's head (the linker's events included). */
async function waitForAnalysisModel(pool: Pool): Promise<number> {
  return waitFor('the analysis model to catch up', PROJECTION_DEADLINE_MS, async () => {
    const result = await pool.query<{ head: string; position: string | null }>(
      `SELECT (SELECT coalesce(max(position), 0) FROM events) AS head,
              (SELECT position FROM analysis_checkpoints WHERE name = 'analysis') AS position`,
    );
    const head = Number(result.rows[0].head);
    const position = Number(result.rows[0].position ?? 0);
    return { done: position >= head, value: position, progress: `position ${position} of head ${head}` };
  });
}

/** Asks the analysis API what the banner's example asks, as the demo analyst: the example must work as printed. */
async function analystExample(config: Config): Promise<AnalystDemo> {
  const analyst = await asDemo('demo-analyst', 'analysis');
  const { measures } = await getJson<{ measures: unknown[] }>(config, '/v1/analysis/measures', analyst);
  const response = await fetch(`${baseUrl(config, config.PROJECTION_PORT)}/v1/analysis/queries`, {
    method: 'POST',
    headers: { ...analyst, 'content-type': 'application/json' },
    body: JSON.stringify(EXAMPLE_ANALYSIS_QUERY),
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`POST /v1/analysis/queries answered ${response.status}: ${text.slice(0, 300)}`);
  const answer = JSON.parse(text) as { cohortSize: number; cells: { suppressed: boolean }[] };
  return {
    measures: measures.length,
    query: EXAMPLE_ANALYSIS_QUERY,
    cohortSize: answer.cohortSize,
    cells: answer.cells.length,
    suppressed: answer.cells.filter((cell) => cell.suppressed).length,
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const children = demoChildren();
  RECORDING_DEADLINE_MS = PROJECTION_DEADLINE_MS = Math.max(300_000, children * DEADLINE_MS_PER_CHILD);
  const generatedAt = Date.now();
  const cohort = generateCohort({ ...DEMO_COHORT_OPTIONS, children });
  const summary = summariseCohort(cohort);
  log(
    `synthetic cohort (seed ${DEMO_COHORT_OPTIONS.seed}, generated in ${((Date.now() - generatedAt) / 1000).toFixed(1)} s): ${summary.children} children, ${summary.events} events ` +
      `(${Object.entries(summary.eventsByAgency)
        .map(([agency, count]) => `${agency} ${count}`)
        .join(
          ', ',
        )}); ${summary.withSocialCareRecord} known to social care, ${summary.linkedAcrossAllAgencies} ` +
      `linkable across all three agencies, ${summary.withUnlinkedRecord} with a record that shares no identifier`,
  );
  const eventIds = cohort.events.map((event) => event.eventId);
  const pool = createPool(config.DATABASE_URL, { max: 2 });
  try {
    const alreadyStored = await storedCount(pool, eventIds);
    let fed: FeedResult | undefined;
    let feedStarted: number | undefined;
    if (alreadyStored === eventIds.length) {
      log(`the event store already holds all ${alreadyStored} cohort events: not feeding them again`);
    } else {
      if (alreadyStored > 0) {
        log(
          `the event store holds ${alreadyStored} of ${eventIds.length} cohort events; posting all (same ids, no duplicates)`,
        );
      }
      const started = Date.now();
      feedStarted = started;
      fed = await feed(config, cohort.events);
      log(
        `fed ${cohort.events.length} events in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
          `${fed.accepted} accepted, ${fed.rejected} rejected`,
      );
      for (const line of fed.rejections) log(`  rejected: ${line}`);
    }
    const expected = fed ? eventIds.length - fed.rejected : eventIds.length;
    await waitFor('the recorder to store the cohort', RECORDING_DEADLINE_MS, async () => {
      const stored = await storedCount(pool, eventIds);
      return { done: stored >= expected, value: stored, progress: `${stored}/${expected} stored` };
    });
    const status = await waitFor('the projection to catch up', PROJECTION_DEADLINE_MS, async () => {
      const current = await projectionStatus(config);
      const progress = `checkpoint ${current.checkpoint} of head ${current.head}${current.lastError ? ` (last error: ${current.lastError})` : ''}`;
      return {
        done: current.running && current.lag === 0 && current.checkpoint >= current.head,
        value: current,
        progress,
      };
    });
    log(`projection caught up at position ${status.checkpoint}`);
    const identity = await identityReview(config, cohort.planted);
    const analysedAt = await waitForAnalysisModel(pool);
    log(
      `analysis model caught up at position ${analysedAt}` +
        (feedStarted ? `, ${((Date.now() - feedStarted) / 1000).toFixed(1)} s after feeding began` : ''),
    );
    let analysis: AnalystDemo | undefined;
    try {
      analysis = await analystExample(config);
      log(
        `analyst example: ${analysis.measures} measures; ${analysis.query.measure} by period over ` +
          `${analysis.cohortSize} children: ${analysis.cells} cells, ${analysis.suppressed} suppressed`,
      );
    } catch (error) {
      log(`the analyst example failed: ${String(error)}`);
    }

    const child = exampleLinkedChild(cohort);
    const example = await lookUp(config, child);
    if (example.agencies.length < 3) {
      throw new Error(
        `example child ${child.nhsNumber} links only ${example.agencies.join(', ')}; expected all three agencies`,
      );
    }
    // What the example child's records show of issue 13, as generated (the read side computes its own).
    const story = storyOf(cohort, child);
    log(
      `example child: ${partsShown(story).length} of the 10 parts of issue 13 shown (${partsShown(story).join(', ')})`,
    );
    // And as the outcomes and decisions endpoints answer today (statuses move on with the date).
    let served: ServedStory | undefined;
    try {
      served = await servedStory(config, example.childKey);
      log(
        `example child as served on ${served.today}: decisions ${JSON.stringify(served.decisions)}; safety rated by ` +
          `${served.safetyPerspectives.join(', ')}; ${served.disagreements} disagreements, ${served.viewsDiffer} views differ`,
      );
    } catch (error) {
      log(`could not read the example child's outcomes and decisions: ${String(error)}`);
    }
    const result = {
      children: summary.children,
      events: summary.events,
      fed: fed ? { accepted: fed.accepted, rejected: fed.rejected } : null,
      example: {
        nhsNumber: child.nhsNumber,
        name: `${child.givenName} ${child.familyName}`,
        childKey: example.childKey,
        agencies: example.agencies,
        entries: example.entries,
        story,
        asOf: cohort.now.slice(0, 10),
        ...(served ? { served } : {}),
      },
      identity,
      ...(analysis ? { analysis } : {}),
    };
    log(`@@demo-result ${JSON.stringify(result)}`);
  } finally {
    await pool.end();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `demo feed failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

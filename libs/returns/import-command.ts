// The import command (`npm run import`, scripts/import.ts): reads a statutory return or health
// record file and publishes its events through the owning agency service's gateway
// (POST /v1/events/batch: the same contracts, publisher rules and Kafka acknowledgements as any
// agency system), with a progress bar and a summary at the end. Options are in USAGE below;
// THROUGHLINE_TOKEN, when set, is the bearer token instead of asking the local provider.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import { type Agency, type ImportFormat } from '@throughline/contracts';
import { configSchema } from '@throughline/platform';
import { type EventSink, type ImportSummary, type SinkResult, fileOnDisk, runImport } from './importer';
import { IMPORT_FORMAT_OWNERS, importerFor } from './registry';

/** The repository root (this file is libs/returns/ in the source tree and dist/libs/returns/ compiled). */
function repositoryRoot(): string {
  const up = resolve(__dirname, '..', '..');
  return up.endsWith(`${sep}dist`) ? resolve(up, '..') : up;
}

/** The demo agency systems of infra/oidc-demo.json, one per agency. */
const DEMO_CLIENTS: Readonly<Record<Agency, string>> = {
  health: 'demo-child-health-system',
  education: 'demo-school-mis',
  'social-care': 'demo-case-system',
};

export class UsageError extends Error {}

const FORMAT_NAMES: Readonly<Record<string, ImportFormat>> = {
  'cin-census': 'cin-census',
  cin: 'cin-census',
  ssda903: 'ssda903',
  '903': 'ssda903',
  fhir: 'fhir-r4',
  'fhir-r4': 'fhir-r4',
};

const USAGE =
  'usage: npm run import -- <cin-census | ssda903 | fhir> <file | directory> [--year 2024-25] [--la 991] ' +
  '[--org DEMO-CHS] [--url http://127.0.0.1:3003] [--client demo-case-system] [--batch 500] [--quiet] [--json]';

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      year: { type: 'string' },
      la: { type: 'string' },
      url: { type: 'string' },
      client: { type: 'string' },
      org: { type: 'string' },
      batch: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || positionals.length !== 2) throw new UsageError(USAGE);
  const format = FORMAT_NAMES[positionals[0]];
  if (!format)
    throw new UsageError(
      `unknown format "${positionals[0]}": use one of cin-census, ssda903, fhir\n${USAGE}`,
    );
  const batch = values.batch === undefined ? 500 : Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 1000) throw new UsageError('--batch must be 1..1000');
  return { format, path: resolve(positionals[1]), ...values, batch };
}

/** A directory means all its .csv and .xml files (an SSDA903 return's tables), in name order. */
function filesAt(path: string): string[] {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new UsageError(`no file or directory at ${path}`);
  }
  if (!stats.isDirectory()) return [path];
  const files = readdirSync(path)
    .filter((name) => /\.(csv|xml|json)$/i.test(name))
    .sort()
    .map((name) => join(path, name));
  if (files.length === 0) throw new UsageError(`no .csv, .xml or .json files in ${path}`);
  return files;
}

function tokenFor(client: string, env: NodeJS.ProcessEnv): string {
  if (env.THROUGHLINE_TOKEN) return env.THROUGHLINE_TOKEN.trim();
  try {
    return execFileSync(process.execPath, [join(repositoryRoot(), 'scripts', 'token.mjs'), client], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`could not get a token for ${client}: ${stderr.trim() || (error as Error).message}`);
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * The agency service's batch endpoint. A 401 (token expired in a long import) gets a new token
 * once; a 429 waits its Retry-After; a network error or 5xx is retried with backoff: event ids
 * are deterministic, so a batch sent twice is recorded once.
 */
function httpSink(url: string, client: string, env: NodeJS.ProcessEnv): EventSink {
  let token = tokenFor(client, env);
  return {
    async publish(events) {
      for (let attempt = 1; ; attempt++) {
        let response: Response | undefined;
        try {
          response = await fetch(`${url}/v1/events/batch`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({ events }),
          });
        } catch (error) {
          if (attempt >= 6)
            throw new Error(`the service at ${url} did not answer: ${(error as Error).message}`);
        }
        if (response) {
          if (response.status === 202 || response.status === 400) {
            const body = (await response.json()) as { results?: SinkResult[]; issues?: unknown };
            if (body.results) return { results: body.results };
            throw new Error(`the service refused the batch: ${JSON.stringify(body.issues ?? body)}`);
          }
          if (response.status === 401 && attempt === 1 && !env.THROUGHLINE_TOKEN) {
            token = tokenFor(client, env);
            continue;
          }
          const retriable = response.status === 429 || response.status >= 500;
          if (!retriable || attempt >= 6) {
            throw new Error(
              `the service answered ${response.status}: ${(await response.text()).slice(0, 500)}`,
            );
          }
          const retryAfter = Number(response.headers.get('retry-after'));
          if (Number.isFinite(retryAfter) && retryAfter > 0) {
            await sleep(retryAfter * 1000);
            continue;
          }
        }
        await sleep(Math.min(200 * 2 ** attempt, 5000));
      }
    },
  };
}

function countsLine(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return entries.length ? entries.map(([rule, n]) => `${rule} ${n}`).join(', ') : 'none';
}

function describe(summary: ImportSummary): string {
  const lines = [
    `${summary.format} import ${summary.state}: ${summary.files.length} file(s)`,
    `  children:                ${summary.children}`,
    `  records:                 ${summary.records}`,
    `  events published:        ${summary.eventsPublished}`,
    `  events rejected:         ${summary.eventsRejected}`,
    `  identifiers quarantined: ${Object.values(summary.quarantined).reduce((a, b) => a + b, 0)} (${countsLine(summary.quarantined)})`,
    `  records refused:         ${Object.values(summary.refusedByRule).reduce((a, b) => a + b, 0)} (${countsLine(summary.refusedByRule)})`,
  ];
  if (summary.problems.length) {
    lines.push(`  first problems (of ${summary.problems.length} kept):`);
    for (const problem of summary.problems.slice(0, 20)) {
      lines.push(`    ${problem.location}: ${problem.reason} [${problem.rule}]`);
    }
  }
  if (summary.refusedByRule['not-authorised-for-publisher']) {
    lines.push(
      '  (not-authorised-for-publisher: the publishing system may not publish for the source system or ' +
        'organisation (LA code) of these records; use --client with a system registered for them)',
    );
  }
  if (summary.error) lines.push(`  error: ${summary.error}`);
  return lines.join('\n');
}

export interface CommandIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream;
  /** Where the progress bar goes; none when it is not a terminal. */
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * `npm run import -- <format> <path> [options]` (scripts/import.ts): resolves with the exit code,
 * 0 when the import completed (refused records are in the summary), 1 when it failed.
 * Throws UsageError for bad arguments.
 */
export async function importCommand(argv: string[], io: CommandIo): Promise<number> {
  const options = parse(argv);
  const owner = IMPORT_FORMAT_OWNERS[options.format];
  const config = configSchema.parse(io.env);
  const port =
    owner.agency === 'health'
      ? config.HEALTH_PORT
      : owner.agency === 'education'
        ? config.EDUCATION_PORT
        : config.SOCIAL_CARE_PORT;
  const url = (options.url ?? `http://${config.HOST}:${port}`).replace(/\/$/, '');
  const paths = filesAt(options.path);
  const files = await Promise.all(paths.map(fileOnDisk));
  const bytesTotal = paths.reduce((sum, path) => sum + statSync(path).size, 0);
  const sink = httpSink(url, options.client ?? DEMO_CLIENTS[owner.agency], io.env);

  const bar =
    options.quiet || options.json || !io.stderr.isTTY
      ? undefined
      : new SingleBar(
          {
            format:
              ' {bar} {percentage}% | {children} children | {events} events | {refused} refused | {eta_formatted}',
            stream: io.stderr as NodeJS.WriteStream,
          },
          Presets.shades_classic,
        );
  bar?.start(bytesTotal || 1, 0, { children: 0, events: 0, refused: 0 });
  const summary = await runImport(
    importerFor(options.format),
    files,
    { system: owner.system, collectionYear: options.year, laCode: options.la, organisation: options.org },
    sink,
    {
      batchSize: options.batch,
      bytesTotal,
      onProgress: (progress) =>
        bar?.update(Math.min(progress.bytesRead, bytesTotal || 1), {
          children: progress.children,
          events: progress.eventsPublished,
          refused: Object.values(progress.refusedByRule).reduce((a, b) => a + b, 0),
        }),
    },
  );
  bar?.stop();
  // Peak resident memory of this process (KiB on Linux): the bench checks it does not grow with the file.
  const peakRssMb = Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
  io.stdout.write(
    options.json
      ? `${JSON.stringify({ ...summary, peakRssMb }, null, 2)}\n`
      : `${describe(summary)}\n  peak memory: ${peakRssMb} MiB\n`,
  );
  return summary.state === 'completed' ? 0 : 1;
}

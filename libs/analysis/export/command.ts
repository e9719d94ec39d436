// The analysis export command (`npm run analysis:export`, scripts/analysis-export.ts): asks the
// projection's API for a measure (POST /v1/analysis/queries, x-purpose analysis, the analyst's
// own token), so the same access rules, audit, disclosure control and differencing apply as to
// any query, then writes the answer with writeAnswer: the data file and its .meta.csv.
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadToolConfig } from '@throughline/platform';
import {
  type AnalysisAnswer,
  type AnalysisQuery,
  analysisQuerySchema,
  cohortSchema,
  GROUP_BY,
  PERIODS,
} from '../types';
import { analysisAnswerSchema } from './answer-schema';
import { EXPORT_FORMATS, type ExportFormat, writeAnswer } from './write-answer';

/** Bad arguments or environment: the script exits 2. */
export class AnalysisExportUsageError extends Error {}

/** The server refused or failed the query, or could not be reached: the script exits 1. */
export class AnalysisExportError extends Error {}

export const ANALYSIS_EXPORT_USAGE =
  'usage: THROUGHLINE_TOKEN=<analyst token> npm run analysis:export -- --measure <id> --format csv|parquet\n' +
  `  [--cohort <cohort.json>] [--group-by <a,b>: ${GROUP_BY.join(' | ')}]\n` +
  `  [--period ${PERIODS.join(' | ')}] [--out <directory>] [--url <projection url>]\n` +
  '  a demo analyst token: THROUGHLINE_TOKEN=$(npm run -s token -- demo-analyst)';

export interface AnalysisExportOptions {
  readonly query: AnalysisQuery;
  readonly format: ExportFormat;
  readonly out: string;
  readonly url?: string;
}

const issuesText = (error: z.ZodError) =>
  error.issues.map((issue) => `${issue.path.join('.') || '(the whole)'}: ${issue.message}`).join('; ');

/** The command line as a query, a format and where to write; a UsageError names the option and the rule. */
export async function parseAnalysisExportArgs(argv: string[]): Promise<AnalysisExportOptions> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        measure: { type: 'string' },
        format: { type: 'string' },
        cohort: { type: 'string' },
        'group-by': { type: 'string' },
        period: { type: 'string' },
        out: { type: 'string' },
        url: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    // node:util names the unknown option or the missing value.
    throw new AnalysisExportUsageError(`${(error as Error).message}\n${ANALYSIS_EXPORT_USAGE}`);
  }
  const { values } = parsed;
  if (values.help) throw new AnalysisExportUsageError(ANALYSIS_EXPORT_USAGE);
  if (!values.measure) throw new AnalysisExportUsageError(`--measure is required\n${ANALYSIS_EXPORT_USAGE}`);
  const format = z.enum(EXPORT_FORMATS).safeParse(values.format);
  if (!format.success)
    throw new AnalysisExportUsageError(
      `--format must be one of ${EXPORT_FORMATS.join(', ')}${values.format === undefined ? '' : ` (not "${values.format}")`}\n${ANALYSIS_EXPORT_USAGE}`,
    );

  let cohort: unknown = {};
  if (values.cohort !== undefined) {
    const path = resolve(values.cohort);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new AnalysisExportUsageError(
        `--cohort: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    try {
      cohort = JSON.parse(text);
    } catch (error) {
      throw new AnalysisExportUsageError(`--cohort: ${path} is not JSON: ${(error as Error).message}`);
    }
    const checked = cohortSchema.safeParse(cohort);
    if (!checked.success)
      throw new AnalysisExportUsageError(`--cohort: ${path}: ${issuesText(checked.error)}`);
  }

  const groupBy = values['group-by']
    ?.split(',')
    .map((dimension) => dimension.trim())
    .filter(Boolean);
  const query = analysisQuerySchema.safeParse({
    measure: values.measure,
    cohort,
    ...(groupBy ? { groupBy } : {}),
    ...(values.period ? { period: values.period } : {}),
  });
  if (!query.success) {
    const option: Record<string, string> = {
      groupBy: '--group-by',
      period: '--period',
      measure: '--measure',
    };
    const lines = query.error.issues.map((issue) => {
      const head = String(issue.path[0] ?? '');
      return `${option[head] ?? head}${issue.path.length > 1 ? ` (${issue.path.slice(1).join('.')})` : ''}: ${issue.message}`;
    });
    throw new AnalysisExportUsageError(`${lines.join('\n')}\n${ANALYSIS_EXPORT_USAGE}`);
  }
  if (values.url !== undefined && !/^https?:\/\/[^\s/]+/.test(values.url))
    throw new AnalysisExportUsageError(`--url must be an http(s) address, e.g. http://127.0.0.1:3000`);
  return {
    query: query.data,
    format: format.data,
    out: resolve(values.out ?? '.'),
    url: values.url?.replace(/\/+$/, ''),
  };
}

/** The server's refusal as it said it: status, code, message and each issue with its rule. */
export function describeRefusal(status: number, text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `the projection answered ${status}: ${text.slice(0, 500) || '(no body)'}`;
  }
  const { error, message, issues, rule } = (body ?? {}) as {
    error?: unknown;
    message?: unknown;
    issues?: unknown;
    rule?: unknown;
  };
  const lines = [
    `the projection refused the query (${status}${typeof error === 'string' ? ` ${error}` : ''})` +
      `${typeof message === 'string' ? `: ${message}` : ''}${typeof rule === 'string' ? ` [${rule}]` : ''}`,
  ];
  if (Array.isArray(issues)) {
    for (const issue of issues as { path?: unknown; message?: unknown; rule?: unknown }[]) {
      lines.push(
        `  ${typeof issue.path === 'string' && issue.path ? `${issue.path}: ` : ''}${String(issue.message ?? '')}` +
          `${typeof issue.rule === 'string' ? ` [${issue.rule}]` : ''}`,
      );
    }
  }
  if (typeof message !== 'string' && !Array.isArray(issues)) lines.push(`  ${text.slice(0, 500)}`);
  if (status === 401)
    lines.push(
      '  (the token is missing, expired or not for this service: get a new one and set THROUGHLINE_TOKEN)',
    );
  return lines.join('\n');
}

export interface AnalysisExportIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream;
  /** The HTTP client (global fetch; a fake in unit tests). */
  readonly fetch?: typeof fetch;
  /** When the export was written (the dictionary's generated_at). */
  readonly now?: () => Date;
}

/** How long the projection has to answer a query, in milliseconds. */
const QUERY_TIMEOUT_MS = 120_000;

/** POST /v1/analysis/queries with the analyst's token and purpose; the answer checked, or the refusal as said. */
export async function fetchAnswer(
  url: string,
  token: string,
  query: AnalysisQuery,
  fetchFn: typeof fetch = fetch,
): Promise<AnalysisAnswer> {
  let response: Response;
  try {
    response = await fetchFn(`${url}/v1/analysis/queries`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        authorization: `Bearer ${token}`,
        'x-purpose': 'analysis',
      },
      body: JSON.stringify(query),
      signal: AbortSignal.timeout(QUERY_TIMEOUT_MS),
    });
  } catch (error) {
    // undici says only "fetch failed"; its cause says why (ECONNREFUSED, a bad port, a timeout).
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new AnalysisExportError(
      `the projection at ${url} did not answer: ${cause?.code ?? cause?.message ?? (error as Error).message} (is it running? --url sets its address)`,
    );
  }
  const text = await response.text();
  if (!response.ok) throw new AnalysisExportError(describeRefusal(response.status, text));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AnalysisExportError(`the projection's answer is not JSON: ${text.slice(0, 200)}`);
  }
  const answer = analysisAnswerSchema.safeParse(body);
  if (!answer.success)
    throw new AnalysisExportError(
      `the projection's answer is not an analysis answer: ${issuesText(answer.error)}`,
    );
  return answer.data;
}

/**
 * `npm run analysis:export -- --measure <id> --format csv|parquet [options]`: resolves with the
 * exit code (0 written); throws AnalysisExportUsageError (exit 2) for bad arguments or a missing
 * token, AnalysisExportError (exit 1) when the projection refused, failed or was not there.
 */
export async function analysisExportCommand(argv: string[], io: AnalysisExportIo): Promise<number> {
  const options = await parseAnalysisExportArgs(argv);
  const token = io.env.THROUGHLINE_TOKEN?.trim();
  if (!token)
    throw new AnalysisExportUsageError(
      `THROUGHLINE_TOKEN is not set: the analyst's access token\n${ANALYSIS_EXPORT_USAGE}`,
    );
  let url = options.url;
  if (!url) {
    const config = loadToolConfig(io.env);
    url = `http://${config.HOST}:${config.PROJECTION_PORT}`;
  }
  const answer = await fetchAnswer(url, token, options.query, io.fetch);
  const { files } = await writeAnswer(answer, options.format, {
    generatedAt: (io.now ?? (() => new Date()))(),
  });
  await mkdir(options.out, { recursive: true });
  for (const file of files) {
    const path = join(options.out, file.name);
    await writeFile(path, file.bytes);
    io.stdout.write(`wrote ${path} (${file.bytes.byteLength} bytes)\n`);
  }
  const suppressed = answer.cells.filter((cell) => cell.suppressed).length;
  io.stdout.write(
    `${answer.measure.title}: ${answer.cells.length} cell(s), ${suppressed} suppressed ` +
      `(threshold ${answer.rules.threshold}, counts rounded to ${answer.rules.roundingBase}); ` +
      `cohort ${answer.cohortSize} children; model as of store position ${answer.asOfPosition}\n`,
  );
  return 0;
}

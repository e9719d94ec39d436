// The export command (`npm run export`, scripts/export.ts): a statutory return out of the store.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { laCode } from '@throughline/contracts';
import { createEventStore, type EventStore, type RecordedEvent } from '@throughline/event-store';
import { AccessLog, type Principal } from '@throughline/access';
import { createPool, loadToolConfig } from '@throughline/platform';
import { userInfo } from 'node:os';
import { exportCinCensus } from './cin-census/export';
import { exportSsda903 } from './ssda903/export';

/** Bad arguments: the script exits 2. */
export class ExportUsageError extends Error {}

const USAGE =
  'usage: npm run export -- <cin-census | ssda903> --la <3-digit LA code> --year <yyyy, the year the period ends> [--out <file | directory>]';

/** Pages through the whole store in global order; one page in memory at a time. */
async function* everyEvent(store: EventStore, pageSize = 1000): AsyncIterable<RecordedEvent> {
  let after = 0n;
  for (;;) {
    const page = await store.readAll({ after, maxCount: pageSize });
    for (const event of page) yield event;
    if (page.length < pageSize) return;
    after = page[page.length - 1].position;
  }
}

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      la: { type: 'string' },
      year: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || positionals.length !== 1) throw new ExportUsageError(USAGE);
  const format =
    positionals[0] === 'cin' ? 'cin-census' : positionals[0] === '903' ? 'ssda903' : positionals[0];
  if (format !== 'cin-census' && format !== 'ssda903')
    throw new ExportUsageError(`unknown format "${positionals[0]}"\n${USAGE}`);
  if (!values.la || !laCode.safeParse(values.la).success)
    throw new ExportUsageError(`--la must be a 3-digit LA code\n${USAGE}`);
  const year = Number(values.year);
  if (!values.year || !/^\d{4}$/.test(values.year) || year < 2000 || year > 2100)
    throw new ExportUsageError(
      `--year must be the 4-digit year the reference period ends, e.g. 2025\n${USAGE}`,
    );
  if (format === 'ssda903' && !values.out)
    throw new ExportUsageError(`ssda903 needs --out <directory> for its tables\n${USAGE}`);
  return { format, laCode: values.la, year, out: values.out ? resolve(values.out) : undefined };
}

/**
 * `npm run export -- <format> --la <code> --year <yyyy> [--out <path>]` (scripts/export.ts);
 * resolves with the exit code. Without --out the CIN census goes to `stdout`.
 */
export async function exportCommand(
  argv: string[],
  io: {
    readonly env: NodeJS.ProcessEnv;
    readonly stdout: NodeJS.WritableStream;
    readonly stderr: NodeJS.WritableStream;
  },
): Promise<number> {
  const options = parse(argv);
  const config = loadToolConfig(io.env);
  const pool = createPool(config.DATABASE_URL, { max: 1 });
  const log = new AccessLog(pool);
  const principal: Principal = {
    kind: 'system',
    userId: `export-cli:${userInfo().username}`,
    roles: ['statutory-returns'],
  };
  const audit = (returned: number, extra: Record<string, unknown>) =>
    log.record({
      action: 'statutory-return-export',
      principal,
      purpose: 'statutory-return',
      returned,
      outcome: 'ok',
      extra: { format: options.format, laCode: options.laCode, year: options.year, ...extra },
    });
  try {
    await audit(0, { stage: 'started' });
  } catch (error) {
    await pool.end();
    throw new Error(
      `the export cannot be recorded in the access log, so it is refused: ${(error as Error).message}`,
    );
  }
  const store = await createEventStore(config);
  try {
    if (options.format === 'cin-census') {
      const out = options.out ? createWriteStream(options.out) : io.stdout;
      const written = await exportCinCensus(everyEvent(store), options, out);
      if (options.out) {
        out.end();
        await finished(out);
      }
      await audit(written.children, { stage: 'written', records: written.records });
      io.stderr.write(
        `cin-census ${options.laCode} ${options.year - 1}-${String(options.year % 100).padStart(2, '0')}: ` +
          `${written.children} children, ${written.records} records${options.out ? ` written to ${options.out}` : ''}\n`,
      );
    } else {
      await mkdir(options.out!, { recursive: true });
      const written = await exportSsda903(everyEvent(store), options, options.out!);
      await audit(written.children, { stage: 'written', rows: written.rows });
      io.stderr.write(
        `ssda903 ${options.laCode} year ending March ${options.year}: ${written.children} children; ` +
          `${Object.entries(written.rows)
            .map(([table, rows]) => `${table} ${rows}`)
            .join(', ')} rows written to ${options.out}\n`,
      );
    }
    return 0;
  } finally {
    await store.close();
    await pool.end();
  }
}

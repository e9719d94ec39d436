import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { ImportFormat } from '@throughline/contracts';
import { fileOnDisk, importerFor, runImport, type EventSink, type ImportSummary } from '@throughline/returns';
import { projectRoot } from './app-process';
import { withDeadline } from './deadline';
import { elapsedMs, perSecond } from './stats';

/** One measured import: the CLI as a child process against a running agency service. */
export interface ImportRun {
  readonly children: number;
  readonly events: number;
  readonly elapsedMs: number;
  readonly childrenPerSecond: number;
  readonly eventsPerSecond: number;
  readonly peakRssMb: number;
  readonly bytes: number;
}

/** The same file read by the importer alone, events dropped: what parsing and mapping cost. */
export interface ParseRun {
  readonly events: number;
  readonly eventsPerSecond: number;
}

export interface ImportFixture {
  readonly format: ImportFormat;
  /** The CLI's format argument. */
  readonly cliFormat: string;
  /** Writes a synthetic return of `children` into `directory`; returns the path to import. */
  write(directory: string, children: number): Promise<string>;
}

/** Writes chunks to a file, waiting for the stream when it asks (memory stays flat). */
export async function writeChunks(path: string, chunks: Iterable<string>): Promise<void> {
  await pipeline(Readable.from(chunks), createWriteStream(path));
}

async function sizeOf(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  const { readdir } = await import('node:fs/promises');
  let total = 0;
  for (const name of await readdir(path)) total += (await stat(join(path, name))).size;
  return total;
}

/** `npm run import` as the CLI runs it (compiled), with the service's dev key as its token. */
async function runCli(
  fixture: ImportFixture,
  path: string,
  serviceUrl: string,
  key: string,
  signal: AbortSignal,
): Promise<{ summary: ImportSummary; peakRssMb: number; elapsedMs: number }> {
  const root = projectRoot();
  const start = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    [
      '-r',
      join(root, 'scripts', 'register-dist.js'),
      join(root, 'dist', 'scripts', 'import.js'),
      fixture.cliFormat,
      path,
      '--url',
      serviceUrl,
      '--json',
      '--quiet',
    ],
    { cwd: root, env: { ...process.env, THROUGHLINE_TOKEN: key }, stdio: ['ignore', 'pipe', 'pipe'], signal },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  const elapsed = elapsedMs(start);
  if (code !== 0)
    throw new Error(`npm run import ${fixture.cliFormat} exited ${code}: ${(stderr || stdout).slice(-2000)}`);
  const parsed = JSON.parse(stdout) as ImportSummary & { peakRssMb: number };
  return { summary: parsed, peakRssMb: parsed.peakRssMb, elapsedMs: elapsed };
}

/** Imports a synthetic return of `children` through the CLI; every event must be accepted. */
export async function measureImport(
  fixture: ImportFixture,
  children: number,
  serviceUrl: string,
  key: string,
  timeoutMs: number,
): Promise<ImportRun> {
  const directory = await mkdtemp(join(tmpdir(), `throughline-bench-${fixture.format}-`));
  try {
    const path = await fixture.write(directory, children);
    const bytes = await sizeOf(path);
    return await withDeadline(`import.${fixture.format}`, timeoutMs, async (signal) => {
      const { summary, peakRssMb, elapsedMs: elapsed } = await runCli(fixture, path, serviceUrl, key, signal);
      if (summary.state !== 'completed' || summary.eventsRejected > 0) {
        throw new Error(
          `import ${fixture.format} ${summary.state}, ${summary.eventsRejected} events rejected: ` +
            JSON.stringify(summary.problems.slice(0, 3)),
        );
      }
      return {
        children: summary.children,
        events: summary.eventsPublished,
        elapsedMs: elapsed,
        childrenPerSecond: perSecond(summary.children, elapsed),
        eventsPerSecond: perSecond(summary.eventsPublished, elapsed),
        peakRssMb,
        bytes,
      };
    });
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** The importer alone on the same kind of file, events dropped (no HTTP, no Kafka). */
export async function measureParse(
  fixture: ImportFixture,
  children: number,
  timeoutMs: number,
): Promise<ParseRun> {
  const directory = await mkdtemp(join(tmpdir(), `throughline-bench-parse-${fixture.format}-`));
  try {
    const path = await fixture.write(directory, children);
    const info = await stat(path);
    const paths = info.isDirectory()
      ? (await (await import('node:fs/promises')).readdir(path)).sort().map((name) => join(path, name))
      : [path];
    const files = await Promise.all(paths.map(fileOnDisk));
    const drop: EventSink = {
      publish: async (events) => ({
        results: events.map((_, index) => ({ index, status: 'accepted' as const, eventId: '' })),
      }),
    };
    return await withDeadline(`import.${fixture.format}.parse`, timeoutMs, async () => {
      const start = process.hrtime.bigint();
      const summary = await runImport(importerFor(fixture.format), files, { system: 'bench' }, drop, {
        batchSize: 1000,
      });
      const elapsed = elapsedMs(start);
      if (summary.state !== 'completed') throw new Error(`parse ${fixture.format} failed: ${summary.error}`);
      return {
        events: summary.eventsPublished,
        eventsPerSecond: perSecond(summary.eventsPublished, elapsed),
      };
    });
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

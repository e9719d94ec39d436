import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { ImportFormat, QuarantinedIdentifier } from '@throughline/contracts';

/** One file of an import: a CIN census XML, one SSDA903 table, a FHIR Bundle. */
export interface ImportFile {
  readonly name: string;
  /** SHA-256 of the whole file (lower-case hex): every imported event names it. */
  readonly sha256: string;
  /** A fresh stream of the file from its start; importers never hold a whole file. */
  open(): NodeJS.ReadableStream;
}

export interface ImportContext {
  /** `source.system` of the events (e.g. `cin-census`), one the publisher may publish for. */
  readonly system: string;
  /** The collection year (`2024-25`) when the caller knows it; importers may read it from the file. */
  readonly collectionYear?: string;
  /** The LA code when the caller knows it (SSDA903 CSVs do not hold it). */
  readonly laCode?: string;
  /**
   * `source.organisation` for records whose file does not name the organisation that holds them
   * (a FHIR resource without a managing organisation): the importing organisation's code.
   */
  readonly organisation?: string;
}

/** What an importer finds, in file order. */
export type ImportItem =
  /** A child (or patient) met in the file; importers yield each child once (the runner keeps no set of ids, so memory stays flat). */
  | { readonly kind: 'child'; readonly childId: string }
  /** An event (input shape, validated by the gateway) to publish. */
  | { readonly kind: 'event'; readonly event: unknown; readonly location: string }
  /** A row or element that could not become an event, and why. */
  | { readonly kind: 'refused'; readonly location: string; readonly rule: string; readonly reason: string };

export interface ReturnImporter {
  readonly format: ImportFormat;
  read(files: readonly ImportFile[], context: ImportContext): AsyncIterable<ImportItem>;
}

/** A file on disk as an ImportFile; the hash is computed with one streamed read. */
export async function fileOnDisk(path: string): Promise<ImportFile> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { name: basename(path), sha256: hash.digest('hex'), open: () => createReadStream(path) };
}

// ---------------------------------------------------------------------------------------------
// Running an import: batches to a sink, with a summary

/** One event's answer from the gateway (the batch endpoint's result shape). */
export type SinkResult =
  | { readonly index: number; readonly status: 'accepted'; readonly eventId: string }
  | {
      readonly index: number;
      readonly status: 'rejected';
      readonly eventId?: string;
      readonly issues: readonly { path: string; rule: string; message: string }[];
    };

/** Where the events go: the agency gateway, in process or over HTTP. */
export interface EventSink {
  /** Publishes 1..1000 events; resolves once Kafka acknowledged the accepted ones. */
  publish(events: readonly unknown[]): Promise<{ results: readonly SinkResult[] }>;
}

/** A problem with one record, by where it is in the file. */
export interface ImportProblem {
  readonly location: string;
  readonly rule: string;
  readonly reason: string;
}

/** How many problems of each kind the summary keeps in full (the counts are always whole). */
export const PROBLEMS_KEPT = 200;

export interface ImportSummary {
  readonly format: ImportFormat;
  readonly files: readonly { name: string; sha256: string }[];
  state: 'running' | 'completed' | 'failed';
  readonly startedAt: string;
  finishedAt?: string;
  /** Children (or patients) met. */
  children: number;
  /** Records read: events made plus records refused. */
  records: number;
  /** Events the gateway accepted (Kafka acknowledged). Re-importing a file publishes the same ids again; the store keeps one of each. */
  eventsPublished: number;
  /** Events the gateway refused (contract rules), with the record they came from. */
  eventsRejected: number;
  /** Identifiers quarantined, by the rule they failed. */
  quarantined: Record<string, number>;
  /** Records that could not become events, by rule. */
  refusedByRule: Record<string, number>;
  /** The first PROBLEMS_KEPT refused records and rejected events, each with location, rule and reason. */
  problems: ImportProblem[];
  /** Bytes of the files read so far (for progress). */
  bytesRead: number;
  readonly bytesTotal?: number;
  error?: string;
}

export interface RunImportOptions {
  /** Events per publish (1..1000). Default 500. */
  readonly batchSize?: number;
  /** Called after each batch is answered. */
  readonly onProgress?: (summary: Readonly<ImportSummary>) => void;
  readonly bytesTotal?: number;
}

function count(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

function quarantinedOf(event: unknown): readonly QuarantinedIdentifier[] {
  const subject = (event as { subject?: { quarantinedIdentifiers?: QuarantinedIdentifier[] } } | null)
    ?.subject;
  return subject?.quarantinedIdentifiers ?? [];
}

/** Counts the bytes importers read, for the progress bar (wraps each file's stream). */
function countingFiles(files: readonly ImportFile[], summary: ImportSummary): ImportFile[] {
  return files.map((file) => ({
    ...file,
    open: () => {
      const stream = file.open();
      stream.on('data', (chunk: Buffer | string) => {
        summary.bytesRead += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      });
      return stream;
    },
  }));
}

/** The summary of an import before any record is read. */
export function startingSummary(
  format: ImportFormat,
  files: readonly Pick<ImportFile, 'name' | 'sha256'>[],
  bytesTotal?: number,
): ImportSummary {
  return {
    format,
    files: files.map(({ name, sha256 }) => ({ name, sha256 })),
    state: 'running',
    startedAt: new Date().toISOString(),
    children: 0,
    records: 0,
    eventsPublished: 0,
    eventsRejected: 0,
    quarantined: {},
    refusedByRule: {},
    problems: [],
    bytesRead: 0,
    bytesTotal,
  };
}

/**
 * Reads the files with the importer and publishes its events in batches through the sink, in
 * file order: one batch is in flight while the next is read, so parsing and publishing overlap
 * and a child's events keep their order. Memory holds two batches, whatever the file size.
 * Returns the summary (also passed to onProgress as it grows).
 */
export async function runImport(
  importer: ReturnImporter,
  files: readonly ImportFile[],
  context: ImportContext,
  sink: EventSink,
  options: RunImportOptions = {},
): Promise<ImportSummary> {
  const batchSize = Math.min(Math.max(options.batchSize ?? 500, 1), 1000);
  const summary = startingSummary(importer.format, files, options.bytesTotal);
  const problem = (entry: ImportProblem) => {
    if (summary.problems.length < PROBLEMS_KEPT) summary.problems.push(entry);
  };

  let inFlight: Promise<void> = Promise.resolve();
  const publish = (batch: { event: unknown; location: string }[]) => {
    const previous = inFlight;
    inFlight = (async () => {
      await previous;
      const { results } = await sink.publish(batch.map((item) => item.event));
      for (const result of results) {
        if (result.status === 'accepted') {
          summary.eventsPublished++;
          for (const held of quarantinedOf(batch[result.index]?.event)) count(summary.quarantined, held.rule);
        } else {
          summary.eventsRejected++;
          const first = result.issues[0];
          count(summary.refusedByRule, first?.rule ?? 'rejected');
          problem({
            location: batch[result.index]?.location ?? `event ${result.index}`,
            rule: first?.rule ?? 'rejected',
            reason: result.issues
              .map((issue) => `${issue.path}: ${issue.message} (${issue.rule})`)
              .join('; '),
          });
        }
      }
      options.onProgress?.(summary);
    })();
    // The next batch is read while this one is answered; a failure surfaces at the next await.
    return previous;
  };

  try {
    let batch: { event: unknown; location: string }[] = [];
    for await (const item of importer.read(countingFiles(files, summary), context)) {
      if (item.kind === 'child') {
        summary.children++;
        continue;
      }
      summary.records++;
      if (item.kind === 'refused') {
        count(summary.refusedByRule, item.rule);
        problem({ location: item.location, rule: item.rule, reason: item.reason });
        continue;
      }
      batch.push({ event: item.event, location: item.location });
      if (batch.length >= batchSize) {
        await publish(batch);
        batch = [];
      }
    }
    if (batch.length) await publish(batch);
    await inFlight;
    summary.state = 'completed';
  } catch (error) {
    await inFlight.catch(() => undefined);
    summary.state = 'failed';
    summary.error = error instanceof Error ? error.message : String(error);
  }
  summary.finishedAt = new Date().toISOString();
  options.onProgress?.(summary);
  return summary;
}

import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { NotFoundError, UnavailableError, ValidationError } from '@throughline/platform';
import { IMPORT_FORMATS, collectionYear, laCode, type ImportFormat } from '@throughline/contracts';
import {
  IMPORT_FORMAT_OWNERS,
  importerFor,
  importFormatsOf,
  runImport,
  startingSummary,
  type EventSink,
  type ImportFile,
  type ImportSummary,
} from '@throughline/returns';
import { AgencyGatewayService } from './agency-gateway.service';
import { GatewaySettings } from './gateway-settings';
import type { Publisher } from './publication';

/** How many imports one service runs at once; more are answered 429. */
export const MAX_RUNNING_IMPORTS = 2;
/** How many finished imports' summaries are kept for their status endpoint. */
const KEPT_SUMMARIES = 100;

function invalid(path: string, rule: string, message: string): ValidationError {
  return new ValidationError(message, [{ path, rule, message }]);
}

export interface ImportOptions {
  readonly format: string | undefined;
  readonly collectionYear?: string;
  readonly laCode?: string;
  readonly organisation?: string;
}

/** An uploaded file as it arrives: a name and a stream read once. */
export interface UploadedFile {
  readonly name: string;
  readonly stream: NodeJS.ReadableStream;
}

interface ImportRun {
  readonly id: string;
  readonly publisherId: string;
  summary: ImportSummary;
}

/**
 * `POST /v1/imports`: a return or record file in, its events out through this service's own
 * gateway (the same contracts, publisher rules and Kafka acknowledgements as any event). Each
 * upload is streamed to a private temporary file while its SHA-256 is computed (never held in
 * memory), then read by the format's importer in the background; the status answers the
 * runner's summary.
 */
@Injectable()
export class ImportsService {
  private readonly logger = new Logger('Imports');
  private readonly runs = new Map<string, ImportRun>();
  private readonly running = new Set<Promise<void>>();

  constructor(
    @Inject(GatewaySettings) private readonly settings: GatewaySettings,
    @Inject(AgencyGatewayService) private readonly gateway: AgencyGatewayService,
  ) {}

  /** Checks the options before any byte of the upload is read. */
  checkOptions(options: ImportOptions): {
    format: ImportFormat;
    collectionYear?: string;
    laCode?: string;
    organisation?: string;
  } {
    const formats = importFormatsOf(this.settings.agency);
    if (!options.format || !(IMPORT_FORMATS as readonly string[]).includes(options.format)) {
      throw invalid(
        'query.format',
        'one-of',
        `format must be one of ${formats.join(', ') || '(none: this service imports nothing)'}`,
      );
    }
    const format = options.format as ImportFormat;
    if (!formats.includes(format)) {
      throw invalid(
        'query.format',
        'format-of-agency',
        `${format} is imported by the ${IMPORT_FORMAT_OWNERS[format].agency} service, not ${this.settings.agency}`,
      );
    }
    if (options.collectionYear !== undefined && !collectionYear.safeParse(options.collectionYear).success) {
      throw invalid('query.year', 'pattern', 'year must be a collection year such as 2024-25');
    }
    if (options.laCode !== undefined && !laCode.safeParse(options.laCode).success) {
      throw invalid('query.la', 'pattern', 'la must be a 3-digit LA code');
    }
    if (this.running.size >= MAX_RUNNING_IMPORTS) {
      throw new UnavailableError(
        `${MAX_RUNNING_IMPORTS} imports are running on this service; try again when one has finished`,
      );
    }
    if (options.organisation !== undefined && !/^[A-Za-z0-9-]{1,20}$/.test(options.organisation)) {
      throw invalid('query.org', 'pattern', 'org must be an organisation code of 1-20 letters, digits or -');
    }
    return {
      format,
      collectionYear: options.collectionYear,
      laCode: options.laCode,
      organisation: options.organisation,
    };
  }

  /** Spools the uploads, starts the import in the background and returns its id and first summary. */
  async start(
    publisher: Publisher,
    options: ImportOptions,
    uploads: AsyncIterable<UploadedFile>,
  ): Promise<{ id: string; summary: ImportSummary }> {
    const checked = this.checkOptions(options);
    const directory = await mkdtemp(join(tmpdir(), 'throughline-import-'));
    const files: ImportFile[] = [];
    let bytesTotal = 0;
    try {
      for await (const upload of uploads) {
        const path = join(directory, String(files.length));
        const hash = createHash('sha256');
        let size = 0;
        await pipeline(
          upload.stream,
          new Transform({
            transform(chunk: Buffer, _encoding, done) {
              hash.update(chunk);
              size += chunk.length;
              done(null, chunk);
            },
          }),
          createWriteStream(path, { mode: 0o600 }),
        );
        bytesTotal += size;
        files.push({
          name: upload.name.slice(0, 200),
          sha256: hash.digest('hex'),
          open: () => createReadStream(path),
        });
      }
      if (files.length === 0) throw invalid('body', 'min-items', 'upload at least one file');
    } catch (error) {
      await rm(directory, { recursive: true, force: true });
      throw error;
    }

    const id = randomUUID();
    const sink: EventSink = {
      publish: async (events) => {
        const response = await this.gateway.publishBatch(publisher, { events });
        return { results: response.results };
      },
    };
    const run: ImportRun = {
      id,
      publisherId: publisher.publisherId,
      summary: undefined as unknown as ImportSummary,
    };
    const system = IMPORT_FORMAT_OWNERS[checked.format].system;
    const task = runImport(
      importerFor(checked.format),
      files,
      {
        system,
        collectionYear: checked.collectionYear,
        laCode: checked.laCode,
        organisation: checked.organisation,
      },
      sink,
      { bytesTotal, onProgress: (summary) => (run.summary = summary) },
    )
      .then((summary) => {
        run.summary = summary;
        this.logger.log(
          `import ${id} (${checked.format}) ${summary.state}: ${summary.children} children, ` +
            `${summary.eventsPublished} events published, ${summary.eventsRejected} rejected`,
        );
      })
      .finally(() => rm(directory, { recursive: true, force: true }));
    // The first summary, before any record is read.
    run.summary = startingSummary(checked.format, files, bytesTotal);
    this.remember(run);
    const tracked = task.catch((error: unknown) => {
      this.logger.error(`import ${id} failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
    return { id, summary: run.summary };
  }

  /** The summary of an import this publisher started. */
  status(publisher: Publisher, id: string): ImportSummary {
    const run = this.runs.get(id);
    if (!run || run.publisherId !== publisher.publisherId) {
      throw new NotFoundError('no import with this id was started by you');
    }
    return run.summary;
  }

  private remember(run: ImportRun): void {
    this.runs.set(run.id, run);
    if (this.runs.size <= KEPT_SUMMARIES) return;
    for (const [id, kept] of this.runs) {
      if (kept.summary.state === 'running') continue;
      this.runs.delete(id);
      if (this.runs.size <= KEPT_SUMMARIES) break;
    }
  }
}

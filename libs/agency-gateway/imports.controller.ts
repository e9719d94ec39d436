import {
  Controller,
  Get,
  Inject,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { EdgeRoute, RouteAccess, ValidationError } from '@throughline/platform';
import type { ImportSummary } from '@throughline/returns';
import { ImportsService, type UploadedFile } from './imports.service';
import { AuthenticatedPublisher, PublisherAuthGuard } from './publisher-auth.guard';
import type { Publisher } from './publication';

/** Largest file one import takes (the upload is streamed to disk, never held in memory). */
export const IMPORT_MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024;
/** Most files one import takes (SSDA903 has 11 tables). */
export const IMPORT_MAX_FILES = 20;

type MultipartRequest = FastifyRequest & {
  isMultipart(): boolean;
  files(): AsyncIterable<{ filename: string; file: NodeJS.ReadableStream }>;
};

@ApiTags('imports')
@Controller()
export class ImportsController {
  constructor(@Inject(ImportsService) private readonly imports: ImportsService) {}

  @Post('v1/imports')
  @RouteAccess({ permission: 'publish', action: 'import' })
  @EdgeRoute({ rateLimit: 'publish' })
  @UseGuards(PublisherAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Import a statutory return or health record file',
    description:
      'multipart/form-data with one or more files (a CIN census XML; the SSDA903 CSV tables or its XML; a FHIR ' +
      'resource or Bundle, JSON or XML), `?format=cin-census|ssda903|fhir-r4` and optionally `&year=2024-25&la=991&org=DEMO-CHS` (the importing organisation, for records that name none). ' +
      'The files are streamed to disk, then read in the background; every event goes through this service’s ' +
      'gateway (contracts, publisher rules, Kafka acknowledgements) with a deterministic id, so importing a ' +
      'file twice adds nothing. Answers 202 with the import id; `GET /v1/imports/{id}` gives the summary.',
  })
  async start(
    @AuthenticatedPublisher() publisher: Publisher,
    @Query('format') format: string | undefined,
    @Query('year') year: string | undefined,
    @Query('la') la: string | undefined,
    @Query('org') org: string | undefined,
    @Req() request: MultipartRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ id: string; status: string; summary: ImportSummary }> {
    const options = { format, collectionYear: year, laCode: la, organisation: org };
    // Refuse bad options before reading a byte of the upload.
    this.imports.checkOptions(options);
    if (!request.isMultipart()) {
      const message = 'upload the file(s) as multipart/form-data';
      throw new ValidationError(message, [{ path: 'headers.content-type', rule: 'media-type', message }]);
    }
    async function* uploads(): AsyncIterable<UploadedFile> {
      for await (const part of request.files()) yield { name: part.filename, stream: part.file };
    }
    const { id, summary } = await this.imports.start(publisher, options, uploads());
    const status = `/v1/imports/${id}`;
    void reply.status(202).header('location', status);
    return { id, status, summary };
  }

  @Get('v1/imports/:id')
  @RouteAccess({ permission: 'publish', action: 'import-status' })
  @EdgeRoute({ rateLimit: 'publish' })
  @UseGuards(PublisherAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'The summary of an import you started',
    description:
      'state (running, completed, failed), children, records, events published and rejected, identifiers ' +
      'quarantined by rule, records refused by rule, and the first problems with their element or line.',
  })
  status(
    @AuthenticatedPublisher() publisher: Publisher,
    @Param('id', new ParseUUIDPipe({ version: '4' })) id: string,
  ): ImportSummary {
    return this.imports.status(publisher, id);
  }
}

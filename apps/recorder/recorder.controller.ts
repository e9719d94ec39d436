import { Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Access, CurrentRequester, noteAccess, type Requester } from '@throughline/access';
import { NotFoundError, ValidationError } from '@throughline/platform';
import {
  DeadLetterRedriver,
  PostgresDeadLetters,
  Recorder,
  type DeadLetterPage,
  type DeadLetterPayload,
  type RecorderMetrics,
  type RecorderState,
  type RedriveResult,
} from '@throughline/recording';

export interface RecorderStatus extends RecorderMetrics {
  readonly groupId: string;
  readonly consumer: RecorderState;
}

function optionalInteger(value: string | undefined, path: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,9}$/.test(value)) {
    throw new ValidationError('invalid query', [
      { path, rule: 'integer', message: 'must be a non-negative integer' },
    ]);
  }
  return Number(value);
}

@ApiTags('recorder')
@Controller()
export class RecorderController {
  constructor(
    private readonly recorder: Recorder,
    private readonly deadLetters: PostgresDeadLetters,
    private readonly redriver: DeadLetterRedriver,
  ) {}

  @Get('v1/recorder/status')
  @Access('operations:read', 'recorder-status', { defaultPurpose: 'operations' })
  @ApiOperation({
    summary:
      'Consumer state and counters since start: consumed, stored, duplicates, dead-lettered, batches, lag ' +
      '(the same counters are at /metrics for Prometheus)',
  })
  status(): RecorderStatus {
    return {
      groupId: this.recorder.groupId,
      consumer: this.recorder.currentState(),
      ...this.recorder.metrics(),
    };
  }

  @Get('v1/dead-letters')
  @Access('dead-letters:read', 'dead-letters')
  @ApiOperation({
    summary:
      'Dead letters in the order they were recorded: coordinates, reason, issues and re-drive. The payload ' +
      'and message key are not here: GET /v1/dead-letters/{id}/payload, with its own permission and purpose',
  })
  @ApiQuery({ name: 'limit', required: false, description: 'rows per page, 1-500, default 50' })
  @ApiQuery({ name: 'after', required: false, description: 'the `next` of the previous page' })
  async listDeadLetters(
    @CurrentRequester() requester: Requester,
    @Query('limit') limit?: string,
    @Query('after') after?: string,
  ): Promise<DeadLetterPage> {
    if (after !== undefined && after !== '' && !/^\d{1,18}$/.test(after)) {
      throw new ValidationError('invalid query', [
        { path: 'after', rule: 'integer', message: 'must be a non-negative integer (a dead letter id)' },
      ]);
    }
    const page = await this.deadLetters.list({
      limit: optionalInteger(limit, 'limit'),
      after: after || undefined,
    });
    noteAccess(requester, {
      returned: page.deadLetters.length,
      extra: { deadLetters: page.deadLetters.map((letter) => letter.id) },
    });
    return page;
  }

  @Get('v1/dead-letters/:id/payload')
  @Access('dead-letters:payload', 'dead-letter-payload')
  @ApiOperation({
    summary:
      "A dead letter's message key, headers and payload (child data): a stated purpose and its own permission; " +
      'every read is in the access log',
  })
  @ApiParam({ name: 'id', description: 'the dead letter id, as listed' })
  @ApiResponse({ status: 404, description: 'no dead letter with this id' })
  async payload(
    @CurrentRequester() requester: Requester,
    @Param('id') id: string,
  ): Promise<DeadLetterPayload> {
    noteAccess(requester, { extra: { deadLetter: id } });
    const payload = /^\d{1,18}$/.test(id) ? await this.deadLetters.payload(id) : undefined;
    if (!payload) throw new NotFoundError(`no dead letter with id ${id}`);
    noteAccess(requester, { returned: 1 });
    return payload;
  }

  @Post('v1/dead-letters/:id/redrive')
  @Access('dead-letters:redrive', 'dead-letter-redrive')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Validate a dead letter again with the current contracts and store it if valid (idempotent)',
  })
  @ApiParam({ name: 'id', description: 'the dead letter id, as listed' })
  @ApiResponse({ status: 200, description: 'stored now, or found re-driven / stored already' })
  @ApiResponse({ status: 404, description: 'no dead letter with this id' })
  @ApiResponse({ status: 422, description: 'still invalid (issues listed); the dead letter is unchanged' })
  async redrive(
    @CurrentRequester() requester: Requester,
    @Param('id') id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RedriveResult> {
    noteAccess(requester, { extra: { deadLetter: id } });
    if (!/^\d{1,18}$/.test(id)) throw new NotFoundError(`no dead letter with id ${id}`);
    // The verified user is kept with the dead letter's re-drive, never a header the caller chose.
    const result = await this.redriver.redrive(id, requester.principal.userId);
    if (result.status === 'still-invalid' || result.status === 'store-rejected') void reply.status(422);
    return result;
  }
}

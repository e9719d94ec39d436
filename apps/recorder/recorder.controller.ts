import { Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { NotFoundError, ThroughlineError, ValidationError } from '@throughline/platform';
import {
  DeadLetterRedriver,
  PostgresDeadLetters,
  Recorder,
  type DeadLetterPage,
  type RecorderMetrics,
  type RecorderState,
  type RedriveResult,
} from '@throughline/recording';

/** The header naming who asks for a re-drive; it is kept with the dead letter. */
export const REDRIVE_USER_HEADER = 'x-user-id';

const HEADER_TEXT = /^[\x20-\x7e]{1,200}$/;

function requestingUser(value: string | string[] | undefined): string {
  const first = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!first) {
    throw new ThroughlineError(
      'UNAUTHENTICATED',
      `header ${REDRIVE_USER_HEADER} is required: every re-drive is recorded against a user`,
    );
  }
  if (!HEADER_TEXT.test(first)) {
    throw new ValidationError('invalid header', [
      {
        path: `headers.${REDRIVE_USER_HEADER}`,
        rule: 'pattern',
        message: 'printable text, at most 200 characters',
      },
    ]);
  }
  return first;
}

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
  @ApiOperation({ summary: 'Dead letters in the order they were recorded, with reason and issues' })
  @ApiQuery({ name: 'limit', required: false, description: 'rows per page, 1-500, default 50' })
  @ApiQuery({ name: 'after', required: false, description: 'the `next` of the previous page' })
  listDeadLetters(@Query('limit') limit?: string, @Query('after') after?: string): Promise<DeadLetterPage> {
    if (after !== undefined && after !== '' && !/^\d{1,18}$/.test(after)) {
      throw new ValidationError('invalid query', [
        { path: 'after', rule: 'integer', message: 'must be a non-negative integer (a dead letter id)' },
      ]);
    }
    return this.deadLetters.list({ limit: optionalInteger(limit, 'limit'), after: after || undefined });
  }

  @Post('v1/dead-letters/:id/redrive')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Validate a dead letter again with the current contracts and store it if valid (idempotent)',
  })
  @ApiParam({ name: 'id', description: 'the dead letter id, as listed' })
  @ApiHeader({ name: REDRIVE_USER_HEADER, required: true, description: 'who asks; kept for audit' })
  @ApiResponse({ status: 200, description: 'stored now, or found re-driven / stored already' })
  @ApiResponse({ status: 404, description: 'no dead letter with this id' })
  @ApiResponse({ status: 422, description: 'still invalid (issues listed); the dead letter is unchanged' })
  async redrive(
    @Param('id') id: string,
    @Headers(REDRIVE_USER_HEADER) user: string | string[] | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RedriveResult> {
    const requestedBy = requestingUser(user);
    if (!/^\d{1,18}$/.test(id)) throw new NotFoundError(`no dead letter with id ${id}`);
    const result = await this.redriver.redrive(id, requestedBy);
    if (result.status === 'still-invalid' || result.status === 'store-rejected') void reply.status(422);
    return result;
  }
}

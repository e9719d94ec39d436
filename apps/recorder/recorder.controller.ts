import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ValidationError } from '@throughline/platform';
import {
  PostgresDeadLetters,
  Recorder,
  type DeadLetterPage,
  type RecorderMetrics,
} from '@throughline/recording';

export interface RecorderHealth {
  readonly status: 'ok' | 'unavailable';
  readonly consumer: string;
  readonly database: 'reachable' | 'unreachable';
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
  ) {}

  @Get('health')
  @ApiOperation({ summary: 'Kafka consumer running and database reachable (503 otherwise)' })
  async health(@Res({ passthrough: true }) reply: FastifyReply): Promise<RecorderHealth> {
    const databaseUp = await this.deadLetters.ping();
    const healthy = this.recorder.isRunning() && databaseUp;
    void reply.status(healthy ? 200 : 503);
    return {
      status: healthy ? 'ok' : 'unavailable',
      consumer: this.recorder.currentState(),
      database: databaseUp ? 'reachable' : 'unreachable',
    };
  }

  @Get('metrics')
  @ApiOperation({
    summary: 'Counters since start: consumed, stored, duplicates, dead-lettered, batches, lag',
  })
  metrics(): RecorderMetrics & { readonly groupId: string } {
    return { groupId: this.recorder.groupId, ...this.recorder.metrics() };
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
}

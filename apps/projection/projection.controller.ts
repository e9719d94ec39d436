import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { TimelineProjector, TimelineQueries, type ProjectionStatus } from '@throughline/timeline';
import { ProjectionHealthDto, ProjectionStatusDto } from './dto';

@ApiTags('projection')
@Controller()
export class ProjectionController {
  constructor(
    private readonly projector: TimelineProjector,
    private readonly queries: TimelineQueries,
  ) {}

  @Get('v1/projection/status')
  @ApiOperation({
    summary: 'Checkpoint, store head and lag: an event is projected once checkpoint >= its position',
  })
  @ApiOkResponse({ type: ProjectionStatusDto })
  status(): Promise<ProjectionStatus> {
    return this.projector.status();
  }

  @Get('health')
  @ApiOperation({ summary: 'Database reachable and subscription running (503 otherwise)' })
  @ApiOkResponse({ type: ProjectionHealthDto })
  @ApiServiceUnavailableResponse({ type: ProjectionHealthDto })
  async health(@Res({ passthrough: true }) reply: FastifyReply): Promise<ProjectionHealthDto> {
    const databaseUp = await this.queries.ping();
    const running = this.projector.isRunning();
    void reply.status(databaseUp && running ? 200 : 503);
    return {
      status: databaseUp && running ? 'ok' : 'unavailable',
      subscription: running ? 'running' : 'stopped',
      database: databaseUp ? 'reachable' : 'unreachable',
    };
  }
}

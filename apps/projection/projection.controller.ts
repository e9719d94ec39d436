import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { IdentityLinker, type LinkerStatus } from '@throughline/identity';
import { TimelineProjector, TimelineQueries, type ProjectionStatus } from '@throughline/timeline';
import { LinkerStatusDto, ProjectionHealthDto, ProjectionStatusDto } from './dto';

@ApiTags('projection')
@Controller()
export class ProjectionController {
  constructor(
    private readonly projector: TimelineProjector,
    private readonly queries: TimelineQueries,
    private readonly linker: IdentityLinker,
  ) {}

  @Get('v1/projection/status')
  @ApiOperation({
    summary: 'Checkpoint, store head and lag: an event is projected once checkpoint >= its position',
  })
  @ApiOkResponse({ type: ProjectionStatusDto })
  status(): Promise<ProjectionStatus> {
    return this.projector.status();
  }

  @Get('v1/identity/linker/status')
  @ApiOperation({
    summary: 'The identity linker: checkpoint, store head, lag, and how many identity events it appended',
  })
  @ApiOkResponse({ type: LinkerStatusDto })
  linkerStatus(): Promise<LinkerStatus> {
    return this.linker.status();
  }

  @Get('health')
  @ApiOperation({ summary: 'Database reachable, projection and identity linker running (503 otherwise)' })
  @ApiOkResponse({ type: ProjectionHealthDto })
  @ApiServiceUnavailableResponse({ type: ProjectionHealthDto })
  async health(@Res({ passthrough: true }) reply: FastifyReply): Promise<ProjectionHealthDto> {
    const databaseUp = await this.queries.ping();
    const running = this.projector.isRunning();
    const linking = this.linker.isRunning();
    const ok = databaseUp && running && linking;
    void reply.status(ok ? 200 : 503);
    return {
      status: ok ? 'ok' : 'unavailable',
      subscription: running ? 'running' : 'stopped',
      linker: linking ? 'running' : 'stopped',
      database: databaseUp ? 'reachable' : 'unreachable',
    };
  }
}

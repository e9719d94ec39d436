import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IdentityLinker, type LinkerStatus } from '@throughline/identity';
import { TimelineProjector, type ProjectionStatus } from '@throughline/timeline';
import { openApiSchemaOf } from '@throughline/platform';
import { Access } from '@throughline/access';
import { linkerStatus, projectionStatus } from './http-schemas';

@ApiTags('projection')
@Controller()
export class ProjectionController {
  constructor(
    private readonly projector: TimelineProjector,
    private readonly linker: IdentityLinker,
  ) {}

  @Get('v1/projection/status')
  @Access('operations:read', 'projection-status', { defaultPurpose: 'operations' })
  @ApiOperation({
    summary: 'Checkpoint, store head and lag: an event is projected once checkpoint >= its position',
  })
  @ApiOkResponse({ schema: openApiSchemaOf(projectionStatus) })
  status(): Promise<ProjectionStatus> {
    return this.projector.status();
  }

  @Get('v1/identity/linker/status')
  @Access('operations:read', 'linker-status', { defaultPurpose: 'operations' })
  @ApiOperation({
    summary: 'The identity linker: checkpoint, store head, lag, and how many identity events it appended',
  })
  @ApiOkResponse({ schema: openApiSchemaOf(linkerStatus) })
  linkerStatus(): Promise<LinkerStatus> {
    return this.linker.status();
  }
}

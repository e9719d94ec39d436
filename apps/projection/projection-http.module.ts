import { Module, type OnApplicationShutdown, type Type } from '@nestjs/common';
import { IdentityLinker, IdentityReview } from '@throughline/identity';
import { ReadinessChecks } from '@throughline/platform';
import { TimelineProjector, TimelineQueries } from '@throughline/timeline';
import { IdentityController } from './identity.controller';
import { ProjectionController } from './projection.controller';
import { TimelinePageController } from './timeline-page.controller';
import { TimelineController } from './timeline.controller';

/**
 * The projection's HTTP face over a projector and queries built outside Nest. `onShutdown`
 * runs when the app closes (close() or a signal), so the subscription stops and the pools close.
 */
export function projectionHttpModule(
  projector: TimelineProjector,
  queries: TimelineQueries,
  review: IdentityReview,
  linker: IdentityLinker,
  onShutdown: () => Promise<void>,
  readiness = new ReadinessChecks([]),
): Type<unknown> {
  @Module({
    controllers: [TimelineController, IdentityController, ProjectionController, TimelinePageController],
    providers: [
      { provide: TimelineProjector, useValue: projector },
      { provide: TimelineQueries, useValue: queries },
      { provide: IdentityReview, useValue: review },
      { provide: IdentityLinker, useValue: linker },
      { provide: ReadinessChecks, useValue: readiness },
    ],
  })
  class ProjectionHttpModule implements OnApplicationShutdown {
    async onApplicationShutdown(): Promise<void> {
      await onShutdown();
    }
  }
  return ProjectionHttpModule;
}

import { Module, type DynamicModule } from '@nestjs/common';
import type { Agency } from '@throughline/contracts';
import { ReadinessChecks, type Config } from '@throughline/platform';
import { AgencyGatewayController } from './agency-gateway.controller';
import { AgencyGatewayService } from './agency-gateway.service';
import { GatewayMetrics } from './gateway-metrics';
import { GatewayRejectionNotes } from './gateway-rejections';
import { GatewaySettings } from './gateway-settings';
import { ImportsController } from './imports.controller';
import { ImportsService } from './imports.service';
import { KafkaEventPublisher } from './kafka-event-publisher';
import { PublisherAuthGuard } from './publisher-auth.guard';

/** The HTTP door of one agency: `AgencyGatewayModule.forAgency('health', loadConfig())`. */
@Module({})
export class AgencyGatewayModule {
  static forAgency(agency: Agency, config: Config): DynamicModule {
    return {
      module: AgencyGatewayModule,
      controllers: [AgencyGatewayController, ImportsController],
      providers: [
        { provide: GatewaySettings, useValue: new GatewaySettings(agency, config) },
        KafkaEventPublisher,
        AgencyGatewayService,
        GatewayMetrics,
        GatewayRejectionNotes,
        PublisherAuthGuard,
        ImportsService,
        {
          provide: ReadinessChecks,
          inject: [AgencyGatewayService],
          useFactory: (gateway: AgencyGatewayService) =>
            new ReadinessChecks([
              // A real round trip to the broker for this service's topic.
              { name: 'kafka', probe: async () => ({ ...(await gateway.checkHealth()) }) },
            ]),
        },
      ],
    };
  }
}

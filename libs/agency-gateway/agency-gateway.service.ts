import { Inject, Injectable } from '@nestjs/common';
import { GatewaySettings } from './gateway-settings';
import { KafkaEventPublisher, type KafkaHealth } from './kafka-event-publisher';
import {
  buildPublishResponse,
  eventsOfBatchBody,
  toOutgoingMessage,
  validateEvents,
  type Publisher,
  type PublishResponse,
} from './publication';

/** Validate every event, publish the valid ones together, answer per event. */
@Injectable()
export class AgencyGatewayService {
  constructor(
    @Inject(GatewaySettings) private readonly settings: GatewaySettings,
    @Inject(KafkaEventPublisher) private readonly publisher: KafkaEventPublisher,
  ) {}

  publishOne(publisher: Publisher, body: unknown): Promise<PublishResponse> {
    return this.publishAll(publisher, [body]);
  }

  publishBatch(publisher: Publisher, body: unknown): Promise<PublishResponse> {
    return this.publishAll(publisher, eventsOfBatchBody(body));
  }

  checkHealth(): Promise<KafkaHealth> {
    return this.publisher.checkHealth();
  }

  private async publishAll(publisher: Publisher, inputs: readonly unknown[]): Promise<PublishResponse> {
    const { valid, rejected } = validateEvents(inputs, this.settings.agency);
    const placements =
      valid.length === 0
        ? []
        : await this.publisher.publish((partitions) =>
            valid.map(({ event }) => toOutgoingMessage(event, publisher, this.settings.topic, partitions)),
          );
    return buildPublishResponse(this.settings.topic, valid, placements, rejected);
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { SpanKind } from '@opentelemetry/api';
import { traceHeaders, withSpan } from '@throughline/platform';
import { GatewayMetrics } from './gateway-metrics';
import { GatewayRejectionNotes } from './gateway-rejections';
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

function publishAttributes(topic: string, messages: number) {
  return {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'send',
    'messaging.destination.name': topic,
    'messaging.batch.message_count': messages,
  };
}

/** Validate every event, publish the valid ones together, answer per event. */
@Injectable()
export class AgencyGatewayService {
  constructor(
    @Inject(GatewaySettings) private readonly settings: GatewaySettings,
    @Inject(KafkaEventPublisher) private readonly publisher: KafkaEventPublisher,
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
    @Inject(GatewayRejectionNotes) private readonly rejections: GatewayRejectionNotes,
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
    const { valid, rejected } = validateEvents(inputs, this.settings.agency, publisher);
    this.metrics.countRejected(this.settings.agency, inputs, rejected);
    // Kept without payload by the recorder; queued, never awaited: a publish never waits on it.
    this.rejections.note(publisher, inputs, rejected);
    const { topic } = this.settings;
    const placements =
      valid.length === 0
        ? []
        : await this.metrics.timePublish(this.settings.agency, () =>
            withSpan(
              `send ${topic}`,
              { kind: SpanKind.PRODUCER, attributes: publishAttributes(topic, valid.length) },
              () => {
                // One traceparent (this span's) for every message of the request.
                const trace = traceHeaders();
                return this.publisher.publish((partitions) =>
                  valid.map(({ event }) => toOutgoingMessage(event, publisher, topic, partitions, trace)),
                );
              },
            ),
          );
    this.metrics.countAccepted(this.settings.agency, valid);
    return buildPublishResponse(this.settings.topic, valid, placements, rejected);
  }
}

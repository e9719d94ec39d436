import { Inject, Injectable } from '@nestjs/common';
import { EVENT_TYPES, type Agency } from '@throughline/contracts';
import { DURATION_BUCKETS } from '@throughline/platform';
import { Counter, Histogram, Registry } from 'prom-client';
import type { RejectedResult, ValidEvent } from './publication';

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);
const RULE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** A posted event's type when the contracts know it, else `unknown`: labels stay a closed set. */
function typeOf(input: unknown): string {
  const type = typeof input === 'object' && input !== null ? (input as { type?: unknown }).type : undefined;
  return typeof type === 'string' && KNOWN_TYPES.has(type) ? type : 'unknown';
}

/**
 * The gateway's metrics in the app's registry: events accepted (acknowledged by Kafka) and
 * rejected per agency, type and rule (the first failing rule of the event), and how long
 * publishing to Kafka took.
 */
@Injectable()
export class GatewayMetrics {
  private readonly accepted: Counter<'agency' | 'type'>;
  private readonly rejected: Counter<'agency' | 'type' | 'rule'>;
  private readonly publishDuration: Histogram<'agency' | 'outcome'>;

  constructor(@Inject(Registry) registry: Registry) {
    this.accepted = new Counter({
      name: 'throughline_gateway_events_accepted_total',
      help: 'Events accepted: valid and acknowledged by Kafka',
      labelNames: ['agency', 'type'],
      registers: [registry],
    });
    this.rejected = new Counter({
      name: 'throughline_gateway_events_rejected_total',
      help: 'Events rejected by the contracts, by the rule of their first issue',
      labelNames: ['agency', 'type', 'rule'],
      registers: [registry],
    });
    this.publishDuration = new Histogram({
      name: 'throughline_gateway_publish_duration_seconds',
      help: 'Publishing the valid events of one request to Kafka until acknowledged (outcome ok or error), in seconds',
      labelNames: ['agency', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
  }

  countRejected(agency: Agency, inputs: readonly unknown[], rejected: readonly RejectedResult[]): void {
    for (const result of rejected) {
      const rule = result.issues[0]?.rule;
      this.rejected.inc({
        agency,
        type: typeOf(inputs[result.index]),
        rule: rule !== undefined && RULE.test(rule) ? rule : 'other',
      });
    }
  }

  countAccepted(agency: Agency, accepted: readonly ValidEvent[]): void {
    for (const { event } of accepted) this.accepted.inc({ agency, type: event.type });
  }

  async timePublish<T>(agency: Agency, publish: () => Promise<T>): Promise<T> {
    const stop = this.publishDuration.startTimer({ agency });
    try {
      const result = await publish();
      stop({ outcome: 'ok' });
      return result;
    } catch (error) {
      stop({ outcome: 'error' });
      throw error;
    }
  }
}

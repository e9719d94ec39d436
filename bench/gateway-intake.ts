import type { Agency } from '@throughline/contracts';
import { withDeadline } from './deadline';
import { httpRequest } from './http';
import type { BenchEvent } from './payloads';
import { elapsedMs, perSecond } from './stats';

/** An agency service as a publisher reaches it: its base URL and a bearer key it accepts. */
export interface AgencyEndpoint {
  readonly agency: Agency;
  readonly url: string;
  readonly key: string;
}

export interface GatewayThroughput {
  readonly eventsPerSecond: number;
  /** First POST sent to last 202 received. */
  readonly elapsedMs: number;
  readonly requests: number;
}

interface PublishAnswer {
  readonly accepted: number;
  readonly rejected: number;
  readonly results: readonly { readonly status: string; readonly issues?: unknown }[];
}

/** POSTs one event or a batch; anything but a 202 with every event accepted fails the run. */
export async function publish(endpoint: AgencyEndpoint, events: readonly BenchEvent[]): Promise<void> {
  const single = events.length === 1;
  const response = await httpRequest(`${endpoint.url}/v1/events${single ? '' : '/batch'}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${endpoint.key}`, 'content-type': 'application/json' },
    // The events were serialised once; the batch body is spliced from those strings.
    body: single ? events[0].json : `{"events":[${events.map((event) => event.json).join(',')}]}`,
  });
  const { text } = response;
  if (response.status !== 202) {
    throw new Error(
      `${endpoint.agency} answered ${response.status} to ${events.length} events: ${text.slice(0, 500)}`,
    );
  }
  const answer = JSON.parse(text) as PublishAnswer;
  if (answer.accepted !== events.length) {
    const firstRejection = answer.results.find((result) => result.status !== 'accepted');
    throw new Error(
      `${endpoint.agency} accepted ${answer.accepted} of ${events.length} events; first rejection: ` +
        JSON.stringify(firstRejection),
    );
  }
}

/**
 * Each agency's events in batches over real HTTP, one request at a time per agency, the three
 * agencies at once (as three agency systems would); timed until the last 202.
 */
export async function measureGatewayIntake(
  endpoints: readonly AgencyEndpoint[],
  eventsByAgency: Readonly<Record<Agency, readonly BenchEvent[]>>,
  batchSize: number,
  timeoutMs: number,
): Promise<GatewayThroughput> {
  return withDeadline('gateway.batch_intake', timeoutMs, async (signal) => {
    let requests = 0;
    let total = 0;
    const start = process.hrtime.bigint();
    await Promise.all(
      endpoints.map(async (endpoint) => {
        const events = eventsByAgency[endpoint.agency];
        total += events.length;
        for (let offset = 0; offset < events.length; offset += batchSize) {
          signal.throwIfAborted();
          await publish(endpoint, events.slice(offset, offset + batchSize));
          requests++;
        }
      }),
    );
    const elapsed = elapsedMs(start);
    return { eventsPerSecond: perSecond(total, elapsed), elapsedMs: elapsed, requests };
  });
}

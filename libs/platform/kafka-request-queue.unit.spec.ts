import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';

/**
 * kafkajs 2.2.4 as `patches/kafkajs+2.2.4.patch` leaves it (decision 044): a broker connection's
 * request queue sets no timer when nothing is pending and nothing is throttled. Unpatched, every
 * answer started a 1 ms `setTimeout` loop that ran for as long as the connection lived
 * (kafkajs#1556, #1704). These fail on kafkajs as published, so a lost patch shows here.
 */

interface SocketRequestLike {
  readonly entry: {
    readonly correlationId: number;
    readonly apiName: string;
    readonly apiKey: number;
    readonly apiVersion: number;
    readonly resolve: (response: unknown) => void;
    readonly reject: (error: unknown) => void;
  };
  readonly expectResponse: boolean;
  readonly sendRequest: () => void;
}

interface RequestQueue {
  pending: unknown[];
  inflight: Map<number, unknown>;
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  push(request: SocketRequestLike): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  checkPendingRequests(): void;
  destroy(): void;
}

// The request queue is kafkajs' own class, not exported from its entry point.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueueClass = require('kafkajs/src/network/requestQueue') as new (options: {
  readonly maxInFlightRequests: number | null;
  readonly requestTimeout: number;
  readonly enforceRequestTimeout: boolean;
  readonly clientId: string;
  readonly broker: string;
  readonly logger: unknown;
}) => RequestQueue;

const silent = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

function queue(maxInFlightRequests: number | null = null): RequestQueue {
  return new RequestQueueClass({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'unit',
    broker: 'localhost:9092',
    logger: { namespace: () => silent, ...silent },
  });
}

function request(correlationId: number, sent: number[]): SocketRequestLike {
  return {
    entry: {
      correlationId,
      apiName: 'Metadata',
      apiKey: 3,
      apiVersion: 5,
      resolve: () => undefined,
      reject: () => undefined,
    },
    expectResponse: true,
    sendRequest: () => sent.push(correlationId),
  };
}

describe('kafkajs request queue (patched, decision 044)', () => {
  it('sets no timer once an answer leaves nothing pending and nothing throttled', () => {
    const requests = queue();
    const sent: number[] = [];
    try {
      requests.push(request(1, sent));
      expect(sent).toEqual([1]);
      requests.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
      expect(requests.inflight.size).toBe(0);
      expect(requests.throttleCheckTimeoutId).toBeNull();
      requests.checkPendingRequests();
      expect(requests.throttleCheckTimeoutId).toBeNull();
    } finally {
      requests.destroy();
    }
  });

  it('still sends a request held back by the broker’s throttle when the throttle ends', async () => {
    const requests = queue();
    const sent: number[] = [];
    try {
      requests.throttledUntil = Date.now() + 40;
      requests.push(request(7, sent));
      expect(sent).toEqual([]);
      expect(requests.throttleCheckTimeoutId).not.toBeNull();
      await delay(120);
      expect(sent).toEqual([7]);
      requests.fulfillRequest({ correlationId: 7, payload: Buffer.alloc(0), size: 0 });
      expect(requests.throttleCheckTimeoutId).toBeNull();
    } finally {
      requests.destroy();
    }
  });

  it('sends a request held back by the in-flight limit when an answer frees a place', async () => {
    const requests = queue(1);
    const sent: number[] = [];
    try {
      requests.push(request(1, sent));
      requests.push(request(2, sent));
      expect(sent).toEqual([1]);
      requests.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
      expect(sent).toEqual([1, 2]);
      requests.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 });
      expect(requests.pending).toEqual([]);
      // The check push() scheduled for the held request (10 ms) runs once, and sets no other.
      await delay(40);
      expect(requests.throttleCheckTimeoutId).toBeNull();
    } finally {
      requests.destroy();
    }
  });
});

import { EVENT_TYPES } from '@throughline/contracts';
import type { SchemaObject } from '@nestjs/swagger';
import { MAX_BATCH_EVENTS } from './publication';

/**
 * Hand-written JSON Schema for /docs: the envelope every event shares. The per-type `data`
 * rules live in the zod contracts and are enforced on every request; a schema generated
 * from them replaces `data: object` here later.
 */

const issue: SchemaObject = {
  type: 'object',
  required: ['path', 'rule', 'message'],
  properties: {
    path: { type: 'string', example: 'subject.nhsNumber', description: 'dotted field path within the event' },
    rule: { type: 'string', example: 'nhs-number-check-digit' },
    message: { type: 'string' },
  },
};

export const eventEnvelopeSchema: SchemaObject = {
  type: 'object',
  description:
    "An agency event. Only the event types of this service's agency (and outcome.observation.recorded) are accepted; " +
    'others are rejected with rule "publisher-agency". Unknown fields are rejected.',
  required: ['eventId', 'type', 'schemaVersion', 'occurredAt', 'source', 'subject', 'data'],
  additionalProperties: false,
  properties: {
    eventId: {
      type: 'string',
      format: 'uuid',
      description: 'posting the same eventId again creates no duplicate',
    },
    type: { type: 'string', enum: [...EVENT_TYPES] },
    schemaVersion: { type: 'integer', enum: [1] },
    occurredAt: { type: 'string', format: 'date-time' },
    source: {
      type: 'object',
      required: ['agency', 'system'],
      additionalProperties: false,
      properties: {
        agency: { type: 'string', enum: ['health', 'education', 'social-care'] },
        system: { type: 'string', minLength: 1, maxLength: 200 },
        organisation: { type: 'string', minLength: 1, maxLength: 20 },
      },
    },
    subject: {
      type: 'object',
      required: ['recordId'],
      additionalProperties: false,
      properties: {
        recordId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'the Kafka message key' },
        nhsNumber: {
          type: 'string',
          pattern: '^\\d{10}$',
          description: 'with a valid modulus 11 check digit',
        },
        upn: { type: 'string', pattern: '^[A-Z]\\d{11}[A-Z0-9]$', description: 'with a valid check letter' },
        formerUpn: { type: 'string', pattern: '^[A-Z]\\d{11}[A-Z0-9]$' },
        laChildId: { type: 'string', pattern: '^[A-Za-z0-9/_-]{1,20}$', description: 'requires laCode' },
        laCode: { type: 'string', pattern: '^\\d{3}$' },
        dateOfBirth: { type: 'string', format: 'date' },
        expectedDateOfBirth: { type: 'string', format: 'date' },
      },
    },
    correlationId: { type: 'string', format: 'uuid' },
    causationId: { type: 'string', format: 'uuid' },
    data: {
      type: 'object',
      description: 'fields of the event type, see the contracts (JSON Schema in contracts/dist)',
    },
  },
};

export const batchBodySchema: SchemaObject = {
  type: 'object',
  required: ['events'],
  additionalProperties: false,
  properties: {
    events: { type: 'array', minItems: 1, maxItems: MAX_BATCH_EVENTS, items: eventEnvelopeSchema },
  },
};

export const publishResponseSchema: SchemaObject = {
  type: 'object',
  required: ['accepted', 'rejected', 'results'],
  properties: {
    accepted: { type: 'integer', minimum: 0 },
    rejected: { type: 'integer', minimum: 0 },
    results: {
      type: 'array',
      description: 'one per posted event, in posted order',
      items: {
        oneOf: [
          {
            type: 'object',
            required: ['index', 'eventId', 'status', 'topic', 'partition', 'offset'],
            properties: {
              index: { type: 'integer', minimum: 0 },
              eventId: { type: 'string', format: 'uuid' },
              status: { type: 'string', enum: ['accepted'] },
              topic: { type: 'string' },
              partition: { type: 'integer', minimum: 0 },
              offset: {
                type: 'string',
                pattern: '^\\d+$',
                description: 'Kafka offset (64-bit, as a string)',
              },
            },
          },
          {
            type: 'object',
            required: ['index', 'status', 'issues'],
            properties: {
              index: { type: 'integer', minimum: 0 },
              eventId: { type: 'string', description: 'when the posted event had a readable one' },
              status: { type: 'string', enum: ['rejected'] },
              issues: { type: 'array', minItems: 1, items: issue },
            },
          },
        ],
      },
    },
  },
};

export const errorSchema: SchemaObject = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', example: 'UNAUTHENTICATED' },
    message: { type: 'string' },
    issues: { type: 'array', items: issue },
  },
};

export const healthSchema: SchemaObject = {
  type: 'object',
  required: ['status', 'kafka'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    kafka: {
      type: 'object',
      properties: { topic: { type: 'string' }, partitions: { type: 'integer', minimum: 1 } },
    },
  },
};

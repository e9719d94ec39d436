import { CONTRACT_VERSIONS, type ContractVersion } from '@throughline/contracts';
import type { SchemaObject } from '@nestjs/swagger';
import { fieldIssueSchema, openApiSchemaOf } from '@throughline/platform';
import { MAX_BATCH_EVENTS } from './publication';

/**
 * OpenAPI schemas for /docs. The event body is generated from the zod contracts (one
 * alternative per event type and version, by the platform's `openApiSchemaOf`), so the
 * documentation cannot drift from what the service enforces.
 */

/** The OpenAPI 3.0 schema of one contract version (what an agency sends). */
export function contractSchemaOf(entry: ContractVersion): SchemaObject {
  return openApiSchemaOf(entry.schema, { io: 'input', title: `${entry.type} v${entry.version}` });
}

export const eventEnvelopeSchema: SchemaObject = {
  description:
    "An agency event: one of the contract versions below. Only the event types of this service's agency (and " +
    'outcome.observation.recorded) are accepted; others are rejected with rule "publisher-agency". Unknown fields ' +
    'are rejected. Posting the same eventId again creates no duplicate. NHS numbers and UPNs must pass their check ' +
    'digit/letter. JSON Schemas and the AsyncAPI document: `npm run contracts:build` (contracts/README.md).',
  oneOf: CONTRACT_VERSIONS.map(contractSchemaOf),
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
              issues: { type: 'array', minItems: 1, items: fieldIssueSchema },
            },
          },
        ],
      },
    },
  },
};

export { errorSchema } from '@throughline/platform';

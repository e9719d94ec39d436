import { AGENCY_NAMES, recordId, type Agency } from './common';
import { EVENT_TYPE_AGENCY } from './catalogue';
import { schemaFileOf } from './json-schema';
import { z } from 'zod';
import { CONTRACT_VERSIONS, type ContractVersion } from './versions';

/** Kafka topics, without the deployment's KAFKA_TOPIC_PREFIX. */
export const AGENCY_TOPICS: Readonly<Record<Agency, string>> = {
  health: 'health.events.v1',
  education: 'education.events.v1',
  'social-care': 'social-care.events.v1',
};
export const DEAD_LETTER_TOPIC = 'throughline.dead-letter.v1';

/** Headers the agency services put on every event message. */
export const AGENCY_EVENT_HEADERS = {
  'event-id': 'the event id (eventId)',
  'event-type': 'the event type (type)',
  'schema-version': 'the contract version (schemaVersion), as decimal text',
  publisher: 'the authenticated publisher id (the API key holder that sent the event)',
  'source-system': 'the publishing system (source.system)',
  'content-type': 'always application/json',
  'correlation-id': 'the correlationId, when the event has one',
} as const;
const OPTIONAL_AGENCY_HEADERS = new Set(['correlation-id']);

/** Headers the recorder puts on a dead-lettered message. */
export const DEAD_LETTER_MESSAGE_HEADERS = {
  'original-topic': 'the topic the message was consumed from',
  'original-partition': 'its partition, as decimal text',
  'original-offset': 'its offset, as decimal text',
  'original-key': 'its key, when it had one',
  'original-headers': 'its headers, as a JSON object',
  'dead-letter-reason': 'why it was refused (e.g. contract, json, publisher-agency)',
  'dead-letter-issues': 'the broken rules, as a JSON array of {path, rule, message}',
  'dead-lettered-at': 'when it was dead-lettered (ISO 8601)',
} as const;
const OPTIONAL_DEAD_LETTER_HEADERS = new Set(['original-key']);

function headersSchema(headers: Record<string, string>, optional: Set<string>) {
  return {
    type: 'object',
    properties: Object.fromEntries(
      Object.entries(headers).map(([name, description]) => [name, { type: 'string', description }]),
    ),
    required: Object.keys(headers).filter((name) => !optional.has(name)),
  };
}

export function messageIdOf(entry: Pick<ContractVersion, 'type' | 'version'>): string {
  return `${entry.type}.v${entry.version}`;
}

const channelIdOf = (agency: Agency) => `${agency}Events`;

function carriedBy(agency: Agency, entry: ContractVersion): boolean {
  const owner = EVENT_TYPE_AGENCY[entry.type];
  return owner === 'any' || owner === agency;
}

/**
 * The AsyncAPI 3.0 document of Throughline's Kafka topics. Message payloads reference the
 * published JSON Schemas by their file, relative to the document (`schemas/<type>/v<N>.json`).
 */
export function asyncApiDocument(version: string): Record<string, unknown> {
  const recordKey = z.toJSONSchema(recordId, { target: 'draft-2020-12' });
  delete (recordKey as Record<string, unknown>).$schema;
  const messages: Record<string, unknown> = {};
  for (const entry of CONTRACT_VERSIONS) {
    messages[messageIdOf(entry)] = {
      name: entry.type,
      title: `${entry.type} v${entry.version}`,
      contentType: 'application/json',
      headers: { $ref: '#/components/schemas/agencyEventHeaders' },
      payload: {
        schemaFormat: 'application/schema+json;version=draft-2020-12',
        schema: { $ref: `schemas/${schemaFileOf(entry.type, entry.version)}` },
      },
      bindings: {
        kafka: {
          key: { ...recordKey, description: "the subject's agency record id (subject.recordId)" },
          bindingVersion: '0.5.0',
        },
      },
    };
  }
  messages.deadLetter = {
    name: 'dead-letter',
    title: 'A refused message, kept with the reason',
    contentType: 'application/octet-stream',
    headers: { $ref: '#/components/schemas/deadLetterHeaders' },
    payload: { description: 'the original message value, byte for byte (it may not be JSON)' },
    bindings: {
      kafka: {
        key: { type: 'string', description: '<original topic>:<partition>:<offset>' },
        bindingVersion: '0.5.0',
      },
    },
  };

  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const agency of AGENCY_NAMES) {
    const carried = CONTRACT_VERSIONS.filter((entry) => carriedBy(agency, entry));
    channels[channelIdOf(agency)] = {
      address: AGENCY_TOPICS[agency],
      title: `Events published by ${agency} systems`,
      description:
        "Keyed by the subject's agency record id, so one subject's events keep their order. " +
        'Every accepted version of a type may appear; readers upcast to the current version.',
      messages: Object.fromEntries(
        carried.map((entry) => [messageIdOf(entry), { $ref: `#/components/messages/${messageIdOf(entry)}` }]),
      ),
      bindings: { kafka: { bindingVersion: '0.5.0' } },
    };
    const channelMessages = carried.map((entry) => ({
      $ref: `#/channels/${channelIdOf(agency)}/messages/${messageIdOf(entry)}`,
    }));
    operations[`publish-${agency}`] = {
      action: 'send',
      title: `The ${agency} service publishes accepted events`,
      channel: { $ref: `#/channels/${channelIdOf(agency)}` },
      messages: channelMessages,
    };
    operations[`record-${agency}`] = {
      action: 'receive',
      title: `The recorder validates and stores ${agency} events`,
      channel: { $ref: `#/channels/${channelIdOf(agency)}` },
      messages: channelMessages,
    };
  }
  channels.deadLetter = {
    address: DEAD_LETTER_TOPIC,
    title: 'Messages the recorder refused',
    messages: { deadLetter: { $ref: '#/components/messages/deadLetter' } },
  };
  operations['dead-letter'] = {
    action: 'send',
    title: 'The recorder dead-letters a message that breaks its contract',
    channel: { $ref: '#/channels/deadLetter' },
    messages: [{ $ref: '#/channels/deadLetter/messages/deadLetter' }],
  };

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Throughline agency events',
      version,
      description:
        'Events that health, education and social care systems publish about a child. Topic names ' +
        'are given without the deployment prefix (KAFKA_TOPIC_PREFIX).',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: {
      messages,
      schemas: {
        agencyEventHeaders: headersSchema(AGENCY_EVENT_HEADERS, OPTIONAL_AGENCY_HEADERS),
        deadLetterHeaders: headersSchema(DEAD_LETTER_MESSAGE_HEADERS, OPTIONAL_DEAD_LETTER_HEADERS),
      },
    },
  };
}

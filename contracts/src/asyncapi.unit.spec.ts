import { headersOf } from '@throughline/agency-gateway';
import { topicNames } from '@throughline/platform';
import { DEAD_LETTER_HEADERS } from '@throughline/recording';
import { buildReferralReceived } from '@throughline/testing';
import {
  AGENCY_EVENT_HEADERS,
  AGENCY_TOPICS,
  asyncApiDocument,
  DEAD_LETTER_MESSAGE_HEADERS,
  DEAD_LETTER_TOPIC,
  messageIdOf,
} from './asyncapi';
import { schemaFileOf } from './json-schema';
import { CONTRACT_VERSIONS } from './versions';

/** A JSON node, walked by keys; a missing key gives undefined. */
interface Node {
  readonly [key: string]: Node;
}
const keysOf = (node: Node | undefined) => Object.keys(node ?? {});

describe('AsyncAPI document', () => {
  const doc = asyncApiDocument('1.0.0') as unknown as Node;

  it('describes the four topics the platform creates', () => {
    const topics = topicNames('');
    expect(doc.asyncapi).toBe('3.0.0');
    const addresses = Object.values(doc.channels).map((channel) => channel.address as unknown as string);
    expect(addresses.sort()).toEqual([...Object.values(topics.agency), topics.deadLetter].sort());
    expect(AGENCY_TOPICS).toEqual(topics.agency);
    expect(DEAD_LETTER_TOPIC).toBe(topics.deadLetter);
  });

  it('carries every type version on its owner agency topic, any-agency types on all three', () => {
    const carried = (channel: string) => keysOf(doc.channels[channel].messages).sort();
    expect(carried('educationEvents')).toEqual(
      [
        'education.enrolment.recorded.v1',
        'education.attendance.summarised.v1',
        'education.attendance.summarised.v2',
        'education.exclusion.recorded.v1',
        'education.leaving.recorded.v1',
        'education.sen-provision.changed.v1',
        'education.ehc-needs-assessment.requested.v1',
        'education.ehc-plan.issued.v1',
        'education.ehc-plan.ceased.v1',
        'education.eyfs-profile.assessed.v1',
        'education.key-stage.assessed.v1',
        'outcome.observation.recorded.v1',
        'practice.decision.recorded.v1',
        'practice.voice-of-child.recorded.v1',
        'practice.decision.reviewed.v1',
        'practice.views.differ.v1',
      ].sort(),
    );
    const all = new Set(['healthEvents', 'educationEvents', 'social-careEvents'].flatMap(carried));
    expect(all).toEqual(new Set(CONTRACT_VERSIONS.map(messageIdOf)));
  });

  it('points each message at its published JSON Schema and keys it by the subject record id', () => {
    for (const entry of CONTRACT_VERSIONS) {
      const message = doc.components.messages[messageIdOf(entry)];
      expect(message.payload.schema.$ref).toBe(`schemas/${schemaFileOf(entry.type, entry.version)}`);
      expect(message.payload.schemaFormat).toBe('application/schema+json;version=draft-2020-12');
      expect(message.bindings.kafka.key.pattern).toBe('^[A-Za-z0-9._-]{1,64}$');
    }
  });

  it('resolves every local $ref', () => {
    const refs: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object') {
        for (const [key, item] of Object.entries(value)) {
          if (key === '$ref' && typeof item === 'string' && item.startsWith('#/')) refs.push(item);
          else walk(item);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) {
      const target = ref
        .slice(2)
        .split('/')
        .reduce<Node | undefined>((node, part) => node?.[part], doc);
      expect([ref, target !== undefined]).toEqual([ref, true]);
    }
  });

  it('documents the headers the agency services and the recorder really send', () => {
    const referral = buildReferralReceived({ correlationId: '0b8f9a52-5d3e-4c8e-9f0a-3c2b1a0d9e8f' });
    const sent = Object.keys(headersOf(referral, { agency: 'social-care', publisherId: 'case-system' }));
    expect(sent.sort()).toEqual(Object.keys(AGENCY_EVENT_HEADERS).sort());
    expect(Object.values(DEAD_LETTER_HEADERS).sort()).toEqual(
      Object.keys(DEAD_LETTER_MESSAGE_HEADERS).sort(),
    );
    expect(doc.components.schemas.agencyEventHeaders.required).toContain('publisher');
  });
});

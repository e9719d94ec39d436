import { ConcurrencyError, ThroughlineError, ValidationError } from '@throughline/platform';
import {
  PUBLISHER_HEADER,
  checkpointNameOf,
  isRefusedByStore,
  planBatch,
  storeRejectionIssues,
  type IncomingBatch,
  type IncomingMessage,
} from './batch-plan';
import { DEAD_LETTER_HEADERS, deadLetterKafkaMessage, readableValue } from './dead-letter-message';
import { withoutNul } from './postgres-dead-letters';

const now = new Date('2025-01-01T00:00:00Z');

let nextId = 0;
function eventId(): string {
  nextId += 1;
  return `00000000-0000-4000-8000-${nextId.toString(16).padStart(12, '0')}`;
}

/** A synthetic social-care referral for one agency record. */
function referral(recordId: string, id = eventId()) {
  return {
    eventId: id,
    type: 'social-care.referral.received',
    schemaVersion: 1,
    occurredAt: '2024-03-04T10:15:00Z',
    source: { agency: 'social-care', system: 'case-system', organisation: '926' },
    subject: { recordId, laChildId: recordId.slice(-6), laCode: '926', dateOfBirth: '2019-05-01' },
    data: { referralDate: '2024-03-04', referralSource: '2A', primaryNeed: 'N1', noFurtherAction: false },
  };
}

function message(offset: number, value: unknown, key: string | null = 'LA926-000001'): IncomingMessage {
  return {
    offset: String(offset),
    key: key === null ? null : Buffer.from(key),
    value: Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value)),
    headers: { [PUBLISHER_HEADER]: 'demo-case-system' },
    timestamp: String(Date.parse('2024-03-04T10:16:00Z')),
  };
}

function batch(messages: IncomingMessage[], storedCheckpoint?: string): IncomingBatch {
  return {
    clusterId: 'cluster-a',
    groupId: 'recorder',
    topic: 'social-care.events.v1',
    partition: 2,
    agency: 'social-care',
    messages,
    storedCheckpoint,
    now,
  };
}

describe('planBatch', () => {
  it('groups valid events per stream in offset order, with lineage, and checkpoints the next offset', () => {
    const a1 = referral('LA926-000001');
    const b1 = referral('LA926-000002');
    const a2 = referral('LA926-000001');
    const plan = planBatch(batch([message(10, a1), message(11, b1, 'LA926-000002'), message(12, a2)]));

    expect(plan.appends.map((append) => [append.streamId, append.events.map((e) => e.eventId)])).toEqual([
      ['social-care-LA926-000001', [a1.eventId, a2.eventId]],
      ['social-care-LA926-000002', [b1.eventId]],
    ]);
    expect(plan.appends.every((append) => append.expectedRevision === 'any')).toBe(true);
    expect(plan.appends[0].events[0]).toEqual({
      eventId: a1.eventId,
      type: 'social-care.referral.received',
      data: a1,
      metadata: {
        topic: 'social-care.events.v1',
        partition: 2,
        offset: '10',
        key: 'LA926-000001',
        publisher: 'demo-case-system',
        kafkaPrincipal: 'User:social-care-service',
        sourceSystem: 'case-system',
        kafkaTimestamp: '2024-03-04T10:16:00.000Z',
        recordedBy: 'recorder',
      },
    });
    expect(plan.checkpoints).toEqual({ 'kafka:cluster-a:recorder:social-care.events.v1:2': '13' });
    expect(plan.nextOffset).toBe('13');
    expect(plan.deadLetters).toEqual([]);
  });

  it('dead-letters garbage and contract violations with their reason, keeping the original bytes', () => {
    const garbage = Buffer.from([0x00, 0xff, 0x67, 0x61]);
    const broken = { ...referral('LA926-000001'), data: { referralDate: 'yesterday' } };
    const valid = referral('LA926-000001');
    const plan = planBatch(batch([message(0, garbage), message(1, broken), message(2, valid)]));

    expect(plan.accepted.map((accepted) => accepted.offset)).toEqual(['2']);
    expect(plan.deadLetters.map(({ offset, reason }) => ({ offset, reason }))).toEqual([
      { offset: '0', reason: 'unparseable' },
      { offset: '1', reason: 'contract-violation' },
    ]);
    expect(plan.deadLetters[0].value).toBe(garbage);
    expect(plan.deadLetters[0].issues.map((issue) => issue.rule)).toEqual(['json']);
    expect(plan.deadLetters[1].issues.map(({ path, rule }) => ({ path, rule }))).toEqual(
      expect.arrayContaining([
        { path: 'data.referralDate', rule: 'format:date' },
        { path: 'data.noFurtherAction', rule: 'required' },
      ]),
    );
    expect(plan.deadLetters[1]).toMatchObject({
      topic: 'social-care.events.v1',
      partition: 2,
      key: 'LA926-000001',
      headers: { publisher: 'demo-case-system' },
      deadLetteredAt: now,
    });
    // The poison messages do not hold the partition back.
    expect(plan.checkpoints).toEqual({ 'kafka:cluster-a:recorder:social-care.events.v1:2': '3' });
  });

  it('dead-letters an empty value and an event from another agency than the topic', () => {
    const healthEvent = {
      eventId: eventId(),
      type: 'health.immunisation.given',
      schemaVersion: 1,
      occurredAt: '2024-03-04T10:15:00Z',
      source: { agency: 'health', system: 'child-health-system' },
      subject: { recordId: 'RX1-000123' },
      data: { vaccine: 'MMR', dose: 1, givenDate: '2024-03-04' },
    };
    const empty: IncomingMessage = { ...message(5, {}), value: null };
    const plan = planBatch(batch([empty, message(6, healthEvent)]));
    expect(plan.appends).toEqual([]);
    expect(plan.deadLetters.map(({ reason, issues }) => [reason, issues.map((issue) => issue.rule)])).toEqual(
      [
        ['unparseable', ['required']],
        ['contract-violation', ['publisher-agency']],
      ],
    );
    expect(plan.checkpoints).toEqual({ 'kafka:cluster-a:recorder:social-care.events.v1:2': '7' });
  });

  it('skips offsets below the stored checkpoint (redelivery after a crash before the Kafka commit)', () => {
    const events = [referral('LA926-000001'), referral('LA926-000001'), referral('LA926-000001')];
    const plan = planBatch(batch([message(3, events[0]), message(4, events[1]), message(5, events[2])], '5'));
    expect(plan.alreadyRecorded).toEqual(['3', '4']);
    expect(plan.accepted.map((accepted) => accepted.event.eventId)).toEqual([events[2].eventId]);
    expect(plan.checkpoints).toEqual({ 'kafka:cluster-a:recorder:social-care.events.v1:2': '6' });
  });

  it('writes no checkpoint when the stored one already covers the whole batch, and commits the stored one', () => {
    const plan = planBatch(batch([message(3, referral('LA926-000001')), message(4, Buffer.from('x'))], '9'));
    expect(plan.alreadyRecorded).toEqual(['3', '4']);
    expect(plan.appends).toEqual([]);
    expect(plan.deadLetters).toEqual([]);
    expect(plan.checkpoints).toEqual({});
    expect(plan.nextOffset).toBe('9');
  });

  it('leaves duplicates for the store to recognise: the same event twice is planned twice in its stream', () => {
    const event = referral('LA926-000001');
    const plan = planBatch(batch([message(0, event), message(1, event)]));
    expect(plan.appends).toHaveLength(1);
    expect(plan.appends[0].events.map((e) => e.eventId)).toEqual([event.eventId, event.eventId]);
    expect(plan.appends[0].events.map((e) => e.metadata?.offset)).toEqual(['0', '1']);
  });

  it('names checkpoints by cluster, group, topic and partition', () => {
    expect(checkpointNameOf('cluster-a', 'g', 't.v1', 0)).toBe('kafka:cluster-a:g:t.v1:0');
    expect(checkpointNameOf('cluster-b', 'g', 't.v1', 0)).not.toBe(
      checkpointNameOf('cluster-a', 'g', 't.v1', 0),
    );
  });

  it('writes the checkpoint under the batch cluster', () => {
    const plan = planBatch(batch([message(0, referral('LA926-000003'))]));
    expect(plan.checkpointName).toBe(checkpointNameOf('cluster-a', 'recorder', 'social-care.events.v1', 2));
    expect(plan.checkpoints).toEqual({ [plan.checkpointName]: '1' });
  });
});

describe('deadLetterKafkaMessage', () => {
  it('carries the original bytes and coordinates, the reason and the issues', () => {
    const garbage = Buffer.from('not json');
    const [deadLetter] = planBatch(batch([message(7, garbage)])).deadLetters;
    const kafkaMessage = deadLetterKafkaMessage(deadLetter);
    expect(kafkaMessage.key).toBe('social-care.events.v1:2:7');
    expect(kafkaMessage.value).toBe(garbage);
    expect(kafkaMessage.headers).toEqual({
      [DEAD_LETTER_HEADERS.originalTopic]: 'social-care.events.v1',
      [DEAD_LETTER_HEADERS.originalPartition]: '2',
      [DEAD_LETTER_HEADERS.originalOffset]: '7',
      [DEAD_LETTER_HEADERS.originalKey]: 'LA926-000001',
      [DEAD_LETTER_HEADERS.originalHeaders]: JSON.stringify({ publisher: 'demo-case-system' }),
      [DEAD_LETTER_HEADERS.reason]: 'unparseable',
      [DEAD_LETTER_HEADERS.issues]: JSON.stringify(deadLetter.issues),
      [DEAD_LETTER_HEADERS.deadLetteredAt]: '2025-01-01T00:00:00.000Z',
    });
  });

  it('leaves the original key header out for a keyless message', () => {
    const [deadLetter] = planBatch(batch([message(1, Buffer.from('{'), null)])).deadLetters;
    expect(deadLetterKafkaMessage(deadLetter).headers).not.toHaveProperty(DEAD_LETTER_HEADERS.originalKey);
  });
});

describe('readableValue', () => {
  it('shows UTF-8 as text and anything else as base64', () => {
    expect(readableValue(Buffer.from('{"a":"é"}'))).toEqual({ encoding: 'utf8', text: '{"a":"é"}' });
    expect(readableValue(Buffer.from([0xff, 0xfe, 0x00]))).toEqual({ encoding: 'base64', text: '//4A' });
    expect(readableValue(null)).toEqual({ encoding: 'none', text: null });
  });
});

describe('storeRejectionIssues', () => {
  it('keeps validation issues and names the code of other store errors', () => {
    const issues = [{ path: 'appends.0.events.0.eventId', rule: 'uuid', message: 'must be a UUID' }];
    expect(storeRejectionIssues(new ValidationError('invalid append', issues))).toEqual(issues);
    expect(storeRejectionIssues(new ThroughlineError('ILLEGAL_STATE', 'event id reused'))).toEqual([
      { path: '', rule: 'ILLEGAL_STATE', message: 'event id reused' },
    ]);
    expect(storeRejectionIssues(new ConcurrencyError('s', '1', '2'))[0].rule).toBe('CONCURRENCY');
  });
});

describe('withoutNul (regression: a NUL byte in garbage blocked its partition, jsonb refused the issues)', () => {
  it('replaces U+0000 in every string of headers and issues, leaving other values alone', () => {
    const [deadLetter] = planBatch(batch([message(0, Buffer.from([0x00, 0x7b]), 'key\u0000')])).deadLetters;
    expect(JSON.stringify(deadLetter.issues)).toContain('\\u0000');
    const scrubbed = withoutNul({ key: deadLetter.key, issues: deadLetter.issues, partition: 2, none: null });
    expect(JSON.stringify(scrubbed)).not.toContain('\\u0000');
    expect(scrubbed.key).toBe('key\uFFFD');
    expect(scrubbed.partition).toBe(2);
    expect(scrubbed.none).toBeNull();
  });
});

describe('isRefusedByStore', () => {
  it('isolates deliberate refusals and data exceptions, retries everything else', () => {
    expect(isRefusedByStore(new ThroughlineError('ILLEGAL_STATE', 'event id reused'))).toBe(true);
    expect(isRefusedByStore(new ValidationError('invalid append', []))).toBe(true);
    expect(
      isRefusedByStore(Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' })),
    ).toBe(true);
    expect(isRefusedByStore(new ConcurrencyError('s', '1', '2'))).toBe(false);
    expect(isRefusedByStore(Object.assign(new Error('not accepting connections'), { code: '55000' }))).toBe(
      false,
    );
    // A concurrent writer won the race: the redo sees its row.
    expect(isRefusedByStore(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isRefusedByStore(Object.assign(new Error('null value in column'), { code: '23502' }))).toBe(true);
    expect(isRefusedByStore(new ThroughlineError('CONFIGURATION', 'misconfigured'))).toBe(false);
    expect(isRefusedByStore(new Error('timeout exceeded when trying to connect'))).toBe(false);
  });
});

describe('lineage trace context', () => {
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const withHeaders = (offset: number, headers: Record<string, string>): IncomingMessage => {
    const plain = message(offset, referral('LA926-000001'));
    return { ...plain, headers: { ...plain.headers, ...headers } };
  };

  it('keeps the message traceparent in the stored metadata, and never a malformed one', () => {
    const plan = planBatch(
      batch([
        withHeaders(1, { traceparent }),
        withHeaders(2, { traceparent: 'not-a-traceparent' }),
        withHeaders(3, { traceparent: traceparent.toUpperCase() }),
        withHeaders(4, {}),
      ]),
    );
    const stored = plan.accepted.map((accepted) => accepted.event.metadata?.traceparent);
    expect(stored).toEqual([traceparent, undefined, undefined, undefined]);
    expect(
      plan.accepted.slice(1).every((accepted) => !('traceparent' in (accepted.event.metadata ?? {}))),
    ).toBe(true);
  });
});

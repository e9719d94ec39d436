import { GATEWAY_REJECTION_NOTE, type GatewayRejectionNote } from '@throughline/platform';
import { maskedPath, rejectionNotesOf, RejectionNoteQueue, type NoteSender } from './gateway-rejections';
import { validateEvents, type Publisher } from './publication';

const publisher: Publisher = {
  agency: 'health',
  publisherId: 'demo-child-health-system',
  sourceSystems: ['demo-chs'],
  organisationCodes: ['DEMO-CHS'],
};
const NHS_NUMBER = '9434765919';
const UPN = 'A950000178301';
const NOW = new Date('2026-03-02T10:00:00Z');

/** Rejected events that carry identifiers everywhere a publisher can put them. */
const inputs: unknown[] = [
  {
    eventId: 'not-a-uuid',
    type: 'health.immunisation.given',
    schemaVersion: 1,
    occurredAt: '2026-03-01T09:00:00Z',
    source: { agency: 'health', system: 'demo-chs', organisation: 'DEMO-CHS' },
    subject: { recordId: 'chs-1', nhsNumber: 'not ten digits', dateOfBirth: '2024-01-01' },
    data: { vaccine: 'MMR', dose: 1, givenDate: '2026-03-01' },
    [NHS_NUMBER]: 'a key made of an identifier',
  },
  {
    type: `health.${NHS_NUMBER}`,
    source: { agency: 'health', system: `pas ${NHS_NUMBER}`, organisation: UPN },
    subject: { upn: UPN },
  },
  'not even an object',
];

describe('rejection notes', () => {
  const { rejected } = validateEvents(inputs, 'health', publisher);
  let ids = 0;
  const notes = rejectionNotesOf(
    'health',
    publisher,
    inputs,
    rejected,
    NOW,
    () => `00000000-0000-4000-8000-00000000000${ids++}`,
  );

  it('note every rejected event with its publisher, type, rules and field paths, and when', () => {
    expect(notes).toHaveLength(3);
    expect(notes[0]).toMatchObject({
      agency: 'health',
      publisher: 'demo-child-health-system',
      sourceSystem: 'demo-chs',
      sourceOrganisation: 'DEMO-CHS',
      eventType: 'health.immunisation.given',
      schemaVersion: 1,
      rejectedAt: NOW.toISOString(),
    });
    expect(notes[0].issues).toEqual(
      expect.arrayContaining([
        { path: 'eventId', rule: expect.any(String) },
        { path: 'subject.nhsNumber', rule: expect.any(String) },
        { path: '*', rule: 'unknown-field' },
      ]),
    );
    expect(notes[1]).toMatchObject({ eventType: 'unknown', sourceSystem: null, sourceOrganisation: null });
    expect(notes[2]).toMatchObject({ eventType: 'unknown', sourceSystem: null, schemaVersion: null });
    for (const note of notes) expect(GATEWAY_REJECTION_NOTE.safeParse(note).success).toBe(true);
  });

  it('never carry a payload or an identifier value, not even in a field path', () => {
    const text = JSON.stringify(notes);
    for (const value of [
      NHS_NUMBER,
      UPN,
      'not ten digits',
      'chs-1',
      'MMR',
      'not-a-uuid',
      'not even an object',
    ])
      expect(text).not.toContain(value);
    expect(text).not.toMatch(/message/);
  });

  it('mask path segments that are neither keys of the contracts nor array indexes', () => {
    expect(maskedPath('subject.identifiers.0.value')).toBe('subject.identifiers.0.value');
    expect(maskedPath(`data.${NHS_NUMBER}`)).toBe('data.*');
    expect(maskedPath(`data.${UPN}`)).toBe('data.*');
    expect(maskedPath('data.has space')).toBe('data.*');
    expect(maskedPath('')).toBe('');
  });
});

describe('the rejection note queue', () => {
  const note = (n: number): GatewayRejectionNote => ({
    noteId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    agency: 'health',
    publisher: 'p',
    sourceSystem: null,
    sourceOrganisation: null,
    eventType: 'unknown',
    schemaVersion: null,
    issues: [{ path: '', rule: 'json' }],
    rejectedAt: NOW.toISOString(),
  });
  const quiet = { warn: () => undefined };

  it('returns at once and drops (counting) what a hanging Kafka never acknowledges', async () => {
    const sender: NoteSender = {
      connect: () => Promise.resolve(),
      send: () => new Promise<void>(() => undefined),
      disconnect: () => Promise.resolve(),
    };
    const dropped: [number, string][] = [];
    const queue = new RejectionNoteQueue(
      sender,
      { sent: () => undefined, dropped: (count, why) => dropped.push([count, why]) },
      quiet,
      { sendTimeoutMs: 20, retryPauseMs: 1, attempts: 2 },
    );
    const started = Date.now();
    queue.note([note(1), note(2)]);
    expect(Date.now() - started).toBeLessThan(20);
    await queue.idle();
    expect(dropped).toEqual([[2, 'not acknowledged']]);
    await queue.close();
  });

  it('keeps at most maxQueued notes while Kafka is down, dropping the oldest', async () => {
    const sent: GatewayRejectionNote[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sender: NoteSender = {
      connect: () => gate,
      send: (notes) => {
        sent.push([...notes]);
        return Promise.resolve();
      },
      disconnect: () => Promise.resolve(),
    };
    const dropped: [number, string][] = [];
    const queue = new RejectionNoteQueue(
      sender,
      { sent: () => undefined, dropped: (count, why) => dropped.push([count, why]) },
      quiet,
      { maxQueued: 3, batchSize: 10, sendTimeoutMs: 1_000 },
    );
    queue.note([note(1)]); // taken by the first send, waiting on connect
    queue.note([note(2), note(3), note(4), note(5)]);
    expect(dropped).toEqual([[1, 'queue full']]);
    release();
    await queue.idle();
    expect(sent.flat().map((n) => n.noteId.slice(-1))).toEqual(['1', '3', '4', '5']);
    await queue.close();
    queue.note([note(6)]);
    expect(dropped).toEqual([
      [1, 'queue full'],
      [1, 'shutting down'],
    ]);
  });
});

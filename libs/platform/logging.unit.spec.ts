import type { IncomingMessage } from 'node:http';
import { ConcurrencyError } from './errors';
import { createLogger, REDACTED, requestIdOf, scrubText } from './logging';

function capture(level: 'log' | 'debug' = 'log'): {
  lines: Record<string, unknown>[];
  logger: ReturnType<typeof createLogger>;
} {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger(
    { LOG_LEVEL: level, LOG_FORMAT: 'json' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { lines, logger };
}

describe('log redaction', () => {
  it('removes identifiers from a message by their shape', () => {
    const { lines, logger } = capture();
    logger.info(
      'stream health-chs-000123: expected revision 3; nhs 943 476 5919, uln 4000000001, upn A123456789012, ' +
        'postcode ZZ99 3AB, child ch_0123456789abcdef0123, proposal identitymatch-p-1, link identity-education-mis-7',
    );
    const message = lines[0].msg as string;
    for (const token of [
      'health-chs-000123',
      '943 476 5919',
      '4000000001',
      'A123456789012',
      'ZZ99 3AB',
      'ch_0123456789abcdef0123',
      'identitymatch-p-1',
      'education-mis-7',
    ]) {
      expect(message).not.toContain(token);
    }
    expect(message).toContain(`stream ${REDACTED}: expected revision 3`);
  });

  it('keeps what is not an identifier: topics, client ids, revisions', () => {
    expect(scrubText('social-care.events.v1 via throughline-health-gateway at revision 42')).toBe(
      'social-care.events.v1 via throughline-health-gateway at revision 42',
    );
  });

  it('redacts identifier fields wherever they sit in a logged object', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        nhsNumber: '9434765919',
        event: { subject: { recordId: 'r-1', nhsNumber: '9434765919' }, type: 'health.birth.notified' },
        child: {
          name: { given: 'Ada', family: 'Lovelace' },
          dateOfBirth: '2020-01-01',
          postcode: 'ZZ99 3AB',
        },
        req: { headers: { authorization: 'Bearer secret-key' } },
      },
      'received',
    );
    const line = JSON.stringify(lines[0]);
    for (const value of ['9434765919', 'r-1', 'Ada', 'Lovelace', '2020-01-01', 'ZZ99 3AB', 'secret-key']) {
      expect(line).not.toContain(value);
    }
    expect(lines[0]).toMatchObject({
      nhsNumber: REDACTED,
      event: { subject: REDACTED, type: 'health.birth.notified' },
      child: { name: { given: REDACTED, family: REDACTED }, dateOfBirth: REDACTED, postcode: REDACTED },
      req: { headers: { authorization: REDACTED } },
    });
  });

  it("scrubs a store error's message, stack, details and cause", () => {
    const { lines, logger } = capture();
    const error = new ConcurrencyError('health-chs-000123', '3', '4');
    const wrapped = new Error('append failed for 9434765919', { cause: error });
    logger.error({ err: wrapped }, 'batch failed');
    logger.error(error);
    const text = JSON.stringify(lines);
    expect(text).not.toContain('health-chs-000123');
    expect(text).not.toContain('9434765919');
    expect(lines[0]).toMatchObject({ err: { message: expect.stringContaining(REDACTED) as string } });
    expect(lines[1]).toMatchObject({
      msg: `stream ${REDACTED}: expected revision 3, actual 4`,
      err: { type: 'ConcurrencyError', streamId: REDACTED, details: { streamId: REDACTED } },
    });
    expect((lines[1].err as { stack: string }).stack).toContain(`stream ${REDACTED}`);
  });

  it('logs at LOG_LEVEL and above only', () => {
    const { lines, logger } = capture('log');
    logger.debug('hidden');
    logger.info('shown');
    expect(lines.map((line) => line.msg)).toEqual(['shown']);
  });
});

describe('request ids', () => {
  function idFor(header: string | undefined): string {
    const request = { headers: header === undefined ? {} : { 'x-request-id': header } } as IncomingMessage;
    return requestIdOf(request);
  }

  it('keeps a sane incoming x-request-id', () => {
    expect(idFor('abc-123.DEF:9')).toBe('abc-123.DEF:9');
  });

  it('replaces a missing, malformed or identifying one with a fresh uuid', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const header of [undefined, '', 'has spaces', 'x'.repeat(200), '9434765919', 'a\nb']) {
      expect(idFor(header)).toMatch(uuid);
    }
  });
});

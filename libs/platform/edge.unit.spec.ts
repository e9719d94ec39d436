import { PassThrough } from 'node:stream';
import type { Socket } from 'node:net';
import {
  answerClientError,
  edgeErrorOf,
  invalidTextIssues,
  PayloadTooLargeError,
  printable,
  textRuleBroken,
} from './edge';
import { ValidationError } from './errors';

describe('text the edge refuses', () => {
  it.each([
    ['ch_\u0000', 'no-nul'],
    ['a\u0001b', 'valid-text'],
    ['escape \u001b[31m', 'valid-text'],
    ['lone high \ud800', 'valid-text'],
    ['lone low \udc00 here', 'valid-text'],
  ])('%p breaks %s', (text, rule) => {
    expect(textRuleBroken(text)).toBe(rule);
  });

  it.each([['plain'], ['tab\tline\nreturn\r'], ['Siân, Zoë, 日本'], ['a pair 😀'], ['']])(
    '%p is text',
    (text) => {
      expect(textRuleBroken(text)).toBeUndefined();
    },
  );

  it('names each field by its dotted path, object keys included', () => {
    const body = {
      reason: 'ok',
      events: [{ data: { narrative: 'x' } }, { data: { narrative: 'bad\u0000' } }],
    };
    expect(invalidTextIssues(body, 'body')).toEqual([
      { path: 'body.events.1.data.narrative', rule: 'no-nul', message: expect.stringContaining('U+0000') },
    ]);
    expect(invalidTextIssues({ 'k\u0000': 'v' }, 'body')).toEqual([
      { path: 'body.k\\u0000', rule: 'no-nul', message: expect.stringContaining('field name') },
    ]);
  });

  it('stops at 20 issues', () => {
    expect(invalidTextIssues(Array(50).fill('\u0000'), 'body')).toHaveLength(20);
  });

  it('writes refused characters as escapes, leaving the rest', () => {
    expect(printable('ch_\u0000x\u001f\ud800 😀\t')).toBe('ch_\\u0000x\\u001f\\ud800 😀\t');
  });
});

describe('Fastify refusals as ours', () => {
  it('a body over the route limit is PAYLOAD_TOO_LARGE naming the limit', () => {
    const error = edgeErrorOf(
      Object.assign(new Error('Request body is too large'), {
        code: 'FST_ERR_CTP_BODY_TOO_LARGE',
        statusCode: 413,
      }),
      { routeOptions: { bodyLimit: 65536 } } as never,
    );
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 });
    expect((error as Error).message).toContain('65536 bytes (64 KiB)');
  });

  it('a body of another media type is a VALIDATION naming the content type', () => {
    const error = edgeErrorOf(
      Object.assign(new Error('Unsupported Media Type'), {
        code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
        statusCode: 415,
      }),
      undefined,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { path: 'headers.content-type', rule: 'media-type', message: 'must be application/json' },
    ]);
  });

  it('leaves other errors alone', () => {
    const other = new TypeError('a bug');
    expect(edgeErrorOf(other, undefined)).toBe(other);
  });
});

describe("the HTTP parser's refusals", () => {
  function answer(rawPacket: string): { status: string; body: Record<string, unknown> } {
    const socket = new PassThrough() as unknown as Socket & PassThrough;
    let written = '';
    socket.end = ((chunk: string) => {
      written += chunk;
      return socket;
    }) as never;
    answerClientError(
      Object.assign(new Error('Parse Error: Invalid header value char'), {
        code: 'HPE_INVALID_HEADER_TOKEN',
        rawPacket: Buffer.from(rawPacket, 'latin1'),
      }),
      socket,
    );
    const [head, body] = written.split('\r\n\r\n');
    return { status: head.split('\r\n')[0], body: JSON.parse(body) as Record<string, unknown> };
  }

  it('name the header and the rule', () => {
    const { status, body } = answer(
      'GET /v1/children/x/timeline HTTP/1.1\r\nHost: a\r\nX-Purpose: direct\u0000care\r\n\r\n',
    );
    expect(status).toBe('HTTP/1.1 400 Bad Request');
    expect(body).toMatchObject({
      error: 'VALIDATION',
      issues: [{ path: 'headers.x-purpose', rule: 'no-nul' }],
    });
  });

  it('name the request line', () => {
    const { body } = answer('GET /v1/\u0001 HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(body).toMatchObject({ issues: [{ path: 'url', rule: 'valid-text' }] });
  });
});

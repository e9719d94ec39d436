import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runReadPlan } from './read-client';

describe('runReadPlan', () => {
  let server: Server;
  let base: string;
  const seen: { url: string; authorization: string | undefined }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      seen.push({ url: request.url ?? '', authorization: request.headers.authorization });
      if (request.url?.endsWith('/refused')) {
        response.writeHead(403, { 'content-type': 'application/json' });
        response.end('{"error":"not shared"}');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ entries: Array.from({ length: 50 }, (_, i) => ({ i })) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (seen.length = 0));

  it('reads every path each round after the warm-ups, with the headers, and times only the rounds', async () => {
    const { samples } = await runReadPlan({
      base,
      headers: { authorization: 'Bearer t' },
      paths: ['/v1/children/k1/timeline', '/v1/children/k1/decisions'],
      warmups: 2,
      rounds: 3,
    });
    expect(samples).toHaveLength(2);
    expect(samples.map((path) => path.length)).toEqual([3, 3]);
    for (const sample of samples.flat()) expect(sample).toBeGreaterThan(0);
    expect(seen).toHaveLength((2 + 3) * 2);
    expect(seen.slice(0, 2).map((request) => request.url)).toEqual([
      '/v1/children/k1/timeline',
      '/v1/children/k1/decisions',
    ]);
    expect(new Set(seen.map((request) => request.authorization))).toEqual(new Set(['Bearer t']));
  });

  it('fails on an answer that is not OK, naming the path without the child key', async () => {
    await expect(
      runReadPlan({ base, headers: {}, paths: ['/v1/children/secret-key/refused'], warmups: 0, rounds: 1 }),
    ).rejects.toThrow('/v1/children/:childKey/refused answered 403');
    await expect(
      runReadPlan({ base, headers: {}, paths: ['/v1/children/secret-key/refused'], warmups: 0, rounds: 1 }),
    ).rejects.not.toThrow('secret-key');
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { flushTracing, startTracing, withSpan } from './tracing';

/** A stand-in OTLP/HTTP collector: it keeps what is posted to it. */
describe('OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set', () => {
  const received: { path: string | undefined; body: string }[] = [];
  let server: Server;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ path: request.url, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    startTracing({ serviceName: 'throughline-int', otlpEndpoint: `http://127.0.0.1:${port}/` });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends finished spans to <endpoint>/v1/traces, with the service name', async () => {
    await withSpan('exported-span', {}, () => Promise.resolve());
    await flushTracing();
    const posted = received.find((request) => request.body.includes('exported-span'));
    expect(posted?.path).toBe('/v1/traces');
    expect(posted?.body).toContain('throughline-int');
  });
});

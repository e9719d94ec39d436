import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHttpApp, createLogger, createMetricsRegistry } from '@throughline/platform';
import type { IdentityLinker, IdentityReview } from '@throughline/identity';
import type { TimelineProjector, TimelineQueries } from '@throughline/timeline';
import { projectionHttpModule } from './projection-http.module';

interface Operation {
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema?: object }> };
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}
type Document = { paths: Record<string, Record<string, Operation>> };

/** Answers that are not JSON (Prometheus text). */
const NOT_JSON = new Set(['/metrics']);

let app: NestFastifyApplication;
let document: Document;
const operations: [string, Operation][] = [];

beforeAll(async () => {
  // Only the routes' metadata is read: no handler runs, so nothing stands behind the services.
  const unused = {};
  app = await createHttpApp(
    projectionHttpModule(
      unused as TimelineProjector,
      unused as TimelineQueries,
      unused as IdentityReview,
      unused as IdentityLinker,
      async () => {},
    ),
    {
      title: 'Throughline projection',
      description: 'test',
      logger: createLogger({ LOG_LEVEL: 'error', LOG_FORMAT: 'json' }),
      metrics: createMetricsRegistry('projection'),
    },
  );
  await app.init();
  const response = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/docs-json' });
  document = JSON.parse(response.body) as Document;
  for (const [path, methods] of Object.entries(document.paths))
    for (const [method, operation] of Object.entries(methods))
      if (!NOT_JSON.has(path)) operations.push([`${method.toUpperCase()} ${path}`, operation]);
});

afterAll(async () => {
  await app?.close();
});

const schemaOf = (content?: Record<string, { schema?: object }>) => content?.['application/json']?.schema;

describe("the projection's OpenAPI document (/docs)", () => {
  it('describes every endpoint', () => {
    expect(operations.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'POST /v1/children/lookup',
        'GET /v1/children/{childKey}/timeline',
        'GET /v1/identity/proposals',
        'POST /v1/identity/proposals/{proposalId}/confirm',
        'POST /v1/identity/proposals/{proposalId}/reject',
        'POST /v1/identity/unlink',
        'POST /v1/identity/link',
        'GET /v1/identity/conflicts',
        'GET /v1/projection/status',
        'GET /v1/identity/linker/status',
      ]),
    );
  });

  it('gives every response a JSON schema, and every POST its request body schema', () => {
    const missing = operations.flatMap(([name, operation]) => [
      ...Object.entries(operation.responses)
        .filter(([, response]) => !schemaOf(response.content))
        .map(([status]) => `${name} ${status}`),
      ...(name.startsWith('POST') && !schemaOf(operation.requestBody?.content) ? [`${name} body`] : []),
    ]);
    expect(missing).toEqual([]);
    for (const [, operation] of operations)
      expect(Object.keys(operation.responses).some((status) => /^2\d\d$/.test(status))).toBe(true);
  });

  it("names who is asking and why on every route that reads or changes a child's data", () => {
    const headersOf = (operation: Operation) =>
      (operation.parameters ?? []).filter((p) => p.in === 'header' && p.required).map((p) => p.name);
    const governed = operations.filter(
      ([name]) => /\/v1\/(children|identity)\//.test(name) && !/status$/.test(name),
    );
    expect(governed).toHaveLength(8);
    for (const [name, operation] of governed) {
      expect([name, headersOf(operation)]).toEqual([name, ['x-user-id', 'x-purpose']]);
      expect([name, Object.keys(operation.responses)]).toEqual([
        name,
        expect.arrayContaining(['400', '401']),
      ]);
    }
  });

  it('inlines every schema (no dangling $ref), each one a valid schema', () => {
    expect(JSON.stringify(document)).not.toContain('$ref');
    const ajv = new Ajv({ strict: false });
    addFormats(ajv);
    for (const [, operation] of operations) {
      for (const schema of [
        schemaOf(operation.requestBody?.content),
        ...Object.values(operation.responses).map((response) => schemaOf(response.content)),
      ])
        if (schema) ajv.compile(schema);
    }
  });

  it('documents the lookup body as the pipe parses it', () => {
    const lookup = document.paths['/v1/children/lookup'].post;
    const validate = new Ajv({ strict: false }).compile(schemaOf(lookup.requestBody?.content) as object);
    expect(validate({ identifier: { type: 'nhs-number', value: '943 476 5919' } })).toBe(true);
    expect(validate({ identifier: { type: 'record', value: 'chs-1', agency: 'health' } })).toBe(true);
    expect(validate({ identifier: { type: 'record', value: 'chs-1' } })).toBe(false);
    expect(validate({ identifier: { type: 'upn', value: 'A950000178301' }, extra: 1 })).toBe(false);
  });
});

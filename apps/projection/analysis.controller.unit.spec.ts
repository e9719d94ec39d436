import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHttpApp, createLogger, createMetricsRegistry, ROUTE_ACCESS } from '@throughline/platform';
import { AnalysisController } from './analysis.controller';
import { projectionHttpModule } from './projection-http.module';

/** The analysis routes in the projection's /docs, with the rule the access guard enforces on each. */

interface Operation {
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema?: object }> };
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}
let app: NestFastifyApplication;
let paths: Record<string, Record<string, Operation>>;

beforeAll(async () => {
  // Only the routes' metadata is read: no handler runs, so nothing stands behind the services.
  const unused = new Proxy({}, { get: () => unused });
  app = await createHttpApp(
    projectionHttpModule(unused as Parameters<typeof projectionHttpModule>[0], async () => {}),
    {
      title: 'Throughline projection',
      description: 'test',
      logger: createLogger({ LOG_LEVEL: 'error', LOG_FORMAT: 'json' }),
      metrics: createMetricsRegistry('projection'),
    },
  );
  await app.init();
  const response = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/docs-json' });
  paths = (JSON.parse(response.body) as { paths: typeof paths }).paths;
});

afterAll(async () => {
  await app?.close();
});

const bodyValidator = (operation: Operation) => {
  const ajv = new Ajv({ strict: false });
  addFormats(ajv);
  return ajv.compile(operation.requestBody?.content['application/json']?.schema as object);
};

describe('the analysis routes in /docs', () => {
  it('needs analysis:query on each, with a stated purpose', () => {
    const handlers = ['catalogue', 'query', 'export'] as const;
    expect(
      handlers.map(
        (name) => Reflect.getMetadata(ROUTE_ACCESS, AnalysisController.prototype[name]) as unknown,
      ),
    ).toEqual([
      { permission: 'analysis:query', action: 'analysis-catalogue' },
      { permission: 'analysis:query', action: 'analysis-query' },
      { permission: 'analysis:query', action: 'analysis-export' },
    ]);
    for (const operation of [
      paths['/v1/analysis/measures'].get,
      paths['/v1/analysis/queries'].post,
      paths['/v1/analysis/exports'].post,
    ])
      expect(operation.parameters).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'x-purpose', in: 'header', required: true }),
        ]),
      );
  });

  it('documents the query body as the pipe parses it', () => {
    const validate = bodyValidator(paths['/v1/analysis/queries'].post);
    expect(validate({ measure: 're-referrals' })).toBe(true);
    expect(
      validate({
        measure: 're-referrals',
        cohort: {
          entry: { eventTypes: ['social-care.referral.received'], from: '2023-04-01' },
          ageBands: ['5-9'],
        },
        groupBy: ['period', 'age-band'],
        period: 'financial-year',
      }),
    ).toBe(true);
    expect(validate({ measure: 're-referrals', groupBy: ['shoe-size'] })).toBe(false);
    expect(validate({ measure: 're-referrals', child: 'x' })).toBe(false);
  });

  it('documents the export body (the query and a format) and its answer as a CSV or Parquet file', () => {
    const exports = paths['/v1/analysis/exports'].post;
    const validate = bodyValidator(exports);
    expect(validate({ measure: 're-referrals', format: 'parquet' })).toBe(true);
    expect(validate({ measure: 're-referrals', format: 'xlsx' })).toBe(false);
    expect(validate({ measure: 're-referrals' })).toBe(false);
    expect(Object.keys(exports.responses['200'].content ?? {})).toEqual([
      'text/csv',
      'application/vnd.apache.parquet',
    ]);
    expect(Object.keys(exports.responses)).toEqual(expect.arrayContaining(['400', '401', '403', '503']));
  });

  it('documents the catalogue and the answer', () => {
    const catalogue = paths['/v1/analysis/measures'].get.responses['200'].content?.['application/json']
      ?.schema as { properties: Record<string, unknown> };
    expect(Object.keys(catalogue.properties)).toEqual(['measures', 'rules']);
    const answer = paths['/v1/analysis/queries'].post.responses['200'].content?.['application/json']
      ?.schema as {
      properties: Record<string, unknown>;
    };
    expect(Object.keys(answer.properties)).toEqual(
      expect.arrayContaining(['measure', 'query', 'cohortSize', 'cells', 'rules', 'asOfPosition']),
    );
  });
});

import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod, type Type } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  createHttpApp,
  createLogger,
  createMetricsRegistry,
  ROUTE_ACCESS,
  type RouteAccessSpec,
} from '@throughline/platform';
import { projectionHttpModule } from './projection-http.module';

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
}
interface Operation {
  parameters?: Parameter[];
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema?: object }> };
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, Record<string, unknown>> };
};

/** Answers that are not JSON (Prometheus text). */
const NOT_JSON = new Set(['/metrics']);
/** Downloads: the success is a file (documented with its media types), the refusals JSON. */
const FILE_DOWNLOADS = new Set(['POST /v1/analysis/exports']);
/** Liveness and readiness: the only documented routes anyone may call without a token. */
const PUBLIC_DOCUMENTED = /^\/health(\/(live|ready))?$/;
/**
 * Routes that may be public at all: health, the pages' shells (`/`, `/governance`, `/analysis`; not in /docs)
 * and the page's sign-in round trip under /auth (the shells and sign-in carry no child data).
 */
const PUBLIC_ALLOWED = /^\/(health(\/(live|ready))?|auth\/[a-z-]+|governance|analysis)?$/;

let app: NestFastifyApplication;
let document: Document;
/** Every documented operation, `METHOD /path`. */
const all: [string, Operation][] = [];
/** The JSON ones (every operation but /metrics). */
const operations: [string, Operation][] = [];
/** Every route the app serves, documented or not, with the access rule it declares. */
const routes: { name: string; spec: RouteAccessSpec | undefined }[] = [];

/** The routes of every controller of the app, read from Nest's metadata (what the access guard reads). */
function declaredRoutes(application: NestFastifyApplication): typeof routes {
  const found: typeof routes = [];
  const join = (...parts: string[]) =>
    `/${parts
      .flatMap((part) => part.split('/'))
      .filter(Boolean)
      .join('/')}`;
  for (const module of application.get(ModulesContainer).values())
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type<unknown> | null;
      if (!controller) continue;
      const prefixes = [
        (Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined) ?? '',
      ].flat();
      for (const key of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[key];
        if (typeof handler !== 'function' || key === 'constructor') continue;
        const paths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (paths === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        const spec = (Reflect.getMetadata(ROUTE_ACCESS, handler) ??
          Reflect.getMetadata(ROUTE_ACCESS, controller)) as RouteAccessSpec | undefined;
        for (const prefix of prefixes)
          for (const path of [paths].flat()) found.push({ name: `${method} ${join(prefix, path)}`, spec });
      }
    }
  return found;
}

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
  document = JSON.parse(response.body) as Document;
  for (const [path, methods] of Object.entries(document.paths))
    for (const [method, operation] of Object.entries(methods)) {
      all.push([`${method.toUpperCase()} ${path}`, operation]);
      if (!NOT_JSON.has(path)) operations.push([`${method.toUpperCase()} ${path}`, operation]);
    }
  routes.push(...declaredRoutes(app));
});

afterAll(async () => {
  await app?.close();
});

const schemaOf = (content?: Record<string, { schema?: object }>) => content?.['application/json']?.schema;
const pathOf = (name: string) => name.slice(name.indexOf(' ') + 1);

describe("the projection's OpenAPI document (/docs)", () => {
  it('describes every endpoint', () => {
    expect(operations.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'POST /v1/children/lookup',
        'GET /v1/children/{childKey}/timeline',
        'POST /v1/children/{childKey}/break-glass',
        'GET /v1/identity/proposals',
        'POST /v1/identity/proposals/{proposalId}/confirm',
        'POST /v1/identity/proposals/{proposalId}/reject',
        'POST /v1/identity/unlink',
        'POST /v1/identity/link',
        'GET /v1/identity/conflicts',
        'GET /v1/projection/status',
        'GET /v1/identity/linker/status',
        'GET /v1/governance/policy',
        'PUT /v1/governance/policy',
        'GET /v1/governance/policy/versions',
        'GET /v1/governance/break-glass',
        'GET /v1/governance/flows',
        'GET /v1/governance/access',
        'GET /v1/children/{childKey}/outcomes',
        'GET /v1/children/{childKey}/decisions',
        'GET /v1/reviews/due',
        'GET /v1/outcomes/frameworks',
        'PUT /v1/outcomes/frameworks',
        'GET /v1/outcomes/frameworks/versions',
        'GET /v1/analysis/measures',
        'POST /v1/analysis/queries',
        'POST /v1/analysis/exports',
      ]),
    );
  });

  it('gives every response a JSON schema, and every POST and PUT its request body schema', () => {
    const missing = operations.flatMap(([name, operation]) => [
      ...Object.entries(operation.responses)
        .filter(([status]) => !(FILE_DOWNLOADS.has(name) && /^2\d\d$/.test(status)))
        .filter(([, response]) => !schemaOf(response.content))
        .map(([status]) => `${name} ${status}`),
      ...(/^(POST|PUT)/.test(name) && !schemaOf(operation.requestBody?.content) ? [`${name} body`] : []),
    ]);
    expect(missing).toEqual([]);
    const noSuccess = operations
      .filter(([, operation]) => !Object.keys(operation.responses).some((status) => /^2\d\d$/.test(status)))
      .map(([name]) => name);
    expect(noSuccess).toEqual([]);
  });

  it('documents bearer access tokens as the one way in', () => {
    const schemes = document.components?.securitySchemes ?? {};
    expect(schemes).toEqual({ bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }) });
    // Who asks is the token's subject: no header names a user or a role any more.
    expect(JSON.stringify(document)).not.toMatch(/x-user-(id|role)/);
  });

  it('declares security on every route but /health/*, with x-purpose and the 400, 401 and 403 it may answer', () => {
    const unsecured = all
      .filter(([name]) => !PUBLIC_DOCUMENTED.test(pathOf(name)))
      .filter(([, operation]) => !operation.security?.some((requirement) => 'bearer' in requirement))
      .map(([name]) => name);
    expect(unsecured).toEqual([]);
    for (const [name, operation] of all) {
      if (PUBLIC_DOCUMENTED.test(pathOf(name))) {
        expect([name, operation.security ?? []]).toEqual([name, []]);
        continue;
      }
      const purpose = (operation.parameters ?? []).filter((p) => p.in === 'header' && p.name === 'x-purpose');
      expect([name, purpose.length]).toEqual([name, 1]);
      expect([name, Object.keys(operation.responses)]).toEqual([
        name,
        expect.arrayContaining(['400', '401', '403']),
      ]);
    }
  });

  it('requires x-purpose wherever child data is read or changed; operations routes default it', () => {
    const required = (operation: Operation) =>
      (operation.parameters ?? []).some((p) => p.in === 'header' && p.name === 'x-purpose' && p.required);
    const childData = all.filter(
      ([name]) => /\/v1\/(children|identity|governance)\//.test(name) && !/status$/.test(name),
    );
    const operational = all.filter(([name]) => /\/(status|metrics)$/.test(name));
    expect(childData.length).toBeGreaterThanOrEqual(13);
    expect(childData.filter(([, operation]) => !required(operation)).map(([name]) => name)).toEqual([]);
    expect(operational.map(([name]) => name).sort()).toEqual([
      'GET /metrics',
      'GET /v1/identity/linker/status',
      'GET /v1/projection/status',
    ]);
    expect(operational.filter(([, operation]) => required(operation)).map(([name]) => name)).toEqual([]);
  });

  it('matches what the access guard enforces: every route declares its access rule, only health and sign-in are public', () => {
    expect(routes.length).toBeGreaterThanOrEqual(all.length);
    expect(routes.filter((route) => route.spec === undefined).map((route) => route.name)).toEqual([]);
    const publicRoutes = routes.filter((route) => route.spec && 'public' in route.spec);
    expect(
      publicRoutes.map((route) => route.name).filter((name) => !PUBLIC_ALLOWED.test(pathOf(name))),
    ).toEqual([]);
    // A documented route is secured in /docs exactly when its rule is not public.
    const toOpenApi = (name: string) => name.replace(/:([A-Za-z]+)/g, '{$1}');
    for (const route of routes) {
      const documented = all.find(([name]) => name === toOpenApi(route.name));
      if (!documented) continue;
      const secured = documented[1].security?.some((requirement) => 'bearer' in requirement) ?? false;
      expect([route.name, secured]).toEqual([route.name, !('public' in (route.spec ?? {}))]);
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

  it('documents the break-glass body as the grants parse it', () => {
    const breakGlass = document.paths['/v1/children/{childKey}/break-glass'].post;
    const validate = new Ajv({ strict: false }).compile(schemaOf(breakGlass.requestBody?.content) as object);
    expect(validate({ reason: 'child disclosed harm; CAMHS history needed tonight', minutes: 30 })).toBe(
      true,
    );
    expect(validate({ reason: 'too short' })).toBe(false);
    expect(validate({ reason: 'child disclosed harm; CAMHS history needed tonight', minutes: 1 })).toBe(
      false,
    );
  });
});

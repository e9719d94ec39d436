// Test tiers by file suffix, one jest project each (see README "Tests").
const { pathsToModuleNameMapper } = require('./scripts/paths.js');

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest'],
    '/node_modules/(content-disposition|@opentelemetry/otlp-exporter-base|openid-client|oauth4webapi)/.+\\.js$':
      ['@swc/jest'],
  },
  // @fastify/static (OpenAPI UI) requires content-disposition, which ships ES modules only; the
  // OTLP exporter loads node:http with import(), which jest's CommonJS sandbox refuses untransformed;
  // openid-client (the page's sign-in) and its oauth4webapi and jose 6 are ES modules only (Node
  // itself requires them; jest's sandbox needs them as CommonJS).
  // (jose 6 is nested under openid-client: the one pattern's first clause keeps it transformed).
  transformIgnorePatterns: [
    '^(?!.*/node_modules/openid-client/node_modules/).*/node_modules/(?!content-disposition/|@opentelemetry/otlp-exporter-base/|openid-client/|oauth4webapi/)',
  ],
  moduleNameMapper: pathsToModuleNameMapper(),
  moduleFileExtensions: ['ts', 'js', 'json'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/**/*.unit.spec.ts'] },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/**/*.int.spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/scripts/jest/int-setup.js'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e.spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/scripts/jest/e2e-setup.js'],
    },
  ],
};

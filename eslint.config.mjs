// @ts-check
import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const subfolders = (folder) =>
  readdirSync(new URL(folder, import.meta.url), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);

/**
 * Relative imports may not leave their bounded context (libs/<context>, apps/<app>): another
 * context is reached through its '@throughline/<context>' alias. The zones work on resolved
 * paths, so '../timeline/x' and '../../libs/timeline/x' are caught alike; the aliases are not
 * resolved by the node resolver below and so never match a zone.
 */
const contextZones = [
  ...subfolders('./libs/').map((context) => ({
    target: `./libs/${context}`,
    from: './libs',
    except: [`./${context}`],
  })),
  ...subfolders('./apps/').map((app) => ({ target: `./apps/${app}`, from: './apps', except: [`./${app}`] })),
  { target: './libs', from: ['./apps', './contracts'] },
  { target: ['./apps', './bench', './scripts', './test'], from: ['./libs', './contracts'] },
].map((zone) => ({
  ...zone,
  message: "Reach another context through its alias, e.g. '@throughline/event-store', not a relative path.",
}));

const deepAliasImports = {
  group: ['@throughline/*/*'],
  message: "Import a context only through its index: '@throughline/<context>'.",
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'contracts/dist/**',
      'bench/results/**',
      '.test-results/**',
      '.cache/**',
      'tmp/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain JavaScript run by node: no type information, so no type-aware rules here.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['scripts/jest/**/*.js'],
    languageOptions: { globals: globals.jest },
  },
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs', '.json'] })],
    },
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        // Nest's DI reads constructor parameter types at runtime; these tell the type-import rule so.
        emitDecoratorMetadata: true,
        experimentalDecorators: true,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [deepAliasImports] }],
      'import-x/no-restricted-paths': ['error', { zones: contextZones }],
    },
  },
  {
    // Production code never loads the test library (its fixtures, fakes and jest suites).
    files: ['**/*.ts'],
    // The benchmark is a harness like the tests: it starts its own OpenID provider through them.
    ignores: ['**/*.spec.ts', '**/*.test-helper.ts', 'libs/testing/**', 'test/**', 'bench/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [deepAliasImports],
          paths: [
            {
              name: '@throughline/testing',
              message:
                'Only tests (*.spec.ts, *.test-helper.ts, test/, libs/testing) and bench/ may import @throughline/testing.',
            },
          ],
        },
      ],
    },
  },
  {
    // The practitioners' page runs in the browser (its own tsconfig gives it the DOM lib).
    files: ['apps/projection/page/**/*.ts'],
    languageOptions: { globals: globals.browser },
  },
);

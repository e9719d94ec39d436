// One source of truth for the @throughline/* aliases: tsconfig.json's "paths".
// Used by jest (source) and by the runtime loader (compiled dist/).
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function readPaths() {
  const text = fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8');
  return JSON.parse(text).compilerOptions.paths;
}

function pathsToModuleNameMapper() {
  const mapper = {};
  for (const [alias, [target]] of Object.entries(readPaths())) {
    mapper[`^${alias.replace(/[/-]/g, (c) => '\\' + c)}$`] = `<rootDir>/${target}`;
  }
  return mapper;
}

/** Registers the aliases against the compiled tree in dist/ (used by node -r). */
function registerCompiledPaths() {
  require('tsconfig-paths').register({ baseUrl: path.join(root, 'dist'), paths: readPaths() });
}

module.exports = { readPaths, pathsToModuleNameMapper, registerCompiledPaths, root };

// node -r ./scripts/register-dist.js dist/apps/<app>/main.js
require('./paths.js').registerCompiledPaths();

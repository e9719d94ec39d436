#!/usr/bin/env node
// `npm run build:page`: builds the projection's pages, the practitioners' timeline, the
// information-governance page and the analyst's page. apps/projection/page/<page>.html holds the
// markup and CSS; each empty `<script data-entry="x.ts">` in it is replaced by x.ts bundled by
// esbuild, inline, so the page stays one file under its per-request CSP nonce. The result is
// dist/apps/projection/page/<page>.html, which the projection serves. `npm run build`,
// `npm start` and `npm test` run this; type-checking is `npm run check`'s (esbuild only strips types).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PAGE_DIR = path.join(ROOT, 'apps', 'projection', 'page');
const BUILT_DIR = path.join(ROOT, 'dist', 'apps', 'projection', 'page');
export const BUILT_PAGE = path.join(BUILT_DIR, 'timeline.html');
/** Every page the projection serves. */
export const PAGES = ['timeline.html', 'governance.html', 'analysis.html'];

const ENTRY_BLOCK =
  /<script\b([^>]*?)\s+data-entry="([^"]+)"(?:\s+data-global="([^"]+)")?([^>]*)><\/script>/g;

async function bundle(entry, globalName) {
  const result = await build({
    entryPoints: [path.join(PAGE_DIR, entry)],
    bundle: true,
    write: false,
    format: 'iife',
    globalName,
    platform: 'browser',
    target: 'es2020',
    charset: 'utf8',
    legalComments: 'none',
    // The timeline page carries Observable Plot and its d3 modules: minified, the page is a third the size.
    minify: true,
    // Its "strict" makes esbuild emit "use strict", as the page's scripts always were.
    tsconfig: path.join(PAGE_DIR, 'tsconfig.json'),
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].text;
  // Either would end or derail the inline block early.
  if (/<\/script|<!--/i.test(code)) throw new Error(`${entry}: the bundle contains "</script" or "<!--"`);
  return code;
}

async function buildOne(name) {
  const template = fs.readFileSync(path.join(PAGE_DIR, name), 'utf8');
  const blocks = [...template.matchAll(ENTRY_BLOCK)];
  if (blocks.length === 0) throw new Error(`${name} has no <script data-entry="..."> block`);
  const bundles = await Promise.all(blocks.map(([, , entry, globalName]) => bundle(entry, globalName)));
  let index = 0;
  const page = template.replace(ENTRY_BLOCK, (_block, before, _entry, _global, after) => {
    const attributes = `${before}${after}`.replace(/\s+/g, ' ').trimEnd();
    return `<script${attributes}>\n${bundles[index++]}</script>`;
  });
  const built = path.join(BUILT_DIR, name);
  fs.mkdirSync(BUILT_DIR, { recursive: true });
  fs.writeFileSync(built, page);
  return built;
}

/** Builds every page; returns the timeline page's file (the first), as it always did. */
export async function buildPage() {
  const built = [];
  for (const name of PAGES) built.push(await buildOne(name));
  return built[0];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildPage().then(
    () =>
      process.stdout.write(
        `built ${PAGES.map((name) => path.relative(ROOT, path.join(BUILT_DIR, name))).join(', ')}\n`,
      ),
    (error) => {
      process.stderr.write(`build:page failed: ${error.message}\n`);
      process.exit(1);
    },
  );
}

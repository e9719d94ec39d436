import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { publishedJsonSchemas, schemaFileOf } from '@throughline/contracts';
import { asyncApiDocument } from '../src/asyncapi';
import { distDir, readJson, repoRoot, writeJson } from './files';

/**
 * `npm run contracts:build`: writes contracts/dist/schemas/<type>/v<N>.json (JSON Schema
 * draft 2020-12, one per event type and version) and contracts/dist/asyncapi.json (AsyncAPI 3.0).
 */
function main(): void {
  const out = distDir();
  rmSync(out, { recursive: true, force: true });
  const published = publishedJsonSchemas();
  for (const { entry, schema } of published) {
    writeJson(join(out, 'schemas', schemaFileOf(entry.type, entry.version)), schema);
  }
  const { version } = readJson(join(repoRoot(), 'contracts', 'package.json')) as { version: string };
  writeJson(join(out, 'asyncapi.json'), asyncApiDocument(version));
  console.log(`contracts: ${published.length} JSON Schemas and asyncapi.json written to ${out}`);
}

main();

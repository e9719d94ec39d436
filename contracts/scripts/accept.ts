import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import {
  backwardIncompatibilities,
  CONTRACT_VERSIONS,
  jsonSchemaOf,
  schemaFileOf,
  type JsonSchema,
} from '@throughline/contracts';
import { readJson, snapshotsDir } from './files';

/** Writes JSON as the repository's prettier settings format it, so committed snapshots pass `prettier --check`. */
async function writeFormattedJson(file: string, value: unknown): Promise<void> {
  const options = (await resolveConfig(file)) ?? {};
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, await format(JSON.stringify(value, null, 2), { ...options, filepath: file }));
}

/**
 * `npm run contracts:accept`: releases every contract version that has no snapshot yet by
 * writing contracts/snapshots/<type>/v<N>.json. A released snapshot is never rewritten,
 * except by `-- --replace <type>@<N>` after a deliberate, reviewed decision.
 */
async function main(argv: string[]): Promise<number> {
  const replace = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--replace' && argv[i + 1]) replace.add(argv[++i]);
    else {
      console.error(`unknown argument ${argv[i]}; usage: accept [--replace <type>@<version>]...`);
      return 2;
    }
  }
  let written = 0;
  for (const entry of CONTRACT_VERSIONS) {
    const file = join(snapshotsDir(), schemaFileOf(entry.type, entry.version));
    const key = `${entry.type}@${entry.version}`;
    const schema = jsonSchemaOf(entry);
    const replacing = replace.delete(key);
    if (existsSync(file)) {
      if (!replacing) continue;
      const broken = backwardIncompatibilities(readJson(file) as JsonSchema, schema);
      for (const issue of broken)
        console.warn(`${key}: ${issue.path || '(root)'} ${issue.rule}: ${issue.message}`);
    }
    await writeFormattedJson(file, schema);
    console.log(`released ${entry.type} v${entry.version} -> ${file}`);
    written++;
  }
  for (const key of replace) console.warn(`--replace ${key}: no such contract version`);
  console.log(written ? `${written} snapshot(s) written` : 'every contract version already has its snapshot');
  return replace.size ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);

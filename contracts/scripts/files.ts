import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function rootAbove(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'contracts', 'package.json'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The repository root: the nearest directory holding contracts/package.json above this file (src or dist), else above the working directory. */
export function repoRoot(): string {
  const root = rootAbove(__dirname) ?? rootAbove(process.cwd());
  if (!root) throw new Error(`no contracts/package.json above ${__dirname} or ${process.cwd()}`);
  return root;
}

export const snapshotsDir = () => join(repoRoot(), 'contracts', 'snapshots');
export const distDir = () => join(repoRoot(), 'contracts', 'dist');

export function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

export function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Every committed snapshot as { type, version, file }. */
export function listSnapshots(): { type: string; version: number; file: string }[] {
  const root = snapshotsDir();
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) =>
      readdirSync(join(root, entry.name))
        .map((name) => /^v(\d+)\.json$/.exec(name))
        .filter((match): match is RegExpExecArray => match !== null)
        .map((match) => ({
          type: entry.name,
          version: Number(match[1]),
          file: join(root, entry.name, match[0]),
        })),
    );
}

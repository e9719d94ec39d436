import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(__dirname, '..', '..');
const SPECS = ['shared', 'domain', 'specs'] as const;

/** The checkout this one was cloned from, when that is a folder on this machine (a CI rehearsal). */
function localOrigin(): string | undefined {
  try {
    const url = execFileSync('git', ['-C', ROOT, 'config', '--get', 'remote.origin.url'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (url.startsWith('file://')) return fileURLToPath(url);
    return isAbsolute(url) ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The folder of the statutory returns' machine-readable specifications (the CIN census XSD, the
 * SSDA903 YAML). They are read from `../shared/domain/specs` beside the checkout, never copied
 * into it (the shared README asks so). THROUGHLINE_SPECS_DIR names another folder; a clone of a
 * checkout on this machine (a CI rehearsal in /tmp) finds them beside the checkout it came from.
 */
export function returnsSpecsDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.THROUGHLINE_SPECS_DIR) return env.THROUGHLINE_SPECS_DIR;
  const origin = localOrigin();
  const tried = [resolve(ROOT, '..', ...SPECS), ...(origin ? [resolve(origin, '..', ...SPECS)] : [])];
  const found = tried.find((folder) => existsSync(folder));
  if (!found)
    throw new Error(
      `the returns' specifications are not at ${tried.join(' nor ')}: put the shared folder beside ` +
        'the checkout, or set THROUGHLINE_SPECS_DIR',
    );
  return found;
}

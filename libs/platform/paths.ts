import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root (the folder holding package.json), found the same way from source and from dist/. */
export function projectRoot(start: string = __dirname): string {
  let folder = start;
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error(`no package.json above ${start}`);
    folder = parent;
  }
  return folder;
}

/** A bounded context's versioned SQL migrations: `libs/<context>/migrations` (read from the source tree). */
export function migrationsDirectory(context: string): string {
  return join(projectRoot(), 'libs', context, 'migrations');
}

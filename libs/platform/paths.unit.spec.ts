import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { migrationsDirectory, projectRoot } from './paths';

describe('projectRoot', () => {
  it('finds the repository root from source and from a compiled dist/ tree alike', () => {
    const root = projectRoot();
    expect(existsSync(join(root, 'tsconfig.json'))).toBe(true);
    expect(projectRoot(join(root, 'dist', 'libs', 'platform'))).toBe(root);
  });

  it('locates a context migrations folder', () => {
    expect(existsSync(join(migrationsDirectory('event-store'), '001_event_store.sql'))).toBe(true);
  });
});

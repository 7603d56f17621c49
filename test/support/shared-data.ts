import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { projectRoot } from '../../src/project-root.js';

/**
 * Where the shared STIX test data lives (see its README.md): the directory named
 * by SHARED_DATA_DIR (or the older STIX_TEST_DATA_DIR), else `../shared/data`
 * beside the project, else /work/shared/data. The tests that read it must not
 * pass by skipping, so a missing directory is an error that says where it looked.
 */
function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

export function findSharedDataDir(env: Record<string, string | undefined> = process.env): string {
  for (const name of ['SHARED_DATA_DIR', 'STIX_TEST_DATA_DIR']) {
    const value = env[name]?.trim();
    if (!value) continue;
    const dir = resolve(value);
    // An explicit choice that does not exist is a mistake, not a reason to look elsewhere.
    if (!isDirectory(dir)) throw new Error(`${name}=${value}: ${dir} is not a directory holding the shared STIX data`);
    return dir;
  }
  const candidates = [resolve(projectRoot, '..', 'shared', 'data'), '/work/shared/data'];
  const found = candidates.find(isDirectory);
  if (found) return found;
  throw new Error(
    `The shared STIX test data was not found (looked in ${candidates.join(' and ')}). ` +
      'Set SHARED_DATA_DIR to the directory holding its README.md, MANIFEST.json, attack/, iocs/, oasis/ and invalid/.',
  );
}

export const SHARED_DATA_DIR = findSharedDataDir();

export function sharedDataPath(...parts: string[]): string {
  return join(SHARED_DATA_DIR, ...parts);
}

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory holding package.json. Code runs both from src/ (tsx) and from
 * dist/src/ (compiled), so files shipped beside the code (schemas/, migrations/)
 * are found by walking up rather than by a fixed relative path.
 */
function findProjectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'schemas'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('project root (package.json with schemas/) not found');
    dir = parent;
  }
}

export const projectRoot = findProjectRoot();

export function projectPath(...parts: string[]): string {
  return join(projectRoot, ...parts);
}

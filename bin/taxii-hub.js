#!/usr/bin/env node
/* global process */
// taxii-hub, the operator's command line (src/cli/main.ts). Runs the compiled
// CLI (dist/src/cli/main.js, from `npm run build`) when it is there and not
// older than the TypeScript source, else the source through tsx (a development
// dependency), so that `npx taxii-hub …` works in a fresh clone after
// `npm install`. TAXII_HUB_FROM_SOURCE=1 always runs the source.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'src', 'cli', 'main.js');
const source = join(root, 'src', 'cli', 'main.ts');

/** The latest modification time of the TypeScript files under a folder. */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function runSource() {
  if (!existsSync(source)) return false;
  if (process.env.TAXII_HUB_FROM_SOURCE === '1' || !existsSync(compiled)) return true;
  // A build older than the source it came from (edited since `npm run build`) is not used.
  return newestSource(join(root, 'src')) > statSync(compiled).mtimeMs;
}

let entry = compiled;
if (runSource()) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    entry = source;
  } catch {
    if (!existsSync(compiled)) {
      process.stderr.write('error: taxii-hub is not built (no dist/src/cli/main.js) and tsx is not installed: run "npm install" or "npm run build"\n');
      process.exit(1);
    }
  }
}

const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));

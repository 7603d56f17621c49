import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectPath } from '../../src/project-root.js';
import { createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/test-database.js';

/**
 * The real executable, bin/taxii-hub.js, in its own process: against the
 * test PostgreSQL database (DATABASE_URL) when the suite runs on one, else
 * against an embedded database in a fresh DATA_DIR. It runs what the
 * executable picks: the build (dist/, as CI makes it before the tests) when it
 * is up to date with src/, else the TypeScript source.
 */
const BIN = projectPath('bin', 'taxii-hub.js');

interface Spawned {
  code: number;
  stdout: string;
  stderr: string;
}

let database: TestDatabase | undefined;
let dataDir: string | undefined;
let env: NodeJS.ProcessEnv;

function taxiiHub(args: string[]): Promise<Spawned> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 90_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  env = { ...process.env, SCRYPT_COST: '1024' };
  delete env.TAXII_HUB_FROM_SOURCE;
  delete env.DATABASE_URL;
  delete env.DATA_DIR;
  if (testDatabaseKind() === 'postgres') {
    database = await createTestDatabase();
    env.DATABASE_URL = database.url;
  } else {
    dataDir = mkdtempSync(join(tmpdir(), 'taxii-cli-bin-'));
    env.DATA_DIR = dataDir;
  }
});

afterAll(async () => {
  await database?.destroy();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe(`bin/taxii-hub.js (${testDatabaseKind()} database)`, () => {
  it('runs commands in its own process with the exit codes of the manual', { timeout: 240_000 }, async () => {
    const migrate = await taxiiHub(['migrate']);
    expect(migrate, migrate.stderr).toMatchObject({ code: 0 });
    expect(migrate.stdout).toMatch(database ? /^schema is up to date\n$/ : /^applied: 20261128000000-taxii-core, /);

    const created = await taxiiHub(['api-roots', 'create', 'from-bin', '--title', 'Made by the executable', '--json']);
    expect(created, created.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(created.stdout)).toEqual({ id: 'from-bin', title: 'Made by the executable', description: null, max_content_length: 10485760, default: false });

    const unknown = await taxiiHub(['collections', 'permissions', 'nope']);
    expect(unknown).toEqual({ code: 1, stdout: '', stderr: 'error: The collection nope was not found.\n' });

    const usage = await taxiiHub(['api-roots', 'create']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^error: required option '--title <title>' not specified\n/);

    if (database) {
      // The audit trail names the operator's OS account.
      const entry = await database.db.selectFrom('admin_audit').select(['actor', 'action', 'target_id']).where('action', '=', 'api-root.create').executeTakeFirstOrThrow();
      expect(entry).toEqual({ actor: `cli:${userInfo().username}`, action: 'api-root.create', target_id: 'from-bin' });
    }
  });
});

import { readdir } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { Migrator, type Kysely, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import { projectPath } from '../project-root.js';

/**
 * Finds migrations both in development (migrations/*.ts through tsx) and in the
 * built image (dist/migrations/*.js). The name of a migration is its file name
 * without the extension, so the two forms are the same migration.
 */
class DirectoryMigrationProvider implements MigrationProvider {
  constructor(private readonly directory: string) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {};
    for (const file of (await readdir(this.directory)).sort()) {
      const match = /^(.+)\.(ts|js)$/.exec(file);
      if (!match || file.endsWith('.d.ts')) continue;
      const module = (await import(pathToFileURL(`${this.directory}/${file}`).href)) as Migration;
      migrations[match[1]!] = module;
    }
    return migrations;
  }
}

function migrationsDirectory(): string {
  // Compiled code lives in dist/src/db; its migrations in dist/migrations.
  return import.meta.url.includes('/dist/') ? projectPath('dist', 'migrations') : projectPath('migrations');
}

export function createMigrator<DB>(db: Kysely<DB>): Migrator {
  // The migrator works on any schema; migrations see the database untyped.
  return new Migrator({ db: db as unknown as Kysely<unknown>, provider: new DirectoryMigrationProvider(migrationsDirectory()) });
}

export class MigrationError extends Error {}

/** Brings the schema to the latest migration; Kysely reports failures in the result, it does not throw. */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<string[]> {
  const result: MigrationResultSet = await createMigrator(db).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(`migration ${failed} failed: ${(result.error as Error).message ?? String(result.error)}`);
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Names of migrations not yet applied (readiness checks and `db:migrate --check`). */
export async function pendingMigrations<DB>(db: Kysely<DB>): Promise<string[]> {
  const all = await createMigrator(db).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

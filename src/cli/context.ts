import { userInfo } from 'node:os';
import { loadConfig, type Config } from '../config.js';
import { openDatabase, type Database, type Db } from '../db/database.js';
import { pendingMigrations } from '../db/migrate.js';
import type { Actor } from '../services/admin/audit.js';

/**
 * What every command gets: its output streams, the configuration (the
 * server's, from the same environment variables), the database opened on
 * first use and closed at the end, and the audit actor.
 */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface CliOptions {
  stdout?: OutputStream;
  stderr?: OutputStream;
  /** Where --password-stdin reads from. */
  stdin?: AsyncIterable<string | Buffer>;
  env?: Record<string, string | undefined>;
  /** An open database to use instead of the configured one (tests); it is left open. */
  database?: Database;
  /** Non-TTY progress lines of `import`: at most one per interval (default 2 s; 0 = after every batch). */
  progressIntervalMs?: number;
}

/** Wrong use of the command line: exit code 2, like commander's own usage errors. */
export class UsageError extends Error {}

/** A failure already explained on the output: exit with this code, print nothing more. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function osUser(env: Record<string, string | undefined>): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry for the uid (containers run with an arbitrary uid).
    return env.USER ?? env.LOGNAME ?? `uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

export class CliContext {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Record<string, string | undefined>;
  readonly actor: Actor;
  json = false;
  private configValue: Readonly<Config> | undefined;
  private database: Database | undefined;
  private schemaChecked = false;

  constructor(readonly options: CliOptions) {
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    this.env = options.env ?? process.env;
    this.actor = { name: `cli:${osUser(this.env)}` };
    this.database = options.database;
  }

  get config(): Readonly<Config> {
    this.configValue ??= loadConfig(this.env);
    return this.configValue;
  }

  /** The database, with its schema up to date (every command but `migrate` needs that). */
  async db(options: { checkSchema?: boolean } = {}): Promise<Db> {
    if (!this.database) {
      const config = this.config;
      this.database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 2 });
    }
    if (options.checkSchema !== false && !this.schemaChecked) {
      const pending = await pendingMigrations(this.database.db);
      if (pending.length > 0) {
        throw new Error(`the database schema is not up to date (${pending.length} pending migration${pending.length > 1 ? 's' : ''}): run "taxii-hub migrate" first`);
      }
      this.schemaChecked = true;
    }
    return this.database.db;
  }

  async close(): Promise<void> {
    if (this.database && this.database !== this.options.database) await this.database.close();
    this.database = undefined;
  }

  /** Prints a command's result: JSON with --json, else the readable form. */
  print(value: unknown, readable: () => string): void {
    const text = this.json ? JSON.stringify(value, null, 2) : readable();
    this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A remark for the operator (stderr, so that stdout stays the result). */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }
}

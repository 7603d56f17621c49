import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { TaxiiError } from '../taxii/errors.js';
import { accessAuditCommands } from './commands/access-audit.js';
import { accountCommands } from './commands/accounts.js';
import { catalogCommands } from './commands/catalog.js';
import { databaseCommands } from './commands/database.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { viewCommands } from './commands/views.js';
import { CliContext, ExitCode, UsageError, type CliOptions } from './context.js';

/**
 * taxii-hub, the operator's command line (bin/taxii-hub.js runs it). It talks
 * to the database directly, configured like the server (DATABASE_URL, or the
 * embedded database under DATA_DIR), and runs the same services as the admin
 * API, audited as "cli:<OS user>".
 *
 * Exit codes: 0 success; 1 failure (one line on stderr); 2 usage error;
 * 3 `import` stored some objects but not all.
 */
export type { CliOptions } from './context.js';

function buildProgram(ctx: CliContext): Command {
  const program = new Command('taxii-hub')
    .description(
      'Operate a taxii-hub server: API roots, collections, organisations, accounts, keys, maturity profiles, imports and exports.\n' +
        'Uses the database of the server configuration: DATABASE_URL, else the embedded database under DATA_DIR\n' +
        '(never while a server runs on the same DATA_DIR: the embedded database serves one process at a time).',
    )
    .option('--json', 'print results as JSON')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void ctx.stdout.write(text),
      writeErr: (text) => void ctx.stderr.write(text),
    });
  program.hook('preAction', (_program, actionCommand) => {
    ctx.json = Boolean(actionCommand.optsWithGlobals<{ json?: boolean }>().json);
  });
  databaseCommands(program, ctx);
  catalogCommands(program, ctx);
  accountCommands(program, ctx);
  viewCommands(program, ctx);
  importCommand(program, ctx);
  exportCommand(program, ctx);
  accessAuditCommands(program, ctx);
  return program;
}

/** One line for an error an operator can act on; the stack only for what looks like a bug. */
function errorLine(error: unknown): string {
  if (error instanceof TaxiiError) return error.description ?? error.title;
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '28P01' || code === '3D000') return `cannot use the database: ${error.message}`;
    if (error instanceof ConfigError) return `configuration: ${error.message}`;
    return error.message || error.name;
  }
  return String(error);
}

/** Runs the command line; returns the exit code (it never exits the process). */
export async function main(argv: readonly string[], options: CliOptions = {}): Promise<number> {
  const ctx = new CliContext(options);
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof ExitCode) return error.code;
    if (error instanceof UsageError) {
      ctx.stderr.write(`error: ${error.message}\n`);
      return 2;
    }
    ctx.stderr.write(`error: ${errorLine(error).replace(/\s*\n\s*/g, ' ')}\n`);
    if (ctx.env.TAXII_HUB_DEBUG && error instanceof Error && error.stack) ctx.stderr.write(`${error.stack}\n`);
    return 1;
  } finally {
    await ctx.close().catch(() => {});
  }
}

/** Run directly (`node dist/src/cli/main.js …`, as in the container image, or `tsx src/cli/main.ts …`). */
function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.exitCode = await main(process.argv.slice(2));

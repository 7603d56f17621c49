import type { Command } from 'commander';
import { migrateToLatest, pendingMigrations } from '../../db/migrate.js';
import { ensureDefaultProfiles } from '../../db/view-policies.js';
import { audit, listAudit } from '../../services/admin/audit.js';
import { applySeed, readSeedFile } from '../../services/provisioning.js';
import { syncViewIndexes } from '../../views/view-index.js';
import { integer } from '../args.js';
import { ExitCode, type CliContext } from '../context.js';
import { table } from '../format.js';

/** `migrate`, `seed` and `audit`: the schema, provisioning, and the trail of operator changes. */
export function databaseCommands(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description('apply pending migrations, then ship the default maturity profiles and view indexes (as the server does at start)')
    .option('--check', 'only list pending migrations; exit code 1 when there are any')
    .action(async (options: { check?: boolean }) => {
      const db = await ctx.db({ checkSchema: false });
      if (options.check) {
        const pending = await pendingMigrations(db);
        ctx.print({ pending }, () => (pending.length > 0 ? `pending: ${pending.join(', ')}` : 'schema is up to date'));
        if (pending.length > 0) throw new ExitCode(1);
        return;
      }
      const applied = await migrateToLatest(db);
      await ensureDefaultProfiles(db);
      const indexes = await syncViewIndexes(db);
      ctx.print({ applied, view_indexes: indexes }, () => (applied.length > 0 ? `applied: ${applied.join(', ')}` : 'schema is up to date'));
    });

  program
    .command('seed')
    .description('apply a provisioning file (YAML or JSON, see README "Provisioning"): creates what is missing, updates what differs')
    .argument('<file>', 'the seed file')
    .action(async (file: string) => {
      const parsed = readSeedFile(file);
      const db = await ctx.db();
      const summary = await applySeed(db, parsed, { scryptCost: ctx.config.scryptCost, env: ctx.env });
      await db.transaction().execute((trx) => audit(trx, ctx.actor, 'seed.apply', { type: 'seed', id: file }, { ...summary }));
      ctx.print({ file, ...summary }, () => `${file}: ${summary.created} created, ${summary.updated} updated, ${summary.unchanged} unchanged`);
    });

  program
    .command('audit')
    .description('the audit trail of operator changes (admin API and command line), newest first')
    .option('--target-type <type>', 'only changes to this kind of thing (api-root, collection, organisation, account, api-key, profile, seed, …)')
    .option('--target-id <id>', 'only changes to this one')
    .option('--limit <n>', 'how many entries', integer(1, 1000), 50)
    .option('--before <id>', 'only entries older than this entry id (paging)', integer(1, Number.MAX_SAFE_INTEGER))
    .action(async (options: { targetType?: string; targetId?: string; limit: number; before?: number }) => {
      const entries = await listAudit(await ctx.db(), {
        limit: options.limit,
        ...(options.targetType ? { targetType: options.targetType } : {}),
        ...(options.targetId ? { targetId: options.targetId } : {}),
        ...(options.before !== undefined ? { beforeId: options.before } : {}),
      });
      ctx.print(entries, () =>
        table(entries, [
          { header: 'id', value: (e) => e.id },
          { header: 'at', value: (e) => e.at },
          { header: 'actor', value: (e) => e.actor },
          { header: 'action', value: (e) => e.action },
          { header: 'target', value: (e) => `${e.target_type}${e.target_id ? ` ${e.target_id}` : ''}` },
          { header: 'details', value: (e) => e.details, max: 100 },
        ], '(no audit entries)'),
      );
    });
}

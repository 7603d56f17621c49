import { type Command, InvalidArgumentError } from 'commander';
import { deliveryRecipients, listDeliveries, listWrites, type AccessAuditFilter } from '../../services/admin/access-audit.js';
import { integer, stixId } from '../args.js';
import { UsageError, type CliContext } from '../context.js';
import { table } from '../format.js';

/**
 * `deliveries` and `writes`: the delivery audit (who received which objects,
 * through which view) and the write log (who stored or deleted them), as the
 * admin API's GET /admin/audit/deliveries and /admin/audit/writes.
 */
function dateTime(value: string): string {
  if (Number.isNaN(new Date(value).getTime())) throw new InvalidArgumentError('not a date-time (e.g. 2026-01-31T12:00:00Z).');
  return value;
}

interface FilterOptions {
  object?: string;
  account?: string;
  organisation?: string;
  collection?: string;
  since?: string;
  until?: string;
  limit: number;
  before?: number;
}

function withFilters(command: Command): Command {
  return command
    .option('--object <stix id>', 'only entries naming this object (and only its versions are shown)', stixId)
    .option('--account <account>', 'only this account (id or user name)')
    .option('--organisation <organisation>', 'only this organisation (id or name)')
    .option('--collection <collection>', 'only this collection (id, alias, or <api root>/<alias>)')
    .option('--since <date-time>', 'only entries at or after this instant', dateTime)
    .option('--until <date-time>', 'only entries before this instant', dateTime)
    .option('--limit <n>', 'how many entries', integer(1, 1000), 50)
    .option('--before <id>', 'only entries older than this entry id (paging)', integer(1, Number.MAX_SAFE_INTEGER));
}

function filterOf(o: FilterOptions): AccessAuditFilter {
  return {
    limit: o.limit,
    ...(o.object ? { object: o.object } : {}),
    ...(o.account ? { account: o.account } : {}),
    ...(o.organisation ? { organisation: o.organisation } : {}),
    ...(o.collection ? { collection: o.collection } : {}),
    ...(o.since ? { since: o.since } : {}),
    ...(o.until ? { until: o.until } : {}),
    ...(o.before !== undefined ? { before: o.before } : {}),
  };
}

const versionsOf = (objects: { id: string; version: string }[], single: boolean) =>
  single ? objects.map((o) => o.version).join(', ') : `${objects.length} object${objects.length === 1 ? '' : 's'}`;

export function accessAuditCommands(program: Command, ctx: CliContext): void {
  withFilters(
    program
      .command('deliveries')
      .description('the delivery audit, newest first: which accounts received which object versions, when, through which view')
      .option('--recipients', 'with --object: one line per account that received it (first and last time, versions, views)'),
  ).action(async (options: FilterOptions & { recipients?: boolean }) => {
    const db = await ctx.db();
    if (options.recipients) {
      if (!options.object) throw new UsageError('--recipients needs --object');
      const { object, limit: _limit, before: _before, ...rest } = filterOf(options);
      const recipients = await deliveryRecipients(db, object!, rest);
      ctx.print(recipients, () =>
        table(recipients, [
          { header: 'organisation', value: (r) => r.organisation.name ?? r.organisation.id },
          { header: 'account', value: (r) => r.account.username },
          { header: 'first', value: (r) => r.first_at },
          { header: 'last', value: (r) => r.last_at },
          { header: 'pages', value: (r) => r.deliveries },
          { header: 'versions', value: (r) => r.versions },
          { header: 'views', value: (r) => r.views },
        ], '(nobody received it, as far as the audit records)'),
      );
      return;
    }
    const entries = await listDeliveries(db, filterOf(options));
    ctx.print(entries, () =>
      table(entries, [
        { header: 'id', value: (e) => e.id },
        { header: 'at', value: (e) => e.at },
        { header: 'organisation', value: (e) => e.organisation.name ?? e.organisation.id },
        { header: 'account', value: (e) => e.account.username },
        { header: 'endpoint', value: (e) => e.endpoint },
        { header: 'view', value: (e) => (e.preview ? `preview ${e.preview}` : e.view ? `${e.view.profile}@${e.view.revision}${e.view.pinned ? ` ∩ ${e.view.pinned.profile}@${e.view.pinned.revision}` : ''}` : 'unfiltered') },
        { header: 'tlp', value: (e) => e.max_tlp },
        { header: options.object ? 'versions' : 'objects', value: (e) => versionsOf(e.objects, Boolean(options.object)), max: 80 },
      ], '(no deliveries recorded)'),
    );
  });

  withFilters(
    program.command('writes').description('the write log, newest first: who stored or deleted which object versions'),
  ).action(async (options: FilterOptions) => {
    const entries = await listWrites(await ctx.db(), filterOf(options));
    ctx.print(entries, () =>
      table(entries, [
        { header: 'id', value: (e) => e.id },
        { header: 'at', value: (e) => e.at },
        { header: 'actor', value: (e) => e.actor },
        { header: 'action', value: (e) => e.action },
        { header: 'collection', value: (e) => e.collection },
        { header: options.object ? 'versions' : 'objects', value: (e) => versionsOf(e.objects, Boolean(options.object)), max: 80 },
        { header: 'stored', value: (e) => e.objects.filter((o) => o.stored !== false).length },
        { header: 'failed', value: (e) => e.failure_count },
      ], '(no writes recorded)'),
    );
  });
}

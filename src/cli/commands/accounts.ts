import type { Command } from 'commander';
import * as accounts from '../../services/admin/accounts.js';
import { keyId, readPassword, username } from '../args.js';
import { UsageError, type CliContext } from '../context.js';
import { record, table } from '../format.js';

/** `accounts` and `keys`: who may connect, with a password or API keys. */
type Account = Awaited<ReturnType<typeof accounts.findAccount>>;
type Key = Awaited<ReturnType<typeof accounts.listApiKeys>>[number];

const accountRecord = (a: Account) =>
  record({ id: a.id, username: a.username, organisation: a.organisation, admin: a.admin, disabled: a.disabled, password: a.has_password ? 'set' : 'none' });

const keyColumns = [
  { header: 'key id', value: (k: Key) => k.key_id },
  { header: 'label', value: (k: Key) => k.label },
  { header: 'created', value: (k: Key) => k.created_at },
  { header: 'revoked', value: (k: Key) => k.revoked_at },
];

const PASSWORD_HELP = 'read the password from this environment variable';
const STDIN_HELP = 'read the password from standard input (one line)';

export function accountCommands(program: Command, ctx: CliContext): void {
  const group = program.command('accounts').description('accounts (an account belongs to one organisation; admin accounts may use the admin API)');
  group
    .command('list')
    .description('list accounts')
    .option('--organisation <organisation>', 'only the accounts of this organisation')
    .action(async (o: { organisation?: string }) => {
      const rows = await accounts.listAccounts(await ctx.db(), o.organisation);
      ctx.print(rows, () =>
        table(rows, [
          { header: 'username', value: (a) => a.username },
          { header: 'organisation', value: (a) => a.organisation },
          { header: 'admin', value: (a) => a.admin },
          { header: 'disabled', value: (a) => a.disabled },
          { header: 'password', value: (a) => (a.has_password ? 'set' : 'none') },
          { header: 'id', value: (a) => a.id },
        ], '(no accounts)'),
      );
    });
  group
    .command('create')
    .description('create an account (a password only from --password-env or --password-stdin, never as an argument)')
    .argument('<username>', 'its user name', username)
    .requiredOption('--organisation <organisation>', 'the organisation it belongs to')
    .option('--password-env <variable>', PASSWORD_HELP)
    .option('--password-stdin', STDIN_HELP)
    .option('--admin', 'may use the admin API and every collection')
    .option('--disabled', 'created disabled')
    .action(async (name: string, o: { organisation: string; passwordEnv?: string; passwordStdin?: boolean; admin?: boolean; disabled?: boolean }) => {
      const password = await readPassword(ctx, o);
      const account = await accounts.createAccount(
        await ctx.db(),
        ctx.actor,
        { username: name, organisation: o.organisation, admin: o.admin ?? false, disabled: o.disabled ?? false, ...(password !== undefined ? { password } : {}) },
        ctx.config.scryptCost,
      );
      ctx.print(account, () => accountRecord(account));
    });
  group
    .command('update')
    .description('change an account: organisation, password, admin, disabled')
    .argument('<account>', 'user name or id')
    .option('--organisation <organisation>', 'move it to this organisation')
    .option('--password-env <variable>', PASSWORD_HELP)
    .option('--password-stdin', STDIN_HELP)
    .option('--remove-password', 'remove its password (API keys only)')
    .option('--admin', 'make it an admin')
    .option('--no-admin', 'make it a plain account')
    .option('--disable', 'disable it (its requests are refused)')
    .option('--enable', 'enable it again')
    .action(async (ref: string, o: { organisation?: string; passwordEnv?: string; passwordStdin?: boolean; removePassword?: boolean; admin?: boolean; disable?: boolean; enable?: boolean }) => {
      if (o.disable && o.enable) throw new UsageError('give --disable or --enable, not both');
      if (o.removePassword && (o.passwordEnv !== undefined || o.passwordStdin)) throw new UsageError('--remove-password cannot come with a new password');
      const password = o.removePassword ? null : await readPassword(ctx, o);
      const changes = {
        ...(o.organisation !== undefined ? { organisation: o.organisation } : {}),
        ...(password !== undefined ? { password } : {}),
        ...(o.admin !== undefined ? { admin: o.admin } : {}),
        ...(o.disable || o.enable ? { disabled: Boolean(o.disable) } : {}),
      };
      if (Object.keys(changes).length === 0) throw new UsageError('nothing to change: give at least one option (see "taxii-hub accounts update --help")');
      const account = await accounts.updateAccount(await ctx.db(), ctx.actor, ref, changes, ctx.config.scryptCost);
      ctx.print(account, () => accountRecord(account));
    });
  group
    .command('delete')
    .description('delete an account and its API keys')
    .argument('<account>', 'user name or id')
    .action(async (ref: string) => {
      const db = await ctx.db();
      const account = await accounts.findAccount(db, ref);
      await accounts.deleteAccount(db, ctx.actor, account.id);
      ctx.print({ deleted: account }, () => `deleted account ${account.username} (${account.id})`);
    });

  const keys = program.command('keys').description("API keys (thk_<key id>_<secret>): a new key is shown once, only the key id afterwards");
  keys
    .command('list')
    .description("list an account's API keys (never their secrets)")
    .argument('<account>', 'user name or id')
    .action(async (ref: string) => {
      const rows = await accounts.listApiKeys(await ctx.db(), ref);
      ctx.print(rows, () => table(rows, keyColumns, '(no API keys)'));
    });
  const showKey = (key: { key: string; key_id: string; account: string; label: string | null }, verb: string) => {
    ctx.print(key, () => `${key.key}\n`);
    if (!ctx.json) ctx.note(`${verb} API key ${key.key_id} for ${key.account}${key.label ? ` (${key.label})` : ''}. This is the only time the key is shown: store it now.`);
  };
  keys
    .command('create')
    .description('create an API key; the key is printed once')
    .argument('<account>', 'user name or id')
    .option('--label <label>', 'what it is for (at most 200 characters)')
    .action(async (ref: string, o: { label?: string }) => {
      if (o.label !== undefined && o.label.length > 200) throw new UsageError('--label has at most 200 characters');
      showKey(await accounts.createApiKey(await ctx.db(), ctx.actor, ref, o.label ?? null, ctx.config.scryptCost), 'created');
    });
  keys
    .command('revoke')
    .description('revoke an API key at once')
    .argument('<key-id>', 'the key id (24 hexadecimal digits after "thk_")', keyId)
    .action(async (id: string) => {
      const key = await accounts.revokeApiKey(await ctx.db(), ctx.actor, id);
      ctx.print(key, () => `revoked API key ${key.key_id} of ${key.account} at ${key.revoked_at}`);
    });
  keys
    .command('rotate')
    .description('revoke an API key and create its replacement (same account and label), printed once')
    .argument('<key-id>', 'the key id (24 hexadecimal digits after "thk_")', keyId)
    .action(async (id: string) => {
      showKey(await accounts.rotateApiKey(await ctx.db(), ctx.actor, id, ctx.config.scryptCost), `revoked ${id}; created`);
    });
}

import { Option, type Command } from 'commander';
import * as views from '../../services/admin/views.js';
import { integer, profileId, readPolicyFile, resolveCollection, stixId } from '../args.js';
import { UsageError, type CliContext } from '../context.js';
import { cell, record, table } from '../format.js';

/** `profiles`, `bind`, `grants` and `preview`: the maturity views. */
type Profile = Awaited<ReturnType<typeof views.getProfile>>;
type Binding = Awaited<ReturnType<typeof views.getBinding>>;

function profileText(p: Profile): string {
  return [
    record({ id: p.id, name: p.name, level: p.level, revision: p.revision, 'organisations ever bound': p.organisations_ever_bound }),
    '',
    'policy:',
    JSON.stringify(p.policy, null, 2),
    '',
    table(p.revisions, [
      { header: 'revision', value: (r) => r.revision },
      { header: 'created', value: (r) => r.created_at },
      { header: 'by', value: (r) => r.created_by },
    ]),
  ].join('\n');
}

function bindingText(b: Binding): string {
  return [
    record({ organisation: b.organisation, 'organisation id': b.organisation_id, profile: b.profile ?? '(none: it reads nothing)' }),
    ...(b.history.length > 0 ? ['', table(b.history, [{ header: 'profile', value: (h) => h.profile }, { header: 'effective from', value: (h) => h.effective_from }])] : []),
  ].join('\n');
}

const countsTable = (counts: Record<string, number>, header: string) =>
  table(
    Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)),
    [{ header, value: ([k]) => k }, { header: 'objects', value: ([, n]) => n }],
  );

export function viewCommands(program: Command, ctx: CliContext): void {
  // --- profiles ------------------------------------------------------------------
  const profiles = program.command('profiles').description('maturity profiles: what a reader bound to one receives (policy files: schemas/views/policy.json)');
  profiles
    .command('list')
    .description('list profiles with their current revision')
    .action(async () => {
      const rows = await views.listProfiles(await ctx.db());
      ctx.print(rows, () =>
        table(rows, [
          { header: 'id', value: (p) => p.id },
          { header: 'name', value: (p) => p.name },
          { header: 'level', value: (p) => p.level },
          { header: 'revision', value: (p) => p.revision },
          { header: 'revised', value: (p) => p.revised_at },
          { header: 'tlp ceiling', value: (p) => p.policy.tlp_ceiling },
        ], '(no profiles: run "taxii-hub migrate" to ship L1-L4)'),
      );
    });
  profiles
    .command('show')
    .description('a profile, its policy and its revision history')
    .argument('<profile>', 'profile id')
    .action(async (id: string) => {
      const profile = await views.getProfile(await ctx.db(), id);
      ctx.print(profile, () => profileText(profile));
    });
  profiles
    .command('create')
    .description('create a profile from a policy file, or as a copy of another profile')
    .argument('<id>', 'its id', profileId)
    .requiredOption('--name <name>', 'its name')
    .option('--level <level>', 'the maturity level it stands for (a label)')
    .option('--file <policy.json>', 'the policy (JSON or YAML)')
    .option('--copy-of <profile>', "start from this profile's current policy")
    .action(async (id: string, o: { name: string; level?: string; file?: string; copyOf?: string }) => {
      if ((o.file === undefined) === (o.copyOf === undefined)) throw new UsageError('give --file <policy.json> or --copy-of <profile> (one of them)');
      const policy = o.file !== undefined ? await readPolicyFile(o.file) : undefined;
      const profile = await views.createProfile(await ctx.db(), ctx.actor, {
        id,
        name: o.name,
        level: o.level ?? null,
        ...(policy !== undefined ? { policy } : {}),
        ...(o.copyOf !== undefined ? { copy_of: o.copyOf } : {}),
      });
      ctx.print(profile, () => profileText(profile));
    });
  profiles
    .command('edit')
    .description('edit a profile: a changed policy becomes a new revision, applied to its readers from their next request')
    .argument('<profile>', 'profile id')
    .option('--file <policy.json>', 'the new policy, whole (JSON or YAML)')
    .option('--name <name>', 'new name')
    .option('--level <level>', 'new level label')
    .option('--no-level', 'remove the level label')
    .action(async (id: string, o: { file?: string; name?: string; level?: string | false }) => {
      const changes = {
        ...(o.file !== undefined ? { policy: await readPolicyFile(o.file) } : {}),
        ...(o.name !== undefined ? { name: o.name } : {}),
        ...(o.level !== undefined ? { level: o.level === false ? null : o.level } : {}),
      };
      if (Object.keys(changes).length === 0) throw new UsageError('nothing to change: give --file, --name or --level');
      const profile = await views.editProfile(await ctx.db(), ctx.actor, id, changes);
      ctx.print(profile, () => profileText(profile));
    });

  // --- bindings ------------------------------------------------------------------
  program
    .command('bind')
    .description("bind an organisation to a profile from now on (without a profile: show the organisation's binding)")
    .argument('<organisation>', 'organisation name or id')
    .argument('[profile]', 'profile id')
    .action(async (organisation: string, profile: string | undefined) => {
      const db = await ctx.db();
      const binding = profile === undefined ? await views.getBinding(db, organisation) : await views.setBinding(db, ctx.actor, organisation, profile);
      ctx.print(binding, () => bindingText(binding));
    });

  // --- grants ----------------------------------------------------------------------
  const grants = program.command('grants').description('grants: an object made visible to one organisation whatever its profile (the only way to TLP:RED)');
  grants
    .command('list')
    .description('grants of a collection')
    .argument('<collection>', 'id, alias or <api root>/<alias>')
    .action(async (ref: string) => {
      const db = await ctx.db();
      const rows = await views.listGrants(db, await resolveCollection(db, ref));
      ctx.print(rows, () =>
        table(rows, [
          { header: 'object', value: (g) => g.object },
          { header: 'organisation', value: (g) => g.organisation },
          { header: 'granted', value: (g) => g.granted_at },
        ], '(no grants)'),
      );
    });
  grants
    .command('add')
    .description('grant an object to an organisation')
    .argument('<collection>', 'id, alias or <api root>/<alias>')
    .argument('<object>', 'STIX id', stixId)
    .argument('<organisation>', 'organisation name or id')
    .action(async (ref: string, object: string, organisation: string) => {
      const db = await ctx.db();
      const grant = await views.addGrant(db, ctx.actor, await resolveCollection(db, ref), object, organisation);
      ctx.print(grant, () => `granted ${grant.object} to ${grant.organisation}`);
    });
  grants
    .command('remove')
    .description('withdraw a grant')
    .argument('<collection>', 'id, alias or <api root>/<alias>')
    .argument('<object>', 'STIX id', stixId)
    .argument('<organisation>', 'organisation name or id')
    .action(async (ref: string, object: string, organisation: string) => {
      const db = await ctx.db();
      const id = await resolveCollection(db, ref);
      await views.removeGrant(db, ctx.actor, id, object, organisation);
      ctx.print({ collection: id, object, organisation, removed: true }, () => `withdrew the grant of ${object} to ${organisation}`);
    });

  // --- preview ---------------------------------------------------------------------
  program
    .command('preview')
    .description("what an organisation (or any holder of a profile) sees in a collection: counts by type and TLP, and the first objects")
    .argument('<collection>', 'id, alias or <api root>/<alias>')
    .addOption(new Option('--organisation <organisation>', 'the view of this organisation (its binding and grants)').conflicts('profile'))
    .addOption(new Option('--profile <profile>', 'the view of this profile alone'))
    .option('--limit <n>', 'how many objects to list', integer(1, 1000), 20)
    .action(async (ref: string, o: { organisation?: string; profile?: string; limit: number }) => {
      if (o.organisation === undefined && o.profile === undefined) throw new UsageError('give --organisation <organisation> or --profile <profile>');
      const db = await ctx.db();
      const subject = o.organisation !== undefined ? { organisation: o.organisation } : { profile: o.profile! };
      const preview = await views.previewView(db, await resolveCollection(db, ref), subject, o.limit);
      ctx.print(preview, () => {
        const who = o.organisation !== undefined ? `organisation ${o.organisation}` : `profile ${o.profile}`;
        if (!preview.view) return `${who} on ${preview.collection}: ${'reason' in preview ? preview.reason : 'no view'}`;
        const v = preview.view;
        const lines = [
          `${who} on ${preview.collection}: profile ${v.profile} revision ${v.revision}${v.pinned ? `, pinned ${v.pinned.profile} revision ${v.pinned.revision}` : ''}`,
          `visible objects: ${cell(preview.counts.total)}`,
        ];
        if (preview.counts.total > 0) {
          lines.push('', countsTable(preview.counts.by_type, 'type'), '', countsTable(preview.counts.by_tlp, 'tlp'), '', `first ${preview.objects.length}:`);
          lines.push(
            table(preview.objects as Record<string, unknown>[], [
              { header: 'id', value: (x) => x.id },
              { header: 'name', value: (x) => x.name ?? x.pattern, max: 60 },
              { header: 'modified', value: (x) => x.modified ?? x.created },
            ]),
          );
        }
        return lines.join('\n');
      });
    });
}

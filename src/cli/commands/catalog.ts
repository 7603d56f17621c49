import { Option, type Command } from 'commander';
import * as catalog from '../../services/admin/catalog.js';
import type { TlpLevel } from '../../stix/tlp.js';
import { alias, apiRootId, collectMediaType, integer, organisationName, profileId, resolveCollection, TLP_LEVELS, uuid, uuidV4 } from '../args.js';
import { UsageError, type CliContext } from '../context.js';
import { record, table } from '../format.js';

/** `api-roots`, `collections` and `organisations`: what the server offers, and who may use it. */
type ApiRoot = Awaited<ReturnType<typeof catalog.getApiRoot>>;
type Collection = Awaited<ReturnType<typeof catalog.getCollection>>;

const apiRootRecord = (r: ApiRoot) =>
  record({ id: r.id, title: r.title, description: r.description, 'max content length': r.max_content_length, default: r.default });

const collectionRecord = (c: Collection) =>
  record({
    id: c.id,
    'api root': c.api_root,
    alias: c.alias,
    title: c.title,
    description: c.description,
    'media types': c.media_types,
    'default TLP': c.default_tlp,
    'default confidence': c.default_confidence,
    'pinned profile': c.pinned_profile,
  });

/** Options whose "--no-x" form clears the value (null); absent = unchanged. */
const cleared = <T>(value: T | false | undefined): T | null | undefined => (value === false ? null : value);

function requireChanges(changes: Record<string, unknown>, what: string): void {
  if (Object.values(changes).every((v) => v === undefined)) throw new UsageError(`nothing to change: give at least one option (see "taxii-hub ${what} --help")`);
}

const defined = <T extends Record<string, unknown>>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

export function catalogCommands(program: Command, ctx: CliContext): void {
  // --- API roots -------------------------------------------------------------
  const roots = program.command('api-roots').description('API roots: the TAXII base paths (/<id>/)');
  roots
    .command('list')
    .description('list API roots')
    .action(async () => {
      const rows = await catalog.listApiRoots(await ctx.db());
      ctx.print(rows, () =>
        table(rows, [
          { header: 'id', value: (r) => r.id },
          { header: 'title', value: (r) => r.title },
          { header: 'default', value: (r) => r.default },
          { header: 'max content length', value: (r) => r.max_content_length },
          { header: 'description', value: (r) => r.description, max: 60 },
        ], '(no API roots)'),
      );
    });
  roots
    .command('create')
    .description('create an API root')
    .argument('<id>', 'its id, also its path: /<id>/', apiRootId)
    .requiredOption('--title <title>', 'its title')
    .option('--description <text>', 'its description')
    .option('--max-content-length <bytes>', 'largest POST body (default MAX_CONTENT_LENGTH)', integer(1024, 1073741824))
    .option('--default', 'make it the default API root of discovery')
    .action(async (id: string, o: { title: string; description?: string; maxContentLength?: number; default?: boolean }) => {
      const root = await catalog.createApiRoot(
        await ctx.db(),
        ctx.actor,
        { id, title: o.title, ...defined({ description: o.description, max_content_length: o.maxContentLength, default: o.default }) },
        ctx.config.defaultMaxContentLength,
      );
      ctx.print(root, () => apiRootRecord(root));
    });
  roots
    .command('update')
    .description('change an API root')
    .argument('<id>', 'the API root')
    .option('--title <title>', 'new title')
    .option('--description <text>', 'new description')
    .option('--no-description', 'remove the description')
    .option('--max-content-length <bytes>', 'largest POST body', integer(1024, 1073741824))
    .option('--default', 'make it the default API root')
    .option('--no-default', 'stop it being the default')
    .action(async (id: string, o: { title?: string; description?: string | false; maxContentLength?: number; default?: boolean }) => {
      const changes = { title: o.title, description: cleared(o.description), max_content_length: o.maxContentLength, default: o.default };
      requireChanges(changes, 'api-roots update');
      const root = await catalog.updateApiRoot(await ctx.db(), ctx.actor, id, defined(changes));
      ctx.print(root, () => apiRootRecord(root));
    });
  roots
    .command('delete')
    .description('delete an API root (it must hold no collection)')
    .argument('<id>', 'the API root')
    .action(async (id: string) => {
      await catalog.deleteApiRoot(await ctx.db(), ctx.actor, id);
      ctx.print({ deleted: id }, () => `deleted API root ${id}`);
    });

  // --- collections -------------------------------------------------------------
  const collections = program.command('collections').description('collections, their view settings and permissions (a collection is named by id, alias, or <api root>/<alias>)');
  const tlpOption = (flags: string) => new Option(flags, 'TLP assumed for objects without a TLP marking').choices(TLP_LEVELS);
  collections
    .command('list')
    .description('list collections')
    .option('--api-root <id>', 'only those of this API root')
    .action(async (o: { apiRoot?: string }) => {
      const rows = await catalog.listCollections(await ctx.db(), o.apiRoot);
      ctx.print(rows, () =>
        table(rows, [
          { header: 'id', value: (c) => c.id },
          { header: 'api root', value: (c) => c.api_root },
          { header: 'alias', value: (c) => c.alias },
          { header: 'title', value: (c) => c.title, max: 40 },
          { header: 'stix', value: (c) => c.media_types.map((m) => m.replace(/^.*version=/, '')) },
          { header: 'default tlp', value: (c) => c.default_tlp },
          { header: 'default confidence', value: (c) => c.default_confidence },
          { header: 'pinned profile', value: (c) => c.pinned_profile },
        ], '(no collections)'),
      );
    });
  collections
    .command('create')
    .description('create a collection')
    .requiredOption('--api-root <id>', 'the API root it belongs to')
    .requiredOption('--title <title>', 'its title')
    .option('--id <uuid>', 'its id (a UUIDv4; generated when absent)', uuidV4)
    .option('--alias <alias>', 'a name usable instead of the id in URLs', alias)
    .option('--description <text>', 'its description')
    .option('--media-type <type>', 'accepted STIX version: 2.1 (default) or 2.0; repeat for both', collectMediaType)
    .addOption(tlpOption('--default-tlp <level>'))
    .option('--default-confidence <n>', 'confidence assumed for objects without one', integer(0, 100))
    .option('--pinned-profile <profile>', 'a profile every reader of the collection is also limited by', profileId)
    .action(async (o: { apiRoot: string; title: string; id?: string; alias?: string; description?: string; mediaType?: string[]; defaultTlp?: TlpLevel | 'white'; defaultConfidence?: number; pinnedProfile?: string }) => {
      const collection = await catalog.createCollection(await ctx.db(), ctx.actor, {
        api_root: o.apiRoot,
        title: o.title,
        ...defined({
          id: o.id,
          alias: o.alias,
          description: o.description,
          media_types: o.mediaType,
          default_tlp: o.defaultTlp,
          default_confidence: o.defaultConfidence,
          pinned_profile: o.pinnedProfile,
        }),
      });
      ctx.print(collection, () => collectionRecord(collection));
    });
  collections
    .command('update')
    .description("change a collection, its default TLP and confidence, or its pinned profile")
    .argument('<collection>', 'id, alias or <api root>/<alias>')
    .option('--title <title>', 'new title')
    .option('--alias <alias>', 'new alias', alias)
    .option('--no-alias', 'remove the alias')
    .option('--description <text>', 'new description')
    .option('--no-description', 'remove the description')
    .option('--media-type <type>', 'accepted STIX versions (replaces the list): 2.1 or 2.0; repeat for both', collectMediaType)
    .addOption(tlpOption('--default-tlp <level>'))
    .option('--default-confidence <n>', 'confidence assumed for objects without one', integer(0, 100))
    .option('--no-default-confidence', 'no default confidence')
    .option('--pinned-profile <profile>', 'pin a profile', profileId)
    .option('--no-pinned-profile', 'unpin the profile')
    .action(async (ref: string, o: { title?: string; alias?: string | false; description?: string | false; mediaType?: string[]; defaultTlp?: TlpLevel | 'white'; defaultConfidence?: number | false; pinnedProfile?: string | false }) => {
      const changes = {
        title: o.title,
        alias: cleared(o.alias),
        description: cleared(o.description),
        media_types: o.mediaType,
        default_tlp: o.defaultTlp,
        default_confidence: cleared(o.defaultConfidence),
        pinned_profile: cleared(o.pinnedProfile),
      };
      requireChanges(changes, 'collections update');
      const db = await ctx.db();
      const collection = await catalog.updateCollection(db, ctx.actor, await resolveCollection(db, ref), defined(changes));
      ctx.print(collection, () => collectionRecord(collection));
    });
  collections
    .command('delete')
    .description('delete a collection and every object in it')
    .argument('<collection>', 'id, alias or <api root>/<alias>')
    .action(async (ref: string) => {
      const db = await ctx.db();
      const id = await resolveCollection(db, ref);
      await catalog.deleteCollection(db, ctx.actor, id);
      ctx.print({ deleted: id }, () => `deleted collection ${id}`);
    });
  collections
    .command('permissions')
    .description('organisations with rights on a collection')
    .argument('<collection>', 'id, alias or <api root>/<alias>')
    .action(async (ref: string) => {
      const db = await ctx.db();
      const rows = await catalog.listPermissions(db, await resolveCollection(db, ref));
      ctx.print(rows, () =>
        table(rows, [
          { header: 'organisation', value: (p) => p.organisation },
          { header: 'read', value: (p) => p.read },
          { header: 'write', value: (p) => p.write },
          { header: 'organisation id', value: (p) => p.organisation_id },
        ], '(no organisation has rights on it)'),
      );
    });
  collections
    .command('grant-permission')
    .description("set an organisation's rights on a collection (without --read or --write it may see the collection but not use it)")
    .argument('<collection>', 'id, alias or <api root>/<alias>')
    .argument('<organisation>', 'organisation name or id')
    .option('--read', 'may read objects')
    .option('--write', 'may add objects')
    .action(async (ref: string, organisation: string, o: { read?: boolean; write?: boolean }) => {
      const db = await ctx.db();
      const permission = await catalog.setPermission(db, ctx.actor, await resolveCollection(db, ref), organisation, { read: o.read ?? false, write: o.write ?? false });
      ctx.print(permission, () => `${permission.organisation}: read ${permission.read ? 'yes' : 'no'}, write ${permission.write ? 'yes' : 'no'}`);
    });
  collections
    .command('revoke-permission')
    .description("remove an organisation's rights on a collection")
    .argument('<collection>', 'id, alias or <api root>/<alias>')
    .argument('<organisation>', 'organisation name or id')
    .action(async (ref: string, organisation: string) => {
      const db = await ctx.db();
      const id = await resolveCollection(db, ref);
      await catalog.removePermission(db, ctx.actor, id, organisation);
      ctx.print({ collection: id, organisation, removed: true }, () => `removed the rights of ${organisation} on ${id}`);
    });

  // --- organisations -------------------------------------------------------------
  const organisations = program.command('organisations').description('organisations: who accounts belong to, and whom permissions, bindings and grants name');
  organisations
    .command('list')
    .description('list organisations')
    .action(async () => {
      const rows = await catalog.listOrganisations(await ctx.db());
      ctx.print(rows, () => table(rows, [{ header: 'name', value: (o) => o.name }, { header: 'id', value: (o) => o.id }], '(no organisations)'));
    });
  organisations
    .command('create')
    .description('create an organisation')
    .argument('<name>', 'its name', organisationName)
    .option('--id <uuid>', 'its id (generated when absent)', uuid)
    .action(async (name: string, o: { id?: string }) => {
      const org = await catalog.createOrganisation(await ctx.db(), ctx.actor, { name, ...defined({ id: o.id }) });
      ctx.print(org, () => record(org));
    });
  organisations
    .command('rename')
    .description('rename an organisation')
    .argument('<organisation>', 'name or id')
    .argument('<new-name>', 'the new name', organisationName)
    .action(async (organisation: string, name: string) => {
      const org = await catalog.renameOrganisation(await ctx.db(), ctx.actor, organisation, name);
      ctx.print(org, () => record(org));
    });
  organisations
    .command('delete')
    .description('delete an organisation and its accounts')
    .argument('<organisation>', 'name or id')
    .action(async (organisation: string) => {
      const db = await ctx.db();
      const org = await catalog.findOrganisation(db, organisation);
      await catalog.deleteOrganisation(db, ctx.actor, org.id);
      ctx.print({ deleted: org }, () => `deleted organisation ${org.name} (${org.id})`);
    });
}

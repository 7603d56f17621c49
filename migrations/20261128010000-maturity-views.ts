import { sql, type Kysely } from 'kysely';

/**
 * The maturity-aware view layer (shared/docs/maturity-design.md): what each
 * stored version says about itself (analysed at ingest, indexed), maturity
 * profiles with their revisions, bindings of organisations to profiles,
 * grants, confidence defaults, and the view epochs that give policy changes a
 * date_added of their own (design rules 7 and 8).
 */
const statements = [
  // Analysis of each version (design "STIX analysis at ingest").
  `alter table object_versions
     add column tlp smallint,                 -- 0 clear/white, 1 green, 2 amber, 3 amber+strict, 4 red; null: unmarked
     add column confidence smallint,
     add column revoked boolean not null default false,
     add column valid_until bigint,           -- µs, indicators
     add column created_by_ref text,
     add column pattern_type text,
     add column pattern_class text,           -- atomic | disjunctive | complex
     add column observable_paths text[],      -- "<sco type>:<first property>"
     add column indicator_types text[],
     add column relationship_type text,
     add column source_ref text,              -- relationship source_ref, sighting sighting_of_ref
     add column target_ref text,
     add column dep_refs text[],              -- what the version's visibility depends on (rule 5)
     add column closure_refs text[]           -- created_by_ref, marking refs, extension definitions (rule 5 closure)
  `,
  // The references of each version, reversed: which versions depend on an object
  // (kind 'd': endpoints, sighting refs, container refs) or carry it as closure (kind
  // 'c': creator, markings, extension definitions). Equality lookups on a btree, which
  // planners choose even before a table has statistics (an array index may lose to a
  // scan of the collection then).
  `create table object_refs (
     collection_id uuid not null,
     ref text not null,
     kind "char" not null check (kind in ('d', 'c')),
     cseq bigint not null,
     primary key (collection_id, ref, kind, cseq),
     -- No foreign key to the version: a check per reference doubled the cost of
     -- ingest. Deleting versions deletes their references (object-store.ts).
     foreign key (collection_id) references collections (id) on delete cascade
   )`,
  // (The latest version of an object by id is found through the unique
  // (collection_id, stix_id, version_key) index; a view's tier is read in cseq order
  // through the primary key. Fewer indexes keep ingest fast.)

  `alter table collections
     add column default_tlp smallint not null default 2 check (default_tlp between 0 and 4),
     add column default_confidence smallint check (default_confidence between 0 and 100),
     add column pinned_profile_id text`,

  // Indicator limits (views/view-sql.ts): every observable path "<type>:<property>" of a
  // pattern is allowed by its type or by its exact path. A function keeps the view's SQL
  // free of a subquery per use.
  `create function taxii_observables_allowed(paths text[], allowed_types text[], allowed_paths text[])
     returns boolean language sql immutable parallel safe
     as $$ select coalesce(bool_and(split_part(p, ':', 1) = any(allowed_types) or p = any(allowed_paths)), true)
           from unnest(paths) as p $$`,
  `create table maturity_profiles (
     id text primary key check (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
     name text not null,
     level text,
     current_revision integer not null,
     created_at timestamptz not null default now()
   )`,
  `create table maturity_profile_revisions (
     profile_id text not null references maturity_profiles (id) on delete cascade,
     revision integer not null,
     policy jsonb not null,
     created_at timestamptz not null default now(),
     created_by text,
     primary key (profile_id, revision)
   )`,
  `alter table collections add constraint collections_pinned_profile
     foreign key (pinned_profile_id) references maturity_profiles (id)`,

  // organisation → profile; the row with the latest effective_from not in the future applies.
  `create table organisation_bindings (
     organisation_id uuid not null references organisations (id) on delete cascade,
     profile_id text not null references maturity_profiles (id),
     effective_from timestamptz not null,
     created_at timestamptz not null default now(),
     primary key (organisation_id, effective_from)
   )`,

  // Need-to-know access to one object in one collection (the only way to TLP:RED).
  `create table grants (
     collection_id uuid not null references collections (id) on delete cascade,
     stix_id text not null,
     organisation_id uuid not null references organisations (id) on delete cascade,
     granted_us bigint not null,
     created_at timestamptz not null default now(),
     primary key (collection_id, organisation_id, stix_id)
   )`,

  // Default confidence for objects created by an identity that carry none.
  `create table creator_confidence (
     identity_ref text primary key,
     confidence smallint not null check (confidence between 0 and 100)
   )`,

  // A policy change is an event on the collection clock: objects it makes visible
  // carry its date (rule 7), after a block of ticks reserved for them (rule 8).
  `create table view_epochs (
     collection_id uuid not null references collections (id) on delete cascade,
     scope text not null,            -- 'organisation:<id>' | 'profile:<id>' | 'collection'
     epoch_us bigint not null,
     -- The end of the block reserved after epoch_us: versions dated epoch_us + cseq µs lie before it.
     block_end_us bigint not null,
     primary key (collection_id, scope)
   )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    'drop table view_epochs',
    'drop table creator_confidence',
    'drop table grants',
    'drop table organisation_bindings',
    'alter table collections drop constraint collections_pinned_profile',
    'drop table maturity_profile_revisions',
    'drop table maturity_profiles',
    'drop function taxii_observables_allowed',
    'alter table collections drop column default_tlp, drop column default_confidence, drop column pinned_profile_id',
    'drop table object_refs',
    `alter table object_versions drop column tlp, drop column confidence, drop column revoked, drop column valid_until,
       drop column created_by_ref, drop column pattern_type, drop column pattern_class, drop column observable_paths,
       drop column indicator_types, drop column relationship_type, drop column source_ref, drop column target_ref,
       drop column dep_refs, drop column closure_refs`,
  ]) {
    await sql.raw(statement).execute(db);
  }
}

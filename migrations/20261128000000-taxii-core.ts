import { sql, type Kysely } from 'kysely';

/**
 * The TAXII core: API roots, collections, organisations, accounts, API keys,
 * per-organisation permissions, stored object versions and status resources.
 *
 * Times that TAXII exposes (date_added, request_timestamp) are kept as bigint
 * microseconds since the epoch: exact, index-friendly and formatted without
 * loss (JavaScript Date keeps only milliseconds).
 */
const statements = [
  `
    create table server_settings (
      key text primary key,
      value text not null
    )
  `,
  `
    create table api_roots (
      id text primary key check (id ~ '^[A-Za-z0-9][A-Za-z0-9._~-]{0,62}$'),
      title text not null,
      description text,
      max_content_length integer not null check (max_content_length > 0),
      is_default boolean not null default false,
      created_at timestamptz not null default now()
    )
  `,
  `
    create unique index api_roots_one_default on api_roots (is_default) where is_default
  `,
  `
    create table collections (
      id uuid primary key,
      -- Creation order: the stable order of the collections list (TAXII §3.3).
      position bigint generated always as identity,
      api_root_id text not null references api_roots (id) on delete cascade,
      alias text check (alias is null or alias ~ '^[A-Za-z0-9._~-]{1,100}$'),
      title text not null,
      description text,
      media_types text[] not null default array['application/stix+json;version=2.1'],
      -- The clock of this collection: the last date_added handed out (µs). Writers
      -- take it under the row lock, so date_added order is commit order.
      clock_us bigint not null default 0,
      -- The last per-collection sequence number handed out (tie-break key).
      last_cseq bigint not null default 0,
      created_at timestamptz not null default now(),
      unique (api_root_id, alias)
    )
  `,
  `
    create table organisations (
      id uuid primary key,
      name text not null unique,
      created_at timestamptz not null default now()
    )
  `,
  `
    create table accounts (
      id uuid primary key,
      organisation_id uuid not null references organisations (id) on delete cascade,
      username text not null unique,
      password_hash text,
      is_admin boolean not null default false,
      disabled boolean not null default false,
      created_at timestamptz not null default now()
    )
  `,
  `
    create table api_keys (
      id uuid primary key,
      account_id uuid not null references accounts (id) on delete cascade,
      -- The public part of a key ("thk_<key_id>_<secret>"), used to find its hash.
      key_id text not null unique,
      secret_hash text not null,
      label text,
      created_at timestamptz not null default now(),
      revoked_at timestamptz
    )
  `,
  `
    create index api_keys_account on api_keys (account_id)
  `,
  `
    create table collection_permissions (
      organisation_id uuid not null references organisations (id) on delete cascade,
      collection_id uuid not null references collections (id) on delete cascade,
      can_read boolean not null,
      can_write boolean not null,
      primary key (organisation_id, collection_id)
    )
  `,
  `
    create index collection_permissions_collection on collection_permissions (collection_id)
  `,
  `
    -- One row per stored version of a STIX object in a collection.
      create table object_versions (
      collection_id uuid not null references collections (id) on delete cascade,
      cseq bigint not null,
      stix_id text not null,
      stix_type text not null,
      spec_version text not null,
      -- The version string echoed to clients (modified, else created, else the
      -- first date_added for SCOs), and its sortable form: the instant with nine
      -- fractional digits, so that text order is time order.
      version text not null,
      version_key text not null,
      date_added bigint not null,
      first_added bigint not null,
      -- Version selection (TAXII §3.4.1) without window functions on the read
      -- path: among the versions of the object's highest spec_version (the
      -- default of match[spec_version]), the newest and the oldest.
      in_max_spec boolean not null,
      is_latest boolean not null,
      is_first boolean not null,
      -- The object exactly as stored; served as is (never re-serialised).
      body text not null,
      primary key (collection_id, cseq),
      unique (collection_id, stix_id, version_key)
    )
  `,
  `
    create index object_versions_latest_by_date
      on object_versions (collection_id, date_added, cseq) where is_latest
  `,
  `
    create index object_versions_by_date
      on object_versions (collection_id, date_added, cseq)
  `,
  `
    create index object_versions_latest_by_type
      on object_versions (collection_id, stix_type, date_added, cseq) where is_latest
  `,
  `
    create table status_resources (
      id uuid primary key,
      -- Creation order: the stable order of the collections list (TAXII §3.3).
      position bigint generated always as identity,
      api_root_id text not null references api_roots (id) on delete cascade,
      collection_id uuid not null references collections (id) on delete cascade,
      account_id uuid references accounts (id) on delete set null,
      status text not null check (status in ('pending', 'complete')),
      request_timestamp bigint not null,
      total_count integer not null,
      success_count integer not null,
      failure_count integer not null,
      pending_count integer not null,
      successes jsonb,
      failures jsonb,
      pendings jsonb,
      created_at timestamptz not null default now(),
      check (total_count = success_count + failure_count + pending_count)
    )
  `,
  `
    create index status_resources_created on status_resources (created_at)
  `,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  // One statement per call: the embedded database's extended protocol runs one at a time.
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'status_resources', 'object_versions', 'collection_permissions', 'api_keys',
    'accounts', 'organisations', 'collections', 'api_roots', 'server_settings',
  ]) {
    await sql`drop table ${sql.table(table)}`.execute(db);
  }
}

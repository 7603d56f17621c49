import { sql, type Kysely } from 'kysely';

/**
 * Access controls shared by every replica: rate-limit counters (per account
 * and per window, synchronised in batches; failed authentications per source
 * address and per presented user name or key id, written at once), the
 * delivery audit (who received which objects, by id and version, through
 * which view) and the durable write log (who stored or deleted what). The
 * audit tables carry no foreign keys: they outlive the accounts, collections
 * and objects they name.
 */
const statements = [
  `create table rate_limit_counters (
     key text not null,               -- 'req:acct:<id>', 'req:ip:<addr>', 'auth:ip:<addr>', 'auth:user:<name>', 'auth:key:<key id>'
     window_start bigint not null,    -- ms since the epoch, a multiple of the window length
     count integer not null,
     primary key (key, window_start)
   )`,
  `create index rate_limit_counters_window on rate_limit_counters (window_start)`,

  // One row per response page (not per object): the ids and versions served, in order.
  `create table delivery_audit (
     id bigint generated always as identity primary key,
     at timestamptz not null,
     account_id uuid not null,
     username text not null,
     organisation_id uuid not null,
     api_root_id text not null,
     collection_id uuid not null,
     endpoint text not null check (endpoint in ('objects', 'object', 'versions', 'manifest')),
     profile_id text,                 -- the reader's maturity profile and revision; null for operators (unfiltered)
     profile_revision integer,
     pinned_profile_id text,          -- the collection's pinned profile, when the view was intersected with it
     pinned_revision integer,
     preview text,                    -- an operator's preview: 'organisation:<id>' or 'profile:<id>'
     stix_ids text[] not null,
     versions text[] not null,        -- versions[i] is the version of stix_ids[i]
     max_tlp smallint,                -- the highest effective TLP of the page (0 clear … 4 red)
     granted_ids text[],              -- ids of the page served through a grant to the reader's organisation
     client_ip text,
     request_id text
   )`,
  // "Who received X": stix_ids @> array[X].
  `create index delivery_audit_stix_ids on delivery_audit using gin (stix_ids)`,
  `create index delivery_audit_at on delivery_audit (at)`,
  `create index delivery_audit_account on delivery_audit (account_id, id)`,
  `create index delivery_audit_organisation on delivery_audit (organisation_id, id)`,
  `create index delivery_audit_collection on delivery_audit (collection_id, id)`,

  // Written in the transaction that stores (or deletes) the objects.
  `create table write_audit (
     id bigint generated always as identity primary key,
     at timestamptz not null default clock_timestamp(),
     action text not null check (action in ('add', 'delete')),
     actor text not null,             -- 'account:<username>' or 'cli:<os user>'
     account_id uuid,
     organisation_id uuid,
     api_root_id text not null,
     collection_id uuid not null,
     status_id uuid,                  -- the status resource of an Add Objects request
     stix_ids text[] not null,
     versions text[] not null,
     stored boolean[] not null,       -- add: false when that id and version was already stored
     failure_count integer not null default 0,
     client_ip text,
     request_id text
   )`,
  `create index write_audit_stix_ids on write_audit using gin (stix_ids)`,
  `create index write_audit_at on write_audit (at)`,
  `create index write_audit_account on write_audit (account_id, id)`,
  `create index write_audit_collection on write_audit (collection_id, id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of ['drop table write_audit', 'drop table delivery_audit', 'drop table rate_limit_counters']) {
    await sql.raw(statement).execute(db);
  }
}

import type { ColumnType, Generated } from 'kysely';

/** Table types for Kysely; they mirror migrations/ (keep the two in step). */
export interface ServerSettingsTable {
  key: string;
  value: string;
}

export interface ApiRootsTable {
  id: string;
  title: string;
  description: string | null;
  max_content_length: number;
  is_default: Generated<boolean>;
  created_at: Generated<Date>;
}

export interface CollectionsTable {
  id: string;
  position: Generated<number>;
  api_root_id: string;
  alias: string | null;
  title: string;
  description: string | null;
  media_types: string[];
  clock_us: Generated<number>;
  last_cseq: Generated<number>;
  created_at: Generated<Date>;
  default_tlp: Generated<number>;
  default_confidence: number | null;
  pinned_profile_id: string | null;
}

export interface OrganisationsTable {
  id: string;
  name: string;
  created_at: Generated<Date>;
}

export interface AccountsTable {
  id: string;
  organisation_id: string;
  username: string;
  password_hash: string | null;
  is_admin: Generated<boolean>;
  disabled: Generated<boolean>;
  created_at: Generated<Date>;
}

export interface ApiKeysTable {
  id: string;
  account_id: string;
  key_id: string;
  secret_hash: string;
  label: string | null;
  created_at: Generated<Date>;
  revoked_at: Date | null;
}

export interface CollectionPermissionsTable {
  organisation_id: string;
  collection_id: string;
  can_read: boolean;
  can_write: boolean;
}

export interface ObjectVersionsTable {
  collection_id: string;
  cseq: number;
  stix_id: string;
  stix_type: string;
  spec_version: string;
  version: string;
  version_key: string;
  date_added: number;
  first_added: number;
  in_max_spec: boolean;
  is_latest: boolean;
  is_first: boolean;
  body: string;
  tlp: number | null;
  confidence: number | null;
  revoked: Generated<boolean>;
  valid_until: number | null;
  created_by_ref: string | null;
  pattern_type: string | null;
  pattern_class: string | null;
  observable_paths: string[] | null;
  indicator_types: string[] | null;
  relationship_type: string | null;
  source_ref: string | null;
  target_ref: string | null;
  dep_refs: string[] | null;
  closure_refs: string[] | null;
}

type Json = ColumnType<unknown, string | null, string | null>;

export interface StatusResourcesTable {
  id: string;
  api_root_id: string;
  collection_id: string;
  account_id: string | null;
  status: 'pending' | 'complete';
  request_timestamp: number;
  total_count: number;
  success_count: number;
  failure_count: number;
  pending_count: number;
  successes: Json;
  failures: Json;
  pendings: Json;
  created_at: Generated<Date>;
}

export interface MaturityProfilesTable {
  id: string;
  name: string;
  level: string | null;
  current_revision: number;
  created_at: Generated<Date>;
}

export interface MaturityProfileRevisionsTable {
  profile_id: string;
  revision: number;
  policy: ColumnType<unknown, string, string>;
  created_at: Generated<Date>;
  created_by: string | null;
}

export interface OrganisationBindingsTable {
  organisation_id: string;
  profile_id: string;
  effective_from: ColumnType<Date, Date | string, Date | string>;
  created_at: Generated<Date>;
}

export interface GrantsTable {
  collection_id: string;
  stix_id: string;
  organisation_id: string;
  granted_us: number;
  created_at: Generated<Date>;
}

export interface CreatorConfidenceTable {
  identity_ref: string;
  confidence: number;
}

export interface ObjectRefsTable {
  collection_id: string;
  ref: string;
  kind: 'd' | 'c';
  cseq: number;
}

export interface ViewEpochsTable {
  collection_id: string;
  scope: string;
  epoch_us: number;
  block_end_us: number;
}

export interface AdminAuditTable {
  id: Generated<number>;
  at: Generated<Date>;
  actor: string;
  action: string;
  target_type: string;
  target_id: string | null;
  details: ColumnType<unknown, string | null, string | null>;
}

export interface RateLimitCountersTable {
  key: string;
  window_start: number;
  count: number;
}

export interface DeliveryAuditTable {
  id: Generated<number>;
  at: ColumnType<Date, Date | string, Date | string>;
  account_id: string;
  username: string;
  organisation_id: string;
  api_root_id: string;
  collection_id: string;
  endpoint: 'objects' | 'object' | 'versions' | 'manifest';
  profile_id: string | null;
  profile_revision: number | null;
  pinned_profile_id: string | null;
  pinned_revision: number | null;
  preview: string | null;
  stix_ids: string[];
  versions: string[];
  max_tlp: number | null;
  granted_ids: string[] | null;
  client_ip: string | null;
  request_id: string | null;
}

export interface WriteAuditTable {
  id: Generated<number>;
  at: Generated<Date>;
  action: 'add' | 'delete';
  actor: string;
  account_id: string | null;
  organisation_id: string | null;
  api_root_id: string;
  collection_id: string;
  status_id: string | null;
  stix_ids: string[];
  versions: string[];
  stored: boolean[];
  failure_count: Generated<number>;
  client_ip: string | null;
  request_id: string | null;
}

export interface Tables {
  admin_audit: AdminAuditTable;
  rate_limit_counters: RateLimitCountersTable;
  delivery_audit: DeliveryAuditTable;
  write_audit: WriteAuditTable;
  maturity_profiles: MaturityProfilesTable;
  maturity_profile_revisions: MaturityProfileRevisionsTable;
  organisation_bindings: OrganisationBindingsTable;
  grants: GrantsTable;
  creator_confidence: CreatorConfidenceTable;
  view_epochs: ViewEpochsTable;
  object_refs: ObjectRefsTable;
  server_settings: ServerSettingsTable;
  api_roots: ApiRootsTable;
  collections: CollectionsTable;
  organisations: OrganisationsTable;
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  collection_permissions: CollectionPermissionsTable;
  object_versions: ObjectVersionsTable;
  status_resources: StatusResourcesTable;
}

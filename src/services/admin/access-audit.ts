import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../db/database.js';
import { tlpName } from '../../stix/tlp.js';
import { badRequest, notFound } from '../../taxii/errors.js';
import { findOrganisation } from './catalog.js';

/**
 * The operator's questions to the delivery audit and the write log
 * (services/delivery-audit.ts): who received an object, when, through which
 * view; who stored or deleted it. Shared by the admin API (GET
 * /admin/audit/deliveries, /admin/audit/deliveries/recipients,
 * /admin/audit/writes) and the command line (`deliveries`, `writes`).
 */
export interface AccessAuditFilter {
  /** A STIX id: only entries naming it (and only its entries are listed in them). */
  object?: string | undefined;
  /** An account id or user name (as it was when recorded). */
  account?: string | undefined;
  /** An organisation id or current name. */
  organisation?: string | undefined;
  /** A collection id, alias, or <api root>/<alias>. */
  collection?: string | undefined;
  /** ISO 8601 date-times: since ≤ at < until. */
  since?: string | undefined;
  until?: string | undefined;
  limit: number;
  /** Only entries older than this id (paging, newest first). */
  before?: number | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function instant(value: string, name: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw badRequest(`${name} is not a date-time: "${value}".`);
  return date;
}

async function collectionIds(db: Db, ref: string): Promise<string[]> {
  if (UUID.test(ref)) return [ref.toLowerCase()];
  const slash = ref.indexOf('/');
  let query = db.selectFrom('collections').select('id').where('alias', '=', slash > 0 ? ref.slice(slash + 1) : ref);
  if (slash > 0) query = query.where('api_root_id', '=', ref.slice(0, slash));
  const rows = await query.execute();
  if (rows.length === 0) throw notFound(`The collection ${ref}`);
  return rows.map((r) => r.id);
}

type AuditTable = 'delivery_audit' | 'write_audit';

/** The filter as conditions on either table (both have these columns; the write log names accounts by actor). */
async function conditions(db: Db, filter: AccessAuditFilter, table: AuditTable): Promise<RawBuilder<boolean>[]> {
  const col = (name: string) => sql.ref(`${table}.${name}`);
  const where: RawBuilder<boolean>[] = [];
  if (filter.object) where.push(sql<boolean>`${col('stix_ids')} @> array[${filter.object}]::text[]`);
  if (filter.account) {
    const account = filter.account;
    const byName = table === 'delivery_audit' ? sql<boolean>`${col('username')} = ${account}` : sql<boolean>`${col('actor')} in (${`account:${account}`}, ${account})`;
    where.push(UUID.test(account) ? sql<boolean>`(${col('account_id')} = ${account.toLowerCase()}::uuid or ${byName})` : byName);
  }
  if (filter.organisation) {
    const id = UUID.test(filter.organisation) ? filter.organisation.toLowerCase() : (await findOrganisation(db, filter.organisation)).id;
    where.push(sql<boolean>`${col('organisation_id')} = ${id}::uuid`);
  }
  if (filter.collection) where.push(sql<boolean>`${col('collection_id')} = any(${await collectionIds(db, filter.collection)}::uuid[])`);
  if (filter.since) where.push(sql<boolean>`${col('at')} >= ${instant(filter.since, 'since')}`);
  if (filter.until) where.push(sql<boolean>`${col('at')} < ${instant(filter.until, 'until')}`);
  if (filter.before !== undefined) where.push(sql<boolean>`${col('id')} < ${filter.before}`);
  return where;
}

/** Pairs of ids and versions; with `object`, only that object's. */
function objectsOf(ids: string[], versions: string[], object: string | undefined) {
  const out: { id: string; version: string }[] = [];
  ids.forEach((id, i) => {
    if (object === undefined || id === object) out.push({ id, version: versions[i] ?? '' });
  });
  return out;
}

export interface DeliveryEntry {
  id: number;
  at: string;
  account: { id: string; username: string };
  organisation: { id: string; name: string | null };
  api_root: string;
  collection: string;
  endpoint: string;
  view: { profile: string; revision: number; pinned?: { profile: string; revision: number } } | null;
  preview: string | null;
  max_tlp: string | null;
  objects: { id: string; version: string }[];
  object_count: number;
  granted: string[];
  client_ip: string | null;
  request_id: string | null;
}

/** Deliveries, newest first: which pages which accounts received. */
export async function listDeliveries(db: Db, filter: AccessAuditFilter): Promise<DeliveryEntry[]> {
  let query = db
    .selectFrom('delivery_audit')
    .leftJoin('organisations as o', 'o.id', 'delivery_audit.organisation_id')
    .selectAll('delivery_audit')
    .select('o.name as organisation_name')
    .orderBy('delivery_audit.id', 'desc')
    .limit(filter.limit);
  for (const condition of await conditions(db, filter, 'delivery_audit')) query = query.where(condition);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    at: r.at.toISOString(),
    account: { id: r.account_id, username: r.username },
    organisation: { id: r.organisation_id, name: r.organisation_name },
    api_root: r.api_root_id,
    collection: r.collection_id,
    endpoint: r.endpoint,
    view:
      r.profile_id === null || r.profile_revision === null
        ? null
        : {
            profile: r.profile_id,
            revision: r.profile_revision,
            ...(r.pinned_profile_id !== null && r.pinned_revision !== null ? { pinned: { profile: r.pinned_profile_id, revision: r.pinned_revision } } : {}),
          },
    preview: r.preview,
    max_tlp: r.max_tlp === null ? null : tlpName(r.max_tlp),
    objects: objectsOf(r.stix_ids, r.versions, filter.object),
    object_count: r.stix_ids.length,
    granted: r.granted_ids ?? [],
    client_ip: r.client_ip,
    request_id: r.request_id,
  }));
}

export interface Recipient {
  organisation: { id: string; name: string | null };
  account: { id: string; username: string };
  first_at: string;
  last_at: string;
  deliveries: number;
  versions: string[];
  /** Views it went through: "L2@3", "L2@3 ∩ L1@1" (pinned), "unfiltered" (operators), "preview organisation:…". */
  views: string[];
}

/** Everyone who received an object (any version), by account: "who received this RED indicator?". */
export async function deliveryRecipients(db: Db, object: string, filter: Omit<AccessAuditFilter, 'object' | 'limit' | 'before'> = {}): Promise<Recipient[]> {
  const recipients = new Map<string, Recipient>();
  let before: number | undefined;
  // Newest first, page by page, so that any number of deliveries is summarised.
  for (;;) {
    const page = await listDeliveries(db, { ...filter, object, limit: 1000, ...(before !== undefined ? { before } : {}) });
    for (const d of page) {
      const key = `${d.account.id}`;
      let r = recipients.get(key);
      if (!r) {
        r = { organisation: d.organisation, account: d.account, first_at: d.at, last_at: d.at, deliveries: 0, versions: [], views: [] };
        recipients.set(key, r);
      }
      r.deliveries++;
      if (d.at < r.first_at) r.first_at = d.at;
      if (d.at > r.last_at) r.last_at = d.at;
      for (const o of d.objects) if (!r.versions.includes(o.version)) r.versions.push(o.version);
      const view = d.preview
        ? `preview ${d.preview}`
        : d.view
          ? `${d.view.profile}@${d.view.revision}${d.view.pinned ? ` ∩ ${d.view.pinned.profile}@${d.view.pinned.revision}` : ''}`
          : 'unfiltered';
      if (!r.views.includes(view)) r.views.push(view);
    }
    if (page.length < 1000) break;
    before = page[page.length - 1]!.id;
  }
  return [...recipients.values()]
    .map((r) => ({ ...r, versions: r.versions.sort() }))
    .sort((a, b) => (a.organisation.name ?? a.organisation.id).localeCompare(b.organisation.name ?? b.organisation.id) || a.account.username.localeCompare(b.account.username));
}

export interface WriteEntry {
  id: number;
  at: string;
  action: 'add' | 'delete';
  actor: string;
  account_id: string | null;
  organisation: { id: string; name: string | null } | null;
  api_root: string;
  collection: string;
  status_id: string | null;
  /** add: stored false when that id and version was already there (nothing written). */
  objects: { id: string; version: string; stored?: boolean }[];
  object_count: number;
  failure_count: number;
  client_ip: string | null;
  request_id: string | null;
}

/** The write log, newest first: who stored or deleted which object versions. */
export async function listWrites(db: Db, filter: AccessAuditFilter): Promise<WriteEntry[]> {
  let query = db
    .selectFrom('write_audit')
    .leftJoin('organisations as o', 'o.id', 'write_audit.organisation_id')
    .selectAll('write_audit')
    .select('o.name as organisation_name')
    .orderBy('write_audit.id', 'desc')
    .limit(filter.limit);
  for (const condition of await conditions(db, filter, 'write_audit')) query = query.where(condition);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    at: r.at.toISOString(),
    action: r.action,
    actor: r.actor,
    account_id: r.account_id,
    organisation: r.organisation_id === null ? null : { id: r.organisation_id, name: r.organisation_name },
    api_root: r.api_root_id,
    collection: r.collection_id,
    status_id: r.status_id,
    objects: r.stix_ids
      .map((id, i) => ({ id, version: r.versions[i] ?? '', ...(r.action === 'add' ? { stored: r.stored[i] ?? false } : {}) }))
      .filter((o) => filter.object === undefined || o.id === filter.object),
    object_count: r.stix_ids.length,
    failure_count: Number(r.failure_count),
    client_ip: r.client_ip,
    request_id: r.request_id,
  }));
}

import { sql, type Insertable, type Transaction } from 'kysely';
import type { Principal } from '../auth/authenticate.js';
import type { DeliveryAuditScope } from '../config.js';
import type { CollectionAccess } from '../db/catalog.js';
import type { Db } from '../db/database.js';
import type { Tables } from '../db/tables.js';
import { serviceUnavailable } from '../taxii/errors.js';
import type { DeliveredPage, ReadKind } from './read-objects.js';

/**
 * The delivery audit: who received which objects (ids and versions), through
 * which view (profile and revision, the collection's pin, an operator's
 * preview), when, and from where. One row per response page, not per object.
 *
 * Rows are buffered in memory and inserted in batches (every second, or at
 * once when the buffer holds `maxBatch` rows), so a poll pays no database
 * write; `close()` (app.close(), hence SIGTERM) writes what is left. A page
 * holding a TLP:RED object is the exception: it is inserted before the
 * response is sent, and the response fails (503) if it cannot be, so "who
 * received this RED object?" is answered exactly even after a crash.
 *
 * Scope (DELIVERY_AUDIT):
 * - all: every page that hands out at least one object;
 * - restricted (default): pages holding at least one object whose effective
 *   TLP (its own marking, else the collection's default for unmarked
 *   objects) is AMBER or above, or that the reader's organisation was granted
 *   (the grant's object, or what the grant's closure brings along);
 * - off: nothing.
 */
export interface DeliveryReader {
  id: string;
  ip: string;
  principal: Principal | undefined;
  collection: CollectionAccess;
  /** "<account id>", or "<account id>|organisation:<id>" / "|profile:<id>" for an operator's preview. */
  readerKey: string;
}

export interface DeliveryAuditOptions {
  scope: DeliveryAuditScope;
  flushIntervalMs?: number;
  /** Rows per insert; reaching it starts a flush. */
  maxBatch?: number;
  /** Rows kept while the database cannot take them; beyond, the oldest are dropped (and logged). */
  maxBuffered?: number;
  log?: { warn(object: object, message: string): void; error(object: object, message: string): void };
}

type NewDelivery = Insertable<Tables['delivery_audit']>;

const AMBER = 2;
const RED = 4;

export class DeliveryAuditor {
  private buffer: NewDelivery[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly maxBatch: number;
  private readonly maxBuffered: number;

  constructor(private readonly db: Db, private readonly options: DeliveryAuditOptions) {
    this.maxBatch = options.maxBatch ?? 500;
    this.maxBuffered = options.maxBuffered ?? 100_000;
    if (options.scope !== 'off') {
      this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1000);
      this.timer.unref();
    }
  }

  get scope(): DeliveryAuditScope {
    return this.options.scope;
  }

  /** Rows waiting for the next flush (tests, metrics). */
  get pending(): number {
    return this.buffer.length;
  }

  /**
   * Records one page handed out to a reader. Resolves at once for buffered
   * pages; for a page with a RED object, once its row is stored.
   */
  async record(reader: DeliveryReader, endpoint: ReadKind, page: DeliveredPage): Promise<void> {
    if (this.options.scope === 'off' || page.ids.length === 0 || !reader.principal) return;
    const { collection, principal } = reader;
    const view = collection.view;
    // Unknown default (should not happen): AMBER, so that the page is recorded rather than lost.
    const defaultTlp = view?.view.params.defaultTlp ?? collection.defaultTlp ?? AMBER;
    let maxTlp = -1;
    for (const tlp of page.tlps) maxTlp = Math.max(maxTlp, tlp ?? defaultTlp);
    const granted = grantedIn(collection, page.ids);
    if (this.options.scope === 'restricted' && maxTlp < AMBER && granted.length === 0) return;

    const separator = reader.readerKey.indexOf('|');
    const descriptor = view?.descriptor;
    const row: NewDelivery = {
      at: new Date(),
      account_id: principal.accountId,
      username: principal.username,
      organisation_id: principal.organisationId,
      api_root_id: collection.apiRootId,
      collection_id: collection.id,
      endpoint,
      profile_id: descriptor?.profile ?? null,
      profile_revision: descriptor?.revision ?? null,
      pinned_profile_id: descriptor?.pinned?.profile ?? null,
      pinned_revision: descriptor?.pinned?.revision ?? null,
      preview: separator >= 0 ? reader.readerKey.slice(separator + 1) : null,
      stix_ids: page.ids,
      versions: page.versions,
      max_tlp: maxTlp,
      granted_ids: granted.length > 0 ? granted : null,
      client_ip: reader.ip,
      request_id: reader.id,
    };
    if (maxTlp >= RED) {
      try {
        await insertDeliveries(this.db, [row]);
      } catch (err) {
        this.options.log?.error({ err }, 'delivery audit: cannot record a page with a TLP:RED object; not sending it');
        throw serviceUnavailable('The delivery could not be recorded in the audit; try again shortly.', 5);
      }
      return;
    }
    this.buffer.push(row);
    if (this.buffer.length > this.maxBuffered) {
      const dropped = this.buffer.splice(0, this.buffer.length - this.maxBuffered);
      this.options.log?.error({ dropped: dropped.length }, 'delivery audit: the database does not take the rows; dropping the oldest');
    }
    if (this.buffer.length >= this.maxBatch) void this.flush();
  }

  /** Inserts what is buffered (one flush at a time; a failed batch is kept for the next). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.buffer.length === 0) return Promise.resolve();
    this.flushing = this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.maxBatch);
      try {
        await insertDeliveries(this.db, batch);
      } catch (err) {
        this.buffer.unshift(...batch);
        this.options.log?.warn({ err, buffered: this.buffer.length }, 'delivery audit: insert failed; retrying at the next flush');
        return;
      }
    }
  }

  /** Stops the timer and writes every buffered row (called by app.close(), so on SIGTERM). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.flushing;
    await this.flush();
    if (this.buffer.length > 0) {
      this.options.log?.error({ lost: this.buffer.length }, 'delivery audit: rows could not be written before shutdown');
    }
  }
}

/** The ids of the page that reach the reader through a grant to its organisation (the object, or its closure). */
function grantedIn(collection: CollectionAccess, ids: readonly string[]): string[] {
  const view = collection.view?.view;
  if (!view || (view.grants.length === 0 && view.grantClosure.length === 0)) return [];
  const granted = new Set([...view.grants.map((g) => g.stixId), ...view.grantClosure]);
  return [...new Set(ids.filter((id) => granted.has(id)))];
}

async function insertDeliveries(db: Db, rows: NewDelivery[]): Promise<void> {
  await db.insertInto('delivery_audit').values(rows).execute();
}

// --- the write log ----------------------------------------------------------

/** Who writes: an account through TAXII, or the command line (`cli:<os user>`). */
export interface Writer {
  /** "account:<username>" or "cli:<os user>". */
  actor: string;
  accountId: string | null;
  organisationId: string | null;
  clientIp?: string | undefined;
  requestId?: string | undefined;
}

export function writerOf(principal: Principal, request?: { ip: string; id: string }): Writer {
  return {
    actor: `account:${principal.username}`,
    accountId: principal.accountId,
    organisationId: principal.organisationId,
    clientIp: request?.ip,
    requestId: request?.id,
  };
}

/** Records a write in the transaction that makes it (so the log holds exactly what was committed). */
export async function recordWrite(
  trx: Transaction<Tables>,
  writer: Writer,
  collection: { id: string; apiRootId: string },
  write: { action: 'add' | 'delete'; statusId?: string; ids: string[]; versions: string[]; stored: boolean[]; failureCount?: number },
): Promise<void> {
  if (write.ids.length === 0 && !write.failureCount) return;
  await trx
    .insertInto('write_audit')
    .values({
      action: write.action,
      actor: writer.actor,
      account_id: writer.accountId,
      organisation_id: writer.organisationId,
      api_root_id: collection.apiRootId,
      collection_id: collection.id,
      status_id: write.statusId ?? null,
      stix_ids: write.ids,
      versions: write.versions,
      stored: write.stored,
      failure_count: write.failureCount ?? 0,
      client_ip: writer.clientIp ?? null,
      request_id: writer.requestId ?? null,
    })
    .execute();
}

/** Deletes delivery audit and write log rows older than the retention; returns how many went. */
export async function purgeAccessAudit(db: Db, retentionDays: number): Promise<{ deliveries: number; writes: number }> {
  const cutoff = sql<Date>`now() - make_interval(days => ${retentionDays}::int)`;
  const deliveries = await db.deleteFrom('delivery_audit').where('at', '<', cutoff).executeTakeFirst();
  const writes = await db.deleteFrom('write_audit').where('at', '<', cutoff).executeTakeFirst();
  return { deliveries: Number(deliveries.numDeletedRows), writes: Number(writes.numDeletedRows) };
}

import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { tooManyRequests } from '../taxii/errors.js';
import { presentedIdentity, type VerificationGuard } from './authenticate.js';

/**
 * Rate limits shared by every replica through PostgreSQL (table
 * rate_limit_counters: one row per key and fixed window).
 *
 * Request budgets (per account; anonymous public discovery per source
 * address) are counted locally and added to the shared counters in batches:
 * every `syncIntervalMs`, as soon as a key has half a batch unsynchronised,
 * and before a key may have more than a whole batch unsynchronised (the
 * request then waits for the synchronisation). A key's batch is
 * B = max(1, ⌈limit / 20⌉). A process admits a request only while
 * (the shared count it last read) + (its own unsynchronised requests) < limit,
 * so in one window at most
 *
 *     limit + (replicas − 1) × B
 *
 * requests of a key are admitted across all replicas (one replica: exactly
 * the limit). Proof sketch: take the replica whose last synchronisation
 * committed last; the count it read includes every request the others had
 * synchronised, each other replica admitted at most B after its own last
 * synchronisation, and it admitted at most limit − (count read) after its own.
 * Requests refused with 429 are not counted. Windows are aligned to the epoch
 * (window_start = now − now mod window), so replicas agree on them as far as
 * their clocks agree.
 *
 * Failed authentications (per source address, and per presented user name or
 * API key id) are written at once: each failure is one upsert returning the
 * new count. After `authFailuresPerWindow` failures in a window, the address
 * or name is refused with 429 until the window ends, even with the right
 * credentials: checked locally before anything (a set refreshed from the
 * database every `syncIntervalMs`), and in the database whenever a secret has
 * just been verified with scrypt (a credential not in the verified cache), so
 * a guess that turns out right is not disclosed once the budget is spent, on
 * any replica.
 *
 * When the database cannot be reached, each process goes on limiting with its
 * own counts (the shared part of the bound is lost until it answers again).
 */
export interface RateLimiterOptions {
  requestsPerWindow: number;
  authFailuresPerWindow: number;
  windowMs: number;
  syncIntervalMs: number;
  log?: { warn(object: object, message: string): void };
}

interface LocalCount {
  windowStart: number;
  /** The shared count as last read from the database (includes this process's synchronised requests). */
  shared: number;
  /** Admitted here, not yet sent. */
  pending: number;
  /** Sent in the synchronisation under way. */
  inFlight: number;
}

interface CounterRow {
  key: string;
  window_start: number;
  count: number;
}

const PURGE_EVERY_MS = 60_000;

export class RateLimiter {
  private readonly counts = new Map<string, LocalCount>();
  /** Auth keys over budget → the window they are blocked in. */
  private readonly blocked = new Map<string, number>();
  private readonly batch: number;
  private readonly trigger: number;
  private syncing: Promise<boolean> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private lastPurge = 0;
  private lastWarning = 0;
  private closed = false;

  constructor(private readonly db: Db, private readonly options: RateLimiterOptions) {
    this.batch = RateLimiter.batchOf(options.requestsPerWindow);
    this.trigger = Math.max(1, Math.ceil(this.batch / 2));
  }

  /** B: the most requests of one key a process admits without synchronising. */
  static batchOf(limit: number): number {
    return Math.max(1, Math.ceil(limit / 20));
  }

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.tick(), this.options.syncIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer and sends what was counted locally. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sync();
  }

  private windowStart(now: number): number {
    return now - (now % this.options.windowMs);
  }

  private retryAfter(now: number): number {
    return Math.max(1, Math.ceil((this.windowStart(now) + this.options.windowMs - now) / 1000));
  }

  // --- request budgets ------------------------------------------------------

  /** Counts one request of `key` ("acct:<id>", "ip:<address>"); throws 429 when the budget is spent. */
  async takeRequest(key: string): Promise<void> {
    const limit = this.options.requestsPerWindow;
    for (;;) {
      const now = Date.now();
      const windowStart = this.windowStart(now);
      let count = this.counts.get(`req:${key}`);
      if (!count || count.windowStart !== windowStart) {
        count = { windowStart, shared: 0, pending: 0, inFlight: 0 };
        this.counts.set(`req:${key}`, count);
      }
      if (count.shared + count.pending + count.inFlight >= limit) {
        const who = key.startsWith('acct:') ? 'this account' : 'this address (without credentials)';
        throw tooManyRequests(`The limit of ${limit} requests per ${this.options.windowMs / 1000} s for ${who} is reached; try again later.`, this.retryAfter(now));
      }
      if (count.pending + count.inFlight < this.batch || this.closed) {
        count.pending++;
        if (count.pending + count.inFlight >= this.trigger) void this.sync();
        return;
      }
      // A whole batch is unsynchronised: wait for the shared count before admitting more.
      if (!(await this.sync())) {
        const fresh = this.counts.get(`req:${key}`);
        if (fresh && fresh.windowStart === windowStart && fresh.shared + fresh.pending + fresh.inFlight < limit) {
          fresh.pending++;
          return;
        }
      }
    }
  }

  private sync(): Promise<boolean> {
    this.syncing ??= this.pushCounts().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  /** Adds the local counts to the shared ones and reads the totals back, in one statement. */
  private async pushCounts(): Promise<boolean> {
    const current = this.windowStart(Date.now());
    const sent: { key: string; count: LocalCount; delta: number }[] = [];
    for (const [key, count] of this.counts) {
      if (count.windowStart < current) {
        // A past window no longer limits anything.
        if (count.inFlight === 0) this.counts.delete(key);
        continue;
      }
      if (count.pending > 0) {
        sent.push({ key, count, delta: count.pending });
        count.inFlight += count.pending;
        count.pending = 0;
      }
    }
    if (sent.length === 0) return true;
    try {
      const result = await sql<CounterRow>`
        insert into rate_limit_counters as r (key, window_start, count)
        select * from unnest(${sent.map((s) => s.key)}::text[], ${sent.map((s) => s.count.windowStart)}::int8[], ${sent.map((s) => s.delta)}::int4[])
        on conflict (key, window_start) do update set count = r.count + excluded.count
        returning r.key, r.window_start, r.count`.execute(this.db);
      const totals = new Map(result.rows.map((row) => [row.key, Number(row.count)]));
      for (const { key, count, delta } of sent) {
        count.inFlight -= delta;
        const total = totals.get(key);
        if (total !== undefined) count.shared = total;
      }
      return true;
    } catch (err) {
      for (const { count, delta } of sent) {
        count.inFlight -= delta;
        count.pending += delta;
      }
      this.warn(err, 'rate limit: cannot synchronise the shared counters; limiting with local counts');
      return false;
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.closed) return;
    this.ticking = true;
    try {
      await this.sync();
      await this.pullBlocked();
      const now = Date.now();
      if (now - this.lastPurge >= PURGE_EVERY_MS) {
        this.lastPurge = now;
        await sql`delete from rate_limit_counters where window_start < ${this.windowStart(now) - this.options.windowMs}::int8`.execute(this.db);
      }
    } catch (err) {
      this.warn(err, 'rate limit: cannot read the shared counters');
    } finally {
      this.ticking = false;
    }
  }

  private warn(err: unknown, message: string): void {
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.options.log?.warn({ err }, message);
  }

  // --- failed authentications ----------------------------------------------

  /** Auth keys over budget in the current window, whichever replica counted them. */
  private async pullBlocked(): Promise<void> {
    const windowStart = this.windowStart(Date.now());
    const result = await sql<{ key: string }>`
      select key from rate_limit_counters
      where window_start = ${windowStart}::int8 and key like 'auth:%' and count >= ${this.options.authFailuresPerWindow}::int4`.execute(this.db);
    for (const [key, window] of this.blocked) if (window < windowStart) this.blocked.delete(key);
    for (const row of result.rows) this.blocked.set(row.key, windowStart);
  }

  /** One authentication attempt with credentials, from `ip`. */
  authAttempt(ip: string, authorization: string): AuthAttempt {
    const identity = presentedIdentity(authorization);
    return new AuthAttempt(this, [`auth:ip:${ip}`, ...(identity ? [`auth:${identity}`] : [])]);
  }

  /** @internal */
  blockedRetryAfter(keys: readonly string[]): number | undefined {
    const now = Date.now();
    const windowStart = this.windowStart(now);
    return keys.some((key) => this.blocked.get(key) === windowStart) ? this.retryAfter(now) : undefined;
  }

  /** @internal Adds one failure to each key at once; returns the new counts. */
  async addFailures(keys: readonly string[]): Promise<{ counts: number[]; retryAfter: number }> {
    const now = Date.now();
    const windowStart = this.windowStart(now);
    const result = await sql<CounterRow>`
      insert into rate_limit_counters as r (key, window_start, count)
      select k, ${windowStart}::int8, 1 from unnest(${[...keys]}::text[]) as k
      on conflict (key, window_start) do update set count = r.count + 1
      returning r.key, r.count`.execute(this.db);
    const counts = result.rows.map((row) => Number(row.count));
    result.rows.forEach((row) => {
      if (Number(row.count) >= this.options.authFailuresPerWindow) this.blocked.set(row.key, windowStart);
    });
    return { counts, retryAfter: this.retryAfter(now) };
  }

  /** @internal The failures of these keys in the current window, read from the database. */
  async failures(keys: readonly string[]): Promise<{ max: number; retryAfter: number }> {
    const now = Date.now();
    const windowStart = this.windowStart(now);
    const result = await sql<CounterRow>`
      select key, count from rate_limit_counters where window_start = ${windowStart}::int8 and key = any(${[...keys]}::text[])`.execute(this.db);
    let max = 0;
    for (const row of result.rows) {
      max = Math.max(max, Number(row.count));
      if (Number(row.count) >= this.options.authFailuresPerWindow) this.blocked.set(row.key, windowStart);
    }
    return { max, retryAfter: this.retryAfter(now) };
  }

  get authFailureLimit(): number {
    return this.options.authFailuresPerWindow;
  }
}

const BLOCKED = 'Too many failed authentication attempts from this address or for this account; try again later.';

/**
 * The failure budget's view of one request's authentication: refused at once
 * when blocked, checked again when a secret was verified by scrypt, and
 * counted when it fails.
 */
export class AuthAttempt implements VerificationGuard {
  constructor(private readonly limiter: RateLimiter, private readonly keys: readonly string[]) {}

  /** 429 when the address or the presented name is blocked (local knowledge, no database access). */
  assertNotBlocked(): void {
    const retryAfter = this.limiter.blockedRetryAfter(this.keys);
    if (retryAfter !== undefined) throw tooManyRequests(BLOCKED, retryAfter);
  }

  /** A secret was just verified by scrypt: accepted only while the budget is not spent (database). */
  async verified(): Promise<void> {
    const { max, retryAfter } = await this.limiter.failures(this.keys);
    if (max >= this.limiter.authFailureLimit) throw tooManyRequests(BLOCKED, retryAfter);
  }

  /** The credentials were wrong: one failure more; 429 instead of 401 once over the budget. */
  async failed(): Promise<void> {
    const { counts, retryAfter } = await this.limiter.addFailures(this.keys);
    if (counts.some((count) => count > this.limiter.authFailureLimit)) throw tooManyRequests(BLOCKED, retryAfter);
  }
}

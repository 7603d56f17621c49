import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inconsistencies, readStored, sleep, statusListing } from '../support/fault-checks.js';
import { COLLECTION, PASSWORD, standardSeed } from '../support/fixtures.js';
import { describeExchange, isTaxiiUnavailable, json, send, type Exchange } from '../support/http-client.js';
import { killAll, startServer, writeSeedFile, type ServerProcess } from '../support/server-process.js';
import { envelope, indicator } from '../support/stix.js';
import { basic, TAXII } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Graceful shutdown (SIGTERM) of the real server process under a load of
 * POSTs, and a restart on the same database and port: the listener closes,
 * requests in flight finish (within SHUTDOWN_GRACE_MS, then their
 * connections are cut), the process exits 0, and every acknowledged write is
 * in the database after the restart. A request the server received always
 * gets an answer; only requests it never received (connection refused while
 * it was down) fail without one. (Work arriving on an open connection during
 * the drain: test/http/draining.test.ts.)
 */
const GRACE_MS = 3000;
const CLIENT_TIMEOUT_MS = 10_000;
const writerAuth = basic('writer', PASSWORD);
const objectsPath = `/api1/collections/${COLLECTION}/objects/`;

let database: TestDatabase;
let seed: { path: string; remove: () => void };
let env: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase();
  seed = writeSeedFile(standardSeed());
  env = {
    DATABASE_URL: database.url!,
    SEED_FILE: seed.path,
    SHUTDOWN_GRACE_MS: String(GRACE_MS),
    DB_POOL_MAX: '5',
    RATE_LIMIT_PER_MINUTE: '1000000',
  };
});

afterAll(async () => {
  await killAll();
  seed?.remove();
  await database?.destroy();
});

interface Post {
  tag: string;
  ids: string[];
  exchange: Exchange;
}

/** A POST whose body is sent in two halves, the second after `pauseMs` (or never). */
function slowPost(url: string, body: string, tag: string, secondHalf: Promise<void> | 'never') {
  return new Promise<{ status?: number; text?: string; error?: string }>((resolve) => {
    const bytes = Buffer.from(body);
    const req = http.request(`${url}${objectsPath}?${tag}`, {
      method: 'POST',
      agent: false,
      headers: { authorization: writerAuth, 'content-type': TAXII, accept: TAXII, 'content-length': String(bytes.length) },
    });
    const timer = setTimeout(() => {
      resolve({ error: 'CLIENT_TIMEOUT' });
      req.destroy();
    }, CLIENT_TIMEOUT_MS + GRACE_MS);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode, text });
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ error: error.code ?? error.message });
    });
    const half = Math.floor(bytes.length / 2);
    req.write(bytes.subarray(0, half));
    if (secondHalf !== 'never') void secondHalf.then(() => req.end(bytes.subarray(half)));
  });
}

describe('graceful shutdown and restart under load', () => {
  it('stops accepting, finishes in-flight requests, exits 0 within the grace period, and loses no acknowledged write across a restart', async () => {
    let server: ServerProcess = await startServer(env);
    const firstStartMs = server.startMs;
    const port = server.port;
    const url = server.url;
    const posts: Post[] = [];
    let stopping = false;

    // Two writers open a connection per request, two keep theirs open (keep-alive) between requests.
    const agents = [false, false, new http.Agent({ keepAlive: true, maxSockets: 1 }), new http.Agent({ keepAlive: true, maxSockets: 1 })] as const;
    const writer = async (w: number) => {
      for (let n = 0; !stopping; n++) {
        const tag = `client=${w}&seq=${n}`;
        const objects = [indicator({ name: `w${w}-${n}-a` }), indicator({ name: `w${w}-${n}-b` })];
        const exchange = await send(url, `${objectsPath}?${tag}`, {
          method: 'POST',
          headers: { authorization: writerAuth, 'content-type': TAXII, accept: TAXII },
          body: envelope(objects),
          timeoutMs: CLIENT_TIMEOUT_MS,
          agent: agents[w],
        });
        posts.push({ tag, ids: objects.map((o) => o.id), exchange });
        if (exchange.outcome.kind === 'error' || exchange.outcome.status !== 202) await sleep(25);
      }
    };
    const writers = [0, 1, 2, 3].map(writer);

    await sleep(1500);
    // Two uploads under way at SIGTERM: one finishes its body afterwards, one never does.
    let releaseSecondHalf!: () => void;
    const secondHalf = new Promise<void>((resolve) => (releaseSecondHalf = resolve));
    const lateObject = indicator({ name: 'finished after SIGTERM' });
    const late = slowPost(url, envelope([lateObject]), 'late=1', secondHalf);
    const stalledObject = indicator({ name: 'never finished' });
    const stalled = slowPost(url, envelope([stalledObject]), 'stalled=1', 'never');
    await sleep(500);

    const sigtermAt = Date.now();
    const stopping1 = server.stop('SIGTERM', GRACE_MS + 10_000);
    await sleep(500);
    releaseSecondHalf();
    const first = await stopping1;
    const firstLines = server.lines;
    const lateResult = await late;
    const stalledResult = await stalled;

    server = await startServer(env, { port });
    const restartedAt = Date.now();
    await sleep(2000);
    stopping = true;
    await Promise.all(writers);
    for (const agent of agents) if (agent) agent.destroy();
    const second = await server.stop('SIGTERM', GRACE_MS + 10_000);
    const lines = [...firstLines, ...server.lines];

    // Both stops: exit code 0. The first waited for the stalled upload until the grace period ended.
    expect(first).toMatchObject({ code: 0, signal: null });
    expect(second).toMatchObject({ code: 0, signal: null });
    expect(first.ms).toBeGreaterThanOrEqual(GRACE_MS);
    expect(first.ms).toBeLessThan(GRACE_MS + 2000);
    expect(second.ms).toBeLessThan(2000);

    // The upload finished after SIGTERM was processed and stored; the one that never finished was cut.
    expect(lateResult.status, JSON.stringify(lateResult)).toBe(202);
    expect(stalledResult.status).toBeUndefined();

    // Requests the server received (logged as incoming) were all answered, 202 or 503.
    const received = new Set(
      lines.filter((l) => l.msg === 'incoming request' && typeof l.req?.url === 'string').map((l) => new URL(l.req!.url!, url).search.slice(1)),
    );
    const unanswered = posts.filter((p) => p.exchange.outcome.kind === 'error');
    expect(unanswered.filter((p) => received.has(p.tag)).map((p) => `${p.tag}: ${describeExchange(p.exchange)}`)).toEqual([]);
    // The others found no server (refused), or were written on a keep-alive connection the stopping server was closing.
    const codes = new Set(unanswered.map((p) => (p.exchange.outcome.kind === 'error' ? p.exchange.outcome.code : '')));
    expect([...codes].filter((c) => !['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(c))).toEqual([]);
    const answered = posts.filter((p) => p.exchange.outcome.kind === 'response');
    const bad = answered.filter((p) => !(p.exchange.outcome.kind === 'response' && p.exchange.outcome.status === 202) && !isTaxiiUnavailable(p.exchange));
    expect(bad.map((p) => describeExchange(p.exchange))).toEqual([]);

    // The database after the restart: every 202 is there as its status says; nothing else of the load is.
    const stored = await readStored(database.db, COLLECTION);
    expect(inconsistencies(stored)).toEqual([]);
    const acknowledged = answered.filter((p) => p.exchange.outcome.kind === 'response' && p.exchange.outcome.status === 202);
    for (const post of acknowledged) {
      const status = json<{ id: string }>(post.exchange)!;
      expect(post.ids.every((id) => stored.objects.has(id))).toBe(true);
      expect(stored.statuses.get(status.id)?.sort()).toEqual([...post.ids].sort());
    }
    for (const post of posts.filter((p) => !acknowledged.includes(p))) {
      expect(post.ids.some((id) => stored.objects.has(id))).toBe(false);
    }
    expect(stored.objects.has(lateObject.id)).toBe(true);
    expect(statusListing(stored, [lateObject.id])).toBeDefined();
    expect(stored.objects.has(stalledObject.id)).toBe(false);
    expect(stored.objects.size).toBe(acknowledged.length * 2 + 1);

    const during = posts.filter((p) => p.exchange.startedAt >= sigtermAt && p.exchange.startedAt < restartedAt);
    const summary = {
      graceMs: GRACE_MS,
      firstStartMs,
      restartStartMs: server.startMs,
      exitWithStalledUploadMs: first.ms,
      cleanExitMs: second.ms,
      downtimeMs: restartedAt - sigtermAt,
      posts: posts.length,
      acknowledged: acknowledged.length,
      answered503: answered.filter((p) => isTaxiiUnavailable(p.exchange)).length,
      unansweredNeverReceived: unanswered.length,
      unansweredCodes: Object.fromEntries([...codes].map((c) => [c, unanswered.filter((p) => p.exchange.outcome.kind === 'error' && p.exchange.outcome.code === c).length])),
      postsDuringRestart: during.length,
      acknowledgedAfterRestart: acknowledged.filter((p) => p.exchange.startedAt >= restartedAt).length,
      receivedByServers: received.size,
    };
    console.log('shutdown:', JSON.stringify(summary));
    expect(summary.acknowledgedAfterRestart).toBeGreaterThan(0);
  }, 45_000);
});

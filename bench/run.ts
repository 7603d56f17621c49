// `npm run bench`: loads N objects into a fresh server through TAXII POST, then measures
// ingest, the read endpoints, a full crawl and the server's memory, each side by side with
// a minimal node:http "ceiling" server answering the same bytes (bench/ceiling.ts), in
// alternating rounds; every figure is reported as a ratio to the ceiling.
//
//   npx tsx bench/run.ts [--objects 10000,100000] [--db postgres|embedded|both]
//                        [--duration 5] [--rounds 3] [--connections 8] [--out bench/results]
//
// Both servers are child processes; the load (autocannon and plain node:http clients) comes
// from this process. PostgreSQL: BENCH_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres); a database taxii_bench_<random> is created
// and dropped. Embedded: a temporary DATA_DIR, removed afterwards.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, closeSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import pg from 'pg';
import { Rng, StixGenerator, type StixObject } from './generate.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TAXII = 'application/taxii+json;version=2.1';
const DEFAULT_ATTACK = path.resolve(ROOT, '..', 'shared', 'data', 'attack', 'enterprise-attack-18.1.stix21.from-mitre-cti.json.gz');
const API_ROOT = 'bench';
const COLLECTION_ID = '6a4c3f0e-2b1d-4c5e-9f7a-1b2c3d4e5f60';
const OPERATOR_PASSWORD = 'bench-operator-password';
const PRODUCER_PASSWORD = 'bench-producer-password';

// ---------------------------------------------------------------------------------------
// Options

const { values: argv } = parseArgs({
  options: {
    objects: { type: 'string', default: '100000' },
    db: { type: 'string', default: 'both' },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '3' },
    envelope: { type: 'string', default: '1000' },
    attack: { type: 'string', default: DEFAULT_ATTACK },
    seed: { type: 'string', default: 'taxii-bench' },
    'log-level': { type: 'string', default: 'warn' },
    server: { type: 'string', default: 'auto' },
    out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
    'crawl-segment': { type: 'string', default: '10' },
    'keep-db': { type: 'boolean', default: false },
    analyze: { type: 'string', default: 'auto' },
    'server-node-args': { type: 'string', default: '' },
    help: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

if (argv.help) {
  process.stdout.write(`usage: npx tsx bench/run.ts [options]
  --objects N[,N...]   generated objects to load per run (default 100000; ATT&CK is loaded on top)
  --db postgres|embedded|both   (default both; postgres from BENCH_DATABASE_URL)
  --duration S         seconds per measurement round (default 5)
  --rounds R           alternating rounds ours/ceiling per figure, medians reported (default 3)
  --warmup S           warm-up seconds per figure and side (default 1)
  --connections C      autocannon connections (default 8)
  --concurrency K      concurrent POSTs while loading (default 3)
  --envelope E         objects per POST (default 1000)
  --attack FILE|none   ATT&CK bundle (.json or .json.gz) loaded first (default ../shared/data/attack/...)
  --seed S             generator seed (default taxii-bench)
  --log-level L        the server's LOG_LEVEL (default warn: no per-request logs)
  --server auto|dist|tsx   built dist/ when it is up to date (auto), or src/ through tsx
  --crawl-segment P    pages per alternation segment in the full crawl (default 10)
  --out DIR            results directory (default bench/results)
  --keep-db            keep the PostgreSQL database (its URL is printed) for EXPLAIN and the like
  --analyze auto|never PostgreSQL only. auto: when the server runs without autovacuum (this machine's
                       CI configuration), do what autovacuum's autoanalyze would do: ANALYZE during the
                       load whenever 10% + 50 rows changed (at most once a minute) and once after it;
                       ANALYZE time is not counted as ingest time. never: measure as the server is.
  --server-node-args A extra node flags for our server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
`);
  process.exit(0);
}

const positiveInt = (name: string, raw: string | undefined): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive whole number (got "${raw}")`);
  return n;
};

const options = {
  objects: (argv.objects ?? '100000').split(',').map((s) => positiveInt('objects', s.trim().replace(/_/g, ''))),
  dbs: (argv.db === 'both' ? ['postgres', 'embedded'] : [argv.db]) as ('postgres' | 'embedded')[],
  duration: Number(argv.duration),
  rounds: positiveInt('rounds', argv.rounds),
  warmup: Number(argv.warmup),
  connections: positiveInt('connections', argv.connections),
  concurrency: positiveInt('concurrency', argv.concurrency),
  envelope: positiveInt('envelope', argv.envelope),
  attack: argv.attack === 'none' ? undefined : argv.attack!,
  seed: argv.seed!,
  logLevel: argv['log-level']!,
  server: argv.server as 'auto' | 'dist' | 'tsx',
  out: path.resolve(argv.out!),
  crawlSegment: positiveInt('crawl-segment', argv['crawl-segment']),
  keepDb: argv['keep-db'] === true,
  analyze: argv.analyze as 'auto' | 'never',
  serverNodeArgs: (argv['server-node-args'] ?? '').split(/\s+/).filter((a) => a !== ''),
  postgresUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
};
for (const db of options.dbs) if (db !== 'postgres' && db !== 'embedded') throw new Error(`--db must be postgres, embedded or both (got "${db}")`);
if (!(options.duration > 0)) throw new Error('--duration must be positive');
if (options.analyze !== 'auto' && options.analyze !== 'never') throw new Error('--analyze must be auto or never');
if (options.attack && !existsSync(options.attack)) {
  throw new Error(`ATT&CK file not found: ${options.attack} (pass --attack none to load generated objects only)`);
}

// ---------------------------------------------------------------------------------------
// Small utilities

const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (n: number, digits = 2) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : null);
const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const fmtMs = (n: number) => (!Number.isFinite(n) ? '—' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const cleanups: (() => Promise<void> | void)[] = [];
async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()!();
    } catch (error) {
      log(`cleanup failed: ${(error as Error).message}`);
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    void runCleanups().finally(() => process.exit(130));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

function request(port: number, method: string, urlPath: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------
// Processes: our server, the ceiling, memory sampling

/** The built server when dist/ holds an up-to-date .js for every source file; else src/ through tsx. */
function serverCommand(): { args: string[]; kind: 'dist' | 'tsx'; why: string } {
  const tsx = { args: ['--import', 'tsx', 'src/server.ts'], kind: 'tsx' as const };
  if (options.server === 'tsx') return { ...tsx, why: '--server tsx' };
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (rel.endsWith('.ts') && !rel.endsWith('.d.ts')) {
        const js = path.join(ROOT, 'dist', rel.replace(/\.ts$/, '.js'));
        if (!existsSync(js) || statSync(js).mtimeMs < statSync(path.join(ROOT, rel)).mtimeMs) stale.push(rel);
      }
    }
  };
  walk('src');
  walk('migrations');
  if (stale.length === 0) return { args: ['dist/src/server.js'], kind: 'dist', why: 'dist/ is up to date' };
  if (options.server === 'dist') throw new Error(`--server dist: dist/ is stale or incomplete (${stale.slice(0, 5).join(', ')}…); run npm run build`);
  return { ...tsx, why: `dist/ is stale or incomplete (${stale.length} source files newer or missing, e.g. ${stale[0]}): running src/ through tsx` };
}

/** sha256 over src/ and migrations/ (paths and contents), and the newest modification time: which code was measured. */
function sourceFingerprint(): { sha256: string; files: number; newest: string } {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else files.push(rel);
    }
  };
  walk('src');
  walk('migrations');
  files.sort();
  const hash = createHash('sha256');
  let newest = 0;
  for (const f of files) {
    hash.update(f).update('\0').update(readFileSync(path.join(ROOT, f))).update('\0');
    newest = Math.max(newest, statSync(path.join(ROOT, f)).mtimeMs);
  }
  return { sha256: hash.digest('hex').slice(0, 16), files: files.length, newest: new Date(newest).toISOString() };
}

interface Child {
  process: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

function startChild(args: string[], env: NodeJS.ProcessEnv, logFile: string): Child {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timeout = sleep(15_000).then(() => 'timeout');
      if ((await Promise.race([exited.then(() => 'exited'), timeout])) === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

async function startCeiling(logFile: string): Promise<{ child: Child; port: number }> {
  const port = await freePort();
  const child = startChild(['--import', 'tsx', 'bench/ceiling.ts'], { ...process.env, PORT: String(port) }, logFile);
  cleanups.push(() => child.stop());
  await waitFor(port, '/', child, logFile, [404]);
  return { child, port };
}

async function waitFor(port: number, urlPath: string, child: Child, logFile: string, okStatuses: number[]): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.process.exitCode !== null) {
      throw new Error(`process exited with code ${child.process.exitCode}; log:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    }
    try {
      const res = await request(port, 'GET', urlPath);
      if (okStatuses.includes(res.status)) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no answer on port ${port} after 180 s; log: ${logFile}`);
    await sleep(200);
  }
}

interface RssSample {
  t: number;
  mib: number;
  phase: string;
}

class RssSampler {
  readonly samples: RssSample[] = [];
  phase = 'start';
  private readonly timer: NodeJS.Timeout;
  private readonly started = Date.now();

  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 500);
    this.timer.unref();
    this.sample();
  }

  private sample(): void {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1]);
      if (Number.isFinite(kb)) this.samples.push({ t: (Date.now() - this.started) / 1000, mib: kb / 1024, phase: this.phase });
    } catch {
      // the process is gone
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  max(phase?: string): number {
    let m = 0;
    for (const s of this.samples) if (!phase || s.phase === phase) m = Math.max(m, s.mib);
    return m;
  }

  /** At most `points` samples: the largest of each time bucket. */
  series(points: number): [number, number, string][] {
    if (this.samples.length <= points) return this.samples.map((s) => [round(s.t, 1)!, round(s.mib, 1)!, s.phase]);
    const size = Math.ceil(this.samples.length / points);
    const out: [number, number, string][] = [];
    for (let i = 0; i < this.samples.length; i += size) {
      const bucket = this.samples.slice(i, i + size);
      const top = bucket.reduce((a, b) => (b.mib > a.mib ? b : a));
      out.push([round(top.t, 1)!, round(top.mib, 1)!, top.phase]);
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------
// Databases

interface BenchDatabase {
  env: Record<string, string>;
  describe: string;
  stats(): Promise<Record<string, unknown>>;
  /** Waits until the database runs no query of our server (requests abandoned at the end of a measurement). */
  drain(ourPort: number): Promise<void>;
  /** Called between load chunks with the number of rows written so far (autoanalyze emulation). */
  afterChunk(rowsWritten: number): Promise<void>;
  /** Called once after the load. */
  afterLoad(rowsWritten: number): Promise<void>;
  analyzeReport(): Record<string, unknown>;
  drop(): Promise<void>;
}

/** The embedded database runs one query at a time in the server: a request answered means the queue before it is done. */
async function drainThroughServer(ourPort: number): Promise<void> {
  await request(ourPort, 'GET', '/taxii2/');
}

async function createPostgres(): Promise<BenchDatabase> {
  const name = `taxii_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: options.postgresUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(options.postgresUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const query = async (text: string) => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query(text)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  let watcher: pg.Client | undefined;
  const settings = await (async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query(`select current_setting('autovacuum') as autovacuum, current_setting('autovacuum_naptime') as naptime`)).rows[0] as { autovacuum: string; naptime: string };
    } finally {
      await client.end();
    }
  })();
  const emulate = options.analyze === 'auto' && settings.autovacuum === 'off';
  const runs: { afterRows: number; ms: number; final: boolean }[] = [];
  let analysedAtRows = 0;
  let analysedAt = Date.now();
  const analyze = async (rows: number, final: boolean) => {
    const t = performance.now();
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query('analyze');
    } finally {
      await client.end();
    }
    runs.push({ afterRows: rows, ms: round(performance.now() - t, 0)!, final });
    analysedAtRows = rows;
    analysedAt = Date.now();
    log(`ANALYZE after ${rows} rows (${runs[runs.length - 1]!.ms} ms; autovacuum is off on this server)`);
  };
  return {
    async afterChunk(rows) {
      if (emulate && rows - analysedAtRows > 50 + 0.1 * analysedAtRows && Date.now() - analysedAt >= 60_000) await analyze(rows, false);
    },
    // By the time of the reads, autovacuum would have caught up with the threshold.
    async afterLoad(rows) {
      if (emulate && rows - analysedAtRows > 50 + 0.1 * analysedAtRows) await analyze(rows, true);
    },
    analyzeReport: () => ({ mode: options.analyze, serverAutovacuum: settings.autovacuum, emulated: emulate, runs }),
    env: { DATABASE_URL: databaseUrl },
    describe: `PostgreSQL ${url.host}, database ${name}`,
    async drain(ourPort) {
      if (!watcher) {
        watcher = new pg.Client({ connectionString: databaseUrl });
        await watcher.connect();
      }
      const deadline = Date.now() + 300_000;
      for (;;) {
        const { rows } = await watcher.query(`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and state = 'active' and pid <> pg_backend_pid()`);
        if ((rows[0] as { n: number }).n === 0 || Date.now() > deadline) break;
        await sleep(50);
      }
      await drainThroughServer(ourPort);
    },
    async stats() {
      const [size] = await query('select pg_database_size(current_database()) as bytes, version() as version');
      const tables = await query(`select relname, n_live_tup, n_dead_tup, last_autoanalyze, last_analyze, last_autovacuum, autoanalyze_count
        from pg_stat_user_tables where relname in ('object_versions', 'statuses', 'status_details') order by relname`);
      const settings = await query(`select name, setting, unit from pg_settings where name in ('shared_buffers', 'work_mem', 'max_connections', 'effective_cache_size', 'random_page_cost', 'jit')`);
      return { databaseBytes: Number(size?.bytes), version: size?.version, tables, settings };
    },
    async drop() {
      await watcher?.end().catch(() => {});
      watcher = undefined;
      if (options.keepDb) {
        log(`kept database: ${databaseUrl}`);
        return;
      }
      const client = new pg.Client({ connectionString: options.postgresUrl });
      await client.connect();
      await client.query(`drop database if exists "${name}" with (force)`);
      await client.end();
    },
  };
}

function duBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? duBytes(p) : statSync(p).size;
  }
  return total;
}

function createEmbedded(tmp: string): BenchDatabase {
  const dataDir = path.join(tmp, 'pglite');
  return {
    env: { DATA_DIR: dataDir },
    describe: `embedded PGlite in ${dataDir}`,
    async stats() {
      return { dataDirBytes: existsSync(dataDir) ? duBytes(dataDir) : null };
    },
    drain: drainThroughServer,
    async afterChunk() {},
    async afterLoad() {},
    analyzeReport: () => ({ mode: 'n/a', note: 'PGlite runs single-user: no autovacuum, no ANALYZE by the benchmark' }),
    async drop() {},
  };
}

// ---------------------------------------------------------------------------------------
// Load

interface IngestSide {
  objects: number;
  bytes: number;
  ms: number;
  perChunkMs: number[];
  perChunkObjects: number[];
}

interface IngestFigure {
  ours: IngestSide;
  ceiling: IngestSide;
  successes: number;
  failures: number;
  failureExamples: string[];
  httpErrors: string[];
}

interface Envelope {
  body: Buffer;
  count: number;
}

function newIngest(): IngestFigure {
  const side = (): IngestSide => ({ objects: 0, bytes: 0, ms: 0, perChunkMs: [], perChunkObjects: [] });
  return { ours: side(), ceiling: side(), successes: 0, failures: 0, failureExamples: [], httpErrors: [] };
}

/** POSTs the envelopes with `concurrency` requests in flight; returns elapsed ms. */
async function postAll(port: number, envelopes: Envelope[], headers: Record<string, string>, onResponse: (res: HttpResponse) => void): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < envelopes.length) {
      const envelope = envelopes[next++]!;
      onResponse(await request(port, 'POST', `/${API_ROOT}/collections/${COLLECTION_ID}/objects/`, { ...headers, 'content-length': String(envelope.body.length) }, envelope.body));
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, envelopes.length) }, worker));
  return performance.now() - started;
}

/** Posts one chunk of envelopes to both servers, alternating which goes first. */
async function ingestChunk(figure: IngestFigure, envelopes: Envelope[], ourPort: number, ceilingPort: number, index: number): Promise<void> {
  const headers = { 'content-type': TAXII, accept: TAXII, authorization: basic('producer', PRODUCER_PASSWORD) };
  const objects = envelopes.reduce((n, e) => n + e.count, 0);
  const bytes = envelopes.reduce((n, e) => n + e.body.length, 0);
  const ours = async () => {
    const ms = await postAll(ourPort, envelopes, headers, (res) => {
      if (res.status !== 202) {
        if (figure.httpErrors.length < 5) figure.httpErrors.push(`HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
        return;
      }
      const status = JSON.parse(res.body.toString('utf8')) as { success_count: number; failure_count: number; failures?: { id: string; message?: string }[] };
      figure.successes += status.success_count;
      figure.failures += status.failure_count;
      for (const f of status.failures ?? []) if (figure.failureExamples.length < 5) figure.failureExamples.push(`${f.id}: ${f.message ?? ''}`.slice(0, 300));
    });
    figure.ours.ms += ms;
    figure.ours.perChunkMs.push(ms);
    figure.ours.perChunkObjects.push(objects);
    figure.ours.objects += objects;
    figure.ours.bytes += bytes;
  };
  const ceiling = async () => {
    const ms = await postAll(ceilingPort, envelopes, headers, (res) => {
      if (res.status !== 202 && figure.httpErrors.length < 5) figure.httpErrors.push(`ceiling HTTP ${res.status}`);
    });
    figure.ceiling.ms += ms;
    figure.ceiling.perChunkMs.push(ms);
    figure.ceiling.perChunkObjects.push(objects);
    figure.ceiling.objects += objects;
    figure.ceiling.bytes += bytes;
  };
  if (index % 2 === 0) {
    await ceiling();
    await ours();
  } else {
    await ours();
    await ceiling();
  }
}

function envelopeOf(objects: unknown[]): Envelope {
  return { body: Buffer.from(JSON.stringify({ objects }), 'utf8'), count: objects.length };
}

function readAttack(file: string): StixObject[] {
  const raw = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const bundle = JSON.parse(text) as { objects?: StixObject[] };
  return bundle.objects ?? [];
}

interface LoadResult {
  attack?: IngestFigure;
  generated: IngestFigure;
  /** ids to read one by one. */
  sampleIds: string[];
  /** An id near the end of the load, for the added_after poll. */
  nearEndId: string;
  generatedObjects: number;
  ms: number;
}

async function load(n: number, ourPort: number, ceilingPort: number, db: BenchDatabase): Promise<LoadResult> {
  const started = performance.now();
  const chunkSize = options.concurrency * 2;
  let attack: IngestFigure | undefined;
  if (options.attack) {
    attack = newIngest();
    const objects = readAttack(options.attack);
    log(`loading ATT&CK: ${objects.length} objects`);
    const envelopes: Envelope[] = [];
    for (let i = 0; i < objects.length; i += options.envelope) envelopes.push(envelopeOf(objects.slice(i, i + options.envelope)));
    for (let i = 0; i < envelopes.length; i += chunkSize) {
      await ingestChunk(attack, envelopes.slice(i, i + chunkSize), ourPort, ceilingPort, i / chunkSize);
      await db.afterChunk(attack.ours.objects);
    }
    log(`ATT&CK: ${(attack.ours.objects / (attack.ours.ms / 1000)).toFixed(0)} objects/s (ceiling ${(attack.ceiling.objects / (attack.ceiling.ms / 1000)).toFixed(0)})`);
  }

  const generated = newIngest();
  const sampler = new Rng(`${options.seed}/sample`);
  const sampleIds: string[] = [];
  const recent: string[] = [];
  let seen = 0;
  let chunk: Envelope[] = [];
  let chunkIndex = 0;
  let lastReport = performance.now();
  const generator = new StixGenerator({ count: n, seed: options.seed });
  for (const batch of generator.batches(options.envelope)) {
    for (const object of batch) {
      // Reservoir of ids to read one by one (any type but the fixed reference objects).
      if (object.type !== 'marking-definition' && object.type !== 'extension-definition') {
        seen++;
        if (sampleIds.length < 200) sampleIds.push(object.id);
        else {
          const j = Math.floor(sampler.next() * seen);
          if (j < 200) sampleIds[j] = object.id;
        }
      }
      recent.push(object.id);
      if (recent.length > 200) recent.shift();
    }
    chunk.push(envelopeOf(batch));
    if (chunk.length === chunkSize) {
      await ingestChunk(generated, chunk, ourPort, ceilingPort, chunkIndex++);
      await db.afterChunk((attack?.ours.objects ?? 0) + generated.ours.objects);
      chunk = [];
      if (performance.now() - lastReport > 15_000) {
        lastReport = performance.now();
        log(`loaded ${generated.ours.objects}/${n} generated objects, ${(generated.ours.objects / (generated.ours.ms / 1000)).toFixed(0)} objects/s`);
      }
    }
  }
  if (chunk.length > 0) await ingestChunk(generated, chunk, ourPort, ceilingPort, chunkIndex);
  await db.afterLoad((attack?.ours.objects ?? 0) + generated.ours.objects);
  log(`generated: ${(generated.ours.objects / (generated.ours.ms / 1000)).toFixed(0)} objects/s (ceiling ${(generated.ceiling.objects / (generated.ceiling.ms / 1000)).toFixed(0)})`);
  const nearEndId = recent[Math.max(0, recent.length - 50)] ?? sampleIds[0]!;
  return { ...(attack ? { attack } : {}), generated, sampleIds, nearEndId, generatedObjects: n, ms: performance.now() - started };
}

// ---------------------------------------------------------------------------------------
// Reads

interface Shot {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** Set when the round counted requests rather than seconds (slow endpoints). */
  amount?: number;
}

interface SideStats {
  rps: number;
  p50: number;
  p99: number;
  rounds: Shot[];
}

interface ReadFigure {
  key: string;
  label: string;
  ours: SideStats;
  ceiling: SideStats;
  ratio: number;
  responseBytes: number;
  /** Non-2xx answers and errors of our server over the rounds. */
  failedRequests: number;
  note?: string;
}

interface ReadSpec {
  key: string;
  label: string;
  paths: string[];
  headers: Record<string, string>;
}

async function cannon(port: number, spec: ReadSpec, seconds: number, amount?: number): Promise<Shot> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: options.connections,
    ...(amount ? { amount } : { duration: seconds }),
    timeout: 300,
    headers: spec.headers,
    requests: spec.paths.map((p) => ({ method: 'GET', path: p })),
  });
  return {
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    ...(amount ? { amount } : {}),
  };
}

/**
 * One measurement of our server. When requests are so slow that fewer than one per
 * connection completes within the duration, the round is repeated with a fixed count
 * instead (two per connection), however long that takes. Afterwards it waits until the
 * database is idle, so that requests abandoned at the end do not slow the next round.
 */
async function cannonOurs(port: number, spec: ReadSpec, seconds: number, db: BenchDatabase): Promise<Shot> {
  let shot = await cannon(port, spec, seconds);
  await db.drain(port);
  if (shot.requests < options.connections) {
    shot = await cannon(port, spec, seconds, options.connections * 2);
    await db.drain(port);
  }
  return shot;
}

const sideStats = (shots: Shot[]): SideStats => ({
  rps: median(shots.map((s) => s.rps)),
  p50: median(shots.map((s) => s.p50)),
  p99: median(shots.map((s) => s.p99)),
  rounds: shots,
});

/** Registers one of our responses with the ceiling, to be answered byte for byte at the same URL. */
async function register(ceilingPort: number, urlPath: string, res: HttpResponse): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (typeof v === 'string' && !['content-length', 'connection', 'keep-alive', 'date', 'transfer-encoding'].includes(k)) headers[k] = v;
  }
  const put = await request(ceilingPort, 'PUT', `/__ceiling?url=${encodeURIComponent(urlPath)}`, { 'content-type': 'application/json' },
    JSON.stringify({ status: res.status, headers, body: res.body.toString('utf8') }));
  if (put.status !== 204) throw new Error(`ceiling refused page ${urlPath}: ${put.status}`);
}

/** Fetches our answer for every path once and registers the same bytes with the ceiling. */
async function mirror(ourPort: number, ceilingPort: number, spec: ReadSpec): Promise<number> {
  let bytes = 0;
  for (const p of spec.paths) {
    const res = await request(ourPort, 'GET', p, spec.headers);
    if (res.status !== 200) throw new Error(`${spec.label}: GET ${p} answered ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
    bytes += res.body.length;
    await register(ceilingPort, p, res);
  }
  return Math.round(bytes / spec.paths.length);
}

async function measureRead(ourPort: number, ceilingPort: number, spec: ReadSpec, db: BenchDatabase): Promise<ReadFigure> {
  const t = performance.now();
  const responseBytes = await mirror(ourPort, ceilingPort, spec);
  const firstMs = performance.now() - t;
  if (options.warmup > 0) {
    // A warm-up longer than one request would be; a very slow endpoint is warmed by the request above.
    if (firstMs < options.warmup * 1000) {
      await cannon(ourPort, spec, options.warmup);
      await db.drain(ourPort);
    }
    await cannon(ceilingPort, spec, options.warmup);
  }
  const ours: Shot[] = [];
  const ceiling: Shot[] = [];
  for (let r = 0; r < options.rounds; r++) {
    if (r % 2 === 0) {
      ours.push(await cannonOurs(ourPort, spec, options.duration, db));
      ceiling.push(await cannon(ceilingPort, spec, options.duration));
    } else {
      ceiling.push(await cannon(ceilingPort, spec, options.duration));
      ours.push(await cannonOurs(ourPort, spec, options.duration, db));
    }
  }
  const failedRequests = ours.reduce((n, s) => n + s.non2xx + s.errors, 0);
  const figure: ReadFigure = { key: spec.key, label: spec.label, ours: sideStats(ours), ceiling: sideStats(ceiling), ratio: NaN, responseBytes, failedRequests };
  figure.ratio = figure.ours.rps / figure.ceiling.rps;
  if (failedRequests > 0) figure.note = `${failedRequests} non-2xx answers or errors from our server`;
  if (ours.some((s) => s.amount)) {
    figure.note = `${figure.note ? `${figure.note}; ` : ''}too slow for ${options.duration} s rounds: measured over ${options.connections * 2} requests per round (one request alone: ${(firstMs / 1000).toFixed(1)} s)`;
  }
  log(`${spec.label}: ours ${figure.ours.rps.toFixed(0)} req/s p50 ${fmtMs(figure.ours.p50)} ms; ceiling ${figure.ceiling.rps.toFixed(0)} req/s; ratio ${figure.ratio.toFixed(3)}`);
  return figure;
}

// ---------------------------------------------------------------------------------------
// Full crawl

interface CrawlFigure {
  ours: { pages: number; objects: number; ms: number; objectsPerSecond: number; pageMsP50: number; pageMsP99: number; slowestPages: { page: number; ms: number }[] };
  ceiling: { pages: number; objects: number; ms: number; objectsPerSecond: number };
  ratio: number;
  medianSegmentRatio: number;
  rssMaxMiB: number;
}

async function crawl(ourPort: number, ceilingPort: number, headers: Record<string, string>, rss: RssSampler): Promise<CrawlFigure> {
  const base = `/${API_ROOT}/collections/${COLLECTION_ID}/objects/?limit=1000`;
  let next: string | undefined;
  let done = false;
  const ours = { pages: 0, objects: 0, ms: 0, objectsPerSecond: 0, pageMsP50: 0, pageMsP99: 0, slowestPages: [] as { page: number; ms: number }[] };
  const pageMs: number[] = [];
  const ceiling = { pages: 0, objects: 0, ms: 0, objectsPerSecond: 0 };
  const segmentRatios: number[] = [];
  const getPage = async (port: number, urlPath: string) => {
    const res = await request(port, 'GET', urlPath, headers);
    if (res.status !== 200) throw new Error(`crawl: GET ${urlPath} answered ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
    const envelope = JSON.parse(res.body.toString('utf8')) as { objects?: unknown[]; more?: boolean; next?: string };
    return { res, envelope };
  };
  rss.phase = 'crawl';
  for (let segment = 0; !done; segment++) {
    // Ours: up to `crawlSegment` pages following next.
    let segmentPages = 0;
    let segmentObjects = 0;
    let segmentMs = 0;
    const served: { urlPath: string; res: HttpResponse }[] = [];
    while (!done && segmentPages < options.crawlSegment) {
      const urlPath = next ? `${base}&next=${encodeURIComponent(next)}` : base;
      const t = performance.now();
      const { res, envelope } = await getPage(ourPort, urlPath);
      const ms = performance.now() - t;
      served.push({ urlPath, res });
      pageMs.push(ms);
      segmentMs += ms;
      segmentPages++;
      segmentObjects += envelope.objects?.length ?? 0;
      next = envelope.more ? envelope.next : undefined;
      done = !envelope.more;
    }
    ours.pages += segmentPages;
    ours.objects += segmentObjects;
    ours.ms += segmentMs;
    // Ceiling: the very pages ours just served (same URLs, same bytes), registered untimed.
    await request(ceilingPort, 'DELETE', '/__ceiling');
    for (const { urlPath, res } of served) await register(ceilingPort, urlPath, res);
    let ceilingMs = 0;
    let ceilingObjects = 0;
    for (const { urlPath } of served) {
      const t = performance.now();
      const { envelope } = await getPage(ceilingPort, urlPath);
      ceilingMs += performance.now() - t;
      ceilingObjects += envelope.objects?.length ?? 0;
    }
    ceiling.pages += served.length;
    ceiling.objects += ceilingObjects;
    ceiling.ms += ceilingMs;
    if (segmentObjects > 0 && ceilingObjects > 0) segmentRatios.push((segmentObjects / segmentMs) / (ceilingObjects / ceilingMs));
    if (segment % 20 === 19) log(`crawl: ${ours.objects} objects, ${(ours.objects / (ours.ms / 1000)).toFixed(0)} objects/s, RSS ${rss.max('crawl').toFixed(0)} MiB`);
  }
  ours.objectsPerSecond = ours.objects / (ours.ms / 1000);
  const sortedMs = [...pageMs].sort((a, b) => a - b);
  ours.pageMsP50 = round(median(pageMs), 1)!;
  ours.pageMsP99 = round(sortedMs[Math.min(sortedMs.length - 1, Math.floor(sortedMs.length * 0.99))] ?? NaN, 1)!;
  ours.slowestPages = pageMs.map((ms, page) => ({ page, ms: round(ms, 1)! })).sort((a, b) => b.ms - a.ms).slice(0, 5);
  ceiling.objectsPerSecond = ceiling.objects / (ceiling.ms / 1000);
  const figure: CrawlFigure = {
    ours,
    ceiling,
    ratio: ours.objectsPerSecond / ceiling.objectsPerSecond,
    medianSegmentRatio: median(segmentRatios),
    rssMaxMiB: rss.max('crawl'),
  };
  log(`crawl: ${ours.objects} objects in ${ours.pages} pages, ${ours.objectsPerSecond.toFixed(0)} objects/s (ceiling ${ceiling.objectsPerSecond.toFixed(0)}), ratio ${figure.ratio.toFixed(3)}, RSS max ${figure.rssMaxMiB.toFixed(0)} MiB`);
  return figure;
}

// ---------------------------------------------------------------------------------------
// One run

interface Check {
  figure: string;
  ours: string;
  ceiling: string;
  ratio: string;
  target: string;
  pass: boolean | null;
}

interface RunResult {
  kind: 'taxii-hub-bench';
  version: 1;
  startedAt: string;
  db: 'postgres' | 'embedded';
  objects: number;
  stored: { attack: number; generated: number; latestVersionsCrawled: number };
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string; loadavg: number[] };
  settings: Record<string, unknown>;
  server: { command: string; why: string; logLevel: string; source: { sha256: string; files: number; newest: string } };
  durationsS: Record<string, number>;
  ingest: Record<string, unknown>;
  reads: Record<string, ReadFigure>;
  l1VsUnfiltered: number;
  crawl: CrawlFigure;
  rss: { maxMiB: number; maxByPhase: Record<string, number>; series: [number, number, string][] };
  database: Record<string, unknown>;
  checks: Check[];
  problems: string[];
}

function seedFile(apiKey: string): string {
  return JSON.stringify({
    api_roots: [{ id: API_ROOT, title: 'Benchmark', description: 'taxii-hub benchmark root', default: true }],
    collections: [{ id: COLLECTION_ID, api_root: API_ROOT, title: 'Benchmark indicators', alias: 'bench', default_tlp: 'amber' }],
    organisations: [{ name: 'Bench producers' }, { name: 'Hub operators' }, { name: 'L1 member' }],
    accounts: [
      { username: 'producer', organisation: 'Bench producers', password: PRODUCER_PASSWORD },
      { username: 'operator', organisation: 'Hub operators', admin: true, password: OPERATOR_PASSWORD },
      { username: 'l1-reader', organisation: 'L1 member', api_keys: [{ label: 'bench', key: apiKey }] },
    ],
    permissions: [
      { organisation: 'Bench producers', collection: 'bench', read: true, write: true },
      { organisation: 'L1 member', collection: 'bench', read: true },
    ],
    bindings: [{ organisation: 'L1 member', profile: 'L1' }],
  }, null, 2);
}

async function runOne(db: 'postgres' | 'embedded', n: number, stamp: string): Promise<RunResult> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const source = sourceFingerprint();
  const durations: Record<string, number> = {};
  const problems: string[] = [];
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'taxii-bench-'));
  cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
  const base = path.join(options.out, `${stamp}-${db}-${n}`);
  const apiKey = `thk_${randomBytes(12).toString('hex')}_${randomBytes(32).toString('base64url')}`;
  const seedPath = path.join(tmp, 'seed.json');
  writeFileSync(seedPath, seedFile(apiKey));

  const database = db === 'postgres' ? await createPostgres() : createEmbedded(tmp);
  cleanups.push(() => database.drop());
  log(`${db}, N=${n}: ${database.describe}`);

  const { child: ceilingChild, port: ceilingPort } = await startCeiling(`${base}.ceiling.log`);
  const command = serverCommand();
  const ourPort = await freePort();
  // The benchmark's one account polls far beyond RATE_LIMIT_PER_MINUTE: measure the server, not the limit.
  const env: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', PORT: String(ourPort), LOG_LEVEL: options.logLevel, DEMO: 'false', RATE_LIMIT_ENABLED: 'false', ...database.env };
  if (db === 'embedded') delete env.DATABASE_URL;
  const serverLog = `${base}.server.log`;
  const t0 = performance.now();
  const ours = startChild([...options.serverNodeArgs, ...command.args, '--seed', seedPath], env, serverLog);
  cleanups.push(() => ours.stop());
  const rss = new RssSampler(ours.pid);
  await waitFor(ourPort, '/taxii2/', ours, serverLog, [200, 401]);
  durations.serverStart = (performance.now() - t0) / 1000;
  log(`server up (${command.kind}) on port ${ourPort} in ${durations.serverStart.toFixed(1)} s; ceiling on ${ceilingPort}`);

  // Load.
  rss.phase = 'load';
  const loaded = await load(n, ourPort, ceilingPort, database);
  durations.load = loaded.ms / 1000;
  for (const [name, figure] of [['ATT&CK', loaded.attack], ['generated', loaded.generated]] as const) {
    if (!figure) continue;
    if (figure.httpErrors.length > 0) problems.push(`ingest ${name}: ${figure.httpErrors.join(' | ')}`);
    if (figure.failures > 0) problems.push(`ingest ${name}: ${figure.failures} objects refused, e.g. ${figure.failureExamples.join(' | ')}`);
  }

  // Reads.
  rss.phase = 'reads';
  const t1 = performance.now();
  const admin = { accept: TAXII, authorization: basic('operator', OPERATOR_PASSWORD) };
  const l1 = { accept: TAXII, authorization: `Bearer ${apiKey}` };
  const objectsPath = `/${API_ROOT}/collections/${COLLECTION_ID}/objects/`;
  const nearEnd = await request(ourPort, 'GET', `${objectsPath}${loaded.nearEndId}/`, admin);
  const addedAfter = nearEnd.headers['x-taxii-date-added-last'];
  if (nearEnd.status !== 200 || typeof addedAfter !== 'string') throw new Error(`cannot read ${loaded.nearEndId} for added_after: ${nearEnd.status}`);
  const addedAfterPath = `${objectsPath}?added_after=${encodeURIComponent(addedAfter)}&limit=100`;
  const addedAfterCount = (JSON.parse((await request(ourPort, 'GET', addedAfterPath, admin)).body.toString('utf8')) as { objects?: unknown[] }).objects?.length ?? 0;
  const l1Count = (JSON.parse((await request(ourPort, 'GET', `${objectsPath}?limit=100`, l1)).body.toString('utf8')) as { objects?: unknown[] }).objects?.length ?? 0;
  const specs: ReadSpec[] = [
    { key: 'discovery', label: 'discovery', paths: ['/taxii2/'], headers: admin },
    { key: 'collections', label: 'collections', paths: [`/${API_ROOT}/collections/`], headers: admin },
    { key: 'objects', label: 'objects limit=100', paths: [`${objectsPath}?limit=100`], headers: admin },
    { key: 'objectsIndicator', label: 'objects match[type]=indicator limit=100', paths: [`${objectsPath}?match%5Btype%5D=indicator&limit=100`], headers: admin },
    { key: 'manifest', label: 'manifest limit=100', paths: [`/${API_ROOT}/collections/${COLLECTION_ID}/manifest/?limit=100`], headers: admin },
    { key: 'objectById', label: `object by id (${loaded.sampleIds.length} ids)`, paths: loaded.sampleIds.map((id) => `${objectsPath}${id}/`), headers: admin },
    { key: 'addedAfter', label: `added_after poll near the end (${addedAfterCount} objects)`, paths: [addedAfterPath], headers: admin },
    { key: 'l1Poll', label: `L1 view poll limit=100 (${l1Count} objects)`, paths: [`${objectsPath}?limit=100`], headers: l1 },
  ];
  const reads: Record<string, ReadFigure> = {};
  for (const spec of specs) {
    reads[spec.key] = await measureRead(ourPort, ceilingPort, spec, database);
    if (reads[spec.key]!.failedRequests > 0) problems.push(`${spec.label}: ${reads[spec.key]!.note}`);
  }
  durations.reads = (performance.now() - t1) / 1000;

  // Full crawl.
  const t2 = performance.now();
  const crawled = await crawl(ourPort, ceilingPort, admin, rss);
  durations.crawl = (performance.now() - t2) / 1000;
  rss.phase = 'end';
  await sleep(600);

  const databaseStats = { analyze: database.analyzeReport(), ...(await database.stats().catch((error: unknown) => ({ error: String(error) }))) };
  rss.stop();
  await ours.stop();
  await ceilingChild.stop();
  await runCleanups();
  durations.total = (performance.now() - started) / 1000;

  // Figures and checks.
  const held = db === 'postgres';
  const checks: Check[] = [];
  const ingestRate = (s: IngestSide) => s.objects / (s.ms / 1000);
  const ingest: Record<string, unknown> = {};
  for (const [name, figure] of [['attack', loaded.attack], ['generated', loaded.generated]] as const) {
    if (!figure) continue;
    const ratio = figure.ceiling.ms / figure.ours.ms;
    const chunkRatios = figure.ours.perChunkMs.map((ms, i) => figure.ceiling.perChunkMs[i]! / ms);
    // Our rate along the load: [objects loaded so far, objects/s of that chunk], at most 40 points.
    const rates: [number, number][] = [];
    let loadedSoFar = 0;
    figure.ours.perChunkMs.forEach((ms, i) => {
      loadedSoFar += figure.ours.perChunkObjects[i]!;
      rates.push([loadedSoFar, round(figure.ours.perChunkObjects[i]! / (ms / 1000), 0)!]);
    });
    const every = Math.max(1, Math.ceil(rates.length / 40));
    const oursRateAlongLoad = rates.filter((_, i) => i % every === 0 || i === rates.length - 1);
    ingest[name] = {
      objects: figure.ours.objects,
      bytes: figure.ours.bytes,
      oursObjectsPerSecond: round(ingestRate(figure.ours), 1),
      ceilingObjectsPerSecond: round(ingestRate(figure.ceiling), 1),
      ratio: round(ratio, 4),
      medianChunkRatio: round(median(chunkRatios), 4),
      oursSeconds: round(figure.ours.ms / 1000, 2),
      ceilingSeconds: round(figure.ceiling.ms / 1000, 2),
      oursFirstChunkObjectsPerSecond: rates[0]?.[1],
      oursLastChunkObjectsPerSecond: rates[rates.length - 1]?.[1],
      oursRateAlongLoad,
      successes: figure.successes,
      failures: figure.failures,
      failureExamples: figure.failureExamples,
    };
    checks.push({
      figure: `ingest ${name === 'attack' ? 'ATT&CK' : 'generated'} (objects/s, full validation vs parse-only)`,
      ours: fmtInt(ingestRate(figure.ours)),
      ceiling: fmtInt(ingestRate(figure.ceiling)),
      ratio: ratio.toFixed(3),
      target: '≥ 0.30',
      pass: held ? ratio >= 0.3 : null,
    });
  }
  const targets: Record<string, number> = { objects: 0.2, manifest: 0.2, objectById: 0.2, addedAfter: 0.2, l1Poll: 0.15 };
  for (const figure of Object.values(reads)) {
    const target = targets[figure.key];
    checks.push({
      figure: `${figure.label} (req/s; p50 / p99 ms)`,
      ours: `${fmtInt(figure.ours.rps)} (${fmtMs(figure.ours.p50)} / ${fmtMs(figure.ours.p99)})`,
      ceiling: `${fmtInt(figure.ceiling.rps)} (${fmtMs(figure.ceiling.p50)} / ${fmtMs(figure.ceiling.p99)})`,
      ratio: figure.ratio.toFixed(3),
      target: target === undefined ? '—' : `≥ ${target.toFixed(2)}`,
      pass: target === undefined || !held ? null : figure.ratio >= target && figure.failedRequests === 0,
    });
  }
  const l1VsUnfiltered = reads.l1Poll!.ours.rps / reads.objects!.ours.rps;
  checks.push({
    figure: 'L1 view poll vs our unfiltered poll (req/s)',
    ours: `${fmtInt(reads.l1Poll!.ours.rps)} vs ${fmtInt(reads.objects!.ours.rps)}`,
    ceiling: '—',
    ratio: l1VsUnfiltered.toFixed(3),
    target: '≥ 0.67',
    pass: held ? l1VsUnfiltered >= 0.67 : null,
  });
  checks.push({
    figure: `full crawl limit=1000 (objects/s; ${fmtInt(crawled.ours.objects)} objects, ${crawled.ours.pages} pages)`,
    ours: fmtInt(crawled.ours.objectsPerSecond),
    ceiling: fmtInt(crawled.ceiling.objectsPerSecond),
    ratio: `${crawled.ratio.toFixed(3)} (segments: ${crawled.medianSegmentRatio.toFixed(3)})`,
    target: '≥ 0.30',
    pass: held ? crawled.ratio >= 0.3 : null,
  });
  checks.push({
    figure: 'server RSS during the full crawl (max MiB)',
    ours: crawled.rssMaxMiB.toFixed(0),
    ceiling: '—',
    ratio: '—',
    target: '< 300 (at 1M)',
    pass: held ? crawled.rssMaxMiB < 300 : null,
  });

  const maxByPhase: Record<string, number> = {};
  for (const s of rss.samples) maxByPhase[s.phase] = round(Math.max(maxByPhase[s.phase] ?? 0, s.mib), 1)!;
  const cpus = os.cpus();
  return {
    kind: 'taxii-hub-bench',
    version: 1,
    startedAt,
    db,
    objects: n,
    stored: { attack: loaded.attack?.ours.objects ?? 0, generated: loaded.generated.ours.objects, latestVersionsCrawled: crawled.ours.objects },
    machine: { cpus: cpus.length, cpuModel: cpus[0]?.model ?? '?', memoryGiB: round(os.totalmem() / 2 ** 30, 1)!, node: process.version, platform: `${os.platform()} ${os.release()}`, loadavg: os.loadavg().map((l) => round(l, 2)!) },
    settings: {
      duration: options.duration, rounds: options.rounds, warmup: options.warmup, connections: options.connections,
      concurrency: options.concurrency, envelope: options.envelope, seed: options.seed, attack: options.attack ? path.relative(ROOT, options.attack) : 'none',
      crawlSegment: options.crawlSegment,
    },
    server: { command: `node ${[...options.serverNodeArgs, ...command.args].join(' ')}`, why: command.why, logLevel: options.logLevel, source },
    durationsS: Object.fromEntries(Object.entries(durations).map(([k, v]) => [k, round(v, 1)!])),
    ingest,
    reads,
    l1VsUnfiltered: round(l1VsUnfiltered, 4)!,
    crawl: crawled,
    rss: { maxMiB: round(rss.max(), 1)!, maxByPhase, series: rss.series(300) },
    database: databaseStats,
    checks,
    problems,
  };
}

// ---------------------------------------------------------------------------------------
// Reports

function markdown(r: RunResult): string {
  const lines: string[] = [];
  const held = r.db === 'postgres';
  lines.push(`# taxii-hub benchmark: ${r.db}, N = ${r.objects.toLocaleString('en-US')}`);
  lines.push('');
  lines.push(`${r.startedAt}; ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; server: \`${r.server.command}\` (${r.server.why}), LOG_LEVEL=${r.server.logLevel}.`);
  lines.push(`Source measured: src/ + migrations/ sha256 ${r.server.source.sha256} (${r.server.source.files} files, newest ${r.server.source.newest}). Statistics: \`${JSON.stringify(r.database.analyze)}\`.`);
  lines.push(`Loaded ${r.stored.attack.toLocaleString('en-US')} ATT&CK + ${r.stored.generated.toLocaleString('en-US')} generated objects; the full crawl served ${r.stored.latestVersionsCrawled.toLocaleString('en-US')} (latest versions).`);
  lines.push(`Reads: autocannon, ${r.settings.connections} connections, ${r.settings.rounds} alternating rounds of ${r.settings.duration} s per side, medians. Ratio = ours / ceiling (node:http answering the same bytes).${held ? '' : ' Embedded database: reported, not held to the targets.'}`);
  lines.push('');
  lines.push('| figure | ours | ceiling | ratio | target | pass |');
  lines.push('|---|---|---|---|---|---|');
  for (const c of r.checks) lines.push(`| ${c.figure} | ${c.ours} | ${c.ceiling} | ${c.ratio} | ${c.target} | ${c.pass === null ? (held ? '' : 'not held') : c.pass ? 'pass' : '**FAIL**'} |`);
  lines.push('');
  lines.push(`Durations (s): ${Object.entries(r.durationsS).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  lines.push('');
  for (const [name, value] of Object.entries(r.ingest)) {
    const along = (value as { oursRateAlongLoad?: [number, number][] }).oursRateAlongLoad ?? [];
    const step = Math.max(1, Math.ceil(along.length / 10));
    lines.push(`Ingest ${name}, our objects/s along the load (objects loaded: rate): ${along.filter((_, i) => i % step === 0 || i === along.length - 1).map(([n, v]) => `${n}: ${v}`).join(', ')}.`);
  }
  lines.push('');
  lines.push(`Crawl pages (ms): p50 ${r.crawl.ours.pageMsP50}, p99 ${r.crawl.ours.pageMsP99}, slowest ${r.crawl.ours.slowestPages.map((p) => `#${p.page} ${p.ms}`).join(', ')}.`);
  const notes = Object.values(r.reads).filter((f) => f.note).map((f) => `- ${f.label}: ${f.note}`);
  if (notes.length > 0) lines.push('', 'Notes:', ...notes);
  lines.push('');
  lines.push(`Server RSS (MiB), max by phase: ${Object.entries(r.rss.maxByPhase).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  const series = r.rss.series;
  const step = Math.max(1, Math.ceil(series.length / 24));
  lines.push(`RSS over time (s: MiB): ${series.filter((_, i) => i % step === 0 || i === series.length - 1).map(([t, m, p]) => `${t}: ${m.toFixed(0)} (${p})`).join(', ')}.`);
  lines.push('');
  lines.push(`Database: \`${JSON.stringify(r.database)}\``);
  if (r.problems.length > 0) {
    lines.push('');
    lines.push('Problems:');
    for (const p of r.problems) lines.push(`- ${p}`);
  }
  lines.push('');
  return lines.join('\n');
}

interface GrowthRow {
  figure: string;
  small: string;
  large: string;
  growth: number;
  normalised: number;
  basis: string;
  pass: boolean | null;
}

/** Growth from the smaller run to the larger: p50 of every read, ingest rate; raw and relative to the ceiling. */
function growth(small: RunResult, large: RunResult): string {
  const rows: GrowthRow[] = [];
  for (const [key, figure] of Object.entries(large.reads)) {
    const before = small.reads[key];
    if (!before) continue;
    // autocannon's latencies have a 1 ms resolution: below 5 ms the mean latency of the closed
    // loop (connections / req/s, Little's law) is the finer measure. The ceiling's req/s tells
    // the machine's speed in each run (its own p50 is usually under the resolution).
    const fine = before.ours.p50 >= 5 && figure.ours.p50 >= 5;
    const raw = fine ? figure.ours.p50 / before.ours.p50 : before.ours.rps / figure.ours.rps;
    const normalised = raw * (figure.ceiling.rps / before.ceiling.rps);
    rows.push({
      figure: `${figure.label.replace(/ \(.*\)$/, '')} p50 (ms)`, small: fmtMs(before.ours.p50), large: fmtMs(figure.ours.p50),
      growth: raw, normalised, basis: fine ? 'p50' : 'mean latency (p50 < 5 ms)', pass: large.db === 'postgres' ? normalised <= 1.5 : null,
    });
  }
  for (const name of ['generated', 'attack']) {
    const a = small.ingest[name] as { oursObjectsPerSecond: number; ceilingObjectsPerSecond: number } | undefined;
    const b = large.ingest[name] as { oursObjectsPerSecond: number; ceilingObjectsPerSecond: number } | undefined;
    if (!a || !b) continue;
    const raw = a.oursObjectsPerSecond / b.oursObjectsPerSecond;
    const normalised = (a.oursObjectsPerSecond / a.ceilingObjectsPerSecond) / (b.oursObjectsPerSecond / b.ceilingObjectsPerSecond);
    rows.push({ figure: `ingest ${name} (objects/s, slowdown)`, small: fmtInt(a.oursObjectsPerSecond), large: fmtInt(b.oursObjectsPerSecond), growth: raw, normalised, basis: 'objects/s', pass: large.db === 'postgres' ? normalised <= 1.5 : null });
  }
  const sameSource = small.server.source?.sha256 === large.server.source?.sha256;
  const lines = [
    ...(sameSource ? [] : [`> **The two runs measured different source** (src/ + migrations/ ${small.server.source?.sha256 ?? '?'} vs ${large.server.source?.sha256 ?? '?'}): the growth mixes code changes with data growth.`, '']),
    `## Growth ${small.db}: N = ${small.objects.toLocaleString('en-US')} (${small.startedAt}) → ${large.objects.toLocaleString('en-US')} (${large.startedAt})`,
    '',
    'Growth = larger / smaller (for ingest: smaller rate / larger rate), on p50, or on the mean latency (connections / req/s) when a p50 is under 5 ms (autocannon has a 1 ms resolution). Normalised = the same corrected by the ceiling measured in the same runs (× ceiling req/s growth; ingest on ratios to the ceiling), which cancels machine noise between runs; the target (≤ 1.5×) is held on it.',
    '',
    `| figure | N = ${small.objects.toLocaleString('en-US')} | N = ${large.objects.toLocaleString('en-US')} | growth | normalised | basis | target | pass |`,
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.figure} | ${r.small} | ${r.large} | ${r.growth.toFixed(2)}× | ${r.normalised.toFixed(2)}× | ${r.basis} | ≤ 1.5× | ${r.pass === null ? 'not held' : r.pass ? 'pass' : '**FAIL**'} |`),
    '',
  ];
  return lines.join('\n');
}

/** The most recent earlier result for this database with the smallest N below `n`, from the results directory. */
function previousBaseline(db: string, n: number): RunResult | undefined {
  if (!existsSync(options.out)) return undefined;
  const files = readdirSync(options.out).filter((f) => f.endsWith(`-${db}-10000.json`) || (f.includes(`-${db}-`) && f.endsWith('.json'))).sort();
  let best: RunResult | undefined;
  for (const f of files) {
    try {
      const r = JSON.parse(readFileSync(path.join(options.out, f), 'utf8')) as RunResult;
      if (r.kind !== 'taxii-hub-bench' || r.db !== db || r.objects >= n) continue;
      if (!best || r.objects < best.objects || (r.objects === best.objects && r.startedAt > best.startedAt)) best = r;
    } catch {
      // not a result file
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  mkdirSync(options.out, { recursive: true });
  const wall = performance.now();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, 'Z');
  const results: RunResult[] = [];
  for (const db of options.dbs) {
    for (const n of options.objects) {
      const result = await runOne(db, n, stamp);
      results.push(result);
      const md = markdown(result);
      const json = JSON.stringify(result);
      const base = path.join(options.out, `${stamp}-${db}-${n}`);
      writeFileSync(`${base}.md`, md);
      writeFileSync(`${base}.json`, `${json}\n`);
      process.stdout.write(`${md}\n${json}\n\n`);
      log(`${db} N=${n} done in ${result.durationsS.total} s; results in ${base}.{md,json}`);
    }
  }
  const growthSections: string[] = [];
  for (const db of options.dbs) {
    const mine = results.filter((r) => r.db === db).sort((a, b) => a.objects - b.objects);
    if (mine.length === 0) continue;
    const baseline = mine.length > 1 ? mine[0]! : previousBaseline(db, mine[0]!.objects);
    if (!baseline) continue;
    for (const r of mine) if (r !== baseline && r.objects > baseline.objects) growthSections.push(growth(baseline, r));
  }
  if (growthSections.length > 0) {
    const text = growthSections.join('\n');
    writeFileSync(path.join(options.out, `${stamp}-growth.md`), text);
    process.stdout.write(`${text}\n`);
  }
  log(`all done in ${((performance.now() - wall) / 1000).toFixed(0)} s`);
  agent.destroy();
}

main().catch(async (error: unknown) => {
  log(`failed: ${(error as Error).stack ?? String(error)}`);
  await runCleanups();
  process.exit(1);
});

import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolStats } from '../db/database.js';
import type { IngestOutcome, ServiceMetrics } from '../services/metrics.js';
import type { ReadKind } from '../services/read-objects.js';

/** Where the gauges read at scrape time come from. */
export interface MetricSources {
  poolStats(): PoolStats;
  /** Status resources still pending, from the database. */
  pendingStatuses(): Promise<number>;
}

const INGEST_OUTCOMES: IngestOutcome[] = ['stored', 'duplicate', 'failed'];
const READ_KINDS: ReadKind[] = ['objects', 'object', 'versions', 'manifest'];

/** The label of requests no route matched: never the raw URL, which would make a series per path. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The Prometheus metrics of one app. Each app has its own registry (tests
 * build several apps in one process, and two registrations of a metric name
 * in one registry throw).
 */
export class AppMetrics implements ServiceMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status_code'>;
  private readonly duration: Histogram<'method' | 'route'>;
  private readonly ingested: Counter<'outcome'>;
  private readonly served: Counter<'endpoint'>;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'taxii_http_requests_total',
      help: 'HTTP requests answered, by route pattern and status code.',
      labelNames: ['method', 'route', 'status_code'],
      registers,
    });
    this.duration = new Histogram({
      name: 'taxii_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route pattern.',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.ingested = new Counter({
      name: 'taxii_objects_ingested_total',
      help: 'Objects of Add Objects requests: stored, duplicate (same id and version already stored) or failed (invalid).',
      labelNames: ['outcome'],
      registers,
    });
    this.served = new Counter({
      name: 'taxii_objects_served_total',
      help: 'Records sent to readers, by endpoint: objects (objects, object), manifest entries (manifest) or versions (versions).',
      labelNames: ['endpoint'],
      registers,
    });
    for (const outcome of INGEST_OUTCOMES) this.ingested.inc({ outcome }, 0);
    for (const endpoint of READ_KINDS) this.served.inc({ endpoint }, 0);

    new Gauge({
      name: 'taxii_status_resources_pending',
      help: 'Status resources still pending, read from the database at scrape time (NaN when it cannot be read).',
      registers,
      async collect() {
        try {
          this.set(await sources.pendingStatuses());
        } catch {
          this.set(Number.NaN);
        }
      },
    });
    new Gauge({
      name: 'taxii_db_pool_clients',
      help: 'Database pool: connections open (total), idle, and queries waiting for one (waiting). The embedded database reports 1/0/0.',
      labelNames: ['state'],
      registers,
      collect() {
        const stats = sources.poolStats();
        this.set({ state: 'total' }, stats.total);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
  }

  objectsIngested(outcome: IngestOutcome, count: number): void {
    if (count > 0) this.ingested.inc({ outcome }, count);
  }

  objectsServed(endpoint: ReadKind, count: number): void {
    if (count > 0) this.served.inc({ endpoint }, count);
  }

  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.requests.inc({ method, route, status_code: String(statusCode) });
    this.duration.observe({ method, route }, seconds);
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: AppMetrics;
  }
}

/** Counts every answered request by its route pattern (request.routeOptions.url), not its URL. */
export const requestMetrics = fp(
  async (app: FastifyInstance, options: { metrics: AppMetrics }) => {
    app.decorate('metrics', options.metrics);
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
      options.metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    });
    app.addHook('onClose', async () => options.metrics.registry.clear());
  },
  { name: 'metrics' },
);

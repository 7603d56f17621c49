import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { pendingMigrations } from '../db/migrate.js';
import type { AppMetrics } from '../plugins/metrics.js';

/** How long readiness waits for the database before answering 503. */
const READY_TIMEOUT_MS = 3000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const STATUS = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' }, reason: { type: 'string' } },
};

/**
 * The operator's probes and metrics, outside TAXII and without credentials:
 * /healthz (the process answers), /readyz (the database answers and has no
 * pending migration) and /metrics (Prometheus text format).
 */
export async function operationsRoutes(app: FastifyInstance, options: { metrics: AppMetrics }) {
  const { db } = app.taxii;
  const registry = options.metrics.registry;

  app.get(
    '/healthz',
    {
      config: { taxii: false },
      schema: {
        operationId: 'getHealth',
        tags: ['Operations'],
        summary: 'Liveness',
        description: 'The process is up; says nothing about the database. Public.',
        security: [],
        response: { 200: { description: 'The process is up.', ...STATUS } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: { taxii: false },
      schema: {
        operationId: 'getReadiness',
        tags: ['Operations'],
        summary: 'Readiness',
        description: 'The database answers, has no pending migration, and the process is not shutting down. Public.',
        security: [],
        response: {
          200: { description: 'Ready to serve.', ...STATUS },
          503: { description: 'Not ready; reason says why.', ...STATUS },
        },
      },
    },
    async (request, reply) => {
      // A stopping process takes no new work: the load balancer sends it elsewhere.
      if (app.load.draining) return reply.status(503).send({ status: 'unavailable', reason: 'shutting down' });
      let pending: string[];
      try {
        await withTimeout(sql`select 1`.execute(db), READY_TIMEOUT_MS, 'the database');
        pending = await withTimeout(pendingMigrations(db), READY_TIMEOUT_MS, 'the database');
      } catch (err) {
        request.log.warn({ err }, 'readiness check failed');
        return reply.status(503).send({ status: 'unavailable', reason: 'the database is not reachable' });
      }
      if (pending.length > 0) {
        return reply.status(503).send({ status: 'unavailable', reason: `migrations pending: ${pending.join(', ')}` });
      }
      return { status: 'ready' };
    },
  );

  app.get(
    '/metrics',
    {
      config: { taxii: false },
      schema: {
        operationId: 'getMetrics',
        tags: ['Operations'],
        summary: 'Prometheus metrics',
        description: 'Request, object, status-resource and database-pool metrics, and the Node.js process metrics, in the Prometheus text format. Public.',
        security: [],
        response: { 200: { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
}

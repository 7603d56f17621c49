import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { serviceUnavailable } from '../taxii/errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The process's load: requests in flight, and whether it is shutting down. */
    load: { readonly inflight: number; readonly draining: boolean };
  }
}

/** The operator's probes and metrics are always answered: a load balancer must see an overloaded process as such. */
const EXEMPT_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

function exempt(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  return route !== undefined && EXEMPT_ROUTES.has(route);
}

/**
 * Bounded work per process. Instead of queueing without limit (memory, then
 * timeouts for everyone), a request beyond MAX_INFLIGHT_REQUESTS, or arriving
 * while the process is under pressure (@fastify/under-pressure: event-loop
 * delay or utilisation, heap, RSS), is answered at once with a 503 TAXII
 * error resource and Retry-After; it has not been processed, so a client may
 * retry it. During shutdown (after app.close() was called) new requests get
 * the same answer, and every response closes its connection, so that
 * in-flight requests finish and keep-alive connections do not hold the
 * server open.
 */
export const loadShedding = fp(
  async (app: FastifyInstance, options: { config: Readonly<Config> }) => {
    const { maxInflightRequests: limit, retryAfterSeconds, pressure } = options.config;
    let inflight = 0;
    let draining = false;
    app.decorate('load', {
      get inflight() {
        return inflight;
      },
      get draining() {
        return draining;
      },
    });

    await app.register(underPressure, {
      maxEventLoopDelay: pressure.maxEventLoopDelayMs,
      maxEventLoopUtilization: pressure.maxEventLoopUtilization,
      eventLoopUtilizationMode: 'interval',
      maxHeapUsedBytes: pressure.maxHeapUsedBytes,
      maxRssBytes: pressure.maxRssBytes,
      sampleInterval: pressure.sampleIntervalMs,
      retryAfter: retryAfterSeconds,
      // Its own answer is not a TAXII error resource: throw ours, rendered by the error handler.
      pressureHandler: async (request: FastifyRequest, _reply: unknown, type: string) => {
        if (exempt(request)) return;
        throw serviceUnavailable(`The server is overloaded (${type}); retry later.`, retryAfterSeconds);
      },
    });

    app.addHook('preClose', async () => {
      draining = true;
    });

    app.addHook('onRequest', async (request, reply) => {
      if (exempt(request)) return;
      if (draining) throw serviceUnavailable('The server is shutting down; retry later.', retryAfterSeconds);
      if (limit > 0 && inflight >= limit) {
        throw serviceUnavailable('The server is handling too many requests; retry later.', retryAfterSeconds);
      }
      inflight++;
      // 'close' follows the response, or the connection's end when the client went away first.
      reply.raw.once('close', () => inflight--);
    });

    app.addHook('onSend', async (request, reply, payload) => {
      if (draining && request.raw.httpVersionMajor < 2) reply.header('connection', 'close');
      return payload;
    });
  },
  { name: 'load-shedding' },
);

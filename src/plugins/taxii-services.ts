import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import type { DeliveryAuditor } from '../services/delivery-audit.js';
import type { ServiceMetrics } from '../services/metrics.js';
import type { StixValidator } from '../stix/validate.js';
import type { CursorCodec } from '../taxii/cursor.js';

/** What the TAXII routes need, built once in buildApp and shared by every request. */
export interface TaxiiServices {
  config: Readonly<Config>;
  db: Db;
  cursors: CursorCodec;
  validator: StixValidator;
  /** Counters the services move (objects ingested and served); Prometheus behind it. */
  metrics: ServiceMetrics;
  /** Records which objects each reader received (services/delivery-audit.ts). */
  deliveries: DeliveryAuditor;
}

declare module 'fastify' {
  interface FastifyInstance {
    taxii: TaxiiServices;
  }
}

export const taxiiServices = fp(
  async (app: FastifyInstance, services: TaxiiServices) => {
    app.decorate('taxii', services);
  },
  { name: 'taxii-services' },
);

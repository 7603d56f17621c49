import type { FastifyInstance } from 'fastify';
import { deliveryRecipients, listDeliveries, listWrites, type AccessAuditFilter } from '../../services/admin/access-audit.js';
import { anyList, errors, security, stixId, tags } from './schemas.js';

/** Admin API: the delivery audit (who received which objects) and the write log (who stored or deleted them). */
export async function accessAuditRoutes(app: FastifyInstance) {
  const { db } = app.taxii;
  const common = { tags, security };
  const filters = {
    account: { type: 'string', minLength: 1, description: 'Account id or user name' },
    organisation: { type: 'string', minLength: 1, description: 'Organisation id or name' },
    collection: { type: 'string', minLength: 1, description: 'Collection id, alias, or <api root>/<alias>' },
    since: { type: 'string', format: 'date-time', description: 'Only entries at or after this instant' },
    until: { type: 'string', format: 'date-time', description: 'Only entries before this instant' },
  };
  const paging = {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    before: { type: 'integer', minimum: 1, description: 'Only entries older than this id (paging)' },
  };
  type Query = Omit<AccessAuditFilter, 'limit'> & { limit: number };

  app.get(
    '/audit/deliveries',
    {
      schema: {
        ...common,
        summary: 'Deliveries, newest first: which accounts received which object versions, when, through which view (one entry per response page)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { object: { ...stixId, description: 'Only pages that held this STIX id (and only its versions are listed)' }, ...filters, ...paging },
        },
        response: { 200: anyList, ...errors },
      },
    },
    async (request) => listDeliveries(db, request.query as Query),
  );

  app.get(
    '/audit/deliveries/recipients',
    {
      schema: {
        ...common,
        summary: 'Everyone who received an object, by account: organisation, first and last delivery, versions, views',
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['object'],
          properties: { object: stixId, ...filters },
        },
        response: { 200: anyList, ...errors },
      },
    },
    async (request) => {
      const { object, ...rest } = request.query as Query & { object: string };
      return deliveryRecipients(db, object, rest);
    },
  );

  app.get(
    '/audit/writes',
    {
      schema: {
        ...common,
        summary: 'The write log, newest first: who stored or deleted which object versions (kept DELIVERY_AUDIT_RETENTION_DAYS)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { object: { ...stixId, description: 'Only writes of this STIX id' }, ...filters, ...paging },
        },
        response: { 200: anyList, ...errors },
      },
    },
    async (request) => listWrites(db, request.query as Query),
  );
}

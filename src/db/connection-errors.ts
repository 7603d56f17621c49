import type pg from 'pg';

/**
 * Classifies what the PostgreSQL driver throws when the database, not the
 * request, is at fault: the server is down, unreachable, restarting, out of
 * connections, or too slow. Such failures are answered 503 with Retry-After
 * (the client may retry), never a 500 that echoes the driver's message.
 */

/** Socket errors of the connection to the database. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * SQLSTATEs of an unavailable or overloaded server: class 08 (connection
 * exception), 57P01-57P03 (admin shutdown, crash shutdown, cannot connect
 * now), 53300 (too many connections), 57014 (statement_timeout) and 55P03
 * (lock_timeout).
 */
const SERVER_CODES = new Set(['08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300', '57014', '55P03']);

/** Messages of pg and pg-pool errors that carry no code. */
const DRIVER_MESSAGES = [
  'Connection terminated', // the socket closed (unexpectedly, or on connectionTimeoutMillis)
  'timeout exceeded when trying to connect', // pg-pool's connectionTimeoutMillis
  'Query read timeout', // pg's query_timeout
  'is not queryable', // a client used after its connection failed
  'Cannot use a pool after calling end', // a request still running while the server stops
];

/** A connection failure: the connection it happened on must not serve another query. */
const BROKEN_MESSAGES = DRIVER_MESSAGES.slice(0, 4);
const BROKEN_SERVER_CODES = new Set(['08000', '08003', '08006', '57P01', '57P02']);

interface DriverError {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
}

function codeOf(error: DriverError): string | undefined {
  return typeof error.code === 'string' ? error.code : undefined;
}

function messageOf(error: DriverError): string {
  return typeof error.message === 'string' ? error.message : '';
}

/** Whether an error means "the database is not available now" (answered 503). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as DriverError;
  const code = codeOf(e);
  if (code !== undefined && (NETWORK_CODES.has(code) || SERVER_CODES.has(code))) return true;
  const message = messageOf(e);
  if (DRIVER_MESSAGES.some((m) => message.includes(m))) return true;
  // net.connect with several addresses (localhost: ::1 and 127.0.0.1) rejects with an AggregateError.
  return Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((inner) => isDatabaseUnavailable(inner));
}

/** Whether a query error leaves its connection unusable (it is then closed rather than pooled again). */
export function isBrokenConnection(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as DriverError;
  const code = codeOf(e);
  if (code !== undefined && (NETWORK_CODES.has(code) || BROKEN_SERVER_CODES.has(code))) return true;
  const message = messageOf(e);
  return BROKEN_MESSAGES.some((m) => message.includes(m));
}

/**
 * A pool whose checked-out clients survive losing their connection, and are
 * destroyed on release when their connection failed or one of their queries
 * timed out in the driver (the server may still be running that query; the
 * connection is in an unknown state). pg-pool drops clients whose socket
 * closed, but Kysely releases without an error, so a silently broken
 * connection would otherwise be reused.
 */
export function discardBrokenConnections(pool: pg.Pool): pg.Pool {
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property !== 'connect') return Reflect.get(target, property, receiver);
      return async () => {
        const client = await target.connect();
        let broken: Error | undefined;
        // pg-pool listens for errors of idle clients only: a connection lost while checked out
        // (between the statements of a transaction) would emit an unhandled 'error' and end the process.
        const onError = (error: Error) => {
          broken ??= error;
        };
        client.on('error', onError);
        const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
        const release = client.release.bind(client);
        return new Proxy(client, {
          get(c, p, r) {
            if (p === 'query') {
              return (...args: unknown[]) => {
                const result = query(...args);
                // The callback form (unused here) returns nothing to watch.
                if (!(result instanceof Promise)) return result;
                return result.catch((error: unknown) => {
                  if (isBrokenConnection(error)) broken ??= error as Error;
                  throw error;
                });
              };
            }
            if (p === 'release') {
              return (err?: Error | boolean) => {
                client.removeListener('error', onError);
                return release(err || broken);
              };
            }
            return Reflect.get(c, p, r);
          },
        });
      };
    },
  });
}

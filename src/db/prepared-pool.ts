import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * Server-side prepared statements for the hot read queries. A view query is
 * large (a policy compiled to predicates with subqueries) and planning it
 * costs more than running it; as a named statement PostgreSQL parses it once
 * per connection and, after a few executions, reuses a generic plan.
 *
 * Queries opt in with a leading PREPARE_MARK comment; their name is a hash of
 * the text. Each connection keeps at most MAX_PREPARED statements and
 * deallocates the least recently used one, so memory stays bounded however
 * many policies and filter shapes are in use.
 */
export const PREPARE_MARK = '/*prepare*/';
const MAX_PREPARED = 48;

interface Tracked {
  lru: Map<string, true>;
}

type QueryFn = (text: string, values?: unknown[]) => Promise<pg.QueryResult>;

function statementName(text: string): string {
  return `s_${createHash('sha1').update(text).digest('base64url')}`;
}

async function runPrepared(client: pg.PoolClient & Partial<Tracked>, text: string, values: unknown[]): Promise<pg.QueryResult> {
  const lru = (client.lru ??= new Map());
  const name = statementName(text);
  if (lru.has(name)) {
    lru.delete(name);
  } else if (lru.size >= MAX_PREPARED) {
    const oldest = lru.keys().next().value as string;
    lru.delete(oldest);
    await client.query(`deallocate "${oldest}"`);
    // pg remembers which names it parsed on this connection; forget the dropped one.
    const connection = (client as unknown as { connection?: { parsedStatements?: Record<string, string> } }).connection;
    if (connection?.parsedStatements) delete connection.parsedStatements[oldest];
  }
  lru.set(name, true);
  return client.query({ name, text, values });
}

/** A pg.Pool whose clients run marked queries as named prepared statements. */
export function withPreparedStatements(pool: pg.Pool): pg.Pool {
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property !== 'connect') return Reflect.get(target, property, receiver);
      return async () => {
        const client = (await target.connect()) as pg.PoolClient & Partial<Tracked>;
        const query = client.query.bind(client) as QueryFn;
        return new Proxy(client, {
          get(c, p, r) {
            if (p !== 'query') return Reflect.get(c, p, r);
            return (text: unknown, values?: unknown[]) =>
              typeof text === 'string' && text.startsWith(PREPARE_MARK) ? runPrepared(c, text, values ?? []) : query(text as string, values);
          },
        });
      };
    },
  });
}

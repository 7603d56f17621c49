import http from 'node:http';

/**
 * An HTTP client for load and fault tests: every request is bounded by a
 * timeout, never rejects, and reports what happened on the wire (a
 * response, or the error that ended it, with the phase it was in), so a test
 * can tell "answered 503" from "reset" from "hung".
 */
export type Outcome =
  | { kind: 'response'; status: number; headers: http.IncomingHttpHeaders; text: string }
  | { kind: 'error'; code: string; message: string };

export interface Exchange {
  method: string;
  path: string;
  /** Date.now() when the request started, when its connection was established, when it was fully sent. */
  startedAt: number;
  connectedAt: number | undefined;
  sentAt: number | undefined;
  endedAt: number;
  /** The client's port of the connection (to find which backend a round-robin proxy chose). */
  localPort: number | undefined;
  outcome: Outcome;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Whole-exchange bound; the request is destroyed after it ("CLIENT_TIMEOUT"). */
  timeoutMs: number;
  /** Default: a new connection per request (Connection: close). */
  agent?: http.Agent | false;
  /** A slow link: the first half of the body is sent at once, the rest this many ms later. */
  bodyDelayMs?: number;
}

export async function send(baseUrl: string, path: string, options: RequestOptions): Promise<Exchange> {
  const url = new URL(path, baseUrl);
  const method = options.method ?? 'GET';
  const exchange: Omit<Exchange, 'outcome' | 'endedAt'> = {
    method,
    path,
    startedAt: Date.now(),
    connectedAt: undefined,
    sentAt: undefined,
    localPort: undefined,
  };
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (body) headers['content-length'] = String(body.length);
  if (options.agent === undefined || options.agent === false) headers.connection = 'close';

  const outcome = await new Promise<Outcome>((resolve) => {
    let settled = false;
    const settle = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const req = http.request(
      { host: url.hostname, port: url.port, method, path: url.pathname + url.search, headers, agent: options.agent ?? false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('end', () => settle({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
        res.on('error', (error: NodeJS.ErrnoException) => settle({ kind: 'error', code: error.code ?? 'RESPONSE_ERROR', message: error.message }));
        res.on('aborted', () => settle({ kind: 'error', code: 'RESPONSE_ABORTED', message: 'the response was cut' }));
      },
    );
    const timer = setTimeout(() => {
      settle({ kind: 'error', code: 'CLIENT_TIMEOUT', message: `no complete answer within ${options.timeoutMs} ms` });
      req.destroy();
    }, options.timeoutMs);
    req.on('socket', (socket) => {
      const connected = () => {
        exchange.connectedAt ??= Date.now();
        exchange.localPort ??= socket.localPort;
      };
      if (socket.connecting) socket.once('connect', connected);
      else connected();
    });
    req.on('finish', () => (exchange.sentAt = Date.now()));
    req.on('error', (error: NodeJS.ErrnoException) => settle({ kind: 'error', code: error.code ?? 'REQUEST_ERROR', message: error.message }));
    if (body && options.bodyDelayMs !== undefined) {
      const half = Math.floor(body.length / 2);
      req.write(body.subarray(0, half));
      setTimeout(() => req.end(body.subarray(half)), options.bodyDelayMs);
    } else {
      req.end(body);
    }
  });
  return { ...exchange, endedAt: Date.now(), outcome };
}

/** The body of a response as JSON, or undefined. */
export function json<T = Record<string, unknown>>(exchange: Exchange): T | undefined {
  if (exchange.outcome.kind !== 'response') return undefined;
  try {
    return JSON.parse(exchange.outcome.text) as T;
  } catch {
    return undefined;
  }
}

/**
 * Whether a response is a TAXII error resource (§3.6.1) answering 503 with
 * Retry-After, under the TAXII media type, that echoes nothing of the driver.
 */
export function isTaxiiUnavailable(exchange: Exchange): boolean {
  const o = exchange.outcome;
  if (o.kind !== 'response' || o.status !== 503) return false;
  const body = json<{ title?: unknown; http_status?: unknown; error_id?: unknown; description?: unknown }>(exchange);
  const retryAfter = Number(o.headers['retry-after']);
  return (
    Number.isInteger(retryAfter) &&
    retryAfter > 0 &&
    String(o.headers['content-type']).startsWith('application/taxii+json') &&
    body?.http_status === '503' &&
    typeof body.title === 'string' &&
    typeof body.error_id === 'string' &&
    !/ECONN|terminated|timeout exceeded|pg|postgres|socket/i.test(String(body.description))
  );
}

/** A short description of an exchange for assertion messages. */
export function describeExchange(exchange: Exchange): string {
  const o = exchange.outcome;
  const what = o.kind === 'response' ? `${o.status} ${o.text.slice(0, 200)}` : `${o.code} ${o.message}`;
  return `${exchange.method} ${exchange.path} → ${what}`;
}

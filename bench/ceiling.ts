// The ceiling: a minimal node:http server that answers pre-serialised responses, run as its
// own process beside the TAXII server so that the benchmark can report every figure as a
// ratio to "what node:http on this machine does at best with the same bytes".
//
// - PUT /__ceiling?url=<path and query>  (body: {"status", "headers", "body"}) registers the
//   exact response to give for that URL; a GET whose URL is not registered is looked up
//   again without its `next` parameter. DELETE /__ceiling forgets every page.
// - POST <anything>: reads the body, JSON.parse()s it and answers 202 with a fixed status
//   (the parse-only baseline for ingest).
// Prints {"port": N} on stdout when listening. Started by bench/run.ts; not for other uses.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

interface Page {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const pages = new Map<string, Page>();
const ACCEPTED = Buffer.from(JSON.stringify({
  id: '00000000-0000-4000-8000-000000000000', status: 'complete', request_timestamp: '2026-01-01T00:00:00.000000Z',
  total_count: 0, success_count: 0, failure_count: 0, pending_count: 0,
}));

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function withoutNext(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url.slice(q + 1).split('&').filter((p) => !p.startsWith('next='));
  return params.length > 0 ? `${url.slice(0, q)}?${params.join('&')}` : url.slice(0, q);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  if (req.method === 'PUT' && url.startsWith('/__ceiling?')) {
    const target = new URLSearchParams(url.slice('/__ceiling?'.length)).get('url') ?? '/';
    const page = JSON.parse((await readBody(req)).toString('utf8')) as { status: number; headers: Record<string, string>; body: string };
    pages.set(target, { status: page.status, headers: page.headers, body: Buffer.from(page.body, 'utf8') });
    res.writeHead(204).end();
    return;
  }
  if (req.method === 'DELETE' && url === '/__ceiling') {
    pages.clear();
    res.writeHead(204).end();
    return;
  }
  if (req.method === 'POST') {
    JSON.parse((await readBody(req)).toString('utf8'));
    res.writeHead(202, { 'content-type': 'application/taxii+json;version=2.1', 'content-length': ACCEPTED.length });
    res.end(ACCEPTED);
    return;
  }
  const page = pages.get(url) ?? pages.get(withoutNext(url));
  if (!page) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not registered');
    return;
  }
  res.writeHead(page.status, { ...page.headers, 'content-length': page.body.length });
  res.end(page.body);
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(String(error));
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

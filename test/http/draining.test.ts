import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStored, sleep } from '../support/fault-checks.js';
import { COLLECTION, PASSWORD, standardSeed } from '../support/fixtures.js';
import { send } from '../support/http-client.js';
import { envelope, indicator } from '../support/stix.js';
import { basic, createTestApp, TAXII, type TestApp } from '../support/test-app.js';

/**
 * Closing the app (what SIGTERM does in server.ts): the listener closes, a
 * request in flight completes and its answer closes the connection
 * (Connection: close, RFC 9112 §9.6), and work arriving on that connection
 * afterwards is not done.
 */
const writerAuth = basic('writer', PASSWORD);
const objectsPath = `/api1/collections/${COLLECTION}/objects/`;

let t: TestApp;
let closed = false;

beforeAll(async () => {
  t = await createTestApp(standardSeed(), {}, { RATE_LIMIT_PER_MINUTE: '1000000' });
});
afterAll(async () => {
  if (!closed) await t?.close();
  else await t?.database.destroy();
});

function postHead(body: Buffer): string {
  return (
    `POST ${objectsPath} HTTP/1.1\r\nHost: test\r\nAuthorization: ${writerAuth}\r\n` +
    `Content-Type: ${TAXII}\r\nAccept: ${TAXII}\r\nContent-Length: ${body.length}\r\n\r\n`
  );
}

describe('closing the app', () => {
  it('finishes the request in flight with Connection: close, refuses new connections, and does not process a request sent after the close began', async () => {
    const kept = indicator({ name: 'in flight at close' });
    const late = indicator({ name: 'pipelined after close' });
    const body1 = Buffer.from(envelope([kept]));
    const body2 = Buffer.from(envelope([late]));
    const port = Number(new URL(t.url).port);

    const socket = net.connect({ host: '127.0.0.1', port });
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    socket.write(postHead(body1) + body1.subarray(0, 10).toString());
    for (let i = 0; i < 200 && t.app.load.inflight === 0; i++) await sleep(10);
    expect(t.app.load.inflight).toBe(1);

    const closing = t.app.close();
    closed = true;
    for (let i = 0; i < 200 && !t.app.load.draining; i++) await sleep(10);
    expect(t.app.load.draining).toBe(true);

    // The listener is closed: no new connection.
    const fresh = await send(t.url, '/healthz', { timeoutMs: 2000 });
    expect(fresh.outcome.kind === 'error' && fresh.outcome.code).toBe('ECONNREFUSED');

    // The rest of the in-flight body, and a second request pipelined behind it.
    socket.write(body1.subarray(10).toString() + postHead(body2) + body2.toString());
    await Promise.race([socketClosed, sleep(10_000)]);
    await Promise.race([closing, sleep(10_000)]);

    const responses = received.split(/(?=HTTP\/1\.1 )/).filter((r) => r.startsWith('HTTP/1.1 '));
    expect(responses).toHaveLength(1);
    expect(responses[0]).toMatch(/^HTTP\/1\.1 202 /);
    expect(responses[0]).toMatch(/\r\nconnection: close\r\n/i);

    const stored = await readStored(t.database.db, COLLECTION);
    expect(stored.objects.has(kept.id)).toBe(true);
    expect(stored.objects.has(late.id)).toBe(false);
    expect(t.app.load.inflight).toBe(0);
  });
});

import { expect } from 'vitest';
import { TAXII, type RawResponse } from './test-app.js';

/**
 * Checks shared by the hostile-input tests (fuzz, limits, access matrix):
 * the TAXII error resource (TAXII §3.6.1) and the absence of anything that
 * would tell an attacker about the server's insides (Appendix B).
 */
export const ADMIN_JSON = /^application\/json/;

/** The TAXII error resource with the given status, in the TAXII media type (or JSON under /admin). */
export function expectErrorResource(res: RawResponse, status: number, options: { admin?: boolean; context?: string } = {}): Record<string, unknown> {
  const context = options.context ?? '';
  expect(res.status, `${context}\n${res.text.slice(0, 500)}`).toBe(status);
  const type = res.headers['content-type'];
  if (options.admin) expect(type, context).toMatch(ADMIN_JSON);
  else expect(type, context).toBe(TAXII);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.text) as Record<string, unknown>;
  } catch {
    throw new Error(`${context}: the ${status} answer is not JSON: ${res.text.slice(0, 300)}`);
  }
  expect(typeof body.title === 'string' && body.title.length > 0, `${context}: title in ${res.text.slice(0, 300)}`).toBe(true);
  expect(typeof body.error_id === 'string' && body.error_id.length > 0, `${context}: error_id in ${res.text.slice(0, 300)}`).toBe(true);
  expect(body.http_status, `${context}: http_status in ${res.text.slice(0, 300)}`).toBe(String(status));
  return body;
}

/**
 * What must never reach a client: stack frames, source paths, SQL and driver
 * messages. A match is tolerated only when the request itself carried that
 * text (a value echoed in "match[id] value "…" is not a STIX identifier").
 */
const LEAKS: [string, RegExp][] = [
  ['stack frame', /\bat (?:async )?[\w$.<>[\]]+ \(/g],
  ['stack line', /\n\s+at \S/g],
  ['source path', /(?:\/[\w.@-]+)+\.(?:ts|js|mjs|cjs)(?::\d+)?\b/g],
  ['node_modules', /node_modules/g],
  ['project path', /\/work\/|\/home\/|\/usr\/(?:local|lib)\//g],
  ['SQL SELECT', /\bSELECT\b/g],
  ['SQL select … from', /\bselect\s[^]{0,80}?\bfrom\b/gi],
  ['SQL insert/update/delete', /\b(?:insert\s+into|update\s+\w+\s+set|delete\s+from)\b/gi],
  ['relation', /\brelation\b/gi],
  ['syntax error', /syntax error/gi],
  ['driver message', /invalid input syntax|invalid byte sequence|out of range for type|violates (?:unique|foreign|check|not-null)|duplicate key|unsupported unicode escape|operator does not exist|column "\w+"/gi],
  ['library name', /\b(?:kysely|pglite|node-postgres|pg-protocol|fastify)\b/gi],
];

/** Every string of a parsed JSON value (keys too). */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      strings(v, out);
    }
  }
  return out;
}

/** The leaks found in a response body (empty when clean), given the texts the request carried. */
export function findLeaks(text: string, inputs: readonly string[]): string[] {
  let texts: string[];
  try {
    texts = strings(JSON.parse(text));
  } catch {
    texts = [text];
  }
  const lowered = inputs.map((i) => i.toLowerCase());
  const found: string[] = [];
  for (const s of texts) {
    for (const [name, pattern] of LEAKS) {
      for (const m of s.matchAll(pattern)) {
        const hit = m[0].toLowerCase();
        if (!lowered.some((i) => i.includes(hit))) found.push(`${name}: ${JSON.stringify(s.slice(Math.max(0, m.index - 40), m.index + 80))}`);
      }
    }
  }
  return found;
}

/**
 * Writes bytes on a fresh TCP connection and reads the one answer: for what
 * Node's HTTP client refuses to send (a NUL in a header, raw bytes in the
 * request line, a malformed Content-Length) or would resolve ("//x"). Fails
 * when the server closes or resets the connection without an HTTP answer.
 */
export async function rawExchange(baseUrl: string, bytes: Buffer | string): Promise<RawResponse> {
  const { connect } = await import('node:net');
  const { hostname, port } = new URL(baseUrl);
  return new Promise<RawResponse>((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const parts: Buffer[] = [];
    let settled = false;
    const finish = (final: boolean) => {
      if (settled) return;
      const all = Buffer.concat(parts);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0 && !final) return;
      if (end < 0) {
        settled = true;
        reject(new Error(`no HTTP answer (${all.length} bytes: ${JSON.stringify(all.subarray(0, 200).toString('latin1'))})`));
        return;
      }
      const [statusLine = '', ...lines] = all.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
      const body = all.subarray(end + 4);
      if (!final && (length === undefined || body.length < length)) return; // more to come
      settled = true;
      socket.destroy();
      resolve({ status: Number(statusLine.split(' ')[1]), headers, text: body.subarray(0, length ?? body.length).toString('utf8') });
    };
    socket.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (error) => {
      // A reset after the answer arrived is how Node closes a refused request; without an answer it is a failure.
      if (parts.length > 0) finish(true);
      else if (!settled) {
        settled = true;
        reject(error);
      }
    });
    socket.write(bytes);
  });
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import { badRequest } from './errors.js';
import type { Filters } from './query.js';

/**
 * `next` cursors (TAXII §3.4, §3.7, Appendix B). A cursor is stateless and
 * self-contained: a position in the collection's date_added order plus the
 * normalised query that produced it, bound to the collection and the caller,
 * and signed so that it cannot be forged or altered. Nothing is kept in
 * process memory, so any replica can continue any client's paging.
 */
export interface CursorPosition {
  /** date_added (µs) of the last item returned. */
  date: number;
  /** Its per-collection sequence number (the tie-break key). */
  seq: number;
}

export interface CursorContent {
  collectionId: string;
  principal: string;
  position: CursorPosition;
  filters: Filters;
  limit?: number;
}

interface Wire {
  v: 1;
  c: string;
  p: string;
  d: number;
  s: number;
  f: Filters;
  l?: number;
}

const SIGNATURE_BYTES = 18;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export class CursorCodec {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(secret, 'utf8');
  }

  private sign(payload: string): Buffer {
    return createHmac('sha256', this.key).update(payload).digest().subarray(0, SIGNATURE_BYTES);
  }

  encode(content: CursorContent): string {
    const wire: Wire = {
      v: 1,
      c: content.collectionId,
      p: content.principal,
      d: content.position.date,
      s: content.position.seq,
      f: content.filters,
      ...(content.limit !== undefined ? { l: content.limit } : {}),
    };
    const payload = Buffer.from(JSON.stringify(wire)).toString('base64url');
    return `${payload}.${this.sign(payload).toString('base64url')}`;
  }

  /** Decodes and checks a cursor; any doubt is a 400 (interop rule 3: only bad or foreign cursors fail). */
  decode(token: string, expected: { collectionId: string; principal: string }): CursorContent {
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length > 8192) throw invalid();
    const payload = token.slice(0, dot);
    // Compare the signature as text: base64url decoding would forgive '+', '/', padding and trailing bytes.
    const signature = Buffer.from(token.slice(dot + 1), 'utf8');
    const wanted = Buffer.from(this.sign(payload).toString('base64url'), 'utf8');
    if (!BASE64URL.test(payload) || signature.length !== wanted.length || !timingSafeEqual(signature, wanted)) throw invalid();
    let wire: Wire;
    try {
      wire = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Wire;
    } catch {
      throw invalid();
    }
    if (wire.v !== 1 || typeof wire.d !== 'number' || typeof wire.s !== 'number') throw invalid();
    if (wire.c !== expected.collectionId || wire.p !== expected.principal) {
      throw badRequest('This next value was issued for another collection or another account.');
    }
    return {
      collectionId: wire.c,
      principal: wire.p,
      position: { date: wire.d, seq: wire.s },
      filters: wire.f ?? {},
      ...(wire.l !== undefined ? { limit: wire.l } : {}),
    };
  }
}

function invalid() {
  return badRequest('The next value is not a cursor issued by this server (it is malformed or was altered).');
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CursorCodec, type CursorContent } from '../../src/taxii/cursor.js';
import { TaxiiError } from '../../src/taxii/errors.js';
import type { Filters } from '../../src/taxii/query.js';

/**
 * `next` cursors (TAXII §3.4.1 "next", §3.7, Appendix B: "MUST NOT be
 * implicitly trusted"; digest §7.3; interop rule 3: only an undecodable,
 * tampered or foreign cursor is a 400).
 */
const SECRET = 'a-cursor-secret-of-at-least-32-characters';
const codec = new CursorCodec(SECRET);
const COLLECTION = '91a7b528-80eb-42ed-a74d-c6fbd5a26116';
const OTHER_COLLECTION = '52892447-4d7e-4f70-b94d-d7f22742ff63';
const PRINCIPAL = 'account:writer';
const expected = { collectionId: COLLECTION, principal: PRINCIPAL };
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function content(overrides: Partial<CursorContent> = {}): CursorContent {
  return {
    collectionId: COLLECTION,
    principal: PRINCIPAL,
    position: { date: 1_700_000_000_123_456, seq: 42 },
    filters: { types: ['indicator'], versions: { all: false, first: false, last: true, keys: [] } },
    limit: 7,
    ...overrides,
  };
}

function rejected(fn: () => unknown): TaxiiError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TaxiiError);
    expect((error as TaxiiError).httpStatus).toBe(400);
    return error as TaxiiError;
  }
  throw new Error('expected the cursor to be rejected with 400');
}

const stixTypeArb = fc.stringMatching(/^[a-z][a-z0-9-]{1,20}[a-z0-9]$/);
const filtersArb: fc.Arbitrary<Filters> = fc.record(
  {
    ids: fc.array(stixTypeArb.chain((t) => fc.uuid({ version: 4 }).map((u) => `${t}--${u}`)), { minLength: 1, maxLength: 3 }),
    types: fc.array(stixTypeArb, { minLength: 1, maxLength: 3 }),
    versions: fc.record({
      all: fc.boolean(),
      first: fc.boolean(),
      last: fc.boolean(),
      keys: fc.array(fc.string({ unit: 'grapheme', maxLength: 30 }), { maxLength: 3 }),
    }),
    specVersions: fc.array(fc.constantFrom('2.0', '2.1'), { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: [] },
);
const contentArb: fc.Arbitrary<CursorContent> = fc.record(
  {
    collectionId: fc.uuid({ version: 4 }),
    principal: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    position: fc.record({ date: fc.maxSafeNat(), seq: fc.maxSafeNat() }),
    filters: filtersArb,
    limit: fc.integer({ min: 1, max: 100_000 }),
  },
  { requiredKeys: ['collectionId', 'principal', 'position', 'filters'] },
);

describe('CursorCodec: encode/decode round trip (the cursor is self-contained: interop rule 3)', () => {
  it('decodes what it encoded', () => {
    const c = content();
    expect(codec.decode(codec.encode(c), expected)).toEqual(c);
  });

  it('decodes what it encoded, for any position, filters, limit, collection and principal (fast-check)', () => {
    fc.assert(
      fc.property(contentArb, (c) => {
        const token = codec.encode(c);
        expect(codec.decode(token, { collectionId: c.collectionId, principal: c.principal })).toEqual(c);
      }),
      { numRuns: 500 },
    );
  });

  it('a token without limit decodes without limit', () => {
    const c = content({ limit: undefined });
    delete c.limit;
    const decoded = codec.decode(codec.encode(c), expected);
    expect(decoded).not.toHaveProperty('limit');
  });

  it('another codec with the same secret (another replica) decodes it', () => {
    const c = content();
    expect(new CursorCodec(SECRET).decode(codec.encode(c), expected)).toEqual(c);
  });
});

describe('tokens are URL-safe (they travel as ?next=…, TAXII §3.4.1)', () => {
  it('only base64url characters and one dot, unchanged by URL encoding (fast-check)', () => {
    fc.assert(
      fc.property(contentArb, (c) => {
        const token = codec.encode(c);
        expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
        expect(encodeURIComponent(token)).toBe(token);
        expect(new URLSearchParams({ next: token }).toString()).toBe(`next=${token}`);
      }),
      { numRuns: 300 },
    );
  });
});

describe('a tampered cursor is rejected with 400 (TAXII Appendix B: next MUST NOT be implicitly trusted)', () => {
  it('any single-character change of the token, to any base64url character or ".", is rejected (fast-check over positions)', () => {
    fc.assert(
      fc.property(contentArb, fc.nat(), fc.constantFrom(...`${BASE64URL}.`), (c, at, replacement) => {
        const token = codec.encode(c);
        const i = at % token.length;
        fc.pre(token[i] !== replacement);
        const changed = token.slice(0, i) + replacement + token.slice(i + 1);
        rejected(() => codec.decode(changed, { collectionId: c.collectionId, principal: c.principal }));
      }),
      { numRuns: 3000 },
    );
  });

  it('every position of one token, changed to every other token character, is rejected (exhaustive)', () => {
    const token = codec.encode(content());
    for (let i = 0; i < token.length; i++) {
      for (const replacement of `${BASE64URL}.`) {
        if (replacement === token[i]) continue;
        const changed = token.slice(0, i) + replacement + token.slice(i + 1);
        expect(() => codec.decode(changed, expected), `position ${i} → ${replacement}`).toThrow(TaxiiError);
      }
    }
  });

  it('a signature character swapped for its standard-base64 twin ("-"→"+", "_"→"/") is a changed token and is rejected', () => {
    // Find a token whose signature holds "-" or "_" (about half of them do).
    const token = Array.from({ length: 200 }, (_, seq) => codec.encode(content({ position: { date: 1_700_000_000_000_000, seq } }))).find(
      (t) => /[-_]/.test(t.split('.')[1]!),
    )!;
    expect(token).toBeDefined();
    const dot = token.indexOf('.');
    const offset = token.slice(dot + 1).search(/[-_]/);
    const i = dot + 1 + offset;
    const twin = token[i] === '-' ? '+' : '/';
    const changed = token.slice(0, i) + twin + token.slice(i + 1);
    expect(changed).not.toBe(token);
    rejected(() => codec.decode(changed, expected));
  });

  it('a payload re-encoded with different content but the old signature is rejected', () => {
    const token = codec.encode(content());
    const [, signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ v: 1, c: COLLECTION, p: PRINCIPAL, d: 0, s: 0, f: {} })).toString('base64url');
    rejected(() => codec.decode(`${forged}.${signature}`, expected));
  });

  it('a truncated or extended token is rejected: one character more, "=" padding, trailing whitespace, a line break', () => {
    const token = codec.encode(content());
    const cases = {
      truncated: token.slice(0, -1),
      'first character dropped': token.slice(1),
      'one more character': `${token}A`,
      'two more characters': `${token}AA`,
      'padding appended': `${token}=`,
      'space appended': `${token} `,
      'line break appended': `${token}\n`,
      'line break after the dot': token.replace('.', '.\n'),
      'dot in front': `.${token}`,
      'dot removed': token.replace('.', ''),
      'token twice': `${token}.${token}`,
    };
    for (const [what, bad] of Object.entries(cases)) {
      expect(() => codec.decode(bad, expected), what).toThrow(TaxiiError);
    }
  });

  it('garbage is a 400 and never another error (fast-check)', () => {
    for (const bad of ['', '.', 'abc', 'a.b', 'x'.repeat(9000), `${'a'.repeat(100)}.${'b'.repeat(24)}`]) {
      rejected(() => codec.decode(bad, expected));
    }
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (garbage) => {
        rejected(() => codec.decode(garbage, expected));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('a cursor from another secret, collection or caller is rejected with 400 (digest §7.3; interop rule 3)', () => {
  it('a token signed with another secret is rejected', () => {
    const token = new CursorCodec('another-secret-of-at-least-32-characters!').encode(content());
    const error = rejected(() => codec.decode(token, expected));
    expect(error.description).toMatch(/not a cursor issued by this server/);
  });

  it('a token issued for another collection is rejected', () => {
    const token = codec.encode(content({ collectionId: OTHER_COLLECTION }));
    const error = rejected(() => codec.decode(token, expected));
    expect(error.description).toMatch(/another collection or another account/);
  });

  it('a token issued to another principal is rejected', () => {
    const token = codec.encode(content({ principal: 'account:reader' }));
    const error = rejected(() => codec.decode(token, expected));
    expect(error.description).toMatch(/another collection or another account/);
  });

  it('any token is rejected for any other collection or principal (fast-check)', () => {
    fc.assert(
      fc.property(contentArb, fc.uuid({ version: 4 }), fc.string({ minLength: 1, maxLength: 20 }), (c, otherCollection, otherPrincipal) => {
        fc.pre(otherCollection !== c.collectionId && otherPrincipal !== c.principal);
        const token = codec.encode(c);
        rejected(() => codec.decode(token, { collectionId: otherCollection, principal: c.principal }));
        rejected(() => codec.decode(token, { collectionId: c.collectionId, principal: otherPrincipal }));
      }),
      { numRuns: 300 },
    );
  });
});

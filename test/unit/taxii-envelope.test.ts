import { describe, expect, it } from 'vitest';
import { TaxiiError } from '../../src/taxii/errors.js';
import { jsonDepthExceeds, readEnvelope, type EnvelopeLimits } from '../../src/taxii/envelope.js';
import type { PostBodyKind } from '../../src/taxii/media-types.js';

/**
 * Reading an Add Objects body (TAXII §5.5, §3.7 envelope; digest §12, §13:
 * 400 for what cannot be understood, 422 for what cannot be processed).
 */
const limits: EnvelopeLimits = { maxJsonDepth: 8, maxObjectsPerEnvelope: 3 };
const INDICATOR = { type: 'indicator', id: 'indicator--3600ad1b-fff1-4c98-bcc9-4de3bc2e2ffb' };
const BUNDLE_ID = 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d';

const read = (body: string | Buffer, kind: PostBodyKind = 'envelope', l: EnvelopeLimits = limits) =>
  readEnvelope(typeof body === 'string' ? Buffer.from(body, 'utf8') : body, kind, l);

function fails(status: 400 | 422, body: string | Buffer, kind: PostBodyKind = 'envelope', l: EnvelopeLimits = limits): TaxiiError {
  try {
    read(body, kind, l);
  } catch (error) {
    expect(error).toBeInstanceOf(TaxiiError);
    expect((error as TaxiiError).httpStatus).toBe(status);
    return error as TaxiiError;
  }
  throw new Error(`expected ${status} for ${String(body).slice(0, 80)}`);
}

/** A JSON text nested exactly `depth` levels: {"objects":[{"a":[[...]]}]}. */
function nested(depth: number): string {
  // {"objects": [ {  → 3 levels; the rest are arrays inside the object.
  const extra = depth - 3;
  return `{"objects":[{"type":"indicator","x":${'['.repeat(extra)}${']'.repeat(extra)}}]}`;
}

describe('a body that cannot be understood is a 400 (TAXII §5.5)', () => {
  it('an empty body', () => {
    expect(fails(400, '').description).toMatch(/empty/);
  });

  it('invalid UTF-8 (a lone 0xFF byte, an overlong encoding, a lone surrogate)', () => {
    for (const bytes of [
      [0x7b, 0x22, 0x6f, 0xff, 0x22, 0x3a, 0x31, 0x7d],
      [0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d],
      [0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d],
    ]) {
      expect(fails(400, Buffer.from(bytes)).description).toMatch(/UTF-8/);
    }
  });

  it.each([
    ['truncated', '{"objects": ['],
    ['single quotes', "{'objects': []}"],
    ['a comment', '{"objects": [] /* comment */}'],
    ['a trailing comma', '{"objects": [{"type":"indicator"},]}'],
    ['NaN', '{"objects": [NaN]}'],
    ['two documents', '{"objects":[{}]}{"objects":[{}]}'],
  ])('invalid JSON (%s)', (_what, body) => {
    expect(fails(400, body).description).toMatch(/not valid JSON/);
  });

  it('nesting deeper than maxJsonDepth', () => {
    expect(fails(400, nested(limits.maxJsonDepth + 1)).description).toMatch(/nested deeper than 8/);
    expect(fails(400, `${'['.repeat(9)}${']'.repeat(9)}`).description).toMatch(/nested deeper/);
  });
});

describe('the depth limit counts real nesting only', () => {
  it('a body nested exactly maxJsonDepth levels passes', () => {
    expect(jsonDepthExceeds(nested(limits.maxJsonDepth), limits.maxJsonDepth)).toBe(false);
    expect(read(nested(limits.maxJsonDepth))).toHaveLength(1);
  });

  it('one level more does not', () => {
    expect(jsonDepthExceeds(nested(limits.maxJsonDepth + 1), limits.maxJsonDepth)).toBe(true);
  });

  it('brackets inside strings do not count, escaped quotes and backslashes included', () => {
    const strings = ['[[[[[[[[[[{{{{{{{{{{', 'say \\"[[[[[[[[[[\\"', '\\\\', 'end with backslash \\\\', '\\u005b[[[[[[[[[['];
    for (const s of strings) {
      const body = `{"objects":[{"type":"indicator","name":"${s}","x":"${s}"}]}`;
      expect(jsonDepthExceeds(body, 3), s).toBe(false);
      expect(read(body, 'envelope', { ...limits, maxJsonDepth: 3 }), s).toHaveLength(1);
    }
  });

  it('brackets after a string that ends with an escaped backslash do count', () => {
    expect(jsonDepthExceeds('{"a":"\\\\","b":[[[]]]}', 3)).toBe(true);
    expect(jsonDepthExceeds('{"a":"\\\\","b":[[]]}', 3)).toBe(false);
  });

  it('sibling containers do not add up', () => {
    const body = `{"objects":[${Array.from({ length: 50 }, () => '{"type":"x","a":[[1]]}').join(',')}]}`;
    expect(jsonDepthExceeds(body, 5)).toBe(false);
  });

  it('jsonDepthExceeds on 1,000,000 nested brackets answers without throwing (a loop, not recursion)', () => {
    const hostile = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
    expect(jsonDepthExceeds(hostile, 64)).toBe(true);
    expect(jsonDepthExceeds(`{"objects":${'{"a":'.repeat(1_000_000)}1${'}'.repeat(1_000_000)}}`, 64)).toBe(true);
  });

  it('readEnvelope answers 400 for 1,000,000 nested brackets instead of overflowing the stack', () => {
    const hostile = `{"objects":[${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}]}`;
    fails(400, hostile, 'envelope', { maxJsonDepth: 64, maxObjectsPerEnvelope: 50_000 });
  });
});

describe('a body that parses but cannot be processed is a 422 (TAXII §5.5, §3.7)', () => {
  it.each([
    ['an array', '[{"type":"indicator"}]'],
    ['null', 'null'],
    ['a number', '42'],
    ['a string', '"objects"'],
    ['true', 'true'],
  ])('a top level that is not an object (%s)', (_what, body) => {
    expect(fails(422, body).description).toMatch(/JSON object/);
  });

  it('an envelope whose "more" is not a boolean', () => {
    for (const more of ['"true"', '1', 'null', '[]']) {
      expect(fails(422, `{"more":${more},"objects":[{}]}`).description).toMatch(/"more"/);
    }
  });

  it('an envelope whose "next" is not a string', () => {
    for (const next of ['1', 'true', 'null', '{}']) {
      expect(fails(422, `{"next":${next},"objects":[{}]}`).description).toMatch(/"next"/);
    }
  });

  it('a well-typed more and next are accepted and ignored', () => {
    expect(read(`{"more":false,"next":"abc","objects":[${JSON.stringify(INDICATOR)}]}`)).toEqual([INDICATOR]);
  });

  it('no "objects"', () => {
    expect(fails(422, '{}').description).toMatch(/no "objects"/);
    expect(fails(422, '{"more":false}').description).toMatch(/no "objects"/);
  });

  it('"objects" that is not a list', () => {
    for (const objects of ['{}', '"indicator"', '1', 'null']) {
      expect(fails(422, `{"objects":${objects}}`).description).toMatch(/must be a list/);
    }
  });

  it('an empty "objects" list (TAXII §2: a list is never empty)', () => {
    expect(fails(422, '{"objects":[]}').description).toMatch(/empty/);
  });

  it('more objects than maxObjectsPerEnvelope → 422 whose details name the maximum', () => {
    const body = JSON.stringify({ objects: [INDICATOR, INDICATOR, INDICATOR, INDICATOR] });
    const error = fails(422, body);
    expect(error.description).toMatch(/4 objects; at most 3/);
    expect(error.details).toEqual({ max_objects: 3 });
  });

  it('exactly maxObjectsPerEnvelope objects pass', () => {
    expect(read(JSON.stringify({ objects: [INDICATOR, INDICATOR, INDICATOR] }))).toHaveLength(3);
  });

  it('returns the objects as given, unvalidated', () => {
    const objects = [INDICATOR, { anything: true }, 'not even an object'];
    expect(read(JSON.stringify({ objects }))).toEqual(objects);
  });

  it('a UTF-8 byte order mark is tolerated', () => {
    expect(read(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ objects: [INDICATOR] }))]))).toEqual([INDICATOR]);
  });
});

describe('STIX bundles (leniency: interop rule 11; digest §12; STIX §8)', () => {
  const bundle = (extra: Record<string, unknown> = {}) => JSON.stringify({ type: 'bundle', id: BUNDLE_ID, objects: [INDICATOR], ...extra });

  it('a bundle posted as application/stix+json gives its objects', () => {
    expect(read(bundle(), 'bundle')).toEqual([INDICATOR]);
  });

  it('a bundle posted as application/taxii+json or application/json is recognised by its type', () => {
    expect(read(bundle(), 'envelope')).toEqual([INDICATOR]);
    expect(read(bundle(), 'json')).toEqual([INDICATOR]);
  });

  it('a body sent as a bundle needs "type": "bundle"', () => {
    expect(fails(422, JSON.stringify({ objects: [INDICATOR] }), 'bundle').description).toMatch(/"type": "bundle"/);
    expect(fails(422, JSON.stringify({ type: 'Bundle', id: BUNDLE_ID, objects: [INDICATOR] }), 'bundle').description).toMatch(/"type": "bundle"/);
  });

  it('an envelope with a "type" other than bundle is refused', () => {
    expect(fails(422, JSON.stringify({ type: 'indicator', objects: [INDICATOR] }), 'envelope').description).toMatch(/"type": "indicator"/);
  });

  it.each([
    ['missing', undefined],
    ['not a string', 42],
    ['another type prefix', 'indicator--5d0092c5-5f74-4287-9642-33f4c354e56d'],
    ['no UUID', 'bundle--'],
    ['a malformed UUID', 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56'],
    ['UUID version 0', 'bundle--5d0092c5-5f74-0287-9642-33f4c354e56d'],
    ['a bad variant', 'bundle--5d0092c5-5f74-4287-1642-33f4c354e56d'],
    ['single dash', 'bundle-5d0092c5-5f74-4287-9642-33f4c354e56d'],
    ['trailing text', `${BUNDLE_ID}x`],
  ])('a bundle needs an id bundle--<UUID> (%s)', (_what, id) => {
    expect(fails(422, bundle({ id }), 'bundle').description).toMatch(/bundle--<UUID>/);
  });

  it('a bundle is subject to the same objects rules (empty list, too many objects)', () => {
    fails(422, bundle({ objects: [] }), 'bundle');
    fails(422, bundle({ objects: [INDICATOR, INDICATOR, INDICATOR, INDICATOR] }), 'bundle');
    fails(422, bundle({ objects: undefined }), 'bundle');
  });
});

// Property tests of the STIX 2.1 validator: random valid indicators and relationships built
// from generators are accepted; removing or breaking one required property gets them
// rejected with a message naming it; the validator never throws on arbitrary JSON; IP and
// timestamp handling agree with independent oracles.
import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createStixValidator, type StixValidator } from '../../src/stix/validate.js';
import { compareTimestamps } from '../../src/stix/validation/timestamps.js';

let v: StixValidator;
beforeAll(() => {
  v = createStixValidator();
});

// ---- generators ---------------------------------------------------------------------------

const uuid = fc.uuid({ version: [1, 2, 3, 4, 5] });
const idOf = (type: string): fc.Arbitrary<string> => uuid.map((u) => `${type}--${u}`);
const MIN = new Date('1990-01-01T00:00:00Z').getTime();
const MAX = new Date('2090-01-01T00:00:00Z').getTime();
/** Milliseconds since the epoch, plus 0-6 extra fractional digits. */
const instant = fc.record({ ms: fc.integer({ min: MIN, max: MAX }), extra: fc.stringMatching(/^[0-9]{0,6}$/) });
const isoMs = (ms: number, extra = ''): string => new Date(ms).toISOString().replace('Z', `${extra}Z`);
/** Any-precision timestamp (none, ms, or finer). */
const anyPrecision = (ms: number, form: number): string =>
  form === 0 ? new Date(ms - (ms % 1000)).toISOString().replace('.000Z', 'Z') : isoMs(ms, form === 2 ? '123' : '');
/** created ≤ modified, both with at least millisecond precision. */
const createdModified = fc
  .tuple(instant, fc.integer({ min: 0, max: 10 * 365 * 86_400_000 }), fc.stringMatching(/^[0-9]{0,3}$/))
  .map(([c, delta, extra]) => ({
    created: isoMs(c.ms, c.extra),
    modified: delta === 0 ? isoMs(c.ms, c.extra) : isoMs(c.ms + delta, extra),
  }));
const word = fc.stringMatching(/^[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,8}){0,2}$/);
const killChainPhase = fc.record({ kill_chain_name: word, phase_name: word });
const sha256 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
const comparison = fc.oneof(
  fc.ipV4().map((ip) => `ipv4-addr:value = '${ip}'`),
  fc.domain().map((d) => `domain-name:value = '${d}'`),
  sha256.map((h) => `file:hashes.'SHA-256' = '${h}'`),
  fc.webUrl().map((u) => `url:value = '${u.replace(/[\\']/g, (c) => `\\${c}`)}'`),
);
const pattern = fc
  .tuple(fc.array(comparison, { minLength: 1, maxLength: 3 }), fc.constantFrom(' OR ', ' AND '), fc.boolean())
  .map(([cs, joiner, split]) => (split ? cs.map((c) => `[${c}]`).join(joiner) : `[${cs.join(joiner)}]`));
const customProps = fc.dictionary(
  fc.stringMatching(/^x_[a-z0-9_]{1,20}$/),
  fc.oneof(fc.string(), fc.integer(), fc.boolean()),
  { maxKeys: 3 },
);

const indicatorArb = fc
  .record(
    {
      id: idOf('indicator'),
      times: createdModified,
      pattern,
      valid: fc.tuple(fc.integer({ min: MIN, max: MAX }), fc.integer({ min: 0, max: 2 }), fc.option(fc.integer({ min: 1, max: 365 * 86_400_000 }))),
      name: fc.option(fc.string()),
      description: fc.option(fc.string()),
      indicator_types: fc.option(fc.subarray(['malicious-activity', 'anomalous-activity', 'benign', 'compromised', 'attribution', 'unknown', 'new-type'], { minLength: 1 })),
      kill_chain_phases: fc.option(fc.array(killChainPhase, { minLength: 1, maxLength: 3 })),
      labels: fc.option(fc.array(fc.string(), { minLength: 1, maxLength: 3 })),
      confidence: fc.option(fc.integer({ min: 0, max: 100 })),
      lang: fc.option(fc.constantFrom('en', 'de', 'pt-BR', 'zh-Hant-TW', 'es-419')),
      created_by_ref: fc.option(idOf('identity')),
      object_marking_refs: fc.option(fc.array(idOf('marking-definition'), { minLength: 1, maxLength: 2 })),
      revoked: fc.option(fc.boolean()),
      custom: customProps,
    },
    { requiredKeys: ['id', 'times', 'pattern', 'valid', 'custom'] },
  )
  .map((r) => {
    const [from, form, untilDelta] = r.valid;
    const o: Record<string, unknown> = {
      type: 'indicator',
      spec_version: '2.1',
      id: r.id,
      created: r.times.created,
      modified: r.times.modified,
      pattern: r.pattern,
      pattern_type: 'stix',
      valid_from: anyPrecision(from, form),
      ...r.custom,
    };
    if (untilDelta !== null) o.valid_until = isoMs(from - (form === 0 ? from % 1000 : 0) + untilDelta);
    for (const k of ['name', 'description', 'indicator_types', 'kill_chain_phases', 'labels', 'confidence', 'lang', 'created_by_ref', 'object_marking_refs', 'revoked'] as const) {
      if (r[k] !== null && r[k] !== undefined) o[k] = r[k];
    }
    return o;
  });

const TARGET_TYPES = ['attack-pattern', 'campaign', 'identity', 'indicator', 'infrastructure', 'intrusion-set', 'malware', 'threat-actor', 'tool', 'vulnerability', 'ipv4-addr', 'domain-name', 'file', 'x-acme-widget'];
const refArb = fc.constantFrom(...TARGET_TYPES).chain((t) => idOf(t));
const relationshipArb = fc
  .record(
    {
      id: idOf('relationship'),
      times: createdModified,
      relationship_type: fc.stringMatching(/^[a-z0-9]+(-[a-z0-9]+)*$/),
      source_ref: refArb,
      target_ref: refArb,
      window: fc.option(fc.tuple(fc.integer({ min: MIN, max: MAX }), fc.integer({ min: 1, max: 86_400_000 }))),
      description: fc.option(fc.string()),
      confidence: fc.option(fc.integer({ min: 0, max: 100 })),
      custom: customProps,
    },
    { requiredKeys: ['id', 'times', 'relationship_type', 'source_ref', 'target_ref', 'custom'] },
  )
  .map((r) => {
    const o: Record<string, unknown> = {
      type: 'relationship',
      spec_version: '2.1',
      id: r.id,
      created: r.times.created,
      modified: r.times.modified,
      relationship_type: r.relationship_type,
      source_ref: r.source_ref,
      target_ref: r.target_ref,
      ...r.custom,
    };
    if (r.window) {
      o.start_time = isoMs(r.window[0]);
      o.stop_time = isoMs(r.window[0] + r.window[1]);
    }
    if (r.description !== null && r.description !== undefined) o.description = r.description;
    if (r.confidence !== null && r.confidence !== undefined) o.confidence = r.confidence;
    return o;
  });

const INDICATOR_REQUIRED = ['type', 'spec_version', 'id', 'created', 'modified', 'pattern', 'pattern_type', 'valid_from'];
const RELATIONSHIP_REQUIRED = ['type', 'spec_version', 'id', 'created', 'modified', 'relationship_type', 'source_ref', 'target_ref'];

/** A value of the wrong JSON type for the property (each required property here is a string). */
const wrongValue = fc.constantFrom<unknown>(42, true, null, ['x'], { a: 1 });

// ---- properties ---------------------------------------------------------------------------

describe('random valid objects are accepted', () => {
  it('accepts every generated valid indicator', () => {
    fc.assert(
      fc.property(indicatorArb, (o) => {
        const r = v.validate(o);
        expect(r.errors).toEqual([]);
        expect(r.valid).toBe(true);
        expect(r.specVersion).toBe('2.1');
      }),
      { numRuns: 300 },
    );
  });

  it('accepts every generated valid relationship', () => {
    fc.assert(
      fc.property(relationshipArb, (o) => {
        const r = v.validate(o);
        expect(r.errors).toEqual([]);
        expect(r.valid).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('one broken required property makes a valid object invalid', () => {
  const cases = [
    ['indicator', indicatorArb, INDICATOR_REQUIRED],
    ['relationship', relationshipArb, RELATIONSHIP_REQUIRED],
  ] as const;

  for (const [name, arb, required] of cases) {
    it(`rejects a ${name} without one of its required properties, naming it`, () => {
      fc.assert(
        fc.property(arb, fc.constantFrom(...required), (o, prop) => {
          const broken = { ...o };
          delete broken[prop];
          const r = v.validate(broken);
          expect(r.valid).toBe(false);
          expect(r.errors.join('\n')).toContain(prop);
        }),
        { numRuns: 200 },
      );
    });

    it(`rejects a ${name} whose required property has the wrong JSON type, naming it`, () => {
      fc.assert(
        fc.property(arb, fc.constantFrom(...required), wrongValue, (o, prop, value) => {
          const r = v.validate({ ...o, [prop]: value });
          expect(r.valid).toBe(false);
          expect(r.errors.join('\n')).toContain(prop);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('rejects an indicator whose modified is earlier than its created', () => {
    fc.assert(
      fc.property(indicatorArb, fc.integer({ min: 1, max: 86_400_000 }), (o, delta) => {
        const created = new Date(String(o.created).slice(0, 23) + 'Z').getTime();
        const r = v.validate({ ...o, modified: isoMs(created - delta) });
        expect(r.valid).toBe(false);
        expect(r.errors.join('\n')).toMatch(/modified .* must be later than or equal to created/);
      }),
      { numRuns: 100 },
    );
  });
});

describe('robustness and independent oracles', () => {
  it('never throws on arbitrary JSON values, and returns errors for non-objects', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = v.validate(value);
        expect(typeof r.valid).toBe('boolean');
        if (typeof value !== 'object' || value === null || Array.isArray(value)) expect(r.valid).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on a valid indicator with arbitrary extra or replaced properties', () => {
    fc.assert(
      fc.property(indicatorArb, fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), (o, extra) => {
        const r = v.validate({ ...o, ...extra });
        expect(Array.isArray(r.errors)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('accepts every IPv4 and IPv6 address fast-check generates', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV6(), fc.integer({ min: 0, max: 128 }), (ip4, ip6, prefix) => {
        expect(v.validate({ type: 'ipv4-addr', id: 'ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4', value: ip4 }).errors).toEqual([]);
        expect(v.validate({ type: 'ipv6-addr', id: 'ipv6-addr--1e4ffad7-0b88-41d4-ba4d-77d27490b956', value: ip6 }).errors).toEqual([]);
        expect(v.validate({ type: 'ipv6-addr', id: 'ipv6-addr--1e4ffad7-0b88-41d4-ba4d-77d27490b956', value: `${ip6}/${prefix}` }).errors).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with node:net isIPv6 on random strings of IPv6 characters', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f:.]{0,24}$/), (value) => {
        const r = v.validate({ type: 'ipv6-addr', id: 'ipv6-addr--1e4ffad7-0b88-41d4-ba4d-77d27490b956', value });
        expect(r.valid, value).toBe(isIPv6(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('orders timestamps as Date does, whatever their fractional precision', () => {
    fc.assert(
      fc.property(instant, instant, (a, b) => {
        const ta = isoMs(a.ms, a.extra);
        const tb = isoMs(b.ms, b.extra);
        const byDate = Math.sign(a.ms - b.ms);
        const ours = Math.sign(compareTimestamps(ta, tb));
        if (byDate !== 0) expect(ours).toBe(byDate);
        expect(compareTimestamps(isoMs(a.ms), isoMs(a.ms, '000'))).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});

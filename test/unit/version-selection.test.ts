import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareSpecVersions, selectionFlags, type VersionRef } from '../../src/stix/version-selection.js';
import { stixVersionKey } from '../../src/taxii/timestamps.js';

/**
 * Default version selection (TAXII §3.4.1; digest §7.7, §7.8, §7.9):
 * match[spec_version] defaults to the latest spec version the server can
 * provide for the object, and match[version] defaults to `last`; `first` is
 * the oldest version of that spec version.
 */
const SPEC_VERSIONS = ['2.0', '2.1', '2.2', '2.10', '3.0'] as const;
const key = (text: string) => stixVersionKey(text)!;

/** The reference: the plain reading of the rule, written independently. */
function reference(versions: readonly VersionRef[]) {
  const numeric = (s: string) => s.split('.').map(Number) as [number, number];
  const specOrder = (a: string, b: string) => {
    const [am, an] = numeric(a);
    const [bm, bn] = numeric(b);
    return am !== bm ? am - bm : an - bn;
  };
  const maxSpec = [...versions].map((v) => v.specVersion).sort(specOrder).at(-1);
  const inMax = versions.filter((v) => v.specVersion === maxSpec).map((v) => v.versionKey).sort();
  const newest = inMax.at(-1);
  const oldest = inMax[0];
  return versions.map((v) => ({
    inMaxSpec: v.specVersion === maxSpec,
    isLatest: v.specVersion === maxSpec && v.versionKey === newest,
    isFirst: v.specVersion === maxSpec && v.versionKey === oldest,
  }));
}

/** Versions of one object: distinct version keys (unique per object in storage), each with a spec version. */
const versionsArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 4_102_444_799_999 }), { minLength: 0, maxLength: 12 })
  .chain((millis) =>
    fc.tuple(
      ...millis.map((ms) =>
        fc.record({
          specVersion: fc.constantFrom(...SPEC_VERSIONS),
          versionKey: fc.constant(key(new Date(ms).toISOString())),
        }),
      ),
    ),
  );

describe('compareSpecVersions: spec versions compare as numbers, not text', () => {
  it('2.1 > 2.0, 2.10 > 2.9, 3.0 > 2.10, equal is 0', () => {
    expect(compareSpecVersions('2.1', '2.0')).toBeGreaterThan(0);
    expect(compareSpecVersions('2.0', '2.1')).toBeLessThan(0);
    expect(compareSpecVersions('2.10', '2.9')).toBeGreaterThan(0);
    expect(compareSpecVersions('3.0', '2.10')).toBeGreaterThan(0);
    expect(compareSpecVersions('2.1', '2.1')).toBe(0);
  });
});

describe('selectionFlags (TAXII §3.4.1: default match[spec_version] = latest the server has, default match[version] = last)', () => {
  it('no versions, no flags', () => {
    expect(selectionFlags([])).toEqual([]);
  });

  it('one version is in the max spec, the latest and the first', () => {
    expect(selectionFlags([{ specVersion: '2.1', versionKey: key('2016-01-01T00:00:00Z') }])).toEqual([
      { inMaxSpec: true, isLatest: true, isFirst: true },
    ]);
  });

  it('a newer STIX 2.0 version does not win over an older 2.1 version: only the highest spec version counts', () => {
    const flags = selectionFlags([
      { specVersion: '2.1', versionKey: key('2016-01-01T00:00:00Z') },
      { specVersion: '2.1', versionKey: key('2017-01-01T00:00:00Z') },
      { specVersion: '2.0', versionKey: key('2018-01-01T00:00:00Z') },
    ]);
    expect(flags).toEqual([
      { inMaxSpec: true, isLatest: false, isFirst: true },
      { inMaxSpec: true, isLatest: true, isFirst: false },
      { inMaxSpec: false, isLatest: false, isFirst: false },
    ]);
  });

  it('latest and first are by time, not by position in the list nor by the precision the timestamp was written in', () => {
    const flags = selectionFlags([
      { specVersion: '2.1', versionKey: key('2016-01-01T00:00:01.5Z') },
      { specVersion: '2.1', versionKey: key('2016-01-01T00:00:01.000000001Z') },
      { specVersion: '2.1', versionKey: key('2016-01-01T00:00:01.45Z') },
    ]);
    expect(flags.map((f) => f.isLatest)).toEqual([true, false, false]);
    expect(flags.map((f) => f.isFirst)).toEqual([false, true, false]);
  });

  it('2.10 is a higher spec version than 2.2', () => {
    const flags = selectionFlags([
      { specVersion: '2.2', versionKey: key('2020-01-01T00:00:00Z') },
      { specVersion: '2.10', versionKey: key('2016-01-01T00:00:00Z') },
    ]);
    expect(flags.map((f) => f.inMaxSpec)).toEqual([false, true]);
  });

  it('agrees with the reference (max spec version, then newest/oldest key) on any set of versions (fast-check)', () => {
    fc.assert(
      fc.property(versionsArb, (versions) => {
        expect(selectionFlags(versions)).toEqual(reference(versions));
      }),
      { numRuns: 2000 },
    );
  });

  it('exactly one latest and one first version for any non-empty set, both in the max spec version (fast-check)', () => {
    fc.assert(
      fc.property(versionsArb, (versions) => {
        fc.pre(versions.length > 0);
        const flags = selectionFlags(versions);
        expect(flags.filter((f) => f.isLatest)).toHaveLength(1);
        expect(flags.filter((f) => f.isFirst)).toHaveLength(1);
        for (const f of flags) if (f.isLatest || f.isFirst) expect(f.inMaxSpec).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('does not depend on the order of the input (fast-check)', () => {
    fc.assert(
      fc.property(versionsArb.chain((v) => fc.tuple(fc.constant(v), fc.shuffledSubarray(v, { minLength: v.length, maxLength: v.length }))), ([versions, shuffled]) => {
        const byKey = (list: readonly VersionRef[]) => {
          const flags = selectionFlags(list);
          return Object.fromEntries(list.map((v, i) => [v.versionKey, flags[i]]));
        };
        expect(byKey(shuffled)).toEqual(byKey(versions));
      }),
      { numRuns: 500 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTaxiiTimestamp, parseTaxiiTimestamp, stixVersionKey } from '../../src/taxii/timestamps.js';

/**
 * TAXII timestamps (TAXII §2 "timestamp"; digest §4, §8.3; interop rules 5 and
 * 6; pitfall P4): emitted as YYYY-MM-DDTHH:MM:SS.ssssssZ, read leniently.
 */
const TAXII_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

/** 9999-12-31T23:59:59.999999Z in microseconds, exactly (a bigint: a number cannot hold it). */
const MAX_US_9999 = BigInt(Date.UTC(9999, 11, 31, 23, 59, 59)) * 1000n + 999_999n;

/** An independent formatter: microseconds as a bigint, split with exact integer arithmetic. */
function referenceFormat(us: bigint): string {
  const seconds = us / 1_000_000n;
  const micros = us % 1_000_000n;
  const iso = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${iso}.${micros.toString().padStart(6, '0')}Z`;
}

describe('formatTaxiiTimestamp (TAXII §2 timestamp, §3.2 X-TAXII-Date-Added-*: exactly 6 fractional digits and Z)', () => {
  it('formats known instants with microsecond precision', () => {
    expect(formatTaxiiTimestamp(0)).toBe('1970-01-01T00:00:00.000000Z');
    expect(formatTaxiiTimestamp(1)).toBe('1970-01-01T00:00:00.000001Z');
    expect(formatTaxiiTimestamp(999)).toBe('1970-01-01T00:00:00.000999Z');
    expect(formatTaxiiTimestamp(1000)).toBe('1970-01-01T00:00:00.001000Z');
    expect(formatTaxiiTimestamp(1_700_000_000_123_456)).toBe('2023-11-14T22:13:20.123456Z');
  });

  it('always matches ^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z$ and round-trips with parseTaxiiTimestamp, for microsecond values up to 2^53-1 (year 2255)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (us) => {
        const text = formatTaxiiTimestamp(us);
        expect(text).toMatch(TAXII_TIMESTAMP);
        expect(text).toBe(referenceFormat(BigInt(us)));
        expect(parseTaxiiTimestamp(text)).toBe(us);
      }),
      { numRuns: 2000 },
    );
  });

  it('always matches the TAXII format and round-trips with parseTaxiiTimestamp, for every microsecond value a number holds exactly (1970 to 2255)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_US_9999 }), (big) => {
        const us = Number(big);
        fc.pre(us <= Number.MAX_SAFE_INTEGER);
        const text = formatTaxiiTimestamp(us);
        expect(text).toMatch(TAXII_TIMESTAMP);
        expect(parseTaxiiTimestamp(text)).toBe(us);
      }),
      { numRuns: 2000 },
    );
  });

  it('a valid added_after late in the exact range survives parse → format unchanged (interop rule 6: exact microseconds)', () => {
    for (const text of ['2200-01-01T00:00:00.000001Z', '2255-06-05T23:47:34.740991Z']) {
      const us = parseTaxiiTimestamp(text);
      expect(us, text).toBeDefined();
      expect(formatTaxiiTimestamp(us!), text).toBe(text);
    }
  });

  it('reads instants past 2^53 µs (after 2255) as the end of time, later than any date_added', () => {
    for (const text of ['2300-01-01T00:00:00.000001Z', '9999-12-31T23:59:59.999999Z']) {
      expect(parseTaxiiTimestamp(text), text).toBe(Number.MAX_SAFE_INTEGER);
    }
  });
});

describe('parseTaxiiTimestamp (digest §4, interop rule 6: RFC 3339 input with 0–9 fractional digits)', () => {
  const base = Date.UTC(2021, 5, 10, 12, 34, 56) * 1000;

  it.each([
    ['2021-06-10T12:34:56Z', base],
    ['2021-06-10T12:34:56.1Z', base + 100_000],
    ['2021-06-10T12:34:56.12Z', base + 120_000],
    ['2021-06-10T12:34:56.123Z', base + 123_000],
    ['2021-06-10T12:34:56.1234Z', base + 123_400],
    ['2021-06-10T12:34:56.12345Z', base + 123_450],
    ['2021-06-10T12:34:56.123456Z', base + 123_456],
    ['2021-06-10T12:34:56.1234567Z', base + 123_456],
    ['2021-06-10T12:34:56.12345678Z', base + 123_456],
    ['2021-06-10T12:34:56.123456789Z', base + 123_456],
  ])('accepts %s (0 to 9 fractional digits)', (text, expected) => {
    expect(parseTaxiiTimestamp(text)).toBe(expected);
  });

  it('accepts a lower-case z and t (RFC 3339 §5.6 NOTE)', () => {
    expect(parseTaxiiTimestamp('2021-06-10t12:34:56.123456z')).toBe(base + 123_456);
  });

  it.each([
    ['2021-06-10T14:34:56.123456+02:00', base + 123_456],
    ['2021-06-10T10:04:56.123456-02:30', base + 123_456],
    ['2021-06-10T12:34:56.123456+00:00', base + 123_456],
    ['2021-06-10T12:34:56.123456-00:00', base + 123_456],
    ['2021-06-11T00:34:56+12:00', base],
  ])('accepts the numeric offset in %s and normalises it to UTC', (text, expected) => {
    expect(parseTaxiiTimestamp(text)).toBe(expected);
  });

  it('reads a space before hh:mm as the "+" a URL decoder turned into a space', () => {
    expect(parseTaxiiTimestamp('2021-06-10T14:34:56.123456 02:00')).toBe(base + 123_456);
    expect(parseTaxiiTimestamp('2021-06-10T14:34:56.123456 02:00')).toBe(parseTaxiiTimestamp('2021-06-10T14:34:56.123456+02:00'));
  });

  it('rejects 10 or more fractional digits', () => {
    expect(parseTaxiiTimestamp('2021-06-10T12:34:56.1234567891Z')).toBeUndefined();
    expect(parseTaxiiTimestamp(`2021-06-10T12:34:56.${'1'.repeat(30)}Z`)).toBeUndefined();
  });

  it.each([
    ['Feb 30', '2021-02-30T00:00:00Z'],
    ['Feb 29 in a common year', '2021-02-29T00:00:00Z'],
    ['Feb 29 in a century common year', '1900-02-29T00:00:00Z'],
    ['month 13', '2021-13-01T00:00:00Z'],
    ['month 00', '2021-00-10T00:00:00Z'],
    ['day 00', '2021-06-00T00:00:00Z'],
    ['April 31', '2021-04-31T00:00:00Z'],
    ['hour 24', '2021-06-10T24:00:00Z'],
    ['minute 60', '2021-06-10T12:60:00Z'],
    ['second 60', '2021-06-10T12:34:60Z'],
    ['offset hour 24', '2021-06-10T12:34:56+24:00'],
    ['offset minute 60', '2021-06-10T12:34:56+01:60'],
  ])('rejects an impossible date or time (%s)', (_what, text) => {
    expect(parseTaxiiTimestamp(text)).toBeUndefined();
  });

  it('accepts the leap days that exist', () => {
    expect(parseTaxiiTimestamp('2020-02-29T00:00:00Z')).toBe(Date.UTC(2020, 1, 29) * 1000);
    expect(parseTaxiiTimestamp('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29) * 1000);
  });

  it('reads the years 0000–0099 as written, not as 1900–1999 (RFC 3339 date-fullyear is four digits)', () => {
    const utc = (year: number, month: number, day: number) => {
      const d = new Date(0);
      d.setUTCFullYear(year, month - 1, day);
      return d.getTime() * 1000;
    };
    expect(parseTaxiiTimestamp('0050-06-01T00:00:00Z')).toBe(utc(50, 6, 1));
    expect(parseTaxiiTimestamp('0001-01-01T00:00:00Z')).toBe(utc(1, 1, 1));
    // Year 0 is a leap year in the proleptic Gregorian calendar (divisible by 400); 1900 is not.
    expect(parseTaxiiTimestamp('0000-02-29T00:00:00Z')).toBe(utc(0, 2, 29));
  });

  it.each([
    '',
    'now',
    'undefined',
    '2021-06-10',
    '2021-06-10T12:34:56',
    '2021-06-10 12:34:56Z',
    '2021-06-10T12:34Z',
    '2021-06-10T12:34:56.Z',
    '2021-06-10T12:34:56.123456ZZ',
    ' 2021-06-10T12:34:56Z',
    '2021-06-10T12:34:56Z ',
    '21-06-10T12:34:56Z',
    '2021-6-10T12:34:56Z',
    '2021-06-10T12:34:56+0200',
    '2021-06-10T12:34:56+02',
    '2021-06-10T12:34:56UTC',
    '1623328496',
    'Thu Jun 10 2021 12:34:56 GMT+0000 (Coordinated Universal Time)',
    '２０２１-06-10T12:34:56Z',
  ])('rejects garbage: %j', (text) => {
    expect(parseTaxiiTimestamp(text)).toBeUndefined();
  });

  it('never throws and returns an integer or undefined, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        const us = parseTaxiiTimestamp(text);
        if (us !== undefined) expect(Number.isInteger(us)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('drops sub-microsecond digits (floor), so that "date_added > added_after" stays exact (digest §7.1)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_102_444_800_000_000 }), // 1970 .. 2100
        fc.integer({ min: 1, max: 999 }),
        (dateAdded, nanos) => {
          // added_after = dateAdded + nanos/1000 µs: strictly after dateAdded, strictly before dateAdded + 1 µs.
          const addedAfter = formatTaxiiTimestamp(dateAdded).replace('Z', `${String(nanos).padStart(3, '0')}Z`);
          const value = parseTaxiiTimestamp(addedAfter);
          expect(value).toBe(dateAdded);
          // The object added at dateAdded is not after the value; the one added 1 µs later is.
          expect(dateAdded > value!).toBe(false);
          expect(dateAdded + 1 > value!).toBe(true);
        },
      ),
    );
  });
});

describe('stixVersionKey (digest §9: one instant, one version, whatever the precision)', () => {
  it('normalises ...:01Z, ...:01.000Z and ...:01.000000Z to the same key', () => {
    const keys = ['2016-01-01T01:01:01Z', '2016-01-01T01:01:01.000Z', '2016-01-01T01:01:01.000000Z', '2016-01-01T01:01:01.000000000Z'].map(
      stixVersionKey,
    );
    expect(keys[0]).toBeDefined();
    expect(new Set(keys).size).toBe(1);
  });

  it('keeps distinct instants distinct (…:01.1Z is not …:01.01Z)', () => {
    expect(stixVersionKey('2016-01-01T01:01:01.1Z')).not.toBe(stixVersionKey('2016-01-01T01:01:01.01Z'));
    expect(stixVersionKey('2016-01-01T01:01:01.100Z')).toBe(stixVersionKey('2016-01-01T01:01:01.1Z'));
  });

  it('rejects what is not a STIX timestamp (offsets, no Z, garbage)', () => {
    for (const text of ['2016-01-01T01:01:01+00:00', '2016-01-01T01:01:01', 'last', '', '2016-01-01']) {
      expect(stixVersionKey(text), text).toBeUndefined();
    }
  });

  /** A STIX timestamp written at a random precision (0, 3, 6 or 9 digits, padded with zeros) for an instant in ns. */
  const instant = fc.record({
    seconds: fc.integer({ min: 0, max: 253402300799 }), // 1970 .. 9999
    nanos: fc.integer({ min: 0, max: 999_999_999 }),
  });
  function write(seconds: number, nanos: number, digits: number): string {
    const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
    const frac = String(nanos).padStart(9, '0');
    // Only write at a precision that holds the instant exactly; pad with extra zeros otherwise.
    const significant = frac.replace(/0+$/, '');
    const shown = significant.length > digits ? frac : frac.slice(0, Math.max(digits, significant.length));
    return shown.length === 0 ? `${iso}Z` : `${iso}.${shown}Z`;
  }

  it('orders keys as time: text order of keys equals chronological order (fast-check)', () => {
    fc.assert(
      fc.property(instant, instant, fc.constantFrom(0, 3, 6, 9), fc.constantFrom(0, 3, 6, 9), (a, b, da, db) => {
        const ka = stixVersionKey(write(a.seconds, a.nanos, da));
        const kb = stixVersionKey(write(b.seconds, b.nanos, db));
        expect(ka).toBeDefined();
        expect(kb).toBeDefined();
        const time = Math.sign(a.seconds - b.seconds || a.nanos - b.nanos);
        const text = ka! < kb! ? -1 : ka! > kb! ? 1 : 0;
        expect(text).toBe(time);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives one key for one instant written at any precision (fast-check)', () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(0, 3, 6, 9), fc.constantFrom(0, 3, 6, 9), (a, d1, d2) => {
        expect(stixVersionKey(write(a.seconds, a.nanos, d1))).toBe(stixVersionKey(write(a.seconds, a.nanos, d2)));
      }),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { TaxiiError } from '../../src/taxii/errors.js';
import { parseReadQuery, type Endpoint } from '../../src/taxii/query.js';

/**
 * Query parameters of the read endpoints (TAXII §3.4, §3.4.1; digest §0 table,
 * §7; pitfall P8). Any malformed parameter is a 400.
 */
const limits = { maxMatchValues: 5 };
type Raw = Record<string, string | string[] | undefined>;
const parse = (raw: Raw, endpoint: Endpoint = 'objects') => parseReadQuery(raw, endpoint, limits);

const ID1 = 'indicator--3600ad1b-fff1-4c98-bcc9-4de3bc2e2ffb';
const ID2 = 'sighting--4600ad1b-fff1-4c98-bcc9-4de3bc2e2ffb';
const ALL_ENDPOINTS: Endpoint[] = ['objects', 'manifest', 'object', 'versions', 'delete'];

function rejects(raw: Raw, endpoint: Endpoint = 'objects'): TaxiiError {
  try {
    parse(raw, endpoint);
  } catch (error) {
    expect(error).toBeInstanceOf(TaxiiError);
    expect((error as TaxiiError).httpStatus).toBe(400);
    return error as TaxiiError;
  }
  throw new Error(`expected a 400 for ${JSON.stringify(raw)} on ${endpoint}`);
}

describe('no parameters (TAXII §3.4: "everything for this endpoint")', () => {
  it.each(ALL_ENDPOINTS)('%s: an empty query gives no filters', (endpoint) => {
    expect(parse({}, endpoint)).toEqual({ filters: {} });
  });
});

describe('a parameter given twice is malformed → 400 (TAXII §3.4.1; digest §7.1, §7.4)', () => {
  it.each([
    ['added_after', ['2021-01-01T00:00:00Z', '2021-01-02T00:00:00Z']],
    ['limit', ['1', '2']],
    ['next', ['a.b', 'c.d']],
    ['match[id]', [ID1, ID2]],
    ['match[type]', ['indicator', 'malware']],
    ['match[version]', ['first', 'last']],
    ['match[spec_version]', ['2.0', '2.1']],
    ['match[type] twice with the same value', ['indicator', 'indicator']],
  ])('%s', (name, values) => {
    const error = rejects({ [name.split(' ')[0]!]: values });
    expect(error.description).toContain(name.split(' ')[0]!);
  });
});

describe('added_after (TAXII §3.4.1; digest §7.1)', () => {
  it('is read as microseconds, with 0–9 fractional digits', () => {
    expect(parse({ added_after: '2021-01-01T00:00:00Z' }).addedAfter).toBe(Date.UTC(2021, 0, 1) * 1000);
    expect(parse({ added_after: '2021-01-01T00:00:00.123456789Z' }).addedAfter).toBe(Date.UTC(2021, 0, 1) * 1000 + 123_456);
  });

  it('a "+" offset decoded into a space by the URL parser still works', () => {
    expect(parse({ added_after: '2021-01-01T01:00:00.000000 01:00' }).addedAfter).toBe(Date.UTC(2021, 0, 1) * 1000);
  });

  it.each(['', 'yesterday', '2021-13-01T00:00:00Z', '2021-01-01T00:00:00.1234567890Z', 'undefined'])('%j is malformed → 400', (value) => {
    expect(rejects({ added_after: value }).description).toContain('added_after');
  });
});

describe('limit (TAXII §3.4.1; digest §7.2: a positive integer greater than 0)', () => {
  it.each([
    ['1', 1],
    ['10', 10],
    ['0010', 10],
    ['100000', 100000],
  ])('limit=%s → %d', (value, expected) => {
    expect(parse({ limit: value }).limit).toBe(expected);
  });

  it.each(['0', '-1', '1.5', '1e3', 'ten', '', ' ', '+5', '0x10', '00', '5abc'])('limit=%j is malformed → 400', (value) => {
    expect(rejects({ limit: value }).description).toContain('limit');
  });

  it('a limit above any server maximum is not malformed: the server may answer with fewer (§3.4.1), up to the largest TAXII integer 2^53−1 (§2)', () => {
    expect(parse({ limit: '1000000000' }).limit).toBe(1_000_000_000);
    expect(parse({ limit: String(Number.MAX_SAFE_INTEGER) }).limit).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('next (TAXII §3.4.1: a single string)', () => {
  it('is passed through for the endpoints that page', () => {
    for (const endpoint of ['objects', 'manifest', 'object', 'versions'] as const) {
      expect(parse({ next: 'abc.def' }, endpoint).next).toBe('abc.def');
    }
  });

  it('an empty next is malformed → 400', () => {
    rejects({ next: '' });
  });
});

describe('match lists: comma-separated values are ORed (TAXII §3.4.1; digest §7.4; pitfall P8)', () => {
  it('match[id]=a,b is two ids', () => {
    expect(parse({ 'match[id]': `${ID1},${ID2}` }).filters.ids).toEqual([ID1, ID2]);
  });

  it('match[type]=incident,malware is two types', () => {
    expect(parse({ 'match[type]': 'incident,malware' }).filters.types).toEqual(['incident', 'malware']);
  });

  it('match[spec_version]=2.0,2.1 is two versions', () => {
    expect(parse({ 'match[spec_version]': '2.0,2.1' }).filters.specVersions).toEqual(['2.0', '2.1']);
  });

  it('different fields are kept together (ANDed by the reader)', () => {
    const q = parse({ 'match[id]': ID1, 'match[type]': 'indicator', 'match[spec_version]': '2.1', 'match[version]': 'all' });
    expect(q.filters).toEqual({
      ids: [ID1],
      types: ['indicator'],
      specVersions: ['2.1'],
      versions: { all: true, first: false, last: false, keys: [] },
    });
  });

  it.each(['', ',', 'indicator,', ',indicator', 'indicator,,malware', 'indicator, ,malware'])('an empty item in %j is malformed → 400', (value) => {
    expect(rejects({ 'match[type]': value }).description).toContain('match[type]');
  });

  it('at most maxMatchValues values per field; one more is a 400', () => {
    const types = ['aaa', 'bbb', 'ccc', 'ddd', 'eee', 'fff'];
    expect(parse({ 'match[type]': types.slice(0, 5).join(',') }).filters.types).toHaveLength(5);
    expect(rejects({ 'match[type]': types.join(',') }).description).toContain('match[type]');
    expect(rejects({ 'match[spec_version]': '2.0,2.1,2.2,2.3,2.4,2.5' }).description).toContain('match[spec_version]');
    const ids = Array.from({ length: 6 }, (_, i) => `indicator--3600ad1b-fff1-4c98-bcc9-4de3bc2e2ff${i}`);
    expect(rejects({ 'match[id]': ids.join(',') }).description).toContain('match[id]');
  });

  it.each([
    ['match[id]', 'not-an-id'],
    ['match[id]', 'indicator'],
    ['match[id]', `${ID1},bogus`],
    ['match[type]', 'Indicator'],
    ['match[type]', 'x'],
    ['match[type]', 'indicator;drop'],
    ['match[spec_version]', '2'],
    ['match[spec_version]', 'latest'],
    ['match[spec_version]', '2.1,v2'],
  ])('%s=%j is malformed → 400', (name, value) => {
    expect(rejects({ [name]: value }).description).toContain(name);
  });
});

describe('match[version] (TAXII §3.4.1; digest §7.7)', () => {
  it.each([
    ['last', { all: false, first: false, last: true, keys: [] }],
    ['first', { all: false, first: true, last: false, keys: [] }],
    ['all', { all: true, first: false, last: false, keys: [] }],
    ['last,first', { all: false, first: true, last: true, keys: [] }],
  ])('%s', (value, expected) => {
    expect(parse({ 'match[version]': value }).filters.versions).toEqual(expected);
  });

  it('timestamps are read as version keys, so any precision of one instant selects the same version (digest §9)', () => {
    const a = parse({ 'match[version]': '2016-01-01T01:01:01Z' }).filters.versions!;
    const b = parse({ 'match[version]': '2016-01-01T01:01:01.000Z' }).filters.versions!;
    expect(a.keys).toHaveLength(1);
    expect(a.keys).toEqual(b.keys);
  });

  it('first,<timestamp>,last and two different timestamps are allowed', () => {
    const v = parse({ 'match[version]': 'first,2018-03-02T01:01:01.123Z,last' }).filters.versions!;
    expect(v).toMatchObject({ all: false, first: true, last: true });
    expect(v.keys).toHaveLength(1);
    expect(parse({ 'match[version]': '2018-03-02T01:01:01.123Z,2018-03-02T01:01:01.124Z' }).filters.versions!.keys).toHaveLength(2);
  });

  it.each(['all,last', 'first,all', `all,2016-01-01T01:01:01.000Z`])('"all" cannot be combined with another value: %j → 400', (value) => {
    expect(rejects({ 'match[version]': value }).description).toMatch(/all/);
  });

  it.each(['latest', 'LAST', 'All', '2016-01-01', '2016-01-01T01:01:01', '2016-01-01T01:01:01+00:00', '1451610061'])(
    '%j is neither first, last, all nor a STIX timestamp → 400',
    (value) => {
      expect(rejects({ 'match[version]': value }).description).toContain('match[version]');
    },
  );

  it('an impossible timestamp is malformed → 400 (§3.4.1: "MUST follow STIX timestamp rules"; §3.4: malformed → 400)', () => {
    for (const value of ['2016-13-01T00:00:00Z', '2016-02-30T00:00:00Z', '2016-01-01T24:00:00Z', '2016-01-01T00:61:00Z']) {
      expect(() => parse({ 'match[version]': value }), value).toThrow(TaxiiError);
    }
  });
});

describe('parameters an endpoint does not take are ignored, not rejected (digest §0 table; §7.4: unknown fields MAY be ignored)', () => {
  it('object (Get an Object) ignores match[id] and match[type], even malformed or repeated', () => {
    expect(parse({ 'match[id]': 'garbage', 'match[type]': ['X', 'Y'] }, 'object')).toEqual({ filters: {} });
  });

  it('versions ignores match[id], match[type] and match[version]', () => {
    expect(parse({ 'match[id]': 'garbage', 'match[type]': 'X', 'match[version]': 'all,first' }, 'versions')).toEqual({ filters: {} });
  });

  it('delete ignores added_after, limit, next, match[id] and match[type]', () => {
    expect(
      parse({ added_after: 'never', limit: '0', next: '', 'match[id]': 'garbage', 'match[type]': ['a', 'b'] }, 'delete'),
    ).toEqual({ filters: {} });
  });

  it('delete still reads match[version] and match[spec_version]', () => {
    expect(parse({ 'match[version]': 'first', 'match[spec_version]': '2.1' }, 'delete').filters).toEqual({
      versions: { all: false, first: true, last: false, keys: [] },
      specVersions: ['2.1'],
    });
    rejects({ 'match[version]': 'all,last' }, 'delete');
  });

  it.each(ALL_ENDPOINTS)('%s ignores unknown match fields and other parameters (cache busters), even repeated', (endpoint) => {
    expect(
      parse({ 'match[foo]': 'bar', 'match[created_by_ref]': ['a', 'b'], _: '1700000000', format: 'json', 'match[]': 'x' }, endpoint),
    ).toEqual({ filters: {} });
  });

  it('a known parameter next to ignored ones is still read', () => {
    expect(parse({ 'match[foo]': 'bar', limit: '3' }).limit).toBe(3);
  });

  it('undefined values are absent parameters', () => {
    expect(parse({ limit: undefined, added_after: undefined, 'match[type]': undefined })).toEqual({ filters: {} });
  });
});

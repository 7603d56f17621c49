import { badRequest } from './errors.js';
import { parseTaxiiTimestamp, stixVersionKey } from './timestamps.js';

/**
 * Query parameters of the TAXII read endpoints (TAXII §3.4), parsed and
 * checked. Any malformed parameter is a 400 (TAXII §3.4): a repeated
 * parameter, a bad timestamp, a limit that is not a positive integer, `all`
 * combined with another version, an empty value.
 */
export interface VersionSelection {
  all: boolean;
  first: boolean;
  last: boolean;
  /** Sortable keys (stixVersionKey) of explicitly requested versions. */
  keys: string[];
}

export interface Filters {
  ids?: string[];
  types?: string[];
  versions?: VersionSelection;
  specVersions?: string[];
}

export interface ReadQuery {
  filters: Filters;
  /** Microseconds; strictly-after comparison. */
  addedAfter?: number;
  limit?: number;
  next?: string;
}

export type Endpoint = 'objects' | 'manifest' | 'object' | 'versions' | 'delete';

/** Which parameters each endpoint takes (TAXII digest §0 table; §17 items 2 and 3). */
const ALLOWED: Record<Endpoint, ReadonlySet<string>> = {
  objects: new Set(['added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]']),
  manifest: new Set(['added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]']),
  object: new Set(['added_after', 'limit', 'next', 'match[version]', 'match[spec_version]']),
  versions: new Set(['added_after', 'limit', 'next', 'match[spec_version]']),
  delete: new Set(['match[version]', 'match[spec_version]']),
};

const STIX_ID = /^[a-z][a-z0-9-]+[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const STIX_TYPE = /^[a-z][a-z0-9-]{1,248}[a-z0-9]$/;
const SPEC_VERSION = /^\d+\.\d+$/;

export interface QueryLimits {
  maxMatchValues: number;
}

type RawQuery = Record<string, string | string[] | undefined>;

function single(raw: RawQuery, name: string): string | undefined {
  const value = raw[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw badRequest(`The parameter ${name} may appear only once.`);
  return value;
}

function list(raw: RawQuery, name: string, limits: QueryLimits): string[] | undefined {
  const value = single(raw, name);
  if (value === undefined) return undefined;
  const items = value.split(',');
  if (items.some((v) => v.trim() === '')) throw badRequest(`${name} has an empty value.`);
  if (items.length > limits.maxMatchValues) {
    throw badRequest(`${name} lists ${items.length} values; at most ${limits.maxMatchValues} are accepted.`);
  }
  return [...new Set(items.map((v) => v.trim()))];
}

function parseVersions(values: string[]): VersionSelection {
  const selection: VersionSelection = { all: false, first: false, last: false, keys: [] };
  for (const value of values) {
    if (value === 'all') selection.all = true;
    else if (value === 'first') selection.first = true;
    else if (value === 'last') selection.last = true;
    else {
      const key = stixVersionKey(value);
      if (!key) throw badRequest(`match[version] value "${value}" is not first, last, all or a STIX timestamp.`);
      selection.keys.push(key);
    }
  }
  if (selection.all && values.length > 1) throw badRequest('match[version]=all cannot be combined with other values.');
  return selection;
}

export function parseReadQuery(raw: RawQuery, endpoint: Endpoint, limits: QueryLimits): ReadQuery {
  // Parameters an endpoint does not take, and match fields this server does not
  // know, are ignored (TAXII §3.4.1 allows it; clients add cache-busters).
  const allowed = ALLOWED[endpoint];
  const query: ReadQuery = { filters: {} };

  const addedAfter = allowed.has('added_after') ? single(raw, 'added_after') : undefined;
  if (addedAfter !== undefined) {
    const us = parseTaxiiTimestamp(addedAfter.trim());
    if (us === undefined) throw badRequest(`added_after "${addedAfter}" is not an RFC 3339 timestamp.`);
    query.addedAfter = us;
  }

  const limit = allowed.has('limit') ? single(raw, 'limit') : undefined;
  if (limit !== undefined) {
    if (!/^\d{1,16}$/.test(limit.trim()) || Number(limit) < 1 || Number(limit) > Number.MAX_SAFE_INTEGER) {
      throw badRequest(`limit must be a positive integer (got "${limit}").`);
    }
    query.limit = Number(limit); // the server maximum applies later
  }

  const next = allowed.has('next') ? single(raw, 'next') : undefined;
  if (next !== undefined) {
    if (next === '') throw badRequest('next is empty.');
    query.next = next;
  }

  const ids = allowed.has('match[id]') ? list(raw, 'match[id]', limits) : undefined;
  if (ids) {
    const bad = ids.find((id) => !STIX_ID.test(id));
    if (bad) throw badRequest(`match[id] value "${bad}" is not a STIX identifier.`);
    query.filters.ids = ids;
  }
  const types = allowed.has('match[type]') ? list(raw, 'match[type]', limits) : undefined;
  if (types) {
    const bad = types.find((t) => !STIX_TYPE.test(t));
    if (bad) throw badRequest(`match[type] value "${bad}" is not a STIX type name.`);
    query.filters.types = types;
  }
  const versions = allowed.has('match[version]') ? list(raw, 'match[version]', limits) : undefined;
  if (versions) query.filters.versions = parseVersions(versions);
  const specVersions = list(raw, 'match[spec_version]', limits);
  if (specVersions) {
    const bad = specVersions.find((v) => !SPEC_VERSION.test(v));
    if (bad) throw badRequest(`match[spec_version] value "${bad}" is not a version such as 2.1.`);
    query.filters.specVersions = specVersions;
  }
  return query;
}

/**
 * Test helpers for the STIX validator tests: reading the shared STIX corpus
 * (SHARED_DATA_DIR, see test/support/shared-data.ts) in each of its real shapes, and the official OASIS
 * STIX 2.1 JSON schemas used ONLY as a test oracle (never copied into the project).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { StixSpecVersion } from '../../src/stix/validate.js';
import { SHARED_DATA_DIR } from '../support/shared-data.js';

export const DATA_DIR = SHARED_DATA_DIR;
export const OFFICIAL_SCHEMA_DIR = join(DATA_DIR, 'stix2-json-schemas');

export type JsonObject = Record<string, unknown>;

export interface CorpusObject {
  /** file path relative to DATA_DIR */
  file: string;
  /** index of the object inside its file */
  index: number;
  object: unknown;
}

function isRecord(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listFiles(full));
    else out.push(full);
  }
  return out;
}

function readText(path: string): string {
  const raw = readFileSync(path);
  return (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
}

/** Collects the STIX objects held in one parsed JSON document, whatever its shape. */
function objectsOfDocument(doc: unknown): unknown[] {
  if (Array.isArray(doc)) return doc;
  if (!isRecord(doc)) return [];
  // a bundle (with or without "type")
  if (Array.isArray(doc.objects) && (doc.type === 'bundle' || doc.type === undefined)) return doc.objects;
  // a bare STIX object
  if (typeof doc.type === 'string' && typeof doc.id === 'string') return [doc];
  // a TAXII server backend document (medallion): objects nested in collections
  const found: unknown[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) walk(item);
    } else if (isRecord(v)) {
      for (const [k, child] of Object.entries(v)) {
        if (k === 'objects' && Array.isArray(child)) found.push(...child);
        else walk(child);
      }
    }
  };
  walk(doc);
  return found;
}

/** Reads every STIX object of one corpus file (.json, .json.gz, .jsonl, .stix2, .stix2.gz). */
export function readCorpusFile(path: string): CorpusObject[] {
  const file = relative(DATA_DIR, path);
  const text = readText(path);
  const base = path.replace(/\.gz$/, '');
  let objects: unknown[];
  if (base.endsWith('.jsonl')) {
    objects = text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as unknown);
  } else {
    objects = objectsOfDocument(JSON.parse(text) as unknown);
  }
  return objects.map((object, index) => ({ file, index, object }));
}

/** The files whose objects are all expected to be valid (except where the oracle disagrees). */
export function validCorpusFiles(): string[] {
  const files: string[] = [];
  for (const sub of ['attack', 'iocs', 'reference', 'oasis']) {
    const dir = join(DATA_DIR, sub);
    if (!existsSync(dir)) continue;
    for (const f of listFiles(dir)) {
      const base = f.replace(/\.gz$/, '');
      if (!/\.(json|jsonl|stix2)$/.test(base)) continue;
      if (f.endsWith('common-objects/provenance.json')) continue; // provenance list, not STIX
      files.push(f);
    }
  }
  files.push(join(DATA_DIR, 'invalid', 'authored', 'valid-controls.json'));
  return files;
}

export function elevatorFiles(): string[] {
  return listFiles(join(DATA_DIR, 'oasis', 'stix-elevator-idioms-2.1')).filter((f) => /\.json(\.gz)?$/.test(f));
}

// ---------------------------------------------------------------------------
// Oracle: the official OASIS schemas, registered by $id, validated per type.
// ---------------------------------------------------------------------------

const OFFICIAL_BASE = 'http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/';

const SCO_TYPES = new Set([
  'artifact', 'autonomous-system', 'directory', 'domain-name', 'email-addr', 'email-message', 'file',
  'ipv4-addr', 'ipv6-addr', 'mac-addr', 'mutex', 'network-traffic', 'process', 'software', 'url',
  'user-account', 'windows-registry-key', 'x509-certificate',
]);
const SRO_TYPES = new Set(['relationship', 'sighting']);
const COMMON_TYPES: Record<string, string> = {
  'marking-definition': 'common/marking-definition.json',
  'extension-definition': 'common/extension-definition.json',
  'language-content': 'common/language-content.json',
  bundle: 'common/bundle.json',
};

export interface OracleResult {
  /** false when the oracle has no schema for the type (custom objects) */
  known: boolean;
  valid: boolean;
  errors: string[];
}

export interface Oracle {
  validate(object: unknown): OracleResult;
}

export function createOracle(): Oracle {
  const mod = addFormatsModule as unknown as { default?: unknown };
  const addFormats = (typeof mod === 'function' ? mod : mod.default) as (ajv: Ajv2020) => Ajv2020;
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true, unicodeRegExp: false, logger: false });
  addFormats(ajv);
  for (const sub of ['common', 'sdos', 'sros', 'observables']) {
    for (const f of listFiles(join(OFFICIAL_SCHEMA_DIR, sub))) {
      if (f.endsWith('.json')) ajv.addSchema(JSON.parse(readFileSync(f, 'utf8')) as object);
    }
  }
  const cache = new Map<string, ValidateFunction | null>();
  const sdoTypes = new Set(
    readdirSync(join(OFFICIAL_SCHEMA_DIR, 'sdos')).map((f) => f.replace(/\.json$/, '')),
  );
  const schemaFor = (type: string): ValidateFunction | null => {
    if (cache.has(type)) return cache.get(type) ?? null;
    let rel: string | undefined;
    if (sdoTypes.has(type)) rel = `sdos/${type}.json`;
    else if (SRO_TYPES.has(type)) rel = `sros/${type}.json`;
    else if (SCO_TYPES.has(type)) rel = `observables/${type}.json`;
    else rel = COMMON_TYPES[type];
    const fn = rel ? (ajv.getSchema(OFFICIAL_BASE + rel) ?? null) : null;
    cache.set(type, fn);
    return fn;
  };
  return {
    validate(object: unknown): OracleResult {
      const type = isRecord(object) && typeof object.type === 'string' ? object.type : undefined;
      const fn = type === undefined ? null : schemaFor(type);
      if (!fn) return { known: false, valid: true, errors: [] };
      const valid = fn(object) as boolean;
      const errors = valid
        ? []
        : (fn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
      return { known: true, valid, errors };
    },
  };
}

export function isScoType(type: unknown): boolean {
  return typeof type === 'string' && SCO_TYPES.has(type);
}

export function objectId(o: unknown): string {
  return isRecord(o) && typeof o.id === 'string' ? o.id : '(no id)';
}

export const BOTH: ReadonlySet<StixSpecVersion> = new Set<StixSpecVersion>(['2.0', '2.1']);

/** An object other than an SCO without spec_version: a STIX 2.0 object (STIX 2.1 §3.2). */
export function needsStix20(object: unknown): boolean {
  const o = object as Record<string, unknown>;
  return typeof o === 'object' && o !== null && o.spec_version === undefined && !isScoType(o.type);
}

/**
 * Rules from the STIX 2.1 specification that the official JSON schemas do not check, and
 * which the elevator's output breaks. A rejection the oracle does not share must be
 * explained, message by message, by one of these.
 */
export const RULES_BEYOND_OFFICIAL_SCHEMAS: ReadonlyArray<{ rule: string; message: RegExp }> = [
  {
    rule: 'indicator pattern with pattern_type "stix" must be a valid STIX pattern (STIX 2.1 §9, §4.7)',
    message: /^pattern is not a valid STIX pattern: /,
  },
  { rule: 'modified must be later than or equal to created (STIX 2.1 §3.2)', message: /^modified \(.*\) must be later than or equal to created/ },
];

// Deterministic SCO identifiers (STIX 2.1 §2.9): UUIDv5 in the STIX namespace over the
// RFC 8785 (JCS) serialization of the type's ID Contributing Properties. For `hashes`
// only one hash is used, chosen in the order MD5, SHA-1, SHA-256, SHA-512 (then the
// first key), as the specification and python-stix2 do.

import { createHash } from 'node:crypto';
import { ID_CONTRIBUTING_PROPERTIES } from './catalog.js';

export const SCO_ID_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';
const NAMESPACE_BYTES = Buffer.from(SCO_ID_NAMESPACE.replace(/-/g, ''), 'hex');
const HASH_PREFERENCE = ['MD5', 'SHA-1', 'SHA-256', 'SHA-512'];

/** RFC 8785 canonical JSON for JSON values (sorted keys by UTF-16 code units, ES number form). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

/** RFC 4122 name-based UUID, version 5 (SHA-1). */
export function uuidV5(name: string, namespaceBytes: Buffer = NAMESPACE_BYTES): string {
  const hash = createHash('sha1').update(namespaceBytes).update(name, 'utf8').digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function chooseOneHash(hashes: unknown): Record<string, unknown> | undefined {
  if (typeof hashes !== 'object' || hashes === null || Array.isArray(hashes)) return undefined;
  const h = hashes as Record<string, unknown>;
  for (const algorithm of HASH_PREFERENCE) {
    if (Object.prototype.hasOwnProperty.call(h, algorithm)) return { [algorithm]: h[algorithm] };
  }
  const first = Object.keys(h)[0];
  return first === undefined ? undefined : { [first]: h[first] };
}

/**
 * The deterministic id the object should have, or undefined when the type has no ID
 * Contributing Properties or none is present (the producer then uses UUIDv4).
 */
export function deterministicScoId(object: Record<string, unknown>, type: string): string | undefined {
  const props = ID_CONTRIBUTING_PROPERTIES.get(type);
  if (!props) return undefined;
  const contributing: Record<string, unknown> = {};
  let any = false;
  for (const prop of props) {
    if (!Object.prototype.hasOwnProperty.call(object, prop)) continue;
    const value = prop === 'hashes' ? chooseOneHash(object[prop]) : object[prop];
    if (value === undefined) continue;
    contributing[prop] = value;
    any = true;
  }
  if (!any) return undefined;
  return `${type}--${uuidV5(canonicalJson(contributing))}`;
}

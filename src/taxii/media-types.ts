/**
 * Media types and content negotiation (TAXII §1.6.8, §3.1; interop.md rules 1,
 * 2 and 11). Accept headers are parsed as HTTP says: comma-separated ranges,
 * optional whitespace, parameters, q-values.
 */

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';
export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';

interface MediaRange {
  type: string;
  subtype: string;
  params: Map<string, string>;
  q: number;
}

function parseMediaRange(text: string): MediaRange | undefined {
  const [essence = '', ...rawParams] = text.split(';');
  const slash = essence.indexOf('/');
  if (slash <= 0) return undefined;
  const type = essence.slice(0, slash).trim().toLowerCase();
  const subtype = essence.slice(slash + 1).trim().toLowerCase();
  if (!type || !subtype) return undefined;
  const params = new Map<string, string>();
  let q = 1;
  for (const raw of rawParams) {
    const eq = raw.indexOf('=');
    if (eq <= 0) continue;
    const name = raw.slice(0, eq).trim().toLowerCase();
    let value = raw.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name === 'q') {
      const parsed = Number(value);
      q = Number.isFinite(parsed) ? parsed : 1;
    } else {
      params.set(name, value);
    }
  }
  return { type, subtype, params, q };
}

/** Splits a header on commas that are not inside quoted strings. */
function splitList(header: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of header) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function isTaxii21(range: MediaRange): boolean {
  if (range.type !== 'application') return false;
  if (range.subtype !== 'taxii+json' && range.subtype !== 'vnd.oasis.taxii+json') return false;
  const version = range.params.get('version');
  return version === undefined || version === '2.1';
}

/**
 * Whether a response in application/taxii+json;version=2.1 satisfies the
 * Accept header. A missing header counts as "anything"; `*\/*`,
 * `application/*`, the TAXII type without a version, and `application/json`
 * (a documented leniency for curl and generic HTTP clients) all do.
 */
export function acceptsTaxii(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  // The most specific range that matches decides, so "taxii+json;q=0, */*" refuses (RFC 9110 §12.5.1).
  let best: { specificity: number; q: number } | undefined;
  for (const item of splitList(accept)) {
    const range = parseMediaRange(item);
    if (!range) continue;
    const specificity = taxiiSpecificity(range);
    if (specificity === 0) continue;
    if (!best || specificity > best.specificity || (specificity === best.specificity && range.q > best.q)) {
      best = { specificity, q: range.q };
    }
  }
  return best !== undefined && best.q > 0;
}

/** How specifically a range names TAXII 2.1 (0: it does not match it). application/json is a leniency. */
function taxiiSpecificity(range: MediaRange): number {
  if (range.type === '*' && range.subtype === '*') return 1;
  if (range.type !== 'application') return 0;
  if (range.subtype === '*') return 2;
  if (range.subtype === 'json') return 3;
  if (!isTaxii21(range)) return 0;
  return range.params.has('version') ? 5 : 4;
}

export type PostBodyKind = 'envelope' | 'bundle' | 'json';

/**
 * What a POST body claims to be, from its Content-Type: a TAXII envelope, a
 * STIX bundle (leniency for producers such as OpenCTI's taxii-post connector),
 * or plain JSON (either, decided by its shape). Other types, and other
 * versions, are not supported (415).
 */
export function classifyContentType(contentType: string | undefined): PostBodyKind | undefined {
  if (!contentType) return undefined;
  const range = parseMediaRange(contentType);
  if (!range || range.type !== 'application') return undefined;
  const version = range.params.get('version');
  if (range.subtype === 'taxii+json' || range.subtype === 'vnd.oasis.taxii+json') {
    return version === undefined || version === '2.1' ? 'envelope' : undefined;
  }
  if (range.subtype === 'stix+json') return version === undefined || version === '2.1' ? 'bundle' : undefined;
  if (range.subtype === 'json') return 'json';
  return undefined;
}

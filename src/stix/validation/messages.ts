// Turns AJV errors into messages an operator can read: the property path first, then the
// rule, then the offending value, e.g.
//   confidence must be an integer from 0 to 100 (got 101)
//   /kill_chain_phases/0 must have required property 'phase_name'
// Schema nodes may carry an "x-message" annotation that phrases the rule; otherwise a
// message is built from the keyword.

import type { ErrorObject } from 'ajv/dist/2020.js';

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MAX_PREVIEW = 80;

/** A short JSON rendering of a value for "(got …)". */
export function preview(value: unknown): string {
  let text: string;
  if (value === undefined) return 'nothing';
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Array.isArray(value) ? '[…]' : typeof value === 'object' ? '{…}' : typeof value; // e.g. too deeply nested
  }
  return text.length > MAX_PREVIEW ? `${text.slice(0, MAX_PREVIEW)}…` : text;
}

/** "" → "", "/confidence" → "confidence", "/a/0/b" → "/a/0/b" (JSON Pointer). */
export function displayPath(instancePath: string): string {
  if (instancePath === '') return '';
  const rest = instancePath.slice(1);
  return rest.includes('/') ? instancePath : rest;
}

/** Why a string that should be an identifier is not one (for a more precise message). */
export function explainIdentifier(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const sep = value.lastIndexOf('--');
  if (sep <= 0) return 'an identifier has the form <type>--<UUID>';
  const uuid = value.slice(sep + 2);
  if (!UUID_RE.test(uuid)) return `"${preview(uuid).replace(/^"|"$/g, '')}" is not a UUID`;
  const version = uuid.charAt(14);
  if (!/[1-5]/.test(version)) return `the UUID version digit is ${version}; RFC 4122 defines versions 1-5`;
  const variant = uuid.charAt(19).toLowerCase();
  if (!/[89ab]/.test(variant)) {
    return `the UUID is not an RFC 4122 UUID: its variant digit is ${variant}, it must be 8, 9, a or b`;
  }
  return undefined;
}

function xMessage(e: ErrorObject): string | undefined {
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  const m = parent && typeof parent === 'object' ? parent['x-message'] : undefined;
  return typeof m === 'string' ? m : undefined;
}

function typeWord(t: unknown): string {
  const words: Record<string, string> = {
    string: 'a string', integer: 'an integer', number: 'a number', boolean: 'a boolean (true or false)',
    array: 'a list', object: 'an object', null: 'null',
  };
  if (Array.isArray(t)) return t.map(typeWord).join(' or ');
  return typeof t === 'string' ? (words[t] ?? t) : String(t);
}

function isIdentifierNode(e: ErrorObject): boolean {
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  return typeof parent?.pattern === 'string' && parent.pattern.includes('[89abAB]');
}

function keywordMessage(e: ErrorObject): { text: string; showValue: boolean } {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { text: `must have required property '${String(p.missingProperty)}'`, showValue: false };
    case 'dependentRequired':
      return {
        text: `must have property '${String(p.missingProperty)}' when property '${String(p.property)}' is present`,
        showValue: false,
      };
    case 'type':
      return { text: `must be ${typeWord(p.type)}`, showValue: true };
    case 'enum':
      return {
        text: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        showValue: true,
      };
    case 'const':
      return { text: `must be ${JSON.stringify(p.allowedValue)}`, showValue: true };
    case 'minItems':
      return p.limit === 1
        ? { text: 'must not be an empty list (STIX §2.12: omit the property instead)', showValue: false }
        : { text: `must have at least ${String(p.limit)} items`, showValue: false };
    case 'minProperties':
      return p.limit === 1
        ? { text: 'must not be empty (STIX §2.3: empty dictionaries are prohibited)', showValue: false }
        : { text: `must have at least ${String(p.limit)} properties`, showValue: false };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { text: `must be ${String(p.comparison)} ${String(p.limit)}`, showValue: true };
    case 'minLength':
      return { text: `must be at least ${String(p.limit)} characters long`, showValue: true };
    case 'maxLength':
      return { text: `must be at most ${String(p.limit)} characters long`, showValue: true };
    case 'pattern':
      return { text: `must match the pattern ${String(p.pattern)}`, showValue: true };
    case 'format':
      return { text: `must be a valid ${String(p.format)}`, showValue: true };
    case 'false schema':
      return { text: 'is not allowed here', showValue: false };
    case 'contains':
      return { text: 'does not contain a required value', showValue: false };
    default:
      return { text: e.message ?? `fails the "${e.keyword}" rule`, showValue: false };
  }
}

/**
 * Converts the errors of one AJV run into readable messages (deduplicated, at most `limit`).
 * `typeName` names the object at the root, `skip` drops errors the caller reports itself.
 */
export function formatSchemaErrors(
  errors: readonly ErrorObject[],
  typeName: string,
  skip?: (e: ErrorObject) => boolean,
  limit = 20,
): string[] {
  // Drop the failing branches of an anyOf/oneOf that reports as a whole; AJV emits them
  // just before the anyOf/oneOf error itself.
  const keep = errors.map(() => true);
  errors.forEach((e, i) => {
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf') return;
    const prefix = `${e.schemaPath}/`;
    for (let j = i - 1; j >= 0; j--) {
      const b = errors[j];
      if (b && b.schemaPath.startsWith(prefix) && b.instancePath.startsWith(e.instancePath)) keep[j] = false;
    }
  });

  const out: string[] = [];
  const seen = new Set<string>();
  errors.forEach((e, i) => {
    if (!keep[i]) return;
    if (e.keyword === 'if' || e.keyword === 'propertyNames') return; // reported through their sub-errors
    if (skip?.(e)) return;
    const message = formatOne(e, typeName);
    if (!seen.has(message)) {
      seen.add(message);
      out.push(message);
    }
  });
  if (out.length > limit) {
    const extra = out.length - limit;
    out.length = limit;
    out.push(`… and ${extra} more error(s)`);
  }
  return out;
}

function formatOne(e: ErrorObject, typeName: string): string {
  const path = displayPath(e.instancePath);
  const custom = xMessage(e);
  const propertyName = (e as ErrorObject & { propertyName?: string }).propertyName;

  if (propertyName !== undefined) {
    const where = path === '' ? '' : ` in ${path}`;
    const rule = custom ?? keywordMessage(e).text;
    return `property name '${propertyName}'${where} ${rule}`;
  }

  if (e.keyword === 'false schema') {
    const name = path.startsWith('/') ? path : path || 'this property';
    return `${name} is not applicable to ${typeName} objects and must not be present (STIX §3.2)`;
  }

  const built = keywordMessage(e);
  let text = custom ?? built.text;
  const showValue =
    custom === undefined
      ? built.showValue
      : e.keyword !== 'required' &&
        e.keyword !== 'dependentRequired' &&
        (e.data === null || typeof e.data !== 'object');
  if (isIdentifierNode(e)) {
    const why = explainIdentifier(e.data);
    if (why) text = `${text}: ${why}`;
  }
  const got = showValue ? ` (got ${preview(e.data)})` : '';
  const subject = path !== '' ? `${path} ` : text.startsWith('must') ? `${typeName} ` : '';
  return `${subject}${text}${got}`;
}

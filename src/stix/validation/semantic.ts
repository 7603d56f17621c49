// Checks a JSON Schema cannot express (STIX 2.1 digest §15, §17). Each function appends
// to `errors` / `warnings`; they assume the values they read may be malformed (the schema
// reports shape errors separately) and only judge well-formed values.

import { analysePattern } from '../pattern/index.js';
import {
  EXTENSION_DEFINITION_PREFIX,
  PREDEFINED_EXTENSIONS,
  TIMESTAMP_ORDERS,
  TLP1_CREATED,
  TLP1_MARKINGS,
} from './catalog.js';
import { deterministicScoId } from './deterministic-id.js';
import { preview } from './messages.js';
import { checkSelector } from './selectors.js';
import { compareTimestamps } from './timestamps.js';

export type StixRecord = Record<string, unknown>;

export interface CheckContext {
  object: StixRecord;
  type: string;
  errors: string[];
  warnings: string[];
  timestampPattern: RegExp;
  timestampMsPattern: RegExp;
}

function isRecord(v: unknown): v is StixRecord {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function timestampOf(ctx: CheckContext, prop: string): string | undefined {
  const v = ctx.object[prop];
  return typeof v === 'string' && ctx.timestampPattern.test(v) ? v : undefined;
}

/** modified ≥ created (§3.2) and the per-type time windows (§4.x, §5.x). */
export function checkTimestampOrder(ctx: CheckContext): void {
  const created = timestampOf(ctx, 'created');
  const modified = created === undefined ? undefined : timestampOf(ctx, 'modified');
  if (created !== undefined && modified !== undefined && compareTimestamps(modified, created) < 0) {
    ctx.errors.push(`modified (${modified}) must be later than or equal to created (${created}) (STIX §3.2)`);
  }
  const orders = TIMESTAMP_ORDERS.get(ctx.type);
  if (!orders) return;
  for (const o of orders) {
    const earlier = timestampOf(ctx, o.earlier);
    const later = earlier === undefined ? undefined : timestampOf(ctx, o.later);
    if (earlier === undefined || later === undefined) continue;
    const c = compareTimestamps(later, earlier);
    if (o.strict ? c <= 0 : c < 0) {
      const rel = o.strict ? 'later than' : 'later than or equal to';
      ctx.errors.push(`${o.later} (${later}) must be ${rel} ${o.earlier} (${earlier}) (STIX ${o.section})`);
    }
  }
}

/** Granular-marking selectors select present content (§7.2.3); no object marks itself (§7.2). */
export function checkMarkings(ctx: CheckContext): void {
  const { object } = ctx;
  const id = object.id;
  const omr = object.object_marking_refs;
  if (typeof id === 'string' && Array.isArray(omr) && omr.includes(id)) {
    ctx.errors.push(
      `object_marking_refs must not contain the object's own id ${id}: a marking-definition cannot mark itself (circular reference, STIX §7.2.1)`,
    );
  }
  const gms = object.granular_markings;
  if (!Array.isArray(gms)) return;
  gms.forEach((gm, i) => {
    if (!isRecord(gm)) return;
    if (typeof id === 'string' && gm.marking_ref === id) {
      ctx.errors.push(
        `/granular_markings/${i}/marking_ref must not be the object's own id: a marking-definition cannot mark itself (STIX §7.2.1)`,
      );
    }
    const selectors = gm.selectors;
    if (!Array.isArray(selectors)) return;
    selectors.forEach((selector, j) => {
      if (typeof selector !== 'string') return;
      const problem = checkSelector(object, selector);
      if (problem === 'syntax') {
        ctx.errors.push(
          `/granular_markings/${i}/selectors/${j} ${preview(selector)} is not a valid selector: use dot-separated property names and [index] list positions, like "external_references.[0].url" (STIX §7.2.3.1)`,
        );
      } else if (problem === 'absent') {
        ctx.errors.push(
          `/granular_markings/${i}/selectors/${j} ${preview(selector)} does not select content present in the object (STIX §7.2.3.1)`,
        );
      }
    });
  });
}

/** marking-definition specifics: TLP 1.0 objects are exactly the predefined four (§7.2.1.4). */
export function checkMarkingDefinition(ctx: CheckContext): void {
  const { object } = ctx;
  if ('modified' in object) {
    ctx.warnings.push(
      'modified is not applicable to marking-definition objects: marking definitions cannot be versioned (STIX §7.2.1)',
    );
  }
  const created = timestampOf(ctx, 'created');
  if (created !== undefined && !ctx.timestampMsPattern.test(created)) {
    ctx.warnings.push(
      `created should have at least millisecond precision, like 2017-01-20T00:00:00.000Z (got ${preview(created)}) (STIX §3.2)`,
    );
  }
  const definitionType = object.definition_type;
  const id = typeof object.id === 'string' ? object.id : undefined;
  const predefined = id === undefined ? undefined : TLP1_MARKINGS.get(id);
  if (definitionType !== 'tlp') {
    if (typeof definitionType === 'string' && definitionType.toLowerCase() === 'tlp') {
      ctx.warnings.push(
        `definition_type ${preview(definitionType)} is not the TLP definition type "tlp"; TLP 1.0 markings must be the four predefined marking-definitions (STIX §7.2.1.4)`,
      );
    }
    if (predefined) {
      ctx.errors.push(
        `${id} is the predefined ${predefined.name} marking-definition; it must have definition_type "tlp" and the predefined content (STIX §7.2.1.4)`,
      );
    }
    return;
  }
  if (!predefined) {
    ctx.errors.push(
      `a TLP 1.0 marking-definition (definition_type "tlp") must be one of the four predefined objects, but id ${preview(object.id)} is not a predefined TLP marking id (STIX §7.2.1.4)`,
    );
    return;
  }
  const definition = object.definition;
  if (!isRecord(definition) || definition.tlp !== predefined.level || Object.keys(definition).length !== 1) {
    ctx.errors.push(
      `definition must be {"tlp": "${predefined.level}"} for the predefined ${predefined.name} marking ${predefined.id} (got ${preview(definition)}) (STIX §7.2.1.4)`,
    );
  }
  if (object.name !== predefined.name) {
    ctx.errors.push(
      `name must be "${predefined.name}" for the predefined marking ${predefined.id} (got ${preview(object.name)}) (STIX §7.2.1.4)`,
    );
  }
  if (object.created !== undefined && object.created !== TLP1_CREATED) {
    ctx.errors.push(
      `created must be "${TLP1_CREATED}" for the predefined ${predefined.name} marking (got ${preview(object.created)}) (STIX §7.2.1.4)`,
    );
  }
}

/** Indicator patterns in the STIX patterning language must parse (§9). */
export function checkIndicatorPattern(ctx: CheckContext): void {
  const { object } = ctx;
  if (object.pattern_type !== 'stix' || typeof object.pattern !== 'string') return;
  let result: ReturnType<typeof analysePattern>;
  try {
    result = analysePattern(object.pattern);
  } catch (error) {
    // analysePattern reports bad patterns as { ok: false }; anything thrown is unexpected
    const reason = error instanceof Error ? error.message : String(error);
    ctx.errors.push(`pattern could not be checked as a STIX pattern (${reason})`);
    return;
  }
  if (!result.ok) {
    ctx.errors.push(`pattern is not a valid STIX pattern: ${result.error}`);
    return;
  }
  const unknown = result.analysis.unknownObjectTypes;
  if (unknown.length > 0) {
    ctx.warnings.push(
      `pattern refers to object type(s) that are not STIX cyber-observables: ${unknown.join(', ')} (custom types should start with x-; the pattern will never match standard observables)`,
    );
  }
}

/** Extension keys that are neither extension-definition ids nor predefined for the type. */
export function checkExtensionKeys(ctx: CheckContext): void {
  const ext = ctx.object.extensions;
  if (!isRecord(ext)) return;
  const predefined = PREDEFINED_EXTENSIONS.get(ctx.type);
  for (const key of Object.keys(ext)) {
    if (key.startsWith(EXTENSION_DEFINITION_PREFIX) || predefined?.has(key)) continue;
    ctx.warnings.push(
      `extensions key '${key}' is neither an extension-definition id nor a predefined extension of ${ctx.type}: custom extensions are deprecated (STIX §11.3), use an extension-definition (§7.3)`,
    );
  }
}

/** Does the object declare a toplevel-property-extension (whose properties sit at the top level)? */
export function hasToplevelPropertyExtension(object: StixRecord): boolean {
  const ext = object.extensions;
  if (!isRecord(ext)) return false;
  for (const key of Object.keys(ext)) {
    const v = ext[key];
    if (isRecord(v) && v.extension_type === 'toplevel-property-extension') return true;
  }
  return false;
}

// Names that break the naming rules or are reserved are schema errors already.
const VALID_CUSTOM_NAME_RE = /^[a-z0-9_]{3,250}$/;
const RESERVED_NAMES: ReadonlySet<string> = new Set(['severity', 'username', 'phone_number', 'action']);

/** Properties a predefined type does not define and that lack the x_ prefix (§11.1). */
export function checkCustomProperties(ctx: CheckContext, known: ReadonlySet<string>): void {
  let unknown: string[] | undefined;
  for (const key of Object.keys(ctx.object)) {
    if (known.has(key) || key.startsWith('x_')) continue;
    if (!VALID_CUSTOM_NAME_RE.test(key) || RESERVED_NAMES.has(key)) continue;
    (unknown ??= []).push(key);
  }
  if (!unknown || hasToplevelPropertyExtension(ctx.object)) return;
  ctx.warnings.push(
    `custom propert${unknown.length === 1 ? 'y' : 'ies'} ${unknown.map((k) => `'${k}'`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not defined for ${ctx.type} and ${unknown.length === 1 ? 'does' : 'do'} not start with x_ (STIX §11.1: custom properties should be named x_<source>_<name>; prefer an extension-definition, §7.3)`,
  );
}

/** SCO ids SHOULD be the deterministic UUIDv5 (§2.9); a mismatch is only a warning. */
export function checkDeterministicId(ctx: CheckContext): void {
  const id = ctx.object.id;
  if (typeof id !== 'string') return;
  let expected: string | undefined;
  try {
    expected = deterministicScoId(ctx.object, ctx.type);
  } catch {
    return; // e.g. contributing values nested too deeply to serialize: no recommendation to check
  }
  if (expected !== undefined && expected !== id) {
    ctx.warnings.push(
      `id ${id} is not the deterministic UUIDv5 id for this ${ctx.type} (expected ${expected}); STIX §2.9 recommends deterministic SCO ids so that the same observable gets the same id`,
    );
  }
}

// STIX 2.1 object validation: per-type JSON Schemas (schemas/stix/**, compiled once with
// AJV) plus the checks a schema cannot express. See validation/ for the pieces.
//
// Order (digest §17): JSON object with a valid type → effective spec version accepted? →
// the type's schema (common properties of the category, identifiers, timestamps,
// type-specific properties, reference target types, markings, extensions) → semantic
// checks (timestamp order, markings, TLP 1.0, indicator pattern) → warnings.

import type { ErrorObject } from 'ajv/dist/2020.js';
import { EXTENSION_DEFINITION_PREFIX, NEW_OBJECT_EXTENSION_TYPES, type StixCategory } from './validation/catalog.js';
import { formatSchemaErrors, preview } from './validation/messages.js';
import { compileStixSchemas, type CompiledSchemas, type TypeValidator } from './validation/schemas.js';
import {
  checkCustomProperties,
  checkDeterministicId,
  checkExtensionKeys,
  checkIndicatorPattern,
  checkMarkingDefinition,
  checkMarkings,
  checkTimestampOrder,
  type CheckContext,
  type StixRecord,
} from './validation/semantic.js';

export type StixSpecVersion = '2.0' | '2.1';

export interface StixValidationOptions {
  /** Spec versions the target collection accepts; default: only 2.1. */
  acceptSpecVersions?: ReadonlySet<StixSpecVersion>;
}

export interface StixValidationResult {
  valid: boolean;
  /** Readable messages naming the property path, e.g. "confidence must be an integer from 0 to 100 (got 101)". */
  errors: string[];
  /** Accepted but worth telling the producer, e.g. a custom property without the x_ prefix. */
  warnings: string[];
  /** Effective spec version (§3.2: SCOs default to 2.1, other objects to 2.0 when spec_version is absent). */
  specVersion?: StixSpecVersion;
}

export interface StixValidator {
  validate(object: unknown, options?: StixValidationOptions): StixValidationResult;
}

const DEFAULT_ACCEPT: ReadonlySet<StixSpecVersion> = new Set<StixSpecVersion>(['2.1']);

function isRecord(v: unknown): v is StixRecord {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeJsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  return `a ${typeof v}`;
}

/** Category of an object type we do not know: from an extension-definition new-* entry, else its shape (§12.2). */
function customCategory(object: StixRecord): { category: 'sdo' | 'sro' | 'sco'; viaExtension: boolean } {
  const ext = object.extensions;
  if (isRecord(ext)) {
    for (const key of Object.keys(ext)) {
      if (!key.startsWith(EXTENSION_DEFINITION_PREFIX)) continue;
      const entry = ext[key];
      const category = isRecord(entry) && typeof entry.extension_type === 'string'
        ? NEW_OBJECT_EXTENSION_TYPES.get(entry.extension_type)
        : undefined;
      if (category === 'sdo' || category === 'sro' || category === 'sco') return { category, viaExtension: true };
    }
  }
  if ('created' in object || 'modified' in object) {
    const sro = 'source_ref' in object || 'target_ref' in object || 'sighting_of_ref' in object;
    return { category: sro ? 'sro' : 'sdo', viaExtension: false };
  }
  return { category: 'sco', viaExtension: false };
}

const CATEGORY_NAMES: Record<StixCategory, string> = {
  sdo: 'custom SDO',
  sro: 'custom SRO',
  sco: 'custom SCO',
  meta: 'meta object',
};

class Validator implements StixValidator {
  constructor(private readonly schemas: CompiledSchemas) {}

  validate(object: unknown, options?: StixValidationOptions): StixValidationResult {
    const accept = options?.acceptSpecVersions ?? DEFAULT_ACCEPT;
    const errors: string[] = [];
    const warnings: string[] = [];

    if (!isRecord(object)) {
      return { valid: false, errors: [`a STIX object must be a JSON object (got ${describeJsonKind(object)})`], warnings };
    }
    const type = object.type;
    if (type === undefined) {
      return { valid: false, errors: [`object must have required property 'type' (STIX §3.2)`], warnings };
    }
    if (typeof type !== 'string') {
      return { valid: false, errors: [`type must be a string (got ${preview(type)})`], warnings };
    }
    if (type === 'bundle') {
      return {
        valid: false,
        errors: ['a bundle is not a STIX object: a bundle cannot appear among objects (STIX §8)'],
        warnings,
      };
    }
    if (type.length < 3 || type.length > 250 || !this.schemas.typeNamePattern.test(type)) {
      return {
        valid: false,
        errors: [
          `type must be 3-250 characters of lowercase a-z, 0-9 and single hyphens, starting with a letter (got ${preview(type)}) (STIX §3.1)`,
        ],
        warnings,
      };
    }

    let validator: TypeValidator | undefined = this.schemas.byType.get(type);
    let typeName = type;
    if (!validator) {
      const { category, viaExtension } = customCategory(object);
      validator = this.schemas.custom[category];
      typeName = `${type} (${CATEGORY_NAMES[category]})`;
      if (!viaExtension && !type.startsWith('x-')) {
        warnings.push(
          `type '${type}' is not a STIX 2.1 type; accepted as a ${CATEGORY_NAMES[category]}, but custom object types should start with x- (STIX §11.2) or be defined by an extension-definition (§7.3)`,
        );
      }
      const id = object.id;
      if (typeof id === 'string' && !id.startsWith(`${type}--`)) {
        errors.push(`id must begin with "${type}--": an identifier's prefix must equal the object's type (got ${preview(id)}) (STIX §2.9)`);
      }
    }

    // Effective spec version (§3.2): absent means 2.1 for SCOs and 2.0 for everything else.
    const declared = object.spec_version;
    let specVersion: StixSpecVersion | undefined;
    if (declared === undefined) specVersion = validator.category === 'sco' ? '2.1' : '2.0';
    else if (declared === '2.1' || declared === '2.0') specVersion = declared;
    if (specVersion !== undefined && !accept.has(specVersion)) {
      errors.push(
        declared === undefined
          ? `STIX 2.0 objects are not accepted by this collection: this ${type} has no spec_version, so it is a STIX 2.0 object; STIX 2.1 objects must have "spec_version": "2.1" (STIX §3.2)`
          : `STIX ${specVersion} objects are not accepted by this collection (spec_version is "${specVersion}")`,
      );
    }

    if (!validator.validate(object)) {
      // A missing spec_version was judged above (2.0 object): not a schema error here.
      const skip =
        declared === undefined
          ? (e: ErrorObject) => e.keyword === 'required' && e.instancePath === '' && (e.params as { missingProperty?: string }).missingProperty === 'spec_version'
          : undefined;
      errors.push(...formatSchemaErrors(validator.validate.errors ?? [], typeName, skip));
    }

    const ctx: CheckContext = {
      object,
      type,
      errors,
      warnings,
      timestampPattern: this.schemas.timestampPattern,
      timestampMsPattern: this.schemas.timestampMsPattern,
    };
    checkTimestampOrder(ctx);
    checkMarkings(ctx);
    if (type === 'marking-definition') checkMarkingDefinition(ctx);
    else if (type === 'indicator') checkIndicatorPattern(ctx);
    if (validator.predefined) {
      checkCustomProperties(ctx, validator.knownProperties);
      checkExtensionKeys(ctx);
      if (validator.category === 'sco' && errors.length === 0) checkDeterministicId(ctx);
    }
    if (type === 'observed-data' && 'objects' in object) {
      warnings.push('objects is deprecated: use object_refs with separate SCOs (STIX §4.14)');
    }

    const result: StixValidationResult = { valid: errors.length === 0, errors, warnings };
    if (specVersion !== undefined) result.specVersion = specVersion;
    return result;
  }
}

let compiled: CompiledSchemas | undefined;

/**
 * Compiles all STIX schemas (synchronously, once per process: validators are stateless and
 * share the compiled functions) and returns a reusable validator.
 */
export function createStixValidator(): StixValidator {
  compiled ??= compileStixSchemas();
  return new Validator(compiled);
}

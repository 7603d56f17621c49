// Loads our STIX 2.1 JSON Schemas (schemas/stix/**, draft 2020-12), compiles one AJV
// validation function per object type, and derives the set of properties each type
// defines (used to spot custom properties).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { AnySchemaObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { projectPath } from '../../project-root.js';
import { META_TYPES, SCO_TYPES, SDO_TYPES, SRO_TYPES, type StixCategory } from './catalog.js';

export const SCHEMA_BASE = 'https://taxii-hub.dev/schemas/stix/';

export interface TypeValidator {
  type: string;
  category: StixCategory;
  /** false for custom / extension-defined object types */
  predefined: boolean;
  validate: ValidateFunction;
  /** properties defined for the type (its own and the common ones of its category) */
  knownProperties: ReadonlySet<string>;
}

export interface CompiledSchemas {
  byType: ReadonlyMap<string, TypeValidator>;
  custom: Readonly<Record<'sdo' | 'sro' | 'sco', TypeValidator>>;
  /** the timestamp patterns of common/definitions.json (any precision / milliseconds or finer) */
  timestampPattern: RegExp;
  timestampMsPattern: RegExp;
  /** the type-name pattern of common/definitions.json */
  typeNamePattern: RegExp;
}

function listJsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listJsonFiles(full));
    else if (name.endsWith('.json')) out.push(full);
  }
  return out;
}

type AddFormats = (ajv: Ajv2020, formats?: string[]) => Ajv2020;
function addFormatsPlugin(): AddFormats {
  const mod = addFormatsModule as unknown as AddFormats | { default: AddFormats };
  return typeof mod === 'function' ? mod : mod.default;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function compileStixSchemas(schemaDir: string = projectPath('schemas', 'stix')): CompiledSchemas {
  const ajv = new Ajv2020({
    allErrors: true,
    verbose: true, // errors carry the failing schema node, so messages can use its "x-message"
    strict: true,
    strictTypes: false,
    strictRequired: false, // "at least one of" rules name properties declared elsewhere
    allowUnionTypes: true,
    unicodeRegExp: false, // all patterns are ASCII; plain RegExps are faster
    messages: true,
  });
  ajv.addKeyword({ keyword: 'x-message', schemaType: 'string' });
  addFormatsPlugin()(ajv, ['uri']);

  const documents = new Map<string, AnySchemaObject>();
  for (const file of listJsonFiles(schemaDir)) {
    const schema = JSON.parse(readFileSync(file, 'utf8')) as AnySchemaObject;
    const id = schema.$id;
    if (typeof id !== 'string') throw new Error(`STIX schema ${file} has no $id`);
    documents.set(id, schema);
    ajv.addSchema(schema);
  }

  const knownPropertiesOf = (id: string): Set<string> => {
    const out = new Set<string>();
    const visit = (docId: string): void => {
      const schema = documents.get(docId);
      if (!schema) return;
      if (isObject(schema.properties)) for (const k of Object.keys(schema.properties)) out.add(k);
      if (Array.isArray(schema.allOf)) {
        for (const part of schema.allOf as unknown[]) {
          if (isObject(part) && typeof part.$ref === 'string' && !part.$ref.includes('#')) {
            visit(new URL(part.$ref, docId).href);
          }
        }
      }
    };
    visit(id);
    return out;
  };

  const compile = (type: string, category: StixCategory, rel: string, predefined: boolean): TypeValidator => {
    const id = SCHEMA_BASE + rel;
    const validate = ajv.getSchema(id);
    if (!validate) throw new Error(`STIX schema ${id} not found in ${schemaDir}`);
    return { type, category, predefined, validate, knownProperties: knownPropertiesOf(id) };
  };

  const byType = new Map<string, TypeValidator>();
  for (const t of SDO_TYPES) byType.set(t, compile(t, 'sdo', `sdo/${t}.json`, true));
  for (const t of SRO_TYPES) byType.set(t, compile(t, 'sro', `sro/${t}.json`, true));
  for (const t of SCO_TYPES) byType.set(t, compile(t, 'sco', `sco/${t}.json`, true));
  for (const t of META_TYPES) byType.set(t, compile(t, 'meta', `meta/${t}.json`, true));
  const custom = {
    sdo: compile('(custom SDO)', 'sdo', 'custom/sdo.json', false),
    sro: compile('(custom SRO)', 'sro', 'custom/sro.json', false),
    sco: compile('(custom SCO)', 'sco', 'custom/sco.json', false),
  };

  const defs = documents.get(SCHEMA_BASE + 'common/definitions.json')?.$defs as
    | Record<string, { pattern?: string }>
    | undefined;
  const patternOf = (name: string): RegExp => {
    const pattern = defs?.[name]?.pattern;
    if (typeof pattern !== 'string') throw new Error(`common/definitions.json lacks $defs/${name}/pattern`);
    return new RegExp(pattern);
  };

  return {
    byType,
    custom,
    timestampPattern: patternOf('timestamp'),
    timestampMsPattern: patternOf('timestamp-ms'),
    typeNamePattern: patternOf('type-name'),
  };
}

import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import YAML from 'yaml';
import type { Db } from '../db/database.js';
import { notFound } from '../taxii/errors.js';
import { UsageError, type CliContext } from './context.js';
import { findJsonError, positionIn } from './json-scan.js';

/**
 * Checks of command-line values. They mirror the JSON schemas of the admin
 * API's routes (src/routes/admin/*.ts), which check the same values there
 * before the shared services see them; a value of the wrong form is a usage
 * error (exit code 2).
 */
function pattern(re: RegExp, what: string) {
  return (value: string): string => {
    if (!re.test(value)) throw new InvalidArgumentError(`not ${what}.`);
    return value;
  };
}

export const apiRootId = pattern(/^[A-Za-z0-9][A-Za-z0-9._~-]{0,62}$/, 'an API root id (letters, digits, . _ ~ -; at most 63)');
export const uuidV4 = pattern(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/, 'a UUIDv4');
export const uuid = pattern(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'a UUID');
export const alias = pattern(/^[A-Za-z0-9._~-]{1,100}$/, 'an alias (letters, digits, . _ ~ -; at most 100)');
export const profileId = pattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'a profile id (letters, digits, . _ -; at most 63)');
export const stixId = pattern(/^[a-z][a-z0-9-]+[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'a STIX id (type--UUID)');
export const keyId = pattern(/^[0-9a-f]{24}$/, 'an API key id (24 hexadecimal digits, the part after "thk_")');
export const username = pattern(/^[^:\s]{1,100}$/, 'a user name (no colon or space; at most 100)');
export const organisationName = pattern(/^[\s\S]{1,200}$/, 'an organisation name (1 to 200 characters)');

export function integer(min: number, max: number) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError('not a whole number.');
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`must be from ${min} to ${max}.`);
    return n;
  };
}

export const TLP_LEVELS = ['clear', 'white', 'green', 'amber', 'amber+strict', 'red'] as const;

const MEDIA_TYPES: Record<string, string> = {
  '2.1': 'application/stix+json;version=2.1',
  '2.0': 'application/stix+json;version=2.0',
  'application/stix+json;version=2.1': 'application/stix+json;version=2.1',
  'application/stix+json;version=2.0': 'application/stix+json;version=2.0',
};

/** Repeatable --media-type: "2.1", "2.0" or the full media type. */
export function collectMediaType(value: string, previous: string[] | undefined): string[] {
  const mediaType = MEDIA_TYPES[value.replace(/\s+/g, '')];
  if (!mediaType) throw new InvalidArgumentError('use 2.1, 2.0, application/stix+json;version=2.1 or application/stix+json;version=2.0.');
  return [...new Set([...(previous ?? []), mediaType])];
}

/**
 * A collection named by its id, its alias, or <api root>/<alias>. An alias
 * used in several API roots is refused as ambiguous.
 */
export async function resolveCollection(db: Db, ref: string): Promise<string> {
  const slash = ref.indexOf('/');
  const root = slash > 0 ? ref.slice(0, slash) : undefined;
  const name = slash > 0 ? ref.slice(slash + 1) : ref;
  const isUuid = /^[0-9a-f-]{36}$/i.test(name);
  let query = db
    .selectFrom('collections')
    .select(['id', 'api_root_id'])
    .where((eb) => (isUuid ? eb.or([eb('id', '=', name.toLowerCase()), eb('alias', '=', name)]) : eb('alias', '=', name)));
  if (root) query = query.where('api_root_id', '=', root);
  const rows = await query.execute();
  if (rows.length === 0) throw notFound(`The collection ${ref}`);
  if (rows.length > 1) {
    throw new Error(`the alias "${name}" is used in several API roots (${rows.map((r) => r.api_root_id).join(', ')}): name the collection as <api root>/${name} or by its id`);
  }
  return rows[0]!.id;
}

async function readAll(input: AsyncIterable<string | Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of input) parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(parts).toString('utf8');
}

/**
 * A password from an environment variable or standard input, never from an
 * argument (it would stay in the shell's history and in the process list).
 * Same bounds as the admin API: 12 to 1024 characters.
 */
export async function readPassword(ctx: CliContext, options: { passwordEnv?: string; passwordStdin?: boolean }): Promise<string | undefined> {
  if (options.passwordEnv !== undefined && options.passwordStdin) throw new UsageError('give --password-env or --password-stdin, not both');
  let password: string | undefined;
  if (options.passwordEnv !== undefined) {
    password = ctx.env[options.passwordEnv];
    if (password === undefined || password === '') throw new Error(`the environment variable ${options.passwordEnv} is not set`);
  } else if (options.passwordStdin) {
    password = (await readAll(ctx.options.stdin ?? process.stdin)).replace(/\r?\n$/, '');
    if (password === '') throw new Error('no password on standard input');
  }
  if (password !== undefined && (password.length < 12 || password.length > 1024)) {
    throw new Error(`the password must have 12 to 1024 characters (it has ${password.length})`);
  }
  return password;
}

/** A policy document from a JSON or YAML file, with the place of a syntax error. */
export async function readPolicyFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the policy file ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (/\.json$/i.test(path) || /^\s*[{[]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      const found = findJsonError(text) ?? { offset: 0, message: (error as Error).message };
      const at = positionIn(text, found.offset);
      throw new Error(`the policy file ${path} is not valid JSON: line ${at.line}, column ${at.column}: ${found.message}`, { cause: error });
    }
  }
  try {
    return YAML.parse(text) as unknown;
  } catch (error) {
    throw new Error(`the policy file ${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
}

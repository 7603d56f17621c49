import { badRequest, unprocessable } from './errors.js';
import type { PostBodyKind } from './media-types.js';

/**
 * Reads an Add Objects body (TAXII §5.5): UTF-8 JSON, not nested deeper than a
 * limit, holding a TAXII envelope (§3.7) or, as a leniency, a STIX bundle
 * (STIX §8). Returns the list of candidate objects, each still unvalidated.
 */
export interface EnvelopeLimits {
  maxJsonDepth: number;
  maxObjectsPerEnvelope: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The nesting depth of a JSON text, found by one pass that skips strings. It
 * runs before JSON.parse so that hostile nesting never reaches the parser.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) {
      depth--;
    }
  }
  return false;
}

export function readEnvelope(body: Buffer, kind: PostBodyKind, limits: EnvelopeLimits): unknown[] {
  if (body.length === 0) throw badRequest('The request body is empty; send a TAXII envelope {"objects": [...]}.');
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw badRequest('The request body is not valid UTF-8.');
  }
  if (jsonDepthExceeds(text, limits.maxJsonDepth)) {
    throw badRequest(`The JSON body is nested deeper than ${limits.maxJsonDepth} levels.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw badRequest(`The request body is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw unprocessable('The body must be a JSON object: a TAXII envelope {"objects": [...]} or a STIX bundle.');
  }
  const document = parsed as Record<string, unknown>;
  const isBundle = kind === 'bundle' || document.type !== undefined;
  if (isBundle) checkBundle(document, kind);
  else checkEnvelope(document);

  const objects = document.objects;
  if (objects === undefined) throw unprocessable('The body has no "objects" list: there is nothing to add.');
  if (!Array.isArray(objects)) throw unprocessable('"objects" must be a list of STIX objects.');
  if (objects.length === 0) throw unprocessable('"objects" is empty: a list must hold at least one item (TAXII §2).');
  if (objects.length > limits.maxObjectsPerEnvelope) {
    throw unprocessable(
      `The body holds ${objects.length} objects; at most ${limits.maxObjectsPerEnvelope} are accepted per request. Split it into several requests.`,
      { max_objects: limits.maxObjectsPerEnvelope },
    );
  }
  return objects;
}

function checkEnvelope(document: Record<string, unknown>): void {
  if (document.more !== undefined && typeof document.more !== 'boolean') {
    throw unprocessable('The envelope property "more" must be a boolean.');
  }
  if (document.next !== undefined && typeof document.next !== 'string') {
    throw unprocessable('The envelope property "next" must be a string.');
  }
}

const BUNDLE_ID = /^bundle--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/;

function checkBundle(document: Record<string, unknown>, kind: PostBodyKind): void {
  if (document.type !== 'bundle') {
    throw unprocessable(
      kind === 'bundle'
        ? 'A STIX bundle needs "type": "bundle" (STIX §8).'
        : `The body has "type": ${JSON.stringify(document.type)}; send a TAXII envelope {"objects": [...]} or a STIX bundle.`,
    );
  }
  if (typeof document.id !== 'string' || !BUNDLE_ID.test(document.id)) {
    throw unprocessable('A STIX bundle needs an "id" of the form bundle--<UUID> (STIX §8).');
  }
}

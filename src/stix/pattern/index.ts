// STIX 2.1 patterning (§9): parse an indicator's `pattern` when `pattern_type` is "stix",
// and classify it for the maturity view's indicator limits. Patterns are never evaluated;
// in particular MATCHES regular expressions are kept as strings and never compiled.

import type { PatternAst } from './ast.js';
import { analyseAst, type PatternAnalysis } from './analysis.js';
import { PatternSyntaxError } from './errors.js';
import { parsePattern } from './parser.js';

export type * from './ast.js';
export { analyseAst, classifyComparisonExpression, STIX_SCO_TYPES } from './analysis.js';
export type { PatternAnalysis, PatternClass } from './analysis.js';
export { PatternSyntaxError } from './errors.js';
export { formatConstant, formatObjectPath, formatPattern } from './format.js';
export { MAX_PATTERN_NESTING_DEPTH, parsePattern } from './parser.js';

/** `error` reads like "expected ']' at position 33, found end of pattern"; `position` is 0-based. */
export type PatternResult =
  | { ok: true; ast: PatternAst; analysis: PatternAnalysis }
  | { ok: false; error: string; position: number };

/**
 * Parse and analyse a STIX pattern. Never throws on bad input: any syntax or literal error
 * comes back as `{ ok: false }`. Linear in the length of `text`.
 */
export function analysePattern(text: string): PatternResult {
  if (typeof text !== 'string') return { ok: false, error: 'pattern is not a string', position: 0 };
  try {
    const ast = parsePattern(text);
    return { ok: true, ast, analysis: analyseAst(ast) };
  } catch (error) {
    if (error instanceof PatternSyntaxError) return { ok: false, error: error.message, position: error.position };
    throw error;
  }
}

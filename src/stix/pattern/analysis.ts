// What the maturity view needs to know about a parsed pattern: its class and the
// observables it names (maturity-design.md, "indicator limits").
//
// Pattern classes. A *simple comparison* is a comparison with the `=` operator and no NOT.
// Two comparisons are on the *same object path* when their paths are identical after
// normalisation (file:hashes.MD5 and file:hashes.'MD5' are the same path; file:hashes.MD5
// and file:hashes.'SHA-256' are not).
//
// * atomic: exactly one observation expression `[…]`, no qualifiers, and its comparison
//   expression is either one simple comparison or simple comparisons joined only by AND,
//   all on the same object path. Example: [ipv4-addr:value = '198.51.100.1'].
//   This is L1's "one comparison, or one observation of `=` comparisons on one object path".
// * disjunctive: not atomic; no qualifiers, no FOLLOWEDBY and no observation-level AND;
//   the observations are joined only by OR (parentheses allowed); and in every observation
//   the comparison expression is an OR of operands each of which is atomic in the sense
//   above (a simple comparison, or an AND-group of simple comparisons on one path).
//   Examples: [file:hashes.MD5 = 'a' OR file:hashes.'SHA-256' = 'b'];
//   [ipv4-addr:value = '198.51.100.1'] OR [domain-name:value = 'example.com'].
//   This is L2's "ORs of comparisons".
// * complex: everything else: AND across different paths, AND over an OR, FOLLOWEDBY,
//   observation-level AND, any qualifier, and any operator other than a plain `=`
//   (!=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET, EXISTS, any NOT).

import type { Comparison, ComparisonExpression, ObservationExpression, ObservationNode } from './ast.js';
import { formatObjectPath } from './format.js';

export type PatternClass = 'atomic' | 'disjunctive' | 'complex';

export interface PatternAnalysis {
  patternClass: PatternClass;
  /** Distinct object types named in object paths (SCO, custom or unknown), sorted. */
  observableTypes: string[];
  /** Distinct "<type>:<first property>", sorted, e.g. "file:hashes". */
  observablePaths: string[];
  /** Object types that are neither one of the 18 STIX 2.1 SCO types nor custom (x-…), sorted. */
  unknownObjectTypes: string[];
  comparisonCount: number;
  observationCount: number;
  hasQualifiers: boolean;
  /** Distinct comparison operators, sorted, with "NOT " prefixed when negated, e.g. "NOT LIKE". */
  operators: string[];
}

/** The 18 STIX Cyber-observable Object types of STIX 2.1 (§6). */
export const STIX_SCO_TYPES: ReadonlySet<string> = new Set([
  'artifact', 'autonomous-system', 'directory', 'domain-name', 'email-addr', 'email-message',
  'file', 'ipv4-addr', 'ipv6-addr', 'mac-addr', 'mutex', 'network-traffic', 'process',
  'software', 'url', 'user-account', 'windows-registry-key', 'x509-certificate',
]);

/** Custom object types are prefixed `x-` (§11.1; an extension's new SCO types conventionally too). */
function looksCustom(type: string): boolean {
  return type.startsWith('x-');
}

interface Collected {
  observations: ObservationNode[];
  comparisons: Comparison[];
  hasQualifiers: boolean;
  /** An observation-level AND or FOLLOWEDBY is present. */
  hasObservationJoin: boolean;
}

function collectComparisons(expression: ComparisonExpression, into: Comparison[]): void {
  if (expression.kind === 'comparison') into.push(expression);
  else for (const operand of expression.operands) collectComparisons(operand, into);
}

function collect(expression: ObservationExpression, into: Collected): void {
  switch (expression.kind) {
    case 'observation':
      into.observations.push(expression);
      if (expression.qualifiers.length > 0) into.hasQualifiers = true;
      collectComparisons(expression.comparison, into.comparisons);
      return;
    case 'observation-group':
      if (expression.qualifiers.length > 0) into.hasQualifiers = true;
      collect(expression.expression, into);
      return;
    case 'observation-operator':
      if (expression.operator !== 'OR') into.hasObservationJoin = true;
      for (const operand of expression.operands) collect(operand, into);
  }
}

/** The comparisons under an AND, through nested ANDs (from parentheses); false if an OR is met. */
function collectAndLeaves(expression: ComparisonExpression, into: Comparison[]): boolean {
  if (expression.kind === 'comparison') {
    into.push(expression);
    return true;
  }
  if (expression.operator === 'OR') return false;
  return expression.operands.every((operand) => collectAndLeaves(operand, into));
}

function isSimple(comparison: Comparison): boolean {
  return comparison.operator === '=' && !comparison.negated;
}

/**
 * Class of one observation's comparison expression: 'atomic' for one simple comparison or
 * an AND-group of simple comparisons on one path, 'disjunctive' for an OR whose operands
 * are all atomic or disjunctive, otherwise 'complex'.
 */
export function classifyComparisonExpression(expression: ComparisonExpression): PatternClass {
  if (expression.kind === 'comparison') return isSimple(expression) ? 'atomic' : 'complex';
  if (expression.operator === 'OR') {
    const complex = expression.operands.some((operand) => classifyComparisonExpression(operand) === 'complex');
    return complex ? 'complex' : 'disjunctive';
  }
  const leaves: Comparison[] = [];
  if (!collectAndLeaves(expression, leaves)) return 'complex';
  const paths = new Set(leaves.map((leaf) => formatObjectPath(leaf.path)));
  return leaves.every(isSimple) && paths.size === 1 ? 'atomic' : 'complex';
}

function classify(collected: Collected): PatternClass {
  if (collected.hasQualifiers || collected.hasObservationJoin) return 'complex';
  const classes = collected.observations.map((o) => classifyComparisonExpression(o.comparison));
  if (classes.includes('complex')) return 'complex';
  return classes.length === 1 && classes[0] === 'atomic' ? 'atomic' : 'disjunctive';
}

function sortedDistinct(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

export function analyseAst(ast: ObservationExpression): PatternAnalysis {
  const collected: Collected = { observations: [], comparisons: [], hasQualifiers: false, hasObservationJoin: false };
  collect(ast, collected);
  const { comparisons } = collected;
  const observableTypes = sortedDistinct(comparisons.map((c) => c.path.objectType));
  return {
    patternClass: classify(collected),
    observableTypes,
    observablePaths: sortedDistinct(comparisons.map((c) => `${c.path.objectType}:${firstProperty(c)}`)),
    unknownObjectTypes: observableTypes.filter((type) => !STIX_SCO_TYPES.has(type) && !looksCustom(type)),
    comparisonCount: comparisons.length,
    observationCount: collected.observations.length,
    hasQualifiers: collected.hasQualifiers,
    operators: sortedDistinct(comparisons.map((c) => (c.negated ? `NOT ${c.operator}` : c.operator))),
  };
}

function firstProperty(comparison: Comparison): string {
  const first = comparison.path.components[0];
  return first?.kind === 'property' ? first.name : '';
}

// Canonical text of a parsed pattern: single spaces, `=` for `==`, `!=` for `<>`, property
// names quoted only when they must be, parentheses only where precedence needs them.
// formatPattern(parse(p)) parses back to the same tree (spans aside).

import type {
  Comparison,
  ComparisonExpression,
  Constant,
  ObjectPath,
  ObservationExpression,
  PathComponent,
  Qualifier,
} from './ast.js';
import { KEYWORDS } from './lexer.js';

const PLAIN_PROPERTY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function quote(text: string): string {
  return `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

function formatComponent(component: PathComponent, first: boolean): string {
  if (component.kind === 'index') return `[${component.index}]`;
  const name = component.name;
  const plain = PLAIN_PROPERTY.test(name) && !KEYWORDS.has(name) && name !== 'true' && name !== 'false';
  return (first ? '' : '.') + (plain ? name : quote(name));
}

/** `<type>:<property>…` in canonical form; two paths are the same path when these are equal. */
export function formatObjectPath(path: ObjectPath): string {
  return `${path.objectType}:${path.components.map((c, i) => formatComponent(c, i === 0)).join('')}`;
}

export function formatConstant(constant: Constant): string {
  switch (constant.kind) {
    case 'string':
      return quote(constant.value);
    case 'integer':
    case 'float':
      return constant.raw;
    case 'boolean':
      return String(constant.value);
    case 'timestamp':
      return `t'${constant.value}'`;
    case 'hex':
      return `h'${constant.value}'`;
    case 'binary':
      return `b'${constant.value}'`;
  }
}

function formatComparison(comparison: Comparison): string {
  const not = comparison.negated ? 'NOT ' : '';
  const path = formatObjectPath(comparison.path);
  switch (comparison.operator) {
    case 'EXISTS':
      return `${not}EXISTS ${path}`;
    case 'IN':
      return `${path} ${not}IN (${comparison.values.map(formatConstant).join(', ')})`;
    default:
      return `${path} ${not}${comparison.operator} ${formatConstant(comparison.value)}`;
  }
}

/** Binding strength; an operand needs parentheses unless it binds tighter than its parent. */
const PRECEDENCE = { FOLLOWEDBY: 0, OR: 1, AND: 2 } as const;

function formatComparisonExpression(expression: ComparisonExpression): string {
  if (expression.kind === 'comparison') return formatComparison(expression);
  const parent = PRECEDENCE[expression.operator];
  return expression.operands
    .map((operand) => {
      const text = formatComparisonExpression(operand);
      const loose = operand.kind === 'comparison-operator' && PRECEDENCE[operand.operator] <= parent;
      return loose ? `(${text})` : text;
    })
    .join(` ${expression.operator} `);
}

function formatQualifier(qualifier: Qualifier): string {
  switch (qualifier.kind) {
    case 'within':
      return `WITHIN ${qualifier.raw} SECONDS`;
    case 'repeats':
      return `REPEATS ${qualifier.times} TIMES`;
    case 'start-stop':
      return `START t'${qualifier.startTime}' STOP t'${qualifier.stopTime}'`;
  }
}

function withQualifiers(text: string, qualifiers: Qualifier[]): string {
  return [text, ...qualifiers.map(formatQualifier)].join(' ');
}

export function formatPattern(expression: ObservationExpression): string {
  switch (expression.kind) {
    case 'observation':
      return withQualifiers(`[${formatComparisonExpression(expression.comparison)}]`, expression.qualifiers);
    case 'observation-group':
      return withQualifiers(`(${formatPattern(expression.expression)})`, expression.qualifiers);
    case 'observation-operator': {
      const parent = PRECEDENCE[expression.operator];
      return expression.operands
        .map((operand) => {
          const text = formatPattern(operand);
          const loose = operand.kind === 'observation-operator' && PRECEDENCE[operand.operator] <= parent;
          return loose ? `(${text})` : text;
        })
        .join(` ${expression.operator} `);
    }
  }
}

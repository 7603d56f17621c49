// Hand-written recursive-descent parser for the STIX 2.1 patterning language (§9), after
// the official grammar (pattern_grammar/STIXPattern.g4). Precedence, loosest first:
//
//   pattern        := obsFollowedBy <end>
//   obsFollowedBy  := obsOr ('FOLLOWEDBY' obsOr)*
//   obsOr          := obsAnd ('OR' obsAnd)*
//   obsAnd         := obsPrimary ('AND' obsPrimary)*
//   obsPrimary     := ('[' compOr ']' | '(' obsFollowedBy ')') qualifier*
//   qualifier      := 'WITHIN' number 'SECONDS' | 'REPEATS' int 'TIMES'
//                   | 'START' timestamp 'STOP' timestamp
//   compOr         := compAnd ('OR' compAnd)*
//   compAnd        := compPrimary ('AND' compPrimary)*
//   compPrimary    := '(' compOr ')' | 'NOT'? 'EXISTS' path | path 'NOT'? operator operand
//
// The grammar is LL(1) in this form, so the parser never backtracks and runs in time linear
// in the input. Recursion happens only at '(' and '[' and is bounded by
// MAX_PATTERN_NESTING_DEPTH, so hostile input cannot exhaust the stack.

import type {
  Comparison,
  ComparisonExpression,
  Constant,
  ObjectPath,
  ObservationExpression,
  PathComponent,
  Qualifier,
  Span,
  StringConstant,
  StringOperator,
  ValueOperator,
} from './ast.js';
import { echo, echoRaw, PatternSyntaxError } from './errors.js';
import { KEYWORDS, Lexer, type Token } from './lexer.js';

/** Deepest allowed nesting of '(' and '[' taken together. */
export const MAX_PATTERN_NESTING_DEPTH = 100;

const VALUE_OPERATORS: ReadonlySet<string> = new Set<ValueOperator>(['=', '!=', '<', '<=', '>', '>=']);
const ORDER_OPERATORS: ReadonlySet<string> = new Set<ValueOperator>(['<', '<=', '>', '>=']);
const STRING_OPERATORS: ReadonlySet<string> = new Set<StringOperator>(['LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET']);

function isValueOperator(token: Token): token is Token & { value: ValueOperator } {
  return token.kind === 'symbol' && VALUE_OPERATORS.has(token.value);
}

function isStringOperator(token: Token): token is Token & { value: StringOperator } {
  return token.kind === 'keyword' && STRING_OPERATORS.has(token.value);
}
const PLAIN_PROPERTY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'end of pattern';
    case 'keyword':
      return `keyword ${token.value}`;
    case 'identifier': {
      const hint = KEYWORDS.has(token.value.toUpperCase()) ? ' (keywords are upper-case)' : '';
      return `name ${echo(token.value)}${hint}`;
    }
    case 'symbol':
      return `'${token.value}'`;
    case 'string':
      return 'a string';
    default:
      return `${token.kind} ${echo(token.value)}`;
  }
}

function spanOf(start: number, end: number): Span {
  return { start, end };
}

class Parser {
  private readonly lexer: Lexer;
  private token: Token;
  private previousEnd = 0;
  private depth = 0;

  constructor(text: string) {
    this.lexer = new Lexer(text);
    this.token = this.lexer.next();
  }

  parsePattern(): ObservationExpression {
    if (this.atEnd()) throw new PatternSyntaxError('empty pattern', this.token.start);
    const expression = this.observationFollowedBy();
    if (!this.atEnd()) {
      throw this.unexpected('AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern');
    }
    return expression;
  }

  // ---- tokens -------------------------------------------------------------------------

  private advance(): Token {
    const current = this.token;
    this.previousEnd = current.end;
    this.token = this.lexer.next();
    return current;
  }

  private atEnd(): boolean {
    return this.token.kind === 'end';
  }

  private isSymbol(value: string): boolean {
    return this.token.kind === 'symbol' && this.token.value === value;
  }

  private isKeyword(value: string): boolean {
    return this.token.kind === 'keyword' && this.token.value === value;
  }

  private expectSymbol(value: string): Token {
    if (!this.isSymbol(value)) throw this.unexpected(`'${value}'`);
    return this.advance();
  }

  private expectKeyword(value: string): Token {
    if (!this.isKeyword(value)) throw this.unexpected(value);
    return this.advance();
  }

  private unexpected(expected: string): PatternSyntaxError {
    return new PatternSyntaxError(`expected ${expected}`, this.token.start, `, found ${describe(this.token)}`);
  }

  private enter(): void {
    this.depth++;
    if (this.depth > MAX_PATTERN_NESTING_DEPTH) {
      const detail = `: brackets and parentheses nest deeper than ${MAX_PATTERN_NESTING_DEPTH} levels`;
      throw new PatternSyntaxError('nesting too deep', this.token.start, detail);
    }
  }

  // ---- observation expressions ----------------------------------------------------------

  private observationFollowedBy(): ObservationExpression {
    return this.observationChain('FOLLOWEDBY', () => this.observationOr());
  }

  private observationOr(): ObservationExpression {
    return this.observationChain('OR', () => this.observationAnd());
  }

  private observationAnd(): ObservationExpression {
    return this.observationChain('AND', () => this.observationPrimary());
  }

  private observationChain(
    operator: 'AND' | 'OR' | 'FOLLOWEDBY',
    operand: () => ObservationExpression,
  ): ObservationExpression {
    const first = operand();
    if (!this.isKeyword(operator)) return first;
    const operands = [first];
    while (this.isKeyword(operator)) {
      this.advance();
      operands.push(operand());
    }
    return { kind: 'observation-operator', operator, operands, span: spanOf(first.span.start, this.previousEnd) };
  }

  private observationPrimary(): ObservationExpression {
    const start = this.token.start;
    if (this.isSymbol('[')) {
      this.enter();
      this.advance();
      const comparison = this.comparisonOr();
      this.expectSymbol(']');
      this.depth--;
      const qualifiers = this.qualifiers();
      return { kind: 'observation', comparison, qualifiers, span: spanOf(start, this.previousEnd) };
    }
    if (this.isSymbol('(')) {
      this.enter();
      this.advance();
      const expression = this.observationFollowedBy();
      this.expectSymbol(')');
      this.depth--;
      const qualifiers = this.qualifiers();
      return { kind: 'observation-group', expression, qualifiers, span: spanOf(start, this.previousEnd) };
    }
    throw this.unexpected("'[' or '('");
  }

  // ---- qualifiers (§9.5.1) ---------------------------------------------------------------

  /** Any number of qualifiers, at most one of each kind on one expression. */
  private qualifiers(): Qualifier[] {
    const qualifiers: Qualifier[] = [];
    for (;;) {
      const start = this.token.start;
      let qualifier: Qualifier;
      if (this.isKeyword('WITHIN')) qualifier = this.within();
      else if (this.isKeyword('REPEATS')) qualifier = this.repeats();
      else if (this.isKeyword('START')) qualifier = this.startStop();
      else return qualifiers;
      if (qualifiers.some((q) => q.kind === qualifier.kind)) {
        const name = qualifier.kind === 'start-stop' ? 'START/STOP' : qualifier.kind.toUpperCase();
        throw new PatternSyntaxError(`duplicate ${name} qualifier`, start, ' (at most one of each kind per expression)');
      }
      qualifiers.push(qualifier);
    }
  }

  private within(): Qualifier {
    const start = this.advance().start;
    const number = this.token;
    const seconds = Number(number.value);
    if ((number.kind !== 'integer' && number.kind !== 'float') || number.value.startsWith('-')) {
      throw this.unexpected('a positive number of seconds after WITHIN');
    }
    if (!(seconds > 0) || !Number.isFinite(seconds)) {
      throw new PatternSyntaxError(`WITHIN ${echoRaw(number.value)}`, number.start, ': the number of seconds must be positive');
    }
    this.advance();
    this.expectKeyword('SECONDS');
    return { kind: 'within', seconds, raw: number.value, span: spanOf(start, this.previousEnd) };
  }

  private repeats(): Qualifier {
    const start = this.advance().start;
    const number = this.token;
    const times = Number(number.value);
    if (number.kind !== 'integer' || number.value.startsWith('-')) {
      throw this.unexpected('a positive integer after REPEATS');
    }
    if (!(times > 0) || !Number.isSafeInteger(times)) {
      throw new PatternSyntaxError(`REPEATS ${echoRaw(number.value)}`, number.start, ': the count must be a positive integer');
    }
    this.advance();
    this.expectKeyword('TIMES');
    return { kind: 'repeats', times, span: spanOf(start, this.previousEnd) };
  }

  private startStop(): Qualifier {
    const start = this.advance().start;
    const startTime = this.timestamp('START');
    this.expectKeyword('STOP');
    const stopTime = this.timestamp('STOP');
    return { kind: 'start-stop', startTime, stopTime, span: spanOf(start, this.previousEnd) };
  }

  private timestamp(after: string): string {
    if (this.token.kind !== 'timestamp') throw this.unexpected(`a timestamp t'…' after ${after}`);
    return this.advance().value;
  }

  // ---- comparison expressions (§9.6) -------------------------------------------------------

  private comparisonOr(): ComparisonExpression {
    return this.comparisonChain('OR', () => this.comparisonAnd());
  }

  private comparisonAnd(): ComparisonExpression {
    return this.comparisonChain('AND', () => this.comparisonPrimary());
  }

  private comparisonChain(operator: 'AND' | 'OR', operand: () => ComparisonExpression): ComparisonExpression {
    const first = operand();
    if (!this.isKeyword(operator)) return first;
    const operands = [first];
    while (this.isKeyword(operator)) {
      this.advance();
      operands.push(operand());
    }
    return { kind: 'comparison-operator', operator, operands, span: spanOf(first.span.start, this.previousEnd) };
  }

  private comparisonPrimary(): ComparisonExpression {
    if (this.isSymbol('(')) {
      this.enter();
      this.advance();
      const inner = this.comparisonOr();
      this.expectSymbol(')');
      this.depth--;
      return inner;
    }
    if (this.isKeyword('NOT') || this.isKeyword('EXISTS')) return this.exists();
    if (this.token.kind !== 'identifier') throw this.unexpected("an object path, '(' or EXISTS");
    return this.comparison();
  }

  private exists(): Comparison {
    const start = this.token.start;
    const negated = this.isKeyword('NOT');
    if (negated) this.advance();
    this.expectKeyword('EXISTS');
    const path = this.objectPath();
    return { kind: 'comparison', operator: 'EXISTS', path, negated, span: spanOf(start, this.previousEnd) };
  }

  private comparison(): Comparison {
    const path = this.objectPath();
    const base = { kind: 'comparison' as const, path, negated: this.isKeyword('NOT') };
    if (base.negated) this.advance();
    const operator = this.token;
    if (isValueOperator(operator)) {
      this.advance();
      const value = this.constant(ORDER_OPERATORS.has(operator.value) ? `operator ${operator.value}` : null);
      return { ...base, operator: operator.value, value, span: spanOf(path.span.start, this.previousEnd) };
    }
    if (operator.kind === 'keyword' && operator.value === 'IN') {
      this.advance();
      const values = this.set();
      return { ...base, operator: 'IN', values, span: spanOf(path.span.start, this.previousEnd) };
    }
    if (isStringOperator(operator)) {
      this.advance();
      const value = this.stringConstant(operator.value);
      return { ...base, operator: operator.value, value, span: spanOf(path.span.start, this.previousEnd) };
    }
    const expected = base.negated ? 'a comparison operator after NOT' : 'a comparison operator';
    throw this.unexpected(expected);
  }

  // ---- object paths (§9.7) -----------------------------------------------------------------

  private objectPath(): ObjectPath {
    const typeToken = this.token;
    if (typeToken.kind !== 'identifier') throw this.unexpected('an object type');
    this.advance();
    this.expectSymbol(':');
    const components: PathComponent[] = [{ kind: 'property', name: this.propertyName() }];
    for (;;) {
      if (this.isSymbol('.')) {
        this.advance();
        components.push({ kind: 'property', name: this.propertyName() });
      } else if (this.isSymbol('[')) {
        this.advance();
        components.push({ kind: 'index', index: this.listIndex() });
        this.expectSymbol(']');
      } else {
        break;
      }
    }
    return { objectType: typeToken.value, components, span: spanOf(typeToken.start, this.previousEnd) };
  }

  /** A property name: an identifier without '-', or a quoted string (§9.7). */
  private propertyName(): string {
    const token = this.token;
    if (token.kind === 'string') return this.advance().value;
    if (token.kind === 'identifier' && PLAIN_PROPERTY.test(token.value)) return this.advance().value;
    if (token.kind === 'identifier') {
      const detail = ": a name containing '-' must be quoted, as in hashes.'SHA-256'";
      throw new PatternSyntaxError(`unquoted property name ${echo(token.value)}`, token.start, detail);
    }
    throw this.unexpected('a property name');
  }

  private listIndex(): number | '*' {
    if (this.isSymbol('*')) {
      this.advance();
      return '*';
    }
    if (this.token.kind !== 'integer') throw this.unexpected("a list index (an integer or '*')");
    const index = Number(this.token.value);
    if (!Number.isSafeInteger(index)) {
      throw new PatternSyntaxError(`list index ${echoRaw(this.token.value)}`, this.token.start, ': too large');
    }
    this.advance();
    return index;
  }

  // ---- constants (§9.2) --------------------------------------------------------------------

  /** A constant; `orderedBy` names the ordering operator when booleans are not allowed. */
  private constant(orderedBy: string | null): Constant {
    const token = this.token;
    switch (token.kind) {
      case 'string':
      case 'timestamp':
      case 'hex':
      case 'binary':
        this.advance();
        return { kind: token.kind, value: token.value };
      case 'integer':
      case 'float':
        this.advance();
        return { kind: token.kind, value: Number(token.value), raw: token.value };
      case 'boolean':
        if (orderedBy !== null) {
          throw new PatternSyntaxError(`boolean constant`, token.start, `: ${orderedBy} needs an orderable constant`);
        }
        this.advance();
        return { kind: 'boolean', value: token.value === 'true' };
      default:
        throw this.unexpected('a constant');
    }
  }

  private stringConstant(operator: string): StringConstant {
    if (this.token.kind !== 'string') throw this.unexpected(`a quoted string after ${operator}`);
    return { kind: 'string', value: this.advance().value };
  }

  /** '(' ')' or '(' constant (',' constant)* ')'. */
  private set(): Constant[] {
    this.expectSymbol('(');
    const values: Constant[] = [];
    if (this.isSymbol(')')) {
      this.advance();
      return values;
    }
    values.push(this.constant(null));
    while (this.isSymbol(',')) {
      this.advance();
      values.push(this.constant(null));
    }
    this.expectSymbol(')');
    return values;
  }
}

/** Parse a pattern; throws PatternSyntaxError on the first error. */
export function parsePattern(text: string): ObservationExpression {
  return new Parser(text).parsePattern();
}

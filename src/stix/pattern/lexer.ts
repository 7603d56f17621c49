// Tokenizer for STIX 2.1 patterns, following the lexer rules of the official grammar
// (oasis-open/cti-stix2-json-schemas, pattern_grammar/STIXPattern.g4): maximal munch,
// case-sensitive keywords, whitespace and /* */ and // comments skipped. It produces one
// token per call so that the first error in the text is the one reported, and it never
// backtracks: each character is looked at a bounded number of times.

import { echo, echoRaw, PatternSyntaxError } from './errors.js';
import { base64Problem, hexProblem, timestampProblem } from './literals.js';

export const KEYWORDS = new Set([
  'AND', 'OR', 'NOT', 'FOLLOWEDBY', 'LIKE', 'MATCHES', 'ISSUPERSET', 'ISSUBSET', 'EXISTS',
  'LAST', 'IN', 'START', 'STOP', 'SECONDS', 'WITHIN', 'REPEATS', 'TIMES',
]);

export type TokenKind =
  | 'identifier' // [A-Za-z_][A-Za-z0-9_-]*, not a keyword
  | 'keyword'
  | 'boolean'
  | 'string'
  | 'integer'
  | 'float'
  | 'timestamp'
  | 'hex'
  | 'binary'
  | 'symbol' // [ ] ( ) : . , * = != < <= > >=
  | 'end';

export interface Token {
  kind: TokenKind;
  /** Decoded value: keyword or symbol text (`==` → `=`, `<>` → `!=`), unescaped string, literal body. */
  value: string;
  start: number;
  end: number;
}

const CH = {
  tab: 0x09, lf: 0x0a, vt: 0x0b, ff: 0x0c, cr: 0x0d, space: 0x20, bang: 0x21, quote: 0x27,
  lparen: 0x28, rparen: 0x29, star: 0x2a, plus: 0x2b, comma: 0x2c, minus: 0x2d, dot: 0x2e,
  slash: 0x2f, zero: 0x30, nine: 0x39, colon: 0x3a, lt: 0x3c, eq: 0x3d, gt: 0x3e,
  lbrack: 0x5b, backslash: 0x5c, rbrack: 0x5d, underscore: 0x5f,
} as const;

/** The grammar's WS rule. */
function isWhitespace(c: number): boolean {
  if (c === CH.space || (c >= CH.tab && c <= CH.cr)) return true;
  if (c < 0x85) return false;
  return (
    c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}

function isDigit(c: number): boolean {
  return c >= CH.zero && c <= CH.nine;
}

function isIdentifierStart(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === CH.underscore;
}

function isIdentifierPart(c: number): boolean {
  return isIdentifierStart(c) || isDigit(c) || c === CH.minus;
}

const SINGLE_SYMBOLS: ReadonlySet<number> = new Set([CH.lbrack, CH.rbrack, CH.lparen, CH.rparen, CH.colon, CH.comma, CH.star]);

interface TypedLiteral {
  kind: TokenKind;
  name: string;
  check: (body: string) => string | null;
}

const TYPED_LITERALS = new Map<string, TypedLiteral>([
  ['t', { kind: 'timestamp', name: 'timestamp', check: timestampProblem }],
  ['h', { kind: 'hex', name: 'hex', check: hexProblem }],
  ['b', { kind: 'binary', name: 'binary (base64)', check: base64Problem }],
]);

export class Lexer {
  private pos = 0;

  constructor(private readonly text: string) {}

  next(): Token {
    this.skipTrivia();
    const start = this.pos;
    if (start >= this.text.length) return { kind: 'end', value: '', start, end: start };
    const c = this.text.charCodeAt(start);
    if (SINGLE_SYMBOLS.has(c)) return this.symbol(this.text[start] ?? '', 1);
    if (c === CH.quote) return this.string();
    if (isDigit(c) || ((c === CH.plus || c === CH.minus || c === CH.dot) && this.numberFollows(start))) {
      return this.number();
    }
    if (c === CH.dot) return this.symbol('.', 1);
    if (isIdentifierStart(c)) return this.word();
    return this.operator(c);
  }

  private skipTrivia(): void {
    const text = this.text;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (isWhitespace(c)) {
        this.pos++;
      } else if (c === CH.slash && text.charCodeAt(this.pos + 1) === CH.star) {
        const close = text.indexOf('*/', this.pos + 2);
        if (close < 0) throw new PatternSyntaxError('unterminated comment', this.pos);
        this.pos = close + 2;
      } else if (c === CH.slash && text.charCodeAt(this.pos + 1) === CH.slash) {
        while (this.pos < text.length && text.charCodeAt(this.pos) !== CH.lf && text.charCodeAt(this.pos) !== CH.cr) {
          this.pos++;
        }
      } else {
        return;
      }
    }
  }

  private symbol(value: string, length: number): Token {
    const start = this.pos;
    this.pos += length;
    return { kind: 'symbol', value, start, end: this.pos };
  }

  /** At a sign or '.', whether a number (rather than a lone sign or dot) starts here. */
  private numberFollows(at: number): boolean {
    let i = at;
    const c = this.text.charCodeAt(i);
    if (c === CH.plus || c === CH.minus) i++;
    if (isDigit(this.text.charCodeAt(i))) return true;
    return this.text.charCodeAt(i) === CH.dot && isDigit(this.text.charCodeAt(i + 1));
  }

  /** IntPosLiteral / IntNegLiteral / FloatPosLiteral / FloatNegLiteral. */
  private number(): Token {
    const text = this.text;
    const start = this.pos;
    let i = start;
    if (text.charCodeAt(i) === CH.plus || text.charCodeAt(i) === CH.minus) i++;
    const digitsStart = i;
    while (isDigit(text.charCodeAt(i))) i++;
    const intDigits = i - digitsStart;
    if (text.charCodeAt(i) === CH.dot && isDigit(text.charCodeAt(i + 1))) {
      i++;
      while (isDigit(text.charCodeAt(i))) i++;
      this.pos = i;
      return { kind: 'float', value: text.slice(start, i), start, end: i };
    }
    if (intDigits > 1 && text.charCodeAt(digitsStart) === CH.zero) {
      throw new PatternSyntaxError(`invalid integer ${echo(text.slice(start, i))}`, start, ': leading zeros are not allowed');
    }
    this.pos = i;
    return { kind: 'integer', value: text.slice(start, i), start, end: i };
  }

  /** StringLiteral: single quotes; the only escapes are \' and \\ (§9.2). */
  private string(): Token {
    const text = this.text;
    const start = this.pos;
    let value = '';
    let chunk = start + 1;
    for (let i = start + 1; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === CH.quote) {
        this.pos = i + 1;
        return { kind: 'string', value: value + text.slice(chunk, i), start, end: this.pos };
      }
      if (c === CH.backslash) {
        const escaped = text.charCodeAt(i + 1);
        if (i + 1 >= text.length) break;
        if (escaped !== CH.quote && escaped !== CH.backslash) {
          const shown = echo(String.fromCodePoint(text.codePointAt(i + 1) ?? escaped));
          throw new PatternSyntaxError(`invalid escape \\${shown.slice(1, -1)} in a string`, i, ": only \\' and \\\\ are allowed");
        }
        value += text.slice(chunk, i) + (text[i + 1] ?? '');
        i++;
        chunk = i + 1;
      }
    }
    throw new PatternSyntaxError('unterminated string', start);
  }

  /** Identifier, keyword, true/false, or a typed literal t'…' h'…' b'…'. */
  private word(): Token {
    const text = this.text;
    const start = this.pos;
    let i = start + 1;
    while (i < text.length && isIdentifierPart(text.charCodeAt(i))) i++;
    const word = text.slice(start, i);
    const typed = TYPED_LITERALS.get(word);
    if (typed && text.charCodeAt(i) === CH.quote) return this.typedLiteral(typed, i);
    this.pos = i;
    if (KEYWORDS.has(word)) return { kind: 'keyword', value: word, start, end: i };
    if (word === 'true' || word === 'false') return { kind: 'boolean', value: word, start, end: i };
    return { kind: 'identifier', value: word, start, end: i };
  }

  private typedLiteral(typed: TypedLiteral, quote: number): Token {
    const start = this.pos;
    const close = this.text.indexOf("'", quote + 1);
    if (close < 0) throw new PatternSyntaxError(`unterminated ${typed.name} literal`, start);
    const body = this.text.slice(quote + 1, close);
    const problem = typed.check(body);
    if (problem !== null) {
      const literal = echoRaw(this.text.slice(start, close + 1));
      throw new PatternSyntaxError(`invalid ${typed.name} literal ${literal}`, start, `: ${problem}`);
    }
    this.pos = close + 1;
    return { kind: typed.kind, value: body, start, end: this.pos };
  }

  /** EQ (= ==), NEQ (!= <>), LT, LE, GT, GE. */
  private operator(c: number): Token {
    const next = this.text.charCodeAt(this.pos + 1);
    if (c === CH.eq) return next === CH.eq ? this.symbol('=', 2) : this.symbol('=', 1);
    if (c === CH.bang && next === CH.eq) return this.symbol('!=', 2);
    if (c === CH.lt) {
      if (next === CH.eq) return this.symbol('<=', 2);
      return next === CH.gt ? this.symbol('!=', 2) : this.symbol('<', 1);
    }
    if (c === CH.gt) return next === CH.eq ? this.symbol('>=', 2) : this.symbol('>', 1);
    const ch = String.fromCodePoint(this.text.codePointAt(this.pos) ?? c);
    throw new PatternSyntaxError(`unexpected character ${echo(ch)}`, this.pos);
  }
}

// Property tests of the STIX pattern parser: random well-formed patterns built from the §9
// grammar always parse and classify as an independent oracle says; arbitrary text never
// makes it throw or stall; hostile nesting is refused without exhausting the stack.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analysePattern, formatPattern, type PatternClass } from '../../src/stix/pattern/index.js';

// ---- a model of well-formed patterns ------------------------------------------------------

/** Paths in several spellings; `key` identifies the path (quoting does not change it). */
const PATHS = [
  { text: 'file:hashes.MD5', key: 'file:hashes.MD5', first: 'file:hashes' },
  { text: "file:hashes.'MD5'", key: 'file:hashes.MD5', first: 'file:hashes' },
  { text: "file:hashes.'SHA-256'", key: 'file:hashes.SHA-256', first: 'file:hashes' },
  { text: 'ipv4-addr:value', key: 'ipv4-addr:value', first: 'ipv4-addr:value' },
  { text: "x-foo:a[0].'b c'[*]", key: 'x-foo:a[0].b c[*]', first: 'x-foo:a' },
  { text: "domain:'value'", key: 'domain:value', first: 'domain:value' },
] as const;
type PathModel = (typeof PATHS)[number];

interface LeafModel {
  t: 'leaf';
  path: PathModel;
  /** Operator as written (== and <> included). */
  op: string;
  negated: boolean;
  operand: string;
}
type CompModel = LeafModel | { t: 'and' | 'or'; items: CompModel[] } | { t: 'paren'; inner: CompModel };
type ObsModel =
  | { t: 'obs'; comp: CompModel; quals: string[] }
  | { t: 'group'; inner: ObsModel; quals: string[] }
  | { t: 'AND' | 'OR' | 'FOLLOWEDBY'; items: ObsModel[] };

const stringConstant = fc
  .string({ maxLength: 12 })
  .map((s) => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`);
const intConstant = fc.tuple(fc.constantFrom('', '+', '-'), fc.nat({ max: 100_000 })).map(([sign, n]) => `${sign}${n}`);
const floatConstant = fc
  .tuple(fc.constantFrom('', '+', '-'), fc.constantFrom('', '0', '12'), fc.nat({ max: 999 }))
  .map(([sign, whole, fraction]) => `${sign}${whole}.${fraction}`);
const timestamp = fc
  .tuple(
    fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
    fc.constantFrom('', '.5', '.123456'),
  )
  .map(([date, fraction]) => `t'${date.toISOString().slice(0, 19)}${fraction}Z'`);
const hexConstant = fc.uint8Array({ maxLength: 6 }).map((bytes) => `h'${Buffer.from(bytes).toString('hex')}'`);
const binaryConstant = fc.uint8Array({ minLength: 1, maxLength: 7 }).map((bytes) => `b'${Buffer.from(bytes).toString('base64')}'`);
const orderable = fc.oneof(stringConstant, intConstant, floatConstant, timestamp, hexConstant, binaryConstant);
const primitive = fc.oneof(orderable, fc.constantFrom('true', 'false'));

const operatorAndOperand: fc.Arbitrary<{ op: string; operand: string }> = fc.oneof(
  { weight: 40, arbitrary: fc.record({ op: fc.constantFrom('=', '=='), operand: primitive }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('!=', '<>'), operand: primitive }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('<', '<=', '>', '>='), operand: orderable }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('IN'),
      operand: fc.array(primitive, { maxLength: 3 }).map((values) => `(${values.join(', ')})`),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constantFrom('LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET'), operand: stringConstant }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('EXISTS'), operand: fc.constant('') }) },
);

const leaf: fc.Arbitrary<CompModel> = fc
  .record({
    path: fc.constantFrom(...PATHS),
    negated: fc.oneof({ weight: 15, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    operator: operatorAndOperand,
  })
  .map(({ path, negated, operator }) => ({ t: 'leaf', path, negated, op: operator.op, operand: operator.operand }));

const qualifiers = fc
  .subarray(['within', 'repeats', 'start-stop'] as const)
  .chain((kinds) =>
    fc.tuple(
      ...kinds.map((kind) => {
        if (kind === 'within') {
          return fc
            .oneof(fc.integer({ min: 1, max: 86_400 }).map(String), fc.constantFrom('0.5', '+3', '+.25', '1.0'))
            .map((n) => `WITHIN ${n} SECONDS`);
        }
        if (kind === 'repeats') return fc.integer({ min: 1, max: 50 }).map((n) => `REPEATS ${n} TIMES`);
        return fc.tuple(timestamp, timestamp).map(([a, b]) => `START ${a} STOP ${b}`);
      }),
    ),
  )
  .map((quals) => [...quals]);
const noQualifiers = fc.constant<string[]>([]);
const maybeQualifiers = fc.oneof({ weight: 8, arbitrary: noQualifiers }, { weight: 1, arbitrary: qualifiers });

const models = fc.letrec<{ comp: CompModel; obs: ObsModel }>((tie) => ({
  comp: fc.oneof(
    { maxDepth: 4, depthSize: 'small' },
    { weight: 4, arbitrary: leaf },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('or' as const), items: fc.array(tie('comp'), { minLength: 2, maxLength: 4 }) }) },
    fc.record({ t: fc.constant('and' as const), items: fc.array(tie('comp'), { minLength: 2, maxLength: 3 }) }),
    fc.record({ t: fc.constant('paren' as const), inner: tie('comp') }),
  ),
  obs: fc.oneof(
    { maxDepth: 3, depthSize: 'small' },
    { weight: 4, arbitrary: fc.record({ t: fc.constant('obs' as const), comp: tie('comp'), quals: maybeQualifiers }) },
    fc.record({ t: fc.constant('group' as const), inner: tie('obs'), quals: maybeQualifiers }),
    fc.record({
      t: fc.constantFrom('OR' as const, 'OR' as const, 'AND' as const, 'FOLLOWEDBY' as const),
      items: fc.array(tie('obs'), { minLength: 2, maxLength: 3 }),
    }),
  ),
}));

// ---- rendering, with random whitespace and comments between tokens -------------------------

const SEPARATORS = [' ', '  ', '\n', '\t', ' /* c */ ', '\u00a0', '// line\n', '\r\n '];

class Renderer {
  private i = 0;
  constructor(private readonly separators: string[]) {}

  private sep(): string {
    return this.separators[this.i++ % this.separators.length] ?? ' ';
  }

  comparison(m: CompModel, parent: 'and' | 'or' | null): string {
    if (m.t === 'leaf') {
      const not = m.negated ? `NOT${this.sep()}` : '';
      if (m.op === 'EXISTS') return `${not}EXISTS${this.sep()}${m.path.text}`;
      return `${m.path.text}${this.sep()}${not}${m.op}${this.sep()}${m.operand}`;
    }
    if (m.t === 'paren') return `(${this.sep()}${this.comparison(m.inner, null)}${this.sep()})`;
    const text = m.items.map((item) => this.comparison(item, m.t)).join(`${this.sep()}${m.t.toUpperCase()}${this.sep()}`);
    return parent === 'and' && m.t === 'or' ? `(${text})` : text;
  }

  observation(m: ObsModel, parent: ObsModel['t'] | null): string {
    if (m.t === 'obs') return this.qualified(`[${this.comparison(m.comp, null)}]`, m.quals);
    if (m.t === 'group') return this.qualified(`(${this.observation(m.inner, null)})`, m.quals);
    const text = m.items.map((item) => this.observation(item, m.t)).join(`${this.sep()}${m.t}${this.sep()}`);
    const rank = { FOLLOWEDBY: 0, OR: 1, AND: 2 } as const;
    const needsParens = parent !== null && parent !== 'obs' && parent !== 'group' && rank[m.t] < rank[parent];
    return needsParens ? `(${text})` : text;
  }

  private qualified(text: string, quals: string[]): string {
    return [text, ...quals].join(this.sep());
  }
}

// ---- an independent oracle for the class -----------------------------------------------------

function isSimple(m: LeafModel): boolean {
  return (m.op === '=' || m.op === '==') && !m.negated;
}

/** The path key when m is one simple comparison or an AND-group of them on one path. */
function atomicGroupKey(m: CompModel): string | null {
  if (m.t === 'leaf') return isSimple(m) ? m.path.key : null;
  if (m.t === 'paren') return atomicGroupKey(m.inner);
  if (m.t === 'or') return null;
  const keys = m.items.map(atomicGroupKey);
  const first = keys[0] ?? null;
  return first !== null && keys.every((k) => k === first) ? first : null;
}

function isDisjunctive(m: CompModel): boolean {
  if (atomicGroupKey(m) !== null) return true;
  if (m.t === 'paren') return isDisjunctive(m.inner);
  return m.t === 'or' && m.items.every(isDisjunctive);
}

interface Facts {
  observations: CompModel[];
  leaves: LeafModel[];
  qualifiers: boolean;
  join: boolean;
}

function leavesOf(m: CompModel, into: LeafModel[]): void {
  if (m.t === 'leaf') into.push(m);
  else if (m.t === 'paren') leavesOf(m.inner, into);
  else for (const item of m.items) leavesOf(item, into);
}

function factsOf(m: ObsModel, facts: Facts = { observations: [], leaves: [], qualifiers: false, join: false }): Facts {
  if (m.t === 'obs' || m.t === 'group') facts.qualifiers ||= m.quals.length > 0;
  if (m.t === 'obs') {
    facts.observations.push(m.comp);
    leavesOf(m.comp, facts.leaves);
  } else if (m.t === 'group') {
    factsOf(m.inner, facts);
  } else {
    facts.join ||= m.t !== 'OR';
    for (const item of m.items) factsOf(item, facts);
  }
  return facts;
}

function expectedClass(facts: Facts): PatternClass {
  if (facts.qualifiers || facts.join) return 'complex';
  const [only] = facts.observations;
  if (facts.observations.length === 1 && only && atomicGroupKey(only) !== null) return 'atomic';
  return facts.observations.every(isDisjunctive) ? 'disjunctive' : 'complex';
}

function operatorName(m: LeafModel): string {
  const op = m.op === '==' ? '=' : m.op === '<>' ? '!=' : m.op;
  return m.negated ? `NOT ${op}` : op;
}

function shape(ast: unknown): unknown {
  return JSON.parse(JSON.stringify(ast, (key, value: unknown) => (key === 'span' ? undefined : value)));
}

const wellFormed = fc
  .tuple(models.obs, fc.array(fc.constantFrom(...SEPARATORS), { minLength: 1, maxLength: 8 }))
  .map(([model, separators]) => ({ model, text: new Renderer(separators).observation(model, null) }));

// ---- properties ---------------------------------------------------------------------------------

describe('generated well-formed patterns (STIX 2.1 §9 grammar)', () => {
  it('always parse, classify as the oracle says, and report counts and operators of the model', () => {
    fc.assert(
      fc.property(wellFormed, ({ model, text }) => {
        const result = analysePattern(text);
        if (!result.ok) throw new Error(`${result.error}\n${text}`);
        const facts = factsOf(model);
        const { analysis } = result;
        expect(analysis.patternClass).toBe(expectedClass(facts));
        expect(analysis.comparisonCount).toBe(facts.leaves.length);
        expect(analysis.observationCount).toBe(facts.observations.length);
        expect(analysis.hasQualifiers).toBe(facts.qualifiers);
        expect(analysis.operators).toEqual([...new Set(facts.leaves.map(operatorName))].sort());
        expect(analysis.observablePaths).toEqual([...new Set(facts.leaves.map((l) => l.path.first))].sort());
      }),
      { numRuns: 2000 },
    );
  });

  it('classes are consistent with the analysis: atomic and disjunctive use only plain = and no qualifiers', () => {
    fc.assert(
      fc.property(wellFormed, ({ text }) => {
        const result = analysePattern(text);
        if (!result.ok) throw new Error(result.error);
        const { analysis } = result;
        if (analysis.patternClass !== 'complex') {
          expect(analysis.operators).toEqual(['=']);
          expect(analysis.hasQualifiers).toBe(false);
        }
        if (analysis.patternClass === 'atomic') {
          expect(analysis.observationCount).toBe(1);
          expect(analysis.observablePaths).toHaveLength(1);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('formatPattern text parses back to the same tree and the same analysis', () => {
    fc.assert(
      fc.property(wellFormed, ({ text }) => {
        const first = analysePattern(text);
        if (!first.ok) throw new Error(first.error);
        const again = analysePattern(formatPattern(first.ast));
        if (!again.ok) throw new Error(`${again.error}\n${formatPattern(first.ast)}`);
        expect(shape(again.ast)).toEqual(shape(first.ast));
        expect(again.analysis).toEqual(first.analysis);
      }),
      { numRuns: 1000 },
    );
  });
});

/** Runs analysePattern: it answers (ok, or an error naming a position) and never throws. */
function analyseQuickly(text: string): void {
  const result = analysePattern(text);
  if (!result.ok) expect(result.error).toMatch(/at position \d+/);
}

describe('arbitrary input never throws', () => {
  const TOKENS = [
    '[', ']', '(', ')', ':', '.', ',', '*', '=', '!=', '<', '>=', "'", "\\'", '\\', 'a', 'x-foo', 'file', 'hashes',
    ' ', 'AND', 'OR', 'NOT', 'FOLLOWEDBY', 'IN', 'LIKE', 'MATCHES', 'EXISTS', 'WITHIN', 'SECONDS', 'REPEATS', 'TIMES',
    'START', 'STOP', 'LAST', 'true', "t'", "h'", "b'", '2016-01-01T00:00:00Z', '0', '-1', '.5', '+', '-', '/*', '*/', '//', '\n',
  ];

  it('random strings (any code points)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), analyseQuickly), { numRuns: 3000 });
  });

  it('random sequences of grammar tokens', () => {
    const soup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 80 }).map((tokens) => tokens.join(''));
    fc.assert(fc.property(soup, analyseQuickly), { numRuns: 5000 });
  });

  it('well-formed patterns with one random edit', () => {
    const edited = fc
      .tuple(wellFormed, fc.nat(), fc.nat({ max: 5 }), fc.constantFrom(...TOKENS, ''))
      .map(([{ text }, at, cut, insert]) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(i + cut);
      });
    fc.assert(fc.property(edited, analyseQuickly), { numRuns: 3000 });
  });
});

describe('hostile input is refused without stack overflow', () => {
  const N = 100_000;
  const hostile: [string, string][] = [
    ["100000 '['", '['.repeat(N)],
    ["100000 '('", '('.repeat(N)],
    ["100000 '(' then a valid observation", `${'('.repeat(N)}[a:b = 1]${')'.repeat(N)}`],
    ["'[' then 100000 '('", `[${'('.repeat(N)}a:b = 1${')'.repeat(N)}]`],
    ["100000 '(['", '(['.repeat(N / 2)],
    ['100000 NOT', `[${'NOT '.repeat(N)}EXISTS a:b]`],
    ['100000 qualifiers', `[a:b = 1]${' WITHIN 1 SECONDS'.repeat(N)}`],
    ['an unterminated 1 MB string', `[a:b = '${'x'.repeat(10 * N)}`],
    ['an unterminated 1 MB hex literal', `[a:b = h'${'a'.repeat(10 * N)}`],
    ['an unterminated comment after 100000 comments', `${'/* */'.repeat(N)}/*`],
    ['100000 quotes', "'".repeat(N)],
  ];

  it.each(hostile)('%s', (_name, text) => {
    const result = analysePattern(text);
    expect(result.ok).toBe(false);
  });

  it('the nesting error names the limit', () => {
    const result = analysePattern('('.repeat(N));
    expect(result.ok === false && result.error).toBe(
      'nesting too deep at position 100: brackets and parentheses nest deeper than 100 levels',
    );
  });

  it('long flat chains are fine: 100000 ORed observations, 100000 ORed comparisons', () => {
    const observations = `${'[a:b = 1] OR '.repeat(N)}[a:b = 1]`;
    const comparisons = `[${"ipv4-addr:value = '198.51.100.1' OR ".repeat(N)}ipv4-addr:value = '198.51.100.2']`;
    for (const [text, count] of [[observations, N + 1], [comparisons, 1]] as const) {
      const result = analysePattern(text);
      expect(result.ok && result.analysis.patternClass).toBe('disjunctive');
      expect(result.ok && result.analysis.observationCount).toBe(count);
      expect(result.ok && formatPattern(result.ast).length).toBeGreaterThan(N);
    }
  });

  it('a 1 MB string constant parses', () => {
    const text = `[a:b = '${"x\\'\\\\".repeat(N * 2)}']`;
    const result = analysePattern(text);
    const comparison = result.ok && result.ast.kind === 'observation' ? result.ast.comparison : undefined;
    expect(comparison?.kind === 'comparison' && comparison.operator === '=' && comparison.value.kind === 'string' && comparison.value.value.length).toBe(N * 6);
  });
});

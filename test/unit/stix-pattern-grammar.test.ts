// The STIX 2.1 patterning grammar (§9) and the pattern classes of the maturity design,
// checked on hand-written patterns, the STIX 2.1 specification's examples and the
// maturity design's acceptance examples.
import { describe, expect, it } from 'vitest';
import {
  analysePattern,
  formatPattern,
  MAX_PATTERN_NESTING_DEPTH,
  type Comparison,
  type ComparisonExpression,
  type PatternAnalysis,
  type PatternAst,
  type PatternClass,
} from '../../src/stix/pattern/index.js';

function parsed(pattern: string): { ast: PatternAst; analysis: PatternAnalysis } {
  const result = analysePattern(pattern);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(pattern)} to parse, got: ${result.error}`);
  return result;
}

function failure(pattern: string): { error: string; position: number } {
  const result = analysePattern(pattern);
  if (result.ok) throw new Error(`expected ${JSON.stringify(pattern)} to be rejected`);
  return result;
}

/** The tree without source positions. */
function shape(ast: unknown): unknown {
  return JSON.parse(JSON.stringify(ast, (key, value: unknown) => (key === 'span' ? undefined : value)));
}

/** The only comparison of a one-observation, one-comparison pattern. */
function onlyComparison(pattern: string): Comparison {
  const { ast } = parsed(pattern);
  if (ast.kind !== 'observation' || ast.comparison.kind !== 'comparison') throw new Error('not a single comparison');
  return ast.comparison;
}

const TS = "t'2016-06-01T00:00:00Z'";
const TS2 = "t'2016-07-01T00:00:00.123Z'";

describe('pattern classes (maturity-design.md indicator limits)', () => {
  const table: [string, PatternClass, string][] = [
    ["[ipv4-addr:value = '198.51.100.1']", 'atomic', 'one simple comparison'],
    ["[ipv4-addr:value == '198.51.100.1']", 'atomic', '== is the same operator as ='],
    ["[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f0']", 'atomic', 'quoted path component'],
    ["[email-addr:value = 'a@example.com' AND email-addr:value = 'a@example.com']", 'atomic', 'AND on one path'],
    ["[file:hashes.MD5 = 'a' AND file:hashes.'MD5' = 'a']", 'atomic', 'quoting does not change the path'],
    ["[x:y = 1 AND (x:y = 1 AND x:y = 1)]", 'atomic', 'nested AND-group on one path'],
    ["([ipv4-addr:value = '198.51.100.1'])", 'atomic', 'parenthesised observation'],
    ["[(ipv4-addr:value = '198.51.100.1')]", 'atomic', 'parenthesised comparison'],
    ["[url:value = 'http://a/' OR url:value = 'http://b/']", 'disjunctive', 'OR of comparisons'],
    ["[file:hashes.MD5 = 'a' OR file:hashes.'SHA-256' = 'b']", 'disjunctive', 'two-hash OR'],
    ["[ipv4-addr:value = '198.51.100.1'] OR [domain-name:value = 'example.com']", 'disjunctive', 'OR of observations'],
    ["([a:b = 1] OR [a:c = 2]) OR [a:d = 3]", 'disjunctive', 'grouped OR of observations'],
    [
      "[ipv4-addr:value = '198.51.100.1' OR (domain-name:value = 'x.com' AND domain-name:value = 'x.com')]",
      'disjunctive',
      'atomic AND-group inside an OR',
    ],
    ["[ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value = '198.51.100.2'] OR [url:value = 'u']", 'disjunctive', 'OR inside and between'],
    ["[file:hashes.MD5 = 'a' AND file:hashes.'SHA-1' = 'b']", 'complex', 'AND across two paths'],
    ["[network-traffic:dst_ref.value = '198.51.100.1' AND network-traffic:dst_port = 443]", 'complex', 'network-traffic AND'],
    ["[x:y = 1 AND (x:y = 2 OR x:y = 3)]", 'complex', 'AND over an OR, even on one path'],
    ["[a:b = 1 OR (a:c = 2 AND a:d = 3)]", 'complex', 'AND-group on two paths inside an OR'],
    ["[a:b = 1] AND [a:b = 1]", 'complex', 'observation AND'],
    ["[a:b = 1] FOLLOWEDBY [a:c = 2]", 'complex', 'FOLLOWEDBY'],
    ["[a:b = 1] WITHIN 5 SECONDS", 'complex', 'WITHIN qualifier'],
    ["[a:b = 1] REPEATS 2 TIMES", 'complex', 'REPEATS qualifier'],
    [`[a:b = 1] START ${TS} STOP ${TS2}`, 'complex', 'START/STOP qualifier'],
    ["([a:b = 1] OR [a:c = 2]) WITHIN 5 SECONDS", 'complex', 'qualifier on a group'],
    ["[a:b != 1]", 'complex', '!='],
    ["[a:b <> 1]", 'complex', '<> (same as !=)'],
    ["[a:b NOT = 1]", 'complex', 'NOT ='],
    ["[a:b > 1]", 'complex', 'ordering'],
    ["[a:b IN ('x', 'y')]", 'complex', 'IN'],
    ["[a:b LIKE 'x%']", 'complex', 'LIKE'],
    ["[a:b MATCHES '^x'] OR [a:b = 'y']", 'complex', 'MATCHES in one observation'],
    ["[a:b ISSUBSET '198.51.100.0/24']", 'complex', 'ISSUBSET'],
    ["[EXISTS a:b]", 'complex', 'EXISTS'],
  ];

  it.each(table)('%s is %s (%s)', (pattern, expected) => {
    expect(parsed(pattern).analysis.patternClass).toBe(expected);
  });
});

describe('grammar features (STIX 2.1 §9)', () => {
  it('observation operators: AND binds tighter than OR, OR tighter than FOLLOWEDBY (§9.5.2)', () => {
    const { ast } = parsed('[a:b = 1] FOLLOWEDBY [a:b = 2] OR [a:b = 3] AND [a:b = 4]');
    expect(formatPattern(ast)).toBe('[a:b = 1] FOLLOWEDBY [a:b = 2] OR [a:b = 3] AND [a:b = 4]');
    expect(ast.kind === 'observation-operator' && ast.operator).toBe('FOLLOWEDBY');
    const or = ast.kind === 'observation-operator' ? ast.operands[1] : undefined;
    expect(or?.kind === 'observation-operator' && or.operator).toBe('OR');
    const and = or?.kind === 'observation-operator' ? or.operands[1] : undefined;
    expect(and?.kind === 'observation-operator' && and.operator).toBe('AND');
  });

  it('a chain of one operator is one n-ary node; parentheses make a group node', () => {
    const flat = parsed('[a:b = 1] OR [a:b = 2] OR [a:b = 3]').ast;
    expect(flat.kind === 'observation-operator' && flat.operands.length).toBe(3);
    const grouped = parsed('([a:b = 1] OR [a:b = 2]) OR [a:b = 3]').ast;
    expect(grouped.kind === 'observation-operator' && grouped.operands[0]?.kind).toBe('observation-group');
  });

  it('comparison operators: AND binds tighter than OR, parentheses group (§9.6)', () => {
    const { ast } = parsed('[a:b = 1 OR a:c = 2 AND a:d = 3]');
    const top = ast.kind === 'observation' ? ast.comparison : undefined;
    expect(top?.kind === 'comparison-operator' && top.operator).toBe('OR');
    const grouped = parsed('[(a:b = 1 OR a:c = 2) AND a:d = 3]').ast;
    const and = grouped.kind === 'observation' ? grouped.comparison : undefined;
    expect(and?.kind === 'comparison-operator' && and.operator).toBe('AND');
  });

  it('a qualifier applies to the observation expression just before it (§9.5.1)', () => {
    const { ast } = parsed('[a:b = 1] AND [a:c = 2] WITHIN 5 SECONDS');
    if (ast.kind !== 'observation-operator') throw new Error('expected AND');
    expect(ast.operands.map((o) => (o.kind === 'observation' ? o.qualifiers.length : -1))).toEqual([0, 1]);
  });

  it('qualifiers of different kinds combine; one of each kind per expression', () => {
    const { ast, analysis } = parsed(`[a:b = 1] REPEATS 2 TIMES WITHIN 10.5 SECONDS START ${TS} STOP ${TS2}`);
    expect(analysis.hasQualifiers).toBe(true);
    expect(shape(ast.kind === 'observation' ? ast.qualifiers : [])).toEqual([
      { kind: 'repeats', times: 2 },
      { kind: 'within', seconds: 10.5, raw: '10.5' },
      { kind: 'start-stop', startTime: '2016-06-01T00:00:00Z', stopTime: '2016-07-01T00:00:00.123Z' },
    ]);
    expect(analysePattern('(([a:b = 1]) WITHIN 5 SECONDS) WITHIN 6 SECONDS').ok).toBe(true);
  });

  it('object paths: properties, quoted names, list indexes and [*] (§9.7)', () => {
    const comparison = onlyComparison("[file:extensions.'windows-pebinary-ext'.sections[*].entropy[0].x[-1] > 7.0]");
    expect(comparison.path.objectType).toBe('file');
    expect(comparison.path.components).toEqual([
      { kind: 'property', name: 'extensions' },
      { kind: 'property', name: 'windows-pebinary-ext' },
      { kind: 'property', name: 'sections' },
      { kind: 'index', index: '*' },
      { kind: 'property', name: 'entropy' },
      { kind: 'index', index: 0 },
      { kind: 'property', name: 'x' },
      { kind: 'index', index: -1 },
    ]);
    expect(onlyComparison("[x-foo:'first prop'.'AND' = 1]").path.components).toEqual([
      { kind: 'property', name: 'first prop' },
      { kind: 'property', name: 'AND' },
    ]);
    expect(onlyComparison('[file:hashes[*] = 1]').path.components[1]).toEqual({ kind: 'index', index: '*' });
  });

  it('constants of every kind (§9.2)', () => {
    const values = (text: string): unknown => {
      const c = onlyComparison(`[a:b IN (${text})]`);
      return c.operator === 'IN' ? c.values : undefined;
    };
    expect(values("'it\\'s a \\\\ here', 5, +5, -5, 0, -0, 1.5, .5, -.25, +0.5, true, false")).toEqual([
      { kind: 'string', value: "it's a \\ here" },
      { kind: 'integer', value: 5, raw: '5' },
      { kind: 'integer', value: 5, raw: '+5' },
      { kind: 'integer', value: -5, raw: '-5' },
      { kind: 'integer', value: 0, raw: '0' },
      { kind: 'integer', value: -0, raw: '-0' },
      { kind: 'float', value: 1.5, raw: '1.5' },
      { kind: 'float', value: 0.5, raw: '.5' },
      { kind: 'float', value: -0.25, raw: '-.25' },
      { kind: 'float', value: 0.5, raw: '+0.5' },
      { kind: 'boolean', value: true },
      { kind: 'boolean', value: false },
    ]);
    expect(values("t'2016-12-31T23:59:60Z', t'2024-02-29T00:00:00.123456Z', h'', h'00fF', b'AAAA', b'AA==', b'AAA='")).toEqual([
      { kind: 'timestamp', value: '2016-12-31T23:59:60Z' },
      { kind: 'timestamp', value: '2024-02-29T00:00:00.123456Z' },
      { kind: 'hex', value: '' },
      { kind: 'hex', value: '00fF' },
      { kind: 'binary', value: 'AAAA' },
      { kind: 'binary', value: 'AA==' },
      { kind: 'binary', value: 'AAA=' },
    ]);
    expect(values('')).toEqual([]);
  });

  it('every operator, optionally negated, is reported (§9.6.1)', () => {
    const ops = ['=', '!=', '<', '<=', '>', '>='].map((op) => `a:b ${op} 1`);
    const strings = ['LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET'].map((op) => `a:b NOT ${op} 'x'`);
    const pattern = `[${[...ops, 'a:b NOT < 2', 'a:b IN (1)', 'a:b NOT IN (1)', ...strings, 'EXISTS a:c', 'NOT EXISTS a:d'].join(' OR ')}]`;
    expect(parsed(pattern).analysis.operators).toEqual([
      '!=', '<', '<=', '=', '>', '>=', 'EXISTS', 'IN',
      'NOT <', 'NOT EXISTS', 'NOT IN', 'NOT ISSUBSET', 'NOT ISSUPERSET', 'NOT LIKE', 'NOT MATCHES',
    ]);
  });

  it('MATCHES keeps its regular expression as a string and never runs it (Appendix D)', () => {
    const evil = '(a+)+$'.repeat(50);
    const c = onlyComparison(`[process:command_line MATCHES '${evil}']`);
    expect(c.operator === 'MATCHES' && c.value.value).toBe(evil);
  });

  it('whitespace of every WS kind and both comment forms are skipped; tokens need no spaces', () => {
    const pattern = "/* lead */\t[a:b\u00a0=\u20031]\nAND\r\n[a:c=2]// trailing\n  WITHIN\u30005SECONDS";
    expect(formatPattern(parsed(pattern).ast)).toBe('[a:b = 1] AND [a:c = 2] WITHIN 5 SECONDS');
    expect(analysePattern('[a:b=1]AND[a:c=2]').ok).toBe(true);
  });

  it('the analysis lists types, first-level paths and unknown types (custom x- types are not unknown)', () => {
    const { analysis } = parsed(
      "[domain:value = 'x' OR x-usb-device:serial = 's' OR x_whatever:a = 1 OR file:hashes.MD5 = 'm' OR file:hashes.'SHA-1' = 's'] OR [ipv4-addr:value = '1.2.3.4']",
    );
    expect(analysis).toEqual({
      patternClass: 'disjunctive',
      observableTypes: ['domain', 'file', 'ipv4-addr', 'x-usb-device', 'x_whatever'],
      observablePaths: ['domain:value', 'file:hashes', 'ipv4-addr:value', 'x-usb-device:serial', 'x_whatever:a'],
      unknownObjectTypes: ['domain', 'x_whatever'],
      comparisonCount: 6,
      observationCount: 2,
      hasQualifiers: false,
      operators: ['='],
    });
  });

  it('formatPattern gives canonical text that parses back to the same tree', () => {
    const pattern = "[a:'b'.'c-d' == 'x' AND (a:e <> 1 OR NOT EXISTS a:f)] REPEATS 2 TIMES FOLLOWEDBY ([x-y:z NOT IN ()])";
    const text = formatPattern(parsed(pattern).ast);
    expect(text).toBe("[a:b.'c-d' = 'x' AND (a:e != 1 OR NOT EXISTS a:f)] REPEATS 2 TIMES FOLLOWEDBY ([x-y:z NOT IN ()])");
    expect(shape(parsed(text).ast)).toEqual(shape(parsed(pattern).ast));
  });

  it('spans locate nodes in the source text', () => {
    const pattern = "  [a:b = 'x'] OR [c:d = 1]";
    const { ast } = parsed(pattern);
    expect(pattern.slice(ast.span.start, ast.span.end)).toBe("[a:b = 'x'] OR [c:d = 1]");
    const first = ast.kind === 'observation-operator' ? ast.operands[0] : undefined;
    const comparison: ComparisonExpression | undefined = first?.kind === 'observation' ? first.comparison : undefined;
    expect(comparison && pattern.slice(comparison.span.start, comparison.span.end)).toBe("a:b = 'x'");
  });
});

describe('rejected patterns carry a readable error with the 0-based position', () => {
  const table: [string, string, RegExp][] = [
    ['empty pattern', '', /^empty pattern at position 0$/],
    ['only whitespace and comments', ' /* x */ ', /^empty pattern at position 9$/],
    ['unclosed observation', "[domain-name:value = 'example.com'", /^expected '\]' at position 34, found end of pattern$/],
    ['extra closing bracket', '[a:b = 1]]', /^expected AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern at position 9, found '\]'$/],
    ['unclosed group', '([a:b = 1]', /^expected '\)' at position 10, found end of pattern$/],
    ['extra closing parenthesis', '[a:b = 1])', /at position 9, found '\)'$/],
    ['unclosed comparison parenthesis', '[(a:b = 1]', /^expected '\)' at position 9, found '\]'$/],
    ['no brackets', 'file:size = 1280', /^expected '\[' or '\(' at position 0, found name 'file'$/],
    ['empty brackets', '[]', /^expected an object path, '\(' or EXISTS at position 1, found '\]'$/],
    ['no operator', '[a:b]', /^expected a comparison operator at position 4, found '\]'$/],
    ['no value', '[file:size = ]', /^expected a constant at position 13, found '\]'$/],
    ['dot instead of colon', '[file.size = 1280]', /^expected ':' at position 5, found '\.'$/],
    ['unquoted string value', '[file:name = foo]', /^expected a constant at position 13, found name 'foo'$/],
    ['unterminated string', "[a:b = 'x]", /^unterminated string at position 7$/],
    ['escape other than \\\' and \\\\', "[a:b = 'C:\\Windows']", /^invalid escape \\W in a string at position 10: only/],
    ['month 13', "[a:b = t'2016-13-01T00:00:00Z']", /^invalid timestamp literal t'2016-13-01T00:00:00Z' at position 7: month 13/],
    ['30 February', "[a:b = t'2023-02-29T00:00:00Z']", /day 29 does not exist in 2023-02/],
    ['hour 24', "[a:b = t'2016-01-01T24:00:00Z']", /hour 24 is out of range/],
    ['timestamp without Z', "[a:b = t'2016-01-01T00:00:00']", /expected YYYY-MM-DDTHH:MM:SS\[\.fraction\]Z/],
    ['timestamp with an offset', "[a:b = t'2016-01-01T00:00:00+01:00']", /invalid timestamp literal/],
    ['unterminated timestamp', "[a:b = t'2016-01-01T00:00:00Z]", /^unterminated timestamp literal at position 7$/],
    ['odd-length hex', "[a:b = h'abc']", /^invalid hex literal h'abc' at position 7: a hex literal needs an even number of digits$/],
    ['non-hex digit', "[a:b = h'zz']", /"z" is not a hex digit/],
    ['base64 of bad length', "[a:b = b'abc']", /base64 length must be a multiple of 4/],
    ['empty base64', "[a:b = b'']", /a base64 literal cannot be empty/],
    ['base64 padding in the middle', "[a:b = b'A=AA']", /'=' padding may appear only at the end/],
    ['base64 all padding', "[a:b = b'====']", /'=' padding may appear only at the end/],
    ['WITHIN 0', '[a:b = 1] WITHIN 0 SECONDS', /^WITHIN 0 at position 17: the number of seconds must be positive$/],
    ['WITHIN 0.0', '[a:b = 1] WITHIN 0.0 SECONDS', /the number of seconds must be positive/],
    ['WITHIN negative', '[a:b = 1] WITHIN -5 SECONDS', /^expected a positive number of seconds after WITHIN at position 17/],
    ['WITHIN in hours', '[a:b = 1] WITHIN 5 HOURS', /^expected SECONDS at position 19, found name 'HOURS'$/],
    ['REPEATS 0', '[a:b = 1] REPEATS 0 TIMES', /^REPEATS 0 at position 18: the count must be a positive integer$/],
    ['REPEATS fraction', '[a:b = 1] REPEATS 1.5 TIMES', /^expected a positive integer after REPEATS at position 18/],
    ['REPEATS negative', '[a:b = 1] REPEATS -1 TIMES', /^expected a positive integer after REPEATS/],
    ['two WITHIN', '[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS', /^duplicate WITHIN qualifier at position 27/],
    ['two REPEATS on a group', '([a:b = 1]) REPEATS 2 TIMES REPEATS 3 TIMES', /^duplicate REPEATS qualifier at position 28/],
    ['two START/STOP', `[a:b = 1] START ${TS} STOP ${TS2} START ${TS} STOP ${TS2}`, /^duplicate START\/STOP qualifier/],
    ['START without STOP', `[a:b = 1] START ${TS}`, /^expected STOP at position 39, found end of pattern$/],
    ['START with a plain string', "[a:b = 1] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'", /^expected a timestamp t'…' after START/],
    ['lower-case keyword', '[foo:bar = 1] within 2 seconds', /found name 'within' \(keywords are upper-case\)$/],
    ['lower-case comparison AND', '[a:b = 1 and a:c = 2]', /^expected '\]' at position 9, found name 'and' \(keywords are upper-case\)$/],
    ['dangling observation operator', '[a:b = 1] AND', /^expected '\[' or '\(' at position 13, found end of pattern$/],
    ['dangling comparison operator', '[a:b = 1 OR]', /^expected an object path, '\(' or EXISTS at position 11/],
    ['LIKE with a number', '[a:b LIKE 5]', /^expected a quoted string after LIKE at position 10, found integer '5'$/],
    ['MATCHES with a slash regex', '[file:name MATCHES /.*\\.dll/]', /^unexpected character '\/' at position 19$/],
    ['MATCHES with a number', '[file:name MATCHES 5]', /^expected a quoted string after MATCHES at position 19, found integer '5'$/],
    ['ordering a boolean', '[a:b < true]', /^boolean constant at position 7: operator < needs an orderable constant$/],
    ['IN without parentheses', "[a:b IN 'x']", /^expected '\(' at position 8, found a string$/],
    ['IN with a trailing comma', "[a:b IN ('x',)]", /^expected a constant at position 13, found '\)'$/],
    ['unquoted name with a hyphen', "[file:hashes.SHA-256 = 'x']", /^unquoted property name 'SHA-256' at position 13: a name containing '-' must be quoted/],
    ['bad list index', '[a:b[x] = 1]', /^expected a list index \(an integer or '\*'\) at position 5/],
    ['list index beyond 2^53', '[a:b[99999999999999999999] = 1]', /^list index 99999999999999999999 at position 5: too large$/],
    ['float list index', '[a:b[1.5] = 1]', /^expected a list index/],
    ['leading zeros', '[a:b = 007]', /^invalid integer '007' at position 7: leading zeros are not allowed$/],
    ['exponent', '[a:b = 1e5]', /^expected '\]' at position 8, found name 'e5'$/],
    ['unterminated comment', '[a:b = 1] /* never closed', /^unterminated comment at position 10$/],
    ['unknown character', "[file:hashes.MD5 =? 'x']", /^unexpected character '\?' at position 18$/],
    ['lone bang', '[a:b ! 1]', /^unexpected character '!' at position 5$/],
    ['control character echoed safely', '[a:b = 1]\u0001', /^unexpected character '\\u\{1\}' at position 9$/],
    ['NOT before a path', '[NOT a:b = 1]', /^expected EXISTS at position 5, found name 'a'$/],
    ['keyword as an object type', '[AND:b = 1]', /^expected an object path, '\(' or EXISTS at position 1, found keyword AND$/],
    ['reserved word LAST as a property', '[a:LAST = 1]', /^expected a property name at position 3, found keyword LAST$/],
    ['a YARA rule', 'rule x { strings: $a = "abc" condition: $a }', /^expected '\[' or '\(' at position 0, found name 'rule'$/],
  ];

  it.each(table)('%s', (_name, pattern, message) => {
    const { error, position } = failure(pattern);
    expect(error).toMatch(message);
    expect(error).toContain(`at position ${position}`);
  });

  it(`nesting deeper than ${MAX_PATTERN_NESTING_DEPTH} levels is refused with a clear error`, () => {
    const deepest = `${'('.repeat(MAX_PATTERN_NESTING_DEPTH - 2)}[(a:b = 1)]${')'.repeat(MAX_PATTERN_NESTING_DEPTH - 2)}`;
    expect(analysePattern(deepest).ok).toBe(true);
    const tooDeep = `${'('.repeat(MAX_PATTERN_NESTING_DEPTH)}[a:b = 1]${')'.repeat(MAX_PATTERN_NESTING_DEPTH)}`;
    expect(failure(tooDeep).error).toBe(
      `nesting too deep at position ${MAX_PATTERN_NESTING_DEPTH}: brackets and parentheses nest deeper than ${MAX_PATTERN_NESTING_DEPTH} levels`,
    );
  });

  it('a non-string is refused, not thrown on', () => {
    expect(analysePattern(42 as unknown as string)).toEqual({ ok: false, error: 'pattern is not a string', position: 0 });
  });
});

describe('the STIX 2.1 specification examples (§9.9) classify as the maturity design states', () => {
  const spec: [string, PatternClass][] = [
    ["[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']", 'atomic'],
    [
      String.raw`[email-message:from_ref.value MATCHES '.+\\@example\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\.exe$']`,
      'complex',
    ],
    [
      "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND file:mime_type = 'application/x-pdf']",
      'complex',
    ],
    [
      "[file:hashes.'SHA-256' = 'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c' OR file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] AND [file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
      'complex',
    ],
    [
      String.raw`([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar']) WITHIN 300 SECONDS`,
      'complex',
    ],
    [
      "[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1008' AND user-account:account_login = 'Paul']",
      'complex',
    ],
    [
      String.raw`[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\xd4\\xc3\\xb2\\xa1\\x02\\x00\\x04\\x00']`,
      'complex',
    ],
    [String.raw`[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\Windows\\System32']`, 'complex'],
    ["[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]", 'complex'],
    ["[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']", 'complex'],
    ["[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33/32']", 'complex'],
    [
      "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
      'complex',
    ],
    ["[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1/32']", 'complex'],
    ["[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']", 'disjunctive'],
    [
      "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
      'complex',
    ],
    [
      String.raw`[windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\CryptoLocker\\Files' OR windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\Microsoft\\CurrentVersion\\Run\\CryptoLocker_0388']`,
      'disjunctive',
    ],
    ["[(file:name = 'pdf.exe' OR file:size = '371712') AND file:created = t'2014-01-13T07:03:17Z']", 'complex'],
    ["[email-message:sender_ref.value = 'jdoe@example.com' AND email-message:subject = 'Conference Info']", 'complex'],
    ["[x-usb-device:usbdrive.serial_number = '575833314133343231313937']", 'atomic'],
    [
      "[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] FOLLOWEDBY [process:command_line MATCHES'^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS",
      'complex',
    ],
    ["[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']", 'complex'],
    [
      String.raw`([file:name = 'foo.dll'] AND [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar']) OR [process:name = 'fooproc' OR process:name = 'procfoo']`,
      'complex',
    ],
    ["[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a69faa']", 'atomic'],
    ["[ipv4-addr:value = '198.51.100.1/32']", 'atomic'],
    ["([ipv4-addr:value = '198.51.100.5'] FOLLOWEDBY [domain-name:value = 'example.com']) WITHIN 600 SECONDS", 'complex'],
  ];

  it.each(spec)('%s → %s', (pattern, expected) => {
    const { analysis } = parsed(pattern);
    expect(analysis.patternClass).toBe(expected);
    expect(analysis.unknownObjectTypes).toEqual([]);
  });

  it('STIX 2.0 examples naming win-registry-key report it as an unknown type', () => {
    const { analysis } = parsed(String.raw`[win-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar']`);
    expect(analysis.unknownObjectTypes).toEqual(['win-registry-key']);
  });
});

describe('maturity-design.md acceptance examples (indicator limits)', () => {
  it('indicator A (ipv4 =) and B (domain) and P (url) are atomic, so within L1', () => {
    for (const [pattern, type] of [
      ["[ipv4-addr:value = '198.51.100.7']", 'ipv4-addr'],
      ["[domain-name:value = 'bad.example.com']", 'domain-name'],
      ["[url:value = 'http://bad.example.com/x']", 'url'],
    ]) {
      const { analysis } = parsed(pattern ?? '');
      expect(analysis.patternClass).toBe('atomic');
      expect(analysis.observableTypes).toEqual([type]);
    }
  });

  it('a two-hash OR indicator is disjunctive (L2, not L1)', () => {
    const { analysis } = parsed(
      "[file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4' OR file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    );
    expect(analysis.patternClass).toBe('disjunctive');
    expect(analysis.observablePaths).toEqual(['file:hashes']);
  });

  it('a network-traffic AND pattern and a FOLLOWEDBY pattern are complex (L3 and up)', () => {
    expect(parsed("[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]").analysis.patternClass).toBe('complex');
    expect(parsed("[ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY [domain-name:value = 'example.com']").analysis.patternClass).toBe('complex');
  });
});

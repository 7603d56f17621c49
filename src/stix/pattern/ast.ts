// The syntax tree of a STIX 2.1 pattern (STIX 2.1 §9).
//
// Shape choices:
// * Chains of one operator are n-ary: `A OR B OR C` is one node with three operands, so a
//   long flat chain never makes the tree deep. The grammar is left-associative and AND, OR
//   and FOLLOWEDBY are all associative, so nothing is lost.
// * Parentheses around comparison expressions leave no node (they only group). Parentheses
//   around observation expressions do (`observation-group`), because qualifiers can follow
//   the closing parenthesis and apply to the whole group (§9.5.1).
// * `==` is stored as `=` and `<>` as `!=` (the grammar accepts both spellings).
// * Every node has `span`: 0-based UTF-16 offsets into the pattern text, end exclusive.

export interface Span {
  start: number;
  end: number;
}

export type Constant =
  | StringConstant
  // `raw` is the literal as written (exact); `value` may round beyond 2^53.
  | { kind: 'integer'; value: number; raw: string }
  | { kind: 'float'; value: number; raw: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'timestamp'; value: string }
  | { kind: 'hex'; value: string }
  | { kind: 'binary'; value: string };

/** A string constant; `value` is unescaped. */
export interface StringConstant {
  kind: 'string';
  value: string;
}

/** `.name` / `.'quoted name'` or `[3]` / `[-1]` / `[*]`. */
export type PathComponent = { kind: 'property'; name: string } | { kind: 'index'; index: number | '*' };

/** `<object type>:<property>…`; `components[0]` is always a property. */
export interface ObjectPath {
  objectType: string;
  components: PathComponent[];
  span: Span;
}

interface ComparisonBase {
  kind: 'comparison';
  path: ObjectPath;
  /** Prefixed by NOT (§9.6.1). */
  negated: boolean;
  span: Span;
}

export type ValueOperator = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type StringOperator = 'LIKE' | 'MATCHES' | 'ISSUBSET' | 'ISSUPERSET';
export type ComparisonOperator = ValueOperator | StringOperator | 'IN' | 'EXISTS';

export interface ValueComparison extends ComparisonBase {
  operator: ValueOperator;
  value: Constant;
}

export interface SetComparison extends ComparisonBase {
  operator: 'IN';
  values: Constant[];
}

export interface StringComparison extends ComparisonBase {
  operator: StringOperator;
  value: StringConstant;
}

export interface ExistsComparison extends ComparisonBase {
  operator: 'EXISTS';
}

export type Comparison = ValueComparison | SetComparison | StringComparison | ExistsComparison;

export interface ComparisonOperatorNode {
  kind: 'comparison-operator';
  operator: 'AND' | 'OR';
  /** At least two operands. */
  operands: ComparisonExpression[];
  span: Span;
}

export type ComparisonExpression = Comparison | ComparisonOperatorNode;

export type Qualifier =
  | { kind: 'within'; seconds: number; raw: string; span: Span }
  | { kind: 'repeats'; times: number; span: Span }
  | { kind: 'start-stop'; startTime: string; stopTime: string; span: Span };

/** `[ … ]` followed by its qualifiers. */
export interface ObservationNode {
  kind: 'observation';
  comparison: ComparisonExpression;
  qualifiers: Qualifier[];
  span: Span;
}

/** `( … )` followed by its qualifiers. */
export interface ObservationGroupNode {
  kind: 'observation-group';
  expression: ObservationExpression;
  qualifiers: Qualifier[];
  span: Span;
}

export interface ObservationOperatorNode {
  kind: 'observation-operator';
  operator: 'AND' | 'OR' | 'FOLLOWEDBY';
  /** At least two operands. */
  operands: ObservationExpression[];
  span: Span;
}

export type ObservationExpression = ObservationNode | ObservationGroupNode | ObservationOperatorNode;

/** A whole pattern is one observation expression. */
export type PatternAst = ObservationExpression;

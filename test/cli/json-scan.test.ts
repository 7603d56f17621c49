import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonError, JsonPositionError, positionIn, StixDocumentScanner, type ScannedItem } from '../../src/cli/json-scan.js';

/**
 * The streaming reader of `taxii-hub import` (src/cli/json-scan.ts): whatever
 * the chunk boundaries, it gives the items JSON.parse would, at the right
 * lines; and its error locator agrees with JSON.parse on what is valid.
 */
function scan(text: string, chunkSizes: number[]): { items: ScannedItem[]; shape: string } {
  const items: ScannedItem[] = [];
  const scanner = new StixDocumentScanner((item) => items.push(item));
  let offset = 0;
  for (let i = 0; offset < text.length; i++) {
    const size = chunkSizes.length > 0 ? chunkSizes[i % chunkSizes.length]! : text.length;
    scanner.feed(text.slice(offset, offset + size));
    offset += size;
  }
  return { items, shape: scanner.end().shape };
}

function failure(text: string, chunkSizes: number[] = []): JsonPositionError {
  try {
    scan(text, chunkSizes);
  } catch (error) {
    if (error instanceof JsonPositionError) return error;
    throw error;
  }
  throw new Error(`no error for ${text}`);
}

const roundTrip = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe('StixDocumentScanner', () => {
  it('gives the items of a bundle whatever the chunk sizes and indentation', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue(), { maxLength: 8 }),
        fc.constantFrom(undefined, 1, 2, '\t'),
        fc.array(fc.integer({ min: 1, max: 17 }), { maxLength: 5 }),
        (objects, indent, chunks) => {
          const text = JSON.stringify({ type: 'bundle', id: 'bundle--x', objects, spec_version: '2.1' }, null, indent);
          const { items, shape } = scan(text, chunks);
          expect(shape).toBe('bundle');
          expect(items.map((i) => i.value)).toEqual(objects.map(roundTrip));
          expect(items.map((i) => i.index)).toEqual(objects.map((_, i) => i));
          // Each item starts where its first character is.
          const lines = text.split('\n');
          for (const item of items) expect(lines[item.line - 1]!.slice(item.column - 1)).toMatch(/^[[{"\-\dtfn]/);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads strings with escapes, quotes and brackets cut at any place', () => {
    const objects = [{ a: 'quote " backslash \\ brace } bracket ] \u00e9\u{1F600}', b: ['\\"', '\\\\'], c: { d: 'x\ny' } }, 'just a string', -1.5e3, null, true];
    const text = JSON.stringify({ objects });
    for (let size = 1; size <= 9; size++) expect(scan(text, [size]).items.map((i) => i.value)).toEqual(objects);
  });

  it('accepts a top-level array, an envelope, an empty bundle and one bare object', () => {
    expect(scan('[{"a":1},{"b":2}]', [3])).toMatchObject({ shape: 'array', items: [{ value: { a: 1 } }, { value: { b: 2 } }] });
    expect(scan('{"more": false, "objects": [{"a":1}]}', [])).toMatchObject({ shape: 'bundle', items: [{ value: { a: 1 } }] });
    expect(scan('{"type": "bundle", "id": "bundle--x"}', [])).toEqual({ shape: 'bundle', items: [] });
    expect(scan('\uFEFF{"type": "indicator", "id": "indicator--x", "objects": {"0": 1}}', [5])).toEqual({
      shape: 'object',
      items: [{ value: { type: 'indicator', id: 'indicator--x', objects: { 0: 1 } }, index: -1, line: 1, column: 1 }],
    });
  });

  it('reports syntax and shape errors at their line and column, whatever the chunks', () => {
    const cases: [string, string][] = [
      ['{"objects": [\n  {"a": 1}\n  {"b": 2}]}', "line 3, column 3: invalid JSON: expected ',' or ']' after an item of the list but found '{'"],
      ['{"objects": [\n  {"a": 1,\n   "b" 2}]}', "line 3, column 8: invalid JSON: expected ':' after a property name but found '2'"],
      ['{"objects": [{"a": tru}]}', "line 1, column 20: invalid JSON: unexpected 't' where a value was expected"],
      ['{"objects": [{"a": "x\ty"}]}', 'line 1, column 22: invalid JSON: control character U+0009 inside a string (line breaks and tabs must be escaped)'],
      ['{"objects": [{"a": 1}', 'line 1, column 22: invalid JSON: the file ends before the document does'],
      ['{"objects": [{"a": [1, 2', 'line 1, column 25: invalid JSON: the file ends inside the value that starts at line 1, column 14'],
      ['{"objects": [1]} x', "line 1, column 18: invalid JSON: unexpected 'x' after the end of the document"],
      ['{"type": "report", "objects": [1]}', 'line 1, column 31: not a STIX bundle: "type" is "report"'],
      ['"text"', `line 1, column 1: expected a STIX bundle ('{') or a JSON array ('[') but found '"'`],
      ['  \n', 'line 1, column 1: the file is empty'],
      ['{"hello": "world"}', 'line 1, column 1: neither a STIX bundle (no "objects" list) nor a STIX object (no "type")'],
    ];
    for (const [text, message] of cases) {
      for (const chunks of [[], [1], [4]]) expect(failure(text, chunks).message, `${text} in chunks of ${chunks}`).toBe(message);
    }
  });
});

describe('findJsonError', () => {
  it('finds an error exactly when JSON.parse refuses the text', () => {
    const mutated = fc
      .tuple(fc.jsonValue(), fc.nat(), fc.constantFrom('', ',', '}', ']', '"', ':', 'x', '\\', '\n', ' '), fc.boolean())
      .map(([value, at, insert, remove]) => {
        const text = JSON.stringify(value, null, 1) ?? 'null';
        const i = text.length === 0 ? 0 : at % text.length;
        return text.slice(0, i) + insert + text.slice(remove ? i + 1 : i);
      });
    fc.assert(
      fc.property(mutated, (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        const found = findJsonError(text);
        expect(found === undefined, `${JSON.stringify(text)}: ${found?.message}`).toBe(valid);
        if (found) expect(found.offset).toBeLessThanOrEqual(text.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('counts lines and columns from where a text starts', () => {
    expect(positionIn('abc', 2, 5, 10)).toEqual({ line: 5, column: 12 });
    expect(positionIn('a\nbc\ndef', 7, 5, 10)).toEqual({ line: 7, column: 3 });
  });
});

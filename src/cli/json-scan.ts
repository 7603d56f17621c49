/**
 * Reading STIX documents of any size without holding them whole: a scanner
 * fed with text chunks that finds the items of a bundle's "objects" list (or
 * of a top-level JSON array) and parses each one on its own, so memory holds
 * one item at a time. Positions are kept (line and column, 1-based) so that
 * broken JSON is reported where it is, whatever JSON.parse says.
 */

/** A JSON syntax or document-shape problem at a place in a file. */
export class JsonPositionError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
  }
}

export interface ScannedItem {
  value: unknown;
  /** Index in the "objects" list (or the top-level array); -1 for a document that is one bare STIX object. */
  index: number;
  /** Where the item starts. */
  line: number;
  column: number;
}

// --- locating an error in a JSON text ---------------------------------------------

const enum Expect {
  Value,
  ValueOrEndArray,
  KeyOrEndObject,
  Key,
  Colon,
  AfterValue,
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX4 = /^[0-9a-fA-F]{4}$/;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function charName(text: string, i: number): string {
  const c = text.codePointAt(i)!;
  if (c < 32) return `control character U+${c.toString(16).padStart(4, '0').toUpperCase()}`;
  return `'${String.fromCodePoint(c)}'`;
}

/** Scans a string literal starting at the quote; returns the index after it, or the error. */
function scanString(text: string, start: number): number | { offset: number; message: string } {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) return i + 1;
    if (c === 92) {
      const next = text[i + 1];
      if (next === undefined) break;
      if (next === 'u') {
        if (!HEX4.test(text.slice(i + 2, i + 6))) return { offset: i, message: 'invalid \\u escape in a string' };
        i += 5;
      } else if (!ESCAPES.has(next)) {
        return { offset: i, message: `invalid escape '\\${next}' in a string` };
      } else {
        i++;
      }
    } else if (c < 32) {
      return { offset: i, message: `${charName(text, i)} inside a string (line breaks and tabs must be escaped)` };
    }
  }
  return { offset: text.length, message: 'unterminated string' };
}

/**
 * Finds the first syntax error of a JSON text (undefined when it is valid):
 * its offset and a message that does not depend on the JavaScript engine.
 * Used only after JSON.parse has refused a text, to say where.
 */
export function findJsonError(text: string): { offset: number; message: string } | undefined {
  const stack: number[] = [];
  let expect = Expect.Value;
  let i = 0;
  for (;;) {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (i >= text.length) {
      if (expect === Expect.AfterValue && stack.length === 0) return undefined;
      return { offset: i, message: 'unexpected end of the data' };
    }
    const c = text.charCodeAt(i);
    switch (expect) {
      case Expect.AfterValue: {
        const top = stack.at(-1);
        if (top === undefined) return { offset: i, message: `unexpected ${charName(text, i)} after the end of the JSON value` };
        if (c === 44) {
          expect = top === 123 ? Expect.Key : Expect.Value;
          i++;
        } else if ((c === 125 && top === 123) || (c === 93 && top === 91)) {
          stack.pop();
          i++;
        } else {
          return { offset: i, message: `expected ',' or '${top === 123 ? '}' : ']'}' but found ${charName(text, i)}` };
        }
        continue;
      }
      case Expect.KeyOrEndObject:
      case Expect.Key:
        if (c === 125 && expect === Expect.KeyOrEndObject) {
          stack.pop();
          expect = Expect.AfterValue;
          i++;
          continue;
        }
        if (c !== 34) return { offset: i, message: `expected a double-quoted property name but found ${charName(text, i)}` };
        {
          const end = scanString(text, i);
          if (typeof end !== 'number') return end;
          i = end;
        }
        expect = Expect.Colon;
        continue;
      case Expect.Colon:
        if (c !== 58) return { offset: i, message: `expected ':' after a property name but found ${charName(text, i)}` };
        expect = Expect.Value;
        i++;
        continue;
      case Expect.ValueOrEndArray:
        if (c === 93) {
          stack.pop();
          expect = Expect.AfterValue;
          i++;
          continue;
        }
        break;
      case Expect.Value:
        break;
    }
    // A value.
    if (c === 123) {
      stack.push(123);
      expect = Expect.KeyOrEndObject;
      i++;
    } else if (c === 91) {
      stack.push(91);
      expect = Expect.ValueOrEndArray;
      i++;
    } else if (c === 34) {
      const end = scanString(text, i);
      if (typeof end !== 'number') return end;
      i = end;
      expect = Expect.AfterValue;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (!match) return { offset: i, message: 'invalid number' };
      i += match[0].length;
      expect = Expect.AfterValue;
    } else {
      const literal = ['true', 'false', 'null'].find((word) => text.startsWith(word, i));
      if (!literal) return { offset: i, message: `unexpected ${charName(text, i)} where a value was expected` };
      i += literal.length;
      expect = Expect.AfterValue;
    }
  }
}

/** Line and column of an offset inside a text that starts at (line, column). */
export function positionIn(text: string, offset: number, line = 1, column = 1): { line: number; column: number } {
  let l = line;
  let lineStart = -1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    l++;
    lineStart = i;
  }
  return { line: l, column: lineStart === -1 ? column + offset : offset - lineStart };
}

/** JSON.parse with the position of a syntax error (relative to where the text starts in its file). */
export function parseJsonAt(text: string, line = 1, column = 1): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const found = findJsonError(text) ?? { offset: 0, message: (error as Error).message };
    const at = positionIn(text, found.offset, line, column);
    throw new JsonPositionError(`invalid JSON: ${found.message}`, at.line, at.column);
  }
}

// --- the streaming scanner ------------------------------------------------------

const enum State {
  Start,
  FirstKey,
  NextKey,
  Colon,
  MemberValue,
  AfterMember,
  FirstItem,
  NextItem,
  AfterItem,
  End,
}

type Role = 'key' | 'member' | 'item';

interface Capture {
  role: Role;
  /** 'scalar' ends before a delimiter; 'nested' (object, array or string) at its closing character. */
  kind: 'nested' | 'scalar';
  parts: string[];
  line: number;
  column: number;
  depth: number;
  inString: boolean;
  escape: boolean;
}

export interface ScannedDocument {
  /** What was found: a bundle or envelope ("objects" list), a top-level array, or a single bare object. */
  shape: 'bundle' | 'array' | 'object';
  items: number;
}

/**
 * Feed it text in chunks of any size; each item of the document's "objects"
 * list is parsed and handed to the sink as soon as it is complete. end() checks
 * that the document was complete and says what it was. Accepted documents: a
 * STIX bundle or TAXII envelope ({"objects": [...]}), a JSON array of objects,
 * or one bare STIX object. Syntax errors throw a JsonPositionError.
 */
export class StixDocumentScanner {
  private state = State.Start;
  private line = 1;
  /** Global offset of the first character of the current line. */
  private lineStart = 0;
  /** Global offset of the current chunk's first character. */
  private base = 0;
  private capture: Capture | undefined;
  private key = '';
  private readonly members = new Map<string, unknown>();
  private topArray = false;
  private sawObjects = false;
  private items = 0;

  constructor(private readonly sink: (item: ScannedItem) => void) {}

  private column(offset: number): number {
    return this.base + offset - this.lineStart + 1;
  }

  private fail(reason: string, offset: number): never {
    throw new JsonPositionError(reason, this.line, this.column(offset));
  }

  feed(chunk: string): void {
    let i = 0;
    if (this.base === 0 && chunk.charCodeAt(0) === 0xfeff) i = 1; // byte order mark
    const n = chunk.length;
    while (i < n) {
      if (this.capture) {
        i = this.continueCapture(chunk, i);
        continue;
      }
      const c = chunk.charCodeAt(i);
      if (c === 10) {
        this.line++;
        this.lineStart = this.base + i + 1;
        i++;
        continue;
      }
      if (c === 32 || c === 13 || c === 9) {
        i++;
        continue;
      }
      i = this.structural(chunk, i, c);
    }
    this.base += n;
  }

  /** Handles one character outside any captured value; returns the next index. */
  private structural(chunk: string, i: number, c: number): number {
    switch (this.state) {
      case State.Start:
        if (c === 123) {
          this.state = State.FirstKey;
          return i + 1;
        }
        if (c === 91) {
          this.topArray = true;
          this.state = State.FirstItem;
          return i + 1;
        }
        return this.fail(`expected a STIX bundle ('{') or a JSON array ('[') but found ${charName(chunk, i)}`, i);
      case State.FirstKey:
      case State.NextKey:
        if (c === 125 && this.state === State.FirstKey) {
          this.state = State.End;
          return i + 1;
        }
        if (c !== 34) return this.fail(`invalid JSON: expected a double-quoted property name but found ${charName(chunk, i)}`, i);
        return this.startCapture(chunk, i, 'key');
      case State.Colon:
        if (c !== 58) return this.fail(`invalid JSON: expected ':' after a property name but found ${charName(chunk, i)}`, i);
        this.state = State.MemberValue;
        return i + 1;
      case State.MemberValue:
        if (this.key === 'objects' && c === 91) {
          const type = this.members.get('type');
          if (type !== undefined && type !== 'bundle') this.fail(`not a STIX bundle: "type" is ${JSON.stringify(type)}`, i);
          this.sawObjects = true;
          this.state = State.FirstItem;
          return i + 1;
        }
        return this.startCapture(chunk, i, 'member');
      case State.AfterMember:
        if (c === 44) {
          this.state = State.NextKey;
          return i + 1;
        }
        if (c === 125) {
          this.state = State.End;
          return i + 1;
        }
        return this.fail(`invalid JSON: expected ',' or '}' after a property value but found ${charName(chunk, i)}`, i);
      case State.FirstItem:
      case State.NextItem:
        if (c === 93 && this.state === State.FirstItem) return this.closeList(i);
        return this.startCapture(chunk, i, 'item');
      case State.AfterItem:
        if (c === 44) {
          this.state = State.NextItem;
          return i + 1;
        }
        if (c === 93) return this.closeList(i);
        return this.fail(`invalid JSON: expected ',' or ']' after an item of the list but found ${charName(chunk, i)}`, i);
      case State.End:
        return this.fail(`invalid JSON: unexpected ${charName(chunk, i)} after the end of the document`, i);
    }
  }

  private closeList(i: number): number {
    this.state = this.topArray ? State.End : State.AfterMember;
    return i + 1;
  }

  private startCapture(chunk: string, i: number, role: Role): number {
    const c = chunk.charCodeAt(i);
    if (c === 44 || c === 58 || c === 93 || c === 125) this.fail(`invalid JSON: expected a value but found ${charName(chunk, i)}`, i);
    const nested = c === 123 || c === 91 || c === 34;
    this.capture = {
      role,
      kind: nested ? 'nested' : 'scalar',
      parts: [],
      line: this.line,
      column: this.column(i),
      depth: c === 34 ? 0 : nested ? 1 : 0,
      inString: c === 34,
      escape: false,
    };
    // The opening character is part of the value; scanning resumes after it.
    return this.continueCapture(chunk, i, i + 1);
  }

  /** Scans a captured value from `from`; returns the index after it ends, or the chunk length. */
  private continueCapture(chunk: string, start: number, from = start): number {
    const cap = this.capture!;
    const n = chunk.length;
    let i = from;
    if (cap.kind === 'scalar') {
      for (; i < n; i++) {
        const c = chunk.charCodeAt(i);
        if (c === 44 || c === 93 || c === 125 || isSpace(c)) {
          cap.parts.push(chunk.slice(start, i));
          this.finishCapture();
          return i;
        }
      }
      cap.parts.push(chunk.slice(start));
      return n;
    }
    for (; i < n; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 10) {
        this.line++;
        this.lineStart = this.base + i + 1;
        cap.escape = false;
        continue;
      }
      if (cap.inString) {
        if (cap.escape) cap.escape = false;
        else if (c === 92) cap.escape = true;
        else if (c === 34) {
          cap.inString = false;
          if (cap.depth === 0) {
            cap.parts.push(chunk.slice(start, i + 1));
            this.finishCapture();
            return i + 1;
          }
        }
        continue;
      }
      if (c === 34) cap.inString = true;
      else if (c === 123 || c === 91) cap.depth++;
      else if ((c === 125 || c === 93) && --cap.depth === 0) {
        cap.parts.push(chunk.slice(start, i + 1));
        this.finishCapture();
        return i + 1;
      }
    }
    cap.parts.push(chunk.slice(start));
    return n;
  }

  private finishCapture(): void {
    const cap = this.capture!;
    this.capture = undefined;
    const text = cap.parts.length === 1 ? cap.parts[0]! : cap.parts.join('');
    const value = parseJsonAt(text, cap.line, cap.column);
    switch (cap.role) {
      case 'key':
        this.key = value as string;
        this.state = State.Colon;
        return;
      case 'member':
        if (this.key === 'type' && this.sawObjects && value !== 'bundle') {
          throw new JsonPositionError(`not a STIX bundle: "type" is ${JSON.stringify(value)}`, cap.line, cap.column);
        }
        this.members.set(this.key, value);
        this.state = State.AfterMember;
        return;
      case 'item':
        this.sink({ value, index: this.items++, line: cap.line, column: cap.column });
        this.state = State.AfterItem;
        return;
    }
  }

  /** Call once the whole text was fed. */
  end(): ScannedDocument {
    if (this.capture?.kind === 'scalar') this.finishCapture();
    const atEnd = () => ({ line: this.line, column: this.base - this.lineStart + 1 });
    if (this.capture) {
      const { line, column } = this.capture;
      throw new JsonPositionError(`invalid JSON: the file ends inside the value that starts at line ${line}, column ${column}`, atEnd().line, atEnd().column);
    }
    if (this.state === State.Start) throw new JsonPositionError('the file is empty', 1, 1);
    if (this.state !== State.End) throw new JsonPositionError('invalid JSON: the file ends before the document does', atEnd().line, atEnd().column);
    if (this.topArray) return { shape: 'array', items: this.items };
    if (this.sawObjects) return { shape: 'bundle', items: this.items };
    const type = this.members.get('type');
    if (type === 'bundle') return { shape: 'bundle', items: 0 };
    if (typeof type === 'string') {
      // One bare STIX object (as python-stix2's FileSystemStore keeps them).
      this.sink({ value: Object.fromEntries(this.members), index: -1, line: 1, column: 1 });
      return { shape: 'object', items: 1 };
    }
    throw new JsonPositionError('neither a STIX bundle (no "objects" list) nor a STIX object (no "type")', 1, 1);
  }
}

/**
 * A pattern the grammar (or a literal's format) rejects. The message reads
 * "<what> at position <n>[<detail>]", e.g. "expected ']' at position 34, found end of
 * pattern"; `position` is a 0-based UTF-16 offset into the pattern.
 */
export class PatternSyntaxError extends Error {
  readonly position: number;

  constructor(what: string, position: number, detail = '') {
    super(`${what} at position ${position}${detail}`);
    this.name = 'PatternSyntaxError';
    this.position = position;
  }
}

const MAX_ECHO = 40;

/** Quote untrusted text for an error message, shortened and with control characters escaped. */
export function echo(text: string): string {
  return `'${echoRaw(text)}'`;
}

/** As echo, without the surrounding quotes (for text that carries its own). */
export function echoRaw(text: string): string {
  const short = text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}…` : text;
  let out = '';
  for (const ch of short) {
    const code = ch.codePointAt(0) ?? 0;
    out += code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0) ? `\\u{${code.toString(16)}}` : ch;
  }
  return out;
}

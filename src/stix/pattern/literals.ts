// Format checks for the typed literals t'…', h'…' and b'…' (STIX 2.1 §9.2). Each returns
// null when the text is valid, otherwise the reason. None uses a backtracking regex on
// unbounded input.

// §3.2 timestamps as the grammar's TimestampLiteral spells them: UTC, 'Z', optional
// fraction of any length. The pattern has no nested quantifiers, so it runs in linear time.
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Stricter than the ANTLR grammar on one point: the day must exist in its month
 * (the grammar accepts 02-30). Second 60 is a leap second and is allowed, as in the grammar.
 */
export function timestampProblem(text: string): string | null {
  const m = TIMESTAMP.exec(text);
  if (!m) return 'expected YYYY-MM-DDTHH:MM:SS[.fraction]Z';
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number, number, number, number, number, number,
  ];
  if (month < 1 || month > 12) return `month ${m[2]} is out of range`;
  if (day < 1 || day > daysInMonth(year, month)) return `day ${m[3]} does not exist in ${m[1]}-${m[2]}`;
  if (hour > 23) return `hour ${m[4]} is out of range`;
  if (minute > 59) return `minute ${m[5]} is out of range`;
  if (second > 60) return `second ${m[6]} is out of range`;
  return null;
}

function isHexDigit(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

/** The grammar allows the empty hex literal h''. */
export function hexProblem(text: string): string | null {
  if (text.length % 2 !== 0) return 'a hex literal needs an even number of digits';
  for (let i = 0; i < text.length; i++) {
    if (!isHexDigit(text.charCodeAt(i))) return `${JSON.stringify(text[i])} is not a hex digit`;
  }
  return null;
}

function isBase64Char(code: number): boolean {
  return (
    (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 43 || code === 47
  );
}

/**
 * Padded base64 as the grammar's BinaryLiteral has it: whole groups of four, '=' padding
 * only at the end, at least one group (so b'' is rejected, as by the grammar).
 */
export function base64Problem(text: string): string | null {
  if (text.length === 0) return 'a base64 literal cannot be empty';
  if (text.length % 4 !== 0) return 'base64 length must be a multiple of 4';
  let padding = 0;
  if (text.endsWith('==')) padding = 2;
  else if (text.endsWith('=')) padding = 1;
  const dataEnd = text.length - padding;
  for (let i = 0; i < dataEnd; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3d) return "'=' padding may appear only at the end";
    if (!isBase64Char(c)) return `${JSON.stringify(text[i])} is not a base64 character`;
  }
  return null;
}

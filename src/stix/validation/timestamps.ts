// Ordering of STIX timestamps (STIX 2.1 §2.16) without building Date objects: the
// fractional part may have any number of digits (more than JavaScript's milliseconds),
// so compare the fixed-width "YYYY-MM-DDTHH:MM:SS" head as text, then the fraction digit
// by digit, treating missing digits as zeros.

const DOT = 46; // '.'
const ZERO = 48; // '0'

/**
 * Compares two strings that already match the STIX timestamp pattern.
 * Returns a negative number, 0 or a positive number, like a sort comparator.
 */
export function compareTimestamps(a: string, b: string): number {
  for (let i = 0; i < 19; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  // fraction digits: [startX, endX) where endX is the index of the final 'Z'
  const startA = a.charCodeAt(19) === DOT ? 20 : 19;
  const startB = b.charCodeAt(19) === DOT ? 20 : 19;
  const lenA = a.length - 1 - startA;
  const lenB = b.length - 1 - startB;
  const n = lenA > lenB ? lenA : lenB;
  for (let k = 0; k < n; k++) {
    const da = k < lenA ? a.charCodeAt(startA + k) : ZERO;
    const db = k < lenB ? b.charCodeAt(startB + k) : ZERO;
    if (da !== db) return da - db;
  }
  return 0;
}

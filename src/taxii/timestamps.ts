/**
 * TAXII timestamps (TAXII §2): RFC 3339, UTC, exactly six fractional digits on
 * output. Internally a TAXII time is an integer number of microseconds since
 * the epoch, which JavaScript numbers hold exactly.
 */

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2}| \d{2}:\d{2})$/;

/** Formats microseconds since the epoch as YYYY-MM-DDTHH:MM:SS.ssssssZ. */
export function formatTaxiiTimestamp(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const micros = String(us - ms * 1000).padStart(3, '0');
  return `${iso.slice(0, 23)}${micros}Z`;
}

/**
 * Parses a client-supplied timestamp (added_after) into microseconds. Accepts 0
 * to 9 fractional digits and a Z or numeric offset (interop rule 6); a "+"
 * offset that a URL decoded into a space is read as "+". Sub-microsecond digits
 * are dropped, which keeps "date_added > value" exact for microsecond values.
 */
export function parseTaxiiTimestamp(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  if (frac.length > 9) return undefined;
  const year = Number(y), month = Number(mo), day = Number(d);
  const hour = Number(h), minute = Number(mi), second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const oh = Number(zone.slice(1, 3)), om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // Date.UTC would read years 0–99 as 1900–1999
  date.setUTCHours(hour, minute, second, 0);
  const ms = date.getTime() - offsetMinutes * 60_000;
  if (!Number.isFinite(ms)) return undefined;
  const micros = Number(frac.padEnd(6, '0').slice(0, 6));
  // Numbers hold microseconds exactly up to 2^53 µs (year 2255); later instants all
  // read as the end of time, which compares correctly with any stored date_added.
  return Math.min(ms * 1000 + micros, Number.MAX_SAFE_INTEGER);
}

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

const STIX_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$/;

/**
 * The sortable key of a STIX version timestamp: the same instant written with
 * nine fractional digits, so that text order is time order and "…:01Z",
 * "…:01.000Z" and "…:01.000000Z" are one version (TAXII digest §9). Digits
 * beyond nanoseconds are dropped. Returns undefined for anything that is not a
 * STIX timestamp.
 */
export function stixVersionKey(timestamp: string): string | undefined {
  const m = STIX_TIMESTAMP.exec(timestamp);
  // The calendar must be real (no 13th month, no 30 February); a leap second (:60) is allowed.
  const second = m?.[6] === '60' ? '59' : m?.[6];
  if (!m || parseTaxiiTimestamp(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${second}Z`) === undefined) return undefined;
  const frac = (m[7] ?? '').padEnd(9, '0').slice(0, 9);
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${frac}Z`;
}

/** The version key of a server-assigned version (SCOs): a TAXII time. */
export function versionKeyFromMicros(us: number): string {
  return stixVersionKey(formatTaxiiTimestamp(us))!;
}

/** Microseconds since the epoch of a STIX timestamp (for indexing, e.g. valid_until). */
export function stixTimestampToMicros(timestamp: string): number | undefined {
  return STIX_TIMESTAMP.test(timestamp) ? parseTaxiiTimestamp(timestamp) : undefined;
}

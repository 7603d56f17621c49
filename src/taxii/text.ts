/**
 * Text that PostgreSQL cannot store. A `text` value cannot hold U+0000 (the
 * driver fails with "invalid byte sequence"), and `json`/`jsonb` refuse both
 * the escape \u0000 and unpaired UTF-16 surrogates (\ud800 alone), which
 * JSON.stringify writes for them. Client input holding either must be refused
 * (or, in messages the server writes itself, replaced) before it reaches a
 * query, or the request ends as a 500.
 */
const NUL = '\u0000';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Whether a string may be stored as text and inside JSON columns. */
export function isStorableText(text: string): boolean {
  return !text.includes(NUL) && !LONE_SURROGATE.test(text);
}

/** The same text with U+0000 and unpaired surrogates replaced by U+FFFD (for messages the server stores). */
export function storableText(text: string): string {
  return isStorableText(text) ? text : text.replaceAll(NUL, '\uFFFD').replace(LONE_SURROGATES, '\uFFFD');
}

export interface JsonScan {
  /** Deepest nesting of objects and arrays (a scalar is 0). */
  depth: number;
  /** Where the first string or key that cannot be stored is (`body.name`, `body.items[2]`), if any. */
  unstorableAt?: string;
}

/**
 * Walks a parsed JSON value without recursion (a hostile document may be
 * nested far deeper than the call stack), stopping once it is deeper than
 * maxDepth.
 */
export function scanJson(value: unknown, root: string, maxDepth: number): JsonScan {
  let depth = 0;
  let unstorableAt: string | undefined;
  const stack: { value: unknown; path: string; level: number }[] = [{ value, path: root, level: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item.value === 'string') {
      if (unstorableAt === undefined && !isStorableText(item.value)) unstorableAt = item.path;
      continue;
    }
    if (item.value === null || typeof item.value !== 'object') continue;
    const level = item.level + 1;
    if (level > depth) depth = level;
    if (depth > maxDepth) return { depth, ...(unstorableAt !== undefined ? { unstorableAt } : {}) };
    if (Array.isArray(item.value)) {
      item.value.forEach((v, i) => stack.push({ value: v, path: `${item.path}[${i}]`, level }));
    } else {
      for (const [key, v] of Object.entries(item.value as Record<string, unknown>)) {
        const path = `${item.path}.${isStorableText(key) ? key.slice(0, 64) : '?'}`;
        if (unstorableAt === undefined && !isStorableText(key)) unstorableAt = path;
        stack.push({ value: v, path, level });
      }
    }
  }
  return { depth, ...(unstorableAt !== undefined ? { unstorableAt } : {}) };
}

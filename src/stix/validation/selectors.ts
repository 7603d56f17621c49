// Granular-marking selectors (STIX 2.1 §7.2.3.1): dot-separated components, each a
// property name / dictionary key or a zero-based list index written "[n]". A selector
// MUST refer to content that is present in the object.

const INDEX_RE = /^\[(0|[1-9][0-9]*)\]$/;

export type SelectorProblem = 'syntax' | 'absent';

/** Returns undefined when `selector` selects content present in `root`, else why not. */
export function checkSelector(root: Record<string, unknown>, selector: string): SelectorProblem | undefined {
  if (selector === '') return 'syntax';
  let current: unknown = root;
  for (const component of selector.split('.')) {
    if (component === '') return 'syntax';
    const index = INDEX_RE.exec(component);
    if (index) {
      if (!Array.isArray(current)) return 'absent';
      const i = Number(index[1]);
      if (i >= current.length) return 'absent';
      current = current[i];
    } else {
      if (component.startsWith('[')) return 'syntax';
      if (typeof current !== 'object' || current === null || Array.isArray(current)) return 'absent';
      if (!Object.prototype.hasOwnProperty.call(current, component)) return 'absent';
      current = (current as Record<string, unknown>)[component];
    }
  }
  return undefined;
}

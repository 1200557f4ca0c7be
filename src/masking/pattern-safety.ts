/**
 * Checks an operator's custom pattern before it runs on every value of every response. These are
 * heuristics on the pattern text, not proofs: they refuse the common shapes of runaway patterns.
 */

/** Strings on which a pattern must not find a zero-length match. */
const PROBES = ['', ' ', 'a', 'Z', '0', '_', 'a b', 'x-1.y@z', '\n'];

/** True when the pattern can match the empty string (a*, \b, (?=x), ^). */
export function zeroLengthMatch(re: RegExp): boolean {
  const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  return PROBES.some((probe) => [...probe.matchAll(global)].some((m) => m[0].length === 0));
}

/**
 * The first group that repeats while containing an unbounded repetition, e.g. `(a+)+` or `(\w*x)*`,
 * shown as the pattern text of that group; undefined when there is none. Such patterns backtrack
 * exponentially when a match fails late.
 */
export function nestedQuantifier(source: string): string | undefined {
  interface Group {
    start: number;
    unbounded: boolean;
  }
  const stack: Group[] = [{ start: 0, unbounded: false }];
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    if (c === '\\') {
      // \p{L}, \u{1F600}, \k<name>: skip the braces or brackets with the escape
      const next = source[i + 1];
      const open = source[i + 2];
      if ((next === 'p' || next === 'P' || next === 'u') && open === '{') i = closing(source, i + 2, '}') + 1;
      else if (next === 'k' && open === '<') i = closing(source, i + 2, '>') + 1;
      else i += 2;
      i = quantifierAfter(source, i, stack);
      continue;
    }
    if (c === '[') {
      i = classEnd(source, i) + 1;
      i = quantifierAfter(source, i, stack);
      continue;
    }
    if (c === '(') {
      stack.push({ start: i, unbounded: false });
      i++;
      if (source[i] === '?') {
        // (?:  (?=  (?!  (?<=  (?<!  (?<name>
        if (source[i + 1] === '<' && source[i + 2] !== '=' && source[i + 2] !== '!') i = closing(source, i + 1, '>') + 1;
        else i += source[i + 1] === '<' ? 3 : 2;
      }
      continue;
    }
    if (c === ')') {
      const group = stack.length > 1 ? (stack.pop() as Group) : { start: i, unbounded: false };
      const after = i + 1;
      const q = readQuantifier(source, after);
      if (q && q.repeats && group.unbounded) return source.slice(group.start, after + q.length);
      const parent = stack[stack.length - 1] as Group;
      parent.unbounded ||= group.unbounded || (q?.unbounded ?? false);
      i = after + (q?.length ?? 0);
      continue;
    }
    i = quantifierAfter(source, i + 1, stack);
  }
  return undefined;
}

/** After an atom ending before `i`: note an unbounded quantifier in the enclosing group, return the index past it. */
function quantifierAfter(source: string, i: number, stack: { unbounded: boolean }[]): number {
  const q = readQuantifier(source, i);
  if (!q) return i;
  if (q.unbounded) (stack[stack.length - 1] as { unbounded: boolean }).unbounded = true;
  return i + q.length;
}

interface Quantifier {
  length: number;
  /** can repeat its atom more than once */
  repeats: boolean;
  /** has no upper bound */
  unbounded: boolean;
}

function readQuantifier(source: string, i: number): Quantifier | undefined {
  const c = source[i];
  let q: Quantifier | undefined;
  if (c === '+' || c === '*') q = { length: 1, repeats: true, unbounded: true };
  else if (c === '?') q = { length: 1, repeats: false, unbounded: false };
  else if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
    if (m) {
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      q = { length: m[0].length, repeats: max > 1, unbounded: max === Infinity };
    }
  }
  if (q && source[i + q.length] === '?') q.length++; // lazy
  return q;
}

function closing(source: string, from: number, char: string): number {
  const at = source.indexOf(char, from);
  return at === -1 ? source.length : at;
}

/** Index of the `]` closing the class opened at `open`. */
function classEnd(source: string, open: number): number {
  let i = open + 1;
  if (source[i] === '^') i++;
  while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
  return i;
}

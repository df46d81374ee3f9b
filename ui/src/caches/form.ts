// The cache form's rules (CacheForm.svelte draws it): the monitored tables as typed, the TTL
// as sent, a cache name as the lake allows it, and backend errors in the form's words. The
// backend checks all of these again (name, PREPARE on the primary, tables exist, TTL ≥ 1,
// name taken).

/** `nation, orders` → `['nation', 'orders']` (trimmed, no empties, no duplicates). */
export function parseMonitor(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[,\s]+/)) {
    const t = part.trim();
    if (t && !out.includes(t)) out.push(t);
  }
  return out;
}

/** The TTL field as sent: `null` when empty, a whole number ≥ 1, or why not. */
export function parseTtl(text: string): { value: number | null } | { error: string } {
  const t = text.trim();
  if (!t) return { value: null };
  if (!/^\d+$/.test(t) || Number(t) < 1 || !Number.isSafeInteger(Number(t)))
    return { error: `TTL “${t}” is not a whole number of seconds, 1 or more (leave it empty for no TTL)` };
  return { value: Number(t) };
}

/** A cache name as the lake's table name allows it: a letter or `_`, then letters, digits or `_`. */
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why `text` is not a cache name, in the form's words; `null` when it is one. */
export function nameProblem(text: string): string | null {
  const n = text.trim();
  if (!n) return 'Give the cache a name: a letter or _, then letters, digits or _.';
  if (n.length > 63) return `The name “${n}” is ${n.length} characters long: 63 at most.`;
  if (!NAME_RE.test(n)) {
    if (!/^[A-Za-z_]/.test(n)) return `The name “${n}” starts with “${n[0]}”: a name starts with a letter or _.`;
    return `The name “${n}” holds “${[...n].find((c) => !/[A-Za-z0-9_]/.test(c))}”: use letters, digits and _ only.`;
  }
  return null;
}

/**
 * A backend error said in the form's words: messages written for the command line (naming
 * `--monitor` or `--ttl`) become the fields' names. Other errors pass as they are.
 */
export function formError(e: unknown): unknown {
  if (!e || typeof e !== 'object' || !('message' in e) || typeof (e as { message: unknown }).message !== 'string') return e;
  const err = e as { code?: string; message: string };
  let m = err.message;
  if (/--monitor\b/.test(m)) m = 'Name at least one monitored table: a change in it makes the cache stale.';
  else if (/--ttl\b/.test(m)) m = 'The TTL is a whole number of seconds, 1 or more (leave it empty for no TTL).';
  else m = m.replace(/--([a-z][a-z-]*)/g, '$1');
  return m === err.message ? e : { ...err, message: m };
}

/** `id, line` → `['id', 'line']`: the key's columns as typed (trimmed, no empties, no duplicates). */
export const parseKey = parseMonitor;

/** Whether two monitored-tables texts name the same tables in the same order. */
export function sameTables(a: string, b: string): boolean {
  return parseMonitor(a).join(',') === parseMonitor(b).join(',');
}

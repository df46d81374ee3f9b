// The cache form: define a new cache ("Create cache" → `create_cache`) or change one
// ("Save" → `update_cache`, the name read-only). The monitored tables follow the query: when
// the query field loses focus, or after a pause in typing, `suggest_monitor` (PostgreSQL's
// parser, on the backend) lists the tables it reads and fills them in — unless the user
// changed the field by hand, in which case the suggestion is offered beside it instead.
// A query that does not parse shows its error under the field (on leaving it, not while
// typing). The backend's checks (name, PREPARE on the primary, tables exist, TTL ≥ 1,
// name taken) answer with an error shown inline, with its code and "Copy details".

import type { Backend } from '../lib/backend';
import type { CacheDefinition, CacheSpec, CacheView } from '../lib/bindings';
import { h, replace, setAttr, spinner } from '../lib/dom';
import { errorBox } from '../lib/errors';

export interface CacheForm {
  el: HTMLElement;
  /** Focuses the first field the user would change. */
  focus(): void;
}

export interface CacheFormOptions {
  backend: Backend;
  /** `null`: a new cache; otherwise the cache being edited. */
  editing: CacheView | null;
  /** Saved: the definition the backend answered with. */
  onSaved(def: CacheDefinition): void;
  onCancel(): void;
}

let formSeq = 0;

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

export function cacheForm(opts: CacheFormOptions): CacheForm {
  const { backend, editing } = opts;
  const id = `cache-form-${++formSeq}`;
  const s = editing?.status ?? null;

  const name = h('input', {
    type: 'text',
    id: `${id}-name`,
    class: 'input mono',
    value: s?.name ?? '',
    placeholder: 'a letter or _, then letters, digits, _',
    spellcheck: 'false',
    autocomplete: 'off',
    required: true,
    readonly: editing ? true : undefined,
    'aria-readonly': editing ? 'true' : undefined,
    title: editing
      ? 'A cache keeps its name (it is also its lake table’s name)'
      : 'A letter or _, then letters, digits and _; also the lake table’s name (main.NAME)',
  });
  const query = h('textarea', {
    id: `${id}-query`,
    class: 'input mono query-input',
    rows: '5',
    spellcheck: 'false',
    placeholder: 'SELECT … FROM …  (PostgreSQL’s SQL, run on a replica)',
    required: true,
  });
  query.value = s?.query ?? '';
  const monitor = h('input', {
    type: 'text',
    id: `${id}-monitor`,
    class: 'input mono',
    value: s?.monitor.join(', ') ?? '',
    placeholder: 'filled from the query',
    spellcheck: 'false',
    autocomplete: 'off',
    'aria-describedby': `${id}-monitor-hint`,
  });
  const ttl = h('input', {
    type: 'text',
    inputmode: 'numeric',
    id: `${id}-ttl`,
    class: 'input num-input',
    value: s?.ttl_seconds === null || s?.ttl_seconds === undefined ? '' : String(s.ttl_seconds),
    placeholder: 'none',
    autocomplete: 'off',
    'aria-describedby': `${id}-ttl-hint`,
  });

  const queryNote = h('div', { class: 'field-note', 'aria-live': 'polite' });
  const monitorNote = h('span', { class: 'monitor-note', 'aria-live': 'polite' });
  const errSlot = h('div', { class: 'form-error' });

  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, editing ? 'Save' : 'Create cache');
  const cancel = h('button', { type: 'button', class: 'btn', on: { click: () => opts.onCancel() } }, 'Cancel');

  const field = (label: string, forId: string, ...rest: (Node | string | null)[]) =>
    h('div', { class: 'field' }, h('label', { class: 'label', for: forId }, label), ...rest);

  const form = h(
    'form',
    {
      class: 'cache-form',
      dataset: { testid: 'cache-form', mode: editing ? 'edit' : 'create' },
      'aria-label': editing ? `Edit cache ${s!.name}` : 'New cache',
      novalidate: true,
    },
    h('h2', { class: 'form-title' }, editing ? `Edit cache ${s!.name}` : 'New cache'),
    h(
      'div',
      { class: 'form-grid' },
      field('Name', name.id, name),
      field(
        'TTL (seconds)',
        ttl.id,
        h(
          'div',
          { class: 'row gap' },
          ttl,
          h(
            'span',
            { class: 'hint inline-hint', id: `${id}-ttl-hint` },
            'Optional: the scheduler refreshes it when the TTL has passed and its sources changed. Empty: refreshed by hand only.',
          ),
        ),
      ),
      h('div', { class: 'field span-2' }, h('label', { class: 'label', for: query.id }, 'Source query'), query, queryNote),
      h(
        'div',
        { class: 'field span-2' },
        h('label', { class: 'label', for: monitor.id }, 'Monitored tables'),
        h('div', { class: 'row gap monitor-row' }, monitor, monitorNote),
        h(
          'p',
          { class: 'hint', id: `${id}-monitor-hint` },
          'Comma-separated. Filled with the tables the query reads; a change in any of them makes the cache stale.',
        ),
      ),
    ),
    h('div', { class: 'row gap form-actions' }, submit, cancel),
    errSlot,
  );

  // ---- Monitored tables from the query ------------------------------------------------

  /** What the field held when it was last filled automatically: while it still does, new suggestions replace it. */
  let autoValue = monitor.value.trim();
  /** The query the last suggestion was asked for, and its answer. */
  let suggestedFor = s?.query ?? null;
  let suggestSeq = 0;
  let pending: Promise<void> | null = null;
  let debounce: number | null = null;

  const same = (a: string, b: string) => parseMonitor(a).join(',') === parseMonitor(b).join(',');

  const applySuggestion = (tables: string[]) => {
    const text = tables.join(', ');
    if (same(monitor.value, autoValue) || !monitor.value.trim()) {
      monitor.value = text;
      autoValue = text;
      replace(
        monitorNote,
        tables.length
          ? h('span', { class: 'muted small' }, '✓ from the query')
          : h('span', { class: 'muted small' }, 'the query reads no table'),
      );
    } else if (!same(monitor.value, text)) {
      const use = h(
        'button',
        {
          type: 'button',
          class: 'btn btn-small',
          on: {
            click: () => {
              monitor.value = text;
              autoValue = text;
              replace(monitorNote, h('span', { class: 'muted small' }, '✓ from the query'));
              monitor.focus();
            },
          },
        },
        'Use these',
      );
      replace(
        monitorNote,
        h('span', { class: 'small muted' }, 'The query reads ', h('span', { class: 'mono' }, text || 'no table'), ' '),
        use,
      );
    } else replace(monitorNote);
  };

  /** Asks which tables the query reads; `showError` shows a parse error under the field. */
  const suggest = (showError: boolean): Promise<void> => {
    if (debounce !== null) {
      window.clearTimeout(debounce);
      debounce = null;
    }
    const q = query.value.trim();
    if (!q) {
      suggestedFor = q;
      replace(queryNote);
      return Promise.resolve();
    }
    if (q === suggestedFor && !pending) {
      if (showError && lastParseError) showParseError(lastParseError);
      return Promise.resolve();
    }
    const seq = ++suggestSeq;
    setAttr(monitor, 'aria-busy', 'true');
    const p = backend
      .rpc({ method: 'suggest_monitor', params: { query: q } })
      .then((tables) => {
        if (seq !== suggestSeq) return;
        suggestedFor = q;
        lastParseError = null;
        replace(queryNote);
        setAttr(query, 'aria-invalid', null);
        applySuggestion(tables);
      })
      .catch((e: unknown) => {
        if (seq !== suggestSeq) return;
        suggestedFor = q;
        lastParseError = e;
        // A query that does not parse proposes no table: no "from the query" mark stays.
        replace(monitorNote);
        if (showError) showParseError(e);
      })
      .finally(() => {
        if (seq === suggestSeq) {
          setAttr(monitor, 'aria-busy', null);
          pending = null;
        }
      });
    pending = p;
    return p;
  };
  let lastParseError: unknown = null;
  const showParseError = (e: unknown) => {
    setAttr(query, 'aria-invalid', 'true');
    replace(queryNote, errorBox(e, 'Reading the query’s tables', { compact: true }));
  };

  query.addEventListener('input', () => {
    // While typing: a calm debounce, and no error until the field is left. An old error
    // goes now, not when the next answer comes (the form must not shift under a click).
    if (queryNote.firstChild) {
      replace(queryNote);
      setAttr(query, 'aria-invalid', null);
    }
    // The mark spoke of the query as it was; the next answer puts it back if this one parses.
    if (same(monitor.value, autoValue)) replace(monitorNote);
    if (debounce !== null) window.clearTimeout(debounce);
    debounce = window.setTimeout(() => {
      debounce = null;
      void suggest(false);
    }, 700);
  });
  query.addEventListener('blur', () => void suggest(true));
  monitor.addEventListener('input', () => {
    if (!same(monitor.value, autoValue)) replace(monitorNote);
  });
  // An error from the last Save (a name taken, a table missing) spoke of what the fields held
  // then: it goes as soon as any of them changes.
  for (const f of [name, query, monitor, ttl]) f.addEventListener('input', () => replace(errSlot));

  // ---- Submit ---------------------------------------------------------------------------

  let busy = false;
  const setBusy = (b: boolean) => {
    busy = b;
    submit.disabled = b;
    cancel.disabled = b;
    setAttr(submit, 'aria-busy', b ? 'true' : null);
    const spin = submit.querySelector('.spinner');
    if (b && !spin) submit.prepend(spinner());
    if (!b) spin?.remove();
  };

  const localError = (message: string, focus: HTMLElement) => {
    replace(
      errSlot,
      errorBox({ code: 'InvalidInput', message }, editing ? `Saving cache ${s!.name}` : 'Creating the cache', { compact: true }),
    );
    focus.focus();
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (busy) return;
    replace(errSlot);
    void (async () => {
      const n = name.value.trim();
      const bad = editing ? null : nameProblem(n);
      if (bad) return localError(bad, name);
      if (!query.value.trim()) return localError('Write the source query.', query);
      const t = parseTtl(ttl.value);
      if ('error' in t) return localError(t.error, ttl);
      setBusy(true);
      // The suggestion for the query as typed, if it is still on its way.
      if (query.value.trim() !== suggestedFor || pending) {
        await suggest(true).catch(() => undefined);
      }
      const spec: CacheSpec = { name: n, query: query.value.trim(), monitor: parseMonitor(monitor.value), ttl_seconds: t.value };
      if (!spec.monitor.length) {
        setBusy(false);
        return localError(
          lastParseError
            ? 'Name at least one monitored table: the query does not parse, so none could be read from it.'
            : 'Name at least one monitored table: a change in it makes the cache stale.',
          monitor,
        );
      }
      try {
        const def = editing
          ? await backend.rpc({ method: 'update_cache', params: spec })
          : await backend.rpc({ method: 'create_cache', params: spec });
        setBusy(false);
        opts.onSaved(def);
      } catch (err) {
        setBusy(false);
        replace(errSlot, errorBox(formError(err), editing ? `Saving cache ${n}` : `Creating cache ${n}`, { compact: true }));
        submit.focus();
      }
    })();
  });

  // Ctrl+Enter (⌘+Enter) in the query submits, as in a SQL editor.
  query.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !busy) {
      e.preventDefault();
      opts.onCancel();
    }
  });

  return {
    el: form,
    focus: () => (editing ? query : name).focus(),
  };
}

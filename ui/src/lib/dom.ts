// A few lines of DOM building instead of a framework: `h('td', { class: 'num' }, '1,204')`.
// Text always goes in as text nodes (never HTML), so nothing from the server is parsed as
// markup.

import { relative, utc } from './format';

type Child = Node | string | number | null | undefined | false | Child[];

export interface Attrs {
  class?: string | undefined;
  text?: string | undefined;
  title?: string | undefined;
  style?: Partial<CSSStyleDeclaration> | undefined;
  dataset?: Record<string, string> | undefined;
  on?: { [K in keyof HTMLElementEventMap]?: (e: HTMLElementEventMap[K]) => void } | undefined;
  [attr: string]: unknown;
}

/** An element with attributes, listeners and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = String(v);
      else if (k === 'text') el.textContent = String(v);
      else if (k === 'style') Object.assign(el.style, v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'on') {
        for (const [ev, fn] of Object.entries(v as Record<string, EventListener>)) el.addEventListener(ev, fn);
      } else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

/** Appends children (strings become text nodes; null/false are skipped). */
export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** Sets text only when it changed (keeps the DOM calm during once-a-second updates). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Sets an attribute only when it changed; `null` removes it. */
export function setAttr(el: Element, name: string, value: string | null): void {
  if (value === null) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

/**
 * A relative time ("3 min ago") that keeps itself current, with the absolute UTC time as
 * its title. A single ticker (`startRelativeTicker`) updates every such element.
 */
export function timeAgo(ms: number | null | undefined, prefix = ''): HTMLElement {
  if (ms === null || ms === undefined) return h('span', { class: 'muted' }, '—');
  const el = h('time', {
    datetime: new Date(ms).toISOString(),
    title: utc(ms),
    dataset: { relTs: String(ms), relPrefix: prefix },
  });
  el.textContent = prefix + relative(ms);
  return el;
}

/** Updates every `timeAgo` element once a second. */
export function startRelativeTicker(): void {
  window.setInterval(() => {
    const now = Date.now();
    document.querySelectorAll<HTMLElement>('[data-rel-ts]').forEach((el) => {
      const ts = Number(el.dataset.relTs);
      setText(el, (el.dataset.relPrefix ?? '') + relative(ts, now));
    });
  }, 1000);
}

/** Copies text to the clipboard (falls back to a hidden textarea where the API is missing). */
export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      /* fall through to the old way */
    }
  }
  const ta = h('textarea', { style: { position: 'fixed', left: '-9999px', top: '0' }, 'aria-hidden': 'true' });
  ta.value = text;
  document.body.appendChild(ta);
  ta.select();
  try {
    document.execCommand('copy');
  } finally {
    ta.remove();
  }
}

/** Briefly shows a confirmation next to a button ("Copied"). */
export function flash(button: HTMLElement, text: string): void {
  const old = button.textContent ?? '';
  button.textContent = text;
  window.setTimeout(() => {
    button.textContent = old;
  }, 1200);
}

/** A small spinner (decorative: the word beside it says what is happening). */
export function spinner(): HTMLElement {
  return h('span', { class: 'spinner', 'aria-hidden': 'true' });
}

/** The page's filter box: `/` focuses it (`data-search`). */
export function filterBox(placeholder: string, label: string): HTMLInputElement {
  return h('input', {
    type: 'search',
    class: 'input filter',
    placeholder: `${placeholder}  /`,
    'aria-label': label,
    dataset: { search: '' },
  });
}

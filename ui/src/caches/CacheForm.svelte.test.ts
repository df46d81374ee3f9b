// @vitest-environment jsdom
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CacheDefinition } from '../lib/bindings';
import { CachesStore } from '../lib/stores/caches.svelte';
import { cache, ScriptedBackend } from '../test/fixtures';
import CacheForm from './CacheForm.svelte';

let mounted: Record<string, unknown>[] = [];
/** The form over a caches store that asks `backend`. */
function show({ backend, ...props }: { backend: ScriptedBackend } & Record<string, unknown>): HTMLElement {
  const target = document.createElement('div');
  document.body.append(target);
  mounted.push(mount(CacheForm as never, { target, props: { caches: new CachesStore(backend), ...props } }) as Record<string, unknown>);
  flushSync();
  return target;
}
afterEach(() => {
  for (const c of mounted) void unmount(c);
  mounted = [];
  document.body.replaceChildren();
});

const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  flushSync();
};
const type = (el: HTMLInputElement | HTMLTextAreaElement, value: string) => {
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  flushSync();
};
const field = (root: HTMLElement, label: string) => {
  const l = [...root.querySelectorAll('label')].find((x) => x.textContent === label)!;
  return root.querySelector<HTMLInputElement>(`#${l.htmlFor}`)!;
};
const submit = (root: HTMLElement) => root.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));

const def = (over: Partial<CacheDefinition> = {}): CacheDefinition =>
  ({ name: 'top', query: 'SELECT * FROM orders', monitor: ['orders'], ttl_seconds: 60, paused: false, ...over }) as CacheDefinition;

describe('CacheForm', () => {
  it('checks the name here and names what is wrong, asking the backend nothing', async () => {
    const backend = new ScriptedBackend();
    const root = show({ backend, editing: null, onSaved: vi.fn(), onCancel: vi.fn() });
    expect(root.querySelector('[data-testid=cache-form]')?.getAttribute('data-mode')).toBe('create');
    expect(document.activeElement).toBe(field(root, 'Name'));
    type(field(root, 'Name'), '1abc');
    submit(root);
    await settle();
    const box = root.querySelector('.form-error .error-box');
    expect(box?.getAttribute('data-error-code')).toBe('InvalidInput');
    expect(box?.textContent).toContain('starts with “1”');
    expect(backend.calls).toEqual([]);
    // The error spoke of the fields as they were: it goes when one changes.
    type(field(root, 'Name'), 'abc');
    expect(root.querySelector('.form-error .error-box')).toBeNull();
  });

  it('fills the monitored tables from the query and creates the cache with them', async () => {
    const backend = new ScriptedBackend()
      .answer('suggest_monitor', ['orders', 'nation'])
      .answer('suggest_key', { key: ['n_name'], source: "the query's GROUP BY" })
      .answer('create_cache', def());
    const onSaved = vi.fn();
    const root = show({ backend, editing: null, onSaved, onCancel: vi.fn() });
    type(field(root, 'Name'), 'top');
    const query = field(root, 'Source query');
    type(query, 'SELECT * FROM orders JOIN nation USING (n)');
    query.dispatchEvent(new Event('blur'));
    await settle();
    expect(field(root, 'Monitored tables').value).toBe('orders, nation');
    expect(root.querySelector('.monitor-note')?.textContent).toBe('✓ from the query');
    expect(field(root, 'Key').value).toBe('n_name');
    expect(root.querySelector('[data-testid=key-note]')?.textContent).toBe("✓ from the query's GROUP BY");
    type(field(root, 'TTL (seconds)'), '60');
    submit(root);
    await settle();
    expect(backend.calls.at(-1)).toEqual({
      method: 'create_cache',
      params: {
        name: 'top',
        query: 'SELECT * FROM orders JOIN nation USING (n)',
        monitor: ['orders', 'nation'],
        ttl_seconds: 60,
        key: ['n_name'],
      },
    });
    expect(onSaved).toHaveBeenCalledWith(def());
  });

  it('offers a suggestion beside tables typed by hand instead of replacing them', async () => {
    const backend = new ScriptedBackend()
      .answer('suggest_monitor', ['lineitem'])
      .answer('suggest_key', { key: ['l_orderkey', 'l_linenumber'], source: 'the primary key of lineitem' });
    const root = show({ backend, editing: cache('c'), onSaved: vi.fn(), onCancel: vi.fn() });
    expect(root.querySelector('[data-testid=cache-form]')?.getAttribute('data-mode')).toBe('edit');
    expect(field(root, 'Name').readOnly).toBe(true);
    type(field(root, 'Monitored tables'), 'mine');
    type(field(root, 'Key'), 'my_id');
    const query = field(root, 'Source query');
    type(query, 'SELECT * FROM lineitem');
    query.dispatchEvent(new Event('blur'));
    await settle();
    expect(field(root, 'Monitored tables').value).toBe('mine');
    const use = [...root.querySelectorAll('button')].find((b) => b.textContent === 'Use these')!;
    use.click();
    flushSync();
    expect(field(root, 'Monitored tables').value).toBe('lineitem');
    // The key typed by hand stays; the proposal is offered beside it.
    expect(field(root, 'Key').value).toBe('my_id');
    expect(root.querySelector('[data-testid=key-note]')?.textContent).toContain(
      'From the primary key of lineitem: l_orderkey, l_linenumber',
    );
    [...root.querySelectorAll('button')].find((b) => b.textContent === 'Use it')!.click();
    flushSync();
    expect(field(root, 'Key').value).toBe('l_orderkey, l_linenumber');
  });

  it('cancels on Escape', () => {
    const onCancel = vi.fn();
    const root = show({ backend: new ScriptedBackend(), editing: null, onSaved: vi.fn(), onCancel });
    field(root, 'Name').dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    expect(onCancel).toHaveBeenCalledOnce();
  });
});

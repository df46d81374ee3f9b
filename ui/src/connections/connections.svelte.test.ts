// @vitest-environment jsdom
import { flushSync, mount, tick, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedBackend } from '../test/fixtures';
import ConnFields from './ConnFields.svelte';
import Diagnosis from './Diagnosis.svelte';
import { ProfileEditor } from './editor.svelte';

let mounted: Record<string, unknown>[] = [];
let target: HTMLElement;
function show(component: unknown, props: Record<string, unknown>) {
  target = document.createElement('div');
  document.body.append(target);
  mounted.push(mount(component as never, { target, props }) as Record<string, unknown>);
  flushSync();
}
afterEach(() => {
  for (const c of mounted) void unmount(c);
  mounted = [];
  document.body.replaceChildren();
});

const value = (testid: string) => target.querySelector<HTMLInputElement | HTMLSelectElement>(`[data-testid="${testid}"]`)!.value;
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await tick();
  flushSync();
};

describe('ConnFields', () => {
  it('fills the fields from a pasted connection string, the password apart from the draft', async () => {
    const backend = new ScriptedBackend().answer('parse_conninfo', {
      conn: {
        host: 'db1',
        port: '5433',
        user: 'skein',
        dbname: 'app',
        sslmode: 'verify-full',
        sslrootcert: '/ca.crt',
        sslcert: '',
        sslkey: '',
        params: [{ key: 'connect_timeout', value: '5' }],
      },
      password: 'typed-secret',
    });
    const editor = new ProfileEditor();
    editor.startBlank();
    const conn = editor.editing!.draft.primary.conn;
    show(ConnFields, { conn, backend, editor, scope: 'primary', field: 'primary.url', passwordKey: 'primary' });
    expect(target.querySelector('details.conn-tls')?.hasAttribute('open')).toBe(false);
    const paste = target.querySelector<HTMLInputElement>('[data-testid="primary-paste"]')!;
    paste.value = 'postgresql://skein:typed-secret@db1:5433/app?sslmode=verify-full';
    paste.dispatchEvent(new Event('input', { bubbles: true }));
    target.querySelector<HTMLButtonElement>('[data-testid="primary-fill"]')!.click();
    await settle();
    expect(backend.calls.at(-1)).toEqual({
      method: 'parse_conninfo',
      params: { conninfo: 'postgresql://skein:typed-secret@db1:5433/app?sslmode=verify-full' },
    });
    expect([
      value('primary-host'),
      value('primary-port'),
      value('primary-user'),
      value('primary-dbname'),
      value('primary-sslmode'),
    ]).toEqual(['db1', '5433', 'skein', 'app', 'verify-full']);
    expect(value('primary-password')).toBe('typed-secret');
    expect(JSON.stringify(editor.snapshot())).not.toContain('typed-secret');
    expect(editor.passwords()).toEqual([{ node: 'primary', password: 'typed-secret' }]);
    expect(target.querySelector('[data-testid="primary-params"]')?.textContent).toContain('connect_timeout=5');
    expect(target.querySelector('details.conn-tls')?.hasAttribute('open')).toBe(true);
    expect(value('primary-paste')).toBe('');
  });

  it('says why a connection string could not be read, in place', async () => {
    const backend = new ScriptedBackend().answer('parse_conninfo', {
      error: { code: 'InvalidInput', message: 'not a libpq connection string' },
    });
    const editor = new ProfileEditor();
    editor.startBlank();
    show(ConnFields, {
      conn: editor.editing!.draft.lake.catalog,
      backend,
      editor,
      scope: 'lake',
      field: 'lake.catalog',
      passwordKey: 'lake',
    });
    const paste = target.querySelector<HTMLInputElement>('[data-testid="lake-paste"]')!;
    paste.value = 'nonsense';
    paste.dispatchEvent(new Event('input', { bubbles: true }));
    paste.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    await settle();
    expect(target.querySelector('.paste-note .error-box')?.getAttribute('data-error-code')).toBe('InvalidInput');
    expect(target.querySelector<HTMLButtonElement>('[data-testid="lake-fill"]')!.disabled).toBe(false);
  });
});

describe('Diagnosis', () => {
  it('shows each step with its status and the fix of a failed one', () => {
    show(Diagnosis, {
      d: {
        target: 'replica2',
        kind: 'replica',
        address: '127.0.0.1:1',
        took_ms: 12,
        steps: [
          { step: 'dns', status: 'ok', detail: 'an IP address', fix: null },
          { step: 'tcp', status: 'fail', detail: 'connection refused', fix: 'start the server' },
          { step: 'auth', status: 'skipped', detail: 'after a failed step', fix: null },
        ],
      },
    });
    const d = target.querySelector('[data-diagnosis="replica2"]')!;
    expect(d.getAttribute('data-status')).toBe('fail');
    expect(d.querySelector('.diagnosis-summary')?.textContent).toBe('✕ Failed at TCP · 127.0.0.1:1');
    const steps = [...d.querySelectorAll('li.step')].map((li) => [li.getAttribute('data-step'), li.getAttribute('data-status')]);
    expect(steps).toEqual([
      ['dns', 'ok'],
      ['tcp', 'fail'],
      ['auth', 'skipped'],
    ]);
    expect(d.querySelector('li[data-step="tcp"] .step-fix')?.textContent).toBe('Fix: start the server');
  });
});

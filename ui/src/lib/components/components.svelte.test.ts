// @vitest-environment jsdom
import { createRawSnippet, flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { job, T0 } from '../../test/fixtures';
import type { JsonValue } from '../bindings';
import ConfirmAction from './ConfirmAction.svelte';
import DataTable from './DataTable.svelte';
import ErrorBox from './ErrorBox.svelte';
import JobsTray from './JobsTray.svelte';
import RelativeTime from './RelativeTime.svelte';
import type { Column } from './table';

const text = (s: string) => createRawSnippet(() => ({ render: () => `<span>${s}</span>` }));

let target: HTMLElement;
let mounted: Record<string, unknown>[] = [];
function show<P extends Record<string, unknown>>(component: unknown, props: P) {
  target = document.createElement('div');
  document.body.append(target);
  const c = mount(component as never, { target, props }) as Record<string, unknown>;
  mounted.push(c);
  flushSync();
  return c;
}
afterEach(() => {
  for (const c of mounted) void unmount(c);
  mounted = [];
  document.body.replaceChildren();
  vi.useRealTimers();
});

describe('DataTable', () => {
  type Row = JsonValue[];
  const rows: Row[] = [
    ['b', 10, null],
    ['a', 2, 'x'],
    ['c', 2, 'y, "z"'],
  ];
  const columns: Column<Row>[] = ['name', 'n', 'note'].map((label, c) => ({
    key: String(c),
    label,
    numeric: c === 1,
    value: (r) => r[c] ?? null,
  }));
  const cells = () => [...target.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));

  it('shows exact values, NULL as such, numbers right-aligned', () => {
    show(DataTable, { rows, columns, label: 'Rows' });
    expect(cells()).toEqual([
      ['b', '10', 'NULL'],
      ['a', '2', 'x'],
      ['c', '2', 'y, "z"'],
    ]);
    expect(target.querySelector('td.null')?.textContent).toBe('NULL');
    expect(target.querySelectorAll('td.num').length).toBe(3);
    expect(target.querySelector('.grid-wrap')?.getAttribute('aria-label')).toBe('Rows (scrolls)');
    expect(target.querySelector('table')?.getAttribute('aria-label')).toBe('Rows');
  });

  it('sorts by a header, the other way on a second click, and says so', () => {
    const t = show(DataTable, { rows, columns, label: 'Rows' });
    const header = (i: number) => target.querySelectorAll<HTMLButtonElement>('th button.th-sort')[i]!;
    header(1).click();
    flushSync();
    expect(cells().map((r) => r[0])).toEqual(['a', 'c', 'b']);
    expect(target.querySelectorAll('th')[1]?.getAttribute('aria-sort')).toBe('ascending');
    expect(header(1).textContent).toBe('n ▲');
    header(1).click();
    flushSync();
    expect(cells().map((r) => r[0])).toEqual(['b', 'a', 'c']);
    expect(target.querySelectorAll('th')[1]?.getAttribute('aria-sort')).toBe('descending');
    // CSV follows the order shown, quoting what needs it.
    expect((t.csv as () => string)()).toBe('name,n,note\r\nb,10,\r\na,2,x\r\nc,2,"y, ""z"""\r\n');
  });

  it('pages the rows', () => {
    const many = Array.from({ length: 25 }, (_, i) => [`r${i}`, i, null] as Row);
    const props = $state({ rows: many, columns, label: 'Rows', pageSize: 10, page: 2 });
    const t = show(DataTable, props);
    expect(cells().map((r) => r[0])).toEqual(['r20', 'r21', 'r22', 'r23', 'r24']);
    expect((t.pageCount as () => number)()).toBe(3);
    props.page = 0;
    flushSync();
    expect(cells().length).toBe(10);
  });

  it('copies a cell on double-click (NULL as an empty string)', async () => {
    const writeText = vi.fn(async (_: string) => {});
    Object.defineProperty(window, 'isSecureContext', { value: true, configurable: true });
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const copied: string[] = [];
    show(DataTable, { rows, columns, label: 'Rows', onCopy: (s: string) => copied.push(s) });
    const td = target.querySelectorAll('tbody td')[1]!;
    td.dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));
    target.querySelectorAll('tbody td')[2]!.dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));
    flushSync();
    await Promise.resolve();
    await Promise.resolve();
    expect(writeText.mock.calls.map((c) => c[0])).toEqual(['10', '']);
    expect(copied).toEqual(['10', '']);
    expect(target.querySelectorAll('td.copied').length).toBe(1);
  });
});

describe('ConfirmAction', () => {
  const props = (run: () => Promise<unknown>, extra: Record<string, unknown> = {}) => ({
    label: 'Delete cache x',
    confirmLabel: 'Delete cache x',
    errorAction: 'Deleting cache x',
    run,
    onCancel: vi.fn(),
    onDone: vi.fn(),
    head: text('Delete cache x?'),
    testid: 'delete-confirm',
    attrs: { 'data-cache': 'x' },
    ...extra,
  });
  const button = (name: string) => [...target.querySelectorAll('button')].find((b) => b.textContent === name)!;

  it('focuses its first line and runs only on the confirm button', async () => {
    let resolve!: (v: unknown) => void;
    const run = vi.fn(() => new Promise((r) => (resolve = r)));
    const p = props(run);
    show(ConfirmAction, p);
    const box = target.querySelector('[data-testid=delete-confirm]')!;
    expect(box.getAttribute('data-cache')).toBe('x');
    expect(document.activeElement?.classList.contains('preview-head')).toBe(true);
    expect(run).not.toHaveBeenCalled();
    button('Delete cache x').click();
    flushSync();
    expect(run).toHaveBeenCalledTimes(1);
    expect(button('Delete cache x').disabled).toBe(true);
    expect(button('Cancel').disabled).toBe(true);
    expect(button('Delete cache x').getAttribute('aria-busy')).toBe('true');
    resolve('gone');
    await Promise.resolve();
    await Promise.resolve();
    expect(p.onDone).toHaveBeenCalledWith('gone');
  });

  it('shows a failure in place and offers the confirm again; Escape cancels', async () => {
    const p = props(() => Promise.reject({ code: 'Conflict', message: 'another refresh runs' }));
    show(ConfirmAction, p);
    button('Delete cache x').click();
    await Promise.resolve();
    await Promise.resolve();
    flushSync();
    const err = target.querySelector('.preview-error .error-box')!;
    expect(err.getAttribute('data-error-code')).toBe('Conflict');
    expect(err.textContent).toContain('Deleting cache x failed');
    expect(button('Delete cache x').disabled).toBe(false);
    target.querySelector('[data-testid=delete-confirm]')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    expect(p.onCancel).toHaveBeenCalledTimes(1);
  });
});

describe('ErrorBox', () => {
  it('says what failed with the code, and retries', () => {
    const retry = vi.fn();
    show(ErrorBox, { error: { code: 'Timeout', message: 'took too long' }, action: 'Reading the router counters', compact: true, retry });
    const box = target.querySelector('.error-box')!;
    expect(box.getAttribute('role')).toBe('alert');
    expect(box.classList.contains('compact')).toBe(true);
    expect(box.querySelector('.error-text')?.textContent).toBe('Reading the router counters failed Timeout took too long');
    [...box.querySelectorAll('button')].find((b) => b.textContent === 'Retry')!.click();
    expect(retry).toHaveBeenCalledTimes(1);
    expect([...box.querySelectorAll('button')].map((b) => b.textContent)).toEqual(['Retry', 'Copy details']);
  });

  it('turns anything thrown into a coded error', () => {
    show(ErrorBox, { error: new Error('boom'), action: 'Exporting' });
    expect(target.querySelector('.error-box')?.getAttribute('data-error-code')).toBe('Internal');
  });
});

describe('RelativeTime', () => {
  it('keeps itself current with the UTC time as its title', () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    show(RelativeTime, { ms: T0 - 5000 });
    const el = target.querySelector('time')!;
    expect(el.textContent).toBe('5 s ago');
    expect(el.title).toBe('2026-11-22 09:13:58 UTC');
    vi.advanceTimersByTime(60_000);
    flushSync();
    expect(el.textContent).toBe('1 min ago');
  });

  it('says nothing is known as a dash', () => {
    show(RelativeTime, { ms: null });
    expect(target.textContent).toBe('—');
  });
});

describe('JobsTray', () => {
  it('lists jobs newest first with their state, result and error', () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0 + 4200);
    const props = $state({ jobs: [job(3, 'running'), job(2, 'done'), job(1, 'failed')] });
    show(JobsTray, props);
    const items = [...target.querySelectorAll('[data-testid=jobs] li')];
    expect(items.map((li) => [li.getAttribute('data-job-id'), li.getAttribute('data-job-state')])).toEqual([
      ['3', 'running'],
      ['2', 'done'],
      ['1', 'failed'],
    ]);
    expect(items[0]?.querySelector('[data-elapsed]')?.textContent).toBe('4.2 s');
    expect(items[1]?.querySelector('.job-result')?.textContent).toBe('Deleted 2 files (358 KiB)');
    expect(items[1]?.querySelector('[data-elapsed]')?.textContent).toBe('took 130 ms');
    expect(items[1]?.querySelector('.job-time')?.textContent).toMatch(/^took 130 ms · \S/);
    expect(items[2]?.querySelector('.error-box')?.getAttribute('data-error-code')).toBe('Conflict');
    vi.advanceTimersByTime(1000);
    flushSync();
    expect(items[0]?.querySelector('[data-elapsed]')?.textContent).toBe('5.2 s');
    props.jobs = [];
    flushSync();
    expect(target.querySelector('.job-empty')?.hasAttribute('hidden')).toBe(false);
  });
});

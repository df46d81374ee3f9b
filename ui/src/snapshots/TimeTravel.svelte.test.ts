// @vitest-environment jsdom
import { flushSync, mount, tick, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { LakeTable, TimeTravelPage } from '../lib/bindings';
import { ScriptedBackend, snapshot, T0 } from '../test/fixtures';
import SnapshotDetail from './SnapshotDetail.svelte';
import TimeTravel from './TimeTravel.svelte';
import type { TravelRoute } from './words';

const TABLES: LakeTable[] = [
  { name: 'main.orders', columns: ['o_orderkey', 'o_comment'] },
  { name: 'main.nation', columns: ['n_name'] },
];

const travelPage = (offset: number, n: number, over: Partial<TimeTravelPage> = {}): TimeTravelPage => ({
  table: 'main.orders',
  snapshot: { id: 37, time_ms: Date.UTC(2026, 10, 22, 9, 14, 3) },
  latest: false,
  schema: [
    { name: 'o_orderkey', data_type: 'BIGINT' },
    { name: 'o_comment', data_type: 'VARCHAR' },
  ],
  rows: { columns: ['o_orderkey', 'o_comment'], rows: Array.from({ length: n }, (_, i) => [offset + i + 1, `c${i}`]), total: 120 },
  offset,
  note: null,
  ...over,
});

let shown: Record<string, unknown> | null = null;
afterEach(() => {
  if (shown) void unmount(shown);
  shown = null;
  document.body.replaceChildren();
  window.location.hash = '';
});

const settle = async () => {
  for (let i = 0; i < 5; i++) {
    await tick();
    await new Promise((r) => setTimeout(r, 0));
  }
  flushSync();
};

function showTravel(b: ScriptedBackend, routed: TravelRoute | null = null) {
  const target = document.createElement('div');
  document.body.append(target);
  const props = $state({
    backend: b,
    selectedId: 37 as number | null,
    newestMs: Date.UTC(2026, 10, 22, 9, 14, 3),
    lakeSnapshot: 37,
    lakeReachable: true,
    routed,
  });
  shown = mount(TimeTravel, { target, props });
  flushSync();
  return { target, props };
}

const q = (t: HTMLElement, sel: string) => t.querySelector<HTMLElement>(sel);
const button = (t: HTMLElement, name: RegExp) => [...t.querySelectorAll('button')].find((b) => name.test(b.textContent ?? ''))!;

describe('TimeTravel', () => {
  it('reads what the URL names and shows the banner, the schema then, and the range', async () => {
    const b = new ScriptedBackend().answer('lake_tables', TABLES).answer('time_travel', travelPage(50, 50));
    const { target } = showTravel(b, { table: 'main.orders', at: { version: 37 }, offset: 50, size: 50 });
    await settle();
    expect(b.calls.find((c) => c.method === 'time_travel')?.params).toEqual({
      table: 'main.orders',
      at: { version: 37 },
      limit: 50,
      offset: 50,
    });
    expect(q(target, '[data-testid=travel-banner]')?.textContent).toBe('as of snapshot 37 · 2026-11-22 09:14:03 UTC · 120 rows');
    expect(q(target, '[data-testid=travel-range]')?.textContent).toBe('rows 51–100 of 120');
    expect(q(target, '[data-testid=travel-schema]')?.textContent?.trim()).toBe(
      'Schema at snapshot 37: o_orderkey BIGINT, o_comment VARCHAR',
    );
    expect(target.querySelectorAll('tbody tr')).toHaveLength(50);
    expect((q(target, '#travel-table') as HTMLSelectElement).value).toBe('main.orders');
    expect((q(target, '#travel-snapshot') as HTMLInputElement).value).toBe('37');
    expect((q(target, '#travel-size') as HTMLSelectElement).value).toBe('50');
    expect(button(target, /Next rows/).disabled).toBe(false);
    expect(button(target, /Previous rows/).disabled).toBe(false);
  });

  it('Show puts the read in the URL; the next page reads the version the first page resolved to', async () => {
    const b = new ScriptedBackend()
      .answer('lake_tables', TABLES)
      .answer('time_travel', travelPage(0, 100, { snapshot: { id: 41, time_ms: 0 } }));
    const { target, props } = showTravel(b);
    await settle();
    const form = q(target, 'form') as HTMLFormElement;
    const ts = q(target, '#travel-timestamp') as HTMLInputElement;
    ts.value = '2026-11-22 09:14:03';
    ts.dispatchEvent(new Event('input', { bubbles: true }));
    form.requestSubmit();
    await settle();
    expect(window.location.hash).toBe('#/snapshots/travel/main.orders/t2026-11-22%2009%3A14%3A03/0/100');
    // The page routes: the URL comes back as the prop.
    props.routed = { table: 'main.orders', at: { timestamp: '2026-11-22 09:14:03' }, offset: 0, size: 100 };
    await settle();
    expect(q(target, '[data-testid=travel-range]')?.textContent).toBe('rows 1–100 of 120');
    button(target, /Next rows/).click();
    await settle();
    expect(window.location.hash).toBe('#/snapshots/travel/main.orders/v41/100/100');
  });

  it('says what is wrong in place: no timestamp typed, or the backend refusing it; the form is kept', async () => {
    const b = new ScriptedBackend()
      .answer('lake_tables', TABLES)
      .answer('time_travel', { error: { code: 'InvalidInput', message: "'09:14:03' is a time without a date" } });
    const { target, props } = showTravel(b);
    await settle();
    const timeRadio = target.querySelector<HTMLInputElement>('input[value=timestamp]')!;
    timeRadio.click();
    (q(target, 'form') as HTMLFormElement).requestSubmit();
    await settle();
    let box = q(target, '.travel-result .error-box');
    expect(box?.dataset.errorCode).toBe('InvalidInput');
    expect(box?.textContent).toContain('Type a timestamp, e.g. 2026-11-22 09:14:03 (UTC).');
    expect(b.count('time_travel')).toBe(0);

    const ts = q(target, '#travel-timestamp') as HTMLInputElement;
    ts.value = '09:14:03';
    ts.dispatchEvent(new Event('input', { bubbles: true }));
    (q(target, 'form') as HTMLFormElement).requestSubmit();
    await settle();
    expect(window.location.hash).toBe('#/snapshots/travel/main.orders/t09%3A14%3A03/0/100');
    props.routed = { table: 'main.orders', at: { timestamp: '09:14:03' }, offset: 0, size: 100 };
    await settle();
    box = q(target, '.travel-result .error-box');
    expect(box?.dataset.errorCode).toBe('InvalidInput');
    expect(box?.textContent).toContain("'09:14:03' is a time without a date");
    expect(box?.textContent).toContain('Reading main.orders failed');
    expect(ts.value).toBe('09:14:03');
    expect(target.querySelector<HTMLInputElement>('input[value=timestamp]')?.checked).toBe(true);
  });

  it('a new lake snapshot lists the tables again, keeping the one chosen', async () => {
    const b = new ScriptedBackend().answer('lake_tables', TABLES, [...TABLES, { name: 'main.new_cache', columns: ['x'] }]);
    const { target, props } = showTravel(b);
    await settle();
    const select = q(target, '#travel-table') as HTMLSelectElement;
    select.value = 'main.nation';
    select.dispatchEvent(new Event('change', { bubbles: true }));
    props.lakeSnapshot = 38;
    await settle();
    expect(b.count('lake_tables')).toBe(2);
    expect([...select.options].map((o) => o.value)).toEqual(['main.orders', 'main.nation', 'main.new_cache']);
    expect(select.value).toBe('main.nation');
    expect(target.textContent).toContain('3 tables in the lake now');
  });
});

describe('SnapshotDetail', () => {
  it('shows the selected snapshot’s table changes, and drops an answer for one no longer selected', async () => {
    let release: (v: unknown) => void = () => {};
    const late = new Promise((r) => {
      release = r;
    });
    const changes = (id: number) => ({
      snapshot: snapshot(id, {
        time_ms: T0,
        schema_version: 4,
        changes: { tables_created: ['main.orders'] },
        commit_extra_info: '{"cache":"orders","refresh":3}',
        writer: null,
        schema_changes: ['tables_created'],
      }),
      tables: [{ table: 'main.orders', created: true, altered: false, inserted: 1204, deleted: 0, updated: 0 }],
    });
    const b = new ScriptedBackend().answer('snapshot_changes', late as never, changes(9));
    const target = document.createElement('div');
    document.body.append(target);
    const travelled: [number, string | undefined][] = [];
    const compared: [string, number, number][] = [];
    const props = $state({
      backend: b,
      id: 8 as number | null,
      latest: 9,
      onTravel: (id: number, t: string | undefined) => travelled.push([id, t]),
      onExpire: () => {},
      onCompare: (t: string, from: number, to: number) => compared.push([t, from, to]),
    });
    shown = mount(SnapshotDetail, { target, props });
    flushSync();
    props.id = 9;
    await settle();
    release(changes(8));
    await settle();
    expect(q(target, '.panel-title')?.textContent).toContain('Snapshot 9');
    expect(target.textContent).toContain('cache orders · refresh 3');
    expect(q(target, '[data-table="main.orders"]')?.textContent).toContain('1,204');
    expect(target.textContent).toContain('The latest snapshot is never expired.');
    button(target, /Travel to this snapshot/).click();
    expect(travelled).toEqual([[9, 'main.orders']]);
    button(target, /^Diff$/).click();
    expect(compared).toEqual([['main.orders', 8, 9]]);
  });
});

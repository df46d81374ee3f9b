// The router at a glance, for the Overview: per node the statements it served (reads,
// writes, reads retried on the primary), its configured and effective weight and its
// standing in the rotation (the words of `rotationWords`, which the top bar, the topology and
// the attention list use too), and a `lake` row for the reads fresh caches served from the
// lake (`RoutingStats.cache_reads`); from `routing` and then one `routing` event a second.
// When every replica is out of rotation a critical banner says so loudly: reads then all go
// to the primary.

import type { NodeRouting, RoutingStats } from '../lib/bindings';
import { h, replace, setAttr, setText, syncList } from '../lib/dom';
import { errorBox } from '../lib/errors';
import { count, duration } from '../lib/format';
import { href } from '../lib/router';
import { badge, rotationBadge } from '../lib/status';
import type { Store } from '../lib/store';

export interface RoutingPanel {
  /** The panel (`[data-testid=routing]`). */
  el: HTMLElement;
  /** The banner slot for the top of the page (`[data-testid=all-out]` when every replica is out). */
  banner: HTMLElement;
  render(): void;
}

function rotationTitle(n: NodeRouting): string {
  const lag = n.lag_ms === null ? 'replay lag unknown' : `replay lag ${duration(n.lag_ms)} at the last sample`;
  if (n.role === 'primary') return 'The primary serves writes, locks and session statements, and reads when no replica qualifies';
  const lsn = n.replay_lsn ? ` · replayed ${n.replay_lsn}` : '';
  return n.in_rotation ? `Reads may go here · ${lag}${lsn}` : `${n.reason ?? 'Out of rotation'} · ${lag}${lsn}`;
}

/** Configured → effective weight (`1 → 0.5` past warning, `1 → 0` out), or just `1`. */
export function weightText(n: NodeRouting): string {
  if (n.role === 'primary') return '—';
  const eff = Number.isInteger(n.weight) ? String(n.weight) : n.weight.toFixed(2).replace(/0$/, '');
  return n.weight === n.configured_weight ? String(n.configured_weight) : `${n.configured_weight} → ${eff}`;
}

/** A row of the routing table: a node, or the lake (reads served by fresh caches). */
type Row = NodeRouting | { name: 'lake'; lake: true; reads: number };

export function routingPanel(store: Store): RoutingPanel {
  const head = h('span', { class: 'muted small routing-head' });
  const body = h('tbody');
  const foot = h('p', { class: 'hint routing-foot' });
  const slot = h('div', { class: 'routing-body' });
  const table = h(
    'table',
    { class: 'table compact routing-table', 'aria-label': 'Statements routed to each node' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, 'node'),
        h('th', { scope: 'col' }, 'role'),
        h('th', { scope: 'col', class: 'num', title: 'Statements classified as reads that this node served' }, 'reads'),
        h(
          'th',
          { scope: 'col', class: 'num', title: 'Statements that had to run on the primary (writes, locks, DDL, session state)' },
          'writes',
        ),
        h('th', { scope: 'col', class: 'num', title: 'Reads that failed on this node and were retried once on the primary' }, 'retried'),
        h(
          'th',
          {
            scope: 'col',
            class: 'num',
            title: "Configured → effective balancing weight: the profile's, halved past the warning lag, 0 when out of rotation",
          },
          'weight',
        ),
        h('th', { scope: 'col' }, 'in rotation'),
      ),
    ),
    body,
  );
  const el = h(
    'section',
    { class: 'panel routing', 'aria-labelledby': 'routing-title', dataset: { testid: 'routing' } },
    h('h2', { class: 'panel-title', id: 'routing-title' }, h('a', { href: href('workbench') }, 'Routing'), head),
    slot,
  );
  const banner = h('div', { class: 'notice-slot' });

  const render = () => {
    const r: RoutingStats | null = store.routing;
    // The loud part first: every replica out of rotation.
    const allOut = !!r?.all_out;
    if (allOut !== banner.hasChildNodes()) {
      replace(
        banner,
        allOut
          ? h(
              'div',
              { class: 'notice all-out tone-crit-row', role: 'alert', dataset: { testid: 'all-out' } },
              h('span', { class: 'all-out-icon', 'aria-hidden': 'true' }, '✕'),
              h('b', null, 'Every replica is out of rotation: reads go to the primary.'),
              ' ',
              h('a', { href: href('replicas') }, 'See the replicas'),
            )
          : null,
      );
    }
    setAttr(el, 'data-all-out', r ? String(r.all_out) : null);
    if (!r) {
      setText(head, '');
      if (store.routingError) {
        if (!slot.querySelector('.error-box'))
          replace(
            slot,
            errorBox(store.routingError, 'Reading the router counters', { compact: true, retry: () => void store.loadRouting() }),
          );
      } else if (!slot.querySelector('.loading-note'))
        replace(slot, h('p', { class: 'muted small loading-note' }, 'waiting for the router…'));
      return;
    }
    setText(head, ` · policy ${r.policy.replaceAll('_', ' ')} · read splitting ${r.read_splitting ? 'on' : 'off'}`);
    setAttr(
      head,
      'title',
      r.read_splitting
        ? 'Reads go to replicas in rotation ([router] read_splitting = true)'
        : 'Every statement goes to the primary ([router] read_splitting = false)',
    );
    if (slot.firstChild !== table) replace(slot, table, foot);
    const rows: Row[] = [...r.nodes, { name: 'lake', lake: true, reads: r.cache_reads }];
    syncList(
      body,
      rows,
      (n) => n.name,
      (n) => {
        const tr = h('tr', { dataset: { routingNode: n.name } });
        for (const col of ['node', 'role', 'reads', 'writes', 'retried', 'weight', 'rotation']) {
          tr.append(
            h('td', {
              class: ['reads', 'writes', 'retried', 'weight'].includes(col) ? 'num' : col === 'node' ? 'mono' : undefined,
              dataset: { col },
            }),
          );
        }
        return tr;
      },
      (tr, n) => {
        const cell = (c: string) => tr.querySelector<HTMLElement>(`td[data-col=${c}]`)!;
        if ('lake' in n) {
          setText(cell('node'), 'lake');
          setText(cell('role'), 'caches');
          setText(cell('reads'), count(n.reads));
          for (const c of ['writes', 'retried', 'weight']) setText(cell(c), '—');
          const rot = cell('rotation');
          if (rot.dataset.k !== 'lake') {
            rot.dataset.k = 'lake';
            replace(rot, badge({ word: 'fresh caches only', tone: 'muted', icon: '≋' }));
          }
          setAttr(rot, 'title', 'Reads whose answer a fresh cache held were served from the lake (DuckLake), not from a node');
          setAttr(tr, 'data-reads', String(n.reads));
          return;
        }
        setText(cell('node'), n.name);
        setText(cell('role'), n.role);
        setText(cell('reads'), count(n.reads));
        setText(cell('writes'), count(n.writes));
        setText(cell('retried'), count(n.retried));
        setText(cell('weight'), weightText(n));
        setAttr(
          cell('weight'),
          'title',
          n.role === 'primary' ? null : `configured ${n.configured_weight} ([[replicas]] weight) · effective ${n.weight} now`,
        );
        setAttr(tr, 'data-weight', String(n.weight));
        setAttr(tr, 'data-configured-weight', String(n.configured_weight));
        setAttr(cell('retried'), 'data-nonzero', n.retried > 0 ? 'true' : null);
        const b = rotationBadge(n);
        const rot = cell('rotation');
        const key = `${b.tone}|${b.word}`;
        if (rot.dataset.k !== key) {
          rot.dataset.k = key;
          replace(rot, badge(b));
        }
        setAttr(rot, 'title', rotationTitle(n));
        setAttr(tr, 'data-reads', String(n.reads));
        setAttr(tr, 'data-writes', String(n.writes));
        setAttr(tr, 'data-retried', String(n.retried));
        setAttr(tr, 'data-in-rotation', String(n.in_rotation));
        setAttr(rot, 'data-rotation', rotationBadge(n).word);
        setAttr(tr, 'class', !n.in_rotation ? 'routing-out' : null);
      },
    );
    const inRotation = r.nodes.filter((n) => n.role === 'replica' && n.in_rotation).length;
    const replicas = r.nodes.filter((n) => n.role === 'replica').length;
    setText(
      foot,
      `${count(inRotation)} of ${count(replicas)} ${replicas === 1 ? 'replica' : 'replicas'} in rotation · ` +
        `${count(r.cache_reads)} ${r.cache_reads === 1 ? 'read' : 'reads'} served from the lake by fresh caches · ` +
        `${count(r.fallbacks)} ${r.fallbacks === 1 ? 'read' : 'reads'} fell back to the primary (no replica qualified, or read-your-writes timed out) · counted since this console started`,
    );
  };

  render();
  return { el, banner, render };
}

// Overview: the topology at a glance (primary → replicas with their timelines and standing
// in the rotation, the lake and its caches), the "Needs attention" list (the backend's,
// recomputed every lag tick and pushed as an `attention` event, so its values are live), and
// the router's per-node counters. Live: lag ticks update the replicas, `routing` events their
// rotation (the same words as the routing table, the top bar and the attention list),
// `caches` / `lake` events the right-hand column.

import type { CacheState, NodeStatus } from '../lib/bindings';
import { h, replace, setAttr, setText, syncList, timeAgo } from '../lib/dom';
import { bytes, count, duration } from '../lib/format';
import { Disposer, type PageFactory } from '../lib/page';
import { href } from '../lib/router';
import { badge, nodeBadge, rotationBadge, routingOf, tlsFact, worst } from '../lib/status';
import { onThemeChange, resolvedTheme } from '../lib/theme';
import { LagChart } from '../replicas/chart';
import { seriesColor, seriesDash } from '../replicas/palette';
import { routingPanel } from '../workbench/routing';

/** The page that shows an attention item's subject (`replica2`, `cache x`, `lake`). */
function subjectLink(subject: string): string {
  if (subject.startsWith('cache ')) return href('caches');
  if (subject === 'lake') return href('snapshots');
  return href('replicas');
}

export const overviewPage: PageFactory = ({ store }) => {
  const d = new Disposer();

  // Primary.
  const primaryBody = h('div', { class: 'node-body' });
  const primaryCard = h(
    'div',
    { class: 'topo-card', dataset: { testid: 'topo-primary' } },
    h('div', { class: 'topo-kicker' }, 'Primary · writes'),
    primaryBody,
  );

  // Replicas.
  const replicaList = h('ul', { class: 'topo-replicas', 'aria-label': 'Replicas' });
  const replicaCard = h(
    'div',
    { class: 'topo-card', dataset: { testid: 'topo-replicas' } },
    h('div', { class: 'topo-kicker' }, h('a', { href: href('replicas') }, 'Replicas · reads')),
    replicaList,
  );

  // Lake and caches.
  const lakeBody = h('div', { class: 'node-body' });
  const lakeCard = h(
    'div',
    { class: 'topo-card', dataset: { testid: 'topo-lake' } },
    h('div', { class: 'topo-kicker' }, h('a', { href: href('snapshots') }, 'Lake · DuckLake')),
    lakeBody,
  );
  const cacheBody = h('div', { class: 'node-body' });
  const cacheCard = h(
    'div',
    { class: 'topo-card', dataset: { testid: 'topo-caches' } },
    h('div', { class: 'topo-kicker' }, h('a', { href: href('caches') }, 'Caches')),
    cacheBody,
  );

  const attention = h('ul', { class: 'attention-list', dataset: { testid: 'attention' } });
  const routing = routingPanel(store);

  const el = h(
    'section',
    { class: 'page-inner overview' },
    h('div', { class: 'page-head' }, h('h1', null, 'Overview')),
    routing.banner,
    h(
      'div',
      { class: 'topology', role: 'group', 'aria-label': 'Topology' },
      primaryCard,
      h('div', { class: 'topo-link', 'aria-hidden': 'true' }, h('span', null, 'WAL'), h('span', { class: 'arrow' }, '→')),
      replicaCard,
      h('div', { class: 'topo-stack' }, lakeCard, cacheCard),
    ),
    h('h2', { class: 'section-title' }, 'Needs attention'),
    attention,
    routing.el,
  );

  // Replay lag of every replica on one chart (the Replicas page has one per replica).
  const lagPanel = h('section', { class: 'panel overview-lag', 'aria-label': 'Replay lag of every replica' });
  el.append(lagPanel);
  let lagChart: LagChart | null = null;
  let lagKey = '';
  const replicaNames = () => (store.sample?.nodes ?? store.profile?.nodes ?? []).filter((n) => n.role === 'replica').map((n) => n.name);
  const layoutLag = () => {
    const names = replicaNames();
    const key = `${names.join(',')}|${resolvedTheme()}`;
    if (key === lagKey) return;
    lagKey = key;
    lagChart?.destroy();
    lagChart = null;
    if (!names.length) {
      replace(lagPanel);
      return;
    }
    const theme = resolvedTheme();
    lagChart = new LagChart(store.timeline, {
      height: 180,
      label: 'Replay lag of every replica, last hour',
      series: names.map((name, i) => ({
        label: name,
        scale: 'lag',
        color: seriesColor(i, theme),
        dash: seriesDash(i),
        get: () => store.timeline.node(name)?.lag,
        width: 1.5,
      })),
      thresholds: () => store.thresholds,
      axes: true,
      lagAxis: true,
      bytesAxis: false,
      legend: true,
      syncKey: 'skein-overview',
    });
    replace(
      lagPanel,
      h(
        'h2',
        { class: 'panel-title' },
        h('a', { href: href('replicas') }, 'Replay lag'),
        h('span', { class: 'muted small' }, ' · every replica · last hour · pg_stat_replication.replay_lag'),
      ),
      lagChart.el,
    );
  };
  const onLagChart = () => {
    layoutLag();
    if (!document.hidden) lagChart?.update();
  };
  d.add(store.on('lag', onLagChart));
  d.add(
    store.on('history', () => {
      layoutLag();
      lagChart?.reset();
    }),
  );
  d.add(
    onThemeChange(() => {
      lagKey = '';
      layoutLag();
    }),
  );
  d.add(() => lagChart?.destroy());
  layoutLag();

  const nodeFacts = (n: NodeStatus) => {
    const facts: (string | HTMLElement)[] = [];
    if (n.lsn)
      facts.push(h('span', { class: 'mono', title: n.role === 'primary' ? 'pg_current_wal_lsn()' : 'pg_last_wal_replay_lsn()' }, n.lsn));
    if (n.timeline_id !== null)
      facts.push(
        h(
          'span',
          {
            class: 'muted',
            dataset: { testid: 'timeline' },
            title: 'The WAL timeline (pg_walfile_name(pg_current_wal_lsn()) on the primary)',
          },
          ` · timeline ${n.timeline_id}`,
        ),
      );
    const tls = tlsFact(n);
    if (tls)
      facts.push(
        h('span', { class: tls.encrypted ? 'muted' : 'muted tls-off', dataset: { testid: 'tls' }, title: tls.title }, ` · ${tls.word}`),
      );
    return facts;
  };

  const renderNodes = () => {
    const s = store.sample;
    const profNodes = store.profile?.nodes ?? [];
    const prim = s?.nodes.find((n) => n.role === 'primary');
    const primInfo = profNodes.find((n) => n.role === 'primary');
    const primKey = prim
      ? `${prim.state}|${prim.level}|${prim.lsn}|${prim.timeline_id}|${prim.tls?.version}|${prim.tls?.cipher}|${prim.error?.code}|${prim.error?.message}`
      : 'none';
    if (primaryBody.dataset.k === primKey) {
      /* unchanged */
    } else if (!prim) {
      primaryBody.dataset.k = primKey;
      replace(
        primaryBody,
        h('div', { class: 'node-name' }, primInfo?.name ?? 'primary'),
        h('div', { class: 'muted' }, 'waiting for the first lag sample'),
      );
    } else {
      primaryBody.dataset.k = primKey;
      replace(
        primaryBody,
        h('div', { class: 'node-name' }, prim.name, ' ', badge(nodeBadge(prim))),
        h('div', { class: 'muted mono small' }, primInfo?.address ?? ''),
        h('div', { class: 'small' }, ...nodeFacts(prim)),
        prim.error ? h('div', { class: 'node-error' }, h('code', null, prim.error.code), ' ', prim.error.message) : null,
      );
      setAttr(primaryCard, 'data-tone', nodeBadge(prim).tone);
    }
    const reps: (NodeStatus | { name: string; address: string })[] = s
      ? s.nodes.filter((n) => n.role === 'replica')
      : profNodes.filter((n) => n.role === 'replica');
    const tones = s ? s.nodes.filter((n) => n.role === 'replica').map((n) => nodeBadge(n).tone) : [];
    setAttr(replicaCard, 'data-tone', tones.length ? worst(tones) : 'muted');
    if (!reps.length) {
      replace(replicaList, h('li', { class: 'muted' }, 'No replicas in this profile: reads go to the primary.'));
      return;
    }
    if (replicaList.firstElementChild && !replicaList.firstElementChild.hasAttribute('data-key')) replicaList.replaceChildren();
    syncList(
      replicaList,
      reps,
      (n) => n.name,
      (n) => {
        const li = h('li', { class: 'topo-replica', dataset: { replica: n.name } });
        li.append(
          h('a', { class: 'replica-name', href: href('replicas') }, n.name),
          h('span', { class: 'replica-state' }),
          h('span', { class: 'replica-rotation', dataset: { testid: 'topo-rotation' } }),
          h('span', {
            class: 'lag-badge',
            title: 'Replay lag (pg_stat_replication.replay_lag on the primary) · bytes behind (primary LSN − replay LSN)',
          }),
          h('div', { class: 'replica-error' }),
        );
        return li;
      },
      (li, n) => {
        const info = profNodes.find((p) => p.name === n.name);
        setAttr(li.querySelector('.replica-name')!, 'title', info?.address ?? '');
        const stateEl = li.querySelector<HTMLElement>('.replica-state')!;
        const lagEl = li.querySelector<HTMLElement>('.lag-badge')!;
        const errEl = li.querySelector<HTMLElement>('.replica-error')!;
        if (!('state' in n)) {
          setText(stateEl, '…');
          setText(lagEl, '');
          return;
        }
        const b = nodeBadge(n);
        const key = `${b.tone}|${b.word}`;
        if (stateEl.dataset.k !== key) {
          stateEl.dataset.k = key;
          replace(stateEl, badge(b));
        }
        setAttr(li, 'data-tone', b.tone);
        setAttr(li, 'data-state', n.state);
        const rn = routingOf(store.routing, n.name);
        const rotEl = li.querySelector<HTMLElement>('.replica-rotation')!;
        const rb = rn ? rotationBadge(rn) : null;
        const rkey = rb ? `${rb.tone}|${rb.word}` : '';
        if (rotEl.dataset.k !== rkey) {
          rotEl.dataset.k = rkey;
          replace(rotEl, rb ? badge(rb) : null);
        }
        setAttr(rotEl, 'data-rotation', rb?.word ?? null);
        setAttr(rotEl, 'title', rn ? (rn.reason ?? (rn.in_rotation ? 'reads may go here' : 'out of rotation')) : null);
        const tli = n.timeline_id !== null ? ` · timeline ${n.timeline_id}` : '';
        const tls = tlsFact(n);
        setText(
          lagEl,
          n.state === 'down'
            ? ''
            : n.state === 'promoted'
              ? `no replay lag: out of recovery${tli}`
              : `${duration(n.replay_lag_ms)} · ${bytes(n.lag_bytes)}${tli}${tls ? ` · ${tls.word}` : ''}`,
        );
        setAttr(lagEl, 'data-tls', tls?.word ?? null);
        setAttr(lagEl, 'data-level', n.level);
        setAttr(li, 'data-lag-bytes', n.lag_bytes === null ? '' : String(n.lag_bytes));
        setAttr(li, 'data-replay-lag-ms', n.replay_lag_ms === null ? '' : String(n.replay_lag_ms));
        setText(errEl, n.error ? `${n.error.code}: ${n.error.message}` : '');
        errEl.hidden = !n.error;
      },
    );
  };

  const renderLake = () => {
    const l = store.lake;
    const p = store.profile;
    if (!l || (!l.reachable && !l.error)) {
      replace(lakeBody, h('div', { class: 'node-name' }, p?.lake_name ?? 'lake'), h('div', { class: 'muted' }, 'opening the lake…'));
      setAttr(lakeCard, 'data-tone', 'muted');
      return;
    }
    const b = l.reachable
      ? { word: 'reachable', tone: 'ok' as const, icon: '●' }
      : { word: 'unreachable', tone: 'crit' as const, icon: '✕' };
    setAttr(lakeCard, 'data-tone', b.tone);
    replace(
      lakeBody,
      h('div', { class: 'node-name' }, p?.lake_name ?? 'lake', ' ', badge(b)),
      h(
        'div',
        { class: 'big-num', dataset: { testid: 'lake-snapshots' } },
        count(l.snapshots ?? 0),
        h('span', { class: 'unit' }, ' snapshots'),
      ),
      l.current_snapshot !== null
        ? h(
            'div',
            { class: 'small muted' },
            'current snapshot ',
            h('a', { href: href('snapshots', l.current_snapshot) }, String(l.current_snapshot)),
          )
        : null,
      l.error ? h('div', { class: 'node-error' }, h('code', null, l.error.code), ' ', l.error.message) : null,
      !l.reachable
        ? h('div', { class: 'small muted' }, 'Replicas and lag charts still work; caches and snapshots wait for the lake.')
        : null,
    );
  };

  const renderCaches = () => {
    const cs = store.caches;
    const by = new Map<CacheState | 'refreshing' | 'error', number>();
    for (const c of cs) {
      const k = c.refreshing ? 'refreshing' : c.last_outcome?.result === 'ERROR' ? 'error' : c.status.state;
      by.set(k, (by.get(k) ?? 0) + 1);
    }
    const item = (k: CacheState | 'refreshing' | 'error', tone: string, icon: string, word: string) =>
      by.get(k)
        ? h(
            'li',
            { class: `cache-count tone-${tone}`, dataset: { cacheState: k } },
            h('span', { 'aria-hidden': 'true' }, icon),
            h('b', null, count(by.get(k)!)),
            ` ${word}`,
          )
        : null;
    // Expired (TTL passed, sources unchanged) holds current data: never an alarm colour.
    const cacheTone = by.get('error') ? 'crit' : by.get('stale') || by.get('edited') ? 'warn' : cs.length ? 'ok' : 'muted';
    setAttr(cacheCard, 'data-tone', cacheTone);
    const newest = Math.max(0, ...cs.map((c) => c.status.last_refresh?.refreshed_at_ms ?? 0));
    replace(
      cacheBody,
      cs.length === 0
        ? h('div', { class: 'muted' }, store.lake?.reachable === false ? 'unknown while the lake is unreachable' : 'no caches defined')
        : h(
            'ul',
            { class: 'cache-counts' },
            item('fresh', 'ok', '●', 'fresh'),
            item('stale', 'warn', '▲', 'stale'),
            item('edited', 'warn', '▲', 'edited'),
            item('expired', 'info', '◷', 'expired · data current'),
            item('error', 'crit', '✕', 'failed'),
            item('refreshing', 'info', '↻', 'refreshing'),
            item('empty', 'muted', '○', 'empty'),
            item('unknown', 'muted', '?', 'unknown'),
          ),
      newest ? h('div', { class: 'small muted' }, 'last refresh ', timeAgo(newest)) : null,
    );
  };

  const renderAttention = () => {
    const items = store.attention;
    if (!items.length) {
      replace(
        attention,
        h('li', { class: 'attention-none' }, h('span', { class: 'tone-ok-text', 'aria-hidden': 'true' }, '✓ '), 'Nothing needs attention.'),
      );
      return;
    }
    replace(
      attention,
      items.map((a) => {
        // Info (e.g. a cache past its TTL whose data is current) is said calmly: never an alarm colour.
        const b =
          a.severity === 'critical'
            ? { word: 'critical', tone: 'crit' as const, icon: '✕' }
            : a.severity === 'warning'
              ? { word: 'warning', tone: 'warn' as const, icon: '▲' }
              : { word: 'info', tone: 'info' as const, icon: 'ℹ' };
        return h(
          'li',
          { class: `attention-item tone-${b.tone}-row`, dataset: { severity: a.severity, subject: a.subject } },
          badge(b),
          h('a', { class: 'attention-subject', href: subjectLink(a.subject) }, a.subject),
          h('span', { class: 'attention-message' }, a.message),
        );
      }),
    );
  };

  d.add(store.on('lag', renderNodes));
  d.add(store.on('lake', renderLake));
  d.add(store.on('caches', renderCaches));
  d.add(store.on('attention', renderAttention));
  d.add(
    store.on('routing', () => {
      routing.render();
      renderNodes();
    }),
  );
  renderNodes();
  renderLake();
  renderCaches();
  renderAttention();
  store.refreshAttention();

  return { el, destroy: () => d.dispose() };
};

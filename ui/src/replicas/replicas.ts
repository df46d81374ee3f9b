// Replicas: for each replica its state word and a chart of replay lag (seconds, left axis)
// and bytes behind (right axis) over the last hour, one sample a second from `lag` events
// (the history from `lag_history` first). Up to four replicas get a chart each; past that,
// one combined chart per measure with a legend, and a small-multiples grid.

import type { ChartFile, ChartFormat, NodeStatus } from '../lib/bindings';
import { filterBox, h, replace, setAttr, setText, timeAgo } from '../lib/dom';
import { errorBox } from '../lib/errors';
import { bytes, duration, parseTime, seconds, utc } from '../lib/format';
import { download } from '../lib/grid';
import { LagChart } from '../lib/lagchart';
import { Disposer, type PageFactory } from '../lib/page';
import { seriesColor, seriesDash, withAlpha } from '../lib/palette';
import { badge, nodeBadge, rotationBadge, routingOf, tlsFact } from '../lib/status';
import { cssVar, onThemeChange, resolvedTheme } from '../lib/theme';

/** Saves an exported chart (base64 PNG or SVG text) as a file. */
function downloadChart(f: ChartFile): void {
  const body = f.mime === 'image/png' ? Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0)) : f.data;
  download(f.file_name, body, f.mime);
}

/** Up to this many replicas, one chart each. */
const PER_REPLICA_MAX = 4;

const LAG_SOURCE =
  'Replay lag: pg_stat_replication.replay_lag on the primary (now() − pg_last_xact_replay_timestamp() only while the replica is behind).';
const BYTES_SOURCE = 'Bytes behind: primary pg_current_wal_lsn() − replica pg_last_wal_replay_lsn().';

interface Card {
  name: string;
  root: HTMLElement;
  /** Pause / resume WAL replay; disabled with the reason when the role may not. */
  replay: HTMLButtonElement;
  /** Why replay control is disabled (the privileges probe's reason), under the header. */
  replayNote: HTMLElement;
  /** A failed pause or resume. */
  actionError: HTMLElement;
  state: HTMLElement;
  rotation: HTMLElement;
  numbers: HTMLElement;
  error: HTMLElement;
  hover: HTMLElement | null;
  chart: LagChart;
}

export const replicasPage: PageFactory = ({ store, backend }) => {
  const d = new Disposer();
  const charts: LagChart[] = [];
  const cards = new Map<string, Card>();
  let layoutKey = '';

  const head = h('div', { class: 'page-head' }, h('h1', null, 'Replicas'));
  const primaryLine = h('div', { class: 'primary-line', dataset: { testid: 'primary-line' } });
  const notice = h('div', { class: 'notice-slot' });
  const body = h('div', { class: 'replicas-body' });
  const filter = filterBox('Filter replicas', 'Filter replicas');
  filter.hidden = true;
  head.append(filter);
  const el = h(
    'section',
    { class: 'page-inner replicas' },
    head,
    primaryLine,
    notice,
    body,
    h(
      'p',
      { class: 'hint' },
      'Drag across a chart to zoom; Reset zoom (or a double-click) shows the whole hour again. Times are UTC. A promoted or down replica has no lag: its line has a gap. ',
      LAG_SOURCE,
      ' ',
      BYTES_SOURCE,
    ),
  );

  const replicaNames = (): string[] => {
    const fromSample = store.sample?.nodes.filter((n) => n.role === 'replica').map((n) => n.name);
    if (fromSample?.length) return fromSample;
    return (store.profile?.nodes ?? []).filter((n) => n.role === 'replica').map((n) => n.name);
  };
  const thresholds = () => store.thresholds;

  const makeCard = (name: string, mini: boolean): Card => {
    const state = h('span', { class: 'replica-state' });
    const rotation = h('span', { class: 'replica-rotation', dataset: { testid: 'replica-rotation' } });
    const numbers = h('span', { class: 'replica-numbers' });
    const error = h('div', { class: 'replica-error', role: 'status' });
    error.hidden = true;
    const hover = mini ? h('span', { class: 'replica-hover muted small' }) : null;
    const theme = resolvedTheme();
    const chart = new LagChart(store.timeline, {
      height: mini ? 70 : 190,
      label: `Replay lag and bytes behind of ${name}, last hour`,
      series: mini
        ? [
            {
              label: 'replay lag',
              scale: 'lag',
              color: cssVar('--chart-lag') || seriesColor(0, theme),
              get: () => store.timeline.node(name)?.lag,
            },
          ]
        : [
            {
              label: 'bytes behind',
              scale: 'bytes',
              color: cssVar('--chart-bytes') || seriesColor(3, theme),
              fill: withAlpha(cssVar('--chart-bytes') || seriesColor(3, theme), 0.12),
              get: () => store.timeline.node(name)?.bytes,
              width: 1.25,
            },
            // Drawn last, so the lag line stays on top where the two shapes meet.
            {
              label: 'replay lag',
              scale: 'lag',
              color: cssVar('--chart-lag') || seriesColor(0, theme),
              get: () => store.timeline.node(name)?.lag,
              width: 1.75,
            },
          ],
      thresholds,
      note: () => {
        const n = store.sample?.nodes.find((x) => x.name === name);
        if (n?.state === 'promoted') return 'promoted · no replay lag: the line ends where it left recovery';
        if (n && (n.state === 'down' || !n.reachable)) return 'down · no reading';
        return null;
      },
      axes: !mini,
      lagAxis: true,
      bytesAxis: !mini,
      legend: !mini,
      syncKey: 'skein-lag',
      onCursor: hover
        ? (idx) => {
            if (idx === null) return setText(hover, '');
            const v = store.timeline.node(name)?.lag[idx];
            setText(hover, `${seconds(v ?? null)} at ${utc((store.timeline.t[idx] ?? 0) * 1000)}`);
          }
        : undefined,
    });
    charts.push(chart);
    const exportButton = (format: ChartFormat) =>
      h(
        'button',
        {
          type: 'button',
          class: 'btn btn-small',
          title: `Download ${name}'s lag chart over the kept history, rendered by the backend`,
          on: {
            click: (ev: MouseEvent) => {
              const btn = ev.currentTarget as HTMLButtonElement;
              btn.disabled = true;
              backend
                .rpc({ method: 'export_lag_chart', params: { node: name, format } })
                .then((f) => {
                  downloadChart(f);
                  replace(error);
                })
                .catch((e: unknown) => replace(error, errorBox(e, `Exporting ${name}'s chart`, { compact: true })))
                .finally(() => {
                  btn.disabled = false;
                });
            },
          },
        },
        `Export ${format.toUpperCase()}`,
      );
    const exports = mini ? null : h('span', { class: 'chart-exports' }, exportButton('png'), exportButton('svg'));
    const actionError = h('div', { class: 'replica-error', role: 'alert' });
    actionError.hidden = true;
    const replayNote = h('p', { class: 'muted small replay-note', dataset: { testid: 'replay-reason' } });
    replayNote.hidden = true;
    const replay = h(
      'button',
      {
        type: 'button',
        class: 'btn btn-small',
        dataset: { testid: 'replay-toggle' },
        on: {
          click: () => {
            const pause = replay.dataset.action !== 'resume';
            replay.disabled = true;
            replay.dataset.busy = '1';
            backend
              .rpc(pause ? { method: 'pause_replay', params: { node: name } } : { method: 'resume_replay', params: { node: name } })
              .then(() => {
                actionError.hidden = true;
                replace(actionError);
              })
              .catch((e: unknown) => {
                actionError.hidden = false;
                replace(actionError, errorBox(e, `${pause ? 'Pausing' : 'Resuming'} replay on ${name}`, { compact: true }));
              })
              .finally(() => {
                delete replay.dataset.busy;
                updateReplay(
                  cards.get(name),
                  store.sample?.nodes.find((n) => n.name === name),
                );
              });
          },
        },
      },
      'Pause replay',
    ) as HTMLButtonElement;
    const root = h(
      'article',
      { class: `replica-card${mini ? ' mini' : ''}`, dataset: { replica: name }, 'aria-label': `Replica ${name}` },
      h('header', { class: 'replica-head' }, h('h2', { class: 'replica-title' }, name), state, rotation, numbers, hover, replay, exports),
      replayNote,
      actionError,
      error,
      chart.el,
    );
    return { name, root, replay, replayNote, actionError, state, rotation, numbers, error, hover, chart };
  };

  /** The replay button: Resume on a paused replica, else Pause; disabled with the probe's reason. */
  const updateReplay = (c: Card | undefined, n: NodeStatus | undefined) => {
    if (!c) return;
    const paused = n?.state === 'paused';
    const action = paused ? 'resume' : 'pause';
    c.replay.dataset.action = action;
    setText(c.replay, paused ? 'Resume replay' : 'Pause replay');
    const allowed = store.privilegesOf(c.name)?.replay_control;
    const denied = allowed && !allowed.allowed ? (allowed.reason ?? "the profile's role may not control replay") : null;
    const noReplay =
      !n || n.state === 'down' || n.state === 'promoted' ? 'no WAL replay to control: the replica is down or out of recovery' : null;
    c.replay.disabled = !!denied || !!noReplay || c.replay.dataset.busy === '1';
    setAttr(
      c.replay,
      'title',
      denied ??
        noReplay ??
        (paused ? 'Resume WAL replay (pg_wal_replay_resume())' : 'Pause WAL replay (pg_wal_replay_pause()): lag then grows with writes'),
    );
    setAttr(c.replay, 'aria-disabled', denied ? 'true' : null);
    c.replayNote.hidden = !denied;
    setText(c.replayNote, denied ? `${paused ? 'Resume' : 'Pause'} replay is disabled: ${denied}` : '');
  };

  const updateCard = (c: Card, n: NodeStatus | undefined) => {
    updateReplay(c, n);
    if (!n) {
      replace(c.state, h('span', { class: 'muted' }, 'no sample yet'));
      return;
    }
    const b = nodeBadge(n);
    const key = `${b.tone}|${b.word}`;
    if (c.state.dataset.k !== key) {
      c.state.dataset.k = key;
      replace(c.state, badge(b));
    }
    const rn = routingOf(store.routing, n.name);
    const rb = rn ? rotationBadge(rn) : null;
    const rkey = rb ? `${rb.tone}|${rb.word}` : '';
    if (c.rotation.dataset.k !== rkey) {
      c.rotation.dataset.k = rkey;
      replace(c.rotation, rb ? badge(rb) : null);
    }
    setAttr(c.rotation, 'title', rn?.reason ?? null);
    setAttr(c.root, 'data-state', n.state);
    setAttr(c.root, 'data-tone', b.tone);
    setAttr(c.root, 'data-level', n.level);
    setAttr(c.root, 'data-lag-bytes', n.lag_bytes === null ? '' : String(n.lag_bytes));
    setAttr(c.root, 'data-replay-lag-ms', n.replay_lag_ms === null ? '' : String(n.replay_lag_ms));
    const tls = tlsFact(n);
    const tli = (n.timeline_id !== null ? ` · timeline ${n.timeline_id}` : '') + (tls ? ` · ${tls.word}` : '');
    setAttr(c.root, 'data-tls', tls?.word ?? null);
    const lagText =
      n.state === 'down'
        ? 'lag unknown'
        : n.state === 'promoted'
          ? `no replay lag: promoted, out of recovery, it replays nothing${tli}`
          : `lag ${duration(n.replay_lag_ms)} · ${bytes(n.lag_bytes)} behind${tli}`;
    if (c.numbers.dataset.text !== lagText + (n.lsn ?? '')) {
      c.numbers.dataset.text = lagText + (n.lsn ?? '');
      const replayed = parseTime(n.last_replay_at);
      replace(
        c.numbers,
        h('span', { class: 'num', title: `${LAG_SOURCE}\n${BYTES_SOURCE}` }, lagText),
        n.lsn && !c.hover
          ? h(
              'span',
              { class: 'muted mono', title: 'pg_last_wal_replay_lsn() / pg_last_wal_receive_lsn()' },
              ` · replay ${n.lsn}${n.receive_lsn && n.receive_lsn !== n.lsn ? ` / received ${n.receive_lsn}` : ''}`,
            )
          : null,
        replayed && !c.hover ? h('span', { class: 'muted' }, ' · last replayed ', timeAgo(replayed)) : null,
      );
    }
    const errText = n.error ? `${n.error.code}: ${n.error.message}` : '';
    if (c.error.dataset.text !== errText) {
      c.error.dataset.text = errText;
      c.error.hidden = !n.error;
      if (n.error) replace(c.error, h('span', { 'aria-hidden': 'true' }, '✕ '), h('code', null, n.error.code), ' ', n.error.message);
    }
  };

  const combined = (names: string[]) => {
    const theme = resolvedTheme();
    const mk = (measure: 'lag' | 'bytes') =>
      new LagChart(store.timeline, {
        height: 240,
        label: measure === 'lag' ? 'Replay lag of every replica, last hour' : 'Bytes behind of every replica, last hour',
        series: names.map((name, i) => ({
          label: name,
          scale: measure,
          color: seriesColor(i, theme),
          dash: seriesDash(i),
          get: () => (measure === 'lag' ? store.timeline.node(name)?.lag : store.timeline.node(name)?.bytes),
          width: 1.25,
        })),
        thresholds,
        axes: true,
        lagAxis: measure === 'lag',
        bytesAxis: measure === 'bytes',
        legend: true,
        syncKey: 'skein-lag',
      });
    const lag = mk('lag');
    const by = mk('bytes');
    charts.push(lag, by);
    return h(
      'div',
      { class: 'combined' },
      h(
        'section',
        { class: 'panel' },
        h(
          'h2',
          { class: 'panel-title' },
          'Replay lag',
          h('span', { class: 'muted small' }, ' · all replicas · click a legend entry to hide it'),
        ),
        lag.el,
      ),
      h(
        'section',
        { class: 'panel' },
        h('h2', { class: 'panel-title' }, 'Bytes behind', h('span', { class: 'muted small' }, ' · all replicas')),
        by.el,
      ),
    );
  };

  const layout = () => {
    const names = replicaNames();
    const key = `${names.join(',')}|${resolvedTheme()}`;
    if (key === layoutKey) return;
    layoutKey = key;
    for (const c of charts.splice(0)) c.destroy();
    cards.clear();
    if (!names.length) {
      filter.hidden = true;
      replace(body, h('p', { class: 'muted empty' }, 'This profile has no replicas: every read goes to the primary.'));
      return;
    }
    const many = names.length > PER_REPLICA_MAX;
    filter.hidden = !many;
    const grid = h('div', { class: many ? 'multiples' : 'replica-list' });
    for (const name of names) {
      const c = makeCard(name, many);
      cards.set(name, c);
      grid.append(c.root);
    }
    replace(body, many ? combined(names) : null, many ? h('h2', { class: 'section-title' }, 'Each replica') : null, grid);
    renderNodes();
    applyFilter();
  };

  const renderNodes = () => {
    const nodes = store.sample?.nodes ?? [];
    for (const c of cards.values())
      updateCard(
        c,
        nodes.find((n) => n.name === c.name),
      );
    const p = nodes.find((n) => n.role === 'primary');
    if (p) {
      const b = nodeBadge(p);
      replace(
        primaryLine,
        h('span', { class: 'muted' }, 'Primary '),
        h('b', null, p.name),
        ' ',
        badge(b),
        p.lsn ? h('span', { class: 'muted mono', title: 'pg_current_wal_lsn()' }, ` · WAL at ${p.lsn}`) : null,
        p.error ? h('span', { class: 'replica-error inline' }, ` ✕ ${p.error.code}: ${p.error.message}`) : null,
        store.thresholds
          ? h(
              'span',
              { class: 'muted' },
              ` · thresholds: warning ${duration(store.thresholds.lag_warning_ms)}, critical ${duration(store.thresholds.lag_critical_ms)} (out of rotation)`,
            )
          : null,
      );
    }
  };

  const applyFilter = () => {
    const q = filter.value.trim().toLowerCase();
    for (const c of cards.values()) c.root.hidden = !!q && !c.name.toLowerCase().includes(q);
  };
  filter.addEventListener('input', applyFilter);

  const onLag = () => {
    if (`${replicaNames().join(',')}|${resolvedTheme()}` !== layoutKey) layout();
    renderNodes();
    if (document.hidden) return;
    for (const c of charts) c.update();
  };
  const onHistory = () => {
    if (store.historyError) replace(notice, errorBox(store.historyError, 'Loading the lag history', { compact: true }));
    else replace(notice);
    layout();
    for (const c of charts) c.reset();
  };

  d.add(store.on('lag', onLag));
  d.add(store.on('history', onHistory));
  d.add(store.on('routing', renderNodes));
  d.add(store.on('privileges', renderNodes));
  d.add(
    onThemeChange(() => {
      layoutKey = '';
      layout();
    }),
  );
  const onVisible = () => {
    if (!document.hidden) for (const c of charts) c.update();
  };
  document.addEventListener('visibilitychange', onVisible);
  d.add(() => document.removeEventListener('visibilitychange', onVisible));
  layout();
  if (store.historyError) onHistory();

  return {
    el,
    destroy() {
      d.dispose();
      for (const c of charts.splice(0)) c.destroy();
    },
  };
};

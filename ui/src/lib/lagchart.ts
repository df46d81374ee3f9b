// A lag chart on uPlot: the timeline's columns (shared time axis, replay lag in seconds on
// the left, bytes behind on the right), the profile's warning and critical thresholds as
// dashed lines with labels that never overlap (critical's above its line, warning's below
// its own, or at the other end of the line when there is no room), exact values and UTC
// time on hover, drag to zoom, double-click or "Reset zoom" to reset. A zoomed chart says so
// ("zoomed · 10:02:11–10:04:40 UTC"). Live updates keep the user's zoom: while zoomed, new
// samples land without moving the window. A sample without a lag (down, promoted) is a gap.

import uPlot from 'uplot';
import type { Thresholds } from './bindings';
import { bytes, seconds, utc, utcClock } from './format';
import { directLine } from './linepath';
import { cssVar } from './theme';
import type { LagTimeline } from './timeline';

export interface SeriesSpec {
  label: string;
  /** Fill under the line (a translucent colour). */
  fill?: string;
  /** `rate`: events a minute (recovery conflicts). */
  scale: 'lag' | 'bytes' | 'rate';
  color: string;
  /** The column to draw (read on every update: the timeline may replace its columns). */
  get: () => (number | null)[] | undefined;
  width?: number;
  dash?: number[];
}

export interface ChartOptions {
  height: number;
  series: SeriesSpec[];
  thresholds: () => Thresholds | null;
  /** Draw the axes (small multiples draw none). */
  axes: boolean;
  /** Which value axes to show. */
  lagAxis: boolean;
  bytesAxis: boolean;
  /** A left axis of events a minute (instead of the lag axis). */
  rateAxis?: boolean;
  /** uPlot's legend with live values (small multiples use `onCursor`). */
  legend: boolean;
  /** Charts with the same key share the hover cursor. */
  syncKey: string;
  /** Called with the hovered sample index (null when the cursor leaves). */
  onCursor?: (idx: number | null) => void;
  /** Accessible name of the chart. */
  label: string;
  /** A marker over the plot's top right (e.g. why the line has a gap: "promoted · no replay lag"); none when null. */
  note?: () => string | null;
}

/** Tick steps for seconds: sub-second, then clock-friendly steps. */
const SECOND_INCRS = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400,
];
/** Tick steps for bytes: powers of two in each IEC unit. */
const BYTE_INCRS = [0, 1, 2, 3, 4, 5].flatMap((k) => [1, 2, 4, 8, 16, 32, 64, 128, 256, 512].map((m) => m * 1024 ** k));

/** A value in its scale's unit, as the legend shows it. */
function format(scale: SeriesSpec['scale'], v: number): string {
  if (scale === 'lag') return seconds(v);
  if (scale === 'bytes') return bytes(v);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} a minute`;
}

const SYNC_KEYS = new Map<string, uPlot.SyncPubSub>();
function sync(key: string): uPlot.SyncPubSub {
  let s = SYNC_KEYS.get(key);
  if (!s) {
    s = uPlot.sync(key);
    SYNC_KEYS.set(key, s);
  }
  return s;
}

export class LagChart {
  readonly el: HTMLElement;
  private plot: uPlot | null = null;
  private zoomed = false;
  private pending = false;
  private hovering = false;
  private readonly observer: ResizeObserver;
  /** Whether the chart is on screen (one scrolled away or hidden skips its redraws). */
  private onScreen = true;
  /** New samples came while it was off screen. */
  private stale = false;
  private readonly seen: IntersectionObserver | null;
  private lastWidth = 0;
  private readonly zoomBar: HTMLElement;
  private readonly zoomText: HTMLElement;
  private labels: { warn: HTMLElement; crit: HTMLElement } | null = null;
  private noteEl: HTMLElement | null = null;

  constructor(
    private readonly timeline: LagTimeline,
    private readonly opts: ChartOptions,
  ) {
    this.el = document.createElement('div');
    this.el.className = 'chart';
    this.el.setAttribute('role', 'group');
    this.el.setAttribute('aria-label', opts.label);
    this.el.dataset.seriesColors = opts.series.map((s) => s.color).join(' ');
    this.zoomText = document.createElement('span');
    this.zoomText.className = 'chart-zoom-text';
    const resetBtn = document.createElement('button');
    resetBtn.type = 'button';
    resetBtn.className = 'btn btn-small chart-zoom-reset';
    resetBtn.textContent = 'Reset zoom';
    resetBtn.addEventListener('click', () => this.reset());
    this.zoomBar = document.createElement('div');
    this.zoomBar.className = 'chart-zoom';
    this.zoomBar.dataset.testid = 'chart-zoom';
    this.zoomBar.hidden = true;
    this.zoomBar.append(this.zoomText, resetBtn);
    this.el.append(this.zoomBar);
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(this.el);
    this.seen =
      typeof IntersectionObserver === 'undefined'
        ? null
        : new IntersectionObserver((entries) => {
            const last = entries[entries.length - 1];
            if (!last) return;
            this.onScreen = last.isIntersecting;
            if (this.onScreen && this.stale) this.update();
          });
    this.seen?.observe(this.el);
  }

  /** Whether the user zoomed in (live updates then keep the window). */
  get isZoomed(): boolean {
    return this.zoomed;
  }

  private data(): uPlot.AlignedData {
    const t = this.timeline.t;
    const cols = this.opts.series.map((s) => {
      const c = s.get();
      return c && c.length === t.length ? c : new Array<number | null>(t.length).fill(null);
    });
    return [t, ...cols] as uPlot.AlignedData;
  }

  private build(width: number): void {
    const o = this.opts;
    const grid = cssVar('--chart-grid') || '#8884';
    const axis = cssVar('--chart-axis') || '#888';
    const font = `11px ${cssVar('--font-ui') || 'system-ui, sans-serif'}`;
    const warnColor = cssVar('--warn') || '#b7791f';
    const critColor = cssVar('--crit') || '#c53030';
    const thresholdsS = () => {
      const th = o.thresholds();
      return th ? { warn: th.lag_warning_ms / 1000, crit: th.lag_critical_ms / 1000 } : null;
    };
    const lagRange: uPlot.Range.Function = (_u, _min, max) => {
      const th = thresholdsS();
      const dmax = Number.isFinite(max) ? max : 0;
      let top = Math.max(dmax * 1.15, 1);
      if (th) {
        top = Math.max(top, th.warn * 1.25);
        if (dmax >= th.warn) top = Math.max(top, th.crit * 1.1);
      }
      return [0, top];
    };
    const bytesRange: uPlot.Range.Function = (_u, _min, max) => [0, Number.isFinite(max) && max > 0 ? max * 1.15 : 1024];
    const drawThresholds = (u: uPlot) => {
      const th = thresholdsS();
      if (!th || !o.series.some((s) => s.scale === 'lag')) return;
      const { ctx, bbox } = u;
      ctx.save();
      ctx.lineWidth = Math.max(1, devicePixelRatio);
      ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
      for (const [v, color] of [
        [th.warn, warnColor],
        [th.crit, critColor],
      ] as const) {
        const y = Math.round(u.valToPos(v, 'lag', true));
        if (y < bbox.top || y > bbox.top + bbox.height) continue;
        ctx.strokeStyle = color;
        ctx.beginPath();
        ctx.moveTo(bbox.left, y);
        ctx.lineTo(bbox.left + bbox.width, y);
        ctx.stroke();
      }
      ctx.restore();
      this.placeLabels(u, th);
    };

    // Axis width from its longest label (≈6.5 px a character at 11 px), so "1 min 15 s" fits.
    const labelWidth: uPlot.Axis.Size = (_u, values) =>
      values?.length ? Math.max(40, Math.ceil(Math.max(...values.map((v) => String(v).length)) * 6.5) + 14) : 40;
    const series: uPlot.Series[] = [
      { label: 'time (UTC)', value: (_u, v) => (v === null || v === undefined ? '—' : `${utcClock(v * 1000)} UTC`) },
      ...o.series.map<uPlot.Series>((s) => ({
        label: s.label,
        scale: s.scale,
        stroke: s.color,
        width: s.width ?? 1.5,
        ...(s.dash ? { dash: s.dash } : {}),
        ...(s.fill ? { fill: s.fill } : {}),
        spanGaps: false,
        points: { show: false },
        // Drawn straight onto the canvas, no Path2D a redraw (lib/linepath.ts says why).
        paths: directLine,
        value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : format(s.scale, v)),
      })),
    ];
    const axes: uPlot.Axis[] = [
      {
        show: o.axes,
        stroke: axis,
        font,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1, size: 4 },
        space: 96,
        // Whole seconds at the least, so no two ticks print the same clock time.
        incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600],
        size: 28,
        // 24-hour UTC clock; seconds only when the ticks are less than a minute apart.
        values: (_u, splits, _i, _space, incr) => splits.map((v) => (incr < 60 ? utcClock(v * 1000) : utcClock(v * 1000).slice(0, 5))),
      },
      {
        show: o.axes && o.lagAxis,
        scale: 'lag',
        stroke: axis,
        font,
        size: labelWidth,
        incrs: SECOND_INCRS,
        grid: { stroke: grid, width: 1, show: o.lagAxis },
        ticks: { stroke: grid, width: 1, size: 4 },
        values: (_u, splits) => splits.map((v) => seconds(v).replace('.0 s', ' s')),
      },
      {
        show: o.axes && o.bytesAxis,
        scale: 'bytes',
        side: 1,
        stroke: axis,
        font,
        size: labelWidth,
        incrs: BYTE_INCRS,
        grid: { show: !o.lagAxis, stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1, size: 4 },
        values: (_u, splits) => splits.map((v) => bytes(v)),
      },
      {
        show: o.axes && !!o.rateAxis,
        scale: 'rate',
        stroke: axis,
        font,
        size: labelWidth,
        grid: { stroke: grid, width: 1, show: !!o.rateAxis },
        ticks: { stroke: grid, width: 1, size: 4 },
        values: (_u, splits) => splits.map((v) => `${v}/min`),
      },
    ];

    const opts: uPlot.Options = {
      width,
      height: o.height,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
      // [top, right, bottom, left]; without a left axis the first time label needs room.
      padding: o.axes ? [8, o.bytesAxis ? 0 : 12, 0, o.lagAxis || o.rateAxis ? 0 : 28] : [4, 2, 4, 2],
      scales: {
        x: { time: true },
        lag: { range: lagRange },
        bytes: { range: bytesRange },
        rate: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil((max ?? 0) * 1.2))] },
      },
      series,
      axes,
      legend: { show: o.legend, live: true },
      cursor: {
        drag: { x: true, y: false, setScale: true },
        // Share the hover across charts, not the zoom: each chart keeps its own window.
        sync: {
          key: sync(o.syncKey).key,
          setSeries: false,
          filters: { pub: (type) => type === 'mousemove' || type === 'mouseleave' || type === 'mouseenter' },
        },
        points: { size: 6 },
        y: false,
      },
      hooks: {
        draw: [drawThresholds, (u) => this.placeNote(u)],
        setScale: [
          (u, key) => {
            if (key !== 'x') return;
            const xs = u.data[0];
            const min = u.scales.x?.min;
            const max = u.scales.x?.max;
            if (!xs.length || min === undefined || max === undefined || min === null || max === null) {
              this.zoomed = false;
              return;
            }
            const first = xs[0]!;
            const last = xs[xs.length - 1]!;
            this.zoomed = min > first + 0.5 || max < last - 0.5;
            this.el.dataset.zoomed = String(this.zoomed);
            this.zoomBar.hidden = !this.zoomed;
            if (this.zoomed) this.zoomText.textContent = `zoomed · ${utcClock(min * 1000)}–${utcClock(max * 1000)} UTC`;
          },
        ],
        setCursor: [
          (u) => {
            const idx = u.cursor.idx;
            const hovering = idx !== undefined && idx !== null;
            this.hovering = hovering;
            o.onCursor?.(hovering ? idx : null);
            if (!hovering) this.legendToLatest();
          },
        ],
      },
    };
    this.labels = null;
    this.noteEl = null;
    this.plot = new uPlot(opts, this.data(), this.el);
    this.legendToLatest();
  }

  /** The marker of `opts.note`, over the plot's top right. */
  private placeNote(u: uPlot): void {
    const text = this.opts.note?.() ?? null;
    if (!text && !this.noteEl) return;
    if (!this.noteEl) {
      this.noteEl = document.createElement('span');
      this.noteEl.className = 'chart-note';
      this.noteEl.dataset.testid = 'chart-note';
      u.over.append(this.noteEl);
    }
    if (this.noteEl.hidden !== !text) this.noteEl.hidden = !text;
    if (this.noteEl.textContent !== (text ?? '')) this.noteEl.textContent = text ?? '';
  }

  /**
   * The threshold labels, as elements over the plot (`.threshold-label`): critical's above
   * its line, warning's below its own line; when warning's does not fit below, above its
   * line, and then, if the two would meet, critical's moves to the line's right end.
   */
  private placeLabels(u: uPlot, th: { warn: number; crit: number }): void {
    if (!this.opts.axes) return;
    if (!this.labels) {
      const mk = (level: string) => {
        const el = document.createElement('span');
        el.className = `threshold-label level-${level}`;
        el.dataset.threshold = level;
        u.over.append(el);
        return el;
      };
      this.labels = { warn: mk('warning'), crit: mk('critical') };
    }
    const H = 12;
    const height = u.over.clientHeight;
    const yW = u.valToPos(th.warn, 'lag');
    const yC = u.valToPos(th.crit, 'lag');
    // Written only when they change: a redraw a second should not make new text nodes.
    const show = (el: HTMLElement, y: number, text: string, top: number, right: boolean) => {
      const hidden = !(y >= 0 && y <= height);
      if (el.hidden !== hidden) el.hidden = hidden;
      if (el.textContent !== text) el.textContent = text;
      const at = `${Math.round(top)}px`;
      if (el.style.top !== at) el.style.top = at;
      const left = right ? 'auto' : '4px';
      if (el.style.left !== left) el.style.left = left;
      const r = right ? '4px' : 'auto';
      if (el.style.right !== r) el.style.right = r;
    };
    let warnTop = yW + 1;
    if (warnTop + H > height) warnTop = yW - H - 1;
    const critTop = Math.max(0, yC - H - 1);
    const meet = warnTop < critTop + H && critTop < warnTop + H;
    show(this.labels.warn, yW, `warning ${seconds(th.warn)}`, warnTop, false);
    show(this.labels.crit, yC, `critical ${seconds(th.crit)}`, critTop, meet);
  }

  /** Without a hover, the legend shows the newest sample. */
  private legendToLatest(): void {
    const u = this.plot;
    if (!u || !this.opts.legend) return;
    const n = u.data[0].length;
    if (n > 0) u.setLegend({ idx: n - 1 });
  }

  private resize(): void {
    const width = Math.floor(this.el.clientWidth);
    if (width <= 0 || width === this.lastWidth) return;
    this.lastWidth = width;
    if (!this.plot) this.build(width);
    else this.plot.setSize({ width, height: this.opts.height });
  }

  /**
   * New samples: redraws on the next frame, keeping the zoom window when zoomed. A chart off
   * screen (scrolled away, or hidden) redraws when it comes on screen again.
   */
  update(): void {
    if (!this.plot || this.pending) return;
    if (!this.onScreen) {
      this.stale = true;
      return;
    }
    this.stale = false;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      const u = this.plot;
      if (!u) return;
      if (this.zoomed) {
        const min = u.scales.x?.min;
        const max = u.scales.x?.max;
        u.batch(() => {
          u.setData(this.data(), false);
          if (min !== undefined && max !== undefined && min !== null && max !== null) u.setScale('x', { min, max });
        });
      } else u.setData(this.data(), true);
      if (!this.hovering) this.legendToLatest();
    });
  }

  /** Drops the zoom and shows everything (a new history arrived). */
  reset(): void {
    this.zoomed = false;
    this.zoomBar.hidden = true;
    this.el.dataset.zoomed = 'false';
    this.plot?.setData(this.data(), true);
  }

  /** Rebuilds the canvas (theme change). */
  rebuild(): void {
    const width = Math.floor(this.el.clientWidth);
    this.plot?.destroy();
    this.plot = null;
    this.zoomed = false;
    this.zoomBar.hidden = true;
    if (width > 0) this.build(width);
  }

  /** The hovered sample's time, for tooltips. */
  timeAt(idx: number): string {
    const t = this.timeline.t[idx];
    return t === undefined ? '' : utc(t * 1000);
  }

  destroy(): void {
    this.observer.disconnect();
    this.seen?.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }
}

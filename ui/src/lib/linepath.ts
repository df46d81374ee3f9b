// The lag charts' lines drawn straight onto uPlot's canvas, with no Path2D.
//
// uPlot's own line builder (uPlot.paths.linear) makes new Path2D objects for every series on
// every redraw (the line, the plot-area clip, the gaps clip), the line holding a point for
// every sample: the Replicas page of 16 replicas redraws 48 lines of up to 3,600 samples each
// once a second. WebKitGTK frees a Path2D's native points only when its JavaScript collector
// frees the small wrapper, and that collector is paced by JavaScript allocation, which a
// chart barely does. Measured in WebKitGTK 2.50 (MiniBrowser, both cores kept busy): 115,000
// points a second through Path2D grew the web process by 180 MB in 3 minutes and kept
// growing; the same points through the context's own path (beginPath, lineTo, stroke) grew it
// by 9 MB in the first 30 s, then not at all.
//
// `directLine` draws what uPlot.paths.linear() draws, the same way, and answers null (uPlot
// then keeps no path and draws none itself):
// - each sample at its canvas pixel, rounded to a whole pixel (pxAlign 1), the context moved
//   by (line width mod 2) / 2 in both directions, as uPlot does;
// - at 4 samples a pixel or more, each pixel column as its first, lowest, highest and last
//   value (`trace`);
// - a null sample is a gap: stroke and fill are clipped out from the sample before it to the
//   sample after it (`gapsOf`, `clipOutGaps`); undefined samples are skipped;
// - the fill, when the series has one, down to 0; then the stroke;
// - all clipped to the plot area widened by half the line width.
// It assumes what lagchart.ts sets up: one time axis left to right (ori 0, dir 1), pxAlign 1,
// no bands.

import uPlot from 'uplot';

type Ys = ArrayLike<number | null | undefined>;

/**
 * The points uPlot.paths.linear() strokes for samples `i0`…`i1`, in order, through `to` (the
 * first one starts the line). `px`/`py`: value → whole canvas pixel; `xAt`: canvas pixel →
 * x value; `decimate`: one vertical stroke per pixel column.
 */
export function trace(
  xs: ArrayLike<number>,
  ys: Ys,
  i0: number,
  i1: number,
  px: (x: number) => number,
  py: (y: number) => number,
  xAt: (pixel: number) => number,
  decimate: boolean,
  to: (x: number, y: number) => void,
): void {
  if (!decimate) {
    for (let i = i0; i <= i1; i++) {
      const y = ys[i];
      if (y !== null && y !== undefined) to(px(xs[i]!), py(y));
    }
    return;
  }
  const column = (x: number, min: number, max: number, first: number, last: number) => {
    if (min === max) return;
    if (first !== min && last !== min) to(x, min);
    if (first !== max && last !== max) to(x, max);
    to(x, last);
  };
  let accX = px(xs[i0]!);
  let nextX = xAt(accX + 1);
  let minY: number | null = null;
  let maxY = 0;
  let inY = 0;
  let outY = 0;
  for (let i = i0; i <= i1; i++) {
    const xv = xs[i]!;
    const x = xv < nextX ? accX : px(xv);
    const y = ys[i];
    if (x === accX) {
      if (y === null || y === undefined) continue;
      outY = y;
      if (minY === null) {
        to(x, py(y));
        inY = minY = maxY = y;
      } else if (y < minY) minY = y;
      else if (y > maxY) maxY = y;
    } else {
      if (minY !== null) column(accX, py(minY), py(maxY), py(inY), py(outY));
      if (y === null || y === undefined) minY = null;
      else {
        outY = y;
        to(x, py(y));
        minY = maxY = inY = y;
      }
      accX = x;
      nextX = xAt(accX + 1);
    }
  }
  if (minY !== null && minY !== maxY) column(accX, py(minY), py(maxY), py(inY), py(outY));
}

/** The pixel spans [from, to] that the null runs among samples `i0`…`i1` leave out (uPlot's findGaps, aligned to both neighbours). */
export function gapsOf(xs: ArrayLike<number>, ys: Ys, i0: number, i1: number, px: (x: number) => number): [number, number][] {
  const gaps: [number, number][] = [];
  for (let i = i0; i <= i1; i++) {
    if (ys[i] !== null) continue;
    const fr = i;
    let to = i;
    while (++i <= i1 && ys[i] === null) to = i;
    const frPx = fr - 1 >= 0 ? px(xs[fr - 1]!) : px(xs[fr]!);
    const toPx = to + 1 < xs.length ? px(xs[to + 1]!) : px(xs[to]!);
    if (toPx >= frPx) gaps.push([frPx, toPx]);
  }
  return gaps;
}

/** Clips the context to the plot area minus the gaps (uPlot's clipGaps, its rectangles kept as they are). */
function clipOutGaps(
  ctx: CanvasRenderingContext2D,
  gaps: [number, number][],
  left: number,
  top: number,
  width: number,
  height: number,
): void {
  ctx.beginPath();
  let end = left;
  for (const [from, to] of gaps) {
    if (to <= from) continue;
    if (from - end > 0) ctx.rect(end, top, from - end, top + height);
    end = to;
  }
  const w = left + width - end;
  if (w > 0) ctx.rect(end, top - 5, w, top + height + 10);
  ctx.clip();
}

const NO_DASH: number[] = [];
const style = <T>(v: T | ((u: uPlot, si: number) => T) | undefined, u: uPlot, si: number): T | undefined =>
  typeof v === 'function' ? (v as (u: uPlot, si: number) => T)(u, si) : v;

/** A uPlot path builder that draws the series itself (see the top of this file) and answers null. */
export const directLine: uPlot.Series.PathBuilder = (u, si, idx0, idx1) => {
  const s = u.series[si]!;
  const xs = u.data[0];
  const ys = u.data[si] as Ys;
  let i0 = idx0;
  let i1 = idx1;
  while (i0 <= i1 && (ys[i0] === null || ys[i0] === undefined)) i0++;
  while (i1 >= i0 && (ys[i1] === null || ys[i1] === undefined)) i1--;
  if (i0 > i1) return null;
  const xKey = u.series[0]!.scale ?? 'x';
  const yKey = s.scale ?? 'y';
  const px = (v: number) => Math.round(u.valToPos(v, xKey, true));
  const py = (v: number) => Math.round(u.valToPos(v, yKey, true));
  const xAt = (p: number) => u.posToVal(p, xKey, true);
  const { left, top, width, height } = u.bbox;
  const decimate = i1 - i0 >= width * 4;
  const lineWidth = Math.round((s.width ?? 1) * uPlot.pxRatio * 1000 * (1 + Number.EPSILON)) / 1000;
  const offset = (lineWidth % 2) / 2;
  const stroke = style(s.stroke, u, si);
  const fill = style(s.fill, u, si);
  const ctx = u.ctx;
  const to = (x: number, y: number) => ctx.lineTo(x, y);

  ctx.save();
  if (offset > 0) ctx.translate(offset, offset);
  ctx.beginPath();
  ctx.rect(left - lineWidth / 2, top - lineWidth / 2, width + lineWidth, height + lineWidth);
  ctx.clip();
  const gaps = s.spanGaps ? [] : gapsOf(xs, ys, i0, i1, px);
  if (gaps.length) clipOutGaps(ctx, gaps, left, top, width, height);
  ctx.lineWidth = lineWidth;
  ctx.lineJoin = 'round';
  ctx.lineCap = s.cap ?? 'butt';
  ctx.setLineDash(s.dash ?? NO_DASH);
  if (fill) {
    ctx.beginPath();
    trace(xs, ys, i0, i1, px, py, xAt, decimate, to);
    const base = py(0);
    ctx.lineTo(px(xs[i1]!), base);
    ctx.lineTo(px(xs[i0]!), base);
    ctx.fillStyle = fill;
    ctx.fill();
  }
  if (stroke && lineWidth > 0) {
    ctx.beginPath();
    trace(xs, ys, i0, i1, px, py, xAt, decimate, to);
    ctx.strokeStyle = stroke;
    ctx.stroke();
  }
  ctx.restore();
  return null;
};

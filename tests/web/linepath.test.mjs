// The lag charts draw their lines themselves (ui/src/lib/linepath.ts, no Path2D a redraw):
// they must look exactly as uPlot's own lines do. Two uPlots on the same data — one with
// uPlot's line builder, one with `directLine` — are drawn in Chromium and compared pixel by
// pixel: samples sparse and dense (one vertical stroke a pixel column), gaps (null runs and a
// lone null), a fill, a dashed line, odd and even line widths, at 1 and 2 device pixels per
// CSS pixel. The page is built from ui/src with the UI's own Vite (ui/node_modules); it needs
// no server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const ui = resolve(dirname(fileURLToPath(import.meta.url)), '../../ui');
let dir;
let browser;

const ENTRY = `
import uPlot from 'uplot';
import { directLine } from ${JSON.stringify(join(ui, 'src/lib/linepath.ts'))};
window.compare = async (n, width) => {
  const t = Array.from({ length: n }, (_, i) => 1_700_000_000 + i);
  const lag = t.map((_, i) => ((i > n * 0.3 && i < n * 0.32) || i === Math.floor(n * 0.6) ? null : Math.abs(Math.sin(i / 50)) * 3 + (i % 7) * 0.05));
  const bytes = t.map((_, i) => (i < n * 0.1 ? null : 1000 + ((i * 37) % 500)));
  const other = t.map((_, i) => (i % 97 === 0 ? null : 0.5 + (i % 300) / 100));
  const chart = (paths) => {
    const el = document.createElement('div');
    document.body.append(el);
    const s = (o) => ({ ...o, spanGaps: false, points: { show: false }, ...(paths ? { paths } : {}) });
    return new uPlot({
      width, height: 200, scales: { x: { time: true } }, legend: { show: false },
      series: [{}, s({ scale: 'lag', stroke: '#1f77b4', width: 1.75 }),
        s({ scale: 'bytes', stroke: '#ff7f0e', fill: 'rgba(255,127,14,0.12)', width: 1.25 }),
        s({ scale: 'lag', stroke: '#2ca02c', width: 1, dash: [6, 3] })],
      axes: [{}, { scale: 'lag' }, { scale: 'bytes', side: 1 }],
    }, [t, lag, bytes, other], el);
  };
  const a = chart(null);
  const b = chart(directLine);
  await new Promise((r) => setTimeout(r, 100));
  const px = (u) => u.ctx.getImageData(0, 0, u.ctx.canvas.width, u.ctx.canvas.height).data;
  const [pa, pb] = [px(a), px(b)];
  let differ = 0;
  let drawn = 0;
  for (let i = 0; i < pa.length; i += 4) {
    if (pa[i] !== pb[i] || pa[i + 1] !== pb[i + 1] || pa[i + 2] !== pb[i + 2] || pa[i + 3] !== pb[i + 3]) differ++;
    if (pb[i + 3] > 0) drawn++;
  }
  a.destroy();
  b.destroy();
  return { differ, drawn, pixels: pa.length / 4 };
};
`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skein-linepath-'));
  writeFileSync(join(dir, 'entry.js'), ENTRY);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><html><body><script src="bundle.js"></script></body></html>');
  const { build } = await import(pathToFileURL(join(ui, 'node_modules/vite/dist/node/index.js')).href);
  await build({
    configFile: false,
    logLevel: 'warn',
    root: dir,
    resolve: { alias: { uplot: join(ui, 'node_modules/uplot/dist/uPlot.esm.js') } },
    build: { outDir: dir, emptyOutDir: false, lib: { entry: join(dir, 'entry.js'), formats: ['iife'], name: 'linepath', fileName: () => 'bundle.js' } },
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const scale of [1, 2]) {
  test(`directLine draws uPlot's lines pixel for pixel at ${scale}× (sparse, dense, gaps, fill, dash)`, async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: scale });
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(pathToFileURL(join(dir, 'index.html')).href);
    // [samples, CSS width]: under 4 samples a pixel (every sample), and over (a stroke a column).
    for (const [n, width] of [
      [600, 1000],
      [3600, 1000],
      [3600, 300],
      [3600, 200],
    ]) {
      const r = await page.evaluate(([n, width]) => window.compare(n, width), [n, width]);
      assert.ok(r.drawn > r.pixels / 10, `${n} samples at ${width} px: the chart drew something (${r.drawn} of ${r.pixels} pixels)`);
      assert.equal(r.differ, 0, `${n} samples at ${width} px, ${scale}×: ${r.differ} of ${r.pixels} pixels differ from uPlot's own lines`);
    }
    await page.close();
  });
}

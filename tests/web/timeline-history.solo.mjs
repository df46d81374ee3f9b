// The timeline over a long history, in Debian's Chromium against `skein serve` and a sandbox of
// its own (run.sh starts both; this file runs alone so the other tests keep a short history):
// HISTORY_COMMITS commits (default 2,000) by another writer (`skein sandbox history`, five
// tables), then the timeline counts them all, has a lane per table, and a click on a mark —
// zoomed in around it — selects exactly that snapshot, its tooltip naming it. Then a pan across
// the window: the window moves, and the draw times (the canvas's `data-draw-ms`) and the frame
// intervals (requestAnimationFrame) during the drag are printed. No figure is asserted: the
// bench (scripts/bench-console.sh, part `timeline`) runs it with 10,000 commits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { base, openConsole, rpc, shots } from './lib.mjs';

const COMMITS = Number(process.env.HISTORY_COMMITS ?? 2000);
const AXIS_H = 34;
const LANE_H = 22;
let browser;
let page;
let grown;

before(async () => {
  grown = JSON.parse(
    execFileSync(process.env.SKEIN_BIN, ['sandbox', 'history', '--dir', process.env.SKEIN_SANDBOX_DIR, '--commits', String(COMMITS)], {
      encoding: 'utf8',
    }),
  );
  console.log(`history: ${grown.commits} commits in ${grown.seconds.toFixed(1)} s (${((grown.seconds * 1000) / grown.commits).toFixed(1)} ms a commit)`);
  ({ browser, page } = await openConsole());
});

after(async () => {
  await browser?.close();
});

const canvas = () => page.locator('[data-testid="timeline-canvas"]');
const windowOf = () => canvas().evaluate((c) => ({ t0: Number(c.dataset.t0), t1: Number(c.dataset.t1) }));

/** Where mark `m` is on lane `lane` in the window drawn now. */
async function spot(m, lane, lanes) {
  const box = await canvas().boundingBox();
  const { t0, t1 } = await windowOf();
  return {
    x: box.x + ((m.time_ms - t0) / (t1 - t0)) * box.width,
    y: box.y + AXIS_H + lanes.indexOf(lane) * LANE_H + LANE_H / 2,
  };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

test('every snapshot of a long history is on the timeline; a click selects exactly the mark under it', async () => {
  const timeline = await rpc({ method: 'timeline', params: { limit: 10000 } });
  const total = (await rpc({ method: 'snapshots', params: { limit: 1, before: null } })).total;
  assert.ok(total >= COMMITS, `${total} snapshots after ${COMMITS} commits`);
  assert.equal(timeline.marks.length, Math.min(total, 10000));
  assert.equal(timeline.marks.at(-1).id, grown.last_snapshot);
  for (let t = 1; t <= 5; t++) assert.ok(timeline.tables.includes(`main.history_${t}`), timeline.tables.join(', '));
  await page.goto(`${base}/#/snapshots`);
  const n = (x) => x.toLocaleString('en-US');
  await page
    .locator('[data-testid="timeline-count"]', { hasText: `${n(timeline.marks.length)} of ${n(total)} snapshots` })
    .waitFor({ timeout: 30_000 });
  await canvas().waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="timeline-canvas"]')?.dataset.t0, null, { timeout: 10_000 });

  // A mark in the middle of one lane: zoom in around it until its neighbours are far apart.
  const lane = 'main.history_3';
  const lanes = ['lake', ...timeline.tables];
  const onLane = timeline.marks.filter((m) => m.tables.includes(lane));
  const m = onLane[Math.floor(onLane.length / 2)];
  const before = await windowOf();
  let p = await spot(m, lane, lanes);
  await page.mouse.move(p.x, p.y);
  for (let i = 0; i < 14; i++) await page.mouse.wheel(0, -100);
  await page.waitForFunction((span) => {
    const c = document.querySelector('[data-testid="timeline-canvas"]');
    return Number(c.dataset.t1) - Number(c.dataset.t0) < span / 8;
  }, before.t1 - before.t0);
  p = await spot(m, lane, lanes);
  await page.mouse.move(p.x + 1, p.y);
  const tip = page.locator('[data-testid="timeline-tip"]');
  await tip.waitFor({ timeout: 10_000 });
  assert.match(await tip.innerText(), new RegExp(`^#${m.id} · .* · sandbox: event \\d+ into history_3 · ${lane}$`));
  await page.mouse.click(p.x, p.y);
  await page.waitForFunction((h) => window.location.hash === h, `#/snapshots/${m.id}`, { timeout: 10_000 });
  await page.locator('[data-testid="snapshot-detail"] .panel-title', { hasText: `Snapshot ${m.id}` }).waitFor({ timeout: 20_000 });
  if (shots) await page.locator('[data-testid="snapshot-timeline"]').screenshot({ path: `${shots}/timeline-history.png` });
});

test('a pan moves the window; its draw times and frame intervals are printed', async () => {
  const panel = page.locator('[data-testid="snapshot-timeline"]');
  const showAll = panel.getByRole('button', { name: 'Show all' });
  if (!(await showAll.isDisabled())) await showAll.click();
  const box = await canvas().boundingBox();
  const y = box.y + AXIS_H + LANE_H / 2;
  // Zoomed in 4× around the start, so a drag to the left shows later times.
  await page.mouse.move(box.x + 10, y);
  for (let i = 0; i < 8; i++) await page.mouse.wheel(0, -100);
  await page.waitForTimeout(200);
  const start = await windowOf();
  await page.evaluate(() => {
    const c = document.querySelector('[data-testid="timeline-canvas"]');
    const rec = { draws: [], frames: [], on: true };
    window.__pan = rec;
    new MutationObserver(() => rec.draws.push(Number(c.dataset.drawMs))).observe(c, { attributes: true, attributeFilter: ['data-draw-ms'] });
    let last = performance.now();
    const loop = (t) => {
      rec.frames.push(t - last);
      last = t;
      if (rec.on) requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  });
  await page.mouse.move(box.x + box.width - 20, y);
  await page.mouse.down();
  await page.mouse.move(box.x + 20, y, { steps: 240 });
  await page.mouse.up();
  await page.waitForTimeout(100);
  const rec = await page.evaluate(() => {
    window.__pan.on = false;
    return { draws: window.__pan.draws, frames: window.__pan.frames.slice(1) };
  });
  const end = await windowOf();
  assert.ok(end.t0 > start.t0, `dragging left shows later times (${start.t0} → ${end.t0})`);
  assert.ok(rec.draws.length > 10, `the pan redrew the timeline (${rec.draws.length} draws)`);
  const over = rec.frames.filter((f) => f > 25).length;
  const marks = (await rpc({ method: 'timeline', params: { limit: 10000 } })).marks.length;
  console.log(
    `timeline pan (${marks} marks): ${rec.draws.length} draws, draw ms p50 ${pct(rec.draws, 50).toFixed(2)} p95 ${pct(rec.draws, 95).toFixed(2)} max ${Math.max(...rec.draws).toFixed(2)}; ` +
      `${rec.frames.length} frames, interval ms p50 ${pct(rec.frames, 50).toFixed(1)} p95 ${pct(rec.frames, 95).toFixed(1)} max ${Math.max(...rec.frames).toFixed(1)}, ` +
      `over 25 ms (a dropped frame at 60 Hz): ${over} (goal 0)`,
  );
});

// A console left open for hours must not grow with every sample: one uPlot per chart kept and
// updated (never a new one per sample), no listeners left behind by a page that was closed,
// and the page's DOM the same size sample after sample. Counted in Chromium through the
// DevTools protocol (DOMDebugger.getEventListeners on window and document).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, openConsole } from './lib.mjs';

let browser;
let page;
let cdp;

before(async () => {
  ({ browser, page } = await openConsole());
  cdp = await page.context().newCDPSession(page);
});

after(async () => {
  await browser?.close();
});

/** Listeners on `window` and on `document`, by event type. */
async function listeners() {
  const count = async (expression) => {
    const { result } = await cdp.send('Runtime.evaluate', { expression });
    const { listeners } = await cdp.send('DOMDebugger.getEventListeners', { objectId: result.objectId });
    const by = {};
    for (const l of listeners) by[l.type] = (by[l.type] ?? 0) + 1;
    return by;
  };
  return { window: await count('window'), document: await count('document') };
}

const domNodes = () => page.evaluate(() => document.getElementsByTagName('*').length);
const charts = () => page.evaluate(() => document.querySelectorAll('.uplot').length);
/** Waits for `n` more lag samples (the top bar's "last sample" title names each one's time). */
async function samples(n) {
  const title = () => page.evaluate(() => document.querySelector('[data-testid=last-sample]')?.getAttribute('title') ?? '');
  for (let i = 0; i < n; i++) {
    const was = await title();
    await page.waitForFunction((t) => (document.querySelector('[data-testid=last-sample]')?.getAttribute('title') ?? '') !== t, was, { timeout: 10_000 });
  }
}

async function openOverview() {
  await page.goto(`${base}/#/overview`);
  await page.locator('[data-testid=topo-replicas] li[data-replica][data-state]').first().waitFor({ timeout: 30_000 });
  await page.locator('.overview-lag .uplot').waitFor({ timeout: 30_000 });
}

test('the Overview keeps one chart and the same DOM sample after sample', async () => {
  await openOverview();
  await samples(2);
  const before = { nodes: await domNodes(), charts: await charts() };
  assert.equal(before.charts, 1, 'one uPlot on the Overview');
  await samples(8);
  assert.equal(await charts(), 1, 'still one uPlot after 8 samples');
  const nodes = await domNodes();
  // The attention list may gain or lose an item meanwhile; a leak would add nodes every second.
  assert.ok(Math.abs(nodes - before.nodes) <= 12, `DOM nodes ${before.nodes} → ${nodes}`);
});

test('the Replicas page keeps two charts per replica and the same DOM sample after sample', async () => {
  await page.goto(`${base}/#/replicas`);
  await page.locator('article[data-replica] [data-testid="conflict-chart"] .uplot').first().waitFor({ timeout: 30_000 });
  const cards = await page.locator('article[data-replica]').count();
  await samples(2);
  // Each card: its lag chart and its recovery-conflicts chart.
  assert.equal(await page.locator('article[data-replica] [data-testid="conflict-chart"]').count(), cards);
  const before = { nodes: await domNodes(), charts: await charts() };
  assert.equal(before.charts, 2 * cards, 'two uPlots per replica');
  await samples(8);
  assert.equal(await charts(), 2 * cards, 'still two uPlots per replica after 8 samples');
  const nodes = await domNodes();
  assert.ok(Math.abs(nodes - before.nodes) <= 12, `DOM nodes ${before.nodes} → ${nodes}`);
});

async function tour() {
  for (const p of ['replicas', 'caches', 'snapshots', 'workbench', 'alerts', 'connections', 'settings', 'overview']) {
    await page.evaluate((h) => {
      window.location.hash = h;
    }, `#/${p}`);
    await page.waitForFunction((name) => document.querySelector(`a[data-page="${name}"]`)?.getAttribute('aria-current') === 'page', p);
    await page.waitForTimeout(300);
  }
}

test('leaving and coming back leaves no chart or listener behind', async () => {
  await openOverview();
  // One visit of every page first: Svelte adds one document listener per event type it
  // delegates, the first time a page uses that type. A leak adds one per visit.
  await tour();
  await page.locator('.overview-lag .uplot').waitFor({ timeout: 30_000 });
  await samples(1);
  const first = { listeners: await listeners(), charts: await charts() };
  for (let i = 0; i < 3; i++) await tour();
  await page.locator('.overview-lag .uplot').waitFor({ timeout: 30_000 });
  await samples(1);
  assert.equal(await charts(), first.charts, 'as many uPlots as before');
  assert.deepEqual(await listeners(), first.listeners, 'as many window and document listeners as before');
});

test('a chart scrolled out of view is not redrawn, and shows the newest sample when it is back', async () => {
  await page.setViewportSize({ width: 1400, height: 400 });
  try {
    await page.goto(`${base}/#/replicas`);
    const chart = page.locator('article[data-replica] .uplot').last();
    await chart.waitFor({ timeout: 30_000 });
    await samples(2);
    // The time the chart's legend shows: the newest sample it drew ("time (UTC): 21:11:00 UTC").
    const drawn = () => chart.locator('.u-legend .u-series').first().innerText();
    await page.evaluate(() => document.querySelector('article[data-replica]:last-of-type')?.scrollIntoView());
    await samples(2);
    const shown = await drawn();
    await page.evaluate(() => {
      document.querySelector('.replicas')?.scrollIntoView();
      for (const el of document.querySelectorAll('*')) if (el.scrollTop > 0) el.scrollTop = 0;
      window.scrollTo(0, 0);
    });
    const box = await chart.boundingBox();
    assert.ok(box && box.y > 400, `the last chart is below the window (top at ${box?.y})`);
    await samples(3);
    assert.equal(await drawn(), shown, 'a chart off screen skips its redraws');
    await chart.scrollIntoViewIfNeeded();
    await page.waitForFunction(
      ([sel, was]) => {
        const charts = document.querySelectorAll(sel);
        return (charts[charts.length - 1]?.querySelector('.u-legend .u-series')?.textContent ?? was) !== was;
      },
      ['article[data-replica] .uplot', (await chart.locator('.u-legend .u-series').first().textContent()) ?? ''],
      { timeout: 5_000 },
    );
    // Back on screen it shows the newest sample, the one the top bar names.
    const last = await page.evaluate(() => document.querySelector('[data-testid=last-sample]')?.getAttribute('title') ?? '');
    const clock = (await drawn()).match(/\d\d:\d\d:\d\d/)?.[0];
    assert.ok(clock && last.includes(clock), `the chart shows ${clock}, the last sample was at ${last}`);
  } finally {
    await page.setViewportSize({ width: 1400, height: 900 });
  }
});

// The frame and the charts in Chromium against run.sh's stack: the skip link, `/` on every
// page, the routing table's lake row and weights, a chart's zoom bar, series colours.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, openConsole, rpc } from './lib.mjs';

let browser;
let page;

before(async () => {
  ({ browser, page } = await openConsole());
});

after(async () => {
  await browser?.close();
});

test('the skip link is the first focusable element, visible on focus, and moves focus to the page', async () => {
  await page.goto(`${base}/#/overview`);
  await page.reload();
  await page.locator('[data-testid="topo-primary"]').waitFor({ timeout: 20_000 });
  const firstFocusable = await page.evaluate(() => {
    const all = [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')].filter(
      (e) => e.tabIndex >= 0 && !e.disabled && !e.closest('[hidden]'),
    );
    return all[0]?.getAttribute('data-testid') ?? all[0]?.outerHTML;
  });
  assert.equal(firstFocusable, 'skip-link', 'the skip link comes first in document order');
  await page.keyboard.press('Tab');
  const skip = page.locator('[data-testid="skip-link"]');
  assert.equal(await skip.evaluate((el) => el === document.activeElement), true, 'Tab lands on the skip link first');
  assert.equal(await skip.innerText(), 'Skip to content');
  const box = await skip.boundingBox();
  assert.ok(box && box.y >= 0 && box.height > 0, `visible when focused: ${JSON.stringify(box)}`);
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'page');
  assert.match(page.url(), /#\/overview$/, 'the route stays');
  await page.locator('[data-testid="skip-link"]').evaluate((el) => el.blur());
  const hidden = await skip.boundingBox();
  assert.ok(!hidden || hidden.y + hidden.height <= 0, 'out of sight when not focused');
});

test('/ focuses the page filter or first input on every page that has one, and types a slash in an input', async () => {
  const pages = { caches: 'caches', snapshots: 'snapshots', workbench: 'workbench', settings: 'settings' };
  for (const name of Object.keys(pages)) {
    await page.goto(`${base}/#/${name}`);
    await page.waitForFunction(() => document.querySelector('main input, main textarea, main select'), null, { timeout: 20_000 });
    await page.evaluate(() => (document.activeElement instanceof HTMLElement ? document.activeElement.blur() : null));
    await page.keyboard.press('/');
    const focused = await page.evaluate(() => {
      const a = document.activeElement;
      return a && a.closest('main') ? `${a.tagName}${a.hasAttribute('data-search') ? '[data-search]' : ''}` : null;
    });
    assert.ok(focused && /INPUT|TEXTAREA|SELECT/.test(focused), `${name}: / focused ${focused}`);
    const hasFilter = await page.evaluate(() => [...document.querySelectorAll('main [data-search]')].some((e) => e.getClientRects().length));
    if (hasFilter) assert.match(focused, /\[data-search\]/, `${name}: the filter first`);
  }
  // Typing in an input: `/` is a character, not a shortcut.
  await page.goto(`${base}/#/caches`);
  const filter = page.locator('main [data-search]').first();
  await filter.waitFor({ timeout: 20_000 });
  await filter.click();
  await page.keyboard.type('a/b');
  assert.equal(await filter.inputValue(), 'a/b');
});

test('the routing table has a lake row with cache-served reads and configured → effective weights', async () => {
  await page.goto(`${base}/#/overview`);
  const lake = page.locator('tr[data-routing-node="lake"]');
  await lake.waitFor({ timeout: 20_000 });
  assert.equal(await lake.locator('td[data-col="role"]').innerText(), 'caches');
  const r = await rpc({ method: 'routing' });
  await page.waitForFunction((n) => document.querySelector('tr[data-routing-node="lake"]')?.getAttribute('data-reads') === String(n), r.cache_reads, {
    timeout: 10_000,
  });
  for (const n of r.nodes.filter((x) => x.role === 'replica')) {
    const row = page.locator(`tr[data-routing-node="${n.name}"]`);
    const want = n.weight === n.configured_weight ? String(n.configured_weight) : `${n.configured_weight} → ${n.weight}`;
    assert.equal(await row.locator('td[data-col="weight"]').innerText(), want);
    assert.equal(await row.getAttribute('data-configured-weight'), String(n.configured_weight));
  }
  assert.match(await page.locator('.routing-foot').innerText(), /reads? served from the lake by fresh caches/);
});

test('a zoomed chart says so with its window in UTC, and Reset zoom or a double-click shows everything again', async () => {
  await page.goto(`${base}/#/replicas`);
  const card = page.locator('article[data-replica="replica1"]');
  // The lag chart (the card's first; the recovery-conflicts chart follows it).
  const over = card.locator('.u-over').first();
  await over.waitFor({ timeout: 20_000 });
  // Some history to zoom into.
  await page.waitForFunction(() => document.querySelectorAll('article[data-replica="replica1"] .u-legend').length > 0, null, { timeout: 20_000 });
  const bar = card.locator('[data-testid="chart-zoom"]').first();
  assert.equal(await bar.isHidden(), true, 'not zoomed at first');
  const zoom = async () => {
    // The drag needs the plot on screen (boundingBox does not scroll).
    await over.scrollIntoViewIfNeeded();
    const b = await over.boundingBox();
    await page.mouse.move(b.x + b.width * 0.3, b.y + b.height / 2);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width * 0.7, b.y + b.height / 2, { steps: 5 });
    await page.mouse.up();
    await bar.waitFor({ state: 'visible', timeout: 5_000 });
  };
  await zoom();
  assert.match(await bar.locator('.chart-zoom-text').innerText(), /^zoomed · \d\d:\d\d:\d\d–\d\d:\d\d:\d\d UTC$/);
  await bar.getByRole('button', { name: 'Reset zoom' }).click();
  await bar.waitFor({ state: 'hidden', timeout: 5_000 });
  await zoom();
  await over.dblclick();
  await bar.waitFor({ state: 'hidden', timeout: 5_000 });
});

/** Hue (degrees), saturation of a CSS colour as the browser resolves it. */
const colourFacts = (colours) =>
  page.evaluate((cs) => {
    const probe = document.createElement('span');
    document.body.append(probe);
    const out = cs.map((c) => {
      probe.style.color = c;
      const [r, g, b] = getComputedStyle(probe).color.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((v) => v / 255);
      const max = Math.max(r, g, b);
      const min = Math.min(r, g, b);
      const d = max - min;
      let hue = 0;
      if (d) hue = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
      return { c, rgb: [r, g, b], hue: (hue * 60 + 360) % 360, sat: max ? d / max : 0 };
    });
    probe.remove();
    return out;
  }, colours);

test('series are never drawn in an alarm colour and stay apart in both themes', async () => {
  for (const theme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: theme });
    await page.evaluate((t) => localStorage.setItem('skein.theme', t), theme);
    await page.goto(`${base}/#/overview`);
    await page.reload();
    const chart = page.locator('.overview-lag .chart');
    await chart.waitFor({ timeout: 20_000 });
    const series = (await chart.getAttribute('data-series-colors')).split(' ');
    assert.equal(series.length, 2, 'one series per replica');
    const alarms = await page.evaluate(() => ['--warn', '--crit'].map((v) => getComputedStyle(document.documentElement).getPropertyValue(v).trim()));
    const [s, a] = [await colourFacts(series), await colourFacts(alarms)];
    const hueGap = (x, y) => Math.min(Math.abs(x - y), 360 - Math.abs(x - y));
    for (const f of s) {
      for (const al of a) assert.ok(hueGap(f.hue, al.hue) >= 40, `${theme}: series ${f.c} (hue ${f.hue.toFixed(0)}) is close to alarm colour ${al.c} (hue ${al.hue.toFixed(0)})`);
    }
    const dist = Math.hypot(...s[0].rgb.map((v, i) => v - s[1].rgb[i]));
    assert.ok(dist > 0.3, `${theme}: the two series are apart (${series.join(' vs ')}, distance ${dist.toFixed(2)})`);
  }
  await page.evaluate(() => localStorage.removeItem('skein.theme'));
  await page.emulateMedia({ colorScheme: 'light' });
});

// The pages at 1024 px wide, in Debian's Chromium against `skein serve` and a real sandbox
// (run.sh starts both): the Caches page shows each cache's state, rows and actions with no
// sideways scroll (secondary columns fold into the name and refresh cells); the snapshot
// history shows its whole page of rows (no box cutting them); Settings is titled for what it
// does and shows the open stack (name, profile path, nodes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, openConsole, rpc, shots } from './lib.mjs';

let browser;
let page;

before(async () => {
  ({ browser, page } = await openConsole());
  await page.setViewportSize({ width: 1024, height: 768 });
});

after(async () => {
  await browser?.close();
});

/** The element's box lies inside the viewport horizontally (fully visible across). */
async function inView(locator, what) {
  const box = await locator.boundingBox();
  assert.ok(box, `${what} is rendered`);
  assert.ok(box.x >= 0 && box.x + box.width <= 1024 + 0.5, `${what} is inside the 1024 px window (${box.x}–${box.x + box.width})`);
}

test('Caches at 1024 px: state, rows and actions without a sideways scroll', async () => {
  await page.goto(`${base}/#/caches`);
  const row = page.locator('tr[data-cache="revenue_by_nation"]');
  await row.waitFor({ timeout: 20_000 });
  const wrap = page.locator('.caches-wrap');
  const [sw, cw] = await wrap.evaluate((el) => [el.scrollWidth, el.clientWidth]);
  assert.ok(sw <= cw, `the table fits its box (scrollWidth ${sw} ≤ clientWidth ${cw})`);
  const doc = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(doc, 0, 'the page does not scroll sideways');
  for (const col of ['state', 'rows', 'refreshed', 'result']) {
    await inView(row.locator(`td[data-col="${col}"]`), `the ${col} cell`);
    assert.ok(await row.locator(`td[data-col="${col}"]`).isVisible(), `${col} is visible`);
  }
  await inView(row.getByRole('button', { name: 'Refresh', exact: true }), 'Refresh');
  await inView(row.getByRole('button', { name: 'Force refresh', exact: true }), 'Force refresh');
  // The folded columns' facts stay on the row.
  assert.equal(await row.locator('td[data-col="monitor"]').isVisible(), false, 'monitored tables fold away');
  assert.match(await row.locator('td[data-col="name"]').innerText(), /monitors lineitem, orders, customer, nation · TTL/);
  const record = (await rpc({ method: 'caches' })).find((v) => v.status.name === 'revenue_by_nation').status.last_refresh;
  assert.match(await row.locator('td[data-col="refreshed"]').innerText(), new RegExp(`snapshot ${record.snapshot_id} · .* · ${record.served_by}`));
  // And wider, the columns come back.
  await page.setViewportSize({ width: 1440, height: 768 });
  assert.equal(await row.locator('td[data-col="monitor"]').isVisible(), true);
  await page.setViewportSize({ width: 1024, height: 768 });
});

test('the snapshot history shows its whole page of rows', async () => {
  await page.goto(`${base}/#/snapshots`);
  const rows = page.locator('[data-testid="snapshots-table"] tbody tr[data-snapshot-id]');
  await rows.first().waitFor({ timeout: 20_000 });
  const total = (await rpc({ method: 'snapshots', params: { limit: 50, before: null } })).snapshots.length;
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="snapshots-table"] tbody tr[data-snapshot-id]').length >= n, total);
  const [sh, ch] = await page.locator('.history-wrap').evaluate((el) => [el.scrollHeight, el.clientHeight]);
  assert.ok(sh <= ch, `no box cuts the rows (scrollHeight ${sh} ≤ clientHeight ${ch})`);
  const [sw, cw] = await page.locator('.history-wrap').evaluate((el) => [el.scrollWidth, el.clientWidth]);
  assert.ok(sw <= cw + 1, `nor sideways (${sw} ≤ ${cw})`);
});

test('Settings is titled for what it does and shows the open stack', async () => {
  await page.goto(`${base}/#/settings`);
  const stack = page.locator('[data-testid="open-stack"]');
  await stack.waitFor({ timeout: 20_000 });
  assert.equal((await page.locator('h1').innerText()).trim(), 'Stack and theme');
  const info = (await rpc({ method: 'profiles' })).current;
  assert.match(await stack.innerText(), new RegExp(`Open stack:\\s*${info.name}`));
  assert.equal(await stack.locator('[data-testid="profile-path"]').innerText(), process.env.SKEIN_PROFILE);
  for (const n of info.nodes) assert.match(await stack.innerText(), new RegExp(`${n.name}\\s+${n.role}`));
  assert.doesNotMatch(await page.locator('main').innerText(), /No stack yet\?/);
  await inView(stack, 'the open stack');
  if (shots) await page.screenshot({ path: `${shots}/settings-1024.png` });
});

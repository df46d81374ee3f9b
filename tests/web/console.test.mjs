// The web console in Debian's Chromium against `skein serve` and a real sandbox (run.sh
// starts both and exports SKEIN_URL, SKEIN_TOKEN, SKEIN_BIN, SKEIN_PROFILE).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { base, openConsole, rpc, shots } from './lib.mjs';

const skein = process.env.SKEIN_BIN;

let browser;
let page;

function cli(...args) {
  return execFileSync(skein, args, { encoding: 'utf8', env: process.env });
}

async function shot(name) {
  if (shots) await page.screenshot({ path: `${shots}/${name}.png`, fullPage: false });
}

before(async () => {
  ({ browser, page } = await openConsole());
});

after(async () => {
  await browser?.close();
});

test('a request without the token is refused', async () => {
  const noToken = await fetch(`${base}/api/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ method: 'overview' }),
  });
  assert.equal(noToken.status, 401);
  assert.equal((await noToken.json()).code, 'AuthFailed');
  const wrong = await fetch(`${base}/api/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer not-the-token' },
    body: JSON.stringify({ method: 'overview' }),
  });
  assert.equal(wrong.status, 401);
  assert.equal((await fetch(`${base}/`)).status, 401, 'the page itself needs the token');
  assert.equal((await fetch(`${base}/api/events`)).status, 401, 'so do events');
  // With the token the same request is answered.
  const overview = await rpc({ method: 'overview' });
  assert.equal(overview.profile.name, 'sandbox');
});

test('the Overview shows the primary, both replicas and the lake', async () => {
  await page.goto(`${base}/#/overview`);
  const main = page.locator('main');
  await main.getByText('replica1', { exact: false }).first().waitFor({ timeout: 20_000 });
  await main.getByText('replica2', { exact: false }).first().waitFor();
  await main.getByText(/streaming/i).first().waitFor({ timeout: 20_000 });
  await shot('overview');
});

test('the Replicas page shows both replicas with live charts', async () => {
  await page.getByRole('link', { name: /replicas/i }).first().click();
  await page.waitForURL(/#\/replicas/);
  const main = page.locator('main');
  for (const name of ['replica1', 'replica2']) {
    await main.getByText(name).first().waitFor({ timeout: 20_000 });
  }
  await main.getByText(/streaming/i).first().waitFor({ timeout: 20_000 });
  // uPlot draws into canvases: at least one chart per replica.
  await page.waitForFunction(() => document.querySelectorAll('main canvas').length >= 2, null, {
    timeout: 20_000,
  });
  // The charts move: the top bar's sample age stays fresh (samples arrive every second).
  await page.getByText(/last sample/i).first().waitFor();
  await shot('replicas');
  // A chart exports as a PNG rendered by the backend.
  const card = page.locator('article[data-replica="replica1"]');
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 20_000 }),
    card.getByRole('button', { name: 'Export PNG' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^skein-lag-replica1-\d{8}T\d{6}Z\.png$/);
  const file = await download.path();
  const head = (await import('node:fs')).readFileSync(file).subarray(0, 8);
  assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG file');
});

test('Refresh shows its result and the Snapshots page then lists the new snapshot', async () => {
  await page.goto(`${base}/#/caches`);
  const row = page.locator('[data-cache="revenue_by_nation"]');
  await row.waitFor({ timeout: 20_000 });
  const result = row.locator('[data-testid="refresh-result"]');

  await row.getByRole('button', { name: 'Refresh', exact: true }).click();
  await assert.doesNotReject(
    result.filter({ hasText: /REFRESHED|SKIPPED/ }).waitFor({ timeout: 30_000 }),
  );

  const before = (await rpc({ method: 'overview' })).lake.current_snapshot;
  await row.getByRole('button', { name: 'Force refresh', exact: true }).click();
  await result.filter({ hasText: /REFRESHED/ }).waitFor({ timeout: 30_000 });
  const after = (await rpc({ method: 'overview' })).lake.current_snapshot;
  assert.ok(after > before, `a forced refresh writes a snapshot (${before} → ${after})`);
  await shot('caches');

  await page.getByRole('link', { name: /snapshots/i }).first().click();
  await page.waitForURL(/#\/snapshots/);
  const snap = page.locator(`[data-snapshot-id="${after}"]`);
  await snap.waitFor({ timeout: 20_000 });
  assert.match(await snap.innerText(), /refresh cache revenue_by_nation/);
  assert.match(await snap.innerText(), /skein/);
  await shot('snapshots');
});

test('time travel shows a table at an older snapshot with that snapshot row count', async () => {
  // A cache whose row count changes: refresh, add orders, refresh again.
  cli('cache', 'create', 'orders_copy', '--query', 'SELECT o_orderkey, o_totalprice FROM orders', '--monitor', 'orders');
  const first = await rpc({ method: 'refresh_cache', params: { name: 'orders_copy', force: false } });
  assert.equal(first.result, 'REFRESHED');
  cli('sandbox', 'workload', '--dir', process.env.SKEIN_SANDBOX_DIR, '--rate', '50', '--seconds', '2');
  const second = await rpc({ method: 'refresh_cache', params: { name: 'orders_copy', force: false } });
  assert.equal(second.result, 'REFRESHED');
  assert.ok(second.rows > first.rows, `the source grew (${first.rows} → ${second.rows})`);

  await page.goto(`${base}/#/snapshots`);
  const travel = page.locator('[data-testid="time-travel"]');
  await travel.waitFor({ timeout: 20_000 });
  await travel.getByLabel(/table/i).selectOption('main.orders_copy');
  await travel.getByLabel(/snapshot/i).fill(String(first.snapshot_id));
  await travel.getByRole('button', { name: /show/i }).click();
  const banner = page.locator('[data-testid="travel-banner"]');
  await banner.filter({ hasText: `as of snapshot ${first.snapshot_id}` }).waitFor({ timeout: 20_000 });
  const text = await banner.innerText();
  assert.match(text, new RegExp(`${first.rows.toLocaleString('en-US')} rows`));
  assert.ok(!text.includes(`${second.rows.toLocaleString('en-US')} rows`));
  await shot('time-travel');
});

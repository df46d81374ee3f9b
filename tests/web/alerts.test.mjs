// The Alerts page on a stack of its own whose profile fires `slot_retained` at 1 MiB after 2
// samples and clears it after 2: a slot created on the primary and left inactive while the
// primary writes fires an alert that the page lists, the navigation counts and the browser
// shows as a notification; Acknowledge reaches the server; the slot dropped from another
// client clears it here, into the history, and the count goes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { shots } from './lib.mjs';
import { startStack } from './stack.mjs';

let stack;
let browser;
let page;

const rules = (t) =>
  t
    .replace(/^fire_after\s*=.*$/m, 'fire_after = 2')
    .replace(/^clear_after\s*=.*$/m, 'clear_after = 2')
    .replace(/^slot_retained_bytes\s*=.*$/m, 'slot_retained_bytes = 1048576');

before(async () => {
  stack = await startStack('alerts', rules, ['--replicas', '1']);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.grantPermissions(['notifications'], { origin: stack.base });
  // The page's notifications, as it shows them (the real constructor still runs).
  await context.addInitScript(() => {
    const Real = window.Notification;
    window.__notes = [];
    window.Notification = class extends Real {
      constructor(title, options) {
        super(title, options);
        window.__notes.push({ title, body: options?.body ?? '', tag: options?.tag ?? '' });
      }
    };
  });
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(stack.url);
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('an alert fires, is shown and notified, acknowledged on the server, and clears when the slot goes', async () => {
  await page.goto(`${stack.base}/#/alerts`);
  await page.locator('[data-testid="alerts-none"]').waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('[data-testid="browser-notifications"]').getAttribute('data-permission'), 'granted');
  assert.match(await page.locator('[data-testid="alerts-rules"] tr[data-rule="slot_retained"]').innerText(), /≥ 1\.0 MiB/);
  assert.match(await page.locator('[data-testid="alerts-rules"]').innerText(), /fire after 2 samples in breach, clear after 2 healthy ones/);

  stack.sql('primary', "SELECT pg_create_physical_replication_slot('forgotten', true)");
  stack.sql('primary', 'CREATE TABLE filler AS SELECT g, repeat(md5(g::text), 8) AS pad FROM generate_series(1, 20000) g');
  const item = page.locator('[data-testid="alerts-active"] li[data-rule="slot_retained"]');
  await item.waitFor({ timeout: 30_000 });
  assert.equal(await item.getAttribute('data-subject'), 'slot forgotten on primary');
  assert.match(await item.locator('[data-testid="alert-message"]').innerText(), /^retains [\d.]+ MiB of WAL \(alert at 1\.0 MiB\); inactive: nothing consumes it$/);
  const count = page.locator('[data-testid="alerts-count"]');
  assert.equal(await count.innerText(), '1');
  assert.equal(await count.getAttribute('data-unacknowledged'), '1');
  const notes = await page.evaluate(() => window.__notes);
  assert.equal(notes.length, 1, JSON.stringify(notes));
  assert.match(notes[0].title, /^Skein \[sandbox\]: slot retained · slot forgotten on primary$/);
  assert.match(notes[0].body, /retains [\d.]+ MiB of WAL/);
  if (shots) await page.screenshot({ path: `${shots}/alerts-active.png`, fullPage: true });

  // Acknowledged: on the server (another client sees it), and the count says so.
  await item.locator('[data-testid="acknowledge"]').click();
  await page.locator('[data-testid="alerts-active"] li[data-acknowledged="true"]').waitFor();
  assert.equal(await count.getAttribute('data-unacknowledged'), '0');
  const view = await stack.rpc({ method: 'alerts' });
  const served = view.active.find((a) => a.rule === 'slot_retained');
  assert.ok(served?.acknowledged_at_ms, JSON.stringify(view.active));

  // Dropped from another client: cleared here, into the history, and the count goes.
  await stack.rpc({ method: 'drop_slot', params: { node: 'primary', slot: 'forgotten' } });
  await page.locator('[data-testid="alerts-none"]').waitFor({ timeout: 30_000 });
  assert.equal(await count.count(), 0);
  const row = page.locator(`[data-testid="alerts-history"] tr[data-alert="${served.id}"]`);
  assert.equal(await row.locator('[data-col="state"] .badge-word').innerText(), 'cleared');
  assert.equal((await page.evaluate(() => window.__notes)).length, 1, 'a cleared alert is not a browser notification');
  const after = await stack.rpc({ method: 'alerts' });
  assert.ok(after.history.find((a) => a.id === served.id)?.cleared_at_ms, 'cleared on the server too');
  if (shots) await page.screenshot({ path: `${shots}/alerts-history.png`, fullPage: true });
});

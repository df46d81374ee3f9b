// The Alerts page on a stack of its own whose profile fires `slot_retained` at 1 MiB after 2
// samples and clears it after 2: a slot created on the primary and left inactive while the
// primary writes fires an alert that the page lists, the navigation counts and the browser
// shows as a notification; Acknowledge reaches the server; the slot dropped from another
// client clears it here, into the history, and the count goes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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

test('the rules are edited in the app: a bad value is named, a good one is written to the profile and in force', async () => {
  await page.goto(`${stack.base}/#/alerts`);
  await page.locator('[data-testid="edit-rules"]').click();
  const editor = page.locator('[data-testid="rules-editor"]');
  await editor.locator('[data-testid="rule-clear_after"]').fill('three');
  assert.match(await editor.locator('.rule-field[data-key="clear_after"]').innerText(), /a whole number, 0 or more/);
  assert.equal(await editor.locator('[data-testid="save-rules"]').isDisabled(), true);
  await editor.locator('[data-testid="rule-clear_after"]').fill('3');
  await editor.locator('[data-testid="rule-refresh_failed"]').uncheck();
  await editor.locator('[data-testid="save-rules"]').click();
  await page.getByText('clear after 3 healthy ones').waitFor({ timeout: 30_000 });
  assert.match(await page.locator('[data-testid="alerts-rules"] tr[data-rule="refresh_failed"]').innerText(), /off/);
  const view = await stack.rpc({ method: 'alerts' });
  assert.equal(view.rules.clear_after, 3);
  assert.equal(view.rules.refresh_failed, false);
  const profile = readFileSync(`${stack.dir}/profile.toml`, 'utf8');
  assert.match(profile, /^clear_after = 3$/m);
  assert.match(profile, /^refresh_failed = false$/m);
  assert.match(profile, /^# Written by `skein sandbox up`\./, 'the rest of the file as written');
  // The history survived the reopen (read back from the state directory).
  assert.ok(view.history.some((a) => a.rule === 'slot_retained'), JSON.stringify(view.history));
});

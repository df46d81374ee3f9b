// Replication slots on the Replicas page, on a stack of its own (stack.mjs) whose profile
// warns at 1 MiB of WAL retained by an inactive slot: a slot created on the primary and left
// inactive while the primary writes is listed with what it retains and becomes an attention
// item on the Overview; its Drop asks for the slot's name, drops it on the server, and the row
// and the item go. The replica's own slot is active and cannot be dropped. Each replica's card
// shows the stream from both sides.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openConsole, shots } from './lib.mjs';
import { startStack } from './stack.mjs';

let stack;
let browser;
let page;

const warnAt1MiB = (t) => {
  if (/^slot_wal_warning_bytes\s*=/m.test(t)) return t.replace(/^slot_wal_warning_bytes\s*=.*$/m, 'slot_wal_warning_bytes = 1048576');
  if (t.includes('[thresholds]')) return t.replace('[thresholds]', '[thresholds]\nslot_wal_warning_bytes = 1048576');
  return `${t}\n[thresholds]\nslot_wal_warning_bytes = 1048576\n`;
};

before(async () => {
  stack = await startStack('slots', warnAt1MiB, ['--replicas', '1']);
  ({ browser, page } = await openConsole(stack.url));
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('a replica card shows the stream from both sides', async () => {
  await page.goto(`${stack.base}/#/replicas`);
  const pipeline = page.locator('article[data-replica="replica1"] [data-testid="pipeline"]');
  await pipeline.getByText('receiver streaming from 127.0.0.1').waitFor({ timeout: 30_000 });
  const text = await pipeline.innerText();
  assert.match(text, /behind the primary: sent [\d.]+ (B|KiB|MiB) · written .* · replayed .* · async/);
  assert.match(text, /hot_standby_feedback on/);
  assert.equal(await page.locator('[data-testid="stalled"]:visible').count(), 0);
  // The sandbox's replica streams through a slot of its own: active, used by it, not droppable.
  const own = page.locator('[data-testid="slots"] tr[data-slot="replica1"][data-node="primary"]');
  await own.waitFor({ timeout: 30_000 });
  assert.equal(await own.getAttribute('data-active'), 'true');
  assert.equal(await own.locator('[data-col="active"]').innerText(), 'active · replica1');
  const drop = own.locator('[data-testid="drop-slot"]');
  assert.equal(await drop.isDisabled(), true);
  assert.match((await drop.getAttribute('title')) ?? '', /active \(used by replica1\): PostgreSQL drops only an inactive slot/);
  assert.match(text, /slot replica1/, 'the receiver names the slot it streams through');
  if (shots) await page.locator('article[data-replica="replica1"]').screenshot({ path: `${shots}/replica-pipeline.png` });
});

test('an inactive slot retaining WAL is listed, needs attention, and is dropped by name', async () => {
  stack.sql('primary', "SELECT pg_create_physical_replication_slot('forgotten', true)");
  stack.sql('primary', 'CREATE TABLE filler AS SELECT g, repeat(md5(g::text), 8) AS pad FROM generate_series(1, 20000) g');
  await page.goto(`${stack.base}/#/replicas`);
  const row = page.locator('[data-testid="slots"] tr[data-slot="forgotten"]');
  await row.waitFor({ timeout: 30_000 });
  assert.equal(await row.getAttribute('data-active'), 'false');
  const retained = await row.locator('[data-col="retained"]').innerText();
  assert.match(retained, /^[\d.]+ MiB$/, retained);
  assert.equal(await row.locator('[data-col="headroom"]').innerText(), 'unlimited');
  assert.match(await row.locator('[data-col="active"]').innerText(), /inactive/);

  // The Overview's attention list says the same.
  await page.goto(`${stack.base}/#/overview`);
  const item = page.getByText(/inactive since .* and retains [\d.]+ MiB of WAL \(warning at 1\.0 MiB\)/);
  await item.first().waitFor({ timeout: 30_000 });
  assert.ok((await page.locator('body').innerText()).includes('slot forgotten on primary'));

  await page.goto(`${stack.base}/#/replicas`);
  await row.locator('[data-testid="drop-slot"]').click();
  const preview = page.locator('[data-testid="drop-slot-preview"]');
  await preview.waitFor();
  const head = await preview.locator('.preview-head').innerText();
  assert.match(head, /Drop slot forgotten on primary · physical · retains [\d.]+ MiB · used by no WAL sender now/);
  const confirm = preview.getByRole('button', { name: 'Drop slot forgotten' });
  assert.equal(await confirm.isDisabled(), true, 'disabled until the name is typed');
  await preview.locator('[data-testid="confirm-name"]').fill('forgot');
  assert.equal(await confirm.isDisabled(), true);
  await preview.locator('[data-testid="confirm-name"]').fill('forgotten');
  assert.equal(await confirm.isDisabled(), false);
  if (shots) await page.locator('[data-testid="slots"]').screenshot({ path: `${shots}/slot-drop.png` });
  await confirm.click();
  await row.waitFor({ state: 'detached', timeout: 30_000 });
  assert.equal(stack.sql('primary', "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'forgotten'").trim(), '0');
  const r = await stack.rpc({ method: 'replication' });
  assert.ok(!r.nodes.some((n) => n.slots.some((s) => s.name === 'forgotten')));
  const ov = await stack.rpc({ method: 'overview' });
  assert.ok(!ov.attention.some((a) => a.subject === 'slot forgotten on primary'), JSON.stringify(ov.attention));
});

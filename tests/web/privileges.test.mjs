// Replay control on the Replicas page follows the profile role's privileges, on a stack of its
// own (stack.mjs) whose profile connects as the monitoring role: the button is disabled with
// the probe's reason; the same stack opened as the superuser pauses and resumes from it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { openConsole, shots } from './lib.mjs';
import { startStack } from './stack.mjs';

const REASON = 'needs superuser or EXECUTE on pg_wal_replay_pause()';

let stack;
let browser;
let page;

before(async () => {
  stack = await startStack('privileges', (t) => t, ['--role', 'monitor', '--replicas', '1']);
  ({ browser, page } = await openConsole(stack.url));
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('a monitoring role sees replay control disabled with the reason', async () => {
  await page.goto(`${stack.base}/#/replicas`);
  const card = page.locator('article[data-replica="replica1"]');
  const button = card.locator('[data-testid="replay-toggle"]');
  await card.locator('[data-testid="replay-reason"]:visible').waitFor({ timeout: 30_000 });
  assert.equal(await button.isDisabled(), true);
  assert.equal(await button.innerText(), 'Pause replay');
  const title = (await button.getAttribute('title')) ?? '';
  assert.ok(title.includes(REASON), `tooltip: ${title}`);
  const note = await card.locator('[data-testid="replay-reason"]').innerText();
  assert.ok(note.startsWith('Pause replay is disabled: skein_monitor may not pause or resume WAL replay'), note);
  assert.ok(note.includes(REASON), note);
  if (shots) await card.screenshot({ path: `${shots}/replay-disabled.png` });
  // The RPC refuses too, with the code and the same reason.
  await assert.rejects(stack.rpc({ method: 'pause_replay', params: { node: 'replica1' } }), (e) => {
    assert.match(e.message, /403 PermissionDenied: replica1: skein_monitor may not pause/);
    assert.ok(e.message.includes(REASON), e.message);
    return true;
  });
});

test('the superuser pauses and resumes replay from the page', async () => {
  const admin = `${stack.dir}/admin.toml`;
  writeFileSync(admin, readFileSync(`${stack.dir}/profile.toml`, 'utf8').replaceAll('user=skein_monitor', 'user=postgres'));
  await stack.rpc({ method: 'open_profile', params: { path: admin } });
  await page.goto(`${stack.base}/#/replicas`);
  const card = page.locator('article[data-replica="replica1"]');
  const button = card.locator('[data-testid="replay-toggle"]');
  await card.locator('[data-testid="replay-toggle"]:enabled').waitFor({ timeout: 30_000 });
  await card.locator('[data-testid="replay-reason"]').waitFor({ state: 'hidden' });
  assert.equal(await button.innerText(), 'Pause replay');
  await page.locator('article[data-replica="replica1"][data-state="streaming"]').waitFor({ timeout: 30_000 });
  await button.click();
  await page.locator('article[data-replica="replica1"][data-state="paused"]').waitFor({ timeout: 30_000 });
  await card.locator('[data-testid="replay-toggle"]:enabled', { hasText: 'Resume replay' }).waitFor();
  await button.click();
  await page.locator('article[data-replica="replica1"][data-state="streaming"]').waitFor({ timeout: 30_000 });
  assert.equal(await button.innerText(), 'Pause replay');
});

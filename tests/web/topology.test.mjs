// The Overview's replication tree on a stack of its own (stack.mjs) where replica2 streams from
// replica1 (`skein sandbox up --cascade replica2=replica1`) and replica3 from the primary:
// replica2 is drawn under replica1 with its lag behind replica1 and behind the primary, the
// others flat under the primary; with replay paused on replica2 both of its figures grow, and
// the Replicas page reads its stream from replica1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openConsole, shots } from './lib.mjs';
import { startStack } from './stack.mjs';

let stack;
let browser;
let page;

before(async () => {
  stack = await startStack('topology', (t) => t, ['--replicas', '3', '--cascade', 'replica2=replica1']);
  ({ browser, page } = await openConsole(stack.url));
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

const row = (name) => page.locator(`[data-testid="topo-replicas"] li[data-replica="${name}"]`);

test('a cascading replica sits under the replica it streams from, with both lags', async () => {
  await page.goto(`${stack.base}/#/overview`);
  await page.locator('[data-testid="topo-replicas"] li[data-replica="replica2"][data-upstream="replica1"][data-state="streaming"]').waitFor({ timeout: 30_000 });
  const order = await page
    .locator('[data-testid="topo-replicas"] li[data-replica]')
    .evaluateAll((els) => els.map((e) => `${e.dataset.replica}@${e.dataset.depth}`));
  assert.deepEqual(order, ['replica1@0', 'replica2@1', 'replica3@0']);
  assert.equal(await row('replica1').getAttribute('data-upstream'), 'primary');
  assert.equal(await row('replica3').getAttribute('data-upstream'), 'primary');
  assert.match(await row('replica2').getAttribute('class'), /\bcascade\b/);
  assert.doesNotMatch(await row('replica1').getAttribute('class'), /\bcascade\b/);
  const text = await row('replica2').locator('.lag-badge').innerText();
  assert.match(text, /^[\d.]+ (ms|s) · [\d.]+ (B|KiB|MiB) behind replica1 · [\d.]+ (ms|s) · [\d.]+ (B|KiB|MiB) behind primary · timeline 1/);
  assert.doesNotMatch(await row('replica1').locator('.lag-badge').innerText(), /behind/);
  assert.match((await row('replica2').locator('.lag-badge').getAttribute('title')) ?? '', /pg_stat_replication\.replay_lag on replica1/);
  // Streaming from replica1, not disconnected for want of a sender on the primary.
  assert.equal(await row('replica2').locator('.replica-error').isHidden(), true);
});

test('paused, the cascading replica falls behind its upstream and the primary alike', async () => {
  stack.sql('replica2', 'SELECT pg_wal_replay_pause()');
  stack.sql('primary', 'CREATE TABLE filler AS SELECT g, md5(g::text) AS h FROM generate_series(1, 20000) g');
  await page.goto(`${stack.base}/#/overview`);
  const behind = /^[\d.]+ (ms|s|min \d+ s) · [\d.]+ (KiB|MiB) behind replica1 · [\d.]+ (ms|s|min \d+ s) · [\d.]+ (KiB|MiB) behind primary/;
  const badge = row('replica2').locator('.lag-badge');
  await page.waitForFunction(
    () => {
      const li = document.querySelector('[data-testid="topo-replicas"] li[data-replica="replica2"]');
      return li?.dataset.state === 'paused' && Number(li.dataset.upstreamLagBytes) > 100_000 && Number(li.dataset.lagBytes) > 100_000;
    },
    null,
    { timeout: 30_000 },
  );
  // The bytes show at once; the time behind replica1 is unknown ("—") until replica1's lag
  // tracker has measured replica2 once (its pg_stat_replication.replay_lag), then a number.
  for (const end = Date.now() + 30_000; !behind.test(await badge.innerText()) && Date.now() < end; ) await page.waitForTimeout(200);
  assert.match(await badge.innerText(), behind);
  // replica1 and replica3 keep up.
  await page.waitForFunction(
    () =>
      ['replica1', 'replica3'].every(
        (n) => document.querySelector(`[data-testid="topo-replicas"] li[data-replica="${n}"]`)?.dataset.lagBytes === '0',
      ),
    null,
    { timeout: 30_000 },
  );
  if (shots) await page.screenshot({ path: `${shots}/overview-cascade.png` });

  await page.goto(`${stack.base}/#/replicas`);
  const pipeline = page.locator('article[data-replica="replica2"] [data-testid="pipeline"]');
  await pipeline.getByText(/^behind replica1: sent/).waitFor({ timeout: 30_000 });
  assert.match(await pipeline.innerText(), /slot replica2/);
  stack.sql('replica2', 'SELECT pg_wal_replay_resume()');
  await page.goto(`${stack.base}/#/overview`);
  await page.waitForFunction(
    () => {
      const li = document.querySelector('[data-testid="topo-replicas"] li[data-replica="replica2"]');
      return li?.dataset.state === 'streaming' && li.dataset.upstreamLagBytes === '0' && li.dataset.lagBytes === '0';
    },
    null,
    { timeout: 30_000 },
  );
  assert.match(await badge.innerText(), /^0 ms · 0 B behind replica1 · 0 ms · 0 B behind primary/);
});

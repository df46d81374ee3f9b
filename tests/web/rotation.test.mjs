// Rotation and promotion on screen, on a stack of its own (stack.mjs): thresholds close
// together (warning 1 s, critical 1.2 s) and a short recovery (8 s), so a paused replica
// leaves rotation and comes back within the test; then a replica promoted for good.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openConsole } from './lib.mjs';
import { startStack } from './stack.mjs';

let stack;
let browser;
let page;

before(async () => {
  stack = await startStack('rotation', (t) =>
    t
      .replace(/lag_warning_ms = \d+/, 'lag_warning_ms = 1000')
      .replace(/lag_critical_ms = \d+/, 'lag_critical_ms = 1200')
      .replace('[router]', '[router]\nrecovery_ms = 8000'),
  );
  ({ browser, page } = await openConsole(stack.url));
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

test('the warning and critical labels of close thresholds do not overlap', async () => {
  await page.goto(`${stack.base}/#/replicas`);
  const card = page.locator('article[data-replica="replica1"]');
  const warn = card.locator('.threshold-label[data-threshold="warning"]');
  const crit = card.locator('.threshold-label[data-threshold="critical"]');
  await warn.waitFor({ timeout: 30_000 });
  await crit.waitFor();
  assert.equal(await warn.innerText(), 'warning 1.0 s');
  assert.equal(await crit.innerText(), 'critical 1.2 s');
  const [a, b] = [await warn.boundingBox(), await crit.boundingBox()];
  assert.ok(a && b && a.height > 0 && b.height > 0, 'both labels are shown');
  assert.ok(!overlap(a, b), `labels overlap: warning ${JSON.stringify(a)}, critical ${JSON.stringify(b)}`);
});

/** The four places that say where replica1 stands, read at one moment. */
const places = () =>
  page.evaluate(() => {
    const top = document.querySelector('[data-testid="tier-replicas"]');
    const att = document.querySelector('[data-testid="attention"] .attention-item[data-subject="replica1"] .attention-message');
    return {
      topLabel: top?.textContent ?? '',
      topTitle: top?.getAttribute('title') ?? '',
      topo: document.querySelector('[data-replica="replica1"] [data-testid="topo-rotation"]')?.getAttribute('data-rotation') ?? null,
      table: document.querySelector('tr[data-routing-node="replica1"] td[data-col="rotation"]')?.getAttribute('data-rotation') ?? null,
      attention: att?.textContent ?? null,
    };
  });

test('a replica out of rotation and recovering reads the same in the top bar, topology, routing table and attention list', async (t) => {
  await page.goto(`${stack.base}/#/overview`);
  await page.locator('tr[data-routing-node="replica1"][data-in-rotation="true"]').waitFor({ timeout: 30_000 });
  // The top bar counts once the first lag sample is in (until then it says it is waiting: –/2).
  await page.waitForFunction(() => !document.querySelector('[data-testid="tier-replicas"]')?.textContent?.startsWith('–'), null, { timeout: 10_000 });
  assert.match((await places()).topLabel, /^2\/2 replicas/);

  stack.sql('replica1', 'SELECT pg_wal_replay_pause()');
  stack.sql('primary', 'CREATE TABLE rotation_probe AS SELECT g FROM generate_series(1, 1000) g');
  // Live attention: past critical (no change of state or level from then on), the item's
  // text follows the growing lag from sample to sample.
  const seen = new Set();
  const deadline = Date.now() + 30_000;
  while (seen.size < 3 && Date.now() < deadline) {
    const p = await places();
    if (p.attention?.startsWith('WAL replay is paused · replay lag past critical (')) seen.add(p.attention);
    await page.waitForFunction((prev) => {
      const el = document.querySelector('[data-testid="attention"] .attention-item[data-subject="replica1"] .attention-message');
      return el && el.textContent !== prev;
    }, p.attention, { timeout: 10_000 }).catch(() => {});
  }
  assert.ok(seen.size >= 3, `the attention text changes as the lag grows past critical: ${[...seen].join(' | ')}`);

  await page.locator('tr[data-routing-node="replica1"][data-in-rotation="false"]').waitFor({ timeout: 30_000 });
  const out = await places();
  assert.match(out.topLabel, /^1\/2 replicas/, 'the top bar counts replicas in rotation');
  assert.equal(out.topo, out.table);

  stack.sql('replica1', 'SELECT pg_wal_replay_resume()');
  // Healthy again, still out: the four places agree on the router's words.
  await page.waitForFunction(
    () => {
      const li = document.querySelector('[data-replica="replica1"]');
      const table = document.querySelector('tr[data-routing-node="replica1"] td[data-col="rotation"]')?.getAttribute('data-rotation');
      return li?.getAttribute('data-replay-lag-ms') === '0' && table && table !== 'in rotation';
    },
    null,
    { timeout: 30_000 },
  );
  const agree = () =>
    page.waitForFunction(
      () => {
        const top = document.querySelector('[data-testid="tier-replicas"]');
        const topo = document.querySelector('[data-replica="replica1"] [data-testid="topo-rotation"]')?.getAttribute('data-rotation');
        const table = document.querySelector('tr[data-routing-node="replica1"] td[data-col="rotation"]')?.getAttribute('data-rotation');
        const att = document.querySelector('[data-testid="attention"] .attention-item[data-subject="replica1"] .attention-message')?.textContent ?? '';
        if (!table || table === 'in rotation' || topo !== table) return false;
        if (!top?.getAttribute('title')?.includes(`· ${table}`)) return false;
        if (table.startsWith('recovering')) return top.textContent.includes(`replica1 ${table}`) && att.includes(table);
        return att.includes('out of rotation');
      },
      null,
      { timeout: 10_000 },
    );
  await agree();
  const first = await places();
  t.diagnostic(`agreed: ${JSON.stringify(first)}`);
  assert.match(first.topLabel, /^1\/2 replicas/);
  const routing = await stack.rpc({ method: 'routing' });
  const r1 = routing.nodes.find((n) => n.name === 'replica1');
  if (r1.in_rotation || r1.recovering_ms === null) {
    t.diagnostic('the router reports no recovering_ms: the countdown is not checked');
  } else {
    assert.match(first.table, /^recovering · back in rotation in \d+ s$/);
    // It counts down, sample by sample, in all four places at once.
    const n0 = Number(/in (\d+) s/.exec(first.table)[1]);
    await page.waitForFunction(
      (n) => {
        const w = document.querySelector('tr[data-routing-node="replica1"] td[data-col="rotation"]')?.getAttribute('data-rotation') ?? '';
        const m = /in (\d+) s/.exec(w);
        return m && Number(m[1]) < n;
      },
      n0,
      { timeout: 10_000 },
    );
    await agree();
    const later = await places();
    assert.ok(Number(/in (\d+) s/.exec(later.table)[1]) < n0, `counts down: ${first.table} → ${later.table}`);
  }
  // Back in rotation.
  await page.locator('tr[data-routing-node="replica1"][data-in-rotation="true"]').waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="tier-replicas"]')?.textContent?.startsWith('2/2 replicas'), null, { timeout: 10_000 });
  assert.equal((await places()).topo, 'in rotation');
});

test('a promoted replica is the first attention item, with its badge and no lag line', async () => {
  await page.goto(`${stack.base}/#/overview`);
  assert.equal(stack.sql('replica2', 'SELECT pg_promote()'), 't');
  const first = page.locator('[data-testid="attention"] .attention-item').first();
  await page.locator('[data-testid="attention"] .attention-item[data-subject="replica2"]').first().waitFor({ timeout: 30_000 });
  // Between the WAL receiver's exit and the end of recovery the replica is, truly, a standby
  // that streams from nobody ("not streaming"); the promoted item replaces that one.
  await page.waitForFunction(
    () => {
      const item = document.querySelector('[data-testid="attention"] .attention-item');
      return (
        item?.getAttribute('data-subject') === 'replica2' &&
        item.querySelector('.attention-message')?.textContent?.startsWith('replica2 was promoted')
      );
    },
    null,
    { timeout: 30_000 },
  );
  assert.equal(await first.getAttribute('data-severity'), 'critical');
  assert.match(
    await first.locator('.attention-message').innerText(),
    /^replica2 was promoted \(out of recovery since \d\d:\d\d:\d\d UTC, when this console first saw it\): it accepts writes; /,
  );
  const stale = await page
    .locator('[data-testid="attention"] .attention-item[data-subject="replica2"] .attention-message')
    .allInnerTexts();
  assert.ok(!stale.some((m) => m.startsWith('not streaming')), `no "not streaming" item once promoted: ${stale}`);
  const li = page.locator('[data-replica="replica2"]').first();
  assert.equal(await li.getAttribute('data-state'), 'promoted');
  assert.match(await li.locator('.replica-state').innerText(), /promoted/);
  assert.match(await li.locator('.lag-badge').innerText(), /^no replay lag: out of recovery · timeline 2$/);
  assert.equal(await li.getAttribute('data-replay-lag-ms'), '', 'no lag value');

  await page.goto(`${stack.base}/#/replicas`);
  const card = page.locator('article[data-replica="replica2"]');
  await card.locator('.replica-state', { hasText: 'promoted' }).waitFor({ timeout: 20_000 });
  assert.match(await card.locator('.replica-numbers').innerText(), /no replay lag: promoted/);
  // The chart says why its line ends, and its newest replay lag is no value (a gap), not a
  // number that grows.
  await card.locator('[data-testid="chart-note"]', { hasText: 'promoted · no replay lag' }).waitFor({ timeout: 10_000 });
  const legend = await card.locator('.u-legend').first().locator('.u-series').last().innerText();
  assert.match(legend, /replay lag[\s\S]*—/, legend);
});

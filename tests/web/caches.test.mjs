// The cache lifecycle on the Caches page in Debian's Chromium against `skein serve` and a real
// sandbox (run.sh starts both and exports SKEIN_URL, SKEIN_TOKEN, SKEIN_BIN, SKEIN_PROFILE):
// define a cache with its monitored tables read from the query, let the scheduler refresh it,
// pause it, snapshot it together with a demo cache, edit it, delete it behind a confirm; and a
// query PostgreSQL rejects shows its error in the form. The three demo caches are left as
// they were (console.test.mjs runs next and uses revenue_by_nation).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, openConsole, rpc, shots } from './lib.mjs';


const NAME = 'nation_count';
const QUERY = 'SELECT n_regionkey, count(*) AS n FROM nation GROUP BY 1';
const BAD = 'bad_query_cache';
const DEMO = ['open_orders_by_priority', 'pricing_summary', 'revenue_by_nation'];

let browser;
let page;
let demoBefore;


async function shot(name) {
  if (shots) await page.screenshot({ path: `${shots}/${name}.png`, fullPage: false });
}

/** Waits until `fn` resolves truthy (polling), failing with `what` after `ms`. */
async function until(fn, what, ms = 20_000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** The demo caches' definitions (what this file must leave as it found). */
async function demoDefinitions() {
  const list = await rpc({ method: 'caches' });
  return DEMO.map((name) => {
    const s = list.find((v) => v.status.name === name)?.status;
    assert.ok(s, `demo cache ${name} exists`);
    return { name: s.name, query: s.query, monitor: s.monitor, ttl_seconds: s.ttl_seconds, paused: s.paused };
  });
}

before(async () => {
  ({ browser, page } = await openConsole());
  demoBefore = await demoDefinitions();
});

after(async () => {
  // Whatever happened above, leave no cache of ours behind.
  try {
    const list = await rpc({ method: 'caches' });
    for (const name of [NAME, BAD]) {
      if (list.some((v) => v.status.name === name)) await rpc({ method: 'delete_cache', params: { name } });
    }
  } catch (e) {
    console.error('cleanup failed:', e.message);
  }
  await browser?.close();
});

test('a new cache: monitored tables from the query, refreshed by the scheduler, paused, snapshotted together, edited and deleted', async () => {
  await page.goto(`${base}/#/caches`);
  await page.locator('tr[data-cache="revenue_by_nation"]').waitFor({ timeout: 20_000 });

  // New cache…: the form, with the monitored tables filled from the query.
  await page.getByRole('button', { name: 'New cache…' }).click();
  const form = page.locator('[data-testid="cache-form"]');
  await form.waitFor();
  const nameInput = form.getByLabel('Name', { exact: true });
  assert.equal(await nameInput.evaluate((el) => el === document.activeElement), true, 'the name has focus');
  await nameInput.fill(NAME);
  await form.getByLabel('Source query').fill(QUERY);
  const monitor = form.getByLabel('Monitored tables');
  await until(async () => (await monitor.inputValue()) === 'nation', 'the monitored tables to be read from the query');
  await form.getByLabel('TTL (seconds)').fill('2');
  await shot('cache-form');
  await form.getByRole('button', { name: 'Create cache' }).click();
  await form.waitFor({ state: 'detached', timeout: 20_000 });

  const row = page.locator(`tr[data-cache="${NAME}"]`);
  await row.waitFor({ timeout: 20_000 });
  const def = (await rpc({ method: 'caches' })).find((v) => v.status.name === NAME)?.status;
  assert.deepEqual(def.monitor, ['nation']);
  assert.equal(def.ttl_seconds, 2);
  assert.equal(def.paused, false);

  // The scheduler refreshes a new cache with a TTL by itself (nobody clicks Refresh).
  await page.waitForFunction(
    (name) => {
      const tr = document.querySelector(`tr[data-cache="${name}"]`);
      const result = tr?.querySelector('[data-testid="refresh-result"]')?.textContent ?? '';
      return /REFRESHED/.test(result) || tr?.querySelector('td[data-col="rows"]')?.textContent === '5';
    },
    NAME,
    { timeout: 45_000, polling: 100 },
  );
  const refreshed = (await rpc({ method: 'caches' })).find((v) => v.status.name === NAME);
  assert.equal(refreshed.status.last_refresh?.rows, 5, 'five regions, one row each');
  await until(async () => /due|in \d+ s/.test(await row.locator('[data-testid="next-run"]').innerText()), 'a next run');

  // Pause: a grey "paused" word beside the state, and no next run.
  await row.getByRole('button', { name: 'Pause', exact: true }).click();
  await row.locator('[data-testid="paused"]').filter({ hasText: 'paused' }).waitFor({ timeout: 10_000 });
  await until(async () => (await row.locator('[data-testid="next-run"]').innerText()).trim() === 'paused', 'next run to say paused');
  await row.getByRole('button', { name: 'Resume', exact: true }).waitFor();
  assert.equal(await row.getAttribute('data-paused'), 'true');
  const paused = (await rpc({ method: 'caches' })).find((v) => v.status.name === NAME);
  assert.equal(paused.status.paused, true);
  assert.equal(paused.next_run_ms, null);
  await shot('cache-paused');

  // Snapshot together: one lake commit for both caches.
  const together = page.getByRole('button', { name: /^Snapshot .*together$/ });
  assert.equal(await together.isDisabled(), true, 'nothing ticked: disabled');
  await page.getByLabel(`Select ${NAME}`).check();
  await page.getByLabel('Select revenue_by_nation').check();
  const lakeBefore = (await rpc({ method: 'overview' })).lake.current_snapshot;
  await page.getByRole('button', { name: 'Snapshot 2 caches together' }).click();
  const result = page.locator('[data-testid="together-result"]');
  await result.filter({ hasText: /^snapshot \d+ · 2 caches at [0-9A-F]+\/[0-9A-F]+ from \S+ · / }).waitFor({ timeout: 30_000 });
  const text = await result.innerText();
  assert.match(text, new RegExp(NAME));
  assert.match(text, /revenue_by_nation/);
  const id = Number(/^snapshot (\d+)/.exec(text)[1]);
  assert.ok(id > lakeBefore, `a new lake snapshot (${lakeBefore} → ${id})`);
  await shot('cache-together');
  await page.getByLabel(`Select ${NAME}`).uncheck();
  await page.getByLabel('Select revenue_by_nation').uncheck();
  assert.equal(await together.isDisabled(), true);

  // Edit…: the same form, the name read-only; Save keeps the pause.
  await row.getByRole('button', { name: 'Edit…' }).click();
  const edit = page.locator(`tr[data-detail-for="${NAME}"] [data-testid="cache-form"]`);
  await edit.waitFor();
  assert.equal(await edit.getByLabel('Name', { exact: true }).inputValue(), NAME);
  assert.equal(await edit.getByLabel('Name', { exact: true }).getAttribute('readonly'), '');
  assert.equal(await edit.getByLabel('Source query').inputValue(), QUERY);
  await edit.getByLabel('TTL (seconds)').fill('3600');
  await edit.getByRole('button', { name: 'Save', exact: true }).click();
  await edit.waitFor({ state: 'detached', timeout: 20_000 });
  const edited = (await rpc({ method: 'caches' })).find((v) => v.status.name === NAME);
  assert.equal(edited.status.ttl_seconds, 3600);
  assert.equal(edited.status.paused, true, 'an edit keeps the pause');
  await until(async () => (await row.locator('td[data-col="ttl"]').innerText()).trim() === '1 h', 'the new TTL in the row');

  // Delete…: a confirm naming the cache, saying what stays; nothing goes before it.
  await row.getByRole('button', { name: 'Delete…' }).click();
  const confirm = page.getByRole('button', { name: `Delete cache ${NAME}` });
  await confirm.waitFor();
  const box = page.locator(`[data-testid="delete-confirm"][data-cache="${NAME}"]`);
  assert.match(await box.innerText(), /time travel/);
  assert.match(await box.innerText(), /expired/);
  assert.ok((await rpc({ method: 'caches' })).some((v) => v.status.name === NAME), 'still there before the confirm');
  await shot('cache-delete-confirm');
  await confirm.click();
  await row.waitFor({ state: 'detached', timeout: 20_000 });
  assert.ok(!(await rpc({ method: 'caches' })).some((v) => v.status.name === NAME), 'gone from the caches rpc');

  assert.deepEqual(await demoDefinitions(), demoBefore, 'the demo caches are as they were');
});

test('a query that does not parse, or that PostgreSQL rejects, shows its error in the form', async () => {
  await page.goto(`${base}/#/caches`);
  await page.locator('tr[data-cache="revenue_by_nation"]').waitFor({ timeout: 20_000 });
  await page.getByRole('button', { name: 'New cache…' }).click();
  const form = page.locator('[data-testid="cache-form"]');
  await form.getByLabel('Name', { exact: true }).fill(BAD);

  // Leaving a query that does not parse shows the parser's error under it.
  const query = form.getByLabel('Source query');
  await query.fill('SELEC n_name FROM nation');
  await form.getByLabel('Monitored tables').focus();
  await form.locator('.error-box[data-error-code="InvalidInput"]').filter({ hasText: /does not parse/ }).waitFor({ timeout: 10_000 });

  // A query that parses but does not PREPARE on the primary: QueryFailed with PostgreSQL's message.
  await query.fill('SELECT no_such_column FROM nation');
  await form.getByLabel('Monitored tables').focus();
  await until(async () => (await form.getByLabel('Monitored tables').inputValue()) === 'nation', 'the monitored tables');
  await form.getByRole('button', { name: 'Create cache' }).click();
  const err = form.locator('.error-box[data-error-code="QueryFailed"]');
  await err.waitFor({ timeout: 20_000 });
  assert.match(await err.innerText(), /no_such_column/);
  await err.getByRole('button', { name: 'Copy details' }).waitFor();
  await shot('cache-form-error');
  assert.ok(!(await rpc({ method: 'caches' })).some((v) => v.status.name === BAD), 'nothing was defined');

  // Cancel closes the form; focus goes back to "New cache…".
  await form.getByRole('button', { name: 'Cancel' }).click();
  await form.waitFor({ state: 'detached' });
  assert.equal(await page.getByRole('button', { name: 'New cache…' }).evaluate((el) => el === document.activeElement), true);
  assert.deepEqual(await demoDefinitions(), demoBefore, 'the demo caches are as they were');
});

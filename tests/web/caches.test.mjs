// The cache lifecycle on the Caches page in Debian's Chromium against `skein serve` and a real
// sandbox (run.sh starts both and exports SKEIN_URL, SKEIN_TOKEN, SKEIN_BIN, SKEIN_PROFILE):
// define a cache with its monitored tables read from the query, let the scheduler refresh it,
// pause it, snapshot it together with a demo cache, edit it, delete it behind a confirm; and a
// query PostgreSQL rejects shows its error in the form. The three demo caches are left as
// they were (console.test.mjs runs next and uses revenue_by_nation).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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

/** `skein cache refresh NAME [--force] --json` against the same stack: its outcome. */
function cliRefresh(name, force) {
  const args = ['cache', 'refresh', name, '--json', '--profile', process.env.SKEIN_PROFILE];
  if (force) args.push('--force');
  const out = execFileSync(process.env.SKEIN_BIN, args, { encoding: 'utf8' });
  return JSON.parse(out);
}

/** `739 ms`, `1.2 s` → ms. */
function parseDuration(text) {
  const m = /^([\d.,]+)\s*(ms|s|min)$/.exec(text.trim());
  assert.ok(m, `a duration: ${text}`);
  const n = Number(m[1].replace(/,/g, ''));
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

/** What the row says of the refresh of record. */
async function recordCells(row) {
  const text = async (col) => (await row.locator(`td[data-col="${col}"]`).innerText()).trim();
  return {
    snapshot: (await row.locator('[data-testid="record-snapshot"]').innerText()).trim(),
    rows: await text('rows'),
    duration: await text('duration'),
    served: await text('served'),
    result: await text('result'),
  };
}

test('each row shows the refresh of record, whoever ran it: the CLI before the page loads and while it is open', async () => {
  const name = 'pricing_summary';
  // Before the page loads: the CLI's refresh is the record the first load shows.
  const first = cliRefresh(name, true);
  assert.equal(first.result, 'REFRESHED');
  await page.goto(`${base}/#/caches`);
  const row = page.locator(`tr[data-cache="${name}"]`);
  await row.waitFor({ timeout: 20_000 });
  await until(async () => (await recordCells(row)).snapshot === `snapshot ${first.snapshot_id}`, 'the CLI refresh on first load');
  const record = (await rpc({ method: 'caches' })).find((v) => v.status.name === name).status.last_refresh;
  assert.equal(record.snapshot_id, first.snapshot_id, 'the lake records the CLI refresh');
  let cells = await recordCells(row);
  assert.equal(cells.rows, String(first.rows));
  assert.equal(cells.served, first.served_by);
  assert.equal(record.served_by, first.served_by);
  const shownMs = parseDuration(cells.duration);
  assert.ok(Math.abs(shownMs - record.duration_ms) <= Math.max(1, record.duration_ms * 0.05), `one duration, the record's: ${cells.duration} vs ${record.duration_ms} ms`);
  assert.match(cells.result, /^REFRESHED$/);
  for (const v of Object.values(cells)) assert.notEqual(v, '—');

  // This window's Refresh skips (sources unchanged): shown as the last attempt, apart; the
  // data's refresh stays the CLI's.
  await row.getByRole('button', { name: 'Refresh', exact: true }).click();
  const result = row.locator('[data-testid="refresh-result"]');
  await result.filter({ hasText: /last attempt\s*SKIPPED/ }).waitFor({ timeout: 30_000 });
  cells = await recordCells(row);
  assert.equal(cells.snapshot, `snapshot ${first.snapshot_id}`, 'a skip leaves the refresh of record');
  assert.equal(cells.rows, String(first.rows));

  // While the page is open, the CLI refreshes again: the row follows the lake's record, and
  // this window's older skip no longer stands for the last result.
  const second = cliRefresh(name, true);
  assert.equal(second.result, 'REFRESHED');
  assert.ok(second.snapshot_id > first.snapshot_id);
  await until(async () => (await recordCells(row)).snapshot === `snapshot ${second.snapshot_id}`, 'the second CLI refresh in the open page', 30_000);
  cells = await recordCells(row);
  const record2 = (await rpc({ method: 'caches' })).find((v) => v.status.name === name).status.last_refresh;
  assert.equal(record2.snapshot_id, second.snapshot_id);
  assert.equal(cells.rows, String(second.rows));
  assert.equal(cells.served, second.served_by);
  assert.ok(Math.abs(parseDuration(cells.duration) - record2.duration_ms) <= Math.max(1, record2.duration_ms * 0.05));
  assert.match(cells.result, /^REFRESHED$/, `the superseded skip is gone: ${cells.result}`);
  await shot('caches-record');
});

test('the states are written once in a legend, in the words the CLI uses; expired is not an alarm', async () => {
  await page.goto(`${base}/#/caches`);
  const legend = page.locator('[data-testid="state-legend"]');
  await legend.waitFor({ timeout: 20_000 });
  const words = await legend.locator('dt[data-state]').evaluateAll((dts) => dts.map((d) => d.dataset.state));
  assert.deepEqual(words, ['empty', 'fresh', 'edited', 'stale', 'expired', 'restored', 'unknown', 'refreshing', 'paused', 'error']);
  const expired = legend.locator('dt[data-state="expired"] + dd');
  assert.match(await expired.innerText(), /TTL passed · sources unchanged · refreshed data is current/);
  const badgeClass = await legend.locator('dt[data-state="expired"] .badge').getAttribute('class');
  assert.doesNotMatch(badgeClass, /tone-(crit|warn)/, 'expired is not drawn in an alarm colour');
  // `skein cache list` uses the same state words.
  const list = execFileSync(process.env.SKEIN_BIN, ['cache', 'list', '--profile', process.env.SKEIN_PROFILE], { encoding: 'utf8' });
  const cliStates = [...list.matchAll(/\b(empty|fresh|edited|stale|expired|restored|unknown)\b/g)].map((m) => m[1]);
  assert.ok(cliStates.length > 0, `the CLI lists states: ${list}`);
  for (const s of cliStates) assert.ok(words.includes(s), `${s} is in the legend`);
});

test('form messages speak the form’s words: a name starting with a digit, no monitored table, an old error going when a field changes, marks only for a query that parses', async () => {
  await page.goto(`${base}/#/caches`);
  await page.locator('tr[data-cache="revenue_by_nation"]').waitFor({ timeout: 20_000 });
  await page.getByRole('button', { name: 'New cache…' }).click();
  const form = page.locator('[data-testid="cache-form"]');
  const nameInput = form.getByLabel('Name', { exact: true });
  const query = form.getByLabel('Source query');
  const monitor = form.getByLabel('Monitored tables');
  const create = form.getByRole('button', { name: 'Create cache' });
  const errors = form.locator('.form-error .error-box');

  // A name must start with a letter or _.
  await nameInput.fill('1nation');
  await query.fill(QUERY);
  await until(async () => (await monitor.inputValue()) === 'nation', 'the monitored tables from the query');
  assert.match(await form.innerText(), /from the query/);
  await create.click();
  await errors.first().waitFor({ timeout: 10_000 });
  assert.match(await errors.innerText(), /starts with “1”: a name starts with a letter or _/);
  assert.equal(await errors.getAttribute('data-error-code'), 'InvalidInput');

  // An error naming another cache (taken) goes as soon as the name changes.
  await nameInput.fill('revenue_by_nation');
  assert.equal(await errors.count(), 0, 'the old error went with the change');
  await create.click();
  await errors.first().waitFor({ timeout: 20_000 });
  assert.match(await errors.innerText(), /revenue_by_nation/);
  await nameInput.fill(BAD);
  assert.equal(await errors.count(), 0, 'the error naming revenue_by_nation went when the name changed');

  // No monitored table: said in the form's words, never a CLI flag.
  await monitor.fill('');
  await create.click();
  await errors.first().waitFor({ timeout: 10_000 });
  const text = await errors.innerText();
  assert.match(text, /monitored table/);
  assert.doesNotMatch(text, /--[a-z]/, 'no command-line flag in a form message');

  // A TTL of 0: the form's words too.
  await monitor.fill('nation');
  await form.getByLabel('TTL (seconds)').fill('0');
  await create.click();
  await errors.first().waitFor({ timeout: 10_000 });
  assert.doesNotMatch(await errors.innerText(), /--[a-z]/);
  await form.getByLabel('TTL (seconds)').fill('');

  // "from the query" only for a query that parses.
  await monitor.fill('');
  await query.fill('SELEC n_name FROM nation');
  await monitor.focus();
  await form.locator('.error-box').filter({ hasText: /does not parse/ }).waitFor({ timeout: 10_000 });
  assert.doesNotMatch(await form.innerText(), /from the query/, 'no mark for a query that does not parse');
  await query.fill('SELECT r_name FROM region');
  await monitor.focus();
  await until(async () => (await monitor.inputValue()) === 'region', 'the tables of the parsing query');
  assert.match(await form.innerText(), /from the query/);

  await form.getByRole('button', { name: 'Cancel' }).click();
  await form.waitFor({ state: 'detached' });
  assert.ok(!(await rpc({ method: 'caches' })).some((v) => v.status.name === BAD), 'nothing was defined');
  assert.deepEqual(await demoDefinitions(), demoBefore, 'the demo caches are as they were');
});

// The Workbench and the Overview's routing counters, in Debian's Chromium against
// `skein serve` and a real sandbox (run.sh starts both and exports SKEIN_URL, SKEIN_TOKEN,
// SKEIN_BIN, SKEIN_PROFILE, SKEIN_SANDBOX_DIR). The sandbox has the TPC-H tables in the
// public schema on a primary and two streaming replicas (replica1, replica2).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { base, openConsole, rpc, shots } from './lib.mjs';

let browser;
let page;

async function shot(name) {
  if (shots) await page.screenshot({ path: `${shots}/${name}.png`, fullPage: false });
}

/** Types `sql` into the editor and waits for the route of exactly that statement. */
async function typeSql(sql) {
  const editor = page.getByLabel('SQL', { exact: true });
  await editor.fill(sql);
  const route = page.locator('[data-testid="route"]');
  await page.locator('[data-testid="route"][data-state]:not([data-pending])').waitFor({ timeout: 10_000 });
  return route;
}

/** Clicks the run button and waits until the run is over (its result or error is shown). */
async function run() {
  await page.locator('button.wb-run').click();
  await page.waitForFunction(
    () => !document.querySelector('button.wb-run')?.hasAttribute('aria-busy'),
    null,
    { timeout: 60_000 },
  );
}

before(async () => {
  ({ browser, page } = await openConsole());
});

after(async () => {
  await browser?.close();
});

test('the Workbench is a page of its own in the navigation', async () => {
  await page.goto(`${base}/#/overview`);
  const link = page.locator('a[data-page="workbench"]');
  await link.waitFor({ timeout: 20_000 });
  assert.equal((await link.innerText()).trim(), 'Workbench');
  // Between Snapshots and Connections.
  const order = await page.locator('nav a[data-page]').evaluateAll((as) => as.map((a) => a.dataset.page));
  assert.deepEqual(order.slice(order.indexOf('snapshots'), order.indexOf('settings') + 1), ['snapshots', 'workbench', 'alerts', 'connections', 'settings']);
  await link.click();
  await page.waitForURL(/#\/workbench/);
  assert.equal(await link.getAttribute('aria-current'), 'page');
  assert.equal(await page.getByLabel('Session').inputValue(), 'workbench');
  // Empty SQL: a calm hint, no error box.
  const route = page.locator('[data-testid="route"]');
  await route.filter({ hasText: 'Type a statement to see where it goes' }).waitFor({ timeout: 10_000 });
  assert.equal(await route.locator('.error-box').count(), 0);
  assert.equal(await page.locator('button.wb-run').isDisabled(), true, 'nothing to run yet');
});

test('a read is explained as going to a replica, then runs there with its staleness', async () => {
  const route = await typeSql('SELECT n_name FROM nation ORDER BY n_name');
  assert.equal(await route.getAttribute('data-target'), 'replica');
  assert.equal(await route.getAttribute('data-rule'), 'read');
  assert.match(await route.getAttribute('data-node'), /^replica[12]$/);
  assert.equal((await page.locator('button.wb-run').innerText()).trim(), 'Run');

  await run();
  const result = page.locator('[data-testid="result"]');
  await result.waitFor({ timeout: 30_000 });
  assert.equal(await result.getAttribute('data-target'), 'replica');
  assert.match(await result.getAttribute('data-node'), /^replica[12]$/);
  assert.equal(await result.getAttribute('data-row-count'), '25');
  assert.equal(await result.locator('table.data-grid tbody tr').count(), 25);
  assert.match(await result.locator('[data-testid="result-summary"]').innerText(), /^25 rows · [\d.]+ m?s · served by replica[12] \(read\)/);
  const staleness = result.locator('[data-testid="staleness"]');
  assert.equal(await staleness.getAttribute('data-live'), 'false');
  assert.match(await staleness.innerText(), /replica[12]/);
  assert.equal((await result.locator('[data-testid="result-range"]').innerText()).trim(), 'rows 1–25 of 25');
  // The first row is ALGERIA (ORDER BY n_name).
  assert.equal((await result.locator('table.data-grid tbody tr').first().innerText()).trim(), 'ALGERIA');
  // The run is in the history.
  await page.locator('[data-testid="history"] li[data-history="0"]').filter({ hasText: 'SELECT n_name FROM nation' }).waitFor();
  await shot('workbench');
});

test('a locking read is explained as going to the primary: the button says so', async () => {
  const route = await typeSql('SELECT * FROM nation FOR UPDATE');
  assert.equal(await route.getAttribute('data-target'), 'primary');
  assert.equal(await route.getAttribute('data-rule'), 'locking');
  assert.equal((await page.locator('button.wb-run').innerText()).trim(), 'Run on primary');
  await run();
  const result = page.locator('[data-testid="result"]');
  await result.filter({ has: page.locator('[data-testid="staleness"][data-live="true"]') }).waitFor({ timeout: 30_000 });
  assert.equal(await result.getAttribute('data-target'), 'primary');
  assert.equal(await result.getAttribute('data-row-count'), '25');
});

test('a large result is paged 100 rows at a time and exports as CSV', async () => {
  await typeSql('SELECT * FROM lineitem');
  await run();
  const result = page.locator('[data-testid="result"]');
  await result.waitFor({ timeout: 60_000 });
  const range = result.locator('[data-testid="result-range"]');
  const m = /^rows 1–100 of ([\d,]+)$/.exec((await range.innerText()).trim());
  assert.ok(m, `range text: ${await range.innerText()}`);
  const total = Number(m[1].replace(/,/g, ''));
  assert.ok(total > 1000, `lineitem has more than 1,000 rows (${total})`);
  assert.equal(Number(await result.getAttribute('data-row-count')), total);
  assert.equal(await result.locator('table.data-grid tbody tr').count(), 100);
  if (total > 10_000) {
    assert.match(await result.locator('[data-testid="truncated"]').innerText(), /showing the first 10,000 of [\d,]+ rows/);
  }

  await result.getByRole('button', { name: /Next rows/ }).click();
  assert.match((await range.innerText()).trim(), /^rows 101–200 of [\d,]+$/);
  await result.getByRole('button', { name: /Previous rows/ }).click();
  assert.match((await range.innerText()).trim(), /^rows 1–100 of [\d,]+$/);

  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 20_000 }),
    result.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^skein-query-\d{8}T\d{6}Z\.csv$/);
  const csv = readFileSync(await download.path(), 'utf8');
  const lines = csv.split('\r\n');
  assert.equal(lines[0], 'l_orderkey,l_partkey,l_suppkey,l_linenumber,l_quantity,l_extendedprice,l_discount,l_tax,l_returnflag,l_linestatus,l_shipdate,l_commitdate,l_receiptdate,l_shipinstruct,l_shipmode,l_comment');
  assert.equal(lines.filter(Boolean).length, Math.min(total, 10_000) + 1, 'every row held, plus the header');
});

test('an invalid statement is explained as unparsable and its run shows an error box', async () => {
  const route = await typeSql('SELEC 1');
  assert.equal(await route.getAttribute('data-target'), 'primary');
  assert.equal(await route.getAttribute('data-rule'), 'unparsable');
  await run();
  const box = page.locator('.wb-result-area .error-box[role="alert"]');
  await box.waitFor({ timeout: 30_000 });
  const code = await box.getAttribute('data-error-code');
  assert.ok(code, 'the error box carries a code');
  assert.match(await box.innerText(), /syntax/i);
  await box.getByRole('button', { name: 'Copy details' }).waitFor();
  // The rest keeps working: the history lists the failed run, and a click puts a previous
  // statement back in the editor (and explains it).
  await page.locator('[data-testid="history"] li[data-history="0"][data-error]').waitFor();
  await page.locator('[data-testid="history"] li').filter({ hasText: 'SELECT n_name FROM nation' }).getByRole('button').click();
  assert.equal(await page.getByLabel('SQL', { exact: true }).inputValue(), 'SELECT n_name FROM nation ORDER BY n_name');
  await page.locator('[data-testid="route"][data-target="replica"][data-rule="read"]').waitFor({ timeout: 10_000 });
});

test('a cancelled run says cancelled, not a failure; the next run clears the previous error', async () => {
  await page.goto(`${base}/#/workbench`);
  await page.getByLabel('SQL', { exact: true }).waitFor({ timeout: 20_000 });
  // A failed run first: its error box is on screen.
  await typeSql('SELECT * FROM no_such_table_here');
  await run();
  await page.locator('.wb-result-area .error-box[role="alert"]').waitFor({ timeout: 20_000 });

  await typeSql('SELECT pg_sleep(30)');
  await page.locator('button.wb-run').click();
  // The new run cleared the previous error at once, while it runs.
  const cancel = page.locator('.wb-running').getByRole('button', { name: 'Cancel' });
  await cancel.waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('.wb-result-area .error-box').count(), 0, 'the previous error is gone');
  await cancel.click();
  const done = page.locator('[data-testid="run-cancelled"]');
  await done.waitFor({ timeout: 20_000 });
  // Neutral: the word "cancelled", no alert, no Timeout, no red.
  assert.match(await done.innerText(), /cancelled/);
  assert.match(await done.innerText(), /on (primary|replica\d)/, 'names the node it ran on');
  assert.equal(await page.locator('.wb-result-area .error-box').count(), 0, 'no error box');
  assert.equal(await page.locator('.wb-result-area [role="alert"]').count(), 0);
  assert.doesNotMatch(await page.locator('.wb-result-area').innerText(), /Timeout/);
  const color = await done.evaluate((el) => getComputedStyle(el).color);
  const crit = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--crit').trim());
  assert.notEqual(color, crit);
  const item = page.locator('[data-testid="history"] li[data-history="0"]');
  assert.equal(await item.getAttribute('data-error'), 'Cancelled');
  assert.match(await item.innerText(), /cancelled/);
  // The backend says Cancelled too (the code, not the message): a real run of the same kind
  // through the RPC, cancelled by a second request.
  const session = `cancel-${Date.now()}`;
  const running = rpc({ method: 'run_query', params: { sql: 'SELECT pg_sleep(30)', session, max_rows: 10 } }).then(
    () => 'finished',
    (e) => e.message,
  );
  for (let i = 0; i < 100; i++) {
    if ((await rpc({ method: 'cancel_query', params: { session } })) !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(await running, /run_query: 409 Cancelled: .*57014/);

  // And a run after the cancel shows its rows, the cancel gone.
  await typeSql('SELECT 1 AS one');
  await run();
  await page.locator('[data-testid="result-summary"]').waitFor({ timeout: 20_000 });
  assert.equal(await done.count(), 0);
});

test('the Overview counts the reads each replica served', async () => {
  await page.getByRole('link', { name: 'Overview' }).first().click();
  await page.waitForURL(/#\/overview/);
  const panel = page.locator('[data-testid="routing"]');
  await panel.waitFor({ timeout: 20_000 });
  await panel.locator('tr[data-routing-node="replica1"]').waitFor({ timeout: 10_000 });
  await panel.locator('tr[data-routing-node="replica2"]').waitFor();
  // Counters arrive once a second: reads > 0 on a replica after the runs above.
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('[data-testid="routing"] tr[data-routing-node]')].some(
        (tr) => tr.dataset.routingNode.startsWith('replica') && Number(tr.dataset.reads) > 0,
      ),
    null,
    { timeout: 10_000 },
  );
  const stats = await rpc({ method: 'routing' });
  assert.equal(stats.all_out, false);
  assert.equal(await page.locator('[data-testid="all-out"]').count(), 0);
  const primary = stats.nodes.find((n) => n.role === 'primary');
  const row = panel.locator(`tr[data-routing-node="${primary.name}"]`);
  assert.ok(Number(await row.getAttribute('data-writes')) > 0, 'the locking read and the invalid statement ran on the primary');
  assert.equal(await panel.locator('tr[data-routing-node="replica1"]').getAttribute('data-in-rotation'), 'true');
  assert.match(await panel.innerText(), /read splitting on/);
  await panel.scrollIntoViewIfNeeded();
  await shot('overview-routing');
});

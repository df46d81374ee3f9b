// Time travel on the Snapshots page, in Debian's Chromium against `skein serve` and a real
// sandbox (run.sh starts both): the timestamp's placeholder lies inside the lake's history;
// a time without a date, a time before the history and a missing table each say what was
// wrong (InvalidInput with the accepted forms, the history's ends, the tables that exist);
// a time after the newest snapshot reads the newest and says so; the table, snapshot and
// page are in the URL, so a reload restores them and the back button walks the pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, openConsole, rpc, shots } from './lib.mjs';

const NAME = 'travel_rows';
let browser;
let page;
let snap;

async function shot(name) {
  if (shots) await page.screenshot({ path: `${shots}/${name}.png`, fullPage: false });
}

before(async () => {
  ({ browser, page } = await openConsole());
  await rpc({
    method: 'create_cache',
    params: { name: NAME, query: 'SELECT o_orderkey FROM orders ORDER BY o_orderkey LIMIT 120', monitor: ['orders'], ttl_seconds: null },
  });
  const o = await rpc({ method: 'refresh_cache', params: { name: NAME, force: true } });
  assert.equal(o.result, 'REFRESHED');
  assert.equal(o.rows, 120);
  snap = o.snapshot_id;
});

after(async () => {
  try {
    await rpc({ method: 'delete_cache', params: { name: NAME } });
  } catch (e) {
    console.error('cleanup failed:', e.message);
  }
  await browser?.close();
});

/** The travel panel, on the Snapshots page, once its tables are listed. */
async function panel() {
  const travel = page.locator('[data-testid="time-travel"]');
  await travel.waitFor({ timeout: 20_000 });
  await page.waitForFunction((t) => [...document.querySelectorAll('#travel-table option')].some((o) => o.value === t), `main.${NAME}`, { timeout: 20_000 });
  return travel;
}

test('the timestamp placeholder lies in the history; a bad or out-of-history time says what was wrong', async () => {
  await page.goto(`${base}/#/snapshots`);
  const travel = await panel();
  const ts = travel.getByLabel('Timestamp (UTC)');
  await page.waitForFunction(() => document.querySelector('#travel-timestamp')?.placeholder.match(/^\d{4}-/), null, { timeout: 20_000 });
  const placeholder = await ts.getAttribute('placeholder');
  const at = Date.parse(`${placeholder.replace(' ', 'T')}Z`);
  const hist = await rpc({ method: 'snapshots', params: { limit: 500, before: null } });
  const newest = hist.snapshots[0].time_ms;
  const oldest = hist.snapshots[hist.snapshots.length - 1].time_ms;
  assert.ok(at >= Math.floor(oldest / 1000) * 1000 && at <= newest, `placeholder ${placeholder} is inside the history`);

  await travel.getByLabel(/table/i).selectOption(`main.${NAME}`);
  const box = travel.locator('.travel-result .error-box');

  // A time without a date: InvalidInput naming the accepted forms (HTTP 400, not a 500).
  await ts.fill('09:14:03');
  await travel.getByRole('button', { name: 'Show' }).click();
  await box.waitFor({ timeout: 20_000 });
  assert.equal(await box.getAttribute('data-error-code'), 'InvalidInput', await box.innerText());
  assert.match(await box.innerText(), /without a date/);
  assert.match(await box.innerText(), /YYYY-MM-DD HH:MM:SS/);
  await assert.rejects(
    rpc({ method: 'time_travel', params: { table: `main.${NAME}`, at: { timestamp: '09:14:03' }, limit: 10, offset: 0 } }),
    /400 InvalidInput/,
  );
  await assert.rejects(
    rpc({ method: 'time_travel', params: { table: `main.${NAME}`, at: { timestamp: 'tomorrow at noon' }, limit: 10, offset: 0 } }),
    /400 InvalidInput: 'tomorrow at noon' is not a timestamp/,
  );

  // Before the first snapshot: says so, with the history's ends.
  await ts.fill('2000-01-01 00:00:00');
  await travel.getByRole('button', { name: 'Show' }).click();
  await box.filter({ hasText: /before the lake's first snapshot/ }).waitFor({ timeout: 20_000 });
  assert.match(await box.innerText(), new RegExp(`to snapshot ${hist.snapshots[0].id}|to snapshot \\d+`));

  // After the newest: the newest is shown, and a note says the lake has no later history.
  await ts.fill('2999-01-01 00:00:00');
  await travel.getByRole('button', { name: 'Show' }).click();
  const note = travel.locator('[data-testid="travel-note"]');
  await note.waitFor({ timeout: 20_000 });
  assert.match(await note.innerText(), /after the lake's newest snapshot/);
  assert.match(await travel.locator('[data-testid="travel-banner"]').innerText(), /120 rows/);
});

test('a missing table lists the tables that exist', async () => {
  await page.goto(`${base}/#/snapshots/travel/main.no_such_table/latest/0/100`);
  const travel = await panel();
  const box = travel.locator('.travel-result .error-box');
  await box.waitFor({ timeout: 20_000 });
  assert.equal(await box.getAttribute('data-error-code'), 'NotFound', await box.innerText());
  const text = await box.innerText();
  assert.match(text, /'main.no_such_table' does not exist at snapshot \d+/);
  assert.match(text, new RegExp(`main\\.${NAME}`));
  assert.doesNotMatch(text, /Did you mean/);
});

test('table, snapshot and page are in the URL: a reload restores them, back walks the pages', async () => {
  await page.goto(`${base}/#/snapshots`);
  const travel = await panel();
  await travel.getByLabel(/table/i).selectOption(`main.${NAME}`);
  await travel.getByLabel('Snapshot id').fill(String(snap));
  await travel.getByLabel('Rows per page').selectOption('50');
  await travel.getByRole('button', { name: 'Show' }).click();
  const range = travel.locator('[data-testid="travel-range"]');
  await range.filter({ hasText: 'rows 1–50 of 120' }).waitFor({ timeout: 20_000 });
  assert.equal(new URL(page.url()).hash, `#/snapshots/travel/main.${NAME}/v${snap}/0/50`);

  await travel.getByRole('button', { name: 'Next rows →' }).click();
  await range.filter({ hasText: 'rows 51–100 of 120' }).waitFor({ timeout: 20_000 });
  assert.equal(new URL(page.url()).hash, `#/snapshots/travel/main.${NAME}/v${snap}/50/50`);

  await page.reload();
  const again = await panel();
  await again.locator('[data-testid="travel-range"]').filter({ hasText: 'rows 51–100 of 120' }).waitFor({ timeout: 20_000 });
  assert.match(await again.locator('[data-testid="travel-banner"]').innerText(), new RegExp(`as of snapshot ${snap} `));
  assert.equal(await again.getByLabel(/table/i).inputValue(), `main.${NAME}`);
  assert.equal(await again.getByLabel('Snapshot id').inputValue(), String(snap));
  await shot('time-travel-url');

  await page.goBack();
  await again.locator('[data-testid="travel-range"]').filter({ hasText: 'rows 1–50 of 120' }).waitFor({ timeout: 20_000 });
  assert.equal(new URL(page.url()).hash, `#/snapshots/travel/main.${NAME}/v${snap}/0/50`);
});

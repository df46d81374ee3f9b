// Side by side in Debian's Chromium against `skein serve` and a real sandbox (run.sh starts
// both): a keyed cache of 200 rows, a known change set (2 inserted, 1 deleted, 1 updated) and a
// refresh. Time travel's "Side by side with now" shows both versions aligned line by line (a gap
// where a row is missing, the changed cell marked on both sides), the two grids scroll together,
// "Next difference" jumps to the changed row; a refresh by another process (the CLI) moves
// "now" without a reload; a bookmark's name works in the form, and an unknown one is named.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { base, openConsole, rpc, shots } from './lib.mjs';

const NAME = 'side_items';
const QUERY = `SELECT id, name, qty FROM ${NAME}`;
let browser;
let page;
let v1;
let v2;
let session;

async function sql(text) {
  return rpc({ method: 'run_query', params: { sql: text, session, max_rows: 10 } });
}

function cli(...args) {
  return execFileSync(process.env.SKEIN_BIN, [...args, '--profile', process.env.SKEIN_PROFILE], { encoding: 'utf8' });
}

async function refresh() {
  const o = await rpc({ method: 'refresh_cache', params: { name: NAME, force: true } });
  assert.equal(o.result, 'REFRESHED', JSON.stringify(o));
  return o.snapshot_id;
}

before(async () => {
  ({ browser, page } = await openConsole());
  session = `side-test-${process.pid}`;
  await sql(`CREATE TABLE ${NAME} (id int PRIMARY KEY, name text, qty int)`);
  await sql(`INSERT INTO ${NAME} SELECT g, 'item ' || g, g % 7 FROM generate_series(1, 200) g`);
  await rpc({ method: 'create_cache', params: { name: NAME, query: QUERY, monitor: [NAME], ttl_seconds: null, key: ['id'] } });
  v1 = await refresh();
  await sql(`INSERT INTO ${NAME} VALUES (201, 'item 201', 1), (202, 'item 202', 2)`);
  await sql(`DELETE FROM ${NAME} WHERE id = 3`);
  await sql(`UPDATE ${NAME} SET qty = 900 WHERE id = 150`);
  v2 = await refresh();
});

after(async () => {
  try {
    await rpc({ method: 'delete_bookmark', params: { name: 'before-side' } }).catch(() => undefined);
    await rpc({ method: 'delete_cache', params: { name: NAME } });
    await sql(`DROP TABLE ${NAME}`);
  } catch (e) {
    console.error('cleanup failed:', e.message);
  }
  await browser?.close();
});

const side = () => page.locator('[data-testid="side-by-side"]');
const counts = async () => (await side().locator('[data-testid="side-counts"]').innerText()).trim();

/** For every line shown: [line, left kind, right kind, left top − right top (px)]. */
async function lines() {
  return page.evaluate(() => {
    const left = [...document.querySelectorAll('[data-testid="side-left"] tbody tr')];
    const right = [...document.querySelectorAll('[data-testid="side-right"] tbody tr')];
    return left.map((l, i) => {
      const r = right[i];
      return [Number(l.dataset.line), l.dataset.kind, r?.dataset.kind, Math.round(l.getBoundingClientRect().top - (r?.getBoundingClientRect().top ?? 1e9))];
    });
  });
}

test('time travel opens this version beside now, aligned line by line', async () => {
  await page.goto(`${base}/#/snapshots/travel/main.${NAME}/v${v1}`);
  const travel = page.locator('[data-testid="time-travel"]');
  await travel.locator('[data-testid="travel-banner"]', { hasText: `as of snapshot ${v1}` }).waitFor({ timeout: 20_000 });
  await travel.locator('[data-testid="travel-side"]').click();
  await page.waitForFunction((h) => window.location.hash === h, `#/snapshots/side/main.${NAME}/${v1}/now/0`, { timeout: 20_000 });
  await side().locator('[data-testid="side-counts"]').waitFor({ timeout: 20_000 });
  assert.equal(await counts(), '202 lines: 198 the same, +2 −1 ~1');
  assert.equal(await side().locator('[data-testid="side-key"]').innerText(), "aligned by the cache's key (id)");
  assert.equal(await side().locator('[data-testid="side-right-title"]').innerText(), `main.${NAME} · now (snapshot ${v2})`);
  assert.equal(await side().locator('[data-testid="side-range"]').innerText(), 'lines 1–100 of 202');
  const shown = await lines();
  assert.equal(shown.length, 100);
  // Every line's two rows are at the same height, and the lines are 0–99 in order.
  assert.deepEqual(
    shown.map(([line, , , dy]) => [line, dy]),
    Array.from({ length: 100 }, (_, i) => [i, 0]),
  );
  // id 3 (line 2) was deleted: a row on the left, a gap on the right.
  assert.deepEqual(shown[2].slice(1, 3), ['removed', 'gap']);
  assert.ok(shown.filter((l) => l !== shown[2]).every(([, a, b]) => a === 'same' && b === 'same'));
  // The backend's answer is what is drawn.
  const s = await rpc({ method: 'snapshot_side_by_side', params: { table: `main.${NAME}`, from: v1, to: null, key: null, limit: 100, offset: 0 } });
  assert.deepEqual([s.total, s.same, s.added, s.removed, s.changed, s.to, s.next_difference], [202, 198, 2, 1, 1, v2, 149]);

  // Scrolling the left grid scrolls the right one to the same place.
  const left = side().locator('[data-testid="side-left-scroll"]');
  await left.evaluate((el) => {
    el.scrollTop = 600;
  });
  await page.waitForFunction(
    () => document.querySelector('[data-testid="side-right-scroll"]').scrollTop === document.querySelector('[data-testid="side-left-scroll"]').scrollTop,
    null,
    { timeout: 5_000 },
  );
  assert.ok((await left.evaluate((el) => el.scrollTop)) > 0);
  if (shots) await page.screenshot({ path: `${shots}/side-by-side.png` });
});

test('"Next difference" jumps to the changed row, marked on both sides', async () => {
  await side().locator('[data-testid="side-next-diff"]').click();
  await page.waitForFunction((h) => window.location.hash === h, `#/snapshots/side/main.${NAME}/${v1}/now/146`, { timeout: 20_000 });
  await side().locator('[data-testid="side-range"]', { hasText: 'lines 147–202 of 202' }).waitFor({ timeout: 20_000 });
  const shown = await lines();
  assert.equal(shown.length, 56);
  assert.ok(shown.every(([, , , dy]) => dy === 0), JSON.stringify(shown));
  const changed = shown.find(([line]) => line === 149);
  assert.deepEqual(changed.slice(1, 3), ['changed', 'changed']);
  const oldCell = side().locator('[data-testid="side-left"] tr[data-line="149"] td[data-changed="qty"]');
  const newCell = side().locator('[data-testid="side-right"] tr[data-line="149"] td[data-changed="qty"]');
  assert.equal(await oldCell.innerText(), String(150 % 7));
  assert.equal(await newCell.innerText(), '900');
  // The two added rows close the table: gaps on the left.
  assert.deepEqual(
    shown.slice(-2).map(([, a, b]) => [a, b]),
    [
      ['gap', 'added'],
      ['gap', 'added'],
    ],
  );
  assert.equal(await side().locator('[data-testid="side-next-diff"]').isDisabled(), true);
  // Back: the removed row before the page.
  assert.equal(await side().locator('[data-testid="side-prev-diff"]').isDisabled(), false);
  if (shots) await page.screenshot({ path: `${shots}/side-by-side-changed.png` });
});

test('a refresh by another process moves "now" without a reload', async () => {
  await sql(`UPDATE ${NAME} SET name = 'renamed' WHERE id = 160`);
  const out = JSON.parse(cli('cache', 'refresh', NAME, '--force', '--json'));
  assert.equal(out.result, 'REFRESHED');
  const v3 = out.snapshot_id;
  await side().locator('[data-testid="side-right-title"]', { hasText: `now (snapshot ${v3})` }).waitFor({ timeout: 30_000 });
  assert.equal(await counts(), '202 lines: 197 the same, +2 −1 ~2');
  const renamed = side().locator('[data-testid="side-right"] tr[data-line="159"] td[data-changed="name"]');
  assert.equal(await renamed.innerText(), 'renamed');
});

test("a bookmark's name works in the form; an unknown one is named", async () => {
  await rpc({ method: 'set_bookmark', params: { name: 'before-side', version: v1 } });
  await page.goto(`${base}/#/snapshots`);
  const panel = page.locator('[data-testid="snapshot-diff"]');
  await panel.locator('#diff-table').fill(NAME);
  await panel.locator('#diff-from').fill('before-sid');
  await panel.locator('#diff-to').fill('');
  await panel.locator('#diff-view').selectOption('side');
  await panel.getByRole('button', { name: 'Compare' }).click();
  const box = panel.locator('.error-box');
  await box.waitFor({ timeout: 20_000 });
  assert.match(await box.innerText(), /“before-sid” in “From” is neither a snapshot id nor a bookmark: the bookmarks are before-side/);
  await panel.locator('#diff-from').fill('before-side');
  await panel.getByRole('button', { name: 'Compare' }).click();
  await page.waitForFunction((h) => window.location.hash === h, `#/snapshots/side/${NAME}/${v1}/now/0`, { timeout: 20_000 });
  await side().locator('[data-testid="side-counts"]', { hasText: '202 lines' }).waitFor({ timeout: 20_000 });
  assert.equal(await panel.locator('.error-box').count(), 0);
  // The same bookmark as the diff's From: the differing rows from it to now.
  await panel.locator('#diff-view').selectOption('rows');
  await panel.getByRole('button', { name: 'Compare' }).click();
  await panel.locator('[data-testid="diff-counts"]').waitFor({ timeout: 20_000 });
  assert.equal((await panel.locator('[data-testid="diff-counts"]').innerText()).replace(/\s+/g, ' ').trim(), '+2 −1 ~2');
});

// The snapshot diff in Debian's Chromium against `skein serve` and a real sandbox (run.sh
// starts both): a cache keyed by its source's primary key (proposed by `suggest_key`), a known
// change set on the primary (3 rows inserted, 2 deleted, 1 updated) and a refresh: the Caches
// row says "+3 −2 ~1" and links to the diff, which shows the counts, the cache's key, the
// changed cell as old → new, filters by kind and survives a reload; the snapshot's detail
// opens the same diff; a refresh by another process (the CLI) moves the row to the new pair;
// a snapshot before the table existed is named in the error. Restore from time travel: the
// preview names the counts, a table changed since the preview is refused (Conflict), the
// restore writes one snapshot and the cache is `restored` on the page and for the CLI until a
// refresh makes it fresh again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { base, openConsole, rpc, shots } from './lib.mjs';

const NAME = 'diff_items';
const QUERY = `SELECT id, name, qty FROM ${NAME}`;
let browser;
let page;
let v1;
let v2;
let session;

async function shot(name) {
  if (shots) await page.screenshot({ path: `${shots}/${name}.png`, fullPage: false });
}

/** The diff panel is in view: a link to a diff shows it first on the Snapshots page. */
async function inView() {
  const box = await page.locator('[data-testid="snapshot-diff"]').boundingBox();
  const height = await page.evaluate(() => window.innerHeight);
  assert.ok(box && box.y >= 0 && box.y < height / 2, `the diff panel starts in the top half of the window (${JSON.stringify(box)})`);
}

/** Runs a statement on the primary through the console's router (writes go there). */
async function sql(text) {
  return rpc({ method: 'run_query', params: { sql: text, session, max_rows: 10 } });
}

async function refresh() {
  const o = await rpc({ method: 'refresh_cache', params: { name: NAME, force: true } });
  assert.equal(o.result, 'REFRESHED', JSON.stringify(o));
  return o.snapshot_id;
}

before(async () => {
  ({ browser, page } = await openConsole());
  session = `diff-test-${process.pid}`;
  await sql(`CREATE TABLE ${NAME} (id int PRIMARY KEY, name text, qty int)`);
  await sql(`INSERT INTO ${NAME} SELECT g, 'item ' || g, g % 3 FROM generate_series(1, 10) g`);
  const proposal = await rpc({ method: 'suggest_key', params: { query: QUERY } });
  assert.deepEqual(proposal, { key: ['id'], source: `the primary key of ${NAME}` });
  await rpc({ method: 'create_cache', params: { name: NAME, query: QUERY, monitor: [NAME], ttl_seconds: null, key: proposal.key } });
  v1 = await refresh();
  await sql(`INSERT INTO ${NAME} VALUES (11, 'item 11', 1), (12, 'item 12', 2), (13, NULL, 0)`);
  await sql(`DELETE FROM ${NAME} WHERE id IN (1, 2)`);
  await sql(`UPDATE ${NAME} SET qty = 500 WHERE id = 5`);
  v2 = await refresh();
});

after(async () => {
  try {
    await rpc({ method: 'delete_cache', params: { name: NAME } });
    await sql(`DROP TABLE ${NAME}`);
  } catch (e) {
    console.error('cleanup failed:', e.message);
  }
  await browser?.close();
});

/** The diff panel once it shows the diff of `from` → `to`. */
async function shownDiff(from, to) {
  const panel = page.locator('[data-testid="snapshot-diff"]');
  await panel.locator('.travel-head', { hasText: `snapshot ${from} → ${to}` }).waitFor({ timeout: 20_000 });
  return panel;
}

test("the Caches row says what the last refresh changed, and its link opens that diff", async () => {
  await page.goto(`${base}/#/caches`);
  const row = page.locator('tr', { has: page.locator(`text=${NAME}`) }).first();
  const link = row.locator('[data-testid="refresh-diff"][data-state="done"]');
  await link.waitFor({ timeout: 20_000 });
  assert.equal(await link.innerText(), '+3 −2 ~1');
  assert.match(await link.getAttribute('title'), new RegExp(`snapshot ${v1} → ${v2}.*matched by the cache's key \\(id\\)`));
  await link.click();
  await page.waitForFunction((h) => window.location.hash === h, `#/snapshots/diff/${NAME}/${v1}/${v2}/all/0`, { timeout: 20_000 });
  const panel = await shownDiff(v1, v2);
  assert.equal((await panel.locator('[data-testid="diff-counts"]').innerText()).replace(/\s+/g, ' ').trim(), '+3 −2 ~1');
  assert.equal(await panel.locator('[data-testid="diff-key"]').innerText(), "matched by the cache's key (id)");
  const rows = panel.locator('[data-testid="diff-rows"] tbody tr');
  assert.equal(await rows.count(), 6);
  assert.deepEqual(await rows.evaluateAll((trs) => trs.map((t) => t.dataset.kind)), ['added', 'added', 'added', 'removed', 'removed', 'changed']);
  const changed = panel.locator('td[data-changed="qty"]');
  assert.equal(await changed.count(), 1);
  assert.equal((await changed.innerText()).trim(), '2 → 500');
  // What the panel shows is what the backend answers.
  const d = await rpc({ method: 'snapshot_diff', params: { table: NAME, from: v1, to: v2, key: null, only: null, limit: 50, offset: 0 } });
  assert.deepEqual([d.added, d.removed, d.changed, d.key_source], [3, 2, 1, 'cache']);
  await inView();
  await shot('diff-all');
});

test('a kind filter and a reload keep the diff; the snapshot detail opens the same one', async () => {
  const panel = page.locator('[data-testid="snapshot-diff"]');
  await panel.getByLabel('Rows shown').selectOption('changed');
  await panel.getByRole('button', { name: 'Compare' }).click();
  await page.waitForFunction((h) => window.location.hash === h, `#/snapshots/diff/${NAME}/${v1}/${v2}/changed/0`, { timeout: 20_000 });
  await panel.locator('[data-testid="diff-range"]', { hasText: 'rows 1–1 of 1 changed rows' }).waitFor({ timeout: 20_000 });
  await page.reload();
  const again = await shownDiff(v1, v2);
  await again.locator('[data-testid="diff-range"]', { hasText: 'rows 1–1 of 1 changed rows' }).waitFor({ timeout: 20_000 });
  assert.equal(await again.locator('[data-testid="diff-rows"] tbody tr').count(), 1);
  // The counts are of every kind, filter or not.
  assert.equal((await again.locator('[data-testid="diff-counts"]').innerText()).replace(/\s+/g, ' ').trim(), '+3 −2 ~1');

  // The refresh's snapshot, selected in the history: its Diff compares it with the snapshot
  // before, where the cache's table held what the previous refresh wrote.
  await page.goto(`${base}/#/snapshots/${v2}`);
  const detail = page.locator('[data-testid="snapshot-detail"]');
  const tableRow = detail.locator(`[data-table$="${NAME}"]`);
  await tableRow.waitFor({ timeout: 20_000 });
  await tableRow.getByRole('button', { name: 'Diff' }).click();
  const fromDetail = await shownDiff(v2 - 1, v2);
  await inView();
  assert.equal((await fromDetail.locator('[data-testid="diff-counts"]').innerText()).replace(/\s+/g, ' ').trim(), '+3 −2 ~1');
});

test('a refresh by another process moves the Caches row to the new pair', async () => {
  await sql(`UPDATE ${NAME} SET name = 'renamed' WHERE id = 3`);
  const out = JSON.parse(
    execFileSync(process.env.SKEIN_BIN, ['cache', 'refresh', NAME, '--force', '--json', '--profile', process.env.SKEIN_PROFILE], { encoding: 'utf8' }),
  );
  assert.equal(out.result, 'REFRESHED');
  const v3 = out.snapshot_id;
  await page.goto(`${base}/#/caches`);
  const row = page.locator('tr', { has: page.locator(`text=${NAME}`) }).first();
  await row.locator('[data-testid="record-snapshot"]', { hasText: `snapshot ${v3}` }).waitFor({ timeout: 30_000 });
  const link = row.locator('[data-testid="refresh-diff"][data-state="done"]');
  await page.waitForFunction(
    (n) => [...document.querySelectorAll('[data-testid="refresh-diff"]')].some((e) => e.closest('tr')?.textContent?.includes(n) && e.textContent === '+0 −0 ~1'),
    NAME,
    { timeout: 20_000 },
  );
  assert.equal(await link.getAttribute('href'), `#/snapshots/diff/${NAME}/${v2}/${v3}/all/0`);
  // The CLI says the same.
  const cli = execFileSync(process.env.SKEIN_BIN, ['snapshot', 'diff', NAME, String(v2), String(v3), '--profile', process.env.SKEIN_PROFILE], {
    encoding: 'utf8',
  });
  assert.match(cli, /by the cache's key \(id\): \+0 −0 ~1/);
  // The history under the row: every refresh that wrote data, each with what it changed.
  await row.locator('[data-action="history"]').click();
  const history = page.locator(`[data-testid="refresh-history"][data-cache="${NAME}"]`);
  await history.locator(`tr[data-snapshot-id="${v1}"] [data-testid="refresh-diff"]`).waitFor({ timeout: 20_000 });
  await page.waitForFunction(
    (n) => [...document.querySelectorAll(`[data-testid="refresh-history"][data-cache="${n}"] [data-testid="refresh-diff"]`)].every((e) => e.dataset.state !== 'loading'),
    NAME,
    { timeout: 20_000 },
  );
  const lines = await history.locator('tbody tr').evaluateAll((trs) =>
    trs.map((t) => [t.dataset.snapshotId, t.querySelector('[data-testid="refresh-diff"]')?.textContent?.trim()]),
  );
  assert.deepEqual(lines, [
    [String(v3), '+0 −0 ~1'],
    [String(v2), '+3 −2 ~1'],
    [String(v1), 'first refresh'],
  ]);
  await shot('diff-caches-row');
});

test('a snapshot from before the table existed is named in the error', async () => {
  await page.goto(`${base}/#/snapshots/diff/${NAME}/1/${v2}/all/0`);
  const box = page.locator('[data-testid="snapshot-diff"] .error-box');
  await box.waitFor({ timeout: 20_000 });
  assert.equal(await box.getAttribute('data-error-code'), 'NotFound', await box.innerText());
  assert.match(await box.innerText(), /snapshot 1/);
});

test('restore from time travel: preview, a refusal when the table moved, the restore, restored until refreshed', async () => {
  await page.goto(`${base}/#/snapshots/travel/main.${NAME}/v${v1}`);
  const travel = page.locator('[data-testid="time-travel"]');
  await travel.locator('[data-testid="travel-banner"]', { hasText: `as of snapshot ${v1}` }).waitFor({ timeout: 20_000 });
  const open = travel.getByRole('button', { name: `Restore main.${NAME} to snapshot ${v1}…` });
  await open.click();
  const confirm = travel.locator('[data-testid="restore-confirm"]');
  await confirm.waitFor({ timeout: 20_000 });
  // Now: ids 1, 2 gone, 11–13 added, 5 and 3 changed since v1.
  assert.equal(await confirm.locator('[data-testid="restore-counts"]').innerText(), '+2 −3 ~2');
  if (shots) await confirm.screenshot({ path: `${shots}/restore-preview.png` });

  // The table moves before the confirm (another writer, then the CLI's refresh): refused.
  await sql(`UPDATE ${NAME} SET qty = 7 WHERE id = 4`);
  execFileSync(process.env.SKEIN_BIN, ['cache', 'refresh', NAME, '--profile', process.env.SKEIN_PROFILE], { encoding: 'utf8' });
  await confirm.getByRole('button', { name: `Restore to snapshot ${v1} (+2 −3 ~2)` }).click();
  const box = confirm.locator('.error-box');
  await box.waitFor({ timeout: 20_000 });
  assert.equal(await box.getAttribute('data-error-code'), 'Conflict', await box.innerText());
  assert.match(await box.innerText(), /changed since the preview/);
  await confirm.getByRole('button', { name: 'Cancel' }).click();

  // Previewed again: the new counts, and the restore.
  await open.click();
  await confirm.locator('[data-testid="restore-counts"]', { hasText: '+2 −3 ~3' }).waitFor({ timeout: 20_000 });
  const before = (await rpc({ method: 'snapshots', params: { limit: 1, before: null } })).snapshots[0].id;
  await confirm.getByRole('button', { name: `Restore to snapshot ${v1} (+2 −3 ~3)` }).click();
  const done = travel.locator('[data-testid="restore-done"]');
  await done.waitFor({ timeout: 20_000 });
  const newest = (await rpc({ method: 'snapshots', params: { limit: 1, before: null } })).snapshots[0];
  assert.equal(newest.id, before + 1, 'one snapshot');
  assert.equal(newest.commit_message, `restore main.${NAME} to snapshot ${v1}`);
  assert.match(await done.innerText(), new RegExp(`in snapshot ${newest.id} · cache ${NAME} is restored until its next refresh`));
  const same = await rpc({ method: 'snapshot_diff', params: { table: NAME, from: v1, to: newest.id, key: null, only: null, limit: 1, offset: 0 } });
  assert.deepEqual([same.added, same.removed, same.changed], [0, 0, 0], 'the table holds what it held at the snapshot');

  // Restored on the page and for the CLI, never fresh, until a refresh.
  await page.goto(`${base}/#/caches`);
  const row = page.locator(`tr[data-cache="${NAME}"]`);
  await page.waitForFunction((n) => document.querySelector(`tr[data-cache="${n}"]`)?.dataset.state === 'restored', NAME, { timeout: 20_000 });
  assert.match(await row.innerText(), /restored/);
  assert.equal(await row.locator('[data-testid="refresh-result"] [data-result]').getAttribute('data-result'), 'RESTORED');
  const listed = JSON.parse(execFileSync(process.env.SKEIN_BIN, ['cache', 'list', '--json', '--profile', process.env.SKEIN_PROFILE], { encoding: 'utf8' }));
  const mine = listed.find((c) => c.name === NAME);
  assert.equal(mine.state, 'restored');
  assert.equal(mine.last_refresh.restored_from, v1);
  await shot('restore-caches-row');
  await row.locator('[data-action="refresh"]').click();
  await page.waitForFunction((n) => document.querySelector(`tr[data-cache="${n}"]`)?.dataset.state === 'fresh', NAME, { timeout: 30_000 });
});

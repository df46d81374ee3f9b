// The lake's timeline on the Snapshots page, in Debian's Chromium against `skein serve` and a
// real sandbox (run.sh starts both): it counts what the lake holds, one lane per table; a mark
// says what it is on hover, a click selects its snapshot, a shift-click on a second mark of the
// same lane opens their diff; the wheel zooms and a double-click shows everything again; a
// refresh by another process appears as a new mark.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { base, openConsole, rpc, shots } from './lib.mjs';

const CACHE = 'open_orders_by_priority';
const LANE = `main.${CACHE}`;
const AXIS_H = 34;
const LANE_H = 22;
let browser;
let page;

before(async () => {
  ({ browser, page } = await openConsole());
  // Two refreshes of one cache, so its lane has marks to compare.
  for (let i = 0; i < 2; i++) {
    const o = await rpc({ method: 'refresh_cache', params: { name: CACHE, force: true } });
    assert.equal(o.result, 'REFRESHED');
  }
});

after(async () => {
  await browser?.close();
});

/** Where a mark is drawn on the canvas, in the window the canvas says it drew (`data-t0`, `data-t1`). */
async function spot(timeline, id, lane) {
  const canvas = page.locator('[data-testid="timeline-canvas"]');
  const box = await canvas.boundingBox();
  const [t0, t1] = await canvas.evaluate((c) => [Number(c.dataset.t0), Number(c.dataset.t1)]);
  const m = timeline.marks.find((x) => x.id === id);
  const lanes = ['lake', ...timeline.tables];
  return {
    x: box.x + ((m.time_ms - t0) / (t1 - t0)) * box.width,
    y: box.y + AXIS_H + lanes.indexOf(lane) * LANE_H + LANE_H / 2,
  };
}

/**
 * The lake's timeline once the panel's count says what the backend says: a scheduled refresh
 * (the sandbox's caches have TTLs) can land at any moment, so both are read again until they
 * agree. Returns the timeline and the lake's snapshot total.
 */
async function agreed(panel) {
  const count = panel.locator('[data-testid="timeline-count"]');
  let last = '';
  for (let i = 0; i < 80; i++) {
    const timeline = await rpc({ method: 'timeline', params: { limit: 10000 } });
    const total = (await rpc({ method: 'snapshots', params: { limit: 1, before: null } })).total;
    const want = `${timeline.marks.length} of ${total} snapshots · ${timeline.tables.length} tables`;
    last = ((await count.count()) ? await count.innerText() : '(no count yet)').trim();
    if (last === want) return { timeline, total };
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`the timeline's count never matched the lake's (last shown: ${last})`);
}

/** Shows the whole history if the timeline is zoomed in, and waits for that draw. */
async function showAll() {
  const button = page.locator('[data-testid="snapshot-timeline"]').getByRole('button', { name: 'Show all' });
  if (await button.isDisabled()) return;
  await button.click();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="snapshot-timeline"] button')].find((b) => b.textContent === 'Show all')?.disabled, null, {
    timeout: 10_000,
  });
}

/**
 * Zooms in with the wheel between two marks until they are drawn at least 16 px apart: two
 * refreshes a few hundred milliseconds apart share a pixel when the window spans the whole history.
 * It starts from the whole history and zooms at their midpoint, so both stay on the canvas.
 */
async function separate(timeline, a, b, lane) {
  const canvas = page.locator('[data-testid="timeline-canvas"]');
  await showAll();
  for (let i = 0; i < 30; i++) {
    const [pa, pb] = [await spot(timeline, a, lane), await spot(timeline, b, lane)];
    const box = await canvas.boundingBox();
    for (const p of [pa, pb]) {
      assert.ok(p.x > box.x && p.x < box.x + box.width, `a mark at x ${p.x} is off the canvas (${box.x}…${box.x + box.width})`);
    }
    if (Math.abs(pb.x - pa.x) >= 16) return;
    const drawn = await canvas.evaluate((c) => c.dataset.t0 + ' ' + c.dataset.t1);
    await page.mouse.move((pa.x + pb.x) / 2, pa.y);
    await page.mouse.wheel(0, -200);
    await page.waitForFunction((d) => {
      const c = document.querySelector('[data-testid="timeline-canvas"]');
      return c.dataset.t0 + ' ' + c.dataset.t1 !== d;
    }, drawn, { timeout: 10_000 });
  }
  assert.fail(`marks ${a} and ${b} stay within 16 px after 30 zoom steps`);
}

test('the timeline counts the lake, a mark says what it is, a click selects it, a shift-click compares', async () => {
  await page.goto(`${base}/#/snapshots`);
  const panel = page.locator('[data-testid="snapshot-timeline"]');
  const { timeline, total } = await agreed(panel);
  assert.equal(timeline.marks.length, total, 'the sandbox lake is within the limit');
  assert.ok(timeline.tables.includes(LANE), timeline.tables.join(', '));
  assert.ok(!timeline.tables.some((t) => t.startsWith('skein.')), "Skein's records are not lanes");
  await panel.locator(`.timeline-lane[title="${LANE}"]`, { hasText: CACHE }).waitFor();

  const refreshes = timeline.marks.filter((m) => m.kind === 'refresh' && m.tables.includes(LANE));
  assert.ok(refreshes.length >= 2, JSON.stringify(refreshes));
  const [a, b] = refreshes.slice(-2);
  await separate(timeline, a.id, b.id, LANE);
  const pa = await spot(timeline, a.id, LANE);
  await page.mouse.move(pa.x, pa.y);
  const tip = page.locator('[data-testid="timeline-tip"]');
  await tip.waitFor({ timeout: 10_000 });
  assert.match(await tip.innerText(), new RegExp(`^#${a.id} · cache refresh · .* UTC · skein: refresh cache ${CACHE} · ${LANE}$`));
  await page.mouse.click(pa.x, pa.y);
  await page.waitForFunction((h) => window.location.hash === h, `#/snapshots/${a.id}`, { timeout: 10_000 });
  await page.locator('[data-testid="snapshot-detail"] .panel-title', { hasText: `Snapshot ${a.id}` }).waitFor({ timeout: 20_000 });
  if (shots) await panel.screenshot({ path: `${shots}/timeline.png` });

  await separate(timeline, a.id, b.id, LANE);
  const pb = await spot(timeline, b.id, LANE);
  await page.keyboard.down('Shift');
  await page.mouse.click(pb.x, pb.y);
  await page.keyboard.up('Shift');
  await page.waitForFunction((h) => window.location.hash === h, `#/snapshots/diff/${LANE}/${a.id}/${b.id}/all/0`, { timeout: 10_000 });
  await page.locator('[data-testid="snapshot-diff"] .travel-head', { hasText: `snapshot ${a.id} → ${b.id}` }).waitFor({ timeout: 20_000 });
  // A forced refresh of an unchanged source changes no row.
  assert.equal((await page.locator('[data-testid="diff-counts"]').innerText()).replace(/\s+/g, ' ').trim(), '+0 −0 ~0');
  // Back to the whole history, as the next tests expect.
  await showAll();
});

test('the wheel zooms, a double-click shows everything; a refresh elsewhere is a new mark', async () => {
  await page.goto(`${base}/#/snapshots`);
  const panel = page.locator('[data-testid="snapshot-timeline"]');
  const showAll = panel.getByRole('button', { name: 'Show all' });
  const canvas = page.locator('[data-testid="timeline-canvas"]');
  await canvas.waitFor({ timeout: 20_000 });
  await page.locator('[data-testid="timeline-count"]', { hasText: 'snapshots' }).waitFor({ timeout: 20_000 });
  assert.equal(await showAll.isDisabled(), true);
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -500);
  await page.waitForFunction(() => ![...document.querySelectorAll('[data-testid="snapshot-timeline"] button')].find((b) => b.textContent === 'Show all')?.disabled, null, {
    timeout: 10_000,
  });
  await canvas.dblclick({ position: { x: box.width / 2, y: 5 } });
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="snapshot-timeline"] button')].find((b) => b.textContent === 'Show all')?.disabled, null, {
    timeout: 10_000,
  });

  const before = await rpc({ method: 'timeline', params: { limit: 10000 } });
  const out = JSON.parse(
    execFileSync(process.env.SKEIN_BIN, ['cache', 'refresh', CACHE, '--force', '--json', '--profile', process.env.SKEIN_PROFILE], { encoding: 'utf8' }),
  );
  assert.equal(out.result, 'REFRESHED');
  // The page follows the lake without a reload (a scheduled refresh may land too).
  const after = await agreed(panel);
  assert.ok(after.total > before.total, `${after.total} snapshots after, ${before.total} before`);
  const mark = after.timeline.marks.find((m) => m.id === out.snapshot_id);
  assert.deepEqual([mark?.kind, mark?.tables], ['refresh', [LANE]]);
});

test('a bookmark set in the detail is a flag on the timeline; one set by the CLI shows up; × deletes it', async () => {
  const timeline = await rpc({ method: 'timeline', params: { limit: 10000 } });
  const target = timeline.marks.filter((m) => m.kind === 'refresh').at(-1);
  await page.goto(`${base}/#/snapshots/${target.id}`);
  const detail = page.locator('[data-testid="snapshot-detail"]');
  await detail.locator('.panel-title', { hasText: `Snapshot ${target.id}` }).waitFor({ timeout: 20_000 });
  const marks = detail.locator('[data-testid="snapshot-bookmarks"]');
  // A bad name says what a name is.
  await marks.getByLabel('Bookmark name').fill('1st');
  await marks.getByRole('button', { name: 'Bookmark' }).click();
  await marks.locator('.error-box', { hasText: 'start with a letter' }).waitFor({ timeout: 20_000 });
  await marks.getByLabel('Bookmark name').fill('before-migration');
  await marks.getByRole('button', { name: 'Bookmark' }).click();
  await marks.locator('[data-bookmark="before-migration"]').waitFor({ timeout: 20_000 });
  const listed = await rpc({ method: 'bookmarks' });
  assert.deepEqual(
    listed.map((b) => [b.name, b.snapshot_id]),
    [['before-migration', target.id]],
  );

  // The flag, on the axis above its mark.
  const after = await rpc({ method: 'timeline', params: { limit: 10000 } });
  assert.deepEqual(after.bookmarks.map((b) => b.name), ['before-migration']);
  const panel = page.locator('[data-testid="snapshot-timeline"]');
  const shown = (await agreed(panel)).timeline;
  const at = await spot(shown, target.id, LANE);
  const box = await page.locator('[data-testid="timeline-canvas"]').boundingBox();
  await page.mouse.move(at.x + 8, box.y + 26);
  await panel.locator('[data-testid="timeline-tip"]', { hasText: `⚑ bookmark before-migration: snapshot ${target.id}` }).waitFor({ timeout: 10_000 });
  if (shots) await panel.screenshot({ path: `${shots}/timeline-bookmark.png` });

  // Another process names the same snapshot: the detail shows it once the lake moves.
  execFileSync(process.env.SKEIN_BIN, ['snapshot', 'bookmark', 'from-cli', '--version', String(target.id), '--profile', process.env.SKEIN_PROFILE], {
    encoding: 'utf8',
  });
  await marks.locator('[data-bookmark="from-cli"]').waitFor({ timeout: 20_000 });
  await marks.getByRole('button', { name: 'Delete bookmark before-migration' }).click();
  await page.waitForFunction(() => !document.querySelector('[data-bookmark="before-migration"]'), null, { timeout: 20_000 });
  assert.deepEqual(
    (await rpc({ method: 'bookmarks' })).map((b) => b.name),
    ['from-cli'],
  );
  await rpc({ method: 'delete_bookmark', params: { name: 'from-cli' } });
});

test("a table's history lists every snapshot that changed it with its rows then, and follows a new refresh", async () => {
  await page.goto(`${base}/#/snapshots`);
  const panel = page.locator('[data-testid="table-history"]');
  await panel.getByLabel('Table').selectOption(LANE);
  const h = await rpc({ method: 'table_history', params: { table: LANE, limit: 500 } });
  const ids = h.points.map((p) => String(p.snapshot_id)).reverse();
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="history-points"] tbody tr').length === n,
    ids.length,
    { timeout: 20_000 },
  );
  assert.deepEqual(await panel.locator('[data-testid="history-points"] tbody tr').evaluateAll((trs) => trs.map((t) => t.dataset.snapshotId)), ids);
  await panel.locator('[data-testid="history-chart"] canvas').first().waitFor({ timeout: 10_000 });
  // Each point's rows are what time travel reads there.
  for (const p of h.points.slice(-2)) {
    const page1 = await rpc({ method: 'time_travel', params: { table: LANE, at: { version: p.snapshot_id }, limit: 1, offset: 0 } });
    assert.equal(p.rows, page1.rows.total, `rows at ${p.snapshot_id}`);
    const cell = panel.locator(`tr[data-snapshot-id="${p.snapshot_id}"] td[data-col="rows"]`);
    assert.equal(await cell.innerText(), String(p.rows));
  }
  if (shots) await panel.screenshot({ path: `${shots}/table-history.png` });

  const out = JSON.parse(
    execFileSync(process.env.SKEIN_BIN, ['cache', 'refresh', CACHE, '--force', '--json', '--profile', process.env.SKEIN_PROFILE], { encoding: 'utf8' }),
  );
  await panel.locator(`tr[data-snapshot-id="${out.snapshot_id}"]`).waitFor({ timeout: 20_000 });
  assert.equal(await panel.locator(`tr[data-snapshot-id="${out.snapshot_id}"] td[data-col="rows"]`).innerText(), String(out.rows));
});

// Lake maintenance on the Snapshots page, in Debian's Chromium against `skein serve` and a
// real sandbox (run.sh starts both and exports SKEIN_URL, SKEIN_TOKEN, SKEIN_BIN,
// SKEIN_PROFILE, SKEIN_SANDBOX_DIR). It expires the lake's history, so it runs after
// console.test.mjs (run.sh runs the files in alphabetical order, one at a time).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, openConsole, rpc, shots } from './lib.mjs';


let browser;
let page;


async function shot(name) {
  if (shots) await page.screenshot({ path: `${shots}/${name}.png`, fullPage: false });
}

/** Waits until no maintenance job runs (a test's own job, or one left by another). */
async function jobsSettled() {
  for (let i = 0; i < 300; i++) {
    if (!(await rpc({ method: 'jobs' })).some((j) => j.state === 'running')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('a maintenance job is still running after 30 s');
}

before(async () => {
  ({ browser, page } = await openConsole());
});

after(async () => {
  await browser?.close();
});

test('the maintenance panel summarises the lake', async () => {
  // Two forced refreshes: the cache's older files now belong to older snapshots only.
  for (let i = 0; i < 2; i++) {
    const r = await rpc({ method: 'refresh_cache', params: { name: 'revenue_by_nation', force: true } });
    assert.equal(r.result, 'REFRESHED');
  }
  const stats = await rpc({ method: 'lake_stats' });
  assert.ok(stats.snapshots > 1, `old snapshots exist (${stats.snapshots})`);

  await page.goto(`${base}/#/snapshots`);
  const panel = page.locator('[data-testid="maintenance"]');
  await panel.waitFor({ timeout: 20_000 });
  const summary = panel.locator('[data-testid="lake-stats"]');
  await summary.locator('.stat').first().waitFor({ timeout: 20_000 });
  const text = await summary.innerText();
  assert.match(text, /Snapshots:\s*[\d,]+/);
  assert.match(text, /Oldest:\s*#\d+/);
  assert.match(text, /Reclaimable by expiring:\s*[\d,]+ files?/);
  assert.match(text, /Scheduled for deletion:\s*[\d,]+ files?/);
  // The summary's numbers are the backend's (it may have moved on since: compare loosely).
  assert.ok(Number(await summary.getAttribute('data-snapshots')) >= stats.snapshots);
  // The default "Older than" is a UTC time that expires something when there is something to
  // expire: this lake is minutes old, so an hour ago would find nothing; the default lies
  // inside its history instead, and its preview lists snapshots.
  await page.waitForFunction(() => document.querySelector('#maint-older-than')?.value !== '' && document.querySelector('[data-testid="lake-stats"]')?.getAttribute('data-snapshots'));
  const older = await panel.getByLabel('Older than').inputValue();
  assert.match(older, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  const cutoff = Date.parse(`${older.replace(' ', 'T')}Z`);
  const fresh = await rpc({ method: 'lake_stats' });
  assert.ok(fresh.oldest_snapshot.time_ms > Date.now() - 3_600_000, 'every snapshot is younger than an hour');
  assert.ok(cutoff > fresh.oldest_snapshot.time_ms, `the default ${older} is after the oldest snapshot`);
  const preview = panel.locator('[data-testid="expire-preview"]');
  await panel.getByRole('button', { name: 'Preview expiry' }).click();
  await preview.locator('tr[data-snapshot-id]').first().waitFor({ timeout: 20_000 });
  assert.ok(Number(await preview.getAttribute('data-count')) >= 1, 'the default expires something');
  await panel.getByRole('button', { name: 'Cancel' }).click();
});

test('a malformed time is refused inline, and Cancel drops a preview without expiring', async () => {
  const panel = page.locator('[data-testid="maintenance"]');
  const preview = panel.locator('[data-testid="expire-preview"]');
  await panel.getByLabel('Older than').fill('yesterday');
  await panel.getByRole('button', { name: 'Preview expiry' }).click();
  await preview.locator('.error-box[data-error-code="InvalidInput"]').waitFor({ timeout: 10_000 });

  const before = (await rpc({ method: 'lake_stats' })).snapshots;
  await panel.getByLabel('Older than').fill('2999-01-01 00:00:00');
  await panel.getByRole('button', { name: 'Preview expiry' }).click();
  await preview.locator('tr[data-snapshot-id]').first().waitFor({ timeout: 20_000 });
  await panel.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await preview.isVisible(), false, 'the preview is gone');
  assert.equal((await rpc({ method: 'lake_stats' })).snapshots, before, 'nothing was expired');
});

test('Preview expiry lists exactly what goes; confirming expires it and reloads the history', async () => {
  await jobsSettled();
  const panel = page.locator('[data-testid="maintenance"]');
  const preview = panel.locator('[data-testid="expire-preview"]');
  await panel.getByLabel('Older than').fill('2999-01-01 00:00:00');
  await panel.getByRole('button', { name: 'Preview expiry' }).click();
  const rows = preview.locator('tr[data-snapshot-id]');
  await rows.first().waitFor({ timeout: 20_000 });
  const ids = (await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.dataset.snapshotId)))).sort((a, b) => a - b);
  const n = ids.length;
  assert.ok(n >= 2, `several snapshots to expire (${n})`);
  assert.equal(await preview.getAttribute('data-count'), String(n));
  // Everything but the latest: the dry run agrees.
  const dry = await rpc({ method: 'preview_expire', params: { target: { versions: ids } } });
  assert.deepEqual(dry.map((s) => s.id).sort((a, b) => a - b), ids);
  const latest = (await rpc({ method: 'snapshots', params: { limit: 1, before: null } })).snapshots[0].id;
  assert.ok(!ids.includes(latest), 'the latest snapshot is never listed');
  assert.match(await preview.innerText(), new RegExp(`Time travel to these ${n} snapshots will stop working\\. Data files only they use will be scheduled for deletion`));

  const confirm = preview.getByRole('button', { name: `Expire ${n} snapshots`, exact: true });
  assert.equal(await confirm.count(), 1, `a confirm button named "Expire ${n} snapshots"`);
  await shot('maintenance-expire-preview');
  await confirm.click();

  // The job shows in place and in the tray, then finishes.
  const jobs = panel.locator('[data-testid="jobs"]');
  const job = jobs.locator('li[data-job-id]').first();
  await job.waitFor({ timeout: 10_000 });
  await jobs.locator('li[data-job-id][data-job-state="done"]').first().waitFor({ timeout: 60_000 });
  assert.match(await job.innerText(), new RegExp(`expired ${n} snapshots`, 'i'));
  await preview.locator('.job-inline[data-job-state="done"]').waitFor({ timeout: 10_000 });

  // Only the latest snapshot is left (a cache refresh meanwhile may have added newer ones),
  // and the history on screen says so without a reload.
  const after = await rpc({ method: 'snapshots', params: { limit: 50, before: null } });
  const left = after.snapshots.map((s) => s.id);
  assert.deepEqual(left.filter((id) => id <= latest), [latest], `only the latest is left (${left.join(', ')})`);
  await page.waitForFunction(
    (want) => {
      const ids = [...document.querySelectorAll('[data-testid="snapshots-table"] tbody tr[data-snapshot-id]')].map((tr) => Number(tr.getAttribute('data-snapshot-id')));
      return ids.includes(want) && ids.every((id) => id >= want);
    },
    latest,
    { timeout: 20_000 },
  );
  // The summary reloads too: one snapshot, files now scheduled for deletion.
  const summary = panel.locator('[data-testid="lake-stats"]');
  await page.waitForFunction(
    (want) => document.querySelector('[data-testid="lake-stats"]')?.getAttribute('data-snapshots') === String(want),
    left.length,
    { timeout: 20_000 },
  );
  // What the job says it scheduled is what the page's count and the cleanup preview show.
  const said = /(\d+) files? \([^)]*\) scheduled for deletion/.exec(await job.innerText());
  assert.ok(said, `the job names the files it scheduled: ${await job.innerText()}`);
  const scheduled = Number(said[1]);
  assert.ok(scheduled > 0, 'expiring scheduled files for deletion');
  await page.waitForFunction(
    (want) => document.querySelector('[data-testid="lake-stats"]')?.getAttribute('data-scheduled-files') === String(want),
    scheduled,
    { timeout: 20_000 },
  );
  assert.equal((await rpc({ method: 'preview_delete_files', params: { orphaned: false } })).length, scheduled);
  await shot('maintenance-expire-done');
});

test('Preview cleanup lists the scheduled files; confirming deletes them', async () => {
  await jobsSettled();
  const panel = page.locator('[data-testid="maintenance"]');
  const preview = panel.locator('[data-testid="cleanup-preview"]');
  const scheduled = (await rpc({ method: 'lake_stats' })).scheduled_files;
  assert.ok(scheduled > 0, `files are scheduled for deletion (${scheduled})`);

  await panel.getByRole('button', { name: 'Preview cleanup' }).click();
  await preview.locator('tr[data-path]').first().waitFor({ timeout: 20_000 });
  const n = await preview.locator('tr[data-path]').count();
  assert.equal(n, scheduled, 'the preview lists every scheduled file');
  const confirm = preview.getByRole('button', { name: new RegExp(`^Delete ${n} files?( \\(.+\\))?$`) });
  assert.equal(await confirm.count(), 1, `a confirm button named "Delete ${n} files (…)"`);
  assert.match(await confirm.innerText(), /^Delete \d+ files? \(\d+(\.\d)? (B|KiB|MiB|GiB)\)$/, 'the size in IEC units');
  await shot('maintenance-cleanup-preview');
  await confirm.click();

  const jobs = panel.locator('[data-testid="jobs"]');
  await preview.locator('.job-inline[data-job-state="done"]').waitFor({ timeout: 60_000 });
  const done = jobs.locator('li[data-job-id][data-job-state="done"]').first();
  assert.match(await done.innerText(), new RegExp(`deleted ${n} files?`, 'i'));
  const stats = await rpc({ method: 'lake_stats' });
  assert.equal(stats.scheduled_files, 0);
  await page.waitForFunction(
    () => document.querySelector('[data-testid="lake-stats"]')?.getAttribute('data-scheduled-files') === '0',
    null,
    { timeout: 20_000 },
  );
  await shot('maintenance-cleanup-done');

  // Nothing left: a new preview says so and offers no confirm button.
  await panel.getByRole('button', { name: 'Preview cleanup' }).click();
  await preview.getByText('Nothing to clean up').waitFor({ timeout: 20_000 });
  assert.equal(await preview.getByRole('button', { name: /^Delete/ }).count(), 0);
});

test('with only the latest snapshot there is nothing to expire', async () => {
  await jobsSettled();
  const panel = page.locator('[data-testid="maintenance"]');
  const preview = panel.locator('[data-testid="expire-preview"]');
  await panel.getByLabel('Older than').fill('2999-01-01 00:00:00');
  await panel.getByRole('button', { name: 'Preview expiry' }).click();
  await preview.getByText('Nothing to expire').waitFor({ timeout: 20_000 });
  assert.equal(await preview.getByRole('button', { name: /^Expire/ }).count(), 0, 'no confirm button');
});

test('Preview compaction lists each table’s files; Flush inlined data runs as a job and writes a snapshot', async () => {
  await jobsSettled();
  const panel = page.locator('[data-testid="maintenance"]');
  const preview = panel.locator('[data-testid="compaction-preview"]');
  await panel.getByRole('button', { name: 'Preview compaction', exact: true }).click();
  const rows = preview.locator('tr[data-table]');
  await rows.first().waitFor({ timeout: 20_000 });
  // The rows are the backend's listing (tables with data files), sizes in IEC units.
  const listed = (await rpc({ method: 'preview_compaction' })).filter((t) => t.data_files > 0);
  const shown = await rows.evaluateAll((trs) => trs.map((tr) => ({ table: tr.dataset.table, files: Number(tr.dataset.files), bytes: Number(tr.dataset.bytes) })));
  assert.deepEqual(shown.map((r) => r.table).sort(), listed.map((t) => t.table).sort());
  for (const r of shown) assert.ok(r.files > 0 && r.bytes > 0, `${r.table} has files (${r.files}, ${r.bytes} B)`);
  assert.match(await preview.locator('tfoot').innerText(), /Total[\s\S]*\d+(\.\d)? (B|KiB|MiB|GiB)/);
  for (const name of ['Merge adjacent files', 'Rewrite files with deletes', 'Flush inlined data']) {
    assert.equal(await preview.getByRole('button', { name, exact: true }).count(), 1, `a button named "${name}"`);
  }
  if (shots) {
    await panel.scrollIntoViewIfNeeded();
    await shot('maintenance-compaction-preview');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('maintenance-compaction-preview-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  }

  const before = (await rpc({ method: 'snapshots', params: { limit: 1, before: null } })).snapshots[0].id;
  await preview.getByRole('button', { name: 'Flush inlined data', exact: true }).click();
  const jobs = panel.locator('[data-testid="jobs"]');
  const done = jobs.locator('li[data-job-state="done"]', { hasText: /flush inlined data/i }).first();
  await done.waitFor({ timeout: 60_000 });
  await preview.locator('.job-inline[data-job-state="done"]').waitFor({ timeout: 10_000 });
  // While it ran the buttons were off; now they are back.
  await page.waitForFunction(() => !document.querySelector('[data-compaction="flush_inlined_data"]')?.disabled, null, { timeout: 10_000 });

  // One new snapshot for the flush (a scheduled cache refresh may have added a newer one since).
  const newer = (await rpc({ method: 'snapshots', params: { limit: 20, before: null } })).snapshots.filter((s) => s.id > before);
  const flushes = newer.filter((s) => s.commit_message === 'flush inlined data');
  assert.equal(flushes.length, 1, `one flush snapshot (${newer.map((s) => `${s.id}: ${s.commit_message}`).join('; ')})`);
  assert.equal(flushes[0].author, 'skein');
  if (newer.every((s) => s.author === 'skein' && !/refresh/i.test(s.commit_message ?? ''))) {
    assert.equal(newer[0].commit_message, 'flush inlined data', 'the newest snapshot is the flush');
  }
  // The preview is read again after the job: still the lake's tables.
  await rows.first().waitFor({ timeout: 20_000 });
  await shot('maintenance-compaction-done');
});

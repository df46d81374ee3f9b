// The lake on a three-node Garage cluster, in Debian's Chromium against `skein serve` and a
// sandbox of its own started with --object-store (scripts/test.sh runs this file so): the top
// bar and the Maintenance stats name the store and say it is healthy; one Garage node stopped
// makes both say "degraded" (and the overview's attention list holds the store), the caches
// still refresh; the node back, both say healthy again. A refresh by the CLI (another writer)
// is named in the stats ("Other writers: cli@HOST") and in the snapshot list; the connection
// editor shows the profile's object store, and testing the lake lists the bucket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { base, openConsole, rpc, shots } from './lib.mjs';

const dir = process.env.SKEIN_SANDBOX_DIR;
let browser;
let page;
let garage;

before(async () => {
  garage = JSON.parse(readFileSync(`${dir}/sandbox.json`, 'utf8')).garage;
  assert.ok(garage, 'the sandbox has an object store (SKEIN_SANDBOX_ARGS=--object-store)');
  ({ browser, page } = await openConsole());
});

after(async () => {
  await browser?.close();
});

const tier = () => page.locator('[data-testid="tier-lake"]');
const stat = () => page.locator('[data-testid="lake-store"]');

test('the top bar and the stats name a healthy store', async () => {
  await page.goto(`${base}/#/snapshots`);
  await stat().waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="lake-store"]')?.dataset.health === 'healthy', null, { timeout: 30_000 });
  const endpoint = `127.0.0.1:${garage.nodes[0].s3_port}`;
  assert.equal((await stat().innerText()).trim(), `Store: lake/data/ at ${endpoint} · healthy`);
  assert.match(await tier().locator('.tier-label').innerText(), /^lake \d+ snaps$/);
  assert.match(await tier().getAttribute('title'), new RegExp(`data in s3 bucket lake at ${endpoint.replace(/\./g, '\\.')}`));
  const o = await rpc({ method: 'overview' });
  assert.deepEqual([o.lake.store.health, o.lake.store.bucket], ['healthy', 'lake']);
});

test('a node down: degraded in both places and in attention; refreshes go on; back: healthy', async () => {
  const node = garage.nodes[2];
  process.kill(node.pid, 'SIGTERM');
  await page.waitForFunction(() => document.querySelector('[data-testid="lake-store"]')?.dataset.health === 'degraded', null, { timeout: 90_000 });
  await tier().locator('.tier-label', { hasText: 'store degraded' }).waitFor({ timeout: 10_000 });
  assert.equal(await tier().getAttribute('data-tone'), 'warn');
  const o = await rpc({ method: 'overview' });
  const item = o.attention.find((a) => a.subject === 'store');
  assert.equal(item?.severity, 'warning', JSON.stringify(o.attention));
  const r = await rpc({ method: 'refresh_cache', params: { name: 'pricing_summary', force: true } });
  assert.equal(r.result, 'REFRESHED', JSON.stringify(r));
  if (shots) await page.screenshot({ path: `${shots}/store-degraded.png` });

  // The node back, with its own configuration and data (as `start_store_node` does).
  const bin = `${process.env.HOME}/.cache/skein-tools/garage-2.5.0/bin/garage`;
  const child = spawn(process.env.SKEIN_GARAGE ?? bin, ['-c', node.config, 'server'], { detached: true, stdio: 'ignore' });
  child.unref();
  try {
    await page.waitForFunction(() => document.querySelector('[data-testid="lake-store"]')?.dataset.health === 'healthy', null, { timeout: 90_000 });
    await tier().locator('.tier-label', { hasText: /^lake \d+ snaps$/ }).waitFor({ timeout: 10_000 });
    const again = await rpc({ method: 'overview' });
    assert.equal(again.attention.find((a) => a.subject === 'store'), undefined);
  } finally {
    // run.sh's `sandbox down` stops the pids sandbox.json names; this one is new.
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {}
    execFileSync('sleep', ['1']);
  }
});

test('a refresh by the CLI names it as another writer, in the stats and the snapshot list', async () => {
  await page.goto(`${base}/#/snapshots`);
  await stat().waitFor({ timeout: 30_000 });
  const before = (await rpc({ method: 'overview' })).lake.writers.find((w) => w.writer?.startsWith('cli@'));
  const out = JSON.parse(
    execFileSync(process.env.SKEIN_BIN, ['cache', 'refresh', 'pricing_summary', '--force', '--json', '--profile', process.env.SKEIN_PROFILE], { encoding: 'utf8' }),
  );
  assert.equal(out.result, 'REFRESHED', JSON.stringify(out));
  // Within a watcher tick, the stats name the CLI with this commit as its newest.
  const mark = `[data-testid="lake-writers"] .writer[data-writer^="cli@"][data-last-snapshot="${out.snapshot_id}"]`;
  await page.locator(mark).waitFor({ timeout: 15_000 });
  const commits = (before?.commits ?? 0) + 1;
  assert.match(await page.locator(mark).innerText(), new RegExp(`^cli@\\S+ ${commits} commits?, last (just now|\\d+ s ago)$`));
  // The same commit, at the top of the history, names the CLI beside its author.
  const top = page.locator(`[data-testid="snapshots-table"] tbody tr[data-snapshot-id="${out.snapshot_id}"]`);
  await top.waitFor({ timeout: 15_000 });
  assert.match(await top.locator('td.author').innerText(), /^skein\s+cli@\S+$/);
  const o = await rpc({ method: 'overview' });
  const cli = o.lake.writers.find((w) => w.writer?.startsWith('cli@'));
  assert.deepEqual([cli?.last_snapshot_id, cli?.commits, o.lake.current_snapshot >= out.snapshot_id], [out.snapshot_id, commits, true]);
  // The stats' snapshot count agrees with the top bar's once they are read again.
  await page.waitForFunction((n) => document.querySelector('[data-testid="lake-stats"]')?.dataset.snapshots === String(n), o.lake.snapshots, { timeout: 10_000 });
  // (The tier may also say the store is degraded: Garage's health settles after a restart.)
  assert.match(await tier().locator('.tier-label').innerText(), new RegExp(`^lake ${o.lake.snapshots} snaps( ·|$)`));
  if (shots) await page.screenshot({ path: `${shots}/store-writers.png` });
});

test('the connection editor shows the object store, and testing the lake lists the bucket', async () => {
  await page.goto(`${base}/#/connections`);
  await page.locator('[data-testid="lake-storage"]').waitFor({ timeout: 20_000 });
  const endpoint = `127.0.0.1:${garage.nodes[0].s3_port}`;
  assert.equal(await page.inputValue('[data-testid="storage-endpoint"]'), endpoint);
  assert.equal(await page.inputValue('[data-testid="storage-region"]'), 'garage');
  assert.equal(await page.inputValue('[data-testid="storage-url-style"]'), 'path');
  assert.equal(await page.inputValue('[data-testid="storage-use-ssl"]'), 'false');
  assert.match(await page.inputValue('[data-testid="storage-credentials-file"]'), /aws-credentials$/);
  assert.equal(await page.inputValue('[data-testid="storage-secret"]'), '', 'no secret is shown');
  await page.locator('[data-testid="lake-test"]').click();
  const step = page.locator('[data-testid="lake-result"] li.step[data-step="data_path"]');
  await step.waitFor({ timeout: 30_000 });
  assert.equal(await step.getAttribute('data-status'), 'ok', await step.innerText());
  assert.match(await step.innerText(), new RegExp(`listed bucket lake at ${endpoint.replace(/\./g, '\\.')}`));
  if (shots) await page.locator('[data-node-section="lake"]').screenshot({ path: `${shots}/store-editor.png` });
  // A directory as the data path: the object-store fields go.
  await page.fill('[data-testid="lake-data-path"]', '/tmp/lake');
  await page.locator('[data-testid="lake-storage"]').waitFor({ state: 'detached', timeout: 5_000 });
});

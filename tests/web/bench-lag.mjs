// Benchmark (figures, no assertions): the delay from a lag change on a replica to its
// appearance in the UI. Run by scripts/bench-console.sh against `skein serve` and a sandbox.
//
// Each trial pauses WAL replay on replica1, commits a write on the primary (t0, taken right
// after the commit returns), and waits in the page for the Overview's replica1 badge to show a
// non-zero byte lag (t1, recorded in the page by a MutationObserver); delay = t1 − t0. Replay
// is then resumed and the badge must return to 0 before the next trial. Both clocks are this
// machine's wall clock. BENCH_LABEL, when set, is printed after "UI" (before, after).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';

const url = process.env.SKEIN_URL;
const trials = Number(process.env.BENCH_TRIALS ?? 20);
const psql = (port, sql) =>
  execFileSync('psql', ['-X', '-q', '-At', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'tpch', '-c', sql], {
    encoding: 'utf8',
    env: { ...process.env, PGPASSFILE: process.env.PGPASSFILE },
  }).trim();
const primary = Number(process.env.PRIMARY_PORT);
const replica = Number(process.env.REPLICA1_PORT);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
await page.goto(url);
await page.goto(new URL('/#/overview', url).href);
const badge = '[data-replica="replica1"][data-lag-bytes]';
await page.waitForSelector(badge, { timeout: 30_000 });
psql(primary, 'CREATE TABLE IF NOT EXISTS bench_lag (x int)');

const delays = [];
for (let i = 0; i < trials; i++) {
  await page.waitForFunction((sel) => Number(document.querySelector(sel)?.dataset.lagBytes) === 0, badge, {
    timeout: 30_000,
  });
  // Arm an observer that stamps the first non-zero lag it sees.
  await page.evaluate((sel) => {
    window.__lagSeenAt = undefined;
    const el = document.querySelector(sel);
    const obs = new MutationObserver(() => {
      const now = Date.now();
      const cur = document.querySelector(sel);
      if (cur && Number(cur.dataset.lagBytes) > 0 && window.__lagSeenAt === undefined) {
        window.__lagSeenAt = now;
        obs.disconnect();
      }
    });
    obs.observe(el.closest('main') ?? document.body, { attributes: true, subtree: true, childList: true });
  }, badge);
  psql(replica, 'SELECT pg_wal_replay_pause()');
  // Spread the change's instant over the sampling period.
  await new Promise((r) => setTimeout(r, Math.random() * 1000));
  psql(primary, 'INSERT INTO bench_lag VALUES (1)');
  const t0 = Date.now();
  await page.waitForFunction(() => window.__lagSeenAt !== undefined, null, { timeout: 30_000, polling: 50 });
  const t1 = await page.evaluate(() => window.__lagSeenAt);
  delays.push((t1 - t0) / 1000);
  psql(replica, 'SELECT pg_wal_replay_resume()');
}
await browser.close();
psql(primary, 'DROP TABLE bench_lag');

delays.sort((a, b) => a - b);
const q = (p) => delays[Math.min(delays.length - 1, Math.floor(p * delays.length))];
const label = process.env.BENCH_LABEL ? ` (${process.env.BENCH_LABEL})` : '';
console.log(
  `lag change → UI${label}: p50 ${q(0.5).toFixed(2)} s, p95 ${q(0.95).toFixed(2)} s, max ${delays.at(-1).toFixed(2)} s (${delays.length} trials)`,
);

// Screenshots of the Overview and Replicas pages with replicas in trouble, in both themes, on
// a stack of its own (stack.mjs): replica1 paused past critical (out of rotation), replica2
// promoted. `bash tests/web/run.sh shot-states.mjs OUT_DIR` (default /tmp/skein-shots).
import { mkdirSync } from 'node:fs';
import { openConsole } from './lib.mjs';
import { startStack } from './stack.mjs';

const out = process.argv[2] ?? '/tmp/skein-shots';
mkdirSync(out, { recursive: true });
const stack = await startStack('shots', (t) =>
  t.replace(/lag_warning_ms = \d+/, 'lag_warning_ms = 2000').replace(/lag_critical_ms = \d+/, 'lag_critical_ms = 6000'),
);
let browser;
try {
  let page;
  ({ browser, page } = await openConsole(stack.url));
  await page.goto(`${stack.base}/#/overview`);
  await page.locator('tr[data-routing-node="replica1"]').waitFor({ timeout: 30_000 });
  await page.waitForTimeout(5000); // some healthy history first
  stack.sql('replica1', 'SELECT pg_wal_replay_pause()');
  stack.sql('primary', 'CREATE TABLE shot_probe AS SELECT g FROM generate_series(1, 20000) g');
  stack.sql('replica2', 'SELECT pg_promote()');
  await page.locator('tr[data-routing-node="replica1"][data-in-rotation="false"]').waitFor({ timeout: 60_000 });
  await page.waitForTimeout(3000);
  for (const theme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: theme });
    await page.evaluate((t) => localStorage.setItem('skein.theme', t), theme);
    for (const name of ['overview', 'replicas']) {
      await page.goto(`${stack.base}/#/${name}`);
      await page.reload();
      await page.locator('main canvas').first().waitFor({ timeout: 30_000 });
      await page.waitForTimeout(2000);
      await page.screenshot({ path: `${out}/${name}-trouble-${theme}.png` });
      console.log(`wrote ${out}/${name}-trouble-${theme}.png`);
    }
  }
  // A zoomed chart.
  await page.goto(`${stack.base}/#/replicas`);
  const over = page.locator('article[data-replica="replica1"] .u-over');
  await over.waitFor({ timeout: 30_000 });
  await page.waitForTimeout(1500);
  const b = await over.boundingBox();
  await page.mouse.move(b.x + b.width * 0.2, b.y + 20);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width * 0.8, b.y + 20, { steps: 5 });
  await page.mouse.up();
  await page.screenshot({ path: `${out}/replicas-zoomed-dark.png` });
  console.log(`wrote ${out}/replicas-zoomed-dark.png`);
} finally {
  await browser?.close();
  await stack.stop();
}

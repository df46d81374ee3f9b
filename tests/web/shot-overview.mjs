// Screenshots of the Overview and Replicas pages in the light and the dark theme, to look
// at: `bash tests/web/run.sh shot-overview.mjs OUT_DIR` (default /tmp/skein-shots).
import { mkdirSync } from 'node:fs';
import { openConsole, base } from './lib.mjs';

const out = process.argv[2] ?? '/tmp/skein-shots';
mkdirSync(out, { recursive: true });
const { browser, page } = await openConsole();
try {
  for (const theme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: theme });
    await page.evaluate((t) => localStorage.setItem('skein.theme', t), theme);
    for (const name of ['overview', 'replicas']) {
      await page.goto(`${base}/#/${name}`);
      await page.reload();
      await page.locator('main canvas').first().waitFor({ timeout: 30_000 });
      await page.waitForTimeout(2500);
      await page.screenshot({ path: `${out}/${name}-${theme}.png`, fullPage: true });
      console.log(`wrote ${out}/${name}-${theme}.png`);
    }
  }
} finally {
  await browser.close();
}

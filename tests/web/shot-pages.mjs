// Screenshots of the Caches, Snapshots, Workbench and Settings pages at a given width, in the
// light and the dark theme, for looking at what the pages show: `node shot-pages.mjs DIR
// [WIDTH…]` against `skein serve` (SKEIN_URL with its token; run.sh passes it).
// SKEIN_SHOT_PAGES=overview,replicas,… shoots those routes instead.
import { chromium } from 'playwright-core';

const url = process.env.SKEIN_URL;
const base = new URL(url).origin;
const out = process.argv[2] ?? '.';
const widths = process.argv.slice(3).map(Number);
const pages = process.env.SKEIN_SHOT_PAGES
  ? process.env.SKEIN_SHOT_PAGES.split(',')
  : ['caches', 'snapshots', 'snapshots/travel/main.revenue_by_nation/latest/0/50', 'workbench', 'settings'];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  for (const width of widths.length ? widths : [1024, 1440]) {
    for (const theme of ['light', 'dark']) {
      const page = await browser.newPage({ viewport: { width, height: 800 } });
      await page.goto(url);
      await page.evaluate((t) => localStorage.setItem('skein.theme', t), theme);
      for (const name of pages) {
        await page.goto(`${base}/#/${name}`);
        await page.reload();
        await page.waitForTimeout(2500);
        // The console scrolls inside its main pane: grow the window to the pane's height so
        // the shot holds the whole page.
        const tall = await page.evaluate(() => Math.max(...[...document.querySelectorAll('main, .main, [role="main"]')].map((e) => e.scrollHeight), 800));
        await page.setViewportSize({ width, height: Math.min(tall + 60, 4000) });
        await page.waitForTimeout(300);
        const scroll = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        const file = `${out}/${name.split('/').slice(0, 2).join('-')}-${width}-${theme}.png`;
        await page.screenshot({ path: file, fullPage: true });
        console.log(`wrote ${file} (horizontal overflow ${scroll} px)`);
        await page.setViewportSize({ width, height: 800 });
      }
      await page.close();
    }
  }
} finally {
  await browser.close();
}

import { chromium } from 'playwright-core';
const url = process.argv[2]; const base = new URL(url).origin; const out = process.argv[3];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
await page.goto(url);
await page.waitForTimeout(3000);
await page.screenshot({ path: `${out}/overview.png`, fullPage: true });
await page.goto(`${base}/#/replicas`); await page.waitForTimeout(3000);
await page.screenshot({ path: `${out}/replicas.png`, fullPage: true });
await page.goto(`${base}/#/connections`); await page.waitForTimeout(1500);
await page.locator('[data-testid="conn-edit-open"]').click(); await page.waitForTimeout(1500);
for (const b of await page.locator('[data-testid$="-test"]').all()) { await b.click(); }
await page.waitForTimeout(6000);
await page.setViewportSize({ width: 1440, height: 3000 });
await page.screenshot({ path: `${out}/connections.png`, fullPage: true });
await browser.close();

// What every browser test shares: the server run.sh started (SKEIN_URL with its token), one
// RPC call as the UI makes it, and Debian's Chromium opened on the console (never a browser
// download; the flags this machine's closed network needs).
import { chromium } from 'playwright-core';

export const url = process.env.SKEIN_URL;
export const token = process.env.SKEIN_TOKEN;
export const base = new URL(url).origin;
/** Optional directory for screenshots. */
export const shots = process.env.SKEIN_SCREENSHOTS;

/** One RPC call with the token; resolves with the result, throws `method: status code: message`. */
export async function rpc(request) {
  const res = await fetch(`${base}/api/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(request),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`${request.method}: ${res.status} ${body.code}: ${body.message}`);
  return body.result;
}

/** Chromium with one 1400×900 page opened on the console's URL (which sets the token cookie); `at`: another stack's URL. */
export async function openConsole(at = url) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(at);
  return { browser, page };
}

// The desktop end-to-end check, driven by tests/desktop/run.sh: a W3C WebDriver client for
// tauri-driver that starts the app with a profile, waits until the Overview shows every
// expected replica with a state word, measures how long that took, takes a screenshot,
// reports the memory of the app's process tree and ends the session.
//
// Every request goes over ONE keep-alive HTTP connection (measured on this stack: a client
// that closed the connection after each request failed 2 runs in 6).
//
// Usage: node webdriver.mjs --port N --app BIN --profile FILE --screenshot PNG
//          [--driver-pid PID] [--timeout-ms 60000] [--settle-ms 2000]
//          [--replicas replica1,replica2] [--hold-route replicas --hold-minutes 10]
//        node webdriver.mjs --port N --app BIN --screenshot PNG --no-profile 1 [--driver-pid PID]
// With --hold-minutes, the app is kept open on #/<hold-route> that long after the Overview
// rendered, and the resident memory of its process tree (the app and WebKit's processes,
// by process name) is printed 30 s after the route opened and at every whole minute after
// it, as `desktop: RSS at 30 s on #/replicas: N MB (name N MB, …)` and
// `desktop: RSS at K min on #/replicas: …` (the console benchmark uses it).
// With --no-profile, the app starts with no profile and the check waits for the first-run
// profile picker ("No profile open") instead of the Overview; after --settle-ms it prints
// `desktop: RSS empty window (no profile open): N MB (…)` and
// `desktop: profile picker rendered in N ms`.
// Prints `desktop: overview rendered in N ms` and exits 0, or prints `desktop: FAILED …`
// and exits 1.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const STATE_WORDS = ['streaming', 'catching up', 'paused', 'disconnected', 'down'];

function parseArgs(argv) {
  const opts = {
    timeoutMs: 60000,
    settleMs: 2000,
    replicas: 'replica1,replica2',
    holdMinutes: 0,
    holdRoute: 'replicas',
    noProfile: '0',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
    opts[key] = argv[i + 1];
  }
  opts.noProfile = opts.noProfile === '1' || opts.noProfile === 'true';
  for (const k of ['port', 'app', 'screenshot', ...(opts.noProfile ? [] : ['profile'])]) {
    if (!opts[k]) fail(`missing --${k}`);
  }
  opts.timeoutMs = Number(opts.timeoutMs);
  opts.settleMs = Number(opts.settleMs);
  opts.holdMinutes = Number(opts.holdMinutes);
  if (!Number.isInteger(opts.holdMinutes) || opts.holdMinutes < 0) {
    fail(`--hold-minutes must be a whole number of minutes (0 or more), not ${JSON.stringify(opts.holdMinutes)}`);
  }
  opts.replicas = opts.replicas.split(',').filter(Boolean);
  return opts;
}

function fail(message) {
  console.error(`desktop: FAILED: ${message}`);
  process.exit(1);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A WebDriver client over one keep-alive connection. */
class Driver {
  constructor(port) {
    this.port = port;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    this.sockets = new Set();
  }

  request(method, url, body, timeoutMs = 30000) {
    const data = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path: url,
          agent: this.agent,
          headers: {
            'Content-Type': 'application/json; charset=utf-8',
            ...(data === undefined ? {} : { 'Content-Length': Buffer.byteLength(data) }),
          },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json;
            try {
              json = text ? JSON.parse(text) : {};
            } catch {
              reject(new Error(`${method} ${url}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 300)}`));
              return;
            }
            const value = json.value;
            if (res.statusCode >= 400 || (value && value.error)) {
              const e = value && value.error ? `${value.error}: ${value.message}` : text.slice(0, 300);
              reject(new Error(`${method} ${url}: HTTP ${res.statusCode}: ${e}`));
            } else {
              resolve(value);
            }
          });
        },
      );
      req.on('socket', (s) => this.sockets.add(s));
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      if (data !== undefined) req.write(data);
      req.end();
    });
  }

  close() {
    this.agent.destroy();
  }
}

// Runs in the page: for each replica name, the state word shown next to it — the nearest
// enclosing element (row, card) whose text has a state word and no other replica's name.
const FIND_STATES = `
const names = arguments[0];
const re = new RegExp('\\\\b(' + arguments[1].join('|') + ')\\\\b', 'i');
const found = {};
const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
let node;
while ((node = walker.nextNode())) {
  for (const name of names) {
    if (found[name] || !node.nodeValue.includes(name)) continue;
    for (let el = node.parentElement; el && el !== document.documentElement; el = el.parentElement) {
      const text = el.innerText || el.textContent || '';
      if (names.some((other) => other !== name && text.includes(other))) break;
      const m = text.match(re);
      if (m) { found[name] = m[1].toLowerCase(); break; }
    }
  }
}
const body = document.body ? (document.body.innerText || '') : '';
return { found, title: document.title, text: body.slice(0, 1500) };
`;

// Runs in the page after a failure: why the UI may not have started — each module script
// re-imported (a module that failed to load or threw rejects again with its error), and the
// resources the page loaded.
const DIAGNOSE = `
const done = arguments[arguments.length - 1];
const out = [];
const scripts = [...document.querySelectorAll('script[type="module"][src]')].map((s) => s.src);
Promise.all(scripts.map((src) => import(src).then(
  () => out.push('module ' + src + ': loaded'),
  (e) => out.push('module ' + src + ': ' + (e && e.stack ? e.stack : String(e))),
))).then(() => {
  for (const r of performance.getEntriesByType('resource')) out.push('resource ' + r.name);
  out.push('tauri ipc: ' + ('__TAURI_INTERNALS__' in window));
  done(out.join('\\n'));
});
`;

/**
 * Memory (MB) of the app process found under `driverPid` and of each of its descendants
 * (WebKitWebProcess, WebKitNetworkProcess), summed by process name: `rss` (VmRSS, a page shared
 * by two processes counted in each) and `pss` (smaps_rollup's Pss: a shared page split among
 * the processes that map it, so the tree's sum counts it once).
 */
function appTreeRss(driverPid, appName) {
  const children = new Map();
  const info = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // The kernel's name is cut at 15 characters (WebKitNetworkPr); argv[0] is not.
      const argv0 = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0];
      const name = argv0 ? path.basename(argv0) : comm;
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      const rss = Number((status.match(/VmRSS:\s+(\d+)/) || [0, 0])[1]) / 1024;
      let pss = 0;
      try {
        pss = Number((fs.readFileSync(`/proc/${entry}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+)/m) || [0, 0])[1]) / 1024;
      } catch {
        // no smaps_rollup (older kernels): PSS reads 0
      }
      info.set(Number(entry), { comm, name, rss, pss });
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  const descendants = (pid) => {
    const out = [];
    const stack = [pid];
    while (stack.length) {
      for (const child of children.get(stack.pop()) || []) {
        out.push(child);
        stack.push(child);
      }
    }
    return out;
  };
  const app = descendants(Number(driverPid)).find((pid) => info.get(pid).comm === appName.slice(0, 15));
  if (app === undefined) return null;
  const rss = {};
  const pss = {};
  for (const pid of [app, ...descendants(app)]) {
    const p = info.get(pid);
    rss[p.name] = (rss[p.name] || 0) + p.rss;
    pss[p.name] = (pss[p.name] || 0) + p.pss;
  }
  return { rss, pss };
}

/** One memory line: the tree's total and each process name's share, in MB. */
function reportRss(label, tree) {
  if (!tree) {
    console.log(`desktop: RSS ${label}: the app process was not found`);
    return;
  }
  for (const [what, by] of [
    ['RSS', tree.rss],
    ['PSS', tree.pss],
  ]) {
    const total = Object.values(by).reduce((a, b) => a + b, 0);
    const parts = Object.entries(by)
      .map(([n, mb]) => `${n} ${mb.toFixed(0)} MB`)
      .join(', ');
    console.log(`desktop: ${what} ${label}: ${total.toFixed(0)} MB (${parts})`);
  }
}

// Runs in the page: the first-run profile picker is shown.
const PICKER_SHOWN = `return { shown: !!document.body && (document.body.innerText || '').includes('No profile open'),
  title: document.title, text: document.body ? (document.body.innerText || '').slice(0, 1500) : '' };`;

// Runs in the page: the current route and how many distinct replica names the page shows.
const REPLICAS_SHOWN = `const names = new Set((document.body ? document.body.innerText || '' : '').match(/\\breplica\\d+\\b/g) || []);
return { hash: location.hash, replicas: names.size };`;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const driver = new Driver(opts.port);

  // tauri-driver forwards /status to WebKitWebDriver once both listen.
  const ready = Date.now() + 15000;
  for (;;) {
    try {
      const status = await driver.request('GET', '/status', undefined, 2000);
      if (status && status.ready !== false) break;
    } catch (e) {
      if (Date.now() > ready) fail(`tauri-driver did not answer on port ${opts.port}: ${e.message}`);
    }
    await sleep(200);
  }

  const started = Date.now();
  let session;
  try {
    session = await driver.request(
      'POST',
      '/session',
      {
        capabilities: {
          alwaysMatch: {
            'tauri:options': {
              application: path.resolve(opts.app),
              args: opts.noProfile ? [] : [path.resolve(opts.profile)],
            },
          },
        },
      },
      opts.timeoutMs,
    );
  } catch (e) {
    fail(`could not start the app through WebDriver: ${e.message}`);
  }
  const id = session.sessionId;
  const base = `/session/${id}`;
  const sessionMs = Date.now() - started;

  let ok = false;
  let last = { found: {}, title: '', text: '' };
  let error = null;
  let renderedMs = null;
  const deadline = started + opts.timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (opts.noProfile) {
        const seen = await driver.request('POST', `${base}/execute/sync`, { script: PICKER_SHOWN, args: [] });
        last = { found: { picker: seen.shown }, title: seen.title, text: seen.text };
      } else {
        last = await driver.request('POST', `${base}/execute/sync`, {
          script: FIND_STATES,
          args: [opts.replicas, STATE_WORDS],
        });
      }
      error = null;
      if (opts.noProfile ? last.found.picker : opts.replicas.every((r) => last.found[r])) {
        renderedMs = Date.now() - started;
        ok = true;
        break;
      }
    } catch (e) {
      error = e.message; // the page may still be loading
    }
    await sleep(100);
  }

  let rss = null;
  let diagnosis = null;
  try {
    if (ok) {
      if (opts.settleMs > 0) await sleep(opts.settleMs);
      if (opts.driverPid) rss = appTreeRss(opts.driverPid, path.basename(opts.app));
      if (opts.noProfile && opts.driverPid) reportRss('empty window (no profile open)', rss);
      if (opts.holdMinutes > 0 && !opts.noProfile) {
        await driver.request('POST', `${base}/execute/sync`, {
          script: 'location.hash = arguments[0]; return location.hash;',
          args: [`#/${opts.holdRoute}`],
        });
        const opened = Date.now();
        // 30 s in: the page drawn and a few samples in, before the history grows; then every
        // whole minute after the route opened.
        const marks = [{ at: 30000, label: 'at 30 s' }];
        for (let k = 1; k <= opts.holdMinutes; k++) marks.push({ at: k * 60000, label: `at ${k} min` });
        for (const mark of marks) {
          for (let left = opened + mark.at - Date.now(); left > 0; left = opened + mark.at - Date.now()) {
            await sleep(Math.min(30000, left));
            // Keep the one connection alive and check the page still answers.
            await driver.request('GET', `${base}/title`);
          }
          if (opts.driverPid) {
            reportRss(`${mark.label} on #/${opts.holdRoute}`, appTreeRss(opts.driverPid, path.basename(opts.app)));
          }
          if (mark === marks[0] || mark === marks.at(-1)) {
            const seen = await driver.request('POST', `${base}/execute/sync`, {
              script: REPLICAS_SHOWN,
              args: [],
            });
            console.log(`desktop: ${seen.hash} shows ${seen.replicas} replicas ${mark.label}`);
          }
        }
      }
    }
    if (!ok) {
      diagnosis = await driver
        .request('POST', `${base}/execute/async`, { script: DIAGNOSE, args: [] }, 15000)
        .catch((e) => `(diagnosis failed: ${e.message})`);
    }
    const target = ok ? opts.screenshot : opts.screenshot.replace(/(\.png)?$/, '.failed.png');
    fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
    try {
      const png = await driver.request('GET', `${base}/screenshot`);
      fs.writeFileSync(target, Buffer.from(png, 'base64'));
    } catch (e) {
      // Without accelerated compositing (the app turns it off on a machine with no GPU:
      // src-tauri/src/render.rs) WebKitWebDriver never answers a screenshot of a page that
      // stops repainting, such as the profile picker, though the window shows it. The virtual
      // display holds the same pixels: take them from there.
      console.error(`desktop: WebDriver screenshot failed (${e.message}); taking the X display's`);
      execFileSync('import', ['-display', process.env.DISPLAY ?? ':0', '-window', 'root', target], {
        timeout: 30000,
      });
    }
    console.log(`desktop: screenshot ${target}`);
  } catch (e) {
    console.error(`desktop: screenshot failed: ${e.message}`);
    if (ok) ok = false;
  } finally {
    try {
      await driver.request('DELETE', base, undefined, 15000);
    } catch (e) {
      console.error(`desktop: could not end the session: ${e.message}`);
    }
    driver.close();
  }

  if (!ok) {
    if (diagnosis) console.error(`desktop: page diagnosis:\n${diagnosis}`);
    if (opts.noProfile) {
      fail(
        `the profile picker ("No profile open") did not show within ${opts.timeoutMs} ms; title ${JSON.stringify(last.title)}` +
          (error ? `, last error: ${error}` : '') +
          `\n--- page text ---\n${last.text}\n---`,
      );
    }
    const states = JSON.stringify(last.found);
    fail(
      `the Overview did not show ${opts.replicas.join(' and ')} with a state word (${STATE_WORDS.join(', ')}) ` +
        `within ${opts.timeoutMs} ms; seen ${states}, title ${JSON.stringify(last.title)}` +
        (error ? `, last error: ${error}` : '') +
        `\n--- page text ---\n${last.text}\n---`,
    );
  }
  const states = opts.noProfile
    ? 'profile picker shown'
    : opts.replicas.map((r) => `${r} ${last.found[r]}`).join(', ');
  console.log(`desktop: session started in ${sessionMs} ms; ${states}`);
  if (rss) {
    const total = Object.values(rss.rss).reduce((a, b) => a + b, 0);
    const parts = Object.entries(rss.rss)
      .map(([name, v]) => `${name} ${Math.round(v)}`)
      .join(', ');
    console.log(`desktop: rss ${Math.round(total)} MB (${parts})`);
  }
  console.log(`desktop: ${driver.sockets.size} WebDriver connection(s) used`);
  console.log(`desktop: ${opts.noProfile ? 'profile picker' : 'overview'} rendered in ${renderedMs} ms`);
}

main().catch((e) => fail(e.stack || String(e)));

// Figures, no assertions: what the Replicas page holds and allocates while it stays open, in
// Chromium through the DevTools protocol. Prints one line on the Overview 5 s after it showed
// its replicas ("start", the baseline), opens #/replicas, and prints one 30 s after it opened
// and then at every whole minute up to HEAP_MINUTES (default 5):
//   heap   JS heap used after a forced GC (HeapProfiler.collectGarbage twice, then
//          Runtime.getHeapUsage), MB = 2^20 bytes
//   nodes  DOM nodes, listeners: JS event listeners (Memory.getDOMCounters)
//   rss    resident memory (VmRSS) of Chromium's renderer processes, and of its whole process
//          tree (shared pages counted in each process), MB: what canvases, paths and garbage
//          not yet collected cost shows here, not in the JS heap
//   busy   renderer main-thread time spent on tasks since the previous line
//          (Performance.getMetrics TaskDuration), seconds
// then, between the first and the last line:
//   the JS heap's constructors (DevTools' grouping: an object's constructor name, or "(array)",
//   "(string)", "(closure)", …) by growth of their retained size (each object's size plus what
//   only it keeps alive, from the dominator tree of HeapProfiler.takeHeapSnapshot, summed over
//   the group's objects that no other object of the group retains), with the count growth;
//   the functions that allocated most during the last minute, garbage included (the sampling
//   heap profiler with the objects later collected kept), MB a minute.
//
// Run it against a 16-replica stack, either through run.sh with a sandbox of that size
//   SKEIN_SANDBOX_ARGS='--replicas 16 --no-caches' bash tests/web/run.sh heap-replicas.mjs
// or on its own against a stack you started (URL: what `skein serve` printed, with its token)
//   SK=$HOME/.cache/skein-target/debug/skein
//   $SK sandbox up --dir /tmp/heap-sb --replicas 16 --scale 0.01 --no-caches
//   SKEIN_CONFIG_DIR=/tmp/heap-sb/config $SK serve --profile /tmp/heap-sb/profile.toml \
//     --bind 127.0.0.1:0 --token T --ui-dir ui/dist &
//   SKEIN_URL='http://127.0.0.1:PORT/?token=T' node tests/web/heap-replicas.mjs
//   (afterwards: kill the serve process, $SK sandbox down --dir /tmp/heap-sb)
// HEAP_TOP: how many constructors and functions to list (default 15). Chromium is not the
// desktop app's engine (WebKitGTK): a native cost that Chromium collects at once may pile up
// there, so a flat "rss" here is necessary, not sufficient; "busy" and the allocation rate
// are what a redraw costs in either.
import { readdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const minutes = Number(process.env.HEAP_MINUTES ?? 5);
const top = Number(process.env.HEAP_TOP ?? 15);
const url = process.env.SKEIN_URL;
if (!url) throw new Error('SKEIN_URL is not set: run it through tests/web/run.sh, or set it to the URL `skein serve` printed (with ?token=)');
if (!(minutes >= 1 && Number.isInteger(minutes))) throw new Error(`HEAP_MINUTES must be a whole number of minutes above 0, not '${process.env.HEAP_MINUTES}'`);

const MB = 2 ** 20;
const mb = (b) => (b / MB).toFixed(1);
const signed = (b) => `${b >= 0 ? '+' : '−'}${mb(Math.abs(b))}`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
page.on('pageerror', (e) => console.error('page error:', e.message));
const cdp = await page.context().newCDPSession(page);
await cdp.send('Performance.enable');

/** VmRSS of the processes under this one (Chromium's tree), in bytes: the renderers' and everything's. */
function rss() {
  const procs = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const status = readFileSync(`/proc/${d}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      procs.set(Number(d), { ppid, bytes: kb * 1024, renderer: cmd.includes('--type=renderer') });
    } catch {
      // The process ended meanwhile.
    }
  }
  const tree = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of procs)
      if (!tree.has(pid) && tree.has(p.ppid)) {
        tree.add(pid);
        grew = true;
      }
  }
  let all = 0;
  let renderers = 0;
  for (const pid of tree) {
    const p = procs.get(pid);
    if (!p || pid === process.pid) continue;
    all += p.bytes;
    if (p.renderer) renderers += p.bytes;
  }
  return { all, renderers };
}

let lastBusy = 0;
async function figures(label) {
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  const { nodes, jsEventListeners } = await cdp.send('Memory.getDOMCounters');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const busy = metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0;
  const charts = await page.evaluate(() => document.querySelectorAll('.uplot').length);
  const r = rss();
  console.log(
    `${label.padStart(6)}: heap ${mb(usedSize)} MB, nodes ${nodes}, listeners ${jsEventListeners}, rss renderer ${mb(r.renderers)} MB, ` +
      `all ${mb(r.all)} MB, busy ${(busy - lastBusy).toFixed(1)} s, charts ${charts}`,
  );
  lastBusy = busy;
}

/** A heap snapshot, grouped by constructor: Map(name → { count, self, retained }). */
async function snapshot() {
  const chunks = [];
  const onChunk = (e) => chunks.push(e.chunk);
  cdp.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  cdp.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
  const s = JSON.parse(chunks.join(''));
  const meta = s.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const [nType, nName, nSelf, nEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f));
  const [eType, eTo] = ['type', 'to_node'].map((f) => meta.edge_fields.indexOf(f));
  const nodeTypes = meta.node_types[nType];
  const edgeTypes = meta.edge_types[eType];
  const weak = edgeTypes.indexOf('weak');
  const shortcut = edgeTypes.indexOf('shortcut');
  const N = s.nodes.length / nf;
  const firstEdge = new Uint32Array(N + 1);
  for (let i = 0; i < N; i++) firstEdge[i + 1] = firstEdge[i] + s.nodes[i * nf + nEdges] * ef;
  const essential = (from, e) => s.edges[e + eType] !== weak && (s.edges[e + eType] !== shortcut || from === 0);
  // Postorder from the root (node 0), iteratively.
  const post = new Int32Array(N).fill(-1);
  const order = new Uint32Array(N);
  const seen = new Uint8Array(N);
  const stack = new Uint32Array(N);
  const next = new Uint32Array(N);
  let sp = 0;
  let n = 0;
  stack[sp++] = 0;
  seen[0] = 1;
  next[0] = firstEdge[0];
  while (sp) {
    const v = stack[sp - 1];
    if (next[v] < firstEdge[v + 1]) {
      const e = next[v];
      next[v] += ef;
      const w = s.edges[e + eTo] / nf;
      if (!seen[w] && essential(v, e)) {
        seen[w] = 1;
        next[w] = firstEdge[w];
        stack[sp++] = w;
      }
    } else {
      sp--;
      post[v] = n;
      order[n++] = v;
    }
  }
  // Predecessors, by postorder number.
  const predCount = new Uint32Array(n + 1);
  for (let v = 0; v < N; v++)
    if (post[v] >= 0)
      for (let e = firstEdge[v]; e < firstEdge[v + 1]; e += ef) {
        const w = s.edges[e + eTo] / nf;
        if (post[w] >= 0 && essential(v, e)) predCount[post[w] + 1]++;
      }
  for (let i = 0; i < n; i++) predCount[i + 1] += predCount[i];
  const preds = new Uint32Array(predCount[n]);
  const fill = predCount.slice();
  for (let v = 0; v < N; v++)
    if (post[v] >= 0)
      for (let e = firstEdge[v]; e < firstEdge[v + 1]; e += ef) {
        const w = s.edges[e + eTo] / nf;
        if (post[w] >= 0 && essential(v, e)) preds[fill[post[w]]++] = post[v];
      }
  // Immediate dominators (Cooper, Harvey, Kennedy), in postorder numbers; the root is n − 1.
  const idom = new Int32Array(n).fill(-1);
  idom[n - 1] = n - 1;
  for (let changed = true; changed; ) {
    changed = false;
    for (let b = n - 2; b >= 0; b--) {
      let d = -1;
      for (let k = predCount[b]; k < predCount[b + 1]; k++) {
        let p = preds[k];
        if (idom[p] < 0) continue;
        if (d < 0) {
          d = p;
          continue;
        }
        while (p !== d) {
          while (p < d) p = idom[p];
          while (d < p) d = idom[d];
        }
      }
      if (d >= 0 && idom[b] !== d) {
        idom[b] = d;
        changed = true;
      }
    }
  }
  const cls = (v) => {
    const type = nodeTypes[s.nodes[v * nf + nType]];
    return type === 'object' || type === 'native' ? s.strings[s.nodes[v * nf + nName]] : `(${type})`;
  };
  const retained = new Float64Array(n);
  for (let b = 0; b < n; b++) retained[b] += s.nodes[order[b] * nf + nSelf];
  for (let b = 0; b < n - 1; b++) if (idom[b] >= 0) retained[idom[b]] += retained[b];
  // A group's retained size: its objects that no object of the same group dominates.
  const classOf = new Int32Array(n);
  const classes = new Map();
  const groups = [];
  for (let b = 0; b < n; b++) {
    const c = cls(order[b]);
    let id = classes.get(c);
    if (id === undefined) {
      id = groups.length;
      classes.set(c, id);
      groups.push({ name: c, count: 0, self: 0, retained: 0 });
    }
    classOf[b] = id;
    groups[id].count++;
    groups[id].self += s.nodes[order[b] * nf + nSelf];
  }
  const childCount = new Uint32Array(n + 1);
  for (let b = 0; b < n - 1; b++) if (idom[b] >= 0) childCount[idom[b] + 1]++;
  for (let i = 0; i < n; i++) childCount[i + 1] += childCount[i];
  const children = new Uint32Array(childCount[n]);
  const at = childCount.slice();
  for (let b = 0; b < n - 1; b++) if (idom[b] >= 0) children[at[idom[b]]++] = b;
  const active = new Uint32Array(groups.length);
  const cursor = new Uint32Array(n);
  sp = 0;
  stack[sp++] = n - 1;
  cursor[n - 1] = childCount[n - 1];
  if (active[classOf[n - 1]]++ === 0) groups[classOf[n - 1]].retained += retained[n - 1];
  while (sp) {
    const b = stack[sp - 1];
    if (cursor[b] < childCount[b + 1]) {
      const c = children[cursor[b]++];
      cursor[c] = childCount[c];
      if (active[classOf[c]]++ === 0) groups[classOf[c]].retained += retained[c];
      stack[sp++] = c;
    } else {
      active[classOf[b]]--;
      sp--;
    }
  }
  return new Map(groups.map((g) => [g.name, g]));
}

/** The sampling heap profile's bytes by allocating function (`name file:line`). */
function allocations(profile) {
  const by = new Map();
  const walk = (node) => {
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop() || '(native)'}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
    by.set(key, (by.get(key) ?? 0) + node.selfSize);
    for (const c of node.children) walk(c);
  };
  walk(profile.head);
  return [...by].sort((a, b) => b[1] - a[1]);
}

const sleepUntil = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms - Date.now())));

try {
  await page.goto(url);
  await page.locator('[data-testid=topo-replicas] li[data-replica][data-state]').first().waitFor({ timeout: 60_000 });
  await page.waitForTimeout(5_000);
  await figures('start');
  await page.goto(new URL('/#/replicas', url).href);
  await page.locator('article[data-replica] .uplot').first().waitFor({ timeout: 60_000 });
  const opened = Date.now();
  const replicas = await page.locator('article[data-replica]').count();
  console.log(`#/replicas open with ${replicas} replicas${replicas <= 4 ? ' (a chart each: start the stack with 16 for the combined charts and small multiples)' : ''}`);
  await sleepUntil(opened + 30_000);
  await figures('30 s');
  const first = await snapshot();
  let sampled = null;
  for (let m = 1; m <= minutes; m++) {
    if (m === minutes) {
      await cdp.send('HeapProfiler.startSampling', {
        samplingInterval: 16_384,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
      sampled = Date.now();
    }
    await sleepUntil(opened + m * 60_000);
    if (m === minutes) {
      const { profile } = await cdp.send('HeapProfiler.stopSampling');
      const perMinute = 60_000 / (Date.now() - sampled);
      const list = allocations(profile);
      const total = list.reduce((a, [, b]) => a + b, 0);
      await figures(`${m} min`);
      const last = await snapshot();
      const rows = [...last.values()].map((g) => {
        const f = first.get(g.name) ?? { count: 0, retained: 0 };
        return { ...g, dRetained: g.retained - f.retained, dCount: g.count - f.count };
      });
      for (const [name, f] of first) if (!last.has(name)) rows.push({ name, count: 0, retained: 0, dRetained: -f.retained, dCount: -f.count });
      rows.sort((a, b) => b.dRetained - a.dRetained);
      console.log(`\nJS heap constructors by retained-size growth, 30 s → ${m} min (MB; count):`);
      for (const r of rows.slice(0, top))
        console.log(`  ${signed(r.dRetained).padStart(7)} MB  ${`${r.dCount >= 0 ? '+' : ''}${r.dCount}`.padStart(7)}  ${r.name.slice(0, 80)}  (now ${mb(r.retained)} MB, ${r.count})`);
      console.log(`\nAllocated in the last minute, garbage included: ${mb(total * perMinute)} MB a minute; by function (MB a minute):`);
      for (const [key, b] of list.slice(0, top)) console.log(`  ${mb(b * perMinute).padStart(7)}  ${key}`);
    } else await figures(`${m} min`);
  }
} finally {
  await browser.close();
}

// A stack of its own for a browser test that must change it for good (promote a replica) or
// needs other thresholds than run.sh's: a sandbox in a directory of its own with a profile
// edited by the test, `skein serve` on a free loopback port with a token of its own, and SQL on
// a node through psql (the sandbox's password file). Always `await stack.stop()`.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const skein = process.env.SKEIN_BIN;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Starts a sandbox under `/tmp/skein-web-<tag>-<pid>` (`upArgs`: more `skein sandbox up`
 * flags, e.g. `['--role', 'monitor']`), applies `edit(profileText)` to its profile, and serves
 * it. Resolves with `{ url, base, token, dir, rpc, sql, stop }`.
 */
export async function startStack(tag, edit = (t) => t, upArgs = []) {
  const dir = `/tmp/skein-web-${tag}-${process.pid}`;
  execFileSync(skein, ['sandbox', 'up', '--dir', dir, '--scale', '0', ...upArgs], { stdio: 'ignore' });
  const profile = `${dir}/profile.toml`;
  writeFileSync(profile, edit(readFileSync(profile, 'utf8')));
  const token = randomBytes(16).toString('hex');
  const env = { ...process.env, SKEIN_CONFIG_DIR: `${dir}/config`, SKEIN_STATE_DIR: `${dir}/state` };
  const serve = spawn(skein, ['serve', '--profile', profile, '--bind', '127.0.0.1:0', '--token', token, '--ui-dir', `${root}/ui/dist`], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const stop = async () => {
    if (serve.exitCode === null) {
      serve.kill('SIGTERM');
      await new Promise((r) => serve.once('exit', r));
    }
    execFileSync(skein, ['sandbox', 'down', '--dir', dir], { stdio: 'ignore' });
  };
  let url;
  try {
    url = await new Promise((res, rej) => {
      const onData = (b) => {
        log += b;
        const m = /http:\/\/\S+/.exec(log);
        if (m) res(m[0]);
      };
      serve.stdout.on('data', onData);
      serve.stderr.on('data', onData);
      serve.once('exit', (code) => rej(new Error(`skein serve exited (${code}): ${log}`)));
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const base = new URL(url).origin;
  const text = readFileSync(profile, 'utf8');
  const port = (node) => {
    const m = new RegExp(`name = "${node}"\\nurl = "[^"]*port=(\\d+)`).exec(text);
    if (!m) throw new Error(`no port for ${node} in ${profile}`);
    return m[1];
  };
  return {
    url,
    base,
    token,
    dir,
    /** One RPC call with this stack's token. */
    async rpc(request) {
      const res = await fetch(`${base}/api/rpc`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(request),
      });
      const body = await res.json();
      if (!res.ok) throw new Error(`${request.method}: ${res.status} ${body.code}: ${body.message}`);
      return body.result;
    },
    /** One statement on a node (`primary`, `replica1`, …) as the sandbox's superuser; its text output. */
    sql(node, statement) {
      return execFileSync('psql', ['-X', '-At', '-h', '127.0.0.1', '-p', port(node), '-U', 'postgres', '-d', 'tpch', '-c', statement], {
        encoding: 'utf8',
        env: { ...process.env, PGPASSFILE: `${dir}/pgpass` },
      }).trim();
    },
    stop,
  };
}

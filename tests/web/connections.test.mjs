// The connection editor in Chromium against run.sh's sandbox: a new profile typed into the
// form (a connection string pasted into the primary, the rest typed), each connection
// tested (every diagnosis step green), a field error pointed at on Save, then saved, read
// back by the profile loader with the same nodes, and opened in the console. The stack's own
// profile is opened again at the end, so the other tests see it as before. A TLS-only stack
// with the monitoring role (`skein sandbox up --tls --role monitor`) tests green too, its TLS
// step naming the protocol and the verified certificate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { base, openConsole, rpc, shots } from './lib.mjs';

const dir = process.env.SKEIN_SANDBOX_DIR;
const stackProfile = process.env.SKEIN_PROFILE;
const saved = `${dir}/edited-${process.pid}.toml`;

let browser;
let page;

/** The port of a node in the sandbox's profile. */
function port(node) {
  const text = readFileSync(stackProfile, 'utf8');
  const m = new RegExp(`name = "${node}"\\nurl = "[^"]*port=(\\d+)`).exec(text);
  if (!m) throw new Error(`no port for ${node} in ${stackProfile}`);
  return m[1];
}

before(async () => {
  ({ browser, page } = await openConsole());
});

after(async () => {
  await rpc({ method: 'open_profile', params: { path: stackProfile } }).catch(() => {});
  rmSync(saved, { force: true });
  await browser?.close();
});

/** Clicks a node's "Test connection" and waits for its diagnosis; resolves with its steps. */
async function testNode(scope, target) {
  await page.locator(`[data-testid="${scope}-test"]`).click();
  const d = page.locator(`[data-testid="${scope}-result"] [data-diagnosis="${target}"]`);
  await d.waitFor({ timeout: 30_000 });
  return d.locator('li.step').evaluateAll((items) => items.map((li) => ({ step: li.dataset.step, status: li.dataset.status, text: li.textContent })));
}

test('a profile created in the editor tests green, saves, validates and opens', async () => {
  await page.goto(`${base}/#/connections/new`);
  await page.locator('[data-testid="connections-form"]').waitFor({ timeout: 20_000 });
  assert.ok(await page.locator('nav a[data-page="connections"]').isVisible(), 'the page is in the navigation');

  await page.fill('[data-testid="profile-name-input"]', 'edited-in-browser');
  await page.fill('[data-testid="profile-passfile"]', `${dir}/pgpass`);

  // Paste a connection string into the primary: the fields fill, a password goes to the password field.
  await page.fill('[data-testid="primary-paste"]', `postgresql://postgres:typed-secret@127.0.0.1:${port('primary')}/tpch?sslmode=prefer&connect_timeout=5`);
  await page.locator('[data-testid="primary-fill"]').click();
  await page.waitForFunction((p) => document.querySelector('[data-testid="primary-port"]')?.value === p, port('primary'), { timeout: 10_000 });
  assert.equal(await page.inputValue('[data-testid="primary-host"]'), '127.0.0.1');
  assert.equal(await page.inputValue('[data-testid="primary-user"]'), 'postgres');
  assert.equal(await page.inputValue('[data-testid="primary-dbname"]'), 'tpch');
  assert.equal(await page.inputValue('[data-testid="primary-sslmode"]'), 'prefer');
  assert.equal(await page.inputValue('[data-testid="primary-password"]'), 'typed-secret');
  assert.match(await page.locator('[data-testid="primary-params"]').innerText(), /connect_timeout=5/);
  // Not this password: the sandbox's comes from its passfile (a typed one would go to the keyring).
  await page.fill('[data-testid="primary-password"]', '');

  await page.locator('[data-testid="primary-test"]').waitFor();
  const primary = await testNode('primary', 'primary');
  assert.deepEqual(
    primary.map((s) => s.step),
    ['dns', 'tcp', 'tls', 'auth', 'privileges', 'replication'],
  );
  assert.ok(primary.every((s) => s.status === 'ok'), JSON.stringify(primary, null, 1));
  const okColour = await page.locator('[data-testid="primary-result"] li.step .step-icon').first().evaluate((e) => getComputedStyle(e).color);
  const okVar = await page.evaluate(() => {
    const probe = document.createElement('span');
    probe.style.color = 'var(--ok)';
    document.body.append(probe);
    const c = getComputedStyle(probe).color;
    probe.remove();
    return c;
  });
  assert.equal(okColour, okVar, 'an ok step is green');

  // A replica: added, typed in, tested.
  await page.locator('[data-testid="add-replica"]').click();
  assert.equal(await page.inputValue('[data-testid="replica-0-name"]'), 'replica1');
  assert.equal(await page.inputValue('[data-testid="replica-0-user"]'), 'postgres', 'a new replica starts from the primary’s user');
  await page.fill('[data-testid="replica-0-host"]', '127.0.0.1');
  await page.fill('[data-testid="replica-0-port"]', port('replica1'));
  await page.fill('[data-testid="replica-0-region"]', 'local');
  const replica = await testNode('replica-0', 'replica1');
  assert.ok(replica.every((s) => s.status === 'ok'), JSON.stringify(replica, null, 1));
  assert.match(replica.find((s) => s.step === 'replication').text, /streams to it as 'replica1'/);

  // A second replica pointing at a port nothing listens on: tcp fails, with its fix.
  await page.locator('[data-testid="add-replica"]').click();
  await page.fill('[data-testid="replica-1-host"]', '127.0.0.1');
  await page.fill('[data-testid="replica-1-port"]', '1');
  const down = await testNode('replica-1', 'replica2');
  assert.equal(down.find((s) => s.step === 'tcp').status, 'fail');
  assert.match(down.find((s) => s.step === 'tcp').text, /Fix: .*start the server/);
  assert.ok(down.filter((s) => ['tls', 'auth'].includes(s.step)).every((s) => s.status === 'skipped'));
  await page.locator('[data-testid="replica-1-remove"]').click();
  assert.equal(await page.locator('[data-node-section="replica-1"]').count(), 0);

  // The lake.
  await page.fill('[data-testid="lake-host"]', '127.0.0.1');
  await page.fill('[data-testid="lake-port"]', port('primary'));
  await page.fill('[data-testid="lake-user"]', 'postgres');
  await page.fill('[data-testid="lake-dbname"]', 'skein_lake');
  await page.fill('[data-testid="lake-data-path"]', `${dir}/lake/`);
  const lake = await testNode('lake', 'lake');
  assert.deepEqual(lake.map((s) => s.step), ['dns', 'tcp', 'tls', 'auth', 'catalog', 'data_path']);
  assert.ok(lake.every((s) => s.status === 'ok'), JSON.stringify(lake, null, 1));
  if (shots) await page.screenshot({ path: `${shots}/connections.png`, fullPage: true });

  // Save with an invalid threshold: nothing written, the field pointed at.
  await page.fill('[data-testid="conn-save-path"]', saved);
  await page.fill('[data-testid="threshold-warning"]', '90000');
  await page.locator('[data-testid="conn-save"]').click();
  await page.locator('[data-testid="conn-save-problem"]').waitFor({ timeout: 10_000 });
  assert.match(await page.locator('[data-testid="conn-save-problem"]').innerText(), /thresholds\.lag_warning_ms/);
  assert.equal(await page.locator('[data-field="thresholds.lag_warning_ms"] input').getAttribute('aria-invalid'), 'true');
  assert.ok(!existsSync(saved), 'nothing written');
  await page.fill('[data-testid="threshold-warning"]', '4000');

  // Save and open.
  await page.locator('[data-testid="conn-save-open"]').click();
  await page.locator('[data-testid="conn-saved"]').waitFor({ timeout: 20_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="profile-name"]')?.textContent?.includes('edited-in-browser'), null, { timeout: 20_000 });

  const text = readFileSync(saved, 'utf8');
  assert.match(text, /^# Skein profile/);
  assert.ok(!text.includes('typed-secret'), 'no password in the file');
  assert.match(text, /sslmode=prefer/);
  assert.match(text, /lag_warning_ms = 4000/);
  const status = JSON.parse(execFileSync(process.env.SKEIN_BIN, ['status', '--profile', saved, '--json'], { encoding: 'utf8' }));
  assert.deepEqual(
    status.nodes.map((n) => [n.name, n.state]),
    [
      ['primary', 'primary'],
      ['replica1', 'streaming'],
    ],
  );
  const list = await rpc({ method: 'profiles' });
  assert.equal(list.current?.name, 'edited-in-browser');
  assert.equal(list.recent[0], saved);

  // Opened again for editing: the fields as saved.
  await page.goto(`${base}/#/settings`);
  await page.goto(`${base}/#/connections`);
  await page.locator('[data-testid="conn-edit-open"]').click();
  await page.waitForFunction((p) => document.querySelector('[data-testid="conn-save-path"]')?.value === p, saved, { timeout: 10_000 });
  assert.equal(await page.inputValue('[data-testid="profile-name-input"]'), 'edited-in-browser');
  assert.equal(await page.inputValue('[data-testid="replica-0-port"]'), port('replica1'));
  assert.equal(await page.inputValue('[data-testid="threshold-warning"]'), '4000');
});

test('a TLS-only stack with the monitoring role tests green, TLS verified', async () => {
  const tlsDir = `/tmp/skein-web-conn-tls-${process.pid}`;
  const skein = process.env.SKEIN_BIN;
  execFileSync(skein, ['sandbox', 'up', '--dir', tlsDir, '--scale', '0', '--replicas', '1', '--tls', '--role', 'monitor'], { stdio: 'ignore' });
  try {
    const text = readFileSync(`${tlsDir}/profile.toml`, 'utf8');
    const url = (node) => new RegExp(`name = "${node}"\\nurl = "([^"]*)"`).exec(text)[1];
    await page.goto(`${base}/#/connections/new`);
    await page.locator('[data-testid="conn-new"]').click();
    await page.locator('[data-testid="primary-paste"]').waitFor({ timeout: 20_000 });
    await page.fill('[data-testid="profile-name-input"]', 'tls-stack');
    await page.fill('[data-testid="profile-passfile"]', `${tlsDir}/pgpass`);
    await page.fill('[data-testid="primary-paste"]', url('primary'));
    await page.locator('[data-testid="primary-fill"]').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="primary-sslmode"]')?.value === 'verify-full', null, { timeout: 10_000 });
    assert.equal(await page.inputValue('[data-testid="primary-sslrootcert"]'), `${tlsDir}/tls/ca.crt`);
    assert.equal(await page.inputValue('[data-testid="primary-user"]'), 'skein_monitor');
    const primary = await testNode('primary', 'primary');
    assert.ok(primary.every((s) => s.status === 'ok'), JSON.stringify(primary, null, 1));
    const tls = primary.find((s) => s.step === 'tls').text;
    assert.match(tls, /TLSv1\.[23] .*sslmode=verify-full/);
    assert.match(primary.find((s) => s.step === 'auth').text, /connected as skein_monitor/);
    assert.match(primary.find((s) => s.step === 'privileges').text, /disabled: .*replay pause\/resume/);

    // The same node with TLS turned off in the form: the server refuses, the fix names sslmode.
    await page.selectOption('[data-testid="primary-sslmode"]', 'disable');
    const plain = await testNode('primary', 'primary');
    const failed = plain.find((s) => s.status === 'fail');
    assert.equal(failed?.step, 'tls', JSON.stringify(plain, null, 1));
    assert.match(failed.text, /Fix: .*sslmode=require/);
  } finally {
    execFileSync(skein, ['sandbox', 'down', '--dir', tlsDir], { stdio: 'ignore' });
  }
});

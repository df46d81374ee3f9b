// The connection editor's field groups, each bound to a part of the profile draft it edits
// in place: a libpq connection (host, port, user, database, password, the TLS keys, a
// "paste a connection string" box that fills them), SSH tunnel settings, and a node or the
// lake built from those. Every group carries `data-field` with the profile loader's name for
// it (`replicas[1].url`), so a save error can point at the field.

import type { Backend } from '../lib/backend';
import type { ConnDraft, SshDraft } from '../lib/bindings';
import { h, replace } from '../lib/dom';
import { errorBox } from '../lib/errors';

/** libpq's six `sslmode` values, weakest first, with what each does. */
export const SSLMODES: readonly { value: string; title: string }[] = [
  { value: 'disable', title: 'never encrypt' },
  { value: 'allow', title: 'plain first, TLS if the server insists' },
  { value: 'prefer', title: 'TLS if the server offers it (libpq’s default)' },
  { value: 'require', title: 'always TLS, certificate not checked' },
  { value: 'verify-ca', title: 'TLS, certificate signed by sslrootcert' },
  { value: 'verify-full', title: 'TLS, certificate signed by sslrootcert and naming the host' },
];

let seq = 0;

/** A labelled input bound to `get`/`set`. `testid` names it for tests (`primary-host`). */
export function input(
  label: string,
  get: () => string,
  set: (v: string) => void,
  opts: {
    testid: string;
    placeholder?: string;
    type?: string;
    mono?: boolean;
    hint?: string;
    autocomplete?: string;
    inputmode?: string;
  } = { testid: '' },
): HTMLElement {
  const id = `conn-f-${++seq}`;
  const el = h('input', {
    id,
    type: opts.type ?? 'text',
    class: `input${opts.mono === false ? '' : ' mono'}`,
    placeholder: opts.placeholder,
    spellcheck: 'false',
    autocomplete: opts.autocomplete ?? 'off',
    inputmode: opts.inputmode,
    dataset: { testid: opts.testid },
  });
  el.value = get();
  el.addEventListener('input', () => set(el.value));
  return h(
    'div',
    { class: 'field' },
    h('label', { class: 'label', for: id }, label),
    el,
    opts.hint ? h('p', { class: 'hint' }, opts.hint) : null,
  );
}

/** A whole number field (empty → `null`). */
export function numberInput(
  label: string,
  get: () => number | null,
  set: (v: number | null) => void,
  testid: string,
  placeholder = '',
): HTMLElement {
  return input(
    label,
    () => (get() === null ? '' : String(get())),
    (v) => {
      const t = v.trim();
      set(t === '' || !/^\d+$/.test(t) ? null : Number(t));
    },
    { testid, placeholder, inputmode: 'numeric', mono: false },
  );
}

export interface ConnOptions {
  backend: Backend;
  /** Prefix of the test ids (`primary`, `replica-0`, `lake`). */
  scope: string;
  /** The profile loader's name for the connection string (`primary.url`, `lake.catalog`). */
  field: string;
  /** The password typed for this connection (kept by the page, never in the draft). */
  password: { get(): string; set(v: string): void };
}

/** The fields of one libpq connection, editing `conn` in place. */
export function connFields(conn: ConnDraft, opts: ConnOptions): HTMLElement {
  const { scope } = opts;
  const box = h('div', { class: 'conn-fields', dataset: { field: opts.field } });
  const render = (note: HTMLElement | null = null) => {
    const paste = h('input', {
      type: 'text',
      class: 'input mono',
      placeholder: 'postgresql://user@host:5432/db?sslmode=verify-full  or  host=… port=… user=…',
      spellcheck: 'false',
      autocomplete: 'off',
      'aria-label': 'Connection string to fill the fields from',
      dataset: { testid: `${scope}-paste` },
    });
    const fill = h('button', { type: 'button', class: 'btn btn-small', dataset: { testid: `${scope}-fill` } }, 'Fill fields');
    const pasteNote = h('div', { class: 'paste-note', 'aria-live': 'polite' }, note);
    const run = async () => {
      const text = paste.value.trim();
      if (!text) return;
      fill.setAttribute('disabled', '');
      try {
        const parsed = await opts.backend.rpc({ method: 'parse_conninfo', params: { conninfo: text } });
        Object.assign(conn, parsed.conn);
        if (parsed.password) opts.password.set(parsed.password);
        render(
          h(
            'p',
            { class: 'hint' },
            '✓ Filled from the connection string.',
            parsed.password
              ? ' Its password went to the password field: it is stored in the OS keyring on Test or Save, never in the file.'
              : '',
          ),
        );
      } catch (e) {
        replace(pasteNote, errorBox(e, 'Reading the connection string', { compact: true }));
        fill.removeAttribute('disabled');
      }
    };
    fill.addEventListener('click', () => void run());
    paste.addEventListener('paste', () => window.setTimeout(() => void run(), 0));
    paste.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        void run();
      }
    });

    const sslmode = h('select', { class: 'input', id: `conn-f-${++seq}`, dataset: { testid: `${scope}-sslmode` } });
    sslmode.append(h('option', { value: '' }, 'default (prefer)'));
    for (const m of SSLMODES) sslmode.append(h('option', { value: m.value, title: m.title }, `${m.value} — ${m.title}`));
    sslmode.value = conn.sslmode;
    sslmode.addEventListener('change', () => (conn.sslmode = sslmode.value));
    const tlsSet = conn.sslmode !== '' || conn.sslrootcert !== '' || conn.sslcert !== '' || conn.sslkey !== '';

    replace(
      box,
      h('div', { class: 'field span-all' }, h('div', { class: 'row gap' }, paste, fill), pasteNote),
      h(
        'div',
        { class: 'conn-grid' },
        input(
          'Host',
          () => conn.host,
          (v) => (conn.host = v),
          { testid: `${scope}-host`, placeholder: 'db1.example.com' },
        ),
        input(
          'Port',
          () => conn.port,
          (v) => (conn.port = v),
          { testid: `${scope}-port`, placeholder: '5432', inputmode: 'numeric' },
        ),
        input(
          'User',
          () => conn.user,
          (v) => (conn.user = v),
          { testid: `${scope}-user`, placeholder: 'skein_monitor' },
        ),
        input(
          'Database',
          () => conn.dbname,
          (v) => (conn.dbname = v),
          { testid: `${scope}-dbname`, placeholder: 'app' },
        ),
        input(
          'Password',
          () => opts.password.get(),
          (v) => opts.password.set(v),
          {
            testid: `${scope}-password`,
            type: 'password',
            placeholder: 'keyring, PGPASSWORD or passfile',
            autocomplete: 'new-password',
            hint: 'Goes to the OS keyring on Test or Save, never into the profile.',
          },
        ),
      ),
      h(
        'details',
        { class: 'conn-tls', open: tlsSet || undefined },
        h(
          'summary',
          null,
          'TLS',
          h('span', { class: 'muted small' }, conn.sslmode ? ` · sslmode=${conn.sslmode}` : ' · sslmode default (prefer)'),
        ),
        h(
          'div',
          { class: 'conn-grid' },
          h('div', { class: 'field' }, h('label', { class: 'label', for: sslmode.id }, 'sslmode'), sslmode),
          input(
            'sslrootcert (CA file)',
            () => conn.sslrootcert,
            (v) => (conn.sslrootcert = v),
            { testid: `${scope}-sslrootcert`, placeholder: '/etc/ssl/db-ca.pem, or system' },
          ),
          input(
            'sslcert (client certificate)',
            () => conn.sslcert,
            (v) => (conn.sslcert = v),
            { testid: `${scope}-sslcert`, placeholder: '~/.postgresql/postgresql.crt' },
          ),
          input(
            'sslkey (client key)',
            () => conn.sslkey,
            (v) => (conn.sslkey = v),
            { testid: `${scope}-sslkey`, placeholder: '~/.postgresql/postgresql.key' },
          ),
        ),
      ),
      conn.params.length
        ? h(
            'p',
            { class: 'hint mono', dataset: { testid: `${scope}-params` } },
            'Other libpq keys, kept as written: ',
            conn.params.map((p) => `${p.key}=${p.value}`).join(' '),
          )
        : null,
    );
  };
  render();
  return box;
}

/** SSH tunnel settings (`ssh`, `ssh_jump`, `ssh_config`, `ssh_port`). */
export function sshFields(ssh: SshDraft, scope: string): HTMLElement {
  return h(
    'details',
    { class: 'conn-ssh', open: ssh.ssh !== '' || undefined },
    h('summary', null, 'SSH tunnel', h('span', { class: 'muted small' }, ssh.ssh ? ` · through ${ssh.ssh}` : ' · none')),
    h(
      'div',
      { class: 'conn-grid' },
      input(
        'SSH server (ssh)',
        () => ssh.ssh,
        (v) => (ssh.ssh = v),
        { testid: `${scope}-ssh`, placeholder: 'me@bastion.example.com', hint: 'Empty: connect directly.' },
      ),
      input(
        'Jump host (ssh_jump)',
        () => ssh.jump,
        (v) => (ssh.jump = v),
        { testid: `${scope}-ssh-jump`, placeholder: 'me@jump.example.com' },
      ),
      input(
        'ssh_config file',
        () => ssh.config,
        (v) => (ssh.config = v),
        { testid: `${scope}-ssh-config`, placeholder: '~/.ssh/config' },
      ),
      numberInput(
        'SSH port',
        () => ssh.port,
        (v) => (ssh.port = v),
        `${scope}-ssh-port`,
        '22',
      ),
    ),
  );
}

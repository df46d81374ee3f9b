// Connections: create and edit profiles without writing TOML. The form edits a profile
// draft (`profile_for_edit` reads a file into it): the name, the primary, the replicas (add,
// remove), the lake's catalog and data path, the lag thresholds, and per connection its TLS
// and SSH settings and a password that goes to the OS keyring. "Test connection" runs the
// diagnosis of that node or of the lake (`diagnose`: DNS, TCP, TLS, login, privileges,
// replication; catalog and data path) and shows each step with its fix. Save writes the
// file (`save_profile`: validated first, an existing file edited in place with its comments
// kept, added to the recent profiles) and can open it. Works with no profile open.
//
// Routes: `#/connections` (the open profile, else a new one), `#/connections/new`.

import type { NodeDraft, NodePassword, ProfileDraft, SaveOutcome } from '../lib/bindings';
import { h, replace, setText, spinner } from '../lib/dom';
import { errorBox } from '../lib/errors';
import type { Ctx, PageFactory } from '../lib/page';
import { currentRoute, href, navigate } from '../lib/router';
import { connFields, input, numberInput, sshFields } from './fields';
import { diagnosisView } from './steps';

/** A connection with nothing filled in. */
function blankConn(): ProfileDraft['primary']['conn'] {
  return { host: '', port: '', user: '', dbname: '', sslmode: '', sslrootcert: '', sslcert: '', sslkey: '', params: [] };
}

function blankNode(name: string): NodeDraft {
  return { name, conn: blankConn(), region: '', weight: 1, application_name: '', ssh: { ssh: '', jump: '', config: '', port: null } };
}

/** A new profile: a primary, no replicas, an empty lake, the default thresholds. */
export function blankDraft(): ProfileDraft {
  return {
    name: '',
    passfile: '',
    primary: blankNode('primary'),
    replicas: [],
    lake: { name: '', catalog: blankConn(), data_path: '', ssh: { ssh: '', jump: '', config: '', port: null } },
    thresholds: { lag_warning_ms: 5000, lag_critical_ms: 30000 },
  };
}

/** What the editor holds while the window is open (leaving the page keeps unsaved edits). */
interface Editing {
  path: string;
  draft: ProfileDraft;
  /** Passwords typed, by the connection they were typed for (never part of the draft). */
  passwords: Map<object, string>;
  /** The last save's confirmation, shown again when the page is rebuilt (opening a profile reloads every page). */
  saved?: { path: string; opened: boolean };
}
let kept: Editing | null = null;

export const connectionsPage: PageFactory = (ctx, route) => {
  const { backend, store } = ctx;
  const body = h('div', { class: 'connections-body' });
  const pathInput = h('input', {
    type: 'text',
    id: 'conn-load-path',
    class: 'input mono',
    placeholder: '/home/me/skein/prod.toml',
    spellcheck: 'false',
    autocomplete: 'off',
    dataset: { testid: 'conn-load-path' },
  });
  const loadBtn = h('button', { type: 'submit', class: 'btn' }, 'Edit file');
  const loadStatus = h('div', { class: 'form-error', 'aria-live': 'polite' });
  const newBtn = h('button', { type: 'button', class: 'btn', dataset: { testid: 'conn-new' } }, 'New profile');
  const openBtn = h('button', { type: 'button', class: 'btn', dataset: { testid: 'conn-edit-open' } }, 'Edit the open profile');

  const start = (editing: Editing) => {
    kept = editing;
    replace(body, editor(ctx, editing));
  };
  const load = async (path: string | null) => {
    replace(loadStatus, h('span', { class: 'muted' }, spinner(), ` Reading ${path ?? 'the open profile'}…`));
    try {
      const e = await backend.rpc({ method: 'profile_for_edit', params: { path } });
      replace(loadStatus);
      start({ path: e.path, draft: e.profile, passwords: new Map() });
    } catch (err) {
      replace(loadStatus, errorBox(err, `Reading ${path ?? 'the open profile'}`, { compact: true }));
    }
  };
  newBtn.addEventListener('click', () => {
    start({ path: '', draft: blankDraft(), passwords: new Map() });
    navigate(href('connections', 'new'), true);
  });
  openBtn.addEventListener('click', () => {
    navigate(href('connections'), true);
    void load(null);
  });
  const loadForm = h(
    'form',
    { class: 'row gap conn-load', 'aria-label': 'Edit a profile file' },
    h('label', { class: 'label', for: pathInput.id }, 'Profile file'),
    pathInput,
    loadBtn,
  );
  loadForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (pathInput.value.trim()) void load(pathInput.value.trim());
  });

  const hasOpen = () => store.status === 'ready' && !!store.profile?.path;
  const showOpenBtn = () => (openBtn.hidden = !hasOpen());
  const offs = [store.on('status', showOpenBtn), store.on('profiles', showOpenBtn)];
  const showFor = (rest: string[]) => {
    showOpenBtn();
    if (rest[0] === 'new') start(kept && !kept.path ? kept : { path: '', draft: blankDraft(), passwords: new Map() });
    else if (kept) start(kept);
    else if (hasOpen()) void load(null);
    else start({ path: '', draft: blankDraft(), passwords: new Map() });
  };

  const el = h(
    'section',
    { class: 'page-inner connections', dataset: { testid: 'connections-page' } },
    h('h1', null, 'Connections'),
    h(
      'p',
      { class: 'lead' },
      'Create or edit a profile: the primary, its replicas and the lake, with TLS and SSH settings per connection. Test each connection step by step; Save writes the same TOML a hand-written profile uses (comments kept), with passwords in the OS keyring.',
    ),
    h('div', { class: 'row gap conn-toolbar' }, newBtn, openBtn, loadForm),
    loadStatus,
    body,
  );
  showFor(route.rest);
  return {
    el,
    update(r) {
      showFor(r.rest);
    },
    destroy() {
      for (const off of offs) off();
    },
  };
};

/** The whole form for one profile draft. */
function editor(ctx: Ctx, editing: Editing): HTMLElement {
  const { backend, store } = ctx;
  const { draft } = editing;
  const password = (owner: object) => ({
    get: () => editing.passwords.get(owner) ?? '',
    set: (v: string) => {
      if (v) editing.passwords.set(owner, v);
      else editing.passwords.delete(owner);
    },
  });
  const passwordsNow = (): NodePassword[] => {
    const out: NodePassword[] = [];
    for (const n of [draft.primary, ...draft.replicas]) {
      const p = editing.passwords.get(n.conn);
      if (p) out.push({ node: n.name.trim(), password: p });
    }
    const lp = editing.passwords.get(draft.lake.catalog);
    if (lp) out.push({ node: 'lake', password: lp });
    return out;
  };

  /** A "Test connection" button and where its steps show. `target`: a node's name, or null for the lake. */
  const tester = (target: () => string | null, testid: string) => {
    const btn = h('button', { type: 'button', class: 'btn btn-small', dataset: { testid: `${testid}-test` } }, 'Test connection');
    const out = h('div', { class: 'test-result', dataset: { testid: `${testid}-result` } });
    btn.addEventListener('click', async () => {
      btn.setAttribute('disabled', '');
      btn.setAttribute('aria-busy', 'true');
      replace(out, h('p', { class: 'muted' }, spinner(), ' Checking DNS, TCP, TLS, login…'));
      try {
        const d = await backend.rpc({ method: 'diagnose', params: { profile: draft, target: target(), passwords: passwordsNow() } });
        replace(out, diagnosisView(d));
      } catch (e) {
        replace(out, errorBox(e, 'Testing the connection', { compact: true }));
      } finally {
        btn.removeAttribute('disabled');
        btn.removeAttribute('aria-busy');
      }
    });
    return { btn, out };
  };

  const nodeCard = (node: NodeDraft, index: number | null, onRemove: (() => void) | null): HTMLElement => {
    const scope = index === null ? 'primary' : `replica-${index}`;
    const field = index === null ? 'primary' : `replicas[${index}]`;
    const t = tester(() => node.name.trim(), scope);
    const title = h(
      'h2',
      null,
      index === null ? 'Primary' : `Replica ${index + 1}`,
      node.name ? h('span', { class: 'muted' }, ` · ${node.name}`) : null,
    );
    const nameField = input(
      'Name',
      () => node.name,
      (v) => {
        node.name = v;
        replace(title, index === null ? 'Primary' : `Replica ${index + 1}`, v ? h('span', { class: 'muted' }, ` · ${v}`) : null);
      },
      { testid: `${scope}-name`, placeholder: index === null ? 'primary' : `replica${index + 1}` },
    );
    nameField.dataset.field = `${field}.name`;
    const extra =
      index === null
        ? []
        : [
            withField(
              numberInput(
                'Weight',
                () => node.weight,
                (v) => (node.weight = v ?? 1),
                `${scope}-weight`,
                '1',
              ),
              `${field}.weight`,
            ),
            input(
              'Region',
              () => node.region,
              (v) => (node.region = v),
              { testid: `${scope}-region`, placeholder: 'eu-west', mono: false },
            ),
            input(
              'application_name on the primary',
              () => node.application_name,
              (v) => (node.application_name = v),
              {
                testid: `${scope}-application-name`,
                placeholder: 'its cluster_name, else its name',
                hint: 'How the primary’s pg_stat_replication names it.',
              },
            ),
          ];
    return h(
      'section',
      { class: 'card conn-card', dataset: { nodeSection: scope } },
      h(
        'div',
        { class: 'conn-card-head' },
        title,
        h(
          'div',
          { class: 'row gap' },
          t.btn,
          onRemove
            ? h(
                'button',
                { type: 'button', class: 'btn btn-small btn-danger', dataset: { testid: `${scope}-remove` }, on: { click: onRemove } },
                'Remove',
              )
            : null,
        ),
      ),
      h('div', { class: 'conn-grid' }, nameField, ...extra),
      connFields(node.conn, { backend, scope, field: `${field}.url`, password: password(node.conn) }),
      sshFields(node.ssh, scope),
      t.out,
    );
  };

  const replicas = h('div', { class: 'conn-replicas' });
  const renderReplicas = () => {
    replace(
      replicas,
      draft.replicas.map((r, i) =>
        nodeCard(r, i, () => {
          draft.replicas.splice(i, 1);
          renderReplicas();
        }),
      ),
    );
  };
  renderReplicas();
  const addReplica = h('button', { type: 'button', class: 'btn', dataset: { testid: 'add-replica' } }, '+ Add replica');
  addReplica.addEventListener('click', () => {
    const r = blankNode(`replica${draft.replicas.length + 1}`);
    // A new replica starts from the primary's user, database and TLS settings.
    r.conn = { ...draft.primary.conn, host: '', port: '', params: [...draft.primary.conn.params] };
    draft.replicas.push(r);
    renderReplicas();
    replicas.lastElementChild?.querySelector<HTMLInputElement>('[data-testid$="-host"]')?.focus();
  });

  const lakeTest = tester(() => null, 'lake');
  const lake = h(
    'section',
    { class: 'card conn-card', dataset: { nodeSection: 'lake' } },
    h('div', { class: 'conn-card-head' }, h('h2', null, 'Lake'), lakeTest.btn),
    h(
      'div',
      { class: 'conn-grid' },
      withField(
        input(
          'Data path',
          () => draft.lake.data_path,
          (v) => (draft.lake.data_path = v),
          { testid: 'lake-data-path', placeholder: '/srv/skein/lake/  or  s3://bucket/lake/', hint: 'Where the lake’s Parquet files go.' },
        ),
        'lake.data_path',
      ),
      withField(
        input(
          'Catalog name in DuckDB',
          () => draft.lake.name,
          (v) => (draft.lake.name = v),
          { testid: 'lake-name', placeholder: 'lake' },
        ),
        'lake.name',
      ),
    ),
    h('h3', { class: 'section-title' }, 'Catalog database'),
    connFields(draft.lake.catalog, { backend, scope: 'lake', field: 'lake.catalog', password: password(draft.lake.catalog) }),
    sshFields(draft.lake.ssh, 'lake'),
    lakeTest.out,
  );

  const th = draft.thresholds;
  const general = h(
    'section',
    { class: 'card conn-card' },
    h('h2', null, 'Profile'),
    h(
      'div',
      { class: 'conn-grid' },
      withField(
        input(
          'Name',
          () => draft.name,
          (v) => (draft.name = v),
          { testid: 'profile-name-input', placeholder: 'prod-eu', mono: false },
        ),
        'name',
      ),
      withField(
        input(
          'Password file (passfile)',
          () => draft.passfile,
          (v) => (draft.passfile = v),
          {
            testid: 'profile-passfile',
            placeholder: 'optional: a libpq .pgpass file',
            hint: 'Looked in after the OS keyring and PGPASSWORD.',
          },
        ),
        'passfile',
      ),
      withField(
        numberInput(
          'Lag warning (ms)',
          () => th.lag_warning_ms,
          (v) => (th.lag_warning_ms = v ?? 0),
          'threshold-warning',
          '5000',
        ),
        'thresholds.lag_warning_ms',
      ),
      withField(
        numberInput(
          'Lag critical (ms)',
          () => th.lag_critical_ms,
          (v) => (th.lag_critical_ms = v ?? 0),
          'threshold-critical',
          '30000',
        ),
        'thresholds.lag_critical_ms',
      ),
    ),
  );

  // ---- Save ----
  const savePath = h('input', {
    type: 'text',
    id: 'conn-save-path',
    class: 'input mono',
    placeholder: '/home/me/skein/prod.toml',
    spellcheck: 'false',
    autocomplete: 'off',
    dataset: { testid: 'conn-save-path' },
  });
  savePath.value = editing.path;
  savePath.addEventListener('input', () => (editing.path = savePath.value));
  const saveBtn = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'conn-save' } }, 'Save');
  const saveOpenBtn = h('button', { type: 'button', class: 'btn', dataset: { testid: 'conn-save-open' } }, 'Save and open');
  const saveStatus = h('div', { class: 'form-error', 'aria-live': 'polite', dataset: { testid: 'conn-save-status' } });

  const clearProblems = () => {
    for (const n of form.querySelectorAll('.field-problem')) n.remove();
    for (const n of form.querySelectorAll('[aria-invalid="true"]')) n.removeAttribute('aria-invalid');
    for (const n of form.querySelectorAll('.field-invalid')) n.classList.remove('field-invalid');
  };
  const showProblem = (field: string, message: string) => {
    // `replicas[1].url` → the group with that name, else its section (`replicas[1]`), else the form.
    const target =
      form.querySelector<HTMLElement>(`[data-field="${CSS.escape(field)}"]`) ??
      form.querySelector<HTMLElement>(`[data-field^="${CSS.escape(field.split('.')[0]!)}"]`);
    const note = h(
      'p',
      { class: 'field-problem tone-crit-text', role: 'alert', dataset: { problemField: field } },
      `✕ ${field}: ${message}`,
    );
    if (target) {
      target.classList.add('field-invalid');
      for (const i of target.querySelectorAll('input, select')) i.setAttribute('aria-invalid', 'true');
      target.append(note);
      target.querySelector<HTMLElement>('input, select')?.focus();
    }
    replace(saveStatus, h('p', { class: 'tone-crit-text', dataset: { testid: 'conn-save-problem' } }, `Not saved: ${field}: ${message}`));
  };

  let busy = false;
  const save = async (open: boolean, from: HTMLButtonElement) => {
    if (busy) return;
    const path = savePath.value.trim();
    clearProblems();
    if (!path) {
      replace(saveStatus, h('p', { class: 'tone-crit-text' }, 'Give the file’s full path to save to.'));
      savePath.focus();
      return;
    }
    busy = true;
    from.setAttribute('disabled', '');
    replace(saveStatus, h('span', { class: 'muted' }, spinner(), ` Saving ${path}…`));
    try {
      const out: SaveOutcome = await backend.rpc({
        method: 'save_profile',
        params: { path, profile: draft, passwords: passwordsNow(), open },
      });
      if (!out.saved && out.problem) {
        showProblem(out.problem.field, out.problem.message);
        return;
      }
      editing.path = out.path;
      savePath.value = out.path;
      editing.passwords.clear();
      for (const i of form.querySelectorAll<HTMLInputElement>('input[type=password]')) i.value = '';
      store.app.setProfiles(out.profiles);
      const openIt = h('button', { type: 'button', class: 'btn btn-small', dataset: { testid: 'conn-open-saved' } }, 'Open it');
      openIt.addEventListener('click', async () => {
        openIt.setAttribute('disabled', '');
        try {
          await store.app.openProfile(out.path);
          setText(openIt, 'Opened');
        } catch (e) {
          replace(saveStatus, errorBox(e, `Opening ${out.path}`, { compact: true }));
        }
      });
      if (out.open_error) replace(saveStatus, errorBox(out.open_error, `Saved ${out.path}, but opening it`, { compact: true }));
      else {
        editing.saved = { path: out.path, opened: open };
        replace(saveStatus, savedNote(editing.saved, openIt));
        // The draft is a file's now (a reload of the page shows it, not a new profile).
        if (currentRoute().rest[0] === 'new') window.history.replaceState(window.history.state, '', href('connections'));
        if (open) void store.load();
      }
    } catch (e) {
      replace(saveStatus, errorBox(e, `Saving ${path}`, { compact: true }));
    } finally {
      busy = false;
      from.removeAttribute('disabled');
    }
  };
  saveOpenBtn.addEventListener('click', () => void save(true, saveOpenBtn));
  if (editing.saved) replace(saveStatus, savedNote(editing.saved, null));

  const form: HTMLFormElement = h(
    'form',
    { class: 'conn-form', dataset: { testid: 'connections-form' }, 'aria-label': 'Profile', novalidate: true },
    general,
    nodeCard(draft.primary, null, null),
    replicas,
    h('div', { class: 'row gap' }, addReplica),
    lake,
    h(
      'div',
      { class: 'card conn-card conn-save' },
      h(
        'div',
        { class: 'field' },
        h('label', { class: 'label', for: savePath.id }, 'Save to'),
        h('div', { class: 'row gap' }, savePath, saveBtn, saveOpenBtn),
      ),
      h(
        'p',
        { class: 'hint' },
        'An existing file is edited in place: its comments and the keys this form does not show (such as [router]) stay. The file is checked with the profile loader before it is written.',
      ),
      saveStatus,
    ),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void save(false, saveBtn);
  });
  return form;
}

function savedNote(saved: { path: string; opened: boolean }, openIt: HTMLElement | null): HTMLElement {
  return h(
    'p',
    { class: 'tone-ok-text', dataset: { testid: 'conn-saved' } },
    `● Saved ${saved.path}${saved.opened ? ' and opened it' : ''}. `,
    saved.opened ? h('a', { href: href('overview') }, 'Go to the overview') : openIt,
  );
}

function withField(el: HTMLElement, field: string): HTMLElement {
  el.dataset.field = field;
  return el;
}

// The profile picker: the open profile, recent profiles (one click opens), a path box
// ("Open profile…") and the command that starts a local sandbox. It is the Settings page
// and, when no profile is open yet, the first-run state of every page.

import { copyText, flash, h, replace, setText } from '../lib/dom';
import { errorBox } from '../lib/errors';
import { duration } from '../lib/format';
import type { Ctx } from '../lib/page';

const SANDBOX_CMD = 'skein sandbox up';
const SANDBOX_PROFILE = '/tmp/skein-sandbox/profile.toml';

export function profilePicker(ctx: Ctx, opts: { firstRun: boolean }): { el: HTMLElement; destroy(): void } {
  const { store } = ctx;
  const current = h('div', { class: 'picker-current' });
  const recent = h('div', { class: 'picker-recent' });
  const status = h('div', { class: 'picker-status', 'aria-live': 'polite' });

  const input = h('input', {
    type: 'text',
    class: 'input mono',
    id: 'profile-path',
    name: 'profile-path',
    placeholder: SANDBOX_PROFILE,
    spellcheck: 'false',
    autocomplete: 'off',
    dataset: { search: '' },
  });
  const openBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Open profile');
  let busy = false;

  const open = async (path: string, from: HTMLElement) => {
    const p = path.trim();
    if (!p || busy) return;
    busy = true;
    from.setAttribute('disabled', '');
    from.setAttribute('aria-busy', 'true');
    replace(status, h('span', { class: 'muted' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ` Opening ${p}…`));
    try {
      const list = await store.app.openProfile(p);
      replace(status, h('span', { class: 'tone-ok-text' }, `● Opened ${list.current?.name ?? p}`));
    } catch (e) {
      replace(status, errorBox(e, `Opening ${p}`));
    } finally {
      busy = false;
      from.removeAttribute('disabled');
      from.removeAttribute('aria-busy');
    }
  };

  const form = h(
    'form',
    { class: 'picker-open', 'aria-label': 'Open profile' },
    h('h2', null, h('label', { for: 'profile-path' }, 'Open profile…')),
    h('div', { class: 'row gap' }, input, openBtn),
    h('p', { class: 'hint' }, 'Path of a profile TOML file on the machine running Skein.'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void open(input.value, openBtn);
  });

  const copyBtn = h('button', { type: 'button', class: 'btn btn-small' }, 'Copy command');
  copyBtn.addEventListener('click', () => void copyText(SANDBOX_CMD).then(() => flash(copyBtn, 'Copied')));
  const fillBtn = h('button', { type: 'button', class: 'btn btn-small' }, 'Use sandbox profile');
  fillBtn.addEventListener('click', () => {
    input.value = SANDBOX_PROFILE;
    input.focus();
  });
  const hintTitle = h('h2', null, 'No stack yet?');
  const hint = h(
    'div',
    { class: 'picker-hint card', dataset: { testid: 'sandbox-hint' } },
    hintTitle,
    h('p', null, 'Start a local primary, two streaming replicas and a DuckLake lake with demo caches:'),
    h('div', { class: 'row gap' }, h('code', { class: 'cmd', dataset: { testid: 'sandbox-command' } }, SANDBOX_CMD), copyBtn),
    h('p', null, 'then open ', h('code', null, SANDBOX_PROFILE), ' ', fillBtn),
  );

  const title = h('h1', null, opts.firstRun ? 'No profile open' : 'Stack and theme');
  const render = () => {
    const list = store.profiles;
    const cur = list?.current ?? (store.status === 'ready' ? store.profile : null);
    // With a stack open, the sandbox is one more stack to try, not a first step.
    setText(hintTitle, cur ? 'Another stack: a local sandbox' : 'No stack yet?');
    setText(title, cur ? 'Stack and theme' : opts.firstRun ? 'No profile open' : 'Stack and theme');
    if (!cur) replace(current, opts.firstRun ? null : h('p', { class: 'muted' }, 'No profile is open.'));
    else
      replace(
        current,
        h(
          'div',
          { class: 'card', dataset: { testid: 'open-stack' } },
          h('h2', null, 'Open stack: ', h('span', { dataset: { testid: 'current-profile' } }, cur.name)),
          h(
            'p',
            { class: 'small' },
            h('span', { class: 'muted' }, 'Profile '),
            h('span', { class: 'mono', dataset: { testid: 'profile-path' } }, cur.path ?? '(not read from a file)'),
          ),
          h(
            'table',
            { class: 'table compact' },
            h('thead', null, h('tr', null, h('th', null, 'Node'), h('th', null, 'Role'), h('th', null, 'Address'))),
            h(
              'tbody',
              null,
              cur.nodes.map((n) => h('tr', null, h('td', null, n.name), h('td', null, n.role), h('td', { class: 'mono' }, n.address))),
            ),
          ),
          h(
            'dl',
            { class: 'facts' },
            h('dt', null, 'Lake'),
            h('dd', null, cur.lake_name, ' · ', h('span', { class: 'mono' }, cur.lake_data_path)),
            h('dt', null, 'Lag thresholds'),
            h('dd', null, `warning ${duration(cur.thresholds.lag_warning_ms)} · critical ${duration(cur.thresholds.lag_critical_ms)}`),
          ),
        ),
      );
    const paths = list?.recent ?? [];
    if (!paths.length) replace(recent, h('p', { class: 'muted' }, 'No recent profiles.'));
    else
      replace(
        recent,
        h(
          'ul',
          { class: 'recent-list' },
          paths.map((p) => {
            const isCur = cur?.path === p;
            const b = h(
              'button',
              { type: 'button', class: 'btn btn-link mono', dataset: { recentProfile: p }, 'aria-label': `Open ${p}` },
              p,
            );
            b.addEventListener('click', () => void open(p, b));
            return h('li', null, b, isCur ? h('span', { class: 'tag' }, 'open') : null);
          }),
        ),
      );
  };

  const el = h(
    'section',
    { class: 'picker', dataset: { testid: 'profile-picker' } },
    title,
    opts.firstRun
      ? h(
          'p',
          { class: 'lead' },
          'Skein needs a profile: the primary, its replicas and the lake. Pick a recent one, open a file, or start the sandbox.',
        )
      : null,
    current,
    h(
      'div',
      { class: 'picker-grid' },
      h('div', { class: 'card' }, h('h2', null, `Recent profiles`), recent),
      h('div', { class: 'card' }, form, status),
    ),
    hint,
  );
  const offs = [store.on('profiles', render), store.on('status', render)];
  render();
  if (!store.profiles) void store.loadProfiles();
  return {
    el,
    destroy() {
      for (const f of offs) f();
    },
  };
}

// The frame around every page: a skip-to-content link (the first focusable element), the
// left navigation with real links, the top bar naming the stack and each tier's standing
// with how fresh the numbers are (replicas: how many are in rotation, from the router's
// stats), the theme toggle, and `/` to focus the page's filter or first input.

import { h, replace, setAttr, setText, spinner } from '../lib/dom';
import { count, duration, utc } from '../lib/format';
import { href, PAGES, type PageName } from '../lib/router';
import { nodeBadge, rotationWords, routingOf, type Tone, worst } from '../lib/status';
import type { Store } from '../lib/store';
import { onThemeChange, setThemeMode, type ThemeMode, themeMode } from '../lib/theme';

/** Past this age the "last sample" turns amber. */
const STALE_SAMPLE_MS = 3000;

export interface Frame {
  root: HTMLElement;
  main: HTMLElement;
  setActive(page: PageName): void;
}

function indicator(testid: string, link: string): { el: HTMLAnchorElement; set(tone: Tone, text: string, title: string): void } {
  const icon = h('span', { class: 'dot', 'aria-hidden': 'true' });
  const label = h('span', { class: 'tier-label' });
  const el = h('a', { class: 'tier', href: link, dataset: { testid } }, label, icon);
  return {
    el,
    set(tone, text, title) {
      setAttr(icon, 'class', `dot tone-${tone}`);
      setText(icon, tone === 'crit' ? '✕' : tone === 'warn' ? '▲' : tone === 'muted' ? '○' : '●');
      setText(label, text);
      setAttr(el, 'title', title);
      setAttr(el, 'data-tone', tone);
    },
  };
}

export function createFrame(store: Store): Frame {
  const links = new Map<PageName, HTMLAnchorElement>();
  const nav = h(
    'nav',
    { class: 'nav', 'aria-label': 'Pages' },
    h(
      'ul',
      null,
      PAGES.map((p) => {
        const a = h('a', { href: href(p.name), class: 'nav-link', dataset: { page: p.name } }, p.title);
        links.set(p.name, a);
        return h('li', null, a);
      }),
    ),
  );

  const themeBtn = h('button', { type: 'button', class: 'btn btn-ghost theme-toggle' });
  const themeLabel = (m: ThemeMode) => (m === 'system' ? '◐ system theme' : m === 'light' ? '☀ light theme' : '☾ dark theme');
  const showTheme = () => {
    const m = themeMode();
    setText(themeBtn, themeLabel(m));
    setAttr(themeBtn, 'aria-label', `Theme: ${m} (click to change)`);
    setAttr(themeBtn, 'title', 'Theme: system → light → dark');
  };
  themeBtn.addEventListener('click', () => {
    const order: ThemeMode[] = ['system', 'light', 'dark'];
    const next = order[(order.indexOf(themeMode()) + 1) % order.length]!;
    setThemeMode(next);
  });
  onThemeChange(showTheme);
  showTheme();

  const side = h(
    'aside',
    { class: 'side' },
    h(
      'a',
      { class: 'brand', href: href('overview'), 'aria-label': 'Skein overview' },
      h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '≋'),
      'Skein',
    ),
    nav,
    h('div', { class: 'side-foot' }, themeBtn),
  );

  const profileLink = h('a', { class: 'profile-link', href: href('settings'), dataset: { testid: 'profile-name' } });
  const primary = indicator('tier-primary', href('replicas'));
  const replicas = indicator('tier-replicas', href('replicas'));
  const lake = indicator('tier-lake', href('snapshots'));
  const lastSample = h('span', { class: 'last-sample', dataset: { testid: 'last-sample' }, 'aria-live': 'off' });
  // Maintenance jobs running (shown only while one runs): a link to the jobs tray.
  const jobsLink = h('a', { class: 'tier jobs-indicator', href: href('snapshots'), dataset: { testid: 'jobs-indicator' }, hidden: true });

  const top = h(
    'header',
    { class: 'topbar' },
    profileLink,
    h('div', { class: 'tiers' }, primary.el, replicas.el, lake.el, jobsLink),
    h('div', { class: 'topbar-spacer' }),
    lastSample,
  );
  const main = h('main', { class: 'page', id: 'page', tabindex: '-1' });
  // Not a hash link: the hash is the page's route.
  const skip = h(
    'a',
    {
      class: 'skip-link',
      href: '#page',
      dataset: { testid: 'skip-link' },
      on: {
        click: (e: MouseEvent) => {
          e.preventDefault();
          main.focus();
        },
      },
    },
    'Skip to content',
  );
  const root = h('div', { class: 'frame' }, skip, side, h('div', { class: 'body' }, top, main));

  // `/` focuses the page's filter (`[data-search]`) or else its first input, unless typing.
  document.addEventListener('keydown', (e) => {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    const t = e.target as HTMLElement | null;
    if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
    const usable = (el: HTMLElement) => !(el as HTMLInputElement).disabled && el.getClientRects().length > 0;
    const box =
      [...main.querySelectorAll<HTMLElement>('[data-search]')].find(usable) ??
      [
        ...main.querySelectorAll<HTMLElement>(
          'input:not([type=hidden]):not([type=checkbox]):not([type=radio]), textarea, select, [contenteditable=true]',
        ),
      ].find(usable);
    if (!box) return;
    e.preventDefault();
    box.focus();
    if (box instanceof HTMLInputElement || box instanceof HTMLTextAreaElement) box.select();
  });

  const renderProfile = () => {
    if (store.status === 'no-profile') {
      setText(profileLink, 'no profile open ▾');
      setAttr(profileLink, 'title', 'Open a profile');
      return;
    }
    const p = store.profile;
    setText(profileLink, p ? `profile: ${p.name} ▾` : 'profile: … ▾');
    setAttr(profileLink, 'title', p?.path ? `${p.path} (change in Settings)` : 'Change in Settings');
  };

  const renderTiers = () => {
    const s = store.sample;
    const nodes = s?.nodes ?? [];
    const prim = nodes.find((n) => n.role === 'primary');
    const profNodes = store.profile?.nodes ?? [];
    if (store.status !== 'ready') {
      primary.set('muted', 'primary', 'no profile open');
      replicas.set('muted', '–/– replicas', 'no profile open');
      lake.set('muted', 'lake', 'no profile open');
      return;
    }
    if (!prim) primary.set('muted', 'primary', 'waiting for the first lag sample');
    else {
      const b = nodeBadge(prim);
      primary.set(b.tone, 'primary', `${prim.name}: ${b.word}${prim.error ? ` — ${prim.error.code}: ${prim.error.message}` : ''}`);
    }
    const reps = nodes.filter((n) => n.role === 'replica');
    const total = reps.length || profNodes.filter((n) => n.role === 'replica').length;
    const r = store.routing;
    if (!s) replicas.set('muted', `–/${total} replicas`, 'waiting for the first lag sample');
    else {
      // In rotation: the router's word, not a guess from the sample.
      const routed = r ? r.nodes.filter((n) => n.role === 'replica') : [];
      const inRotation = routed.filter((n) => n.in_rotation).length;
      const badges = reps.map(nodeBadge);
      const words = reps.map((n) => {
        const rn = routingOf(r, n.name);
        return rn ? rotationWords(rn) : 'rotation unknown';
      });
      const recovering = words.filter((w) => w.startsWith('recovering'));
      const tones = badges.map((b) => b.tone);
      if (recovering.length) tones.push('warn');
      if (words.includes('out of rotation')) tones.push('crit');
      const tone = reps.length ? worst(tones) : 'muted';
      replicas.set(
        tone === 'info' ? 'info' : tone,
        `${r ? inRotation : '–'}/${total} replicas${recovering.length === 1 ? ` · ${reps[words.indexOf(recovering[0]!)]!.name} ${recovering[0]}` : recovering.length > 1 ? ` · ${recovering.length} recovering` : ''}`,
        `${r ? inRotation : '–'} of ${total} replicas in rotation (the router's rotation)\n` +
          (reps
            .map(
              (n, i) =>
                `${n.name}: ${badges[i]!.word} · ${words[i]}${n.replay_lag_ms !== null ? `, replay lag ${duration(n.replay_lag_ms)}` : ''}`,
            )
            .join('\n') || 'no replicas in this profile'),
      );
      setAttr(replicas.el, 'data-in-rotation', r ? String(inRotation) : null);
    }
    const l = store.lake;
    if (!l || (!l.reachable && !l.error)) lake.set('muted', 'lake', 'the lake has not answered yet');
    else if (!l.reachable)
      lake.set(
        'crit',
        `lake${l.snapshots !== null ? ` ${count(l.snapshots)} snaps` : ''}`,
        `unreachable — ${l.error?.code}: ${l.error?.message}`,
      );
    else
      lake.set(
        'ok',
        `lake ${count(l.snapshots ?? 0)} snaps`,
        `${store.profile?.lake_name ?? 'lake'}: ${count(l.snapshots ?? 0)} snapshots, current ${l.current_snapshot ?? '—'}`,
      );
  };

  const renderAge = () => {
    const at = store.sampleReceivedAt;
    if (at === null || store.status !== 'ready') {
      setText(lastSample, store.status === 'ready' ? 'waiting for the first sample' : '');
      setAttr(lastSample, 'data-stale', store.status === 'ready' ? 'true' : null);
      return;
    }
    const age = Date.now() - at;
    const text = age < 10_000 ? `${(age / 1000).toFixed(1)} s` : duration(age);
    setText(lastSample, `last sample ${text} ago`);
    setAttr(lastSample, 'data-stale', age > STALE_SAMPLE_MS ? 'true' : 'false');
    setAttr(lastSample, 'title', store.sample ? `Lag sample taken ${utc(store.sample.taken_at_ms)} (one a second)` : '');
  };

  let jobsShown = '';
  const renderJobs = () => {
    const running = store.status === 'ready' ? store.jobs.filter((j) => j.state === 'running') : [];
    const text = running.length ? `${running.length} ${running.length === 1 ? 'job' : 'jobs'} running` : '';
    jobsLink.hidden = !running.length;
    setAttr(jobsLink, 'data-running', String(running.length));
    setAttr(
      jobsLink,
      'title',
      running.length ? `${running.map((j) => j.title).join('\n')}\n(the jobs tray is on the Snapshots page)` : null,
    );
    if (text !== jobsShown) {
      jobsShown = text;
      replace(jobsLink, running.length ? [spinner(), h('span', { class: 'tier-label' }, text)] : []);
    }
  };

  store.on('status', () => {
    renderJobs();
    renderProfile();
    renderTiers();
    renderAge();
  });
  store.on('profiles', renderProfile);
  store.on('attention', renderProfile);
  store.on('lag', renderTiers);
  store.on('routing', renderTiers);
  store.on('lake', renderTiers);
  store.on('jobs', renderJobs);
  window.setInterval(renderAge, 200);
  renderProfile();
  renderTiers();
  renderAge();

  return {
    root,
    main,
    setActive(page) {
      for (const [name, a] of links) {
        if (name === page) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
      }
    },
  };
}

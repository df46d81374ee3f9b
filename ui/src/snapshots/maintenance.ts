// Lake maintenance on the Snapshots page: what the lake holds and what maintenance could
// reclaim (`lake_stats`), expiring snapshots and cleaning up files, and the jobs tray.
//
// Nothing destructive happens on a single click: "Preview" asks the
// backend for a dry run and lists exactly what would go; the confirm button names the count
// ("Expire 12 snapshots", "Delete 2 files (358.2 KiB)"). An expiry then runs on exactly the
// ids the preview listed. A confirmed operation starts a job: its progress shows in place
// and in the tray, its end arrives as a `job` event, and the summary and the history
// reload without a page reload. A refusal (`Conflict` while another operation runs) shows
// where the action was.
//
// Compactions (merge adjacent files, rewrite files with deletes, flush inlined data) lose no
// data (time travel keeps working) and have no dry run: "Preview compaction" lists what they
// work on (each table's current data files), and each button below it starts its job.

import type { Compaction, ExpireTarget, Job, LakeFile, LakeStats, Snapshot, SnapshotRef, TableFiles } from '../lib/bindings';
import { h, replace, setAttr, setText, spinner, timeAgo } from '../lib/dom';
import { errorBox } from '../lib/errors';
import { bytes, count, plural, truncate, utc } from '../lib/format';
import { type Ctx, Disposer } from '../lib/page';
import { elapsedText, jobBadge, jobResultText, jobsTray, jobTitle } from './jobs';

export interface Maintenance {
  el: HTMLElement;
  /** Opens the expiry preview for these snapshot ids ("Expire this snapshot…"). */
  previewVersions(ids: number[]): void;
  destroy(): void;
}

export interface MaintenanceHooks {
  /** A job finished (done or failed): the history and the selection may have changed. */
  jobFinished(job: Job): void;
}

/**
 * The default "Older than", `YYYY-MM-DD HH:MM:SS` in UTC: an hour ago when that expires
 * something; when every snapshot is younger (a new lake), the time halfway between the
 * oldest and the newest snapshot, rounded up to the second, so the preview finds the older
 * ones (the newest is always kept). `oldest` / `newest` are `[id, ms]` from `lake_stats`.
 */
export function defaultOlderThan(now = Date.now(), oldest: SnapshotRef | null = null, newest: SnapshotRef | null = null): string {
  const hourAgo = now - 3_600_000;
  if (oldest && newest && oldest.id !== newest.id && oldest.time_ms >= hourAgo) {
    const mid = Math.ceil((oldest.time_ms + Math.max(newest.time_ms, oldest.time_ms + 1)) / 2 / 1000) * 1000;
    return utc(Math.max(mid, Math.floor(oldest.time_ms / 1000) * 1000 + 1000)).replace(' UTC', '');
  }
  return utc(hourAgo).replace(' UTC', '');
}

const TIME_RE = /^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * The typed "Older than" as sent to the backend, with UTC made explicit (`+00`) so the
 * catalog's time zone setting cannot shift it; or why it is not a time.
 */
export function olderThanParam(typed: string): { value: string } | { error: string } {
  const t = typed.trim();
  if (!t) return { error: 'Type a time, e.g. 2026-11-22 09:00:00 (UTC).' };
  if (!TIME_RE.test(t)) return { error: `“${t}” is not a time: use YYYY-MM-DD HH:MM:SS (UTC).` };
  let v = /^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t} 00:00:00` : t;
  if (!/(?:Z|[+-]\d{2}(?::?\d{2})?)$/.test(v.slice(10))) v += '+00';
  return { value: v };
}

/** `2 files (358.2 KiB)`-style size of a file list: exact, at least (some unreadable), or unknown. */
function filesSize(files: readonly LakeFile[]): { total: number; text: string | null } {
  const known = files.filter((f) => f.bytes !== null);
  const total = known.reduce((s, f) => s + (f.bytes ?? 0), 0);
  if (files.length === 0) return { total: 0, text: bytes(0) };
  if (known.length === 0) return { total, text: null };
  return { total, text: known.length === files.length ? bytes(total) : `≥ ${bytes(total)}` };
}

/** The directory every path shares (with its trailing `/`), or `''`. */
function commonDir(paths: readonly string[]): string {
  if (paths.length === 0) return '';
  let prefix = paths[0]!;
  for (const p of paths) {
    while (!p.startsWith(prefix)) prefix = prefix.slice(0, -1);
  }
  const cut = prefix.lastIndexOf('/');
  return cut > 0 ? prefix.slice(0, cut + 1) : '';
}

/** Where one section (expire, clean up) stands. */
type Mode = 'idle' | 'loading' | 'preview' | 'job';

export function maintenancePanel({ store, backend }: Ctx, hooks: MaintenanceHooks): Maintenance {
  const d = new Disposer();
  const createdAt = Date.now();

  // ---- Summary -----------------------------------------------------------------------

  const stats = h(
    'div',
    { class: 'lake-stats', dataset: { testid: 'lake-stats' }, 'aria-live': 'polite' },
    h('span', { class: 'muted' }, spinner(), ' Reading the lake…'),
  );
  let statsSeq = 0;
  let lastStats: LakeStats | null = null;

  const stat = (label: string, title: string, ...value: (Node | string)[]) =>
    h('span', { class: 'stat', title }, h('span', { class: 'stat-label' }, `${label}: `), h('span', { class: 'stat-value' }, ...value));

  const renderStats = (s: LakeStats) => {
    lastStats = s;
    // Until the user types a time, the proposal follows the lake's history.
    if (!olderTouched) olderInput.value = defaultOlderThan(Date.now(), s.oldest_snapshot, s.newest_snapshot);
    const ds = stats.dataset;
    ds.snapshots = String(s.snapshots);
    ds.files = String(s.files);
    ds.bytes = String(s.bytes);
    ds.oldFiles = String(s.old_files);
    ds.oldBytes = String(s.old_bytes);
    ds.scheduledFiles = String(s.scheduled_files);
    ds.inlinedRows = String(s.inlined_rows);
    if (s.scheduled_bytes !== null) ds.scheduledBytes = String(s.scheduled_bytes);
    else delete ds.scheduledBytes;
    const oldest = s.oldest_snapshot;
    replace(
      stats,
      stat('Snapshots', '<lake>.snapshots()', count(s.snapshots)),
      stat(
        'Oldest',
        'The oldest snapshot still in the lake: time travel reaches back to it',
        ...(oldest ? [h('span', { class: 'mono' }, `#${oldest.id}`), ' · ', timeAgo(oldest.time_ms)] : ['—']),
      ),
      stat(
        'Files',
        'Data and delete files the catalog lists (ducklake_data_file + ducklake_delete_file, file_size_bytes)',
        `${count(s.files)} · ${bytes(s.bytes)}`,
      ),
      stat(
        'Reclaimable by expiring',
        'Files only older snapshots reference: expiring those snapshots schedules them for deletion',
        `${plural(s.old_files, 'file')} · ${bytes(s.old_bytes)}`,
      ),
      stat(
        'Scheduled for deletion',
        'ducklake_files_scheduled_for_deletion: a cleanup deletes them now (sizes read from disk for local paths)',
        `${plural(s.scheduled_files, 'file')} · ${s.scheduled_bytes === null ? 'size unknown' : bytes(s.scheduled_bytes)}`,
      ),
      stat(
        'Inlined rows',
        'Rows held in the catalog (ducklake_inlined_data_* tables) rather than in Parquet: "Flush inlined data" writes them out',
        count(s.inlined_rows),
      ),
    );
  };

  const loadStats = async () => {
    const seq = ++statsSeq;
    setAttr(stats, 'aria-busy', 'true');
    try {
      const s = await backend.rpc({ method: 'lake_stats' });
      if (seq !== statsSeq) return;
      renderStats(s);
    } catch (e) {
      if (seq !== statsSeq) return;
      lastStats = null;
      replace(stats, errorBox(e, 'Reading the lake’s statistics', { compact: true, retry: () => void loadStats() }));
    } finally {
      if (seq === statsSeq) setAttr(stats, 'aria-busy', null);
    }
  };

  let statsTimer: number | null = null;
  /** Reloads the summary soon (several events in a burst make one request). */
  const reloadStatsSoon = () => {
    if (statsTimer !== null) return;
    statsTimer = window.setTimeout(() => {
      statsTimer = null;
      void loadStats();
    }, 250);
  };
  d.add(() => {
    if (statsTimer !== null) window.clearTimeout(statsTimer);
  });

  // ---- Sections: preview, confirm, job in place ---------------------------------------

  /** One destructive operation's area: its preview, then its job in place. */
  interface Section {
    mode: Mode;
    seq: number;
    job: number | null;
    /** A confirm was sent and not answered yet (its job's end may arrive first). */
    starting: boolean;
    box: HTMLElement;
    trigger: () => HTMLElement;
  }

  const closeBtn = (sec: Section, label = 'Close') =>
    h('button', { type: 'button', class: 'btn btn-small', on: { click: () => clear(sec, true) } }, label);

  const clear = (sec: Section, focusTrigger: boolean) => {
    sec.seq++;
    sec.mode = 'idle';
    sec.job = null;
    replace(sec.box);
    sec.box.hidden = true;
    delete sec.box.dataset.count;
    if (focusTrigger) sec.trigger().focus();
  };

  const loading = (sec: Section, text: string) => {
    sec.mode = 'loading';
    sec.job = null;
    sec.box.hidden = false;
    delete sec.box.dataset.count;
    setAttr(sec.box, 'aria-busy', 'true');
    replace(sec.box, h('p', { class: 'muted preview-loading' }, spinner(), ` ${text}`));
  };

  /** Shows a started job in the section; `renderJobInPlace` keeps it current. */
  const startedJob = (sec: Section, job: Job) => {
    sec.mode = 'job';
    sec.job = job.id;
    delete sec.box.dataset.count;
    store.recordJob(job); // draws it here too (through the `jobs` listener)
    renderJobInPlace(sec);
  };

  const renderJobInPlace = (sec: Section) => {
    if (sec.mode !== 'job' || sec.job === null) return;
    const job = store.jobs.find((j) => j.id === sec.job);
    if (!job) return;
    const line = sec.box.querySelector<HTMLElement>('.job-inline');
    if (line && line.dataset.jobState === job.state) {
      const t = line.querySelector('[data-elapsed]');
      if (t) setText(t, elapsedText(job));
      return;
    }
    const focusInside = sec.box.contains(document.activeElement);
    replace(
      sec.box,
      h(
        'div',
        { class: 'job-inline', dataset: { jobId: String(job.id), jobState: job.state } },
        h(
          'div',
          { class: 'job-head' },
          jobBadge(job),
          h('span', { class: 'job-title' }, jobTitle(job)),
          h('span', { class: 'muted small nowrap', dataset: { elapsed: '' } }, elapsedText(job)),
          h('span', { class: 'spacer' }),
          job.state === 'running' ? null : closeBtn(sec),
        ),
        job.state === 'running'
          ? h('p', { class: 'hint' }, 'Runs in the background: the page keeps working, and the jobs tray lists it.')
          : job.state === 'done'
            ? h('p', { class: 'job-result small', tabindex: '-1' }, jobResultText(job))
            : job.error
              ? errorBox(job.error, jobTitle(job), { compact: true })
              : null,
      ),
    );
    if (focusInside && job.state !== 'running') sec.box.querySelector<HTMLElement>('.job-result, .error-box button, button')?.focus();
  };

  /** A preview that a finished job made stale: it no longer lists what would go. */
  const invalidate = (sec: Section, why: string) => {
    if ((sec.mode !== 'preview' && sec.mode !== 'loading') || sec.starting) return;
    sec.seq++;
    sec.mode = 'idle';
    delete sec.box.dataset.count;
    setAttr(sec.box, 'aria-busy', null);
    replace(sec.box, h('p', { class: 'muted small preview-stale' }, why, ' ', closeBtn(sec, 'Dismiss')));
  };

  const confirmActions = (sec: Section, confirmName: string, actionName: string, start: () => Promise<Job>): HTMLElement => {
    const errSlot = h('div', { class: 'preview-error' });
    const confirm = h('button', { type: 'button', class: 'btn btn-danger' }, confirmName);
    const cancel = h('button', { type: 'button', class: 'btn', on: { click: () => clear(sec, true) } }, 'Cancel');
    confirm.addEventListener('click', () => {
      const seq = sec.seq;
      sec.starting = true;
      confirm.disabled = true;
      cancel.disabled = true;
      setAttr(confirm, 'aria-busy', 'true');
      const spin = spinner();
      confirm.prepend(spin);
      replace(errSlot);
      start()
        .finally(() => {
          sec.starting = false;
        })
        .then((job) => {
          if (seq !== sec.seq) {
            store.recordJob(job);
            return;
          }
          const hadFocus = sec.box.contains(document.activeElement);
          startedJob(sec, job);
          if (hadFocus) sec.box.querySelector<HTMLElement>('.job-inline')?.setAttribute('tabindex', '-1');
          if (hadFocus) sec.box.querySelector<HTMLElement>('.job-inline')?.focus();
        })
        .catch((e: unknown) => {
          if (seq !== sec.seq) return;
          spin.remove();
          confirm.disabled = false;
          cancel.disabled = false;
          setAttr(confirm, 'aria-busy', null);
          replace(errSlot, errorBox(e, actionName, { compact: true }));
          confirm.focus();
        });
    });
    return h('div', null, h('div', { class: 'row gap preview-actions' }, confirm, cancel), errSlot);
  };

  /** The preview's first line, focusable so the keyboard lands on what was found. */
  const previewHead = (...children: (Node | string | null)[]) => h('p', { class: 'preview-head', tabindex: '-1' }, ...children);

  // ---- Expire snapshots ---------------------------------------------------------------

  let olderTouched = false;
  const olderInput = h('input', {
    type: 'text',
    class: 'input mono older-input',
    id: 'maint-older-than',
    value: defaultOlderThan(),
    placeholder: 'YYYY-MM-DD HH:MM:SS',
    on: { input: () => (olderTouched = true) },
    spellcheck: 'false',
    autocomplete: 'off',
    title: 'UTC. The latest snapshot is never expired, however old.',
  });
  const expireBtn = h('button', { type: 'submit', class: 'btn', 'aria-label': 'Preview expiry' }, 'Preview');
  const expireForm = h(
    'form',
    { class: 'maint-form', 'aria-label': 'Expire snapshots' },
    h('label', { for: 'maint-older-than', class: 'maint-label' }, 'Older than'),
    olderInput,
    h('span', { class: 'muted small' }, 'UTC'),
    expireBtn,
  );
  const expireBox = h('div', { class: 'preview', dataset: { testid: 'expire-preview' }, hidden: true, 'aria-live': 'polite' });
  const expire: Section = { mode: 'idle', seq: 0, job: null, starting: false, box: expireBox, trigger: () => expireBtn };

  const previewExpire = async (target: ExpireTarget, describe: string, emptyWhy: string) => {
    const seq = ++expire.seq;
    loading(expire, 'Asking the lake what would be expired (dry run)…');
    try {
      const list = await backend.rpc({ method: 'preview_expire', params: { target } });
      if (seq !== expire.seq) return;
      renderExpirePreview(list, describe, emptyWhy);
    } catch (e) {
      if (seq !== expire.seq) return;
      expire.mode = 'idle';
      replace(
        expireBox,
        errorBox(e, 'Previewing the expiry', { compact: true, retry: () => void previewExpire(target, describe, emptyWhy) }),
        closeBtn(expire),
      );
    } finally {
      if (seq === expire.seq) setAttr(expireBox, 'aria-busy', null);
    }
  };

  const renderExpirePreview = (list: Snapshot[], describe: string, emptyWhy: string) => {
    expire.mode = 'preview';
    expireBox.dataset.count = String(list.length);
    if (list.length === 0) {
      replace(
        expireBox,
        h(
          'div',
          { class: 'row gap preview-empty' },
          previewHead(h('strong', null, 'Nothing to expire'), h('span', { class: 'muted' }, `: ${emptyWhy}`)),
          h('span', { class: 'spacer' }),
          closeBtn(expire),
        ),
      );
      expireBox.querySelector<HTMLElement>('.preview-head')?.focus();
      return;
    }
    const n = list.length;
    const ids = list.map((s) => s.id);
    const these = n === 1 ? 'this snapshot' : `these ${count(n)} snapshots`;
    const name = `Expire ${plural(n, 'snapshot')}`;
    replace(
      expireBox,
      previewHead(h('strong', null, `${plural(n, 'snapshot')} would be expired`), h('span', { class: 'muted' }, ` · ${describe}`)),
      h(
        'div',
        { class: 'table-wrap preview-wrap' },
        h(
          'table',
          { class: 'table compact', 'aria-label': 'Snapshots that would be expired' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col', class: 'num' }, 'Id'),
              h('th', { scope: 'col' }, 'Time (UTC)'),
              h('th', { scope: 'col' }, 'Message'),
            ),
          ),
          h(
            'tbody',
            null,
            list.map((s) =>
              h(
                'tr',
                { dataset: { snapshotId: String(s.id) } },
                h('td', { class: 'num mono' }, String(s.id)),
                h(
                  'td',
                  { class: 'nowrap' },
                  h('span', { class: 'mono' }, utc(s.time_ms).replace(' UTC', '')),
                  ' ',
                  h('span', { class: 'muted small' }, timeAgo(s.time_ms)),
                ),
                h(
                  'td',
                  { class: 'preview-message', title: s.commit_message ?? undefined },
                  s.commit_message ? truncate(s.commit_message, 60) : h('span', { class: 'muted' }, '—'),
                ),
              ),
            ),
          ),
        ),
      ),
      h(
        'p',
        { class: 'preview-warn' },
        h('span', { class: 'warn-icon', 'aria-hidden': 'true' }, '▲'),
        ` Time travel to ${these} will stop working. Data files only ${n === 1 ? 'it uses' : 'they use'} will be scheduled for deletion; data inlined in the catalog leaves no file (the result says which).`,
      ),
      confirmActions(expire, name, `Expiring ${plural(n, 'snapshot')}`, () =>
        backend.rpc({ method: 'expire_snapshots', params: { versions: ids } }),
      ),
    );
    expireBox.querySelector<HTMLElement>('.preview-head')?.focus();
  };

  expireForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = olderInput.value.trim();
    const param = olderThanParam(p);
    if ('error' in param) {
      expire.seq++;
      expire.mode = 'idle';
      expireBox.hidden = false;
      delete expireBox.dataset.count;
      replace(expireBox, errorBox({ code: 'InvalidInput', message: param.error }, 'Previewing the expiry', { compact: true }));
      olderInput.focus();
      return;
    }
    const shown = /[zZ]|[+-]\d{2}(?::?\d{2})?$/.test(p.slice(10)) ? p : `${p} UTC`;
    void previewExpire(
      { older_than: param.value },
      `older than ${shown}`,
      `no snapshot is older than ${shown}, apart from the latest, which is always kept.`,
    );
  });

  // ---- Clean up files -----------------------------------------------------------------

  const cleanupBtn = h('button', { type: 'button', class: 'btn', 'aria-label': 'Preview cleanup' }, 'Preview');
  const orphanBtn = h('button', { type: 'button', class: 'btn' }, 'Find orphaned files…');
  const cleanupBox = h('div', { class: 'preview', dataset: { testid: 'cleanup-preview' }, hidden: true, 'aria-live': 'polite' });
  let lastCleanupTrigger: HTMLElement = cleanupBtn;
  const cleanup: Section = { mode: 'idle', seq: 0, job: null, starting: false, box: cleanupBox, trigger: () => lastCleanupTrigger };

  const previewCleanup = async (orphaned: boolean) => {
    lastCleanupTrigger = orphaned ? orphanBtn : cleanupBtn;
    const seq = ++cleanup.seq;
    cleanupBox.dataset.orphaned = String(orphaned);
    loading(
      cleanup,
      orphaned ? 'Looking for files no snapshot references (dry run)…' : 'Listing the files scheduled for deletion (dry run)…',
    );
    try {
      const files = await backend.rpc({ method: 'preview_delete_files', params: { orphaned } });
      if (seq !== cleanup.seq) return;
      renderCleanupPreview(files, orphaned);
    } catch (e) {
      if (seq !== cleanup.seq) return;
      cleanup.mode = 'idle';
      replace(
        cleanupBox,
        errorBox(e, orphaned ? 'Finding orphaned files' : 'Previewing the cleanup', {
          compact: true,
          retry: () => void previewCleanup(orphaned),
        }),
        closeBtn(cleanup),
      );
    } finally {
      if (seq === cleanup.seq) setAttr(cleanupBox, 'aria-busy', null);
    }
  };

  const renderCleanupPreview = (files: LakeFile[], orphaned: boolean) => {
    cleanup.mode = 'preview';
    cleanupBox.dataset.count = String(files.length);
    if (files.length === 0) {
      let why = orphaned ? 'no file under the lake’s data path is unreferenced.' : 'no files are scheduled for deletion.';
      if (!orphaned && lastStats && lastStats.old_files > 0)
        why += ` Expiring older snapshots would schedule ${plural(lastStats.old_files, 'file')} (${bytes(lastStats.old_bytes)}).`;
      replace(
        cleanupBox,
        h(
          'div',
          { class: 'row gap preview-empty' },
          previewHead(h('strong', null, orphaned ? 'No orphaned files' : 'Nothing to clean up'), h('span', { class: 'muted' }, `: ${why}`)),
          h('span', { class: 'spacer' }),
          closeBtn(cleanup),
        ),
      );
      cleanupBox.querySelector<HTMLElement>('.preview-head')?.focus();
      return;
    }
    const n = files.length;
    const size = filesSize(files);
    const dir = commonDir(files.map((f) => f.path));
    const name = `Delete ${plural(n, 'file')}${size.text ? ` (${size.text})` : ''}`;
    const what = orphaned ? `${plural(n, 'orphaned file')} (no snapshot references them)` : `${plural(n, 'file')} scheduled for deletion`;
    replace(
      cleanupBox,
      previewHead(h('strong', null, what), h('span', { class: 'muted' }, ` · ${size.text ?? 'size unknown'}`)),
      dir ? h('p', { class: 'small muted preview-dir' }, 'in ', h('span', { class: 'mono break' }, dir)) : null,
      h(
        'div',
        { class: 'table-wrap preview-wrap' },
        h(
          'table',
          { class: 'table compact', 'aria-label': orphaned ? 'Orphaned files that would be deleted' : 'Files that would be deleted' },
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Path'), h('th', { scope: 'col', class: 'num' }, 'Size'))),
          h(
            'tbody',
            null,
            files.map((f) =>
              h(
                'tr',
                { dataset: { path: f.path } },
                h('td', { class: 'mono small preview-path', title: f.path }, f.path.slice(dir.length)),
                h(
                  'td',
                  { class: 'num nowrap' },
                  f.bytes === null
                    ? h('span', { class: 'muted', title: 'The size could not be read (not a local path, or already gone)' }, '—')
                    : bytes(f.bytes),
                ),
              ),
            ),
          ),
          h(
            'tfoot',
            null,
            h('tr', null, h('th', { scope: 'row' }, `Total · ${plural(n, 'file')}`), h('td', { class: 'num nowrap' }, size.text ?? '—')),
          ),
        ),
      ),
      h(
        'p',
        { class: 'preview-warn' },
        h('span', { class: 'warn-icon', 'aria-hidden': 'true' }, '▲'),
        orphaned
          ? ' No snapshot references these files. They are deleted from storage; this cannot be undone.'
          : ' Only expired snapshots referenced these files. They are deleted from storage; this cannot be undone.',
      ),
      confirmActions(cleanup, name, orphaned ? `Deleting ${plural(n, 'orphaned file')}` : `Deleting ${plural(n, 'file')}`, () =>
        backend.rpc({ method: 'delete_files', params: { orphaned } }),
      ),
    );
    cleanupBox.querySelector<HTMLElement>('.preview-head')?.focus();
  };

  cleanupBtn.addEventListener('click', () => void previewCleanup(false));
  orphanBtn.addEventListener('click', () => void previewCleanup(true));

  // ---- Compact ------------------------------------------------------------------------

  const compactPreviewBtn = h('button', { type: 'button', class: 'btn' }, 'Preview compaction');
  const compactBox = h('div', { class: 'preview', dataset: { testid: 'compaction-preview' }, hidden: true, 'aria-live': 'polite' });
  const compactTable = h('div', { class: 'compact-files' });
  const compactErr = h('div', { class: 'preview-error' });
  const compactJobBox = h('div', { class: 'compact-job', hidden: true });
  const compactJob: Section = { mode: 'idle', seq: 0, job: null, starting: false, box: compactJobBox, trigger: () => compactPreviewBtn };
  let compactSeq = 0;
  /** The preview is open (its table shown, or being read). */
  let compactOpen = false;

  const COMPACTIONS: { what: Compaction; name: string; doing: string; title: string }[] = [
    {
      what: 'merge_adjacent_files',
      name: 'Merge adjacent files',
      doing: 'Merging adjacent files',
      title: 'ducklake_merge_adjacent_files: merges small adjacent data files of each table into larger ones, in one snapshot',
    },
    {
      what: 'rewrite_data_files',
      name: 'Rewrite files with deletes',
      doing: 'Rewriting files with deletes',
      title: 'ducklake_rewrite_data_files: rewrites data files that carry deletes without the deleted rows, in one snapshot',
    },
    {
      what: 'flush_inlined_data',
      name: 'Flush inlined data',
      doing: 'Flushing inlined data',
      title: 'ducklake_flush_inlined_data: writes rows kept inlined in the catalog out to Parquet files, in one snapshot',
    },
  ];

  const compactBtns = COMPACTIONS.map((c) => {
    const btn = h('button', { type: 'button', class: 'btn', title: c.title, dataset: { compaction: c.what } }, c.name);
    btn.addEventListener('click', () => void startCompaction(c, btn));
    return btn;
  });

  /** The compaction buttons are off while any maintenance job runs (or one is starting). */
  const syncCompactButtons = () => {
    const busy = compactJob.starting || store.jobs.some((j) => j.state === 'running');
    for (const b of compactBtns) {
      b.disabled = busy;
      setAttr(b, 'aria-describedby', busy ? 'maint-compact-busy' : null);
    }
    compactBusyNote.hidden = !busy;
  };
  const compactBusyNote = h(
    'p',
    { class: 'muted small compact-busy', id: 'maint-compact-busy', hidden: true },
    'A maintenance job is running: compactions wait for it.',
  );

  const startCompaction = async (c: (typeof COMPACTIONS)[number], btn: HTMLButtonElement) => {
    const seq = ++compactJob.seq;
    compactJob.starting = true;
    syncCompactButtons();
    setAttr(btn, 'aria-busy', 'true');
    const spin = spinner();
    btn.prepend(spin);
    replace(compactErr);
    try {
      const job = await backend.rpc({ method: 'compact', params: { what: c.what } });
      if (seq !== compactJob.seq) {
        store.recordJob(job);
        return;
      }
      compactJobBox.hidden = false;
      startedJob(compactJob, job);
      const inline = compactJobBox.querySelector<HTMLElement>('.job-inline');
      if (inline && document.activeElement === btn) {
        inline.setAttribute('tabindex', '-1');
        inline.focus();
      }
    } catch (e) {
      if (seq !== compactJob.seq) return;
      replace(compactErr, errorBox(e, c.doing, { compact: true }));
    } finally {
      spin.remove();
      setAttr(btn, 'aria-busy', null);
      compactJob.starting = false;
      syncCompactButtons();
    }
  };

  const renderCompactPreview = (list: TableFiles[]) => {
    const tables = list.filter((t) => t.data_files > 0 || t.files_with_deletes > 0);
    const files = tables.reduce((s, t) => s + t.data_files, 0);
    const size = tables.reduce((s, t) => s + t.bytes, 0);
    const deletes = tables.reduce((s, t) => s + t.files_with_deletes, 0);
    compactBox.dataset.count = String(tables.length);
    compactBox.dataset.files = String(files);
    compactBox.dataset.bytes = String(size);
    if (tables.length === 0) {
      replace(
        compactTable,
        h(
          'div',
          { class: 'row gap compact-head' },
          previewHead(
            h('strong', null, 'No data files'),
            h('span', { class: 'muted' }, list.length ? ': the lake’s tables have no data files yet.' : ': the lake has no tables yet.'),
          ),
          h('span', { class: 'spacer' }),
          compactCloseBtn,
        ),
      );
      return;
    }
    replace(
      compactTable,
      h(
        'div',
        { class: 'row gap compact-head' },
        previewHead(
          h('strong', null, `${plural(files, 'data file')} in ${plural(tables.length, 'table')}`),
          h(
            'span',
            { class: 'muted' },
            ` · ${bytes(size)} · ${deletes === 0 ? 'no files with deletes' : `${plural(deletes, 'file')} with deletes`}`,
          ),
        ),
        h('span', { class: 'spacer' }),
        compactCloseBtn,
      ),
      h(
        'div',
        { class: 'table-wrap preview-wrap' },
        h(
          'table',
          { class: 'table compact compact-table', 'aria-label': 'Current data files of each table' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col' }, 'Table'),
              h('th', { scope: 'col', class: 'num' }, 'Data files'),
              h('th', { scope: 'col', class: 'num' }, 'Size'),
              h(
                'th',
                { scope: 'col', class: 'num', title: 'Data files that carry a delete file (rows deleted since they were written)' },
                'With deletes',
              ),
            ),
          ),
          h(
            'tbody',
            null,
            tables.map((t) =>
              h(
                'tr',
                { dataset: { table: t.table, files: String(t.data_files), bytes: String(t.bytes), deletes: String(t.files_with_deletes) } },
                h('td', { class: 'mono compact-name', title: t.table }, t.table),
                h('td', { class: 'num' }, count(t.data_files)),
                h('td', { class: 'num nowrap', title: `${count(t.bytes)} bytes` }, bytes(t.bytes)),
                h('td', { class: 'num' }, t.files_with_deletes === 0 ? h('span', { class: 'muted' }, '0') : count(t.files_with_deletes)),
              ),
            ),
          ),
          h(
            'tfoot',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'row' }, `Total · ${plural(tables.length, 'table')}`),
              h('td', { class: 'num' }, count(files)),
              h('td', { class: 'num nowrap' }, bytes(size)),
              h('td', { class: 'num' }, count(deletes)),
            ),
          ),
        ),
      ),
    );
  };

  /** Reads the tables' files; `quiet` keeps the shown table until the new one arrives. */
  const previewCompaction = async (quiet = false) => {
    const seq = ++compactSeq;
    compactOpen = true;
    compactBox.hidden = false;
    setAttr(compactBox, 'aria-busy', 'true');
    if (!quiet) replace(compactTable, h('p', { class: 'muted preview-loading' }, spinner(), ' Listing each table’s current data files…'));
    try {
      const list = await backend.rpc({ method: 'preview_compaction' });
      if (seq !== compactSeq) return;
      const hadFocus = !quiet;
      renderCompactPreview(list);
      if (hadFocus) compactBox.querySelector<HTMLElement>('.preview-head')?.focus();
    } catch (e) {
      if (seq !== compactSeq) return;
      delete compactBox.dataset.count;
      replace(
        compactTable,
        errorBox(e, 'Previewing the compaction', { compact: true, retry: () => void previewCompaction() }),
        compactCloseBtn,
      );
    } finally {
      if (seq === compactSeq) setAttr(compactBox, 'aria-busy', null);
    }
  };

  const closeCompaction = () => {
    compactSeq++;
    compactOpen = false;
    compactBox.hidden = true;
    delete compactBox.dataset.count;
    replace(compactTable);
    replace(compactErr);
    // A running job stays in the tray; its line here goes with the preview.
    if (compactJob.mode === 'job') clear(compactJob, false);
    compactPreviewBtn.focus();
  };

  const compactCloseBtn = h('button', { type: 'button', class: 'btn btn-small', on: { click: closeCompaction } }, 'Close');
  compactPreviewBtn.addEventListener('click', () => void previewCompaction());
  compactBox.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && compactOpen && compactJob.mode !== 'job') {
      e.preventDefault();
      closeCompaction();
    }
  });
  replace(
    compactBox,
    compactTable,
    h(
      'p',
      { class: 'small muted compact-note' },
      'Each writes one snapshot; no data is lost and time travel keeps working. Rows inlined in the catalog are not listed above.',
    ),
    h('div', { class: 'row gap preview-actions compact-actions' }, ...compactBtns),
    compactBusyNote,
    compactErr,
    compactJobBox,
  );
  syncCompactButtons();

  // Escape cancels an open preview.
  for (const sec of [expire, cleanup]) {
    sec.box.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && sec.mode === 'preview') {
        e.preventDefault();
        clear(sec, true);
      }
    });
  }

  // ---- Jobs ---------------------------------------------------------------------------

  const tray = jobsTray(store);
  d.add(() => tray.destroy());

  const seen = new Map<number, Job['state']>(store.jobs.map((j) => [j.id, j.state]));
  d.add(
    store.on('jobs', () => {
      const finished: Job[] = [];
      let changed = false;
      for (const j of store.jobs) {
        const prev = seen.get(j.id);
        if (prev !== j.state) changed = true;
        // Finished now: seen running, or first seen finished after this page opened.
        if (j.state !== 'running' && (prev === 'running' || (prev === undefined && (j.finished_ms ?? 0) >= createdAt - 2000)))
          finished.push(j);
        seen.set(j.id, j.state);
      }
      renderJobInPlace(expire);
      renderJobInPlace(cleanup);
      renderJobInPlace(compactJob);
      syncCompactButtons();
      if (changed) reloadStatsSoon();
      for (const job of finished) {
        // What the job changed makes an open preview stale.
        const why = `${jobTitle(job)} ${job.state === 'done' ? 'finished' : 'failed'} since this preview: preview again to see what would go now.`;
        if (job.kind.kind === 'expire_snapshots' && expire.job !== job.id) invalidate(expire, why);
        if (cleanup.job !== job.id) invalidate(cleanup, why);
        // A compaction changed the tables' files: the open preview shows them now.
        if (job.kind.kind === 'compact' && compactOpen) void previewCompaction(true);
        try {
          hooks.jobFinished(job);
        } catch (e) {
          console.error('jobFinished failed', e);
        }
      }
    }),
  );
  d.add(store.on('lake', reloadStatsSoon));
  d.interval(() => {
    if (!store.jobs.some((j) => j.state === 'running')) return;
    tray.tick();
    renderJobInPlace(expire);
    renderJobInPlace(cleanup);
    renderJobInPlace(compactJob);
  }, 1000);

  // ---- Layout -------------------------------------------------------------------------

  const el = h(
    'section',
    { class: 'panel maintenance', dataset: { testid: 'maintenance' }, 'aria-labelledby': 'maint-title' },
    h('div', { class: 'maint-top' }, h('h2', { class: 'maint-title', id: 'maint-title' }, 'Maintenance'), stats),
    h(
      'div',
      { class: 'maint-grid' },
      h(
        'div',
        { class: 'maint-section', 'aria-labelledby': 'maint-expire-title', role: 'group' },
        h('h3', { class: 'maint-heading', id: 'maint-expire-title' }, 'Expire snapshots'),
        h(
          'p',
          { class: 'hint maint-hint' },
          'Removes old snapshots (never the latest). Time travel to them stops working; data files only they use become scheduled for deletion (inlined data leaves none).',
        ),
        expireForm,
        expireBox,
      ),
      h(
        'div',
        { class: 'maint-section', 'aria-labelledby': 'maint-cleanup-title', role: 'group' },
        h('h3', { class: 'maint-heading', id: 'maint-cleanup-title' }, 'Clean up files'),
        h(
          'p',
          { class: 'hint maint-hint' },
          'Deletes the files expired snapshots left scheduled for deletion, or files under the data path no snapshot references.',
        ),
        h('div', { class: 'maint-form' }, cleanupBtn, orphanBtn),
        cleanupBox,
      ),
      h(
        'div',
        { class: 'maint-section', 'aria-labelledby': 'maint-compact-title', role: 'group' },
        h('h3', { class: 'maint-heading', id: 'maint-compact-title' }, 'Compact'),
        h(
          'p',
          { class: 'hint maint-hint' },
          'Merges small files, rewrites files with deletes, or writes inlined rows to Parquet. Loses no data; each writes one snapshot.',
        ),
        h('div', { class: 'maint-form' }, compactPreviewBtn),
        compactBox,
      ),
    ),
    h(
      'div',
      { class: 'maint-jobs', 'aria-labelledby': 'maint-jobs-title', role: 'group' },
      h('h3', { class: 'maint-heading', id: 'maint-jobs-title' }, 'Jobs'),
      tray.el,
    ),
  );

  void loadStats();
  if (!store.jobs.length) void store.loadJobs();

  return {
    el,
    previewVersions(ids) {
      if (!ids.length) return;
      const describe = ids.length === 1 ? `snapshot ${ids[0]}, selected in the history` : `snapshots ${ids.join(', ')}`;
      const why =
        ids.length === 1
          ? `snapshot ${ids[0]} is the latest (always kept) or no longer exists.`
          : 'these are the latest snapshot (always kept) or no longer exist.';
      void previewExpire({ versions: ids }, describe, why).then(() => {
        expireBox.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      });
      el.scrollIntoView({ block: 'start', behavior: 'smooth' });
    },
    destroy: () => d.dispose(),
  };
}

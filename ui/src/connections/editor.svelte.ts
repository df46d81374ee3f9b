// The profile being edited on the Connections page, kept while the window is open (leaving
// the page keeps unsaved edits; opening a profile rebuilds the other pages, not this one).
// The draft is the form's model — its inputs bind to it — and everything else changes
// through the actions here. Passwords typed are kept apart from the draft, by connection,
// and never written to the profile: they go to the OS keyring with Test or Save.

import type { Backend } from '../lib/backend';
import type { ConnDraft, NodeDraft, NodePassword, ProfileDraft, StorageDraft } from '../lib/bindings';

/** No object-store settings. */
export function blankStorage(): StorageDraft {
  return { endpoint: '', region: '', url_style: '', use_ssl: null, key_id: '', aws_profile: '', credentials_file: '', health_url: '' };
}

/** A connection with nothing filled in. */
export function blankConn(): ConnDraft {
  return { host: '', port: '', user: '', dbname: '', sslmode: '', sslrootcert: '', sslcert: '', sslkey: '', params: [] };
}

export function blankNode(name: string): NodeDraft {
  return { name, conn: blankConn(), region: '', weight: 1, application_name: '', ssh: { ssh: '', jump: '', config: '', port: null } };
}

/** A new profile: a primary, no replicas, an empty lake, the default thresholds. */
export function blankDraft(): ProfileDraft {
  return {
    name: '',
    passfile: '',
    primary: blankNode('primary'),
    replicas: [],
    lake: { name: '', catalog: blankConn(), data_path: '', ssh: { ssh: '', jump: '', config: '', port: null }, storage: blankStorage() },
    thresholds: { lag_warning_ms: 5000, lag_critical_ms: 30000, slot_wal_warning_bytes: 1073741824 },
  };
}

/** A replica added to `draft`: the primary's user, database and TLS settings, no host or port. */
export function newReplica(draft: ProfileDraft): NodeDraft {
  const r = blankNode(`replica${draft.replicas.length + 1}`);
  r.conn = { ...draft.primary.conn, host: '', port: '', params: [...draft.primary.conn.params] };
  return r;
}

export interface Editing {
  /** The file it was read from or is saved to ('' for a new profile). */
  path: string;
  draft: ProfileDraft;
  /** A stable key per replica (`draft.replicas[i]` ↔ `ids[i]`), for passwords and the form's rows. */
  ids: string[];
  /** Passwords typed, by connection key (`primary`, a replica's id, `lake`). */
  passwords: Record<string, string>;
  /** The last save's confirmation, shown again when the page is opened again. */
  saved: { path: string; opened: boolean } | null;
}

export class ProfileEditor {
  editing = $state<Editing | null>(null);
  #seq = 0;

  /** Starts editing `draft` (read from `path`, or new with ''). */
  start(path: string, draft: ProfileDraft): void {
    this.editing = { path, draft, ids: draft.replicas.map(() => this.#id()), passwords: {}, saved: null };
  }

  startBlank(): void {
    this.start('', blankDraft());
  }

  /** Reads a profile file (`path`, or the open profile's with null) into the form. */
  async load(backend: Backend, path: string | null): Promise<void> {
    const e = await backend.rpc({ method: 'profile_for_edit', params: { path } });
    this.start(e.path, e.profile);
  }

  addReplica(): void {
    const e = this.editing;
    if (!e) return;
    e.draft.replicas.push(newReplica(e.draft));
    e.ids.push(this.#id());
  }

  removeReplica(i: number): void {
    const e = this.editing;
    if (!e) return;
    const [id] = e.ids.splice(i, 1);
    e.draft.replicas.splice(i, 1);
    if (id) delete e.passwords[id];
  }

  setPath(path: string): void {
    if (this.editing) this.editing.path = path;
  }

  setPassword(key: string, password: string): void {
    const e = this.editing;
    if (!e) return;
    if (password) e.passwords[key] = password;
    else delete e.passwords[key];
  }

  /** Fills a connection from a parsed connection string. */
  fill(conn: ConnDraft, parsed: ConnDraft): void {
    Object.assign(conn, parsed);
  }

  /**
   * The passwords typed, by node name (`lake` for the catalog, `lake.storage` for the object
   * store's secret key), as the backend takes them.
   */
  passwords(): NodePassword[] {
    const e = this.editing;
    if (!e) return [];
    const out: NodePassword[] = [];
    const add = (key: string, node: string) => {
      const p = e.passwords[key];
      if (p) out.push({ node, password: p });
    };
    add('primary', e.draft.primary.name.trim());
    e.draft.replicas.forEach((r, i) => {
      add(e.ids[i]!, r.name.trim());
    });
    add('lake', 'lake');
    // The object store's secret key, only while the data path is an object-store URL.
    if (e.draft.lake.data_path.includes('://')) add('lake.storage', 'lake.storage');
    return out;
  }

  /** The draft as plain data (what the backend gets). */
  snapshot(): ProfileDraft {
    return $state.snapshot(this.editing!.draft) as ProfileDraft;
  }

  /** A save landed: the draft is that file's now, the passwords went to the keyring. */
  saved(path: string, opened: boolean): void {
    const e = this.editing;
    if (!e) return;
    e.path = path;
    e.passwords = {};
    e.saved = { path, opened };
  }

  #id(): string {
    return `r${++this.#seq}`;
  }
}

export const editor = new ProfileEditor();

import { describe, expect, it } from 'vitest';
import { ProfileEditor } from './editor.svelte';

describe('the profile editor', () => {
  it('adds a replica from the primary’s user, database and TLS, without its host or port', () => {
    const ed = new ProfileEditor();
    ed.startBlank();
    const d = ed.editing!.draft;
    Object.assign(d.primary.conn, {
      host: 'db1',
      port: '5432',
      user: 'skein',
      dbname: 'app',
      sslmode: 'verify-full',
      params: [{ key: 'connect_timeout', value: '5' }],
    });
    ed.addReplica();
    expect(d.replicas[0]).toMatchObject({
      name: 'replica1',
      conn: { host: '', port: '', user: 'skein', dbname: 'app', sslmode: 'verify-full' },
    });
    expect(d.replicas[0]!.conn.params).toEqual([{ key: 'connect_timeout', value: '5' }]);
    ed.addReplica();
    expect(d.replicas[1]!.name).toBe('replica2');
  });

  it('keeps passwords by connection, out of the draft, and drops a removed replica’s', () => {
    const ed = new ProfileEditor();
    ed.startBlank();
    ed.addReplica();
    ed.addReplica();
    const [first, second] = ed.editing!.ids;
    ed.setPassword('primary', 'p0');
    ed.setPassword(first!, 'p1');
    ed.setPassword(second!, 'p2');
    ed.setPassword('lake', 'pl');
    ed.editing!.draft.primary.name = ' primary ';
    expect(ed.passwords()).toEqual([
      { node: 'primary', password: 'p0' },
      { node: 'replica1', password: 'p1' },
      { node: 'replica2', password: 'p2' },
      { node: 'lake', password: 'pl' },
    ]);
    ed.removeReplica(0);
    expect(ed.passwords().map((p) => p.node)).toEqual(['primary', 'replica2', 'lake']);
    // The object store's secret key goes with the passwords while the data path is a URL.
    ed.setPassword('lake.storage', 'sk');
    expect(ed.passwords().map((p) => p.node)).toEqual(['primary', 'replica2', 'lake']);
    ed.editing!.draft.lake.data_path = 's3://lake/data/';
    expect(ed.passwords().at(-1)).toEqual({ node: 'lake.storage', password: 'sk' });
    expect(JSON.stringify(ed.snapshot())).not.toContain('"sk"');
    ed.setPassword('lake.storage', '');
    expect(JSON.stringify(ed.snapshot())).not.toContain('p2');
    ed.setPassword('lake', '');
    ed.saved('/tmp/p.toml', false);
    expect(ed.passwords()).toEqual([]);
    expect(ed.editing).toMatchObject({ path: '/tmp/p.toml', saved: { path: '/tmp/p.toml', opened: false } });
  });
});

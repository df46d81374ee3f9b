// What the connection editor offers for a libpq connection's TLS: the six `sslmode` values,
// weakest first, with what each does.

import type { ConnDraft } from '../lib/bindings';

export const SSLMODES: readonly { value: string; title: string }[] = [
  { value: 'disable', title: 'never encrypt' },
  { value: 'allow', title: 'plain first, TLS if the server insists' },
  { value: 'prefer', title: 'TLS if the server offers it (libpq’s default)' },
  { value: 'require', title: 'always TLS, certificate not checked' },
  { value: 'verify-ca', title: 'TLS, certificate signed by sslrootcert' },
  { value: 'verify-full', title: 'TLS, certificate signed by sslrootcert and naming the host' },
];

/** Whether any TLS key is set (the TLS section then starts open). */
export function tlsSet(conn: ConnDraft): boolean {
  return conn.sslmode !== '' || conn.sslrootcert !== '' || conn.sslcert !== '' || conn.sslkey !== '';
}

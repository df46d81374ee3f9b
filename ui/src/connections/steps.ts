// A diagnosis's words: each step's title (dns, tcp, tls, auth, privileges, replication;
// catalog and data path for the lake), how each status looks, and the worst status.

import type { Diagnosis, StepStatus } from '../lib/bindings';

export const STEP_TITLES: Record<string, string> = {
  dns: 'DNS',
  tcp: 'TCP',
  tls: 'TLS',
  auth: 'Login',
  privileges: 'Privileges',
  replication: 'Replication',
  catalog: 'Catalog',
  data_path: 'Data path',
};

export const LOOK: Record<StepStatus, { icon: string; tone: string; word: string }> = {
  ok: { icon: '✓', tone: 'ok', word: 'ok' },
  warn: { icon: '▲', tone: 'warn', word: 'warning' },
  fail: { icon: '✕', tone: 'crit', word: 'failed' },
  skipped: { icon: '○', tone: 'muted', word: 'skipped' },
};

/** The worst status of a diagnosis (a skipped step alone is not worse than ok). */
export function overall(d: Diagnosis): StepStatus {
  if (d.steps.some((s) => s.status === 'fail')) return 'fail';
  if (d.steps.some((s) => s.status === 'warn')) return 'warn';
  return 'ok';
}

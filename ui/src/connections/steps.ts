// A diagnosis as the connection editor shows it: one row per step (dns, tcp, tls, auth,
// privileges, replication; for the lake catalog and data path) with its status, what was
// found and, for a warning or a failure, the fix. The same steps `skein doctor` prints.

import type { Diagnosis, StepStatus } from '../lib/bindings';
import { h } from '../lib/dom';
import { duration } from '../lib/format';

const STEP_TITLES: Record<string, string> = {
  dns: 'DNS',
  tcp: 'TCP',
  tls: 'TLS',
  auth: 'Login',
  privileges: 'Privileges',
  replication: 'Replication',
  catalog: 'Catalog',
  data_path: 'Data path',
};

const LOOK: Record<StepStatus, { icon: string; tone: string; word: string }> = {
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

/** The steps of one diagnosis as a list, with a one-line summary above it. */
export function diagnosisView(d: Diagnosis): HTMLElement {
  const all = overall(d);
  const failed = d.steps.find((s) => s.status === 'fail');
  const summary =
    all === 'ok'
      ? `All checks passed (${duration(d.took_ms)})`
      : all === 'warn'
        ? `Works, with ${d.steps.filter((s) => s.status === 'warn').length} warning(s)`
        : `Failed at ${STEP_TITLES[failed!.step] ?? failed!.step}`;
  return h(
    'div',
    { class: 'diagnosis', dataset: { diagnosis: d.target, status: all }, 'aria-live': 'polite' },
    h(
      'p',
      { class: `diagnosis-summary tone-${LOOK[all].tone}-text` },
      `${LOOK[all].icon} ${summary}`,
      h('span', { class: 'muted mono small' }, ` · ${d.address}`),
    ),
    h(
      'ol',
      { class: 'step-list' },
      d.steps.map((s) => {
        const look = LOOK[s.status];
        return h(
          'li',
          { class: `step step-${look.tone}`, dataset: { step: s.step, status: s.status } },
          h('span', { class: `step-icon tone-${look.tone}-text`, 'aria-hidden': 'true' }, look.icon),
          h('span', { class: 'step-name' }, STEP_TITLES[s.step] ?? s.step),
          h('span', { class: 'visually-hidden' }, ` ${look.word}: `),
          h(
            'div',
            { class: 'step-body' },
            h('span', { class: 'step-detail' }, s.detail),
            s.fix ? h('p', { class: 'step-fix' }, h('strong', null, 'Fix: '), s.fix) : null,
          ),
        );
      }),
    ),
  );
}

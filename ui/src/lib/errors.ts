// Errors where the action was: the code, the message, and a "Copy details" button. The
// rest of the page keeps working.

import { RpcError } from './backend';
import { copyText, flash, h } from './dom';
import { utc } from './format';

/** What "Copy details" copies: the action, the code, the message and when (UTC), as JSON. */
export function errorDetails(e: RpcError, action: string, at = Date.now()): string {
  return JSON.stringify({ action, code: e.code, message: e.message, at: utc(at) }, null, 2);
}

/**
 * An inline error block for a failed action (`action` says what was attempted), for the
 * pages still built by hand; `components/ErrorBox.svelte` draws the same block.
 */
export function errorBox(err: unknown, action: string, opts: { compact?: boolean; retry?: () => void } = {}): HTMLElement {
  const e = RpcError.from(err);
  const details = errorDetails(e, action);
  const copy = h('button', { type: 'button', class: 'btn btn-small' }, 'Copy details');
  copy.addEventListener('click', () => {
    void copyText(details).then(() => flash(copy, 'Copied'));
  });
  const retry = opts.retry ? h('button', { type: 'button', class: 'btn btn-small', on: { click: () => opts.retry?.() } }, 'Retry') : null;
  return h(
    'div',
    {
      class: `error-box${opts.compact ? ' compact' : ''}`,
      role: 'alert',
      dataset: { errorCode: e.code },
    },
    h('span', { class: 'error-icon', 'aria-hidden': 'true' }, '✕'),
    h(
      'div',
      { class: 'error-text' },
      h('span', { class: 'error-action' }, `${action} failed`),
      ' ',
      h('code', { class: 'error-code' }, e.code),
      ' ',
      h('span', { class: 'error-message' }, e.message),
    ),
    h('div', { class: 'error-actions' }, retry, copy),
  );
}

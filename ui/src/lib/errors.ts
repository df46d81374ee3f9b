// What "Copy details" of an error box (components/ErrorBox.svelte) copies.

import type { RpcError } from './backend';
import { utc } from './format';

/** The action, the code, the message and when (UTC), as JSON. */
export function errorDetails(e: RpcError, action: string, at = Date.now()): string {
  return JSON.stringify({ action, code: e.code, message: e.message, at: utc(at) }, null, 2);
}

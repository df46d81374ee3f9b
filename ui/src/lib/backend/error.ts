// Errors as they cross the boundary, and the check that a response answers its request.

import { ERROR_CODES, type ErrorCode, type ErrorInfo } from '../bindings';
import type { Method, ResultOf } from './index';

// Every code, generated from the Rust enum like the `ErrorCode` type (a test of the
// generator checks that the two name the same codes; an unlisted code would turn a real
// error into `Internal`).
const CODES: readonly ErrorCode[] = ERROR_CODES;

/** An error as it crossed the boundary: a stable `code` and one line for a person. */
export class RpcError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
  }

  /** `{ code, message }`, as Skein sends it. */
  info(): ErrorInfo {
    return { code: this.code, message: this.message };
  }

  /** Whatever was thrown, as an `RpcError` (unknown shapes become `Internal`). */
  static from(e: unknown): RpcError {
    if (e instanceof RpcError) return e;
    if (isErrorInfo(e)) return new RpcError(e.code, e.message);
    if (typeof e === 'string') {
      try {
        const parsed: unknown = JSON.parse(e);
        if (isErrorInfo(parsed)) return new RpcError(parsed.code, parsed.message);
      } catch {
        /* not JSON: a plain message */
      }
      return new RpcError('Internal', e);
    }
    if (e instanceof Error) return new RpcError('Internal', e.message);
    return new RpcError('Internal', String(e));
  }
}

/** Whether `v` has the `{ code, message }` shape with a known code. */
export function isErrorInfo(v: unknown): v is ErrorInfo {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.code === 'string' && typeof o.message === 'string' && (CODES as readonly string[]).includes(o.code);
}

/** The result of a `Response`, checking that it answers the method asked. */
export function resultOf<M extends Method>(method: M, res: unknown): ResultOf<M> {
  if (typeof res !== 'object' || res === null || (res as { method?: unknown }).method !== method) {
    throw new RpcError('Internal', `the backend answered ${method} with an unexpected shape: ${JSON.stringify(res).slice(0, 200)}`);
  }
  return ((res as { result?: unknown }).result ?? null) as ResultOf<M>;
}

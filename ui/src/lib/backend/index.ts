// The one door between the UI and Skein: `rpc` sends a `Request` and resolves with the
// matching `Response`'s result (or throws an `RpcError`), `subscribe` delivers every
// `Event`. Two implementations: the Tauri shell (`tauri.ts`) and web mode (`http.ts`).
// Nothing outside this folder knows which one it runs on.

import type { Event, Request, Response } from '../bindings';
import { HttpBackend } from './http';
import { TauriBackend } from './tauri';

export { RpcError, isErrorInfo } from './error';

/** A request method name (`"overview"`, `"refresh_cache"`, …). */
export type Method = Request['method'];
/** The request of one method. */
export type RequestOf<M extends Method> = Extract<Request, { method: M }>;
/**
 * The response method a request is answered with: most answer under their own name, but
 * `create_cache`, `update_cache` and `set_cache_paused` answer `cache_definition`, and
 * `delete_cache` answers `done` (no result).
 */
export type AnswerOf<M extends Method> = M extends 'create_cache' | 'update_cache' | 'set_cache_paused'
  ? 'cache_definition'
  : M extends 'delete_cache'
    ? 'done'
    : M;
/** The result a method answers with (`null` for one answered `done`). */
export type ResultOf<M extends Method> =
  Extract<Response, { method: AnswerOf<M> }> extends { result: infer R } ? R : null;

export interface Backend {
  /** Sends one request; resolves with its result, rejects with an `RpcError`. */
  rpc<M extends Method>(req: RequestOf<M>): Promise<ResultOf<M>>;
  /** Calls `cb` with every event from now on; returns the function that stops it. */
  subscribe(cb: (e: Event) => void): () => void;
}

/** Whether the page runs inside the Tauri shell. */
function inTauri(): boolean {
  return '__TAURI_INTERNALS__' in window;
}

/** The backend for where this page runs. */
export function createBackend(): Backend {
  return inTauri() ? new TauriBackend() : new HttpBackend();
}

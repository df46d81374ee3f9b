// The one door between the UI and Skein: `rpc` sends a `Request` and resolves with the
// matching `Response`'s result (or throws an `RpcError`), `subscribe` delivers every
// `Event`. Two implementations: the Tauri shell (`tauri.ts`) and web mode (`http.ts`).
// Nothing outside this folder knows which one it runs on.

import type { Event, Request, Response } from '../bindings';
import { HttpBackend } from './http';
import { TauriBackend } from './tauri';

export { isErrorInfo, RpcError } from './error';

/** A request method name (`"overview"`, `"refresh_cache"`, …). */
export type Method = Request['method'];
/** The request of one method. */
export type RequestOf<M extends Method> = Extract<Request, { method: M }>;
/** The result a method answers with (`null` for one answered without a result). */
export type ResultOf<M extends Method> = Extract<Response, { method: M }> extends { result: infer R } ? R : null;

export interface Backend {
  /** Sends one request; resolves with its result, rejects with an `RpcError`. */
  rpc<M extends Method>(req: RequestOf<M>): Promise<ResultOf<M>>;
  /** Calls `cb` with every event from now on; returns the function that stops it. */
  subscribe(cb: (e: Event) => void): () => void;
  /** The shell shows fired alerts as desktop notifications itself (the page must not). */
  readonly notifiesNatively: boolean;
}

/** Whether the page runs inside the Tauri shell. */
function inTauri(): boolean {
  return '__TAURI_INTERNALS__' in window;
}

/** The backend for where this page runs. */
export function createBackend(): Backend {
  return inTauri() ? new TauriBackend() : new HttpBackend();
}

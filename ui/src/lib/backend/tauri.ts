// Desktop mode: the shell exposes one command, `rpc`, taking `{ request }` and answering
// with the `Response` (rejecting with `{ code, message }`), and emits every `Event` as a
// Tauri event named `skein://event`.

import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { Event } from '../bindings';
import { RpcError, resultOf } from './error';
import type { Backend, Method, RequestOf, ResultOf } from './index';

const EVENT_NAME = 'skein://event';

export class TauriBackend implements Backend {
  readonly notifiesNatively = true;

  async rpc<M extends Method>(req: RequestOf<M>): Promise<ResultOf<M>> {
    let res: unknown;
    try {
      res = await invoke('rpc', { request: req });
    } catch (e) {
      throw RpcError.from(e);
    }
    return resultOf(req.method, res);
  }

  subscribe(cb: (e: Event) => void): () => void {
    let unlisten: UnlistenFn | null = null;
    let stopped = false;
    listen<Event>(EVENT_NAME, (msg) => cb(msg.payload))
      .then((fn) => {
        if (stopped) fn();
        else unlisten = fn;
      })
      .catch((e: unknown) => console.error('listening for Skein events failed', e));
    return () => {
      stopped = true;
      if (unlisten) unlisten();
    };
  }
}

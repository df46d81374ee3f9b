// Web mode (`skein serve`): requests go to `POST api/rpc`, events come over Server-Sent
// Events from `GET api/events`. The server prints `http://127.0.0.1:PORT/?token=TOKEN`;
// the token is kept in sessionStorage (and taken out of the address bar, so a bookmark
// or a screenshot does not carry it), sent as a Bearer header on rpc, and appended to the
// EventSource URL (EventSource cannot set headers).

import type { Event } from '../bindings';
import { isErrorInfo, RpcError, resultOf } from './error';
import type { Backend, Method, RequestOf, ResultOf } from './index';

const TOKEN_KEY = 'skein.token';

/** The token from `?token=` (remembered for this tab), or the one remembered earlier. */
function takeToken(): string | null {
  const url = new URL(window.location.href);
  const fromQuery = url.searchParams.get('token');
  if (fromQuery) {
    try {
      sessionStorage.setItem(TOKEN_KEY, fromQuery);
    } catch {
      /* storage disabled: the cookie set on first load still authenticates */
    }
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
    return fromQuery;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export class HttpBackend implements Backend {
  readonly notifiesNatively = false;
  private readonly token: string | null;
  private readonly listeners = new Set<(e: Event) => void>();
  private source: EventSource | null = null;

  constructor() {
    this.token = takeToken();
  }

  private url(path: string, withToken: boolean): string {
    const u = new URL(path, document.baseURI);
    if (withToken && this.token) u.searchParams.set('token', this.token);
    return u.toString();
  }

  async rpc<M extends Method>(req: RequestOf<M>): Promise<ResultOf<M>> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let res: globalThis.Response;
    try {
      res = await fetch(this.url('api/rpc', false), {
        method: 'POST',
        headers,
        body: JSON.stringify(req),
        credentials: 'same-origin',
      });
    } catch (e) {
      throw new RpcError(
        'ConnectionRefused',
        `the Skein server did not answer (${e instanceof Error ? e.message : String(e)}); is \`skein serve\` still running?`,
      );
    }
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!res.ok) {
      if (isErrorInfo(body)) throw new RpcError(body.code, body.message);
      if (res.status === 401 || res.status === 403) {
        throw new RpcError('AuthFailed', 'the server refused this page: open the URL `skein serve` printed (with its ?token=)');
      }
      throw new RpcError('Internal', `HTTP ${res.status} ${res.statusText}: ${text.slice(0, 300)}`);
    }
    return resultOf(req.method, body);
  }

  subscribe(cb: (e: Event) => void): () => void {
    this.listeners.add(cb);
    if (!this.source) this.open();
    return () => {
      this.listeners.delete(cb);
      if (this.listeners.size === 0 && this.source) {
        this.source.close();
        this.source = null;
      }
    };
  }

  private open(): void {
    // EventSource reconnects by itself after a dropped connection.
    const source = new EventSource(this.url('api/events', true), { withCredentials: true });
    source.onmessage = (m: MessageEvent<string>) => {
      let e: Event;
      try {
        e = JSON.parse(m.data) as Event;
      } catch {
        return;
      }
      for (const l of [...this.listeners]) {
        try {
          l(e);
        } catch (err) {
          console.error('event listener failed', err);
        }
      }
    };
    this.source = source;
  }
}

// Connection keeps the page's live feeds flowing whatever the network allows:
// subscriptions over the WebSocket first; when it cannot connect for a few
// seconds, Server-Sent Events; when those fail too, polling. While a link is
// down and trying again, the feeds are polled so the page never goes stale.
// The state it reports drives the indicator in the header.

import { newHTTPClient, newSSEClient, newWSClient, type Client, type TokenSource, type WSHandle } from './api';

/** LinkState is what the connection indicator shows. */
export type LinkState = 'connecting' | 'ws' | 'sse' | 'polling' | 'reconnecting';

/** Report passes a subscription's connection state to the Connection. */
export type Report = (state: { state: 'idle' | 'connecting' | 'pending'; error: unknown }) => void;

/** Feed is one live view: how to subscribe to it, and how to fetch it once. */
export interface Feed {
  /** subscribe starts the subscription on client and returns its stop function. */
  subscribe(client: Client, report: Report): () => void;
  /** poll fetches the current state once (used while no subscription is live). */
  poll(): Promise<void>;
}

/** ConnectionOptions tunes the fallbacks; the defaults suit people. */
export interface ConnectionOptions {
  /** fallbackAfterMs is how long a link may stay down before the next one is tried. Defaults to 4 s. */
  fallbackAfterMs?: number;
  /** pollMs is the polling interval while no subscription is live. Defaults to 2 s. */
  pollMs?: number;
  /** retryWebSocketMs is how often a polling page tries the WebSocket again. Defaults to 30 s. */
  retryWebSocketMs?: number;
}

type Mode = 'ws' | 'sse' | 'polling';

interface Watched {
  feed: Feed;
  stop: (() => void) | null;
}

/** Connection owns the current client and the live feeds of the page. */
export class Connection {
  /** client is the current client; use it for queries and mutations too. */
  client: Client;
  state: LinkState = 'connecting';

  private readonly token: TokenSource;
  private readonly opts: Required<ConnectionOptions>;
  private readonly http: Client;
  private mode: Mode = 'ws';
  private ws: WSHandle | null = null;
  private wsStateSub: { unsubscribe(): void } | null = null;
  private wsOpened = false;
  private probing = false;
  private feeds = new Set<Watched>();
  private listeners = new Set<(s: LinkState) => void>();
  private fallbackTimer: number | undefined;
  private pollTimer: number | undefined;
  private retryTimer: number | undefined;
  private generation = 0;

  constructor(token: TokenSource, opts: ConnectionOptions = {}) {
    this.token = token;
    this.opts = {
      fallbackAfterMs: opts.fallbackAfterMs ?? 4000,
      pollMs: opts.pollMs ?? 2000,
      retryWebSocketMs: opts.retryWebSocketMs ?? 30_000,
    };
    this.http = newHTTPClient(token);
    this.client = this.http;
  }

  /** start connects the WebSocket. */
  start(): void {
    this.useWS(false);
  }

  /** stop closes every link and forgets the feeds. */
  stop(): void {
    this.generation++;
    for (const w of this.feeds) w.stop?.();
    this.feeds.clear();
    this.closeWS();
    window.clearTimeout(this.fallbackTimer);
    window.clearInterval(this.pollTimer);
    window.clearTimeout(this.retryTimer);
    this.fallbackTimer = this.pollTimer = this.retryTimer = undefined;
  }

  /** watch keeps feed live until the returned function is called. */
  watch(feed: Feed): () => void {
    const w: Watched = { feed, stop: null };
    this.feeds.add(w);
    this.subscribeOne(w);
    if (this.mode === 'sse') this.down('connecting');
    return () => {
      w.stop?.();
      this.feeds.delete(w);
    };
  }

  /** onState calls fn with every state change (and the current one at once). */
  onState(fn: (s: LinkState) => void): () => void {
    this.listeners.add(fn);
    fn(this.state);
    return () => this.listeners.delete(fn);
  }

  private setState(s: LinkState): void {
    if (this.state === s) return;
    this.state = s;
    for (const fn of this.listeners) fn(s);
  }

  private subscribeOne(w: Watched): void {
    w.stop?.();
    w.stop = null;
    if (this.mode === 'polling') return;
    const gen = this.generation;
    const report: Report = (st) => {
      if (gen !== this.generation || this.mode !== 'sse') return;
      if (st.state === 'pending') this.live('sse');
      else if (st.state === 'connecting' && st.error) this.down('reconnecting');
    };
    w.stop = w.feed.subscribe(this.client, report);
  }

  private resubscribeAll(): void {
    for (const w of this.feeds) this.subscribeOne(w);
  }

  private live(s: LinkState): void {
    window.clearTimeout(this.fallbackTimer);
    this.fallbackTimer = undefined;
    window.clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.probing = false;
    this.setState(s);
  }

  private down(s: LinkState): void {
    this.setState(this.probing ? 'polling' : s);
    if (this.fallbackTimer === undefined) {
      this.fallbackTimer = window.setTimeout(() => {
        this.fallbackTimer = undefined;
        this.fallBack();
      }, this.opts.fallbackAfterMs);
    }
    this.startPolling();
  }

  private fallBack(): void {
    if (this.mode === 'ws') this.useSSE();
    else this.usePolling();
  }

  private startPolling(): void {
    if (this.pollTimer !== undefined) return;
    const tick = () => {
      for (const w of this.feeds) w.feed.poll().catch(() => undefined);
    };
    this.pollTimer = window.setInterval(tick, this.opts.pollMs);
  }

  private closeWS(): void {
    this.wsStateSub?.unsubscribe();
    this.wsStateSub = null;
    const ws = this.ws;
    this.ws = null;
    ws?.ws.close().catch(() => undefined);
  }

  private useWS(probing: boolean): void {
    this.generation++;
    this.closeWS();
    this.mode = 'ws';
    this.probing = probing;
    this.wsOpened = false;
    const gen = this.generation;
    const handle = newWSClient(this.token, (attempt) => (attempt === 0 ? 0 : Math.min(1000 * 2 ** (attempt - 1), 8000)));
    this.ws = handle;
    this.client = handle.client;
    this.wsStateSub = handle.ws.connectionState.subscribe({
      next: (st) => {
        if (gen !== this.generation) return;
        if (st.state === 'pending') {
          this.wsOpened = true;
          this.live('ws');
        } else if (st.state === 'connecting') {
          this.down(this.wsOpened ? 'reconnecting' : 'connecting');
        }
      },
    });
    this.resubscribeAll();
  }

  private useSSE(): void {
    this.generation++;
    this.closeWS();
    this.mode = 'sse';
    this.client = newSSEClient(this.token);
    this.resubscribeAll();
    this.down(this.probing ? 'polling' : 'connecting');
  }

  private usePolling(): void {
    this.generation++;
    this.mode = 'polling';
    this.probing = false;
    this.client = this.http;
    this.resubscribeAll();
    window.clearTimeout(this.fallbackTimer);
    this.fallbackTimer = undefined;
    this.setState('polling');
    this.startPolling();
    for (const w of this.feeds) w.feed.poll().catch(() => undefined);
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => {
      if (this.mode === 'polling') this.useWS(true);
    }, this.opts.retryWebSocketMs);
  }
}

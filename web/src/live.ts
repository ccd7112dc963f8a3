// Connection keeps the page's live feeds flowing whatever the network allows:
// subscriptions over the WebSocket first; when it cannot connect for a few
// seconds, Server-Sent Events; when those fail too, polling. While a link is
// down and trying again, the feeds are polled so the page never goes stale.
// On SSE it probes the WebSocket in the background (with backoff) and moves
// the feeds back to it once it answers: the WebSocket subscriptions start
// before the SSE ones stop, and tracked feeds resume from their lastEventId,
// so no event is lost in the move. The state it reports drives the indicator
// in the header.

import { newHTTPClient, newSSEClient, newWSClient, probeWebSocket, type Client, type TokenSource, type WSHandle } from './api';

/** LinkState is what the connection indicator shows. */
export type LinkState = 'connecting' | 'ws' | 'sse' | 'polling' | 'reconnecting';

/** Report passes a subscription's connection state to the Connection. */
export type Report = (state: { state: 'idle' | 'connecting' | 'pending'; error: unknown }) => void;

/** Feed is one live view: how to subscribe to it, and how to fetch it once. */
export interface Feed {
  /**
   * subscribe starts the subscription on client and returns its stop function.
   * It may be called again on another client while the first still runs; a
   * tracked feed passes the id of the last event it received (resumeInput).
   */
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
  /**
   * probeMinMs and probeMaxMs bound the backoff of the WebSocket probes while
   * on SSE: the first after probeMinMs, each next one twice as late, at most
   * probeMaxMs apart. Default to 1 s and 30 s.
   */
  probeMinMs?: number;
  probeMaxMs?: number;
  /** probeTimeoutMs is how long a probe, or the move back to the WebSocket, may take. Defaults to 5 s. */
  probeTimeoutMs?: number;
}

type Mode = 'ws' | 'sse' | 'polling';

interface Watched {
  feed: Feed;
  stop: (() => void) | null;
}

/** Switch is a move from SSE back to a WebSocket that answered a probe, until its socket opens. */
interface Switch {
  handle: WSHandle;
  /** subs are the feeds' subscriptions on the new socket, running beside the SSE ones. */
  subs: Map<Watched, () => void>;
  stateSub: { unsubscribe(): void };
  timer: number;
}

/** wsRetryDelay is the WebSocket's reconnect backoff: at once, then 1 s doubling to 8 s. */
const wsRetryDelay = (attempt: number) => (attempt === 0 ? 0 : Math.min(1000 * 2 ** (attempt - 1), 8000));

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
  private probeTimer: number | undefined;
  private probeAttempt = 0;
  private wsLiveSince = -Infinity;
  private switching: Switch | null = null;
  private generation = 0;

  constructor(token: TokenSource, opts: ConnectionOptions = {}) {
    this.token = token;
    this.opts = {
      fallbackAfterMs: opts.fallbackAfterMs ?? 4000,
      pollMs: opts.pollMs ?? 2000,
      retryWebSocketMs: opts.retryWebSocketMs ?? 30_000,
      probeMinMs: opts.probeMinMs ?? 1000,
      probeMaxMs: opts.probeMaxMs ?? 30_000,
      probeTimeoutMs: opts.probeTimeoutMs ?? 5000,
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
    this.abortSwitch();
    for (const w of this.feeds) w.stop?.();
    this.feeds.clear();
    this.closeWS();
    window.clearTimeout(this.fallbackTimer);
    window.clearInterval(this.pollTimer);
    window.clearTimeout(this.retryTimer);
    window.clearTimeout(this.probeTimer);
    this.fallbackTimer = this.pollTimer = this.retryTimer = this.probeTimer = undefined;
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
    this.abortSwitch();
    this.closeWS();
    this.mode = 'ws';
    this.probing = probing;
    this.wsOpened = false;
    this.adoptWS(newWSClient(this.token, wsRetryDelay));
    this.resubscribeAll();
  }

  /** adoptWS makes handle the current client; its socket's state drives the indicator. */
  private adoptWS(handle: WSHandle): void {
    const gen = this.generation;
    this.ws = handle;
    this.client = handle.client;
    this.wsStateSub = handle.ws.connectionState.subscribe({
      next: (st) => {
        if (gen !== this.generation) return;
        if (st.state === 'pending') {
          this.wsOpened = true;
          this.wsLiveSince = Date.now();
          this.live('ws');
        } else if (st.state === 'connecting') {
          this.down(this.wsOpened ? 'reconnecting' : 'connecting');
        }
      },
    });
  }

  private useSSE(): void {
    this.generation++;
    this.abortSwitch();
    this.closeWS();
    this.mode = 'sse';
    this.client = newSSEClient(this.token);
    this.resubscribeAll();
    this.down(this.probing ? 'polling' : 'connecting');
    // A WebSocket that stayed up a while may be back soon: probe from the start
    // of the backoff. One that keeps dropping right after a move is probed ever
    // less often.
    if (Date.now() - this.wsLiveSince >= this.opts.probeMaxMs) this.probeAttempt = 0;
    this.scheduleProbe();
  }

  /** scheduleProbe probes the WebSocket after the next backoff delay, while on SSE. */
  private scheduleProbe(): void {
    window.clearTimeout(this.probeTimer);
    const delay = Math.min(this.opts.probeMinMs * 2 ** this.probeAttempt, this.opts.probeMaxMs);
    this.probeAttempt++;
    const gen = this.generation;
    this.probeTimer = window.setTimeout(() => {
      this.probeTimer = undefined;
      void probeWebSocket(this.token, this.opts.probeTimeoutMs).then((ok) => {
        if (gen !== this.generation || this.mode !== 'sse') return;
        if (ok) this.switchToWS();
        else this.scheduleProbe();
      });
    }, delay);
  }

  /**
   * switchToWS moves the feeds from SSE to a new WebSocket: their subscriptions
   * start on it at once (tracked ones resuming from their lastEventId) and the
   * SSE ones stop only when the socket has opened. If it does not open in time,
   * the page stays on SSE and probes again later.
   */
  private switchToWS(): void {
    this.abortSwitch();
    const gen = this.generation;
    const handle = newWSClient(this.token, wsRetryDelay);
    const subs = new Map<Watched, () => void>();
    for (const w of this.feeds) subs.set(w, w.feed.subscribe(handle.client, () => undefined));
    const sw: Switch = {
      handle,
      subs,
      stateSub: { unsubscribe: () => undefined },
      timer: window.setTimeout(() => {
        if (this.switching !== sw) return;
        this.abortSwitch();
        this.scheduleProbe();
      }, this.opts.probeTimeoutMs),
    };
    this.switching = sw;
    sw.stateSub = handle.ws.connectionState.subscribe({
      next: (st) => {
        if (this.switching !== sw) return;
        if (gen !== this.generation || this.mode !== 'sse') {
          this.abortSwitch();
        } else if (st.state === 'pending') {
          this.commitSwitch(sw);
        } else if (st.state === 'connecting' && st.error) {
          this.abortSwitch();
          this.scheduleProbe();
        }
      },
    });
  }

  /** commitSwitch makes the new socket current and stops the SSE subscriptions. */
  private commitSwitch(sw: Switch): void {
    window.clearTimeout(sw.timer);
    sw.stateSub.unsubscribe();
    this.switching = null;
    window.clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.generation++;
    this.mode = 'ws';
    this.probing = false;
    this.wsOpened = true;
    this.adoptWS(sw.handle);
    for (const w of this.feeds) {
      const sse = w.stop;
      // A feed watched during the move has no subscription on the socket yet.
      w.stop = sw.subs.get(w) ?? w.feed.subscribe(this.client, () => undefined);
      sw.subs.delete(w);
      sse?.();
    }
    for (const stop of sw.subs.values()) stop(); // feeds unwatched during the move
  }

  /** abortSwitch abandons a move back to the WebSocket, if one is under way. */
  private abortSwitch(): void {
    const sw = this.switching;
    if (!sw) return;
    this.switching = null;
    window.clearTimeout(sw.timer);
    sw.stateSub.unsubscribe();
    for (const stop of sw.subs.values()) stop();
    sw.handle.ws.close().catch(() => undefined);
  }

  private usePolling(): void {
    this.generation++;
    this.abortSwitch();
    window.clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
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

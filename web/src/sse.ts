// Server-Sent Events without the token in the URL. EventSource cannot send
// headers, so the subscription's URL must carry its credentials; instead of
// the bearer token (kept by proxies and access logs) it carries a ticket from
// POST /api/sse-ticket: opaque, valid for one connect within ~30 s.
//
// A ticket works once, but EventSource reconnects by itself with the same
// URL (after a network drop, or when the server ends a stream). TicketEventSource
// takes that over: it closes the spent stream and opens a new one with a new
// ticket, and the tRPC link reading it sees an ordinary reconnect.

import type { TokenSource } from './api';
import { stringField } from './json';

/** sseTicket asks the server for a ticket for the signed-in user. */
export async function sseTicket(token: TokenSource): Promise<string> {
  const t = token();
  const res = await fetch('/api/sse-ticket', {
    method: 'POST',
    headers: t ? { authorization: `Bearer ${t}` } : {},
  });
  const body: unknown = await res.json().catch(() => null);
  const ticket = stringField(body, 'ticket');
  if (!res.ok || !ticket) {
    throw new Error(stringField(body, 'detail') || `Live updates could not start (HTTP ${res.status})`);
  }
  return ticket;
}

/** withTicket returns url with connectionParams carrying ticket. */
function withTicket(url: string, ticket: string): string {
  const u = new URL(url, location.href);
  u.searchParams.set('connectionParams', JSON.stringify({ ticket }));
  return u.toString();
}

/** The events the tRPC link listens for; each is passed on from the current stream. */
const forwarded = ['open', 'message', 'connected', 'ping', 'serialized-error', 'return'];

/**
 * ticketEventSource returns an EventSource class for httpSubscriptionLink
 * that fetches a fresh ticket for every reconnect.
 */
export function ticketEventSource(token: TokenSource) {
  class TicketEventSource extends EventTarget {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSED = 2;
    readonly CONNECTING = 0;
    readonly OPEN = 1;
    readonly CLOSED = 2;
    readonly url: string;
    readonly withCredentials: boolean;
    private es: EventSource | null = null;
    private closed = false;
    private retries = 0;

    constructor(url: string | URL, init?: EventSourceInit) {
      super();
      this.url = String(url);
      this.withCredentials = init?.withCredentials ?? false;
      this.open(this.url);
    }

    get readyState(): number {
      if (this.closed) return this.CLOSED;
      return this.es?.readyState === this.OPEN ? this.OPEN : this.CONNECTING;
    }

    close(): void {
      this.closed = true;
      this.es?.close();
      this.es = null;
    }

    private open(url: string): void {
      const es = new EventSource(url, { withCredentials: this.withCredentials });
      this.es = es;
      for (const type of forwarded) {
        es.addEventListener(type, (ev) => {
          if (this.es !== es) return;
          // The back-off restarts only once the stream has carried something: the
          // server says `connected` before it checks the caller and the caps, so a
          // refused stream must not reconnect (and mint a ticket) at full speed.
          if (type !== 'connected' && type !== 'open' && type !== 'serialized-error') this.retries = 0;
          this.dispatchEvent(ev instanceof MessageEvent ? new MessageEvent(type, { data: ev.data, lastEventId: ev.lastEventId }) : new Event(type));
        });
      }
      es.addEventListener('error', () => {
        if (this.es !== es) return;
        // Never let the browser retry with the spent ticket: reconnect with a new one.
        es.close();
        this.es = null;
        this.dispatchEvent(new Event('error'));
        void this.reconnect();
      });
    }

    private async reconnect(): Promise<void> {
      const delay = Math.min(1000 * 2 ** this.retries, 8000);
      this.retries++;
      await new Promise((r) => setTimeout(r, delay));
      if (this.closed) return;
      try {
        const ticket = await sseTicket(token);
        if (!this.closed) this.open(withTicket(this.url, ticket));
      } catch {
        if (!this.closed) void this.reconnect();
      }
    }
  }
  return TicketEventSource;
}

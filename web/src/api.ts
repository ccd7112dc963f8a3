// The tRPC client: queries and mutations over httpBatchLink (uploads over
// httpLink, since FormData cannot be batched), subscriptions over the
// WebSocket, or Server-Sent Events when the WebSocket cannot connect. The
// Connection in live.ts decides which of the two clients is current, and
// probes the WebSocket (probeWebSocket) while it is on SSE. Every
// link uses superjson, the server's default transformer, so dates arrive as Date.

import {
  TRPCClientError,
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  isNonJsonSerializable,
  splitLink,
  wsLink,
  type TRPCClient,
  type TRPCLink,
} from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import superjson from 'superjson';
import type { AppRouter } from './generated/router';
import { sseTicket, ticketEventSource } from './sse';

/** Client is a typed tRPC client for the packshot router. */
export type Client = TRPCClient<AppRouter>;
/** Outputs maps each procedure to its output type. */
export type Outputs = inferRouterOutputs<AppRouter>;
/** Inputs maps each procedure to its input type. */
export type Inputs = inferRouterInputs<AppRouter>;

/** Project is the full live state of one project. */
export type Project = Outputs['project']['get'];
/** Slot is one image type's card on the project page. */
export type Slot = Project['images'][number];
/** Summary is one row of the projects list. */
export type Summary = Outputs['project']['list']['items'][number];
/** Job is one row of job_queue as the API shows it. */
export type Job = Outputs['job']['get'];

/** AppError is what the UI shows for a failed call. */
export type AppError = TRPCClientError<AppRouter>;

/** tokenSource returns the bearer token of the signed-in user. */
export type TokenSource = () => string | null;

function httpChain(token: TokenSource): TRPCLink<AppRouter> {
  const headers = () => {
    const t = token();
    return t ? { authorization: `Bearer ${t}` } : {};
  };
  return splitLink({
    condition: (op) => isNonJsonSerializable(op.input),
    true: httpLink({ url: '/trpc', headers, transformer: superjson }),
    false: httpBatchLink({ url: '/trpc', headers, maxURLLength: 4000, transformer: superjson }),
  });
}

/** wsURL is the WebSocket endpoint on the page's own host. */
export function wsURL(): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/ws`;
}

/**
 * probeWebSocket opens a WebSocket to /ws aside from the live one, signs in
 * and sends a PING: it resolves true when the server answers PONG within
 * timeoutMs, false when the socket fails, is refused or stays silent. An
 * open socket alone proves little (a proxy may accept and drop it); the
 * answer comes from packshot itself, after it accepted the token.
 */
export function probeWebSocket(token: TokenSource, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(`${wsURL()}?connectionParams=1`);
    } catch {
      resolve(false);
      return;
    }
    const finish = (ok: boolean) => {
      window.clearTimeout(timer);
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      ws.close();
      resolve(ok);
    };
    const timer = window.setTimeout(() => finish(false), timeoutMs);
    ws.onopen = () => {
      ws.send(JSON.stringify({ method: 'connectionParams', data: { token: token() ?? '' } }));
      ws.send('PING');
    };
    // Anything but PONG first is a refusal (an error for the connection) or a notice
    // that the server is going away.
    ws.onmessage = (ev) => finish(ev.data === 'PONG');
    ws.onclose = () => finish(false);
    ws.onerror = () => finish(false);
  });
}

/**
 * resumeInput adds lastEventId to a tracked subscription's input, as tRPC's
 * links do when they reconnect: a subscription started anew on another link
 * resumes after the last event it received instead of starting over.
 */
export function resumeInput<T extends object>(input: T, lastEventId: string | undefined): T {
  return lastEventId ? { ...input, lastEventId } : input;
}

/** WSHandle is a WebSocket-backed client and its socket manager. */
export interface WSHandle {
  client: Client;
  ws: ReturnType<typeof createWSClient>;
}

/** newWSClient connects the WebSocket and returns a client sending subscriptions over it. */
export function newWSClient(token: TokenSource, retryDelayMs: (attempt: number) => number): WSHandle {
  const ws = createWSClient({
    url: wsURL(),
    connectionParams: () => ({ token: token() ?? '' }),
    retryDelayMs,
    keepAlive: { enabled: true, intervalMs: 10_000, pongTimeoutMs: 4_000 },
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink<AppRouter>({ client: ws, transformer: superjson }),
        false: httpChain(token),
      }),
    ],
  });
  return { client, ws };
}

/**
 * newSSEClient returns a client sending subscriptions as Server-Sent Events,
 * authenticated by single-use tickets (sse.ts), never the token in the URL.
 */
export function newSSEClient(token: TokenSource): Client {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url: '/trpc',
          connectionParams: async () => ({ ticket: await sseTicket(token) }),
          EventSource: ticketEventSource(token),
          transformer: superjson,
        }),
        false: httpChain(token),
      }),
    ],
  });
}

/** newHTTPClient returns a client with no subscriptions (they fail). */
export function newHTTPClient(token: TokenSource): Client {
  return createTRPCClient<AppRouter>({ links: [httpChain(token)] });
}

/**
 * isAppError reports whether err is an error the server answered: its data
 * then has the generated ErrorShape's fields.
 */
export function isAppError(err: unknown): err is AppError {
  return err instanceof TRPCClientError;
}

/** errorCode returns the tRPC error key (NOT_FOUND, BAD_REQUEST, …) of err, if any. */
export function errorCode(err: unknown): string | null {
  return isAppError(err) ? err.data?.code ?? null : null;
}

/** fieldErrors returns the per-field messages of a failed validation. */
export function fieldErrors(err: unknown): Record<string, string> {
  return isAppError(err) ? err.data?.fieldErrors ?? {} : {};
}

/** errorMessage returns a message fit for a person. */
export function errorMessage(err: unknown): string {
  if (isAppError(err)) {
    if (err.message && !/^[A-Z_]+$/.test(err.message)) return sentence(err.message);
    switch (errorCode(err)) {
      case 'NOT_FOUND':
        return 'Not found.';
      case 'UNAUTHORIZED':
        return 'Your session has ended. Sign in again.';
      case 'TOO_MANY_REQUESTS':
        return 'Too many requests; try again in a moment.';
    }
    return err.message || 'The server could not do that.';
  }
  if (err instanceof Error) return sentence(err.message);
  return String(err);
}

/**
 * sentence starts a server message with a capital letter, as the UI's own
 * text does, unless it starts with a name spelled in lower case (openai).
 */
export function sentence(msg: string): string {
  if (/^(openai|gemini|remove\.bg)\b/.test(msg)) return msg;
  return msg.charAt(0).toUpperCase() + msg.slice(1);
}

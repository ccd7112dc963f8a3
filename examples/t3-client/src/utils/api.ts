/**
 * This is the client-side entrypoint for the tRPC API, written as
 * create-t3-app writes src/utils/api.ts. Switching the backend to packshot
 * changes two things: AppRouter comes from `packshot gen ts` instead of
 * ~/server/api/root, and the URL points at packshot's /trpc. The links, the
 * superjson transformer, the Router{Inputs,Outputs} helpers and the error
 * handling stay as they were.
 *
 * create-t3-app wraps these links in createTRPCNext (pages router) or
 * createTRPCReact (app router); both take the same `links` and type
 * everything from the same AppRouter. This example uses the vanilla client so
 * it type-checks without Next.js and React installed.
 */
import { createTRPCClient, httpBatchLink, loggerLink } from '@trpc/client';
import { type inferRouterInputs, type inferRouterOutputs } from '@trpc/server';
import superjson from 'superjson';

import { type AppRouter } from '~/server/packshot-router';

/** packshot's origin: relative in the browser when served from the same host. */
const getBaseUrl = () => {
  if (typeof window !== 'undefined') return ''; // browser should use relative url
  return 'http://localhost:8080'; // packshot's default listen address
};

/** The signed-in user's token (Supabase-style JWT). */
const getToken = () => (typeof localStorage === 'undefined' ? null : localStorage.getItem('token'));

export const api = createTRPCClient<AppRouter>({
  links: [
    loggerLink({
      enabled: (opts) => opts.direction === 'down' && opts.result instanceof Error,
    }),
    httpBatchLink({
      transformer: superjson,
      url: `${getBaseUrl()}/trpc`,
      headers: () => {
        const headers = new Headers();
        headers.set('x-trpc-source', 'nextjs-react');
        const token = getToken();
        if (token) headers.set('authorization', `Bearer ${token}`);
        return headers;
      },
    }),
  ],
});

/**
 * Inference helper for inputs.
 *
 * @example type HelloInput = RouterInputs['example']['hello']
 */
export type RouterInputs = inferRouterInputs<AppRouter>;

/**
 * Inference helper for outputs.
 *
 * @example type HelloOutput = RouterOutputs['example']['hello']
 */
export type RouterOutputs = inferRouterOutputs<AppRouter>;

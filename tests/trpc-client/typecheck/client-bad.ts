// Passes a wrong input type; it must NOT compile.
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import type { AppRouter } from './router.gen';

const client = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: 'http://localhost:8080/trpc', transformer: superjson })],
});

export async function wrongInput(): Promise<void> {
  await client.post.byId.query({ id: 'one' }); // id is a number
}
